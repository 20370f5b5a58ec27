"""The SQLite store: file safety, migrations, idempotent saves, failures, changes."""

from __future__ import annotations

import os
import sqlite3
import stat
from decimal import Decimal

import pytest

from ingram.errors import ApiError, StoreError
from ingram.models import PriceAvailability, ProductDetails, WarehouseStock
from ingram.policy import Trigger
from ingram.state.migrations import LATEST
from ingram.state.products import (
    add_products,
    export_products,
    remove_products,
    tracked_part_numbers,
)
from ingram.state.runs import create_run, finish_run, interrupt_dead_runs, run_row
from ingram.state.saving import DetailsPolicy, save_details, save_failure, save_price_availability
from ingram.state.store import Store
from ingram.state.tasks import (
    adopt_open_tasks,
    open_task_part_numbers,
    open_tasks,
    plan_pa_tasks,
    runs_with_open_tasks,
)
from ingram.vocab import StreamKind


def item(pn: str, price: str = "74.34", total: int = 5) -> PriceAvailability:
    return PriceAvailability(
        pn,
        vendor_name="DELL",
        customer_price=Decimal(price),
        retail_price=Decimal("189.99"),
        map_price=Decimal("0"),
        currency="USD",
        available=total > 0,
        total_availability=total,
        warehouses=(WarehouseStock("20", "Fort Worth, TX", total, 0),),
    )


def one_batch(store: Store, pns: list[str], items: list[PriceAvailability], **policy) -> int:
    run_id = create_run(store, "sync", {})
    plan_pa_tasks(store, run_id, [pns])
    [(task_id, _)] = open_tasks(store, [run_id], StreamKind.PA, 0)
    save_price_availability(store, run_id, task_id, pns, items, 1, DetailsPolicy(**policy))
    return run_id


def test_new_database_is_private_and_migrated(tmp_path):
    path = tmp_path / "new.db"
    store = Store.open(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("SELECT MAX(number) FROM _migrations").fetchone()[0] == LATEST
    store.close()
    Store.open(path).close()  # reopening applies nothing twice


def test_refuses_a_file_that_is_not_a_database_without_touching_it(tmp_path):
    path = tmp_path / "random.db"
    junk = os.urandom(4096)
    path.write_bytes(junk)
    with pytest.raises(StoreError, match="not an SQLite database"):
        Store.open(path)
    assert path.read_bytes() == junk
    assert not (tmp_path / "random.db-wal").exists()


def test_refuses_a_folder_a_read_only_file_and_a_newer_schema(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)
    path = tmp_path / "ro.db"
    Store.open(path).close()
    path.chmod(0o400)
    with pytest.raises(StoreError, match="read-only"):
        Store.open(path)
    path.chmod(0o600)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES (?, 'later')", (LATEST + 1,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer ingram-sync"):
        Store.open(path)


def test_add_products_counts_added_and_already(tmp_path):
    store = Store.open(tmp_path / "s.db")
    assert add_products(store, ["A1", "B2", "A1"]) == (2, 0)
    assert add_products(store, ["B2", "C3"]) == (1, 1)
    assert tracked_part_numbers(store) == ["A1", "B2", "C3"]
    assert remove_products(store, ["A1", "ZZ"]) == 1


def test_price_is_stored_exactly_and_changes_only_on_real_change(tmp_path):
    store = Store.open(tmp_path / "s.db")
    add_products(store, ["A1", "B2"])
    one_batch(store, ["A1", "B2"], [item("A1"), item("B2", "10.10")])
    one_batch(store, ["A1", "B2"], [item("A1"), item("B2", "10.1")])  # same value, new text
    assert store.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0
    one_batch(store, ["A1", "B2"], [item("A1", "74.35", 7), item("B2", "10.10")])
    rows = store.db.execute(
        "SELECT ingram_part_number, field, old_value, new_value FROM changes ORDER BY field"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("A1", "customer_price", "74.34", "74.35"),
        ("A1", "total_availability", "5", "7"),
    ]
    [row] = export_products(store, status=["active"], changed_since="2000-01-01")
    assert row["customer_price"] == Decimal("74.35")


def test_not_found_items_and_details_needed_only_when_stale(tmp_path):
    store = Store.open(tmp_path / "s.db")
    add_products(store, ["A1", "NOPE"])
    gone = PriceAvailability("NOPE", found=False, message="Product not found")
    run_id = one_batch(store, ["A1", "NOPE"], [item("A1"), gone])
    statuses = dict(store.db.execute("SELECT ingram_part_number, status FROM products"))
    assert statuses == {"A1": "active", "NOPE": "not_found"}
    [(task_id, pns)] = open_tasks(store, [run_id], StreamKind.DETAILS, 0)
    assert pns == ["A1"]
    save_details(store, run_id, task_id, ProductDetails("A1", category="Monitors", raw={}), 1)
    second = one_batch(store, ["A1"], [item("A1")])
    assert open_tasks(store, [second], StreamKind.DETAILS, 0) == []
    refreshed = one_batch(store, ["A1"], [item("A1")], refresh=True)
    assert len(open_tasks(store, [refreshed], StreamKind.DETAILS, 0)) == 1


def test_a_failure_stays_one_open_row_and_is_resolved_by_success(tmp_path):
    store = Store.open(tmp_path / "s.db")
    add_products(store, ["A1", "B2"])
    error = ApiError("HTTP 500", trigger=Trigger.HTTP_5XX, http_status=500, attempts=4)
    for _ in range(2):
        run_id = create_run(store, "sync", {})
        plan_pa_tasks(store, run_id, [["A1", "B2"]])
        [(task_id, pns)] = open_tasks(store, [run_id], StreamKind.PA, 0)
        save_failure(store, run_id, task_id, StreamKind.PA, pns, error)
    rows = store.db.execute("SELECT ingram_part_number, attempts FROM failures").fetchall()
    assert sorted(tuple(r) for r in rows) == [("A1", 8), ("B2", 8)]
    one_batch(store, ["A1", "B2"], [item("A1"), item("B2")])
    open_rows = store.db.execute("SELECT COUNT(*) FROM failures WHERE resolved_at IS NULL")
    assert open_rows.fetchone()[0] == 0


def test_dead_runs_are_interrupted_and_their_tasks_adopted(tmp_path):
    store = Store.open(tmp_path / "s.db")
    dead = create_run(store, "sync", {})
    plan_pa_tasks(store, dead, [["A1", "B2"], ["C3"]])
    [row] = interrupt_dead_runs(store)
    assert row["id"] == dead
    assert run_row(store, dead)["status"] == "interrupted"
    new = create_run(store, "sync", {})
    adopt_open_tasks(store, [dead], new)
    assert open_task_part_numbers(store, [new], StreamKind.PA) == {"A1", "B2", "C3"}
    assert open_tasks(store, [dead], StreamKind.PA, 0) == []
    assert run_row(store, new)["products"] == 3


def test_stopped_runs_with_pending_tasks_are_found_for_adoption(tmp_path):
    store = Store.open(tmp_path / "s.db")
    stopped = create_run(store, "sync", {})  # stopped by SIGTERM, or killed after marking
    plan_pa_tasks(store, stopped, [["A1"]])
    finish_run(store, stopped, "interrupted")
    done = create_run(store, "sync", {})
    finish_run(store, done, "completed")
    new = create_run(store, "sync", {})
    assert runs_with_open_tasks(store, exclude=new) == [stopped]
    adopt_open_tasks(store, [stopped], new)
    assert runs_with_open_tasks(store, exclude=new) == []
    assert open_task_part_numbers(store, [new], StreamKind.PA) == {"A1"}


def test_pa_without_upc_keeps_the_known_one_and_not_found_clears_stock(tmp_path):
    store = Store.open(tmp_path / "s.db")
    add_products(store, ["A1"])
    with store.write() as db:
        db.execute("UPDATE products SET upc = '0884116186519', vendor_part_number = 'E2016HV'")
    one_batch(store, ["A1"], [item("A1")])
    [row] = export_products(store)
    assert (row["upc"], row["vendor_part_number"]) == ("0884116186519", "E2016HV")
    assert row["total_availability"] == 5
    one_batch(store, ["A1"], [PriceAvailability("A1", found=False, message="gone")])
    [row] = export_products(store)
    assert row["status"] == "not_found"
    assert (row["available"], row["total_availability"], row["customer_price"]) == (None,) * 3


def test_an_empty_file_is_not_read_and_a_foreign_database_is_left_alone(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="no ingram-sync data yet"):
        Store.open(empty, readonly=True)
    foreign = tmp_path / "other.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    for readonly in (True, False):
        with pytest.raises(StoreError, match="another program"):
            Store.open(foreign, readonly=readonly)
    assert foreign.read_bytes() == before
