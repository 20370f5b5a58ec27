"""Migration 5: webhook intake (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(5)
def webhook_intake(db: sqlite3.Connection) -> None:
    """The Stock Update webhook: seen events, refusals, stock status, and where a change came from.

    ``stock_pushed_at`` is the event time of the last pushed stock applied to a
    product; with ``pa_synced_at`` it decides which observation is newest.
    """
    execute_statements(
        db,
        """
        ALTER TABLE products ADD COLUMN sku_status TEXT;
        ALTER TABLE products ADD COLUMN back_order_flag TEXT;
        ALTER TABLE products ADD COLUMN stock_pushed_at TEXT;
        ALTER TABLE changes ADD COLUMN source TEXT NOT NULL DEFAULT 'sync';
        ALTER TABLE changes ADD COLUMN event_id TEXT;
        CREATE INDEX changes_source ON changes(source, changed_at);

        CREATE TABLE webhook_events (
            event_id TEXT PRIMARY KEY,
            event_time TEXT NOT NULL,
            received_at TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            resources INTEGER NOT NULL,
            applied INTEGER NOT NULL,
            untracked INTEGER NOT NULL,
            stale INTEGER NOT NULL,
            replays INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX webhook_events_applied ON webhook_events(applied_at);

        CREATE TABLE webhook_refusals (
            status INTEGER PRIMARY KEY,
            count INTEGER NOT NULL,
            last_at TEXT NOT NULL
        )
        """,
    )
