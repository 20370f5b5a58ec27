"""Where a full sync's writes go: documents apart and compressed, unread indexes gone."""

from __future__ import annotations

import json
import sqlite3
import zlib

from clirunner import Cli, cli_env

from ingram.state.migrations import MIGRATIONS
from ingram.state.store import Store


def test_an_older_database_keeps_its_documents_when_they_move(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE _migrations (number INTEGER PRIMARY KEY, applied_at TEXT)")
    MIGRATIONS[1](conn)  # the schema as the first version shipped it
    conn.execute("INSERT INTO _migrations VALUES (1, '2026-01-01T00:00:00Z')")
    document = {"ingramPartNumber": "6YE881", "productCategory": "Power"}
    conn.execute(
        "INSERT INTO products (ingram_part_number, added_at, details_json) VALUES (?, ?, ?)",
        ("6YE881", "2026-01-01T00:00:00Z", json.dumps(document)),
    )
    conn.close()
    store = Store.open(db)
    [(pn, packed)] = store.db.execute(
        "SELECT ingram_part_number, json_zlib FROM product_documents"
    ).fetchall()
    assert pn == "6YE881" and json.loads(zlib.decompress(packed)) == document
    indexes = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}
    assert "products_vendor" not in indexes and "products_status" in indexes
    store.remove_products(["6YE881"])  # a removed product takes its document with it
    assert store.db.execute("SELECT COUNT(*) FROM product_documents").fetchone()[0] == 0


def test_a_sync_stores_each_document_once_and_whole(sandbox, tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    pns = sandbox.catalog.part_numbers(60)
    assert cli.run("products", "add", *pns).code == 0
    assert cli.sync().code == 0
    assert cli.sync("--refresh-details").code == 0  # replaced, not doubled
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT ingram_part_number, json_zlib FROM product_documents"
        ).fetchall()
    stored = {pn: json.loads(zlib.decompress(packed)) for pn, packed in rows}
    expected = {pn: sandbox.catalog.details_document(pn) for pn in pns}
    assert stored == {pn: doc for pn, doc in expected.items() if doc is not None}


def test_a_routine_resync_rewrites_only_the_rows_that_changed(sandbox, tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    pns = sandbox.catalog.part_numbers(120)
    assert cli.run("products", "add", *pns).code == 0
    assert cli.sync().code == 0

    def rows() -> dict[str, list[tuple]]:
        with sqlite3.connect(db) as conn:
            found = conn.execute(
                "SELECT ingram_part_number, id, warehouse_id, quantity_available"
                " FROM product_warehouses ORDER BY id"
            ).fetchall()
        by_product: dict[str, list[tuple]] = {}
        for pn, *row in found:
            by_product.setdefault(pn, []).append(tuple(row))
        return by_product

    first = rows()
    assert cli.sync().code == 0
    assert rows() == first  # same stock: not one warehouse row deleted and inserted again
    sandbox.reconfigure(price_epoch=1)
    moved = {pn for pn in pns if sandbox.catalog.stock_changed(sandbox.catalog.index_of(pn))}
    assert cli.sync().code == 0
    after = rows()
    rewritten = {pn for pn in first if after[pn] != first[pn]}
    assert moved and rewritten <= moved  # only products whose stock moved got new rows
    assert {pn for pn in moved if [r[1:] for r in after[pn]] != [r[1:] for r in first[pn]]}
