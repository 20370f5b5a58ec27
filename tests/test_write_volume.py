"""Where a full sync's writes go: documents apart and compressed, unread indexes gone,
child rows found by the product's number, results written in groups."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import time
import zlib

import pytest
from support.client_support import client_for
from support.clirunner import Cli, cli_env

from ingram.state.documents import DICTIONARY, pack_document, unpack_document
from ingram.state.migrations import MIGRATIONS
from ingram.state.products import add_products, remove_products
from ingram.state.store import Store
from ingram.sync import NoProgress, SyncOptions, WriterTiming, run_sync
from ingram.sync.streams import Stream


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
    remove_products(store, ["6YE881"])  # a removed product takes its document with it
    assert store.db.execute("SELECT COUNT(*) FROM product_documents").fetchone()[0] == 0


@pytest.mark.slow
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
    stored = {pn: unpack_document(packed) for pn, packed in rows}
    expected = {pn: sandbox.catalog.details_document(pn) for pn in pns}
    assert stored == {pn: doc for pn, doc in expected.items() if doc is not None}


def test_documents_are_packed_against_the_vendors_field_names(sandbox):
    documents = [sandbox.catalog.details_document(pn) for pn in sandbox.catalog.part_numbers(50)]
    documents = [doc for doc in documents if doc is not None]
    alone = sum(len(zlib.compress(json.dumps(doc).encode())) for doc in documents)
    packed = [pack_document(doc) for doc in documents]
    assert [unpack_document(blob) for blob in packed] == documents
    assert sum(map(len, packed)) < 0.7 * alone  # ~43 % smaller than zlib alone
    # Stored streams name their dictionary: it can never change, only be added to.
    assert zlib.adler32(DICTIONARY) == 496913702


def test_documents_stored_before_the_dictionary_are_still_read(tmp_path):
    document = {"ingramPartNumber": "6YE881", "productCategory": "Power"}
    assert unpack_document(zlib.compress(json.dumps(document).encode())) == document
    stranger = zlib.compressobj(zdict=b"another dictionary")
    blob = stranger.compress(b"{}") + stranger.flush()
    for broken in (blob, b"", b"not zlib at all", zlib.compress(b"\xff\xfe")):
        with pytest.raises(ValueError):
            unpack_document(broken)


@pytest.mark.slow
def test_a_routine_resync_rewrites_only_the_rows_that_changed(sandbox, tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    pns = sandbox.catalog.part_numbers(120)
    assert cli.run("products", "add", *pns).code == 0
    assert cli.sync().code == 0
    with sqlite3.connect(db) as conn:  # the file itself notes each warehouse row written
        conn.executescript(
            """
            CREATE TABLE written (ingram_part_number TEXT);
            CREATE TRIGGER note_written AFTER INSERT ON product_warehouses
            BEGIN INSERT INTO written VALUES (NEW.ingram_part_number); END;
            """
        )

    def written() -> set[str]:
        with sqlite3.connect(db) as conn:
            found = {row[0] for row in conn.execute("SELECT ingram_part_number FROM written")}
            conn.execute("DELETE FROM written")
        return found

    def stock() -> dict[str, list[tuple]]:
        with sqlite3.connect(db) as conn:
            found = conn.execute(
                "SELECT ingram_part_number, warehouse_id, quantity_available"
                " FROM product_warehouses ORDER BY product_seq, warehouse_id"
            ).fetchall()
        by_product: dict[str, list[tuple]] = {}
        for pn, *row in found:
            by_product.setdefault(pn, []).append(tuple(row))
        return by_product

    first = stock()
    assert cli.sync().code == 0
    assert written() == set()  # same stock: not one warehouse row deleted and inserted again
    assert stock() == first
    sandbox.reconfigure(price_epoch=1)
    moved = {pn for pn in pns if sandbox.catalog.stock_changed(sandbox.catalog.index_of(pn))}
    assert cli.sync().code == 0
    after = stock()
    assert moved and after != first
    assert written() == {pn for pn in pns if after[pn] != first[pn]} <= moved


def test_details_results_are_written_in_groups_not_one_commit_each(sandbox, tmp_path):
    # The vendor's pace, compressed: a details answer each COMMIT_EVERY, P&A far faster.
    timing = WriterTiming(commit_every=0.01, details_age=0.05)
    store = Store.open(tmp_path / "c.db")
    add_products(store, sandbox.catalog.part_numbers(150))
    commits: list[set[str]] = []  # the tables each commit wrote
    writing: set[str] = set()

    def watch(sql: str) -> None:
        words = sql.split()
        if words[:1] == ["COMMIT"]:
            commits.append(set(writing))
            writing.clear()
        elif "INTO" in words:
            writing.add(words[words.index("INTO") + 1])

    store.db.set_trace_callback(watch)
    with client_for(sandbox, details_interval=0.01) as client:
        summary = run_sync(store, client, SyncOptions(timing=timing), NoProgress())
    store.close()
    assert summary.status == "completed", summary
    with_details = [tables for tables in commits if "product_documents" in tables]
    # Before: a commit each COMMIT_EVERY, so one per details answer (~40 KB per product).
    assert len(with_details) <= math.ceil(150 / WriterTiming().details_group) + 2, len(with_details)


@pytest.mark.slow
def test_a_stopped_sync_writes_the_results_it_held(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.005, catalog_size=300)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(300)).code == 0
    victim = cli.start("sync", "--pa-rate", "6000", "--details-interval", "0.02")
    deadline = time.monotonic() + 20
    while len(sandbox.stats()["details_part_numbers"]) < WriterTiming().details_group // 2:
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.01)
    victim.send_signal(signal.SIGTERM)  # fewer than a group held: only the stop writes them
    assert victim.wait(20) == 130
    assert cli.sync().code == 0
    asked = sandbox.stats()["details_part_numbers"]
    assert len(asked) == len(set(asked)) == 300  # nothing answered was asked again


def test_migration_9_finds_child_rows_by_the_products_number(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE _migrations (number INTEGER PRIMARY KEY, applied_at TEXT)")
    for number in sorted(n for n in MIGRATIONS if n < 9):  # the schema as it last shipped
        conn.execute("BEGIN")
        MIGRATIONS[number](conn)
        conn.execute("INSERT INTO _migrations VALUES (?, '2026-01-01T00:00:00Z')", (number,))
        conn.execute("COMMIT")
    for pn in ("ZZ9", "AA1"):  # added in this order, against the order of their names
        conn.execute("INSERT INTO products (ingram_part_number, added_at) VALUES (?, 'x')", (pn,))
        conn.execute(
            "INSERT INTO product_documents (ingram_part_number, json_zlib) VALUES (?, ?)",
            (pn, zlib.compress(json.dumps({"ingramPartNumber": pn}).encode())),
        )
        conn.execute(
            "INSERT INTO product_warehouses (ingram_part_number, warehouse_id) VALUES (?, '10')",
            (pn,),
        )
        conn.execute(
            "INSERT INTO product_specs (ingram_part_number, position, name) VALUES (?, 1, 'Color')",
            (pn,),
        )
        conn.executemany(
            "INSERT INTO product_discounts (ingram_part_number, kind) VALUES (?, ?)",
            [(pn, "special_pricing"), (pn, "service_fee")],
        )
    conn.close()

    store = Store.open(path)
    numbers = dict(store.db.execute("SELECT ingram_part_number, seq FROM products"))
    assert numbers == {"ZZ9": 1, "AA1": 2}  # numbered in the order they were added
    for table in ("product_documents", "product_warehouses", "product_specs", "product_discounts"):
        rows = store.db.execute(f"SELECT DISTINCT ingram_part_number, product_seq FROM {table}")
        assert sorted(map(tuple, rows)) == [("AA1", 2), ("ZZ9", 1)], table
    kinds = store.db.execute(
        "SELECT position, kind FROM product_discounts WHERE ingram_part_number = 'AA1'"
    ).fetchall()
    assert [tuple(row) for row in kinds] == [(1, "special_pricing"), (2, "service_fee")]
    assert add_products(store, ["NEW", "AA1"]) == (1, 1)
    assert (
        store.db.execute("SELECT seq FROM products WHERE ingram_part_number = 'NEW'").fetchone()[0]
        == 3
    )
    store.db.execute("INSERT INTO products (ingram_part_number, added_at) VALUES ('BYHAND', 'x')")
    assert (
        store.db.execute("SELECT seq FROM products WHERE ingram_part_number = 'BYHAND'").fetchone()[
            0
        ]
        == 4
    )  # a product added by hand is numbered too
    assert remove_products(store, ["ZZ9"]) == 1  # its child rows go with it, uncounted
    for table in ("product_documents", "product_warehouses", "product_specs", "product_discounts"):
        left = store.db.execute(f"SELECT DISTINCT ingram_part_number FROM {table}").fetchall()
        assert [tuple(row) for row in left] == [("AA1",)], table
    store.close()


def test_the_writer_sleeps_while_it_holds_a_group_not_yet_due(sandbox, tmp_path, monkeypatch):
    # Held details past DETAILS_AGE but short of a group are not due: the loop must sleep
    # until they are (or another result comes), not spin (it once spun ~3,000 times a second).
    timing = WriterTiming(details_age=0.02, details_hold=5.0)
    turns = 0
    fill = Stream.fill

    def counted_fill(self, in_flight, on_done):
        nonlocal turns
        turns += 1
        return fill(self, in_flight, on_done)

    monkeypatch.setattr(Stream, "fill", counted_fill)
    store = Store.open(tmp_path / "c.db")
    add_products(store, sandbox.catalog.part_numbers(30))
    with client_for(sandbox, details_interval=0.03) as client:
        started = time.monotonic()
        summary = run_sync(store, client, SyncOptions(timing=timing), NoProgress())
        took = time.monotonic() - started
    store.close()
    assert summary.status == "completed", summary
    # Two fills a turn; a turn per answer and per STATS_EVERY wake-up, with room to spare.
    assert turns <= 2 * (30 + 2 + took / timing.stats_every) * 2, (turns, took)


def temporary_files() -> list[str]:
    """SQLite's temporary files this process holds open (unlinked as soon as opened)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed while listed (the listing's own descriptor)
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


def test_statement_journals_stay_in_memory_not_in_temporary_files(tmp_path):
    """Spilled to temporary files, a re-sync's statement journals wrote 2 to 20 KB a
    product from run to run; in memory, the writes are the database's and its log's."""
    store = Store.open(tmp_path / "c.db")
    add_products(store, [f"P{n:05d}" for n in range(5000)])
    with store.write() as db:  # two multi-row statements in one transaction
        db.execute("UPDATE products SET authorized = 1")
        db.execute("UPDATE products SET authorized = 0")
        assert temporary_files() == []
