"""Migration 14: a run's answers by endpoint and status (shipped migrations are history)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(14)
def answers_by_status(db: sqlite3.Connection) -> None:
    """Every answer of a run counted by endpoint and HTTP status (JSON: ``{"details":
    {"200": 9, "404": 1}}``), and its catalog search calls beside its P&A and details."""
    execute_statements(
        db,
        """
        ALTER TABLE runs ADD COLUMN search_requests INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN answers TEXT
        """,
    )
