"""CSVs as European Excel and other tools save them (finding 4 of issue 24): ``;`` and tab
separators sniffed or given with ``--delimiter``, Excel's ``sep=`` line honoured, a header
over a single column recognised, Windows-1252 files with ASCII part numbers read."""

from __future__ import annotations

import io

import pytest

from ingram.errors import InputError
from ingram.inputs import read_part_numbers

PNS = ["6YE881", "4A0036", "123512"]


def read(data: bytes, delimiter: str | None = None):
    return read_part_numbers(io.BytesIO(data), "shop.csv", delimiter=delimiter)


@pytest.mark.parametrize(
    "data",
    [
        b"ingramPartNumber;note\n6YE881;Monitor, 27 inch\n4A0036;Memory\n123512;12,50\n",
        b"ingramPartNumber\tnote\n6YE881\tMonitor, 27 inch\n4A0036\tMemory\n123512\t12,50\n",
        b"sep=;\r\ningramPartNumber;note\r\n6YE881;a\r\n4A0036;b\r\n123512;c\r\n",
        b"sep=\t\ningramPartNumber\tnote\n6YE881\ta\n4A0036\tb\n123512\tc\n",
        b"note;ingramPartNumber\nMonitor, 27 inch;6YE881\nMemory;4A0036\n12,50;123512\n",
    ],
    ids=["semicolons", "tabs", "sep= line", "sep=tab", "column second"],
)
def test_european_and_tab_separated_files_are_read_whole(data):
    result = read(data)
    assert result.part_numbers == PNS
    assert result.rejected == []


def test_a_delimiter_can_be_given_when_sniffing_would_guess_wrong():
    data = b"ingramPartNumber|note\n6YE881|a;b\n4A0036|c\n123512|d\n"
    assert read(data, delimiter="|").part_numbers == PNS


@pytest.mark.parametrize("header", ["Part", "Artikel", "Part number", "Article No.", "item"])
def test_a_single_column_first_line_that_is_no_part_number_is_a_header(header):
    result = read(f"{header}\n6YE881\n4A0036\n123512\n".encode())
    assert result.part_numbers == PNS and result.rejected == []


def test_a_first_part_number_is_never_taken_for_a_header():
    assert read(b"6YE881\n4A0036\n123512\n").part_numbers == PNS


def test_windows_1252_with_ascii_part_numbers_is_read_with_a_warning():
    data = "ingramPartNumber;note\n6YE881;Écran 27\u2019\n4A0036;Mémoire\n123512;câble\n"
    result = read(data.encode("cp1252"))
    assert result.part_numbers == PNS
    assert any("Windows-1252" in warning for warning in result.warnings)


def test_bytes_that_are_no_text_in_either_encoding_are_still_refused():
    with pytest.raises(InputError, match="not UTF-8"):
        read(b"ingramPartNumber\n6YE881\x81\x8d\n")


@pytest.mark.slow
def test_the_import_command_takes_delimiter_and_says_the_warnings(cli, tmp_path):
    path = tmp_path / "shop.csv"
    path.write_bytes(
        "Part\n6YE881\n4A0036\n".encode("cp1252") + "123512;Mémoire\n".encode("cp1252")
    )
    result = cli.run("products", "import", str(path), "--delimiter", ";")
    assert result.code == 0, result
    assert "added 3, already tracked 0, rejected 0" in result.out
    assert "Windows-1252" in result.err
    assert "PART" not in cli.run("products", "list").out
    refused = cli.run("products", "import", str(path), "--delimiter", ";;")
    assert refused.code == 2 and "--delimiter" in refused.err
