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

import csv
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from ingram.errors import PriceFileRefused
from ingram.inputs import PART_NUMBER

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
# The same, keyed by what the expressions capture (either case): no upper() per field.
LETTER_FLAGS: dict[str | None, int | None] = {
    None: None,  # a flag the layout has no field for
    **{code: value for letter, value in FLAGS.items() for code in {letter, letter.lower()}},
}
STATUS_WORDS: dict[str | None, str] = {
    code: word.value
    for letters, word in STATUS_CODES.items()
    for code in {letters, letters.lower()}
}
PRICE = re.compile(r"\d{1,12}\.\d{1,4}")  # zero-packed: 0000012.99; never without the point
NUMBER = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
QUANTITY = re.compile(r"-?\d{1,12}")


def text(value: str) -> str | None:
    return value.strip() or None


def part_number(value: str) -> str | None:
    value = value.strip().upper()
    if not value:
        return None
    if not PART_NUMBER.fullmatch(value):
        raise ValueError("not a part number (letters, digits, . _ / -; 20 at most)")
    return value


def required_part_number(value: str) -> str:
    found = part_number(value)
    if found is None:
        raise ValueError("empty: every line names its Ingram part number")
    return found


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


@dataclass(frozen=True)
class Kind:
    """How one field is checked: a regular expression (one capture group, or none for a
    field only checked; ``{other}`` stands for any character but the field separator),
    and the reader that says what is wrong with a value the expression refused."""

    pattern: str
    check: Callable[[str], object]

    @property
    def captures(self) -> bool:
        return "(" in self.pattern.replace("(?:", "")


SPACE = r"[ \t]*"
ACTION = Kind(rf"{SPACE}([ACDacd]){SPACE}", action)
PART = Kind(rf"{SPACE}({PART_NUMBER.pattern}){SPACE}", required_part_number)
SUBSTITUTE = Kind(rf"{SPACE}((?:{PART_NUMBER.pattern})?){SPACE}", part_number)
TEXT = Kind("({other}*)", text)  # greedy and trimmed after: measured twice as fast as lazy
PRICE_KIND = Kind(rf"{SPACE}(?:0*(\d{{1,12}}\.\d{{1,4}}))?{SPACE}", price)
NUMBER_KIND = Kind(rf"{SPACE}(?:0*(\d{{1,12}}(?:\.\d{{1,6}})?))?{SPACE}", number)
FLAG = Kind(rf"{SPACE}([YNyn]?){SPACE}", flag)
STATUS = Kind(rf"{SPACE}([*NVnv]?){SPACE}", status)
IGNORED = Kind("{other}*", text)
SEPARATOR = "\x1f"  # joins a line's fields for one match: no field of a text line holds it


@dataclass(frozen=True)
class Field:
    """One position of a positional layout: its 1-based number, its name, how it is read."""

    number: int
    label: str
    column: str | None  # None: checked for shape, not stored
    kind: Kind


def positional(*fields: tuple[str, str | None, Kind]) -> tuple[Field, ...]:
    return tuple(Field(n, label, column, kind) for n, (label, column, kind) in enumerate(fields, 1))


US_FIELDS = positional(
    ("action indicator", None, ACTION),
    ("Ingram part number", "ingram_part_number", PART),
    ("vendor number", "vendor_number", TEXT),
    ("vendor name", "vendor_name", TEXT),
    ("description line 1", "description", TEXT),
    ("description line 2", "description", TEXT),
    ("retail price", "retail_price", PRICE_KIND),
    ("vendor part number", "vendor_part_number", TEXT),
    ("weight", "weight", NUMBER_KIND),
    ("UPC", "upc", TEXT),
    ("length", "length", NUMBER_KIND),
    ("width", "width", NUMBER_KIND),
    ("height", "height", NUMBER_KIND),
    ("price-change flag", "price_changed", FLAG),
    ("customer price", "customer_price", PRICE_KIND),
    ("special-price flag", "special_price", FLAG),
    ("availability flag", "available", FLAG),
    ("status", "status", STATUS),
    ("CPU code", "cpu_code", TEXT),
    ("media type", "media_type", TEXT),
    ("category/subcategory", "category", TEXT),
    ("new-item flag", "new_item", FLAG),
    ("substitute part number", "substitute_part_number", SUBSTITUTE),
)
# One public importer's header for Ingram's Latin American file: no vendor part number
# in 8th place (so the customer price is the 14th field), and nine more fields after
# the substitute part number, the vendor part number last.
LATAM_FIELDS = positional(
    *((f.label, f.column, f.kind) for f in US_FIELDS[:7]),
    *((f.label, f.column, f.kind) for f in US_FIELDS[8:21]),
    ("substitute part number", "substitute_part_number", SUBSTITUTE),
    *((label, None, IGNORED) for label in (
        "replacement cost", "warranty", "item status", "promo", "instant rebate flag",
        "rebate start date", "rebate end date", "rebate amount", "special start date",
    )),
    ("vendor part number", "vendor_part_number", TEXT),
)  # fmt: skip


def refuse(name: str, line: int, problem: str, layout: str) -> PriceFileRefused:
    return PriceFileRefused(
        f"{name} line {line}: {problem}; it does not fit the {layout} layout, so nothing was"
        " loaded (see docs/price-file.md for the layouts ingram-sync knows)"
    )


# ``price_txt_row``'s arguments: the columns a PRICE.TXT line may fill, description twice.
PRICE_TXT_ARGUMENTS = (
    "ingram_part_number", "vendor_number", "vendor_name", "description", "description",
    "vendor_part_number", "upc", "category", "customer_price", "retail_price", "available",
    "status", "substitute_part_number", "weight", "length", "width", "height", "price_changed",
    "special_price", "new_item", "cpu_code", "media_type",
)  # fmt: skip


def captures_in_column_order(fields: Sequence[Field]) -> tuple[int, ...]:
    """Which capture of a line's match feeds each of ``price_txt_row``'s arguments; -1 (the
    None appended to the captures) for a column the layout lacks."""
    groups: dict[str, list[int]] = {}
    for group, spec in enumerate(spec for spec in fields if spec.kind.captures):
        if spec.column:
            groups.setdefault(spec.column, []).append(group)
    taken = {column: iter(found) for column, found in groups.items()}
    return tuple(next(taken.get(column, iter(())), -1) for column in PRICE_TXT_ARGUMENTS)


# What ``price_txt_row`` gives, in order: every catalog column but these three, which no
# PRICE.TXT has (the INSERT writes NULL there rather than bind three Nones a line).
PRICE_TXT_UNFILLED = ("currency", "quantity", "expected_at")
PRICE_TXT_COLUMNS = tuple(c for c in CATALOG_COLUMNS if c not in PRICE_TXT_UNFILLED)


def price_txt_row(captured: Sequence[Any]) -> tuple[object, ...]:
    """A PRICE.TXT line's captures, in column order, as the ``catalog`` row they make.

    Written for speed (a million lines a load): the expressions have checked every
    value, so only case, blanks and codes are left to turn into what is stored. Text
    captures are strings; price, number and substitute captures may be None.
    """
    (pn, vendor_number, vendor_name, line_1, line_2, vpn, upc, category, cost, retail,
     available, status_code, substitute, weight, length, width, height, price_changed,
     special, new, cpu, media) = captured  # fmt: skip
    return (
        pn.upper(), vendor_number.strip() or None, vendor_name.strip() or None,
        f"{line_1.strip()} {line_2.strip()}".strip() or None, vpn.strip() or None,
        upc.strip() or None, category.strip() or None, cost, retail,
        LETTER_FLAGS[available], STATUS_WORDS[status_code],
        substitute.upper() if substitute else None, weight, length, width, height,
        LETTER_FLAGS[price_changed], LETTER_FLAGS[special], LETTER_FLAGS[new],
        cpu.strip() or None, media.strip() or None,
    )  # fmt: skip


def line_pattern(fields: Sequence[Field], separator: str, other: str, quote: str = "") -> str:
    parts = (quote + spec.kind.pattern.replace("{other}", other) + quote for spec in fields)
    return re.escape(separator).join(parts)


@dataclass(frozen=True)
class Positional:
    """PRICE.TXT-like: no header, a fixed number of fields, an action indicator first."""

    name: LayoutName
    label: str
    fields: tuple[Field, ...]
    delimiter: str

    quoted: Callable[[str], re.Match[str] | None] = field(init=False, repr=False)
    bare: Callable[[str], re.Match[str] | None] = field(init=False, repr=False)
    split: Callable[[str], re.Match[str] | None] = field(init=False, repr=False)
    pick: Callable[[Sequence[str | None]], tuple[str | None, ...]] = field(init=False, repr=False)

    has_header: ClassVar[bool] = False
    fills: ClassVar[tuple[str, ...]] = PRICE_TXT_COLUMNS  # what ``read`` gives, in order

    def __post_init__(self) -> None:
        """Three expressions: every field quoted, none quoted (both read the line as it is),
        and the fields as ``csv`` split them (quotes mixed or doubled), joined by SEPARATOR."""
        delimiter = self.delimiter
        patterns = {
            "quoted": line_pattern(self.fields, delimiter, '[^"]', '"'),
            "bare": line_pattern(self.fields, delimiter, f'[^{re.escape(delimiter)}"]'),
            "split": line_pattern(self.fields, SEPARATOR, "[^\x1f]"),
        }
        for name, pattern in patterns.items():
            object.__setattr__(self, name, re.compile(pattern).fullmatch)
        order = captures_in_column_order(self.fields)
        object.__setattr__(self, "pick", operator.itemgetter(*order))

    def read(self, line: str, number: int, source: str) -> tuple[str, tuple[object, ...]]:
        """(action, catalog row) of one line; ``PriceFileRefused`` if it does not fit."""
        found = self.quoted(line) or self.bare(line)
        if found is None:
            values = next(csv.reader([line], delimiter=self.delimiter), [])
            if len(values) == len(self.fields):
                found = self.split(SEPARATOR.join(values))
            if found is None:
                raise self.misfit(values, number, source)
        captured = found.groups()
        return str(captured[0]).upper(), price_txt_row(self.pick((*captured, None)))

    def misfit(self, values: Sequence[str], line: int, source: str) -> PriceFileRefused:
        """What does not fit in a line the expression refused, field by field."""
        if len(values) != len(self.fields):
            problem = f"{len(values)} fields where the first line had {len(self.fields)}"
            return refuse(source, line, problem, self.label)
        for spec, value in zip(self.fields, values, strict=True):
            try:
                spec.kind.check(value)
            except ValueError as error:
                shown = value.strip()[:30]
                problem = f"field {spec.number} ({spec.label}) {shown!r} is {error}"
                return refuse(source, line, problem, self.label)
        return refuse(source, line, "a field holds a control character", self.label)


POSITIONAL = {
    23: (LayoutName.US, "US PRICE.TXT (23 fields)", US_FIELDS),
    31: (LayoutName.LATAM, "Latin American PRICE.TXT (31 fields)", LATAM_FIELDS),
}
