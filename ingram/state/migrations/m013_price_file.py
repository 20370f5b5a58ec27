"""Migration 13: the price file's catalog (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(13)
def price_file(db: sqlite3.Connection) -> None:
    """``catalog``: every product Ingram's price file offers, tracked or not, with the
    file's date; ``catalog_loads``: each file loaded, where from and what it did.

    ``catalog`` is kept in part-number order (WITHOUT ROWID): one B-tree, not a table
    and its key's index, so a million-line file is stored in measurably less time.

    Products learn where their price and stock came from and when (``price_source``,
    ``price_as_of``, ``stock_source``, ``stock_as_of``); what is already stored is
    attributed to the P&A answer or the pushed stock that wrote it.
    """
    for column in ("price_source", "price_as_of", "stock_source", "stock_as_of"):
        db.execute(f"ALTER TABLE products ADD COLUMN {column} TEXT")
    execute_statements(
        db,
        """
        UPDATE products SET price_source = 'sync', price_as_of = pa_synced_at
        WHERE pa_synced_at IS NOT NULL AND customer_price IS NOT NULL;
        UPDATE products SET
            stock_source = CASE WHEN stock_pushed_at > COALESCE(pa_synced_at, '')
                THEN 'webhook' ELSE 'sync' END,
            stock_as_of = CASE WHEN stock_pushed_at > COALESCE(pa_synced_at, '')
                THEN stock_pushed_at ELSE pa_synced_at END
        WHERE total_availability IS NOT NULL;

        CREATE TABLE catalog_loads (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            layout TEXT NOT NULL,
            kind TEXT NOT NULL,
            file_date TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            lines INTEGER NOT NULL,
            products INTEGER NOT NULL,
            added INTEGER,
            changed INTEGER,
            deleted INTEGER,
            tracked_changes INTEGER NOT NULL
        );

        CREATE TABLE catalog (
            ingram_part_number TEXT PRIMARY KEY,
            vendor_number TEXT,
            vendor_name TEXT,
            description TEXT,
            vendor_part_number TEXT,
            upc TEXT,
            category TEXT,
            customer_price TEXT,
            retail_price TEXT,
            currency TEXT,
            available INTEGER,
            quantity INTEGER,
            expected_at TEXT,
            status TEXT NOT NULL,
            substitute_part_number TEXT,
            weight TEXT,
            length TEXT,
            width TEXT,
            height TEXT,
            price_changed INTEGER,
            special_price INTEGER,
            new_item INTEGER,
            cpu_code TEXT,
            media_type TEXT,
            file_date TEXT NOT NULL,
            load_id INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX catalog_vendor ON catalog(vendor_name COLLATE NOCASE)
        """,
    )
