"""Numbered schema migrations, recorded in the database's ``_migrations`` table.

Add a migration as a module ``mNNN_name.py`` beside this one, holding a function
decorated with ``@migration(N)`` where N is one more than the last, and import it
below; never edit a migration that has shipped. A database
whose highest recorded migration is above ``LATEST`` came from a newer
ingram-sync and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3

from ingram.state.migrations import (  # noqa: F401 - each registers itself
    m001_create_tables,
    m002_documents_apart,
    m003_drop_unread_indexes,
    m004_vendor_status_and_pacing,
    m005_webhook_intake,
    m007_shop_columns,
    m008_product_keys,
    m009_child_rows_by_product_number,
    m011_shop_publishing,
    m012_change_versions,
    m013_price_file,
    m014_answers_by_status,
    m015_observations_and_intake,
    m016_run_activity,
    m017_mirror_watches_sources,
)
from ingram.state.migrations.registry import MIGRATIONS, migration

__all__ = ["LATEST", "MIGRATIONS", "migrate", "migration", "recorded_numbers", "recorded_version"]

LATEST = max(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> list[int]:
    """Apply every migration not yet recorded; return the numbers applied.

    Each migration, and ``_migrations`` itself, is created inside one write
    transaction that first re-reads what is recorded: a first run killed at
    any moment leaves either nothing or whole migrations, and processes racing
    on a fresh file apply each migration exactly once.
    """
    if recorded_version(db) and not set(MIGRATIONS) - recorded_numbers(db):
        return []  # up to date: no write lock needed, so a busy database still opens
    applied: list[int] = []
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations"
                " (number INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            pending = sorted(set(MIGRATIONS) - recorded_numbers(db))
            if pending:
                MIGRATIONS[pending[0]](db)
                db.execute(
                    "INSERT INTO _migrations VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (pending[0],),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if not pending:
            return applied
        applied.append(pending[0])


def recorded_numbers(db: sqlite3.Connection) -> set[int]:
    return {row[0] for row in db.execute("SELECT number FROM _migrations")}


def recorded_version(db: sqlite3.Connection) -> int:
    """The highest migration recorded in ``db``, 0 for a new database."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'"
    ).fetchone()
    if not exists:
        return 0
    return db.execute("SELECT COALESCE(MAX(number), 0) FROM _migrations").fetchone()[0]
