"""The catalog's side of a database mirror: what changed, in version order, and the cursors.

Every change a mirror carries has a version from the catalog's one clock (migration
12): a product whose mirrored columns, warehouses or discounts changed, and a
product removed. ``read_batch`` returns the next changed products after a cursor,
with their warehouse and discount rows, read in one transaction so a product and
its rows are always of one moment.

Example::

    number_new_products(store)
    batch = read_batch(store, after=cursor, size=2000)
    ...  # written to the target; then
    save_cursor(store, "postgresql://shop@db/shop", batch.upper)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingram.clock import utc_now
from ingram.state.products import EXPORT_COLUMNS, export_row
from ingram.state.shop import DISCOUNT_COLUMNS, WAREHOUSE_COLUMNS
from ingram.state.store import Store, batched


@dataclass(frozen=True)
class CatalogClock:
    """Which catalog this is (a random id made once) and its latest version."""

    catalog_id: str
    version: int


@dataclass(frozen=True)
class SourceBatch:
    """Changed products (export dicts) with their rows, and the part numbers removed.

    ``upper`` is the cursor once this batch is written: every change up to it is in
    this batch or an earlier one.
    """

    products: list[dict[str, Any]]
    warehouses: dict[str, list[dict[str, Any]]]
    discounts: dict[str, list[dict[str, Any]]]
    removed: list[str]
    upper: int


@dataclass(frozen=True)
class TargetCursor:
    """How far a target is: written up to ``change_cursor``; ``pending_cursor`` is the
    furthest a batch was about to commit (a mirror killed after its commit stops there)."""

    change_cursor: int
    pending_cursor: int
    mirrored_at: str | None
    last_error: str | None
    failed_at: str | None


def catalog_clock(store: Store) -> CatalogClock:
    row = store.db.execute("SELECT catalog_id, version FROM change_clock").fetchone()
    return CatalogClock(row[0], row[1])


def number_new_products(store: Store) -> int:
    """Give products added since the last mirror their versions; return how many.

    Products are added without one (a trigger on insert would slow imports), so
    until numbered they are in no mirror's stream.
    """
    with store.write() as db:
        numbered = db.execute(
            "UPDATE products SET change_version = (SELECT version FROM change_clock) + new.n"
            " FROM (SELECT rowid AS id, ROW_NUMBER() OVER (ORDER BY rowid) AS n FROM products"
            " WHERE change_version IS NULL) AS new WHERE products.rowid = new.id"
        ).rowcount
        if numbered:
            db.execute("UPDATE change_clock SET version = version + ?", (numbered,))
    return numbered


PRODUCTS_AFTER_SQL = (
    f"SELECT seq, change_version, {', '.join(EXPORT_COLUMNS)} FROM products"
    " WHERE change_version > ? ORDER BY change_version LIMIT ?"
)


def read_batch(store: Store, after: int, size: int) -> SourceBatch:
    """The next ``size`` products changed after version ``after``, and the removals up to
    the last of them (up to the clock when fewer are left)."""
    db = store.db
    db.execute("BEGIN")  # one snapshot: a product and its rows of one moment
    try:
        clock = db.execute("SELECT version FROM change_clock").fetchone()[0]
        rows = db.execute(PRODUCTS_AFTER_SQL, (after, size)).fetchall()
        upper = rows[-1]["change_version"] if len(rows) == size else clock
        removed = [
            row[0]
            for row in db.execute(
                "SELECT ingram_part_number FROM removed_products WHERE version > ?"
                " AND version <= ? AND ingram_part_number NOT IN"
                " (SELECT ingram_part_number FROM products) ORDER BY version",
                (after, upper),
            )
        ]
        numbers = {row["seq"]: row["ingram_part_number"] for row in rows}
        warehouses = child_rows(store, "product_warehouses", WAREHOUSE_COLUMNS, numbers)
        discounts = child_rows(store, "product_discounts", ("position", *DISCOUNT_COLUMNS), numbers)
    finally:
        db.execute("COMMIT")
    products = [export_row_of(row) for row in rows]
    for entries in discounts.values():
        for entry in entries:
            if entry["amount"] is not None:
                entry["amount"] = Decimal(entry["amount"])
    return SourceBatch(products, warehouses, discounts, list(dict.fromkeys(removed)), upper)


def export_row_of(row: Any) -> dict[str, Any]:
    product = export_row(row)
    del product["seq"], product["change_version"]
    return product


def child_rows(
    store: Store, table: str, columns: Sequence[str], numbers: dict[int, str]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``table`` of the products numbered ``numbers`` (seq -> part number)."""
    found: dict[str, list[dict[str, Any]]] = {pn: [] for pn in numbers.values()}
    for chunk in batched(numbers, 500):
        marks = ",".join("?" * len(chunk))
        sql = (
            f"SELECT product_seq, {', '.join(columns)} FROM {table}"
            f" WHERE product_seq IN ({marks}) ORDER BY product_seq"
        )
        for row in store.db.execute(sql, chunk):
            found[numbers[row[0]]].append(dict(zip(columns, tuple(row)[1:], strict=True)))
    return found


# -- each target's cursor ------------------------------------------------------


def target_cursor(store: Store, target: str) -> TargetCursor | None:
    row = store.db.execute(
        "SELECT change_cursor, pending_cursor, mirrored_at, last_error, failed_at"
        " FROM mirror_targets WHERE target = ?",
        (target,),
    ).fetchone()
    return None if row is None else TargetCursor(*row)


def reset_cursor(store: Store, target: str) -> None:
    """A full mirror starts from nothing."""
    with store.write() as db:
        db.execute(
            "INSERT INTO mirror_targets (target) VALUES (?) ON CONFLICT (target) DO UPDATE"
            " SET change_cursor = 0, pending_cursor = 0",
            (target,),
        )


def save_pending(store: Store, target: str, upper: int) -> None:
    """Before a batch commits in the target: it may get as far as ``upper``."""
    with store.write() as db:
        db.execute(
            "INSERT INTO mirror_targets (target, pending_cursor) VALUES (?, ?)"
            " ON CONFLICT (target) DO UPDATE"
            " SET pending_cursor = MAX(pending_cursor, excluded.pending_cursor)",
            (target, upper),
        )


def save_cursor(store: Store, target: str, upper: int) -> None:
    """After a batch committed in the target."""
    with store.write() as db:
        db.execute(
            "UPDATE mirror_targets SET change_cursor = MAX(change_cursor, ?),"
            " pending_cursor = MAX(pending_cursor, ?) WHERE target = ?",
            (upper, upper, target),
        )


def save_mirrored(store: Store, target: str) -> None:
    """A mirror ended well: its time, no error; removals every target has are forgotten."""
    with store.write() as db:
        db.execute(
            "UPDATE mirror_targets SET mirrored_at = ?, last_error = NULL, failed_at = NULL"
            " WHERE target = ?",
            (utc_now(), target),
        )
        db.execute(
            "DELETE FROM removed_products"
            " WHERE version <= (SELECT MIN(change_cursor) FROM mirror_targets)"
        )


def save_mirror_error(store: Store, target: str, message: str) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO mirror_targets (target, last_error, failed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (target) DO UPDATE SET last_error = excluded.last_error,"
            " failed_at = excluded.failed_at",
            (target, message, utc_now()),
        )
