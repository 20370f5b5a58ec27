"""Migration 16: what a run's workers are waiting for (shipped migrations are history)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import migration


@migration(16)
def run_activity(db: sqlite3.Connection) -> None:
    """``runs.activity``: the retry waits of a running run as JSON, for ``monitor``; NULL when
    none (and once the run has ended)."""
    db.execute("ALTER TABLE runs ADD COLUMN activity TEXT")
