"""Opening a price file on disk: a ZIP (``PRICE.ZIP``) or a text file, its layout and date.

The layout is detected from the first line (``detect``); every line after it is
checked against that layout as it is read, so a file is refused whole at its first
line that does not fit. Text is UTF-8, and a byte that is not is read as Windows-1252
(what older exports are written in), never dropped.

Example::

    with open_price_file(Path("PRICE.ZIP")) as price_file:
        for action, row in price_file.rows():
            ...
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ingram.clock import format_time
from ingram.errors import PriceFileRefused
from ingram.pricefile.europe import HeaderLayout, header_layout
from ingram.pricefile.layouts import ACTIONS, POSITIONAL, Positional

ZIP_MAGIC = b"PK\x03\x04"
TEXT_SUFFIXES = (".txt", ".csv")
FALLBACK_ERRORS = "ingram-cp1252"
Layout = Positional | HeaderLayout


def cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused as Windows-1252 (Latin-1 where 1252 has a hole)."""
    assert isinstance(error, UnicodeDecodeError)
    raw = error.object[error.start : error.end]
    return raw.decode("cp1252", errors="replace").replace("\ufffd", ""), error.end


codecs.register_error(FALLBACK_ERRORS, cp1252_fallback)


@dataclass
class PriceFile:
    """An open price file: its name for messages, layout, date (UTC ISO-8601) and lines."""

    name: str
    layout: Layout
    file_date: str
    stream: IO[str]
    first: str  # the first line, already read to detect the layout

    def rows(self) -> Iterator[tuple[str, tuple[object, ...]]]:
        """(action, row) for every product line, each checked; refuses at the first misfit.

        One product a line: a field holding a line break does not fit any layout.
        """
        read = self.layout.read
        if not self.layout.has_header:
            yield read(self.first, 1, self.name)
        for number, line in enumerate(self.stream, 2):
            line = line.rstrip("\r\n")
            if line.strip():
                yield read(line, number, self.name)


def detect(values_by_delimiter: dict[str, list[str]], name: str) -> Layout:
    """The layout whose shape the first line has, or ``PriceFileRefused`` saying why none."""
    for delimiter in (",", "\t"):
        values = values_by_delimiter[delimiter]
        if len(values) in POSITIONAL and values[0].strip().upper() in ACTIONS:
            layout, label, fields = POSITIONAL[len(values)]
            return Positional(layout, label, fields, delimiter)
    for delimiter in (";", ",", "\t", "|"):
        found = header_layout(values_by_delimiter[delimiter], delimiter)
        if found:
            return found
    commas = len(values_by_delimiter[","])
    raise PriceFileRefused(
        f"{name} line 1: {commas} comma-separated fields, which is neither a PRICE.TXT line"
        " (23 or 31 fields, the first A, C or D) nor a header naming an Ingram part number"
        " (SKU) and a price column; the file matches no known layout, so nothing was loaded"
    )


def first_line(stream: IO[str], name: str) -> str:
    line = stream.readline()
    if not line.strip():
        raise PriceFileRefused(f"{name} is empty, or starts with a blank line: nothing was loaded")
    return line.rstrip("\r\n")


def file_date(path: Path, member: zipfile.ZipInfo | None) -> str:
    """The file's modification time; a ZIP member's own (zoneless) time when earlier.

    A member dated before 1990 says nothing: 1980-01-01 is what a zipper writes when
    it was given no time.
    """
    moments = [datetime.fromtimestamp(path.stat().st_mtime, UTC)]
    if member is not None and member.date_time[0] >= 1990:
        with contextlib.suppress(ValueError):  # a member dated 1980-00-00 by a careless zipper
            moments.append(datetime(*member.date_time, tzinfo=UTC))
    return format_time(min(moments))


def zip_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """PRICE.TXT, or the archive's only text file."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    texts = [m for m in members if m.filename.lower().endswith(TEXT_SUFFIXES)] or members
    exact = [m for m in texts if Path(m.filename).name.upper() == "PRICE.TXT"]
    if exact or len(texts) == 1:
        return (exact or texts)[0]
    listed = ", ".join(m.filename for m in members[:5]) or "nothing"
    raise PriceFileRefused(
        f"{name} holds {listed}: no PRICE.TXT and not one text file; unzip the price file"
        " you mean and load it by name"
    )


@contextmanager
def open_price_file(path: Path, name: str | None = None) -> Iterator[PriceFile]:
    """The price file at ``path`` (ZIP or text), its layout detected from its first line."""
    name = name or path.name
    try:
        with path.open("rb") as raw:
            zipped = raw.read(4) == ZIP_MAGIC
        if zipped:
            with zip_text(path, name) as (member, binary):
                yield opened(binary, name, file_date(path, member))
        else:
            with path.open("rb") as binary:
                yield opened(binary, name, file_date(path, None))
    except zipfile.BadZipFile as error:
        raise PriceFileRefused(
            f"{name} is not a whole ZIP file ({error}): it was cut short or damaged; nothing"
            " was loaded: fetch it again"
        ) from None
    except (EOFError, zipfile.LargeZipFile) as error:
        raise PriceFileRefused(f"{name} cannot be unpacked ({error}): nothing loaded") from None
    except OSError as error:
        raise PriceFileRefused(f"cannot read {name}: {error.strerror or error}") from None


@contextmanager
def zip_text(path: Path, name: str) -> Iterator[tuple[zipfile.ZipInfo, IO[bytes]]]:
    with zipfile.ZipFile(path) as archive:
        member = zip_member(archive, name)
        with archive.open(member) as binary:
            yield member, binary


def opened(binary: IO[bytes], name: str, date: str) -> PriceFile:
    stream = io.TextIOWrapper(binary, encoding="utf-8-sig", errors=FALLBACK_ERRORS, newline="")
    first = first_line(stream, name)
    split = {d: next(csv.reader([first], delimiter=d), []) for d in (",", "\t", ";", "|")}
    return PriceFile(name, detect(split, name), date, stream, first)
