"""Per-target publish state: what each shop export last published of each product.

``publish_state`` holds, per product and target, the shop SKU, price, stock and
listed flag last written (``published_at``: when those values were first written).
An export reads it beside each product (``products_with_state``), stages what it
writes (``PendingState``, a temporary table: memory stays flat) and records it only
once its file is complete (``PendingState.commit``), so a failed export is simply
repeated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ingram.state.store import Store

STATE_FIELDS = ("last_sku", "last_price", "last_stock", "last_listed")
FLUSH_EVERY = 2000  # staged rows per insert


def products_with_state(
    store: Store, target: str, columns: Sequence[str], *, customer_keys: bool = False
) -> Iterator[dict[str, Any]]:
    """Every product (``columns`` of it) with what ``target`` last published of it
    (``STATE_FIELDS``, None when never), in the table's order; ``customer_key`` too
    when asked: the customer part number it is tracked by."""
    selected = [f"p.{name}" for name in columns]
    selected += ["s.sku", "s.price", "s.stock", "s.listed"]
    joins = ""
    if customer_keys:
        selected.append("k.customer_key")
        joins = (
            " LEFT JOIN (SELECT ingram_part_number, MIN(key_value) AS customer_key"
            " FROM product_keys WHERE key_type = 'customerPartNumber' AND status = 'resolved'"
            " GROUP BY ingram_part_number) k ON k.ingram_part_number = p.ingram_part_number"
        )
    sql = (
        f"SELECT {', '.join(selected)} FROM products p"
        " LEFT JOIN publish_state s ON s.ingram_part_number = p.ingram_part_number"
        f" AND s.target = ?{joins} ORDER BY p.rowid"
    )
    names = [*columns, *STATE_FIELDS, *(["customer_key"] if customer_keys else [])]
    cursor = store.db.cursor()
    cursor.row_factory = None  # plain tuples: a dict is built once per row below
    for row in cursor.execute(sql, (target,)):
        yield dict(zip(names, row, strict=True))


class PendingState:
    """What an export wrote, staged in a temporary table until its file is complete.

    The export runs in one read transaction (its snapshot of the products) that also
    holds the staging: a commit per staged group would write the temporary file's
    journal each time (20 times slower, measured).
    """

    def __init__(self, store: Store, target: str, now: str) -> None:
        self.store, self.target, self.now = store, target, now
        self.rows: list[tuple[object, ...]] = []
        store.db.execute("DROP TABLE IF EXISTS temp.publish_pending")
        store.db.execute(
            "CREATE TEMP TABLE publish_pending (ingram_part_number TEXT, sku TEXT, price TEXT,"
            " stock INTEGER, listed INTEGER)"
        )
        store.db.execute("BEGIN")  # deferred: reads the products, writes only the staging

    def add(self, pn: str, sku: str, price: str, stock: int, listed: bool) -> None:
        self.rows.append((pn, sku, price, stock, int(listed)))
        if len(self.rows) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self.store.db.executemany(
            "INSERT INTO temp.publish_pending VALUES (?, ?, ?, ?, ?)", self.rows
        )
        self.rows = []

    def commit(self) -> int:
        """Record the staged rows as published; returns how many."""
        self.flush()
        self.store.db.execute("COMMIT")
        with self.store.write() as db:
            # in key order, so the state's index is appended to rather than split all over
            count = db.execute(
                "INSERT OR REPLACE INTO publish_state (ingram_part_number, target, sku, price,"
                " stock, listed, published_at) SELECT p.ingram_part_number, ?, p.sku, p.price,"
                " p.stock, p.listed, ? FROM temp.publish_pending p"
                " WHERE EXISTS (SELECT 1 FROM products"  # one removed meanwhile gets none
                "  WHERE products.ingram_part_number = p.ingram_part_number)"
                " ORDER BY p.ingram_part_number",
                (self.target, self.now),
            ).rowcount
        self.discard()
        return count

    def discard(self) -> None:
        self.rows = []
        if self.store.db.in_transaction:
            self.store.db.execute("ROLLBACK")
        self.store.db.execute("DROP TABLE IF EXISTS temp.publish_pending")
