"""Killed retry-failed runs do not pile up: their work is owed once, not once per kill."""

from __future__ import annotations

import os
import signal
import time

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.reliability import assert_consistent, connect, open_failures

PRODUCTS = 500
KILLS = 10


def start_and_kill(cli: Cli, *args: str) -> None:
    """Start ``args``, wait until its run is planned, then SIGKILL it."""
    before = run_count(cli)
    victim = cli.start(*args)
    deadline = time.monotonic() + 30
    while run_count(cli) == before:
        assert time.monotonic() < deadline and victim.poll() is None, victim.communicate()
        time.sleep(0.01)
    time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)


def run_count(cli: Cli) -> int:
    conn = connect(cli.db)
    try:
        return conn.execute("SELECT COUNT(*) FROM runs WHERE pa_batches > 0").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_ten_killed_retries_then_one_sync_makes_one_call_per_batch(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=PRODUCTS)
    pns = sandbox.catalog.part_numbers(PRODUCTS)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *pns).code == 0
    sandbox.reconfigure(failing_part_numbers=frozenset(pns))
    assert cli.sync("--no-details").code == 1
    assert len(open_failures(db)["price_availability"]) == PRODUCTS
    sandbox.reconfigure(failing_part_numbers=frozenset(), latency=0.3)
    for _ in range(KILLS):
        start_and_kill(cli, "retry-failed", "--all", *FAST_TIMINGS, "--max-concurrent", "1")
    sandbox.reconfigure(latency=0.0)
    calls_before = sandbox.stats()["calls"]["price_and_availability"]
    final = cli.sync("--no-details")
    assert final.code == 0, final
    calls = sandbox.stats()["calls"]["price_and_availability"] - calls_before
    assert calls <= -(-PRODUCTS // 50), calls
    assert f": {PRODUCTS} priced, 0 not found" in final.out, final.out
    assert open_failures(db) == {}
    assert_consistent(db)


@pytest.mark.slow
def test_a_retry_adopts_a_dead_retrys_tasks_and_drops_resolved_ones(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=100)
    pns = sandbox.catalog.part_numbers(100)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *pns).code == 0
    sandbox.reconfigure(failing_part_numbers=frozenset(pns))
    assert cli.sync("--no-details", "--batch-size", "10").code == 1
    conn = connect(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM failures ORDER BY ingram_part_number")]
    conn.close()
    sandbox.reconfigure(failing_part_numbers=frozenset(), latency=0.3)
    # A retry of the first 60 failures, killed early: most of its batches stay pending.
    start_and_kill(cli, "retry-failed", *map(str, ids[:60]), *FAST_TIMINGS, "--batch-size", "10",
                   "--max-concurrent", "1")  # fmt: skip
    sandbox.reconfigure(latency=0.0)
    # Meanwhile the first 10 are removed: their failures go, so their retry is no longer owed.
    assert cli.run("products", "remove", *sorted(pns)[:10]).code == 0
    calls_before = sandbox.stats()["calls"]["price_and_availability"]
    retry = cli.run("retry-failed", str(ids[99]), *FAST_TIMINGS, "--batch-size", "10")
    assert retry.code == 0, retry
    served = sandbox.stats()["calls"]["price_and_availability"] - calls_before
    failed = open_failures(db).get("price_availability", set())
    # The dead retry's unresolved items (ids 10..59) and id 99 are all retried now.
    assert failed == set(sorted(pns)[60:99]), sorted(failed)[:5]
    assert served <= 6, served  # 51 part numbers in batches of 10, none twice
    exported = cli.export()
    assert len(exported) == 90 and not set(sorted(pns)[:10]) & set(exported)
    assert_consistent_ignoring_failures(db)


def assert_consistent_ignoring_failures(db) -> None:
    conn = connect(db)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM tasks WHERE state = 'pending'").fetchone()
        assert pending[0] == 0
        running = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()
        assert running[0] == 0
    finally:
        conn.close()
