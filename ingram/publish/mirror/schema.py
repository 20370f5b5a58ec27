"""The mirror's own tables in the target, as SQLAlchemy Core tables, and making them there.

``ingram_products`` has one row per tracked product, its columns named as the
fields of ``export --format json`` (plus the published sell price and stock, and
when the mirror last wrote the row); ``ingram_warehouses`` and ``ingram_discounts``
hold a product's rows; ``ingram_mirror`` is one row: the tables' schema version,
which catalog they mirror, how far (the cursor) and when that catalog last synced.

Bump ``SCHEMA_VERSION`` with any change to these tables, a column added included:
an older ingram-sync then refuses the target instead of leaving new columns stale.
A column added to an existing target is added by ``ensure_schema``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

from ingram.errors import ConfigError
from ingram.state.products import DECIMAL_COLUMNS, EXPORT_COLUMNS, FLAG_COLUMNS
from ingram.state.shop import DISCOUNT_COLUMNS, WAREHOUSE_COLUMNS

SCHEMA_VERSION = 2  # 2: the lifecycle and source columns of the export
STATE_ROW = 1

# Published price and stock: filled when price rules are configured (see ``published``).
PUBLISHED_COLUMNS = ("sell_price", "published_stock")
PRODUCT_COLUMNS = (*EXPORT_COLUMNS, *PUBLISHED_COLUMNS)
WHOLE_NUMBERS = {
    "total_availability",
    "published_stock",
    "quantity_available",
    "quantity_backordered",
    "quantity_on_order",
    "position",
    "quantity",
    "available_quantity",
}
TIMES = {"pa_synced_at", "details_synced_at", "stock_pushed_at", "discontinued_since"}

KEY = String(100)
# Exact decimals: unbounded in PostgreSQL; MySQL needs a precision and scale.
MONEY = Numeric(asdecimal=True).with_variant(mysql.DECIMAL(30, 10), "mysql")
MOMENT = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql")
TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def column_type(name: str) -> TypeEngine[Any]:
    """The target type of a mirrored column: exact money, flags, whole numbers, times, text."""
    if name in DECIMAL_COLUMNS or name in ("sell_price", "amount"):
        return MONEY
    if name in FLAG_COLUMNS:
        return Boolean()
    if name in WHOLE_NUMBERS:
        return BigInteger()
    if name in TIMES:
        return MOMENT
    return Text()  # vendor text: any length, never cut


metadata = MetaData()

state = Table(
    "ingram_mirror",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("schema_version", Integer, nullable=False),
    Column("catalog_id", String(64)),
    Column("catalog_label", Text),
    Column("change_cursor", BigInteger, nullable=False),
    Column("mirrored_at", MOMENT),
    # when the catalog's last full sync ended: every product's values held then, though a
    # row's pa_synced_at is the time of the sync that last changed it (the mirror skips
    # rows whose values a sync only confirmed)
    Column("catalog_synced_at", MOMENT),
    **TABLE_OPTIONS,
)

products = Table(
    "ingram_products",
    metadata,
    Column("ingram_part_number", KEY, primary_key=True),
    *(Column(name, column_type(name)) for name in PRODUCT_COLUMNS[1:]),
    Column("mirrored_at", MOMENT, nullable=False),
    Index("ingram_products_vendor_part_number", "vendor_part_number", mysql_length=100),
    Index("ingram_products_upc", "upc", mysql_length=20),
    Index("ingram_products_user_key", "user_key", mysql_length=100),
    **TABLE_OPTIONS,
)


def child_table(name: str, key: str, columns: tuple[str, ...]) -> Table:
    """Rows of a product, keyed by its part number and ``key``; they go with their product."""
    return Table(
        name,
        metadata,
        Column(
            "ingram_part_number",
            KEY,
            ForeignKey(products.c.ingram_part_number, ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(key, KEY if key == "warehouse_id" else Integer, primary_key=True),
        *(Column(column, column_type(column)) for column in columns if column != key),
        **TABLE_OPTIONS,
    )


warehouses = child_table("ingram_warehouses", "warehouse_id", WAREHOUSE_COLUMNS)
discounts = child_table("ingram_discounts", "position", ("position", *DISCOUNT_COLUMNS))
MIRROR_TABLES = (products, warehouses, discounts)


def ensure_schema(conn: Connection, label: str) -> None:
    """Create the tables, or add the columns an older ingram-sync did not make.

    Refused: tables this ingram-sync did not make (never touched), and tables of a
    newer schema than it knows. ``ingram_mirror`` is made first, so a target whose
    creation was cut short is still recognised as ours.
    """
    with conn.begin():
        found = set(inspect(conn).get_table_names())
        if state.name not in found:
            foreign = sorted(table.name for table in MIRROR_TABLES if table.name in found)
            if foreign:
                raise ConfigError(
                    f"{label} already has a table {foreign[0]} that ingram-sync did not make"
                    " (no ingram_mirror table): mirror into another database, or drop it"
                )
            state.create(conn)
        if conn.execute(select(state.c.id)).first() is None:  # cut short after its CREATE
            row = {"id": STATE_ROW, "schema_version": SCHEMA_VERSION, "change_cursor": 0}
            conn.execute(insert(state).values(**row))
        version = conn.execute(select(state.c.schema_version)).scalar()
        if version is not None and version > SCHEMA_VERSION:
            raise ConfigError(
                f"the ingram_* tables in {label} were made by a newer ingram-sync"
                f" (schema {version}, this one knows {SCHEMA_VERSION}): upgrade ingram-sync"
            )
        if version == SCHEMA_VERSION and {t.name for t in MIRROR_TABLES} <= found:
            return  # made by this version: nothing to add (each change bumps the version)
        metadata.create_all(conn, checkfirst=True)
        for table in (state, *MIRROR_TABLES):
            add_missing_columns(conn, table)
        conn.execute(update(state).values(schema_version=SCHEMA_VERSION))


def add_missing_columns(conn: Connection, table: Table) -> None:
    """``ALTER TABLE ... ADD`` each column of ``table`` the target lacks (all are nullable)."""
    present = {column["name"] for column in inspect(conn).get_columns(table.name)}
    quote = conn.dialect.identifier_preparer.quote
    for column in table.columns:
        if column.name not in present:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD {quote(column.name)} {kind}"))
