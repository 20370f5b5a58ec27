"""Export rows with each product's warehouses, discounts or specs: nested (JSON) or flat (CSV).

Example::

    rows = export_rows(store, ExportShape(parts=("warehouses",), nested=False))
    # one dict per product and warehouse, warehouse fields prefixed ``warehouse_``
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingram.errors import InputError
from ingram.state.products import EXPORT_COLUMNS, export_products
from ingram.state.shop import DISCOUNT_COLUMNS, WAREHOUSE_COLUMNS
from ingram.state.store import Store

SPEC_COLUMNS = ("header", "name", "value")
# flat (CSV) names: a prefix keeps a warehouse's backorder_eta apart from the product's
WAREHOUSE_FIELDS = tuple(
    name if name == "warehouse_id" else f"warehouse_{name}" for name in WAREHOUSE_COLUMNS
)
DISCOUNT_FIELDS = tuple(
    name if name.startswith("discount_") else f"discount_{name}" for name in DISCOUNT_COLUMNS
)
SPEC_FIELDS = tuple(f"spec_{name}" for name in SPEC_COLUMNS)


@dataclass(frozen=True)
class ExportShape:
    """What to add to each product (``warehouses``, ``discounts``, ``specs``), nested or flat."""

    parts: tuple[str, ...] = ()
    nested: bool = True

    def __post_init__(self) -> None:
        if len(self.parts) > 1 and not self.nested:
            options = " and ".join(f"--{name}" for name in self.parts)
            raise InputError(
                f"{options} make different CSV rows: give one of them,"
                " or use --format json to nest them all"
            )

    def columns(self) -> tuple[str, ...]:
        """The CSV header for this shape."""
        if self.nested or not self.parts:
            return EXPORT_COLUMNS
        return EXPORT_COLUMNS + PARTS[self.parts[0]][1]


def export_rows(
    store: Store,
    shape: ExportShape,
    *,
    status: Sequence[str] = (),
    changed_since: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The products of ``Store.products`` with the parts ``shape`` asks for."""
    for product in export_products(store, status=status, changed_since=changed_since):
        pn = product["ingram_part_number"]
        parts = {name: PARTS[name][0](store, pn) for name in shape.parts}
        if shape.nested:
            yield {**product, **parts}
            continue
        for name, entries in parts.items():
            fields = PARTS[name][1]
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
    entries = _entries(store, "product_discounts", DISCOUNT_COLUMNS, "position", pn)
    for entry in entries:
        if entry["amount"] is not None:
            entry["amount"] = Decimal(entry["amount"])
    return entries


def _entries(
    store: Store, table: str, columns: Sequence[str], order: str, pn: str
) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {', '.join(columns)} FROM {table}"
        f" WHERE product_seq = (SELECT seq FROM products WHERE ingram_part_number = ?)"
        f" ORDER BY {order}"
    )
    return [dict(row) for row in store.db.execute(sql, (pn,))]


def specs_of(store: Store, pn: str) -> list[dict[str, Any]]:
    """A product's spec table (header, name, value) in the vendor's order."""
    return _entries(store, "product_specs", SPEC_COLUMNS, "position", pn)


Reader = Callable[[Store, str], list[dict[str, Any]]]
PARTS: dict[str, tuple[Reader, tuple[str, ...]]] = {
    "warehouses": (warehouses_of, WAREHOUSE_FIELDS),
    "discounts": (discounts_of, DISCOUNT_FIELDS),
    "specs": (specs_of, SPEC_FIELDS),
}
