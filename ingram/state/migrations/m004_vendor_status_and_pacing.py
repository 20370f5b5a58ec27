"""Migration 4: vendor status and pacing (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(4)
def vendor_status_and_pacing(db: sqlite3.Connection) -> None:
    """Item status as the vendor sent it, and what its rate-limit headers said per run."""
    execute_statements(
        db,
        """
        ALTER TABLE products ADD COLUMN product_status_code TEXT;
        ALTER TABLE products ADD COLUMN product_status_message TEXT;
        ALTER TABLE runs ADD COLUMN pacing TEXT
        """,
    )
