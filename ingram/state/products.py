"""The ``products`` table: what is tracked, added, removed, and read out for export.

Example: ``add_products(store, ["6YE881"])`` gives ``(1, 0)``: one added, none tracked before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ingram.clock import format_time, utc_now
from ingram.state.store import TASK_CHUNK, WRITE_CHUNK, Store, batched
from ingram.vocab import ProductStatus

# Every status a product can have (``not_authorized``: the vendor denies this account it).
PRODUCT_STATUSES = tuple(ProductStatus)

EXPORT_COLUMNS = (
    "ingram_part_number",
    "vendor_part_number",
    "upc",
    "vendor_name",
    "description",
    "category",
    "subcategory",
    "product_class",
    "product_type",
    "status",
    "product_status_code",
    "product_status_message",
    "customer_price",
    "retail_price",
    "map_price",
    "currency",
    "available",
    "total_availability",
    "pa_synced_at",
    "details_synced_at",
    "last_error",
    "sku_status",
    "back_order_flag",
    "stock_pushed_at",
    # what a shop needs (migration 7); None where the vendor or the country sends nothing
    "authorized",
    "accept_back_order",
    "end_user_info_required",
    "bundle_part",
    "backorder_eta",
    "discontinued",
    "new_product",
    "backorder_allowed",
    "direct_ship",
    "has_warranty",
    "weight",
    "weight_unit",
    "height",
    "width",
    "length",
    "dimension_unit",
    # the key the user tracks the product by (migration 8), for the shop to join on
    "user_key_type",
    "user_key",
    # gone since (discontinued, or no longer found) and Ingram's replacement (migration 11)
    "discontinued_since",
    "replacement_part_number",
    # where the price and the stock came from (sync, webhook, pricefile) and when (migration 13)
    "price_source",
    "price_as_of",
    "stock_source",
    "stock_as_of",
)
DECIMAL_COLUMNS = (
    "customer_price",
    "retail_price",
    "map_price",
    "weight",
    "height",
    "width",
    "length",
)
FLAG_COLUMNS = (
    "available",
    "authorized",
    "accept_back_order",
    "end_user_info_required",
    "bundle_part",
    "discontinued",
    "new_product",
    "backorder_allowed",
    "direct_ship",
    "has_warranty",
)


def money(value: Decimal | None) -> str | None:
    """Decimal text, so 74.34 is stored and read back as exactly 74.34."""
    return None if value is None else format(value, "f")


# Tracks a part number. Its number (``seq``) counts up in the order products are added:
# child rows are found by it, so a sync, which saves in that order, appends to indexes.
# Given here rather than left to migration 9's trigger (which numbers products added by
# hand): the trigger's extra UPDATE per row made a 200,000-line import 40 % slower.
INSERT_PRODUCT_SQL = (
    "INSERT OR IGNORE INTO products (ingram_part_number, added_at, seq)"
    " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products))"
)


def export_row(row: sqlite3.Row) -> dict[str, Any]:
    """A products row as the stable export object (prices as decimal text, flags as bools)."""
    item = dict(row)
    for name in FLAG_COLUMNS:
        if item[name] is not None:
            item[name] = bool(item[name])
    for name in DECIMAL_COLUMNS:
        if item[name] is not None:
            item[name] = Decimal(item[name])
    return item


def details_cutoff(max_age: float) -> str:
    return format_time(datetime.now(UTC) - timedelta(seconds=max_age))


def add_products(store: Store, part_numbers: Iterable[str]) -> tuple[int, int]:
    """Track part numbers; return (added, already tracked), each part number counted once.

    ``part_numbers`` is read a chunk at a time, and repeats are found by a temporary table
    (on disk, as SQLite keeps temporary tables), not a Python set: a 3,000,000-line
    import holds one chunk, and a commit per chunk never holds the write lock for long.
    """
    now = utc_now()
    added = distinct = 0
    store.db.execute("CREATE TEMP TABLE IF NOT EXISTS adding (pn TEXT PRIMARY KEY) WITHOUT ROWID")
    try:
        for chunk in batched(part_numbers, WRITE_CHUNK):
            with store.write() as db:
                first_seen = "INSERT OR IGNORE INTO temp.adding VALUES (?)"
                fresh = [pn for pn in chunk if db.execute(first_seen, (pn,)).rowcount]
                distinct += len(fresh)
                added += db.executemany(INSERT_PRODUCT_SQL, ((pn, now) for pn in fresh)).rowcount
    finally:
        store.db.execute("DROP TABLE IF EXISTS temp.adding")
    return added, distinct - added


def set_product_types(store: Store, types: dict[str, str | None]) -> None:
    """``productType`` as a search found it (the one answer that carries it)."""
    with store.write() as db:
        db.executemany(
            "UPDATE products SET product_type = ? WHERE ingram_part_number = ?",
            [(kind, pn) for pn, kind in types.items() if kind],
        )


def remove_products(store: Store, part_numbers: Iterable[str]) -> int:
    """Stop tracking; open failures of those products go too (nothing to retry)."""
    pns = [(pn,) for pn in part_numbers]
    with store.write() as db:
        # rowcount, not total_changes: the child rows the delete cascades to do not count
        delete = "DELETE FROM products WHERE ingram_part_number = ?"
        removed = db.executemany(delete, pns).rowcount
        db.executemany(
            "DELETE FROM failures WHERE ingram_part_number = ? AND resolved_at IS NULL", pns
        )
        return removed


def tracked_part_numbers(store: Store, part_numbers: Sequence[str] | None = None) -> list[str]:
    """Tracked part numbers (all, or those of ``part_numbers`` that are tracked)."""
    if part_numbers is None:
        sql = "SELECT ingram_part_number FROM products ORDER BY ingram_part_number"
        return [row[0] for row in store.db.execute(sql)]
    found: set[str] = set()
    for chunk in batched(part_numbers, TASK_CHUNK):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT ingram_part_number FROM products WHERE ingram_part_number IN ({marks})"
        found.update(row[0] for row in store.db.execute(sql, chunk))
    return [pn for pn in part_numbers if pn in found]


def not_found_part_numbers(store: Store, part_numbers: Sequence[str]) -> list[str]:
    """Those of ``part_numbers`` whose last P&A answer said the vendor does not know them."""
    found: set[str] = set()
    for chunk in batched(part_numbers, TASK_CHUNK):
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT ingram_part_number FROM products"
            f" WHERE status = ? AND ingram_part_number IN ({marks})"
        )
        found.update(row[0] for row in store.db.execute(sql, [ProductStatus.NOT_FOUND, *chunk]))
    return [pn for pn in part_numbers if pn in found]


def iter_tracked(store: Store, page: int = TASK_CHUNK) -> Iterator[str]:
    """Every tracked part number in the table's own (rowid) order, a page at a time.

    Memory stays flat, and a batch of 50 is 50 neighbouring rows: its results
    rewrite a few pages, not 50 pages scattered over the table (as part-number
    order would, the rows being stored in the order they were added).
    """
    sql = "SELECT rowid, ingram_part_number FROM products WHERE rowid > ? ORDER BY rowid LIMIT ?"
    last = -(2**63)
    while rows := store.db.execute(sql, (last, page)).fetchall():
        yield from (row[1] for row in rows)
        last = rows[-1][0]


def export_products(
    store: Store,
    *,
    status: Sequence[str] = (),
    changed_since: str | None = None,
    part_numbers: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """Products as export dicts, filtered by status, P&A change time and part number."""
    where: list[str] = []
    params: list[str] = []
    if part_numbers:
        where.append(f"ingram_part_number IN ({','.join('?' * len(part_numbers))})")
        params.extend(part_numbers)
    if status:
        where.append(f"status IN ({','.join('?' * len(status))})")
        params.extend(status)
    if changed_since:
        where.append(
            "ingram_part_number IN (SELECT ingram_part_number FROM changes WHERE changed_at >= ?)"
        )
        params.append(changed_since)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {', '.join(EXPORT_COLUMNS)} FROM products {clause} ORDER BY 1"
    for row in store.db.execute(sql, params):
        yield export_row(row)


def forget_details(store: Store, db: sqlite3.Connection, pns: Sequence[str]) -> None:
    """Mark details as never fetched (a run's "no records" turned out not to be believed)."""
    db.executemany(
        "UPDATE products SET details_status = NULL, details_synced_at = NULL"
        " WHERE ingram_part_number = ?",
        [(pn,) for pn in pns],
    )
