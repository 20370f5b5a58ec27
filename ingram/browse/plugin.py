"""A Datasette plugin of ``browse``: money with two decimals and its currency, stock with its
unit, seconds with theirs. Registered by ``ingram.cli.browse`` on the Datasette it starts.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from datasette import hookimpl

MONEY_COLUMNS = {"customer_price", "retail_price", "map_price", "amount", "old_price", "new_price"}
STOCK_COLUMNS = {
    "total_availability",
    "quantity_available",
    "quantity_backordered",
    "quantity_on_order",
    "available_quantity",
}


def money(value: Any, currency: str | None) -> str | None:
    """``74.3`` -> ``74.30 USD``; None for what is no number."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    shown = amount.quantize(Decimal("0.01")) if amount.as_tuple().exponent > -2 else amount  # type: ignore[operator]
    return f"{shown} {currency}" if currency else str(shown)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None) -> str | None:
    """The unit beside the number: prices in their currency, stock in units, seconds in s."""
    if value is None or value == "":
        return None
    if column in MONEY_COLUMNS:
        keys = row.keys() if hasattr(row, "keys") else ()
        return money(value, row["currency"] if "currency" in keys else None)
    if column in STOCK_COLUMNS and isinstance(value, int):
        return f"{value:,} units"
    if column.endswith("_seconds") and isinstance(value, int | float):
        return f"{value:g} s"
    return None
