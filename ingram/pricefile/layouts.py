"""The price file's layouts: which one a file is, and each line checked and read into a row.

Ingram publishes no specification here, and public importers disagree, so a file
is never trusted by its name: ``detect`` reads its first line, and ``Layout.read``
checks every line against that layout. A line that does not fit refuses the whole
file (``PriceFileRefused``), naming the line, the field and what was expected.

Example::

    layout = detect(first_line)
    row = layout.read(fields, 1)   # a tuple in CATALOG_COLUMNS order
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ingram.errors import PriceFileRefused
from ingram.files import PART_NUMBER

# The ``catalog`` table's columns a line fills, in this order (``file_date``, ``load_id`` follow).
CATALOG_COLUMNS = (
    "ingram_part_number",
    "vendor_number",
    "vendor_name",
    "description",
    "vendor_part_number",
    "upc",
    "category",
    "customer_price",
    "retail_price",
    "currency",
    "available",
    "quantity",
    "expected_at",
    "status",
    "substitute_part_number",
    "weight",
    "length",
    "width",
    "height",
    "price_changed",
    "special_price",
    "new_item",
    "cpu_code",
    "media_type",
)
COLUMN = {name: position for position, name in enumerate(CATALOG_COLUMNS)}


class LayoutName(StrEnum):
    US = "us-price-txt"  # PRICE.TXT, 23 fields (comma or tab separated)
    LATAM = "latam-price-txt"  # the 31-field variant with the vendor part number last
    EUROPE = "europe-csv"  # Ingram Europe's daily CSV: a header row names the columns


class Action(StrEnum):
    """The first field of a PRICE.TXT line."""

    ADD = "A"
    CHANGE = "C"
    DELETE = "D"


class CatalogStatus(StrEnum):
    """A product's status in the file (PRICE.TXT: blank, ``*``, ``N``, ``V``)."""

    ACTIVE = "active"
    DISCONTINUED = "discontinued"
    TO_BE_DISCONTINUED = "to_be_discontinued"
    DELETED_BY_VENDOR = "deleted_by_vendor"


STATUS_CODES = {
    "": CatalogStatus.ACTIVE,
    "*": CatalogStatus.DISCONTINUED,
    "N": CatalogStatus.TO_BE_DISCONTINUED,
    "V": CatalogStatus.DELETED_BY_VENDOR,
}
ACTIONS = {action.value: action for action in Action}
FLAGS = {"Y": 1, "N": 0, "": None}
PRICE = re.compile(r"\d{1,12}\.\d{1,4}")  # zero-packed: 0000012.99; never without the point
NUMBER = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
QUANTITY = re.compile(r"-?\d{1,12}")


@dataclass(frozen=True)
class Field:
    """One position of a positional layout: its 1-based number, its name, how it is read."""

    number: int
    label: str
    column: str | None  # None: checked for shape, not stored
    read: Callable[[str], object]


def text(value: str) -> str | None:
    return value.strip() or None


def part_number(value: str) -> str | None:
    value = value.strip().upper()
    if not value:
        return None
    if not PART_NUMBER.fullmatch(value):
        raise ValueError("not a part number (letters, digits, . _ / -; 20 at most)")
    return value


def price(value: str) -> str | None:
    """Money as decimal text without the padding: ``0000012.90`` -> ``12.90``."""
    value = value.strip()
    if not value:
        return None
    if not PRICE.fullmatch(value):
        raise ValueError("not a price such as 0000012.99")
    return format(Decimal(value), "f")


def number(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not NUMBER.fullmatch(value):
        raise ValueError("not a number")
    return format(Decimal(value), "f")


def flag(value: str) -> int | None:
    try:
        return FLAGS[value.strip().upper()]
    except KeyError:
        raise ValueError("not Y, N or blank") from None


def status(value: str) -> str:
    try:
        return STATUS_CODES[value.strip().upper()].value
    except KeyError:
        raise ValueError("not blank, * (discontinued), N (to be discontinued) or V") from None


def action(value: str) -> str:
    try:
        return ACTIONS[value.strip().upper()].value
    except KeyError:
        raise ValueError("not A, C or D (add, change, delete)") from None


def positional(*fields: tuple[str, str | None, Callable[[str], object]]) -> tuple[Field, ...]:
    return tuple(Field(n, label, column, read) for n, (label, column, read) in enumerate(fields, 1))


US_FIELDS = positional(
    ("action indicator", None, action),
    ("Ingram part number", "ingram_part_number", part_number),
    ("vendor number", "vendor_number", text),
    ("vendor name", "vendor_name", text),
    ("description line 1", "description", text),
    ("description line 2", "description", text),
    ("retail price", "retail_price", price),
    ("vendor part number", "vendor_part_number", text),
    ("weight", "weight", number),
    ("UPC", "upc", text),
    ("length", "length", number),
    ("width", "width", number),
    ("height", "height", number),
    ("price-change flag", "price_changed", flag),
    ("customer price", "customer_price", price),
    ("special-price flag", "special_price", flag),
    ("availability flag", "available", flag),
    ("status", "status", status),
    ("CPU code", "cpu_code", text),
    ("media type", "media_type", text),
    ("category/subcategory", "category", text),
    ("new-item flag", "new_item", flag),
    ("substitute part number", "substitute_part_number", part_number),
)
# One public importer's header for Ingram's Latin American file: no vendor part number
# in 8th place (so the customer price is the 14th field), and eight more fields after
# the substitute part number, the vendor part number last.
LATAM_FIELDS = positional(
    *((f.label, f.column, f.read) for f in US_FIELDS[:7]),
    *((f.label, f.column, f.read) for f in US_FIELDS[8:20]),
    ("category/subcategory", "category", text),
    ("substitute part number", "substitute_part_number", part_number),
    ("replacement cost", None, text),
    ("warranty", None, text),
    ("item status", None, text),
    ("promo", None, text),
    ("instant rebate flag", None, text),
    ("rebate start date", None, text),
    ("rebate end date", None, text),
    ("rebate amount", None, text),
    ("special start date", None, text),
    ("vendor part number", "vendor_part_number", text),
)
DESCRIPTION = COLUMN["description"]


def refuse(name: str, line: int, problem: str, layout: str) -> PriceFileRefused:
    return PriceFileRefused(
        f"{name} line {line}: {problem}; it does not fit the {layout} layout, so nothing was"
        " loaded (see docs/price-file.md for the layouts ingram-sync knows)"
    )


@dataclass(frozen=True)
class Positional:
    """PRICE.TXT-like: no header, a fixed number of fields, an action indicator first."""

    name: LayoutName
    label: str
    fields: tuple[Field, ...]
    delimiter: str

    has_header = False
    has_actions = True

    def read(self, values: Sequence[str], line: int, source: str) -> tuple[str, tuple[object, ...]]:
        """(action, row) of one line, or ``PriceFileRefused`` naming what does not fit."""
        if len(values) != len(self.fields):
            raise refuse(
                source,
                line,
                f"{len(values)} fields where the first line had {len(self.fields)}",
                self.label,
            )
        row: list[object] = [None] * len(CATALOG_COLUMNS)
        description: list[object] = []
        for spec, value in zip(self.fields, values, strict=True):
            try:
                got = spec.read(value)
            except ValueError as error:
                shown = value.strip()[:30]
                raise refuse(
                    source, line, f"field {spec.number} ({spec.label}) {shown!r} is {error}",
                    self.label,
                ) from None  # fmt: skip
            if spec.column == "description":
                description += [got] if got else []
            elif spec.column:
                row[COLUMN[spec.column]] = got
        if row[0] is None:
            raise refuse(source, line, "field 2 (Ingram part number) is empty", self.label)
        row[DESCRIPTION] = " ".join(description) or None
        return str(values[0]).strip().upper(), tuple(row)


POSITIONAL = {
    23: (LayoutName.US, "US PRICE.TXT (23 fields)", US_FIELDS),
    31: (LayoutName.LATAM, "Latin American PRICE.TXT (31 fields)", LATAM_FIELDS),
}
