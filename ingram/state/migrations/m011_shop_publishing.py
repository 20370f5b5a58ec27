"""Migration 11: shop publishing (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(11)
def shop_publishing(db: sqlite3.Connection) -> None:
    """What the shop exports need: since when a product is gone (discontinued, or no longer
    found by P&A), the part number Ingram names to replace it, and per export target what
    was last published of each product (its shop SKU, price, stock and whether listed).

    The publish state is keyed by part number first, so removing a product finds its rows
    by the key instead of scanning every target's.
    """
    execute_statements(
        db,
        """
        ALTER TABLE products ADD COLUMN discontinued_since TEXT;
        ALTER TABLE products ADD COLUMN replacement_part_number TEXT;
        ALTER TABLE products ADD COLUMN replacement_checked_at TEXT;
        CREATE INDEX products_replaced ON products(replacement_part_number)
            WHERE replacement_part_number IS NOT NULL;

        CREATE TABLE publish_state (
            ingram_part_number TEXT NOT NULL
                REFERENCES products(ingram_part_number) ON DELETE CASCADE,
            target TEXT NOT NULL,
            sku TEXT NOT NULL,
            price TEXT,
            stock INTEGER NOT NULL,
            listed INTEGER NOT NULL,
            published_at TEXT NOT NULL,
            PRIMARY KEY (ingram_part_number, target)
        ) WITHOUT ROWID
        """,
    )
