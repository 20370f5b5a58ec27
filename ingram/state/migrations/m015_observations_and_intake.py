"""Migration 15: stock observations, webhook intake counters, run timings kept
(shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration

NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


@migration(15)
def observations_and_intake(db: sqlite3.Connection) -> None:
    """``products.stock_observed_at``: when the stock a product holds was observed, by P&A
    (its answer's arrival) or by a pushed event (its bounded time). A newer observation
    from either replaces it, an older one does not: one rule in both directions. Filled
    from the newer of the two times kept before, none later than now (an event stamped in
    the year 2999 froze its product's pushed stock for good).

    ``webhook_events.skipped``: resources of an event that could not be applied.
    ``webhook_counters``: events of other topics ignored, events set aside by the writer.
    ``runs.stream_timings``: a finished run's per-stream counts and times (JSON), kept
    when its done tasks are dropped.
    """
    execute_statements(
        db,
        f"""
        ALTER TABLE products ADD COLUMN stock_observed_at TEXT;
        UPDATE products SET stock_pushed_at = {NOW} WHERE stock_pushed_at > {NOW};
        UPDATE products SET stock_observed_at = MAX(COALESCE(pa_synced_at, ''),
            COALESCE(stock_pushed_at, ''))
            WHERE COALESCE(pa_synced_at, stock_pushed_at) IS NOT NULL;
        UPDATE products SET stock_observed_at = {NOW} WHERE stock_observed_at > {NOW};
        ALTER TABLE webhook_events ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE webhook_counters (
            name TEXT PRIMARY KEY,
            count INTEGER NOT NULL,
            last_at TEXT NOT NULL
        );
        ALTER TABLE runs ADD COLUMN stream_timings TEXT
        """,
    )
