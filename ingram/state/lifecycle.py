"""A product's life: since when it is gone, and the part number Ingram names to replace it.

A product is *gone* while Ingram marks it discontinued (details
``indicators.isDiscontinuedProduct``, search ``discontinued``) or P&A no longer
finds it; ``products.discontinued_since`` holds when that was first seen and is
cleared when it comes back. Its replacement (search ``replacementSku``, the price
file's substitute part number) is ``products.replacement_part_number``; each new
one is a ``changes`` row (field ``replacement``). The price file says discontinued
of a product it marks discontinued or deleted by the vendor, deletes (a D line) or,
as a full file, no longer lists (``ingram.pricefile.tracked``).

Every source feeds this one way, ``observe_lifecycle``; the sync's own saves call
``refresh_discontinued_since`` for the products they wrote. Example, the price file::

    with store.write() as db:
        observe_lifecycle(db, [Lifecycle("6YE881", True, "9AB123")], ChangeSource.PRICEFILE)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from ingram.clock import utc_now
from ingram.inputs import valid_part_number
from ingram.models import Lifecycle
from ingram.state.products import add_products
from ingram.state.store import Store, batched
from ingram.vocab import ChangeSource

CHUNK = 500  # part numbers per statement: well below SQLite's bound-parameter limit
GONE = "(COALESCE(discontinued, 0) = 1 OR status = 'not_found')"


def refresh_discontinued_since(db: sqlite3.Connection, pns: Sequence[str], now: str) -> None:
    """Set ``discontinued_since`` of the products in ``pns`` that just went, clear it of
    those that came back; either way their replacement is to be asked again.

    Only rows whose state changed are written, so a routine re-sync rewrites nothing here.
    """
    for chunk in batched(pns, CHUNK):
        db.execute(
            f"UPDATE products SET discontinued_since = CASE WHEN {GONE} THEN ? END,"
            " replacement_checked_at = NULL"
            f" WHERE ingram_part_number IN ({','.join('?' * len(chunk))})"
            f" AND {GONE} = (discontinued_since IS NULL)",
            (now, *chunk),
        )


def observe_lifecycle(
    db: sqlite3.Connection,
    observations: Sequence[Lifecycle],
    source: ChangeSource,
    now: str | None = None,
    run_id: int | None = None,
) -> int:
    """Record what a source says of tracked products: discontinued or not, and their
    replacement; a ``changes`` row for each flip and each new replacement. Returns how many
    products changed. Untracked part numbers, and replacements that are not part numbers
    (vendor text is data) or name the product itself, are ignored.

    Call inside the caller's write transaction (``store.write()``).
    """
    now = now or utc_now()
    changed = 0
    for chunk in batched(observations, CHUNK):
        stored = _stored(db, [seen.ingram_part_number for seen in chunk])
        rows: list[tuple[object, ...]] = []
        for seen in chunk:
            before = stored.get(seen.ingram_part_number)
            updates = [] if before is None else _updates(seen, before)
            for column, old, new in updates:
                db.execute(
                    f"UPDATE products SET {column} = ? WHERE ingram_part_number = ?",
                    (new, seen.ingram_part_number),
                )
                if column == "replacement_part_number":  # the first one named is news too
                    rows.append((seen.ingram_part_number, "replacement", old, new))
                elif old is not None:  # a first word is no flip
                    rows.append((seen.ingram_part_number, column, _flag(old), _flag(new)))
            changed += bool(updates)
        db.executemany(
            "INSERT INTO changes (run_id, ingram_part_number, field, old_value, new_value,"
            " changed_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, *row, now, source) for row in rows],
        )
        refresh_discontinued_since(db, list(stored), now)
    return changed


def _stored(db: sqlite3.Connection, pns: Sequence[str]) -> dict[str, sqlite3.Row]:
    marks = ",".join("?" * len(pns))
    sql = (
        "SELECT ingram_part_number, discontinued, replacement_part_number FROM products"
        f" WHERE ingram_part_number IN ({marks})"
    )
    return {row[0]: row for row in db.execute(sql, tuple(pns))}


def _updates(seen: Lifecycle, before: sqlite3.Row) -> list[tuple[str, Any, Any]]:
    """(column, stored value, new value) of each column ``seen`` changes."""
    updates: list[tuple[str, Any, Any]] = []
    if seen.discontinued is not None and before["discontinued"] != int(seen.discontinued):
        updates.append(("discontinued", before["discontinued"], int(seen.discontinued)))
    replacement = (seen.replacement or "").strip().upper()
    if (
        valid_part_number(replacement)
        and replacement != seen.ingram_part_number
        and replacement != before["replacement_part_number"]
    ):
        updates.append(("replacement_part_number", before["replacement_part_number"], replacement))
    return updates


def _flag(stored: int) -> str:
    """A flag as ``changes`` keeps it (see ``history.change_value``)."""
    return "true" if stored else "false"


def replaced_products(store: Store) -> list[dict[str, Any]]:
    """Products Ingram names a replacement for, with whether that one is tracked too."""
    sql = (
        "SELECT p.ingram_part_number, p.description, p.status, p.discontinued,"
        " p.discontinued_since, p.replacement_part_number,"
        " EXISTS (SELECT 1 FROM products r"
        "  WHERE r.ingram_part_number = p.replacement_part_number) AS replacement_tracked"
        " FROM products p WHERE p.replacement_part_number IS NOT NULL"
        " ORDER BY p.ingram_part_number"
    )
    rows = [dict(row) for row in store.db.execute(sql)]
    for row in rows:
        row["replacement_tracked"] = bool(row["replacement_tracked"])
        if row["discontinued"] is not None:
            row["discontinued"] = bool(row["discontinued"])
    return rows


def track_replacements(store: Store) -> list[tuple[str, str]]:
    """Track every replacement not tracked yet; (product, its replacement) for each added."""
    pairs = [
        (row["ingram_part_number"], row["replacement_part_number"])
        for row in replaced_products(store)
        if not row["replacement_tracked"]
    ]
    add_products(store, dict.fromkeys(new for _, new in pairs))
    return pairs


def replacement_lookups(store: Store, limit: int) -> list[tuple[str, str]]:
    """(part number, vendor part number) of gone products whose replacement was never asked
    (a catalog search by vendor part number answers ``replacementSku``)."""
    sql = (
        "SELECT ingram_part_number, vendor_part_number FROM products"
        " WHERE discontinued_since IS NOT NULL AND replacement_part_number IS NULL"
        " AND replacement_checked_at IS NULL AND vendor_part_number IS NOT NULL"
        " ORDER BY rowid LIMIT ?"
    )
    return [(row[0], row[1]) for row in store.db.execute(sql, (limit,))]


def mark_replacements_checked(db: sqlite3.Connection, pns: Sequence[str], now: str) -> None:
    """Remember that a search was asked for these products' replacements."""
    for chunk in batched(pns, CHUNK):
        db.execute(
            "UPDATE products SET replacement_checked_at = ?"
            f" WHERE ingram_part_number IN ({','.join('?' * len(chunk))})",
            (now, *chunk),
        )
