"""Ingram Europe's daily CSV price file: a header row names the columns, in any order.

Ingram Europe documents what the file holds (SKU, vendor part number, description,
price, stock and expected delivery date, with a category file beside it) but no
column names we could check, so columns are found by the names importers use for
them; a header that names no part number and no price is refused, not guessed at.

Example::

    layout = header_layout(["SKU", "VPN", "Description", "Price", "Stock"], ";")
    action, row = layout.read(values, 2, "prices.csv")
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ingram.pricefile.layouts import (
    CATALOG_COLUMNS,
    COLUMN,
    QUANTITY,
    Action,
    CatalogStatus,
    LayoutName,
    part_number,
    refuse,
    text,
)

# Header names (lower case, letters and digits only) -> catalog column.
ALIASES = {
    "ingram_part_number": (
        "sku", "ingramsku", "imsku", "ingrampartnumber", "ingrampartnbr", "ingrampart",
        "impartnumber", "impartnbr",
    ),
    "vendor_part_number": (
        "vpn", "vendorpartnumber", "vendorpartnbr", "manufacturerpartnumber", "mpn",
        "mfrpartnumber", "mfgpartno",
    ),
    "vendor_name": ("vendorname", "vendor", "mastervendnam", "manufacturer", "brand"),
    "vendor_number": ("vendornumber", "vendornbr", "vendorcode", "vendorid"),
    "description": ("description", "productdescription", "description1", "shortdescription"),
    "customer_price": ("price", "customerprice", "netprice", "yourprice", "dealerprice"),
    "retail_price": ("retailprice", "rrp", "msrp", "srp", "listprice"),
    "currency": ("currency", "currencycode"),
    "quantity": ("stock", "availablequantity", "availableqty", "quantity", "qty", "stockqty"),
    "expected_at": ("expecteddeliverydate", "expecteddate", "eta", "deliverydate"),
    "upc": ("ean", "upc", "eancode", "upccode", "gtin"),
    "category": ("category", "categorycode", "categoryid", "subcategory", "subcategorycode"),
    "weight": ("weight", "grossweight"),
    "status": ("discontinued", "eol"),
}  # fmt: skip
NAMES = {alias: column for column, aliases in ALIASES.items() for alias in aliases}
PRICE_COLUMNS = ("customer_price", "retail_price")
DECIMAL = re.compile(r"\d{1,12}(?:[.,]\d{1,6})?")
TRUE = {"Y", "YES", "1", "TRUE", "J", "JA", "O", "OUI"}
FALSE = {"N", "NO", "0", "FALSE", "NEE", "NEIN", "NON", ""}


def header_name(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.lower())


def money(value: str) -> str | None:
    """``12,34`` (a decimal comma, where the separator is not a comma) or ``12.34``."""
    value = value.strip()
    if not value:
        return None
    if not DECIMAL.fullmatch(value):
        raise ValueError("not a price such as 12.34 or 12,34")
    return format(Decimal(value.replace(",", ".")), "f")


def quantity(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not QUANTITY.fullmatch(value):
        raise ValueError("not a whole number")
    return max(int(value), 0)


def discontinued(value: str) -> str:
    word = value.strip().upper()
    if word in TRUE:
        return CatalogStatus.DISCONTINUED.value
    if word in FALSE:
        return CatalogStatus.ACTIVE.value
    raise ValueError("not a yes or no")


READERS: dict[str, Callable[[str], object]] = {
    "ingram_part_number": part_number,
    "customer_price": money,
    "retail_price": money,
    "weight": money,
    "quantity": quantity,
    "status": discontinued,
}


@dataclass(frozen=True)
class HeaderLayout:
    """A CSV whose first line names its columns; every line is a product (no actions)."""

    columns: tuple[tuple[int, str], ...]  # (position in the line, catalog column)
    width: int
    delimiter: str

    name: ClassVar[LayoutName] = LayoutName.EUROPE
    label: ClassVar[str] = "Ingram Europe CSV"
    has_header: ClassVar[bool] = True
    fills: ClassVar[tuple[str, ...]] = CATALOG_COLUMNS  # what ``read`` gives, in order

    def read(self, text_line: str, line: int, source: str) -> tuple[str, tuple[object, ...]]:
        values = next(csv.reader([text_line], delimiter=self.delimiter), [])
        if len(values) != self.width:
            raise refuse(
                source, line, f"{len(values)} fields where the header names {self.width}",
                self.label,
            )  # fmt: skip
        row: list[object] = [None] * len(CATALOG_COLUMNS)
        row[COLUMN["status"]] = CatalogStatus.ACTIVE.value
        for position, column in self.columns:
            try:
                row[COLUMN[column]] = READERS.get(column, text)(values[position])
            except ValueError as error:
                shown = values[position].strip()[:30]
                raise refuse(
                    source, line, f"column {position + 1} ({column}) {shown!r} is {error}",
                    self.label,
                ) from None  # fmt: skip
        if row[0] is None:
            raise refuse(source, line, "the part number is empty", self.label)
        quantity_seen = row[COLUMN["quantity"]]
        if quantity_seen is not None:
            row[COLUMN["available"]] = int(quantity_seen > 0)  # type: ignore[operator]
        return Action.ADD.value, tuple(row)


def header_layout(header: Sequence[str], delimiter: str) -> HeaderLayout | None:
    """The layout a header row names, or None when it names no part number and no price."""
    columns: dict[str, int] = {}
    for position, cell in enumerate(header):
        column = NAMES.get(header_name(cell))
        if column and column not in columns:
            columns[column] = position
    if "ingram_part_number" not in columns or not set(PRICE_COLUMNS) & set(columns):
        return None
    ordered = tuple(sorted((position, column) for column, position in columns.items()))
    return HeaderLayout(ordered, len(header), delimiter)
