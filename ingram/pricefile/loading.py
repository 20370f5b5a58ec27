"""Loading a price file into the ``catalog`` table, and what it tells of tracked products.

Every line is checked and written into a staging table in short commits; only a
whole file that fits its layout gets further. Then one transaction does the rest:
a full file replaces ``catalog`` (the staging table takes its place), a file of
changes applies its A/C/D lines; what the file newly says of tracked products'
life (discontinued or deleted, a substitute) goes into their lifecycle, with its
``changes`` rows (source ``pricefile``, see ``tracked``), and a P&A price older than
the file takes the file's price. A load killed at any point leaves the
old catalog as it was; the next load drops the leftover staging table.

Example::

    result = load_price_file(store, Path("PRICE.ZIP"), source="PRICE.ZIP")
    print(result.products, result.tracked_changes)
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ingram.clock import utc_now
from ingram.errors import LockedError, PriceFileRefused
from ingram.pricefile.layouts import CATALOG_COLUMNS, Action
from ingram.pricefile.reader import PriceFile, open_price_file
from ingram.pricefile.tracked import apply_to_tracked
from ingram.state.lock import SyncLock
from ingram.state.store import WRITE_CHUNK, Store, batched

STAGING = "catalog_staging"
DELETIONS = "catalog_deletions"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # format_time's


class LoadKind(StrEnum):
    FULL = "full"  # the whole catalog: replaces the table
    CHANGES = "changes"  # A/C/D lines applied to the table


@dataclass(frozen=True)
class LoadResult:
    """What one load did; ``tracked_changes`` counts the ``changes`` rows it wrote."""

    load_id: int
    source: str
    layout: str
    kind: LoadKind
    file_date: str
    lines: int
    products: int
    added: int | None  # None for a full file: not compared row by row with the old catalog
    changed: int | None
    deleted: int | None
    tracked_changes: int


def load_refused(holder: int | None) -> LockedError:
    return LockedError(
        f"another `catalog load` (pid {holder or '?'}) is loading into this database;"
        " wait for it to finish, then try again",
        holder_pid=holder,
    )


def catalog_lock(db_path: Path) -> SyncLock:
    """One load at a time per database: a lock of its own, so a sync is not held up."""
    return SyncLock(db_path, ".catalog-lock", load_refused)


def load_price_file(
    store: Store,
    path: Path,
    *,
    source: str,
    kind: LoadKind | None = None,
    date: str | None = None,
) -> LoadResult:
    """Check and load the price file at ``path``; ``kind`` None decides from its lines."""
    if date is not None and not ISO_TIME.fullmatch(date):
        raise ValueError(f"file date {date!r} is not UTC ISO-8601 with milliseconds")
    with catalog_lock(store.path), open_price_file(path, Path(source).name or None) as price_file:
        started = utc_now()
        file_date = date or price_file.file_date
        load_id = next_load_id(store)
        create_staging(store)
        try:
            lines, deleted = stage(store, price_file, load_id, file_date)
            chosen = choose_kind(store, kind, price_file, deleted)
            with store.write() as db:
                products, added, changed, removed = count_differences(db, chosen)
                tracked = apply_to_tracked(db, chosen == LoadKind.FULL, file_date)
                swap(db, chosen)
                result = LoadResult(
                    load_id, source, price_file.layout.label, chosen, file_date, lines,
                    products, added, changed, removed, tracked,
                )  # fmt: skip
                record_load(db, result, started)
        finally:
            drop_staging(store)
    return result


def next_load_id(store: Store) -> int:
    row = store.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM catalog_loads").fetchone()
    return int(row[0])


def create_staging(store: Store) -> None:
    """Empty staging tables shaped as ``catalog`` is (its own SQL, renamed), leftovers gone."""
    with store.write() as db:
        drop_tables(db)
        (sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'catalog'"
        ).fetchone()
        db.execute(re.sub(r"^CREATE TABLE \"?catalog\"?", f"CREATE TABLE {STAGING}", sql))
        db.execute(f"CREATE TABLE {DELETIONS} (ingram_part_number TEXT PRIMARY KEY)")


def drop_tables(db: sqlite3.Connection) -> None:
    db.execute(f"DROP TABLE IF EXISTS {STAGING}")
    db.execute(f"DROP TABLE IF EXISTS {DELETIONS}")


def drop_staging(store: Store) -> None:
    try:
        with store.write() as db:
            drop_tables(db)
    except sqlite3.Error:
        pass  # the next load drops them first; the load's own error is the one to show


def stage(store: Store, price_file: PriceFile, load_id: int, file_date: str) -> tuple[int, int]:
    """Every line checked and staged, a commit per chunk; return (lines, D lines).

    (A thread reading ahead was measured: the interpreter lock kept the two apart,
    and the load took more CPU for the same time.)
    """
    given = set(price_file.layout.fills)
    values = ", ".join("?" if column in given else "NULL" for column in CATALOG_COLUMNS)
    insert = f"INSERT OR REPLACE INTO {STAGING} VALUES ({values}, '{file_date}', {int(load_id)})"
    delete = f"INSERT OR IGNORE INTO {DELETIONS} VALUES (?)"
    lines = deleted = 0
    for chunk in batched(price_file.rows(), WRITE_CHUNK):
        lines += len(chunk)
        gone = [(row[0],) for action, row in chunk if action == Action.DELETE]
        # a list, not a generator: measurably less per row; D lines only in a changes file
        if gone:
            kept = [row for action, row in chunk if action != Action.DELETE]
        else:
            kept = [row for _, row in chunk]
        with store.write() as db:
            db.executemany(insert, kept)
            db.executemany(delete, gone)
        deleted += len(gone)
    return lines, deleted


def choose_kind(
    store: Store, kind: LoadKind | None, price_file: PriceFile, deleted: int
) -> LoadKind:
    """The kind asked for; else changes when the file deletes, full when it does not.

    A full file that would keep less than half of the catalog is more likely a file
    of changes without deletions: it is refused until the user says which it is.
    """
    if kind is not None:
        if kind == LoadKind.FULL and deleted:
            raise PriceFileRefused(
                f"{price_file.name} deletes {deleted} products (D lines): it is a file of"
                " changes, not the whole catalog; load it without --full"
            )
        return kind
    if deleted:
        return LoadKind.CHANGES
    before = store.db.execute("SELECT COUNT(*) FROM catalog").fetchone()[0]
    after = store.db.execute(f"SELECT COUNT(*) FROM {STAGING}").fetchone()[0]
    if after * 2 < before:
        raise PriceFileRefused(
            f"{price_file.name} holds {after} products where the catalog has {before}: if it"
            " is the whole catalog, load it with --full; if it holds only changes, with"
            " --changes; nothing was loaded"
        )
    return LoadKind.FULL


def count_differences(
    db: sqlite3.Connection, kind: LoadKind
) -> tuple[int, int | None, int | None, int | None]:
    """(products after, added, changed, deleted) of this load, before it is applied.

    A full file is not compared row by row with the catalog it replaces: that join
    cost a fifth of a million-line load (measured); its three counts are None.
    """
    staged = db.execute(f"SELECT COUNT(*) FROM {STAGING}").fetchone()[0]
    if kind == LoadKind.FULL:
        return staged, None, None, None
    common, changed = db.execute(
        "SELECT COUNT(*), COALESCE(SUM("
        "new.customer_price IS NOT old.customer_price OR new.retail_price IS NOT old.retail_price"
        " OR new.status IS NOT old.status OR new.available IS NOT old.available"
        " OR new.quantity IS NOT old.quantity), 0)"
        f" FROM {STAGING} AS new JOIN catalog AS old USING (ingram_part_number)"
    ).fetchone()
    before = db.execute("SELECT COUNT(*) FROM catalog").fetchone()[0]
    gone = db.execute(
        f"SELECT COUNT(*) FROM {DELETIONS} JOIN catalog USING (ingram_part_number)"
    ).fetchone()[0]
    return before + staged - common - gone, staged - common, changed, gone


def swap(db: sqlite3.Connection, kind: LoadKind) -> None:
    """Apply the staged file inside the caller's transaction."""
    if kind == LoadKind.CHANGES:
        db.execute(f"INSERT OR REPLACE INTO catalog SELECT * FROM {STAGING}")
        db.execute(
            "DELETE FROM catalog WHERE ingram_part_number IN"
            f" (SELECT ingram_part_number FROM {DELETIONS})"
        )
        return
    indexes = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'catalog'"
            " AND sql IS NOT NULL"
        )
    ]
    db.execute("DROP TABLE catalog")
    db.execute(f"ALTER TABLE {STAGING} RENAME TO catalog")
    for sql in indexes:
        db.execute(sql)


def record_load(db: sqlite3.Connection, result: LoadResult, started: str) -> None:
    db.execute(
        "INSERT INTO catalog_loads (id, source, layout, kind, file_date, started_at, finished_at,"
        " lines, products, added, changed, deleted, tracked_changes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            result.load_id,
            result.source,
            result.layout,
            result.kind.value,
            result.file_date,
            started,
            utc_now(),
            result.lines,
            result.products,
            result.added,
            result.changed,
            result.deleted,
            result.tracked_changes,
        ),
    )
