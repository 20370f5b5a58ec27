"""Migration 1: create tables (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


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
