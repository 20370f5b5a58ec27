"""The sync end to end: the CLI in a subprocess, the sandbox over real sockets, SQLite on disk."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import sqlite3
import stat
import time
from decimal import Decimal

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.reliability import expected_status

from ingram.sync import WriterTiming

UNKNOWN = ["ZZNOTREAL1", "ZZNOTREAL2"]


def pricing_of(item: dict) -> dict:
    return item.get("pricing") or item["availability"]["pricing"]


@pytest.mark.slow
def test_import_sync_export_matches_the_vendor_catalog(sandbox, cli, tmp_path):
    pns = sandbox.catalog.part_numbers(120)
    csv_file = tmp_path / "products.csv"
    csv_file.write_text("ingramPartNumber\n" + "\n".join(pns + UNKNOWN) + "\n")
    imported = cli.run("products", "import", str(csv_file))
    assert imported.code == 0, imported
    assert "added 122" in imported.out

    result = cli.sync()
    assert result.code == 0, result
    assert "120 priced, 2 not found" in result.out
    exported = cli.export()
    assert len(exported) == 122
    for pn in pns:
        item, row = sandbox.catalog.price_availability_item(pn), exported[pn]
        assert row["status"] == expected_status(item)
        if item.get("productStatusCode") == "E":  # not ours to buy: no price came
            continue
        pricing = pricing_of(item)
        assert Decimal(str(row["customer_price"])) == Decimal(str(pricing["customerPrice"]))
        assert Decimal(str(row["retail_price"])) == Decimal(str(pricing["retailPrice"]))
        assert row["currency"] == pricing["currencyCode"]
        assert row["total_availability"] == item["availability"]["totalAvailability"]
        assert row["available"] == item["availability"]["available"]
        assert row["vendor_name"] == item["vendorName"]
        document = sandbox.catalog.details_document(pn)
        if document is None:
            assert row["category"] is None and row["details_synced_at"] is not None
        else:
            assert row["category"] == document["productCategory"]
            subcategory = document.get("productSubcategory") or document.get("productSubCategory")
            assert row["subcategory"] == subcategory
    for pn in UNKNOWN:
        assert exported[pn]["status"] == "not_found"
    failed = cli.run("failed", "--json")
    assert json.loads(failed.out) == []
    assert not set(sandbox.stats()["details_part_numbers"]) & set(UNKNOWN)


@pytest.mark.slow
def test_prices_keep_their_cents_in_csv(sandbox, cli):
    pns = sandbox.catalog.part_numbers(60)
    cli.run("products", "add", *pns)
    assert cli.sync("--no-details").code == 0
    rows = csv.DictReader(io.StringIO(cli.run("export", "--format", "csv").out))
    prices = {row["ingram_part_number"]: row["customer_price"] for row in rows}
    for pn in pns:
        sent = pricing_of(sandbox.catalog.price_availability_item(pn))["customerPrice"]
        assert Decimal(prices[pn]) == Decimal(str(sent))
        assert len(prices[pn].partition(".")[2]) <= 2, prices[pn]


@pytest.mark.slow
def test_routine_sync_makes_no_details_calls_and_minimal_pa_calls(sandbox, cli):
    n = 130
    cli.run("products", "add", *sandbox.catalog.part_numbers(n))
    assert cli.sync().code == 0
    sandbox.reset_stats()
    result = cli.sync()
    assert result.code == 0, result
    stats = sandbox.stats()
    assert stats["calls"].get("details", 0) == 0
    assert stats["calls"]["price_and_availability"] == math.ceil(n / 50)


@pytest.mark.slow
def test_batches_and_concurrency_stay_within_limits(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.03, catalog_size=120)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(120))
    result = cli.sync("--max-concurrent", "3", "--batch-size", "10")
    assert result.code == 0, result
    stats = sandbox.stats()
    assert max(stats["pa_batch_sizes"]) <= 10
    assert stats["calls"]["price_and_availability"] == 12
    assert stats["max_in_flight"]["price_and_availability"] == 3
    assert stats["max_in_flight"]["details"] == 1


@pytest.mark.slow
def test_persistent_failures_then_retry_failed_resolves_them(sandbox, cli):
    pns = sandbox.catalog.part_numbers(100)
    broken = pns[7]
    cli.run("products", "add", *pns)
    sandbox.reconfigure(failing_part_numbers=frozenset({broken}))
    result = cli.sync("--batch-size", "10")
    assert result.code == 1, result
    assert "1 items failed" in result.err  # its batch failed, then it alone
    failures = json.loads(cli.run("failed", "--json").out)
    failed_batch = [broken]
    assert sorted(f["ingram_part_number"] for f in failures) == failed_batch
    assert {f["kind"] for f in failures} == {"price_availability"}
    assert all(f["http_status"] == 500 and f["attempts"] == 4 for f in failures)
    assert all(f["resolved_at"] is None for f in failures)

    sandbox.reconfigure(failing_part_numbers=frozenset())
    retried = cli.run(
        "retry-failed", "--all", "--pa-retry-waits", "0.01", "--details-interval", "0.002"
    )
    assert retried.code == 0, retried
    assert json.loads(cli.run("failed", "--json").out) == []
    exported = cli.export()
    for pn in failed_batch:
        assert exported[pn]["customer_price"] is not None
        assert exported[pn]["details_synced_at"] is not None


@pytest.mark.slow
def test_second_sync_exits_3_naming_the_holder_and_db_is_private(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.05, catalog_size=300)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(300))
    first = cli.start("sync", "--details-interval", "0.01")
    try:
        deadline = time.monotonic() + 20
        while not sandbox.stats()["calls"].get("price_and_availability"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = cli.sync()
        assert second.code == 3, second
        assert f"pid {first.pid}" in second.err
        assert "Traceback" not in second.err
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(20)
    assert stat.S_IMODE(cli.db.stat().st_mode) == 0o600


DETAILS_INTERVAL = 0.02


@pytest.mark.slow
def test_killed_sync_is_finished_by_the_next_one(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.01, catalog_size=300)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    pns = sandbox.catalog.part_numbers(300)
    cli.run("products", "add", *pns)
    victim = cli.start("sync", "--pa-rate", "6000", "--details-interval", str(DETAILS_INTERVAL))
    deadline = time.monotonic() + 20
    while len(sandbox.stats()["details_part_numbers"]) < 30:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    result = cli.sync()
    assert result.code == 0, result
    db = sqlite3.connect(cli.db)
    assert db.execute("SELECT status FROM runs ORDER BY id").fetchall() == [
        ("interrupted",),
        ("completed",),
    ]
    missing = db.execute(
        "SELECT COUNT(*) FROM products WHERE pa_synced_at IS NULL OR details_synced_at IS NULL"
    ).fetchone()[0]
    assert missing == 0
    assert db.execute("SELECT COUNT(*) FROM tasks WHERE state = 'pending'").fetchone()[0] == 0
    asked = sandbox.stats()["details_part_numbers"]
    # Details are committed in groups (DETAILS_GROUP, at least DETAILS_AGE old): a kill loses
    # at most one group, refetched by the next run, and the calls in flight.
    timing = WriterTiming()
    assert (
        len(asked) - len(set(asked))
        <= max(timing.details_group, timing.details_age / DETAILS_INTERVAL) + 2
    )


@pytest.mark.slow
def test_a_spot_check_does_not_count_for_min_interval(sandbox, cli):
    pns = sandbox.catalog.part_numbers(60)
    cli.run("products", "add", *pns)
    assert cli.sync("--sku", pns[0].lower()).code == 0  # lower case is normalised
    full = cli.sync("--min-interval", "1h")
    assert "skipped" not in full.err and full.code == 0, full
    assert "60 priced" in full.out
    skipped = cli.sync("--min-interval", "1h")
    assert skipped.code == 0 and "skipped" in skipped.err


@pytest.mark.slow
def test_removing_a_product_drops_its_open_failures(sandbox, cli):
    pns = sandbox.catalog.part_numbers(5)
    cli.run("products", "add", *pns)
    sandbox.reconfigure(failing_part_numbers=frozenset({pns[0]}))
    assert cli.sync("--batch-size", "1").code == 1
    assert [f["ingram_part_number"] for f in json.loads(cli.run("failed", "--json").out)] == [
        pns[0]
    ]
    assert cli.run("products", "remove", pns[0]).code == 0
    assert json.loads(cli.run("failed", "--json").out) == []


@pytest.mark.slow
def test_two_profiles_sync_at_once_each_into_its_own_database(sandbox, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.us]\ndb = "us.db"\n'
        '[profiles.ca]\ncustomer_number = "40-333333"\ncountry_code = "CA"\n'
    )
    config.chmod(0o600)
    env = cli_env(sandbox.url, tmp_path / "unused.db", INGRAM_SYNC_CONFIG=str(config))
    del env["INGRAM_SYNC_DB"]  # the profiles choose the databases
    us, ca = sandbox.catalog.part_numbers(60)[:30], sandbox.catalog.part_numbers(60)[30:]
    cli = Cli(env, tmp_path / "unused.db", cwd=tmp_path)  # relative databases land here
    assert cli.run("--profile", "us", "products", "add", *us).code == 0
    assert cli.run("--profile", "ca", "products", "add", *ca).code == 0
    runs = [cli.start("--profile", name, "sync", *FAST_TIMINGS) for name in ("us", "ca")]
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err  # never 3: each profile has its own lock
    for name, db, tracked in (("us", "us.db", us), ("ca", "ingram_sync_ca.db", ca)):
        rows = sqlite3.connect(tmp_path / db).execute("SELECT ingram_part_number FROM products")
        assert sorted(r[0] for r in rows) == sorted(tracked)
        [listed] = json.loads(cli.run("runs", "--json", "--profile", name).out)
        assert listed["profile"] == name
        assert f"profile {name}: the runs of {db}" in cli.run("runs", "--profile", name).err
        watched = cli.run("--profile", name, "monitor", "--refresh", "0.05")
        assert f"run 1 (profile {name}) completed" in watched.out, watched  # not a terminal
    assert not (tmp_path / "unused.db").exists()
