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

FORMATS = ("csv", "json", "jsonl")


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
