"""Migration 8: product keys (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(8)
def product_keys(db: sqlite3.Connection) -> None:
    """The keys resellers track products by, and the one each product was added by."""
    db.execute("ALTER TABLE products ADD COLUMN user_key_type TEXT")
    db.execute("ALTER TABLE products ADD COLUMN user_key TEXT")
    execute_statements(
        db,
        """
        CREATE TABLE product_keys (
            id INTEGER PRIMARY KEY,
            key_type TEXT NOT NULL,
            key_value TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'unresolved',
            ingram_part_number TEXT,
            candidates TEXT,
            message TEXT,
            added_at TEXT NOT NULL,
            resolved_at TEXT,
            UNIQUE (key_type, key_value)
        );
        CREATE INDEX product_keys_status ON product_keys(status)
        """,
    )
