"""Migration 7: shop columns (shipped migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.registry import execute_statements, migration


@migration(7)
def shop_columns(db: sqlite3.Connection) -> None:
    """What a shop needs: P&A flags, details indicators and sizes, stock per warehouse,
    discounts and the spec table. Existing warehouse stock moves from the products
    row's JSON into its table.

    Child rows live in rowid tables, appended in the order a sync saves them, with
    a narrow index by part number: clustered by part number, every product saved
    rewrote a page of its own in each commit (half of a full sync's writes).
    """
    for column in (
        "accept_back_order INTEGER",
        "end_user_info_required INTEGER",
        "bundle_part INTEGER",
        "backorder_eta TEXT",
        "shop_synced_at TEXT",
        "discontinued INTEGER",
        "new_product INTEGER",
        "backorder_allowed INTEGER",
        "direct_ship INTEGER",
        "has_warranty INTEGER",
        "weight TEXT",
        "weight_unit TEXT",
        "height TEXT",
        "width TEXT",
        "length TEXT",
        "dimension_unit TEXT",
    ):
        db.execute(f"ALTER TABLE products ADD COLUMN {column}")
    execute_statements(
        db,
        """
        CREATE TABLE product_warehouses (
            id INTEGER PRIMARY KEY,
            ingram_part_number TEXT NOT NULL
                REFERENCES products(ingram_part_number) ON DELETE CASCADE,
            warehouse_id TEXT NOT NULL,
            location TEXT,
            quantity_available INTEGER,
            quantity_backordered INTEGER,
            quantity_on_order INTEGER,
            backorder_eta TEXT,
            backorder_info TEXT
        );
        CREATE UNIQUE INDEX product_warehouses_key
            ON product_warehouses(ingram_part_number, warehouse_id);
        INSERT OR IGNORE INTO product_warehouses (ingram_part_number, warehouse_id, location,
            quantity_available, quantity_backordered)
        SELECT products.ingram_part_number, json_extract(stock.value, '$.warehouse_id'),
            json_extract(stock.value, '$.location'),
            json_extract(stock.value, '$.quantity_available'),
            json_extract(stock.value, '$.quantity_backordered')
        FROM products, json_each(products.warehouses) AS stock
        WHERE json_valid(products.warehouses)
            AND json_extract(stock.value, '$.warehouse_id') IS NOT NULL;
        ALTER TABLE products DROP COLUMN warehouses;

        CREATE TABLE product_discounts (
            id INTEGER PRIMARY KEY,
            ingram_part_number TEXT NOT NULL
                REFERENCES products(ingram_part_number) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            discount_type TEXT,
            bid_number TEXT,
            amount TEXT,
            quantity INTEGER,
            available_quantity INTEGER,
            effective_date TEXT,
            expiration_date TEXT,
            currency TEXT,
            description TEXT
        );
        CREATE INDEX product_discounts_product ON product_discounts(ingram_part_number);

        CREATE TABLE product_specs (
            id INTEGER PRIMARY KEY,
            ingram_part_number TEXT NOT NULL
                REFERENCES products(ingram_part_number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            header TEXT,
            name TEXT NOT NULL,
            value TEXT
        );
        CREATE INDEX product_specs_product ON product_specs(ingram_part_number)
        """,
    )
