"""Part numbers and the reseller's own keys, read from arguments and CSV files.

Example::

    result = read_part_numbers(open("products.csv", "rb"), "products.csv")
    result.part_numbers, result.rejected
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from ingram.errors import InputError
from ingram.models import ProductKey

PART_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,19}")
HEADER_NAMES = {"ingrampartnumber", "ingram_part_number", "sku", "partnumber", "part_number"}


# CSV header -> P&A key field; the reseller's keys are tried in this order on each row
KEY_COLUMNS = {
    "vendorpartnumber": "vendorPartNumber",
    "vendor_part_number": "vendorPartNumber",
    "vpn": "vendorPartNumber",
    "mpn": "vendorPartNumber",
    "upc": "upc",
    "upccode": "upc",
    "customerpartnumber": "customerPartNumber",
    "customer_part_number": "customerPartNumber",
    "cpn": "customerPartNumber",
}
KEY_ORDER = ("vendorPartNumber", "upc", "customerPartNumber")
KEY_LABELS = {
    "vendorPartNumber": "vendor part number",
    "upc": "UPC",
    "customerPartNumber": "customer part number",
}
MAX_KEY = 50
UPC = re.compile(r"[0-9]{6,14}")


@dataclass
class ImportResult:
    part_numbers: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    keys: list[ProductKey] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # read, but said (an encoding guessed)


DELIMITERS = ("\t", ";", ",", "|")  # sniffed in this order of preference
SNIFFED_LINES = 20


def key_problem(key_type: str, value: str) -> str | None:
    """Why ``value`` cannot be a key of ``key_type`` (None: it can)."""
    if not value:
        return f"empty {KEY_LABELS[key_type]}"
    if key_type == "upc":
        return None if UPC.fullmatch(value) else "a UPC is 6 to 14 digits"
    if len(value) > MAX_KEY:
        return "too long"
    if not value.isprintable():
        return "holds control characters"
    return None


def keys_from_args(key_type: str, values: Iterable[str]) -> list[ProductKey]:
    """Keys given on the command line (``--vpn``, ``--upc``, ``--cpn``): trimmed, checked.

    Vendor and customer part numbers are upper-cased, as the vendor compares them.
    """
    keys = []
    for raw in values:
        value = raw.strip() if key_type == "upc" else raw.strip().upper()
        problem = key_problem(key_type, value)
        if problem:
            raise InputError(f"not a {KEY_LABELS[key_type]}: {raw[:40]!r} ({problem})")
        keys.append(ProductKey(key_type, value))
    return keys


def valid_part_number(text: str) -> bool:
    return PART_NUMBER.fullmatch(text) is not None


def part_numbers_from_args(values: Iterable[str]) -> list[str]:
    """Part numbers given on the command line: trimmed, upper case, each once, all valid.

    Ingram answers with upper-case part numbers; storing them as typed would
    make a lower-case one look "left out of the answer" on every sync.
    Example: ``part_numbers_from_args(["6ye881", "6YE881 "]) == ["6YE881"]``
    """
    wanted = list(dict.fromkeys(value.strip().upper() for value in values))
    bad = [value for value in wanted if not valid_part_number(value)]
    if bad:
        raise InputError(f"not a part number: {bad[0]!r} (letters, digits, . _ / -; 20 at most)")
    return wanted


def read_part_numbers(raw: IO[bytes], name: str, delimiter: str | None = None) -> ImportResult:
    """Part numbers from a CSV with an ``ingramPartNumber`` column, or a single column.

    The separator is ``delimiter``, else Excel's ``sep=`` first line, else sniffed (``,``
    ``;``, tab or ``|``); a file that is not UTF-8 is read as Windows-1252, with a warning.
    """
    text, warnings = decode_text(raw.read(), name)
    if "\x00" in text:
        raise InputError(f"{name} holds binary data, not CSV text")
    # No field can be longer than the file: a huge one is then a rejected line, not a crash.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    text, first_line, declared = excel_separator(text)
    separator = delimiter or declared or sniff_delimiter(text)
    lines = enumerate(csv.reader(io.StringIO(text), delimiter=separator), first_line)
    # Rows are read as they come, never all held: 3,000,000 lines are a few bytes each;
    # only the first few are looked at ahead, to tell a header.
    rows: Iterator[tuple[int, list[str]]] = ((number, row) for number, row in lines if row)
    head = list(itertools.islice(rows, SNIFFED_LINES + 1))
    if not head:
        raise InputError(f"{name} is empty: give a CSV with an ingramPartNumber column")
    key_columns = find_key_columns(head[0][1])
    if key_columns:
        return read_key_rows(itertools.chain(head[1:], rows), key_columns, warnings)
    column, body = find_column(head, rows, name)
    result = ImportResult(warnings=warnings)
    for number, row in body:
        value = row[column].strip() if column < len(row) else ""
        if valid_part_number(value):
            result.part_numbers.append(value.upper())
        else:
            reason = "too long" if len(value) > 20 else "not a part number"
            result.rejected.append((number, value[:40], reason))
    if not result.part_numbers and not result.rejected:
        raise InputError(f"{name} has a header but no part numbers")
    return result


def find_key_columns(header: list[str]) -> dict[str, int]:
    """Columns of the reseller's keys (and ``ingramPartNumber``) when the header has any key."""
    names = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    for index, cell in enumerate(names):
        if cell in KEY_COLUMNS:
            found.setdefault(KEY_COLUMNS[cell], index)
    part_numbers = [index for index, cell in enumerate(names) if cell in HEADER_NAMES]
    if found and part_numbers:
        found["ingramPartNumber"] = part_numbers[0]
    return found


def read_key_rows(
    rows: Iterable[tuple[int, list[str]]], columns: dict[str, int], warnings: list[str]
) -> ImportResult:
    """Each row tracks its Ingram part number if given, else its first key (vpn, upc, cpn)."""
    result = ImportResult(warnings=warnings)
    for number, row in rows:
        cells = {kind: row[i].strip() if i < len(row) else "" for kind, i in columns.items()}
        pn = cells.pop("ingramPartNumber", "").upper()
        given = [(kind, cells[kind]) for kind in KEY_ORDER if cells.get(kind)]
        if pn and not valid_part_number(pn):
            result.rejected.append((number, pn[:40], "not a part number"))
        elif not given:
            if pn:
                result.part_numbers.append(pn)
            else:
                result.rejected.append((number, ",".join(row)[:40], "no part number or key"))
        else:
            kind, raw = given[0]
            value = raw if kind == "upc" else raw.upper()
            problem = key_problem(kind, value)
            if problem:
                result.rejected.append((number, raw[:40], problem))
            else:
                result.keys.append(ProductKey(kind, value, pn or None))
    if not (result.part_numbers or result.keys or result.rejected):
        raise InputError("the file has a header but no rows")
    return result


def find_column(
    head: list[tuple[int, list[str]]], rest: Iterator[tuple[int, list[str]]], name: str
) -> tuple[int, Iterator[tuple[int, list[str]]]]:
    """Which column holds part numbers, and the rows below any header (``head``: the first
    rows, read ahead; ``rest``: the rows after them, still unread)."""
    header = [cell.strip().lower() for cell in head[0][1]]
    for index, cell in enumerate(header):
        if cell in HEADER_NAMES:
            return index, itertools.chain(head[1:], rest)
    if len(header) == 1:
        below = head[1:] if is_header(head[0][1][0].strip(), head[1:]) else head
        return 0, itertools.chain(below, rest)
    raise InputError(
        f"{name} has no ingramPartNumber column (found: {', '.join(head[0][1])[:80]}):"
        " name the column ingramPartNumber or give a single column of part numbers"
    )


def decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    """The file's text: UTF-8 (with or without a BOM), else Windows-1252 with a warning."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text: save it as a UTF-8 CSV file") from None
    warning = (
        f"{name} is not UTF-8: read it as Windows-1252, as Excel saves CSV; part numbers are"
        " plain ASCII either way (save it as CSV UTF-8 to silence this)"
    )
    return text, [warning]


def excel_separator(text: str) -> tuple[str, int, str | None]:
    """Excel's ``sep=;`` first line taken off: (the rest, its first line's number, the sep)."""
    first, newline, rest = text.partition("\n")
    match = re.fullmatch(r"sep=(.)\r?", first)
    return (rest, 2, match[1]) if match and newline else (text, 1, None)


def sniff_delimiter(text: str) -> str:
    """The separator of ``text``: the one that splits a known header name off the first line,
    else the first (tab, ``;``, ``,``, ``|``) found as often on every sampled line."""
    lines = [line for line in text.splitlines()[:SNIFFED_LINES] if line.strip()]
    if not lines:
        return ","
    names = HEADER_NAMES | set(KEY_COLUMNS)
    for delimiter in DELIMITERS:
        cells = next(csv.reader([lines[0]], delimiter=delimiter))
        if len(cells) > 1 and names & {cell.strip().lower() for cell in cells}:
            return delimiter
    for delimiter in DELIMITERS:
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts != {0}:
            return delimiter
    return ","


def is_header(first: str, rest: list[tuple[int, list[str]]]) -> bool:
    """Whether a single column's first line names the column rather than a part number:
    it cannot be one, or it is a word in lower or mixed case (``Part``) over a column of
    values in upper case."""
    if not valid_part_number(first):
        return True
    values = [row[0] for _, row in rest[:SNIFFED_LINES] if row]
    word = first.isalpha() and first != first.upper()
    return word and bool(values) and all(value == value.upper() for value in values)
