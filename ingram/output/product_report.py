"""``products show`` as a person reads it: one product, whole, in labelled lines.

Example: ``for line in product_lines(product_view(store, "6YE881")): print(line)``
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ingram.output.reports import STREAM_LABELS, change_text, money_text, value_text
from ingram.vocab import ProductStatus

SPECS_SHOWN = 8
STATUS_MEANING = {
    ProductStatus.ACTIVE: "active",
    ProductStatus.NOT_AUTHORIZED: "not_authorized: Ingram knows it, but your account may not"
    " buy it (its price is what Ingram showed; ask your Ingram rep to authorize it)",
    ProductStatus.NOT_FOUND: "not_found: Ingram does not know this part number",
    ProductStatus.NEVER_SYNCED: "never_synced: run `ingram-sync sync` to fetch it",
}


def product_lines(view: Mapping[str, Any]) -> list[str]:
    """Identity, price, stock by warehouse, discounts, details, failures and last changes."""
    sources = view["sources"]
    lines = [
        f"{view['ingram_part_number']}  {view['description'] or '(no description yet)'}",
        f"  status      {STATUS_MEANING.get(view['status'], view['status'])}",
        *identity_lines(view),
        f"  price       {money_text(view['customer_price'], view['currency'])}; retail"
        f" {money_text(view['retail_price'])}, MAP {money_text(view['map_price'])}"
        f"{seen(sources['price'])}",
        f"  stock       {value_text(view['total_availability'])} available"
        f"{backorder(view)}{seen(sources['stock'])}",
        *warehouse_lines(view["warehouses"]),
        *discount_lines(view["discounts"]),
        *details_lines(view),
        *failure_lines(view["open_failures"]),
        *change_lines(view["last_changes"]),
    ]
    return lines


def seen(source: Mapping[str, Any]) -> str:
    return (
        f"  (as of {source['at']}, from {source['from']})" if source["at"] else "  (never fetched)"
    )


def backorder(view: Mapping[str, Any]) -> str:
    return f"; backorder ETA {view['backorder_eta']}" if view["backorder_eta"] else ""


def identity_lines(view: Mapping[str, Any]) -> list[str]:
    lines = [
        f"  vendor      {value_text(view['vendor_name'])}, part number"
        f" {value_text(view['vendor_part_number'])}, UPC {value_text(view['upc'])}",
        f"  category    {value_text(view['category'])} / {value_text(view['subcategory'])}"
        f" (class {value_text(view['product_class'])})",
    ]
    if view["user_key"]:
        lines.append(f"  your key    {view['user_key_type']} {view['user_key']}")
    return lines


def warehouse_lines(warehouses: Sequence[Mapping[str, Any]]) -> list[str]:
    if not warehouses:
        return []
    lines = [f"    {'warehouse':<10} {'location':<20} {'available':>9} {'backordered':>11}"
             f" {'on order':>8}  backorder ETA"]  # fmt: skip
    for row in warehouses:
        lines.append(
            f"    {row['warehouse_id']:<10} {value_text(row['location']):<20}"
            f" {value_text(row['quantity_available']):>9}"
            f" {value_text(row['quantity_backordered']):>11}"
            f" {value_text(row['quantity_on_order']):>8}  {value_text(row['backorder_eta'])}"
        )
    return lines


def section(
    heading: str,
    rows: Sequence[Mapping[str, Any]],
    line: Callable[[Mapping[str, Any]], str],
    none: str = "none",
) -> list[str]:
    """A labelled part of the report: its heading (or ``none``), then a line per row."""
    if not rows:
        return [f"  {heading:<11} {none}"]
    return [f"  {heading}", *(f"    {line(row)}" for row in rows)]


def discount_lines(discounts: Sequence[Mapping[str, Any]]) -> list[str]:
    def line(row: Mapping[str, Any]) -> str:
        dates = " .. ".join(value_text(row[k]) for k in ("effective_date", "expiration_date"))
        return (
            f"{row['kind']}: {money_text(row['amount'], row['currency'])} from"
            f" {value_text(row['quantity'])} units ({value_text(row['discount_type'])}, {dates})"
        )

    return section("discounts", discounts, line)


def details_lines(view: Mapping[str, Any]) -> list[str]:
    flags = ", ".join(
        f"{label} {value_text(view[name])}"
        for name, label in (("discontinued", "discontinued"), ("new_product", "new"))
    )
    size = " x ".join(value_text(view[name]) for name in ("height", "width", "length"))
    lines = [
        f"  details     {flags}; weight {value_text(view['weight'])}"
        f" {value_text(view['weight_unit'])}; {size} {value_text(view['dimension_unit'])}"
        f"{seen(view['sources']['details'])}"
    ]
    specs = view["specs"]
    if specs:
        lines.append(f"    specs ({min(len(specs), SPECS_SHOWN)} of {len(specs)})")
        lines.extend(f"      {row['name']}: {row['value']}" for row in specs[:SPECS_SHOWN])
    return lines


def failure_lines(failures: Sequence[Mapping[str, Any]]) -> list[str]:
    def line(row: Mapping[str, Any]) -> str:
        return (
            f"{row['id']}: {STREAM_LABELS[row['kind']]} in run {row['run_id']},"
            f" {row['failed_at']}: {row['error']}"
        )

    heading = "failures    open (retry: ingram-sync retry-failed --all)"
    return section(heading if failures else "failures", failures, line, "none open")


def change_lines(changes: Sequence[Mapping[str, Any]]) -> list[str]:
    def line(row: Mapping[str, Any]) -> str:
        return (
            f"{row['changed_at']}  {row['field']:<18} {row['source']:<7}"
            f" {change_text(row['old_value'])} -> {change_text(row['new_value'])}"
        )

    return section("changes     the latest first" if changes else "changes", changes, line)
