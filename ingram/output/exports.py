"""Exports written atomically: CSV, a JSON array or JSON Lines, into a file or stdout.

Example::

    with atomic_output("catalog.json") as out:
        write_export(rows, "json", out)
"""

from __future__ import annotations

import csv
import json
import os
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ingram.errors import InputError
from ingram.state.products import EXPORT_COLUMNS

FORMATS = ("csv", "json", "jsonl", "xlsx")
# Spreadsheet names that are no CSV: never written as CSV under such a name.
NOT_CSV = (".xls", ".xlsm", ".xlsb", ".ods", ".numbers")
XLSX_NEEDS = "exporting .xlsx needs openpyxl: pip install 'ingram-sync[xlsx]'"


@contextmanager
def atomic_output(path: str | os.PathLike[str], binary: bool = False) -> Iterator[IO[Any]]:
    """A text (or ``binary``) file that appears at ``path`` complete, or not at all.

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
        handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        )
        with handle:
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


def check_xlsx() -> None:
    """Refuse a workbook, before any file is made, when openpyxl is not installed."""
    try:
        import openpyxl  # noqa: F401 - only whether it imports
    except ImportError:
        raise InputError(XLSX_NEEDS) from None


def write_workbook(
    rows: Iterable[dict[str, Any]], out: IO[bytes] | Path, columns: Sequence[str]
) -> int:
    """Write products as one sheet of an xlsx workbook (streamed: memory stays flat).

    Money stays a number (Decimal is written as such); vendor text is always text, so a
    description starting with ``=`` is never a formula.
    """
    check_xlsx()
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("catalog")
    sheet.append(list(columns))
    count = 0
    for row in rows:
        cells = []
        for name in columns:
            cell = WriteOnlyCell(sheet, value=xlsx_value(row.get(name)))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl takes a leading "=" for a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count


def xlsx_value(value: Any) -> Any:
    """A cell's value: nested lists and dicts as JSON text, everything else as it is."""
    return json.dumps(value, default=float) if isinstance(value, list | dict) else value
