"""A busy database: a sync waits another writer out; other commands say so in one line, exit 3."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import pytest
from support.client_support import client_for
from support.clirunner import Cli, cli_env
from support.processes import Started, start
from support.reliability import assert_catalog_matches, assert_consistent

from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.sync import NoProgress, SyncOptions, run_sync

# Holds the write lock of argv[1] for argv[2] seconds, saying "held" once it has it.
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def hold_write_lock(db, seconds: float) -> Started:
    holder = start([sys.executable, "-c", HOLDER, str(db), str(seconds)], text=True)
    assert next(holder.lines()).strip() == "held"
    return holder


@pytest.mark.slow
def test_a_sync_waits_out_a_writer_holding_the_lock_past_the_busy_timeout(
    sandbox_factory, tmp_path, caplog
):
    sandbox = sandbox_factory(catalog_size=200, latency=0.01)
    store = Store.open(tmp_path / "c.db")
    add_products(store, sandbox.catalog.part_numbers(200))
    store.db.execute("PRAGMA busy_timeout = 100")  # compressed: the holder outlasts it 15 times
    holders: list[Started] = []

    def hold_once_the_run_is_under_way() -> None:
        while not sandbox.stats()["calls"]["price_and_availability"]:
            time.sleep(0.005)
        holders.append(hold_write_lock(store.path, 1.5))

    watcher = threading.Thread(target=hold_once_the_run_is_under_way)
    watcher.start()
    options = SyncOptions(batch_size=10, max_concurrent=2)
    with caplog.at_level(logging.WARNING), client_for(sandbox) as client:
        started = time.monotonic()
        summary = run_sync(store, client, options, NoProgress())
    watcher.join()
    [holder] = holders
    assert holder.wait(5) == 0
    assert summary.status == "completed", summary
    assert time.monotonic() - started >= 1.4  # it really waited for the holder
    assert any("is busy" in r.getMessage() for r in caplog.records)
    store.close()
    assert_consistent(tmp_path / "c.db")
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    assert_catalog_matches(sandbox, cli.export(), {})


@pytest.mark.slow
def test_another_command_on_a_busy_database_says_so_and_exits_3(tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    assert cli.run("products", "add", "6YE881").code == 0
    holder = hold_write_lock(db, 15)  # past the 10 s busy timeout
    try:
        result = cli.run("products", "add", "4A0036")
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 3, result
    assert result.err.startswith("Error: database busy") and result.err.count("\n") == 1, result
    assert cli.run("products", "add", "4A0036").code == 0  # nothing was left half-done


@pytest.mark.slow
def test_a_signal_during_the_wait_for_a_busy_database_interrupts_the_run(
    sandbox_factory, tmp_path, caplog
):
    sandbox = sandbox_factory(catalog_size=200, latency=0.01)
    store = Store.open(tmp_path / "c.db")
    add_products(store, sandbox.catalog.part_numbers(200))
    store.db.execute("PRAGMA busy_timeout = 100")
    holders: list[Started] = []

    def hold_then_signal() -> None:
        while not sandbox.stats()["calls"]["price_and_availability"]:
            time.sleep(0.005)
        holders.append(hold_write_lock(store.path, 3))
        while not any("is busy" in r.getMessage() for r in caplog.records):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill` would: the run's handler takes it

    watcher = threading.Thread(target=hold_then_signal)
    options = SyncOptions(batch_size=10, max_concurrent=2, grace_period=0.2)
    with caplog.at_level(logging.WARNING), client_for(sandbox) as client:
        watcher.start()
        started = time.monotonic()
        summary = run_sync(store, client, options, NoProgress())
        stopped_after = time.monotonic() - started
    watcher.join()
    [holder] = holders
    assert summary.status == "interrupted", summary
    assert stopped_after < 2.5  # it did not wait for the holder
    assert holder.wait(10) == 0
    with client_for(sandbox) as client:  # the next sync finds the run's work and finishes it
        assert run_sync(store, client, SyncOptions(), NoProgress()).status == "completed"
    store.close()
    assert_consistent(tmp_path / "c.db")
