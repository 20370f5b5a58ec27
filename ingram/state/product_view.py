"""One product whole (``products show``): its row, warehouses, discounts, specs, keys, the
age and source of each part, its open failures and last changes, as one JSON-ready dict.

Example: ``view = product_view(store, "6YE881")`` (None when the part number is not tracked)
"""

from __future__ import annotations

from typing import Any

from ingram.state.export import discounts_of, specs_of, warehouses_of
from ingram.state.history import FAILURE_FIELDS, change_value
from ingram.state.products import EXPORT_COLUMNS, export_row
from ingram.state.store import Store
from ingram.vocab import DetailsSource

LAST_CHANGES = 10
DETAILS_SOURCES = {  # details_status -> where the details came from
    "found": DetailsSource.DETAILS.value,
    DetailsSource.SEARCH.value: DetailsSource.SEARCH.value,
    "none": "details (the vendor has none)",
}


def product_view(store: Store, pn: str) -> dict[str, Any] | None:
    """Everything the catalog knows of ``pn``, or None when it is not tracked."""
    columns = ", ".join(EXPORT_COLUMNS)
    row = store.db.execute(
        f"SELECT {columns}, details_status FROM products WHERE ingram_part_number = ?", (pn,)
    ).fetchone()
    if row is None:
        return None
    product = export_row(row)
    status = product.pop("details_status")
    return product | {
        "warehouses": warehouses_of(store, pn),
        "discounts": discounts_of(store, pn),
        "specs": specs_of(store, pn),
        "sources": sources(product, status),
        "open_failures": open_failures(store, pn),
        "last_changes": last_changes(store, pn),
    }


def sources(product: dict[str, Any], details_status: str | None) -> dict[str, dict[str, Any]]:
    """When each part was last fetched, and from where (stock: the newer of P&A and webhook)."""
    priced = {"at": product["pa_synced_at"], "from": "P&A" if product["pa_synced_at"] else None}
    pushed = product["stock_pushed_at"]
    stock = priced
    if pushed and (not priced["at"] or pushed > priced["at"]):
        stock = {"at": pushed, "from": "webhook"}
    details = {
        "at": product["details_synced_at"],
        "from": DETAILS_SOURCES.get(details_status or ""),
    }
    return {"price": priced, "stock": stock, "details": details}


def open_failures(store: Store, pn: str) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {', '.join(FAILURE_FIELDS)} FROM failures"
        " WHERE ingram_part_number = ? AND resolved_at IS NULL ORDER BY id DESC"
    )
    return [dict(row) for row in store.db.execute(sql, (pn,))]


def last_changes(store: Store, pn: str) -> list[dict[str, Any]]:
    sql = (
        "SELECT changed_at, field, old_value, new_value, source FROM changes"
        " WHERE ingram_part_number = ? ORDER BY id DESC LIMIT ?"
    )
    return [
        dict(row)
        | {
            "old_value": change_value(row["field"], row["old_value"]),
            "new_value": change_value(row["field"], row["new_value"]),
        }
        for row in store.db.execute(sql, (pn, LAST_CHANGES))
    ]
