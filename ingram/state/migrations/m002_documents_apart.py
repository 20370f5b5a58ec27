"""Migration 2: documents apart (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3
import zlib

from ingram.state.migrations.registry import migration


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
