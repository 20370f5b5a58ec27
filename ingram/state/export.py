"""Export rows with each product's warehouses or discounts, nested (JSON) or one row each (CSV).

Example::

    rows = export_rows(store, ExportShape(warehouses=True, nested=False))
    # one dict per product and warehouse, warehouse fields prefixed ``warehouse_``
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingram.errors import InputError
from ingram.state.shop import DISCOUNT_COLUMNS, WAREHOUSE_COLUMNS
from ingram.state.store import EXPORT_COLUMNS, Store

# flat (CSV) names: a prefix keeps a warehouse's backorder_eta apart from the product's
WAREHOUSE_FIELDS = tuple(
    name if name == "warehouse_id" else f"warehouse_{name}" for name in WAREHOUSE_COLUMNS
)
DISCOUNT_FIELDS = tuple(
    name if name.startswith("discount_") else f"discount_{name}" for name in DISCOUNT_COLUMNS
)


@dataclass(frozen=True)
class ExportShape:
    """What to add to each product, and whether it nests (JSON) or repeats the product (CSV)."""

    warehouses: bool = False
    discounts: bool = False
    nested: bool = True

    def __post_init__(self) -> None:
        if self.warehouses and self.discounts and not self.nested:
            raise InputError(
                "--warehouses and --discounts make different CSV rows: give one of them,"
                " or use --format json to nest both"
            )

    def columns(self) -> tuple[str, ...]:
        """The CSV header for this shape."""
        if self.nested:
            return EXPORT_COLUMNS
        if self.warehouses:
            return EXPORT_COLUMNS + WAREHOUSE_FIELDS
        if self.discounts:
            return EXPORT_COLUMNS + DISCOUNT_FIELDS
        return EXPORT_COLUMNS


def export_rows(
    store: Store,
    shape: ExportShape,
    *,
    status: Sequence[str] = (),
    changed_since: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The products of ``Store.products`` with their warehouses and discounts as ``shape`` says."""
    for product in store.products(status=status, changed_since=changed_since):
        pn = product["ingram_part_number"]
        parts = {}
        if shape.warehouses:
            parts["warehouses"] = warehouses_of(store, pn)
        if shape.discounts:
            parts["discounts"] = discounts_of(store, pn)
        if shape.nested:
            yield {**product, **parts}
            continue
        for name, entries in parts.items():
            fields = WAREHOUSE_FIELDS if name == "warehouses" else DISCOUNT_FIELDS
            # a product without entries still gets its row, with the extra columns empty
            for entry in entries or [dict.fromkeys(fields[:1])]:
                yield {**product, **_flat(entry, fields)}
        if not parts:
            yield product


def _flat(entry: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    flat = dict(zip(fields, entry.values(), strict=False))
    info = flat.get("warehouse_backorder_info")
    if info is not None:
        flat["warehouse_backorder_info"] = json.dumps(info)
    return flat


def warehouses_of(store: Store, pn: str) -> list[dict[str, Any]]:
    """A product's stock per warehouse, in warehouse id order."""
    order = "CAST(warehouse_id AS INTEGER), warehouse_id"
    entries = _entries(store, "product_warehouses", WAREHOUSE_COLUMNS, order, pn)
    for entry in entries:
        info = entry["backorder_info"]
        entry["backorder_info"] = None if info is None else json.loads(info)
    return entries


def discounts_of(store: Store, pn: str) -> list[dict[str, Any]]:
    """A product's special prices, quantity breaks and service fees, as the vendor listed them."""
    entries = _entries(store, "product_discounts", DISCOUNT_COLUMNS, "id", pn)
    for entry in entries:
        if entry["amount"] is not None:
            entry["amount"] = Decimal(entry["amount"])
    return entries


def _entries(
    store: Store, table: str, columns: Sequence[str], order: str, pn: str
) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE ingram_part_number = ? ORDER BY {order}"
    return [dict(row) for row in store.db.execute(sql, (pn,))]
