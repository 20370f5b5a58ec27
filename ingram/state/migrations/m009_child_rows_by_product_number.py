"""Migration 9: child rows by product number (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(9)
def child_rows_by_product_number(db: sqlite3.Connection) -> None:
    """Each product gets a number (``seq``) in the order it was added; its documents,
    warehouses, discounts and specs are kept in that order, keyed by it.

    A sync saves products in the order they were added, and part numbers come in no
    order: each commit of fifty details results inserted into fifty scattered pages of
    every part-number index. Keyed by the number, each table grows at its end and
    needs no index of its own. The part number stays in each row for queries by hand.
    """
    execute_statements(
        db,
        """
        ALTER TABLE products ADD COLUMN seq INTEGER;
        UPDATE products SET seq = rowid;
        CREATE UNIQUE INDEX products_seq ON products(seq);

        CREATE TABLE documents_by_number (
            product_seq INTEGER PRIMARY KEY REFERENCES products(seq) ON DELETE CASCADE,
            ingram_part_number TEXT NOT NULL,
            json_zlib BLOB NOT NULL
        );
        INSERT INTO documents_by_number
        SELECT products.seq, old.ingram_part_number, old.json_zlib
        FROM product_documents AS old JOIN products USING (ingram_part_number);

        CREATE TABLE warehouses_by_number (
            product_seq INTEGER NOT NULL REFERENCES products(seq) ON DELETE CASCADE,
            ingram_part_number TEXT NOT NULL,
            warehouse_id TEXT NOT NULL,
            location TEXT,
            quantity_available INTEGER,
            quantity_backordered INTEGER,
            quantity_on_order INTEGER,
            backorder_eta TEXT,
            backorder_info TEXT,
            PRIMARY KEY (product_seq, warehouse_id)
        ) WITHOUT ROWID;
        INSERT INTO warehouses_by_number
        SELECT products.seq, old.ingram_part_number, old.warehouse_id, old.location,
            old.quantity_available, old.quantity_backordered, old.quantity_on_order,
            old.backorder_eta, old.backorder_info
        FROM product_warehouses AS old JOIN products USING (ingram_part_number);

        CREATE TABLE discounts_by_number (
            product_seq INTEGER NOT NULL REFERENCES products(seq) ON DELETE CASCADE,
            ingram_part_number TEXT NOT NULL,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            discount_type TEXT,
            bid_number TEXT,
            amount TEXT,
            quantity INTEGER,
            available_quantity INTEGER,
            effective_date TEXT,
            expiration_date TEXT,
            currency TEXT,
            description TEXT,
            PRIMARY KEY (product_seq, position)
        ) WITHOUT ROWID;
        INSERT INTO discounts_by_number
        SELECT products.seq, old.ingram_part_number,
            ROW_NUMBER() OVER (PARTITION BY old.ingram_part_number ORDER BY old.id),
            old.kind, old.discount_type, old.bid_number, old.amount, old.quantity,
            old.available_quantity, old.effective_date, old.expiration_date, old.currency,
            old.description
        FROM product_discounts AS old JOIN products USING (ingram_part_number);

        CREATE TABLE specs_by_number (
            product_seq INTEGER NOT NULL REFERENCES products(seq) ON DELETE CASCADE,
            ingram_part_number TEXT NOT NULL,
            position INTEGER NOT NULL,
            header TEXT,
            name TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (product_seq, position)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO specs_by_number
        SELECT products.seq, old.ingram_part_number, old.position, old.header, old.name,
            old.value
        FROM product_specs AS old JOIN products USING (ingram_part_number)
        """,
    )
    for table in ("documents", "warehouses", "discounts", "specs"):
        db.execute(f"DROP TABLE product_{table}")
        db.execute(f"ALTER TABLE {table}_by_number RENAME TO product_{table}")
    # ingram-sync gives the number as it inserts; a product added by hand gets one too
    db.execute(
        "CREATE TRIGGER products_numbered AFTER INSERT ON products WHEN NEW.seq IS NULL"
        " BEGIN UPDATE products SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM products)"
        " WHERE rowid = NEW.rowid; END"
    )
