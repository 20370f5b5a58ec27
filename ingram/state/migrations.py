"""Numbered schema migrations, recorded in the database's ``_migrations`` table.

Add a migration by writing a function decorated with ``@migration(N)`` where N
is one more than the last; never edit a migration that has shipped. A database
whose highest recorded migration is above ``LATEST`` came from a newer
ingram-sync and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[int, Migration] = {}


def migration(number: int) -> Callable[[Migration], Migration]:
    """Register ``fn`` as migration ``number``. Example: ``@migration(2) def m2(db): ...``"""

    def register(fn: Migration) -> Migration:
        if number in MIGRATIONS:
            raise ValueError(f"migration {number} registered twice")
        MIGRATIONS[number] = fn
        return fn

    return register


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


@migration(3)
def drop_unread_indexes(db: sqlite3.Connection) -> None:
    """No query reads these indexes (products are read by part number or status), yet
    every product saved updated them: by measurement 44 % of a full sync's writes."""
    execute_statements(
        db,
        """
        DROP INDEX IF EXISTS products_vendor;
        DROP INDEX IF EXISTS products_category;
        DROP INDEX IF EXISTS products_pa_synced;
        DROP INDEX IF EXISTS products_details_synced
        """,
    )


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


@migration(8)
def product_keys(db: sqlite3.Connection) -> None:
    """The keys resellers track products by, and the one each product was added by."""
    db.execute("ALTER TABLE products ADD COLUMN user_key_type TEXT")
    db.execute("ALTER TABLE products ADD COLUMN user_key TEXT")
    execute_statements(
        db,
        """
        CREATE TABLE product_keys (
            id INTEGER PRIMARY KEY,
            key_type TEXT NOT NULL,
            key_value TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'unresolved',
            ingram_part_number TEXT,
            candidates TEXT,
            message TEXT,
            added_at TEXT NOT NULL,
            resolved_at TEXT,
            UNIQUE (key_type, key_value)
        );
        CREATE INDEX product_keys_status ON product_keys(status)
        """,
    )


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


def execute_statements(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL inside the caller's transaction.

    ``executescript`` would COMMIT the open transaction first, making a
    half-applied migration possible.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


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


LATEST = max(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> list[int]:
    """Apply every migration not yet recorded; return the numbers applied.

    Each migration, and ``_migrations`` itself, is created inside one write
    transaction that first re-reads what is recorded: a first run killed at
    any moment leaves either nothing or whole migrations, and processes racing
    on a fresh file apply each migration exactly once.
    """
    if recorded_version(db) and not set(MIGRATIONS) - recorded_numbers(db):
        return []  # up to date: no write lock needed, so a busy database still opens
    applied: list[int] = []
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations"
                " (number INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            pending = sorted(set(MIGRATIONS) - recorded_numbers(db))
            if pending:
                MIGRATIONS[pending[0]](db)
                db.execute(
                    "INSERT INTO _migrations VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (pending[0],),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if not pending:
            return applied
        applied.append(pending[0])


def recorded_numbers(db: sqlite3.Connection) -> set[int]:
    return {row[0] for row in db.execute("SELECT number FROM _migrations")}


def recorded_version(db: sqlite3.Connection) -> int:
    """The highest migration recorded in ``db``, 0 for a new database."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'"
    ).fetchone()
    if not exists:
        return 0
    return db.execute("SELECT COALESCE(MAX(number), 0) FROM _migrations").fetchone()[0]
