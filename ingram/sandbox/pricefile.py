"""The sandbox's price file: its own catalog written as Ingram writes PRICE.ZIP (or Europe's CSV).

Written here from the catalog alone, with no help from ``ingram.pricefile`` (the
sandbox never imports the client's side): the two agree only through the file, as
a reseller's importer and Ingram do. Faults for tests: a foreign layout (fields
moved), a ZIP cut short, a file of changes only.

Example::

    path = write_price_file(catalog, folder, PriceFileOptions(layout="us"))
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .catalog import Catalog, encode_part_number
from .vocabulary import CATEGORIES

CATEGORY_NAMES = tuple(sorted(CATEGORIES))
EUROPE_HEADER = (
    "SKU;Vendor Part Number;Vendor Name;Vendor Number;Description;Price;Retail Price;Currency;"
    "Stock;Expected Delivery Date;EAN;Category;Discontinued"
)


class FileLayout(StrEnum):
    US = "us"  # PRICE.ZIP holding PRICE.TXT, 23 quoted comma-separated fields
    EUROPE = "europe"  # PRICE.CSV: a header row, semicolons, decimal commas


@dataclass(frozen=True)
class PriceFileOptions:
    layout: FileLayout = FileLayout.US
    changes_only: bool = False  # C lines for products whose price moved, D lines, no others
    foreign: bool = False  # the vendor part number and the customer price change places
    truncated: bool = False  # the ZIP is cut short: no importer may load it


def category_code(category: str, subcategory: str) -> str:
    """A US category/subcategory code: two digits each, from the vocabulary's order."""
    major = CATEGORY_NAMES.index(category) + 1
    minor = CATEGORIES[category].index(subcategory) + 1
    return f"{major:02d}{minor:02d}"


def status_of(catalog: Catalog, index: int) -> tuple[str, str]:
    """(status code, substitute part number): discontinued ones point at the next product."""
    if catalog.discontinued(index):
        return "*", encode_part_number((index + 1) % max(catalog.size, 1))
    return ("N", "") if index % 97 == 5 else (" ", "")


def us_fields(catalog: Catalog, index: int, action: str, foreign: bool) -> list[str]:
    pn, vpn, description, upc = catalog.identity(index)
    vendor, vendor_number, _, _ = catalog.vendor_of(index)
    category, subcategory = catalog.category_of(index)
    item = catalog.price_availability_item(pn)
    pricing = item.get("pricing") or item["availability"]["pricing"]
    status, substitute = status_of(catalog, index)
    words = description.split(" ", 2)
    fields = [
        action, pn, vendor_number, vendor, " ".join(words[:2]), words[2] if len(words) > 2 else "",
        f"{pricing['retailPrice']:010.2f}", vpn, "001.50", upc, "010.00", "008.00", "003.00",
        "Y" if catalog.stock_changed(index) else "N",
        f"{pricing['customerPrice']:010.2f}", "N",
        "Y" if item["availability"]["totalAvailability"] > 0 else "N", status, "", "HW",
        category_code(category, subcategory), "Y" if index % 41 == 0 else "N", substitute,
    ]  # fmt: skip
    if foreign:
        fields[7], fields[14] = fields[14], fields[7]
    return fields


def europe_fields(catalog: Catalog, index: int) -> list[str]:
    pn, vpn, description, upc = catalog.identity(index)
    vendor, vendor_number, _, _ = catalog.vendor_of(index)
    category, _ = catalog.category_of(index)
    item = catalog.price_availability_item(pn)
    pricing = item.get("pricing") or item["availability"]["pricing"]
    stock = item["availability"]["totalAvailability"]
    return [
        pn, vpn, vendor, vendor_number, description.replace(";", ","),
        f"{pricing['customerPrice']:.2f}".replace(".", ","),
        f"{pricing['retailPrice']:.2f}".replace(".", ","), "EUR", str(stock),
        "" if stock else "2026-12-15", upc, category, "Y" if catalog.discontinued(index) else "N",
    ]  # fmt: skip


def quoted(fields: list[str]) -> str:
    return ",".join('"' + field.replace('"', '""') + '"' for field in fields) + "\r\n"


def price_file_lines(catalog: Catalog, options: PriceFileOptions) -> Iterator[str]:
    """The file's lines, a product at a time (memory stays flat for any catalog size)."""
    if options.layout == FileLayout.EUROPE:
        yield EUROPE_HEADER + "\r\n"
        for index in range(catalog.size):
            yield ";".join(europe_fields(catalog, index)) + "\r\n"
        return
    for index in range(catalog.size):
        if not options.changes_only:
            yield quoted(us_fields(catalog, index, "A", options.foreign))
        elif index % 50 == 49:
            yield quoted(us_fields(catalog, index, "D", options.foreign))
        elif catalog.stock_changed(index):
            yield quoted(us_fields(catalog, index, "C", options.foreign))


def write_price_file(catalog: Catalog, folder: Path, options: PriceFileOptions) -> Path:
    """PRICE.ZIP (holding PRICE.TXT) or, for Europe, PRICE.CSV, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if options.layout == FileLayout.EUROPE:
        path = folder / "PRICE.CSV"
        with path.open("w", encoding="utf-8", newline="") as out:
            out.writelines(price_file_lines(catalog, options))
        return path
    path = folder / "PRICE.ZIP"
    member_info = zipfile.ZipInfo("PRICE.TXT", date_time=time.gmtime()[:6])
    member_info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive, archive.open(member_info, "w") as member:
        for line in price_file_lines(catalog, options):
            member.write(line.encode("cp1252", errors="replace"))
    if options.truncated:
        size = path.stat().st_size
        with path.open("r+b") as raw:
            raw.truncate(max(size * 6 // 10, 1))
    return path
