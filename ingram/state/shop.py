"""``save_*`` for what a shop needs beyond price and total stock.

Called by ``saving`` inside the transaction of the P&A batch or details result
they belong to, so a crash never leaves a product's warehouses from one sync
and its price from another. Writes the flags, one row per warehouse, the
discounts, the indicators and sizes, the spec table, and a ``changes`` row
when a backorder ETA moves or the discontinued flag flips.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from ingram.models import DetailsExtras, Discount, PriceAvailability, WarehouseStock
from ingram.state.products import money

WAREHOUSE_COLUMNS = (
    "warehouse_id",
    "location",
    "quantity_available",
    "quantity_backordered",
    "quantity_on_order",
    "backorder_eta",
    "backorder_info",
)
DISCOUNT_COLUMNS = (
    "kind",
    "discount_type",
    "bid_number",
    "amount",
    "quantity",
    "available_quantity",
    "effective_date",
    "expiration_date",
    "currency",
    "description",
)


def save_shop_fields(
    db: sqlite3.Connection,
    run_id: int,
    found: Sequence[PriceAvailability],
    not_found: Sequence[str],
    now: str,
) -> None:
    """Flags, warehouses and discounts of a P&A batch; a product not found loses them."""
    previous = _previous(db, [item.ingram_part_number for item in found], "backorder_eta")
    tracked = [item for item in found if item.ingram_part_number in previous]
    numbers = {pn: row["seq"] for pn, row in (previous | _previous(db, not_found, "seq")).items()}
    db.executemany(
        "UPDATE products SET accept_back_order = NULL, end_user_info_required = NULL,"
        " bundle_part = NULL, backorder_eta = NULL WHERE ingram_part_number = ?",
        [(pn,) for pn in not_found],
    )
    db.executemany(
        "UPDATE products SET authorized = COALESCE(?, authorized), accept_back_order = ?,"
        " end_user_info_required = ?, bundle_part = ?, backorder_eta = ?, shop_synced_at = ?"
        " WHERE ingram_part_number = ?",
        [_flags_row(item, now) for item in tracked],
    )
    gone: dict[str, list[tuple[object, ...]]] = {pn: [] for pn in not_found}
    warehouses = {
        item.ingram_part_number: [warehouse_row(s) for s in _unique_warehouses(item.warehouses)]
        for item in tracked
    }
    discounts = {  # numbered in the vendor's order, which the table keeps
        item.ingram_part_number: [
            (position, *discount_row(d))
            for position, d in enumerate(item.shop.discounts if item.shop else (), 1)
        ]
        for item in tracked
    }
    replace_changed_rows(db, "product_warehouses", WAREHOUSE_COLUMNS, warehouses | gone, numbers)
    columns = ("position", *DISCOUNT_COLUMNS)
    replace_changed_rows(db, "product_discounts", columns, discounts | gone, numbers)
    changed = [
        (item.ingram_part_number, previous[item.ingram_part_number], earliest_eta(item.warehouses))
        for item in tracked
        if previous[item.ingram_part_number]["shop_synced_at"] is not None
    ]
    _record(db, run_id, "backorder_eta", changed, now)


def save_details_extras(
    db: sqlite3.Connection, run_id: int, pn: str, extras: DetailsExtras | None, now: str
) -> None:
    """Indicators, weight, dimensions and specs of one details result (None: no details)."""
    previous = _previous(db, [pn], "discontinued")
    if pn not in previous:
        return  # removed while its details were in flight
    extras = extras or DetailsExtras()
    db.execute(
        "UPDATE products SET discontinued = ?, new_product = ?, backorder_allowed = ?,"
        " direct_ship = ?, has_warranty = ?, weight = ?, weight_unit = ?, height = ?,"
        " width = ?, length = ?, dimension_unit = ? WHERE ingram_part_number = ?",
        (*_details_values(extras), pn),
    )
    number = previous[pn]["seq"]
    _delete_rows(db, "product_specs", [number])
    db.executemany(
        "INSERT INTO product_specs (product_seq, ingram_part_number, position, header, name, value)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(number, pn, position, *row) for position, row in enumerate(extras.specs, 1)],
    )
    old = previous[pn]["old"]
    if old is not None and extras.discontinued is not None:
        _record(
            db, run_id, "discontinued", [(pn, previous[pn], _bool_text(extras.discontinued))], now
        )


def _details_values(extras: DetailsExtras) -> tuple[object, ...]:
    return (
        _int(extras.discontinued),
        _int(extras.new_product),
        _int(extras.backorder_allowed),
        _int(extras.direct_ship),
        _int(extras.has_warranty),
        money(extras.weight),
        extras.weight_unit,
        money(extras.height),
        money(extras.width),
        money(extras.length),
        extras.dimension_unit,
    )


def _previous(db: sqlite3.Connection, pns: Sequence[str], column: str) -> dict[str, sqlite3.Row]:
    if not pns:
        return {}
    marks = ",".join("?" * len(pns))
    rows = db.execute(
        f"SELECT ingram_part_number, {column} AS old, shop_synced_at, seq FROM products"
        f" WHERE ingram_part_number IN ({marks})",
        tuple(pns),
    )
    return {row[0]: row for row in rows}


def replace_changed_rows(
    db: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    wanted: dict[str, list[tuple[object, ...]]],
    numbers: dict[str, int],
) -> None:
    """Each product's rows in ``table`` become ``wanted[pn]``; a product whose rows are
    already those is left alone, so a routine re-sync rewrites no page of the table.

    Rows are found by the product's number (``numbers[pn]``, its ``seq``); a product
    without one was removed while its call was in flight and gets none.
    """
    wanted = {pn: rows for pn, rows in wanted.items() if pn in numbers}
    if not wanted:
        return
    current: dict[int, list[tuple[object, ...]]] = {numbers[pn]: [] for pn in wanted}
    marks = ",".join("?" * len(current))
    for row in db.execute(
        f"SELECT product_seq, {', '.join(columns)} FROM {table} WHERE product_seq IN ({marks})",
        tuple(current),
    ):
        current[row[0]].append(tuple(row[1:]))
    changed = [
        pn
        for pn, rows in wanted.items()
        if sorted(rows, key=repr) != sorted(current[numbers[pn]], key=repr)
    ]
    _delete_rows(db, table, [numbers[pn] for pn in changed])
    db.executemany(
        f"INSERT INTO {table} (product_seq, ingram_part_number, {', '.join(columns)})"
        f" VALUES (?, ?{', ?' * len(columns)})",
        [(numbers[pn], pn, *row) for pn in changed for row in wanted[pn]],
    )


def _delete_rows(db: sqlite3.Connection, table: str, numbers: Sequence[int]) -> None:
    """Delete the rows of the products numbered ``numbers`` (their ``seq``) from ``table``."""
    if not numbers:
        return
    marks = ",".join("?" * len(numbers))
    db.execute(f"DELETE FROM {table} WHERE product_seq IN ({marks})", tuple(numbers))


def _record(
    db: sqlite3.Connection,
    run_id: int,
    field: str,
    candidates: Sequence[tuple[str, sqlite3.Row, object]],
    now: str,
) -> None:
    """A ``changes`` row for each candidate whose stored value differs from the new one."""
    rows = []
    for pn, before, new in candidates:
        old = before["old"]
        if field == "discontinued":
            old = _bool_text(bool(old))
        if old != new:
            rows.append((run_id, pn, field, old, new, now))
    db.executemany(
        "INSERT INTO changes (run_id, ingram_part_number, field, old_value, new_value, changed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def _flags_row(item: PriceAvailability, now: str) -> tuple[object, ...]:
    shop = item.shop
    return (
        None if shop is None else _int(shop.product_authorized),
        None if shop is None else _int(shop.accept_back_order),
        None if shop is None else _int(shop.end_user_info_required),
        None if shop is None else _int(shop.bundle_part),
        earliest_eta(item.warehouses),
        now,
        item.ingram_part_number,
    )


def _unique_warehouses(stocks: Sequence[WarehouseStock]) -> list[WarehouseStock]:
    """One entry per warehouse id (the first), as the table's key wants."""
    return list({stock.warehouse_id: stock for stock in reversed(stocks)}.values())[::-1]


def warehouse_row(stock: WarehouseStock) -> tuple[object, ...]:
    info = stock.backorder_info
    return (
        stock.warehouse_id,
        stock.location,
        stock.quantity_available,
        stock.quantity_backordered,
        stock.quantity_on_order,
        stock.backorder_eta,
        None
        if info is None
        else json.dumps([{"quantity": quantity, "eta_date": eta} for quantity, eta in info]),
    )


def discount_row(discount: Discount) -> tuple[object, ...]:
    return (
        discount.kind,
        discount.discount_type,
        discount.bid_number,
        money(discount.amount),
        discount.quantity,
        discount.available_quantity,
        discount.effective_date,
        discount.expiration_date,
        discount.currency,
        discount.description,
    )


def earliest_eta(stocks: Sequence[WarehouseStock]) -> str | None:
    """The first date any backordered stock is due, from either field the vendor uses."""
    dates = [stock.backorder_eta for stock in stocks]
    dates += [eta for stock in stocks for _, eta in stock.backorder_info or ()]
    iso = [date for date in dates if date is not None and len(date) == 10 and date[4] == "-"]
    return min(iso, default=None)


def _int(flag: bool | None) -> int | None:
    return None if flag is None else int(flag)


def _bool_text(flag: bool) -> str:
    return "true" if flag else "false"
