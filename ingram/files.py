"""Reading part numbers from CSV and writing exports atomically.

Example::

    result = read_part_numbers(open("products.csv", newline=""))
    with atomic_output("catalog.json") as out:
        write_export(rows, "json", out)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ingram.errors import InputError
from ingram.models import ProductKey
from ingram.state.store import EXPORT_COLUMNS

PART_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,19}")
HEADER_NAMES = {"ingrampartnumber", "ingram_part_number", "sku", "partnumber", "part_number"}
FORMATS = ("csv", "json", "jsonl")


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


def read_part_numbers(raw: IO[bytes], name: str) -> ImportResult:
    """Part numbers from a CSV with an ``ingramPartNumber`` column, or a single column."""
    try:
        text = raw.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text: save it as a UTF-8 CSV file") from None
    if "\x00" in text:
        raise InputError(f"{name} holds binary data, not CSV text")
    # No field can be longer than the file: a huge one is then a rejected line, not a crash.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    if not rows:
        raise InputError(f"{name} is empty: give a CSV with an ingramPartNumber column")
    key_columns = find_key_columns(rows[0][1])
    if key_columns:
        return read_key_rows(rows[1:], key_columns)
    column, rows = find_column(rows, name)
    result = ImportResult()
    for number, row in rows:
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


def read_key_rows(rows: list[tuple[int, list[str]]], columns: dict[str, int]) -> ImportResult:
    """Each row tracks its Ingram part number if given, else its first key (vpn, upc, cpn)."""
    result = ImportResult()
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
    rows: list[tuple[int, list[str]]], name: str
) -> tuple[int, list[tuple[int, list[str]]]]:
    """Which column holds part numbers, and the rows below any header."""
    header = [cell.strip().lower() for cell in rows[0][1]]
    for index, cell in enumerate(header):
        if cell in HEADER_NAMES:
            return index, rows[1:]
    if len(header) == 1:
        return 0, rows
    raise InputError(
        f"{name} has no ingramPartNumber column (found: {', '.join(rows[0][1])[:80]}):"
        " name the column ingramPartNumber or give a single column of part numbers"
    )


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` complete, or not at all.

    Only a regular file is ever replaced: a symlink, FIFO or device at ``path``
    (``/dev/stdout`` is a symlink) is refused, never swapped for the export.
    """
    target = Path(path)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise InputError(
            f"{target} is not a regular file (a symlink, FIFO or device): give a file path,"
            " or -o - for stdout"
        )
    # SIGTERM (raised as an exception by the CLI) waits until the cleanup below is armed.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # an export is an ordinary file, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# RFC 4180's line end. With "\n" alone the csv module leaves a cell holding a bare CR
# unquoted, and every reader takes that CR for the end of the row.
CSV_LINE_END = "\r\n"
# OWASP's CSV injection advice: a cell starting with one of these is a formula to a
# spreadsheet; a leading ' makes it text (as WooCommerce's own exporter does).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs: text starting with = + - @ tab or CR gets a '."""
    if type(value) is str and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_value(value: Any) -> Any:
    """CSV cells: booleans as ``true``/``false`` (as in JSON), not Python's ``True``;
    vendor text neutralised (``safe_cell``). JSON keeps the text exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


def write_export(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    out: IO[str],
    columns: Sequence[str] = EXPORT_COLUMNS,
) -> int:
    """Write products as CSV (with ``columns``), a JSON array or JSON Lines; return how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator=CSV_LINE_END)
        writer.writeheader()
    else:
        out.write("[" if fmt == "json" else "")
    for row in rows:
        if fmt == "csv":
            writer.writerow({key: csv_value(value) for key, value in row.items()})
        elif fmt == "jsonl":
            out.write(json.dumps(row, default=float) + "\n")
        else:
            out.write(("\n" if count == 0 else ",\n") + json.dumps(row, default=float))
        count += 1
    if fmt == "json":
        out.write("\n]\n" if count else "]\n")
    return count
