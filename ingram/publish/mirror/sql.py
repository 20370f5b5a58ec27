"""One batch into the target: compare with what it holds, write only what differs.

The target's rows of the batch's products are read first (one query per table);
a row is upserted (PostgreSQL ``ON CONFLICT``, MySQL ``ON DUPLICATE KEY``) only
when it is new or differs, and rows the catalog no longer has are deleted. So a
full mirror of an up-to-date target writes nothing, and a product whose price
moved rewrites its row, not its warehouses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy import column as sql_column
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.dialects.postgresql import ARRAY

from ingram.clock import parse_time
from ingram.publish.mirror.published import Published
from ingram.publish.mirror.schema import (
    MOMENT,
    PRODUCT_COLUMNS,
    TIMES,
    discounts,
    products,
    warehouses,
)
from ingram.state.mirroring import SourceBatch
from ingram.state.store import batched

Key = tuple[Any, ...]
PARAMETERS_PER_STATEMENT = 20_000  # MySQL and PostgreSQL take 65,535 at most
UNNEST_ROWS = 10_000  # rows per PostgreSQL upsert (one array a column)


@dataclass
class Written:
    """Rows a mirror wrote (inserted, updated or deleted), per table."""

    products: int = 0
    removed: int = 0
    warehouse_rows: int = 0
    discount_rows: int = 0

    def add(self, other: Written) -> None:
        self.products += other.products
        self.removed += other.removed
        self.warehouse_rows += other.warehouse_rows
        self.discount_rows += other.discount_rows

    @property
    def nothing(self) -> bool:
        return not (self.products or self.removed or self.warehouse_rows or self.discount_rows)


def write_batch(
    conn: Connection,
    batch: SourceBatch,
    published: Callable[[Mapping[str, Any]], Published | None],
    now: datetime,
) -> Written:
    """Write ``batch`` inside the caller's transaction; return what was written."""
    written = Written()
    if batch.removed:
        written.removed = delete_keys(conn, products, [(pn,) for pn in batch.removed])
    wanted = {(p["ingram_part_number"],): product_row(p, published(p)) for p in batch.products}
    changed = differing(conn, products, wanted)
    upsert(conn, products, [row | {"mirrored_at": now} for row in changed])
    written.products = len(changed)
    pns = [key[0] for key in wanted]
    written.warehouse_rows = replace_rows(conn, warehouses, pns, batch.warehouses, "warehouse_id")
    written.discount_rows = replace_rows(conn, discounts, pns, batch.discounts, "position")
    return written


def product_row(product: Mapping[str, Any], published: Published | None) -> dict[str, Any]:
    row = {name: product.get(name) for name in PRODUCT_COLUMNS}
    for name in TIMES:
        when = row[name]
        row[name] = None if when is None else parse_time(when)
    if published is not None:
        row["sell_price"], row["published_stock"] = published.sell_price, published.stock
    return row


def replace_rows(
    conn: Connection,
    table: Table,
    pns: Sequence[str],
    rows_of: Mapping[str, Sequence[Mapping[str, Any]]],
    key: str,
) -> int:
    """The target's rows of ``pns`` in ``table`` become ``rows_of``; return rows written."""
    wanted = {
        (pn, row[key]): {"ingram_part_number": pn, **row} for pn in pns for row in rows_of[pn]
    }
    current = current_rows(conn, table, [(pn,) for pn in pns])
    gone = [found for found in current if found not in wanted]
    removed = delete_keys(conn, table, gone)
    changed = new_or_different(table, wanted, current)
    upsert(conn, table, changed)
    return removed + len(changed)


def differing(conn: Connection, table: Table, wanted: Mapping[Key, dict[str, Any]]) -> list[Any]:
    """The rows of ``wanted`` that the target lacks or holds otherwise."""
    return new_or_different(table, wanted, current_rows(conn, table, list(wanted)))


def new_or_different(
    table: Table, wanted: Mapping[Key, dict[str, Any]], current: Mapping[Key, Key]
) -> list[dict[str, Any]]:
    return [
        row
        for found, row in wanted.items()
        if found not in current or comparable(table, row) != current[found]
    ]


def current_rows(conn: Connection, table: Table, keys: Sequence[Key]) -> dict[Key, Key]:
    """What the target holds for ``keys`` (the leading key columns): full key -> comparable row."""
    found: dict[Key, Key] = {}
    primary = list(table.primary_key.columns)
    leading = primary[: len(keys[0])] if keys else primary
    for chunk in batched(keys, PARAMETERS_PER_STATEMENT // len(leading)):
        query = select(table).where(matching(conn, leading, chunk))
        for row in conn.execute(query).mappings():
            found[tuple(row[c.name] for c in primary)] = comparable(table, row)
    return found


def comparable(table: Table, row: Mapping[Any, Any]) -> Key:
    """A row as the target gives it back, for comparing: times in UTC, mirrored_at left out."""
    return tuple(
        moment(row.get(name)) if timed else row.get(name) for name, timed in compared(table)
    )


@functools.cache
def compared(table: Table) -> tuple[tuple[str, bool], ...]:
    """(name, whether a time) of the columns ``comparable`` compares."""
    return tuple((c.name, is_moment(c)) for c in table.columns if c.name != "mirrored_at")


def is_moment(column: Column[Any]) -> bool:
    return column.type is MOMENT


def moment(value: datetime | None) -> datetime | None:
    """MySQL gives naive UTC times, PostgreSQL aware ones in the session's zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, or update the ones whose key is there already."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        for chunk in batched(rows, UNNEST_ROWS):
            arrays = {c.name: [row.get(c.name) for row in chunk] for c in table.columns}
            conn.execute(unnest_upsert(table), arrays)
        return
    # PyMySQL sends the executemany of one INSERT as one multi-row statement
    page = PARAMETERS_PER_STATEMENT // len(table.columns)
    for chunk in batched([naive_times(table, row) for row in rows], page):
        conn.execute(duplicate_key_upsert(table), chunk)


def key_names(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


@functools.cache
def unnest_upsert(table: Table) -> Any:
    """PostgreSQL: ``INSERT ... SELECT FROM unnest(column arrays) ON CONFLICT DO UPDATE``.

    One array per column, so a statement has a few parameters whatever its rows:
    sent a row at a time (psycopg's executemany), or as many VALUES (SQLAlchemy's
    insertmanyvalues, which psycopg parses slowly at that size), a first mirror
    was 3 to 5 times slower (measured).
    """
    columns = list(table.columns)
    arrays = [bindparam(column.name, type_=ARRAY(column.type)) for column in columns]
    source = func.unnest(*arrays).table_valued(*(sql_column(c.name, c.type) for c in columns))
    statement = postgresql.insert(table).from_select(
        [column.name for column in columns], select(*source.render_derived().c)
    )
    keys = key_names(table)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: statement.excluded[c.name] for c in columns if c.name not in keys},
    )


@functools.cache
def duplicate_key_upsert(table: Table) -> Any:
    """MySQL and MariaDB: ``INSERT ... ON DUPLICATE KEY UPDATE``."""
    statement = mysql.insert(table)
    keys = key_names(table)
    others = [column.name for column in table.columns if column.name not in keys]
    return statement.on_duplicate_key_update({name: statement.inserted[name] for name in others})


def naive_times(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """MySQL's DATETIME holds no zone: times go as naive UTC."""
    fixed = dict(row)
    for column in table.columns:
        value = fixed.get(column.name)
        if is_moment(column) and isinstance(value, datetime):
            fixed[column.name] = naive_utc(value)
    return fixed


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def as_target_time(conn: Connection, value: datetime) -> datetime:
    """A time as the target's time columns take it (naive UTC for MySQL)."""
    return value if conn.dialect.name == "postgresql" else naive_utc(value)


def delete_keys(conn: Connection, table: Table, keys: Sequence[Key]) -> int:
    """Delete the rows of ``keys`` (the leading key columns); return how many went."""
    if not keys:
        return 0
    primary = list(table.primary_key.columns)[: len(keys[0])]
    deleted = 0
    for chunk in batched(keys, PARAMETERS_PER_STATEMENT // len(primary)):
        deleted += conn.execute(delete(table).where(matching(conn, primary, chunk))).rowcount
    return deleted


def matching(
    conn: Connection, columns: Sequence[Column[Any]], keys: Sequence[Key]
) -> ColumnElement[bool]:
    """``columns IN keys``; in PostgreSQL ``= ANY(array)`` for one column (one parameter:
    psycopg parses a query of thousands of them slowly, a third of an incremental mirror)."""
    if len(columns) > 1:
        return tuple_(*columns).in_(keys)
    values = [key[0] for key in keys]
    if conn.dialect.name == "postgresql":
        return columns[0] == any_(bindparam("keys", values, type_=ARRAY(columns[0].type)))
    return columns[0].in_(values)
