"""What a staged price file tells of tracked products: their life, and older prices.

Three sources, one truth. A P&A answer always wins: the file never touches a price
P&A fetched after the file's date, and the next P&A answer replaces any price the
file gave. A product P&A never priced gets no price from the file here (``export
--allow-file-prices`` may show the catalog's, marked as such); nor does the file ever
write stock, which P&A and the Stock Update webhook observe to the minute.

A product's life (discontinued, its replacement) goes the one way every source's
does, ``observe_lifecycle``, source ``pricefile``, at the file's date. The file says
something of a tracked product only when it is news against the catalog it
replaces: a product it lists for the first time, a status that becomes or stops
being discontinued or deleted by the vendor, a substitute the last file did not
name, a D line, or, in a full file, a product the last one listed and this one
leaves out: Ingram no longer offers it, so it is gone as a deleted one is. A
file that repeats itself says nothing, so a sync that has since said otherwise
(the API wins) is not overruled every morning.

Example::

    with store.write() as db:
        written = apply_to_tracked(db, full=True, file_date="2026-11-02T06:00:00.000Z")
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from ingram.models import Lifecycle
from ingram.pricefile.layouts import CatalogStatus
from ingram.state.lifecycle import observe_lifecycle
from ingram.vocab import ChangeSource

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
SELECT p.ingram_part_number, p.discontinued IS NULL AS unsaid,
    p.replacement_part_number IS NULL AS unnamed,
    old.ingram_part_number IS NOT NULL AS known, old.status, old.substitute_part_number,
    old.file_date,
    new.ingram_part_number IS NOT NULL AS listed, new.status, new.substitute_part_number,
    gone.ingram_part_number IS NOT NULL AS deleted
FROM products AS p
LEFT JOIN catalog AS old ON old.ingram_part_number = p.ingram_part_number
LEFT JOIN catalog_staging AS new ON new.ingram_part_number = p.ingram_part_number
LEFT JOIN catalog_deletions AS gone ON gone.ingram_part_number = p.ingram_part_number
WHERE old.ingram_part_number IS NOT NULL OR new.ingram_part_number IS NOT NULL
    OR gone.ingram_part_number IS NOT NULL
"""

Observations = dict[str, list[Lifecycle]]  # the date they were said at -> what was said


def apply_to_tracked(db: sqlite3.Connection, full: bool, file_date: str) -> int:
    """Give tracked products what the staged file says; return the ``changes`` rows written.

    Call inside the load's transaction, before the staged file takes the catalog's place.
    """
    (first,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()
    prices = older_prices(db, file_date)
    source = ChangeSource.PRICEFILE
    db.executemany(INSERT_CHANGE, [(*change, file_date, source) for change in prices])
    earlier, news = lifecycle_news(db, full)
    for date, seen in earlier.items():
        observe_lifecycle(db, seen, source, date)
    observe_lifecycle(db, news, source, file_date)
    return int(db.execute("SELECT COUNT(*) FROM changes WHERE id > ?", (first,)).fetchone()[0])


def older_prices(db: sqlite3.Connection, file_date: str) -> list[tuple[str, str, str, str]]:
    """Give the file's price to active products whose price is older than the file;
    (part number, field, old, new) of each that moved."""
    rows = db.execute(OLDER_PRICES_SQL, (file_date,)).fetchall()
    db.executemany(
        "UPDATE products SET customer_price = ?, retail_price = COALESCE(?, retail_price),"
        " price_source = ?, price_as_of = ? WHERE ingram_part_number = ?",
        [(new, retail, ChangeSource.PRICEFILE, file_date, pn) for pn, _, new, retail in rows],
    )
    return [(pn, "customer_price", old, new) for pn, old, new, _ in rows if old != new]


def lifecycle_news(db: sqlite3.Connection, full: bool) -> tuple[Observations, list[Lifecycle]]:
    """(the catalog's earlier word, by its date, on tracked products whose life has no word
    yet; what the staged file newly says of tracked products).

    The earlier word comes first: it is what the last file said, and without it a first
    word would be no flip, so a product tracked since then and now deleted would show
    no ``discontinued`` change.
    """
    earlier: Observations = defaultdict(list)
    news: list[Lifecycle] = []
    for row in db.execute(STATUS_SQL):
        pn, unsaid, unnamed, known, old, old_sub, old_date, listed, new, new_sub, deleted = row
        was = (old in GONE) if known else None
        if known and unsaid:
            earlier[old_date].append(Lifecycle(pn, was))
        if deleted or (full and known and not listed):
            now, substitute = True, None  # removed, or no longer in the whole catalog
        elif listed:
            now, substitute = new in GONE, new_sub
        else:
            continue  # a file of changes that does not speak of it
        named = substitute if substitute and (substitute != old_sub or unnamed) else None
        if now != was or named:
            news.append(Lifecycle(pn, now if now != was else None, named))
    return earlier, news
