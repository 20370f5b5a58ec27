"""Numbered schema migrations, recorded in the database's ``_migrations`` table.

Add a migration by writing a function decorated with ``@migration(N)`` where N
is one more than the last; never edit a migration that has shipped. A database
whose highest recorded migration is above ``LATEST`` came from a newer
ingram-sync and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[int, Migration] = {}


def migration(number: int) -> Callable[[Migration], Migration]:
    """Register ``fn`` as migration ``number``. Example: ``@migration(2) def m2(db): ...``"""

    def register(fn: Migration) -> Migration:
        if number in MIGRATIONS:
            raise ValueError(f"migration {number} registered twice")
        MIGRATIONS[number] = fn
        return fn

    return register


@migration(1)
def create_tables(db: sqlite3.Connection) -> None:
    execute_statements(
        db,
        """
        CREATE TABLE products (
            ingram_part_number TEXT PRIMARY KEY,
            added_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'never_synced',
            vendor_part_number TEXT,
            upc TEXT,
            vendor_name TEXT,
            description TEXT,
            product_class TEXT,
            category TEXT,
            subcategory TEXT,
            product_type TEXT,
            authorized INTEGER,
            customer_price TEXT,
            retail_price TEXT,
            map_price TEXT,
            currency TEXT,
            available INTEGER,
            total_availability INTEGER,
            warehouses TEXT,
            details_status TEXT,
            details_json TEXT,
            pa_synced_at TEXT,
            details_synced_at TEXT,
            last_error TEXT
        );
        CREATE INDEX products_status ON products(status);
        CREATE INDEX products_vendor ON products(vendor_name);
        CREATE INDEX products_category ON products(category);
        CREATE INDEX products_pa_synced ON products(pa_synced_at);
        CREATE INDEX products_details_synced ON products(details_synced_at);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'sync',
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            options TEXT,
            pid INTEGER,
            host TEXT,
            products INTEGER NOT NULL DEFAULT 0,
            pa_batches INTEGER NOT NULL DEFAULT 0,
            pa_batches_done INTEGER NOT NULL DEFAULT 0,
            pa_products_done INTEGER NOT NULL DEFAULT 0,
            not_found INTEGER NOT NULL DEFAULT 0,
            details_total INTEGER NOT NULL DEFAULT 0,
            details_done INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            pa_requests INTEGER NOT NULL DEFAULT 0,
            details_requests INTEGER NOT NULL DEFAULT 0,
            token_requests INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0,
            rate_limited INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX runs_status ON runs(status);

        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            part_numbers TEXT NOT NULL,
            size INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            duration_ms INTEGER,
            error TEXT
        );
        CREATE INDEX tasks_open ON tasks(run_id, kind, state, id);

        CREATE TABLE failures (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            kind TEXT NOT NULL,
            ingram_part_number TEXT NOT NULL,
            error_kind TEXT NOT NULL,
            error TEXT NOT NULL,
            http_status INTEGER,
            attempts INTEGER NOT NULL,
            failed_at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by_run INTEGER
        );
        CREATE UNIQUE INDEX failures_one_open
            ON failures(kind, ingram_part_number) WHERE resolved_at IS NULL;
        CREATE INDEX failures_run ON failures(run_id);

        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            ingram_part_number TEXT NOT NULL,
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            changed_at TEXT NOT NULL
        );
        CREATE INDEX changes_when ON changes(changed_at);
        CREATE INDEX changes_product ON changes(ingram_part_number);
        """,
    )


@migration(2)
def documents_apart(db: sqlite3.Connection) -> None:
    """Details documents move to a table of their own, zlib-compressed, appended in turn.

    Inline, each 2-3 KB document grew its product's row tenfold and made every
    later write of that row (each P&A update) rewrite a page of its own; a
    compressed document takes a third of the space, so several share a page.
    """
    db.execute(
        "CREATE TABLE product_documents (id INTEGER PRIMARY KEY,"
        " ingram_part_number TEXT NOT NULL UNIQUE"
        " REFERENCES products(ingram_part_number) ON DELETE CASCADE,"
        " json_zlib BLOB NOT NULL)"
    )
    rows = db.execute(
        "SELECT ingram_part_number, details_json FROM products"
        " WHERE details_json IS NOT NULL ORDER BY ingram_part_number"
    )
    db.executemany(
        "INSERT INTO product_documents (ingram_part_number, json_zlib) VALUES (?, ?)",
        ((pn, zlib.compress(text.encode())) for pn, text in rows.fetchall()),
    )
    db.execute("ALTER TABLE products DROP COLUMN details_json")


@migration(3)
def drop_unread_indexes(db: sqlite3.Connection) -> None:
    """No query reads these indexes (products are read by part number or status), yet
    every product saved updated them: by measurement 44 % of a full sync's writes."""
    execute_statements(
        db,
        """
        DROP INDEX IF EXISTS products_vendor;
        DROP INDEX IF EXISTS products_category;
        DROP INDEX IF EXISTS products_pa_synced;
        DROP INDEX IF EXISTS products_details_synced
        """,
    )


def execute_statements(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL inside the caller's transaction.

    ``executescript`` would COMMIT the open transaction first, making a
    half-applied migration possible.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


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
    applied = []
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
