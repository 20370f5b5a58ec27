"""What a staged price file tells of tracked products: ``changes`` rows and older prices.

Three sources, one truth. A P&A answer always wins: the file never touches a price
P&A fetched after the file's date, and the next P&A answer replaces any price the
file gave. A product P&A never priced gets no price from the file here (``export
--allow-file-prices`` may show the catalog's, marked as such); nor does the file ever
write stock, which P&A and the Stock Update webhook observe to the minute.

Example::

    with store.write() as db:
        written = apply_to_tracked(db, full=True, file_date="2026-11-02T06:00:00Z")
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ingram.models import Source
from ingram.pricefile.layouts import CatalogStatus
from ingram.state.store import Store

GONE = (CatalogStatus.DISCONTINUED.value, CatalogStatus.DELETED_BY_VENDOR.value)
INSERT_CHANGE = (
    "INSERT INTO changes (ingram_part_number, field, old_value, new_value, changed_at, source)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)

OLDER_PRICES_SQL = """
SELECT p.ingram_part_number, p.customer_price, new.customer_price, new.retail_price
FROM products AS p JOIN catalog_staging AS new ON new.ingram_part_number = p.ingram_part_number
WHERE new.customer_price IS NOT NULL AND p.status = 'active' AND p.price_as_of < ?
"""

STATUS_SQL = """
SELECT p.ingram_part_number, p.discontinued,
    old.ingram_part_number IS NOT NULL AS known, old.status, old.substitute_part_number,
    new.ingram_part_number IS NOT NULL AS listed, new.status, new.substitute_part_number,
    gone.ingram_part_number IS NOT NULL AS deleted
FROM products AS p
LEFT JOIN catalog AS old ON old.ingram_part_number = p.ingram_part_number
LEFT JOIN catalog_staging AS new ON new.ingram_part_number = p.ingram_part_number
LEFT JOIN catalog_deletions AS gone ON gone.ingram_part_number = p.ingram_part_number
WHERE old.ingram_part_number IS NOT NULL OR new.ingram_part_number IS NOT NULL
    OR gone.ingram_part_number IS NOT NULL
"""


def apply_to_tracked(
    db: sqlite3.Connection, full: bool, file_date: str, source: Source = Source.PRICEFILE
) -> int:
    """Write what the staged file changes for tracked products; return the changes rows."""
    changes = older_prices(db, file_date) + status_changes(db, full)
    db.executemany(INSERT_CHANGE, [(*change, file_date, source.value) for change in changes])
    return len(changes)


def older_prices(db: sqlite3.Connection, file_date: str) -> list[tuple[str, str, str, str]]:
    """Give the file's price to active products whose price is older than the file."""
    rows = db.execute(OLDER_PRICES_SQL, (file_date,)).fetchall()
    db.executemany(
        "UPDATE products SET customer_price = ?, retail_price = COALESCE(?, retail_price),"
        " price_source = ?, price_as_of = ? WHERE ingram_part_number = ?",
        [(new, retail, Source.PRICEFILE.value, file_date, pn) for pn, _, new, retail in rows],
    )
    return [(pn, "customer_price", old, new) for pn, old, new, _ in rows if old != new]


def status_changes(db: sqlite3.Connection, full: bool) -> list[tuple[str, str, str | None, str]]:
    """``discontinued`` flips and new substitutes of tracked products the file speaks of."""
    changes: list[tuple[str, str, str | None, str]] = []
    for pn, flag, known, old, old_sub, listed, new, new_sub, deleted in db.execute(STATUS_SQL):
        before = (old in GONE) if known else (None if flag is None else bool(flag))
        if deleted or (full and known and not listed):
            after: bool | None = True  # deleted, or no longer in the whole catalog
        else:
            after = (new in GONE) if listed else None
        if after is not None and before != after and (before is not None or after):
            changes.append((pn, "discontinued", flag_text(before), flag_text(after) or ""))
        if listed and new_sub and new_sub != (old_sub if known else None):
            changes.append((pn, "substitute_part_number", old_sub if known else None, new_sub))
    return changes


def flag_text(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


@dataclass(frozen=True)
class ReplacementFact:
    """A tracked product the price file calls discontinued or deleted, and its substitute."""

    ingram_part_number: str
    status: str
    substitute_part_number: str | None
    file_date: str


def replacement_facts(store: Store) -> list[ReplacementFact]:
    """Tracked products the loaded catalog marks discontinued or deleted by the vendor.

    The seam for the shop exports' discontinued handling and ``track_replacements``:
    call it after a load and hand each fact to the products' own state.
    """
    marks = ", ".join("?" * len(GONE))
    rows = store.db.execute(
        "SELECT c.ingram_part_number, c.status, c.substitute_part_number, c.file_date"
        " FROM catalog AS c JOIN products AS p ON p.ingram_part_number = c.ingram_part_number"
        f" WHERE c.status IN ({marks}) ORDER BY 1",
        GONE,
    )
    return [ReplacementFact(*row) for row in rows]
