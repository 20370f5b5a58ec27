"""Operator commands end to end: monitor, runs, changes, export filters, cron mode, discover."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from decimal import Decimal

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env, run_row, wait_for_running_run

from ingram.output.reports import describe_run


def tracked_products(db_path) -> set[str]:
    db = sqlite3.connect(db_path)
    found = {row[0] for row in db.execute("SELECT ingram_part_number FROM products")}
    db.close()
    return found


@pytest.mark.slow
def test_monitor_follows_a_sync_in_another_process_to_its_end(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.005, catalog_size=200)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(200))
    sync = cli.start("sync", "--pa-rate", "600", "--details-interval", "0.008", *FAST_TIMINGS[4:])
    try:
        wait_for_running_run(cli.db)
        watched = cli.run("monitor", "--refresh", "0.2", timeout=60)
    finally:
        sync_out, sync_err = sync.communicate(timeout=60)
    assert sync.returncode == 0, sync_err
    assert watched.code == 0, watched
    lines = watched.out.strip().splitlines()
    row = run_row(cli.db)
    assert row["status"] == "completed"
    assert len(lines) >= 3  # several refreshes while the sync ran, then the summary
    assert " running " in lines[0]
    last_screen, summary = lines[-3], lines[-2:]
    assert f"run {row['id']} completed" in last_screen
    assert f"P&A {row['pa_products_done']}/{row['products']} products" in last_screen
    assert f"details {row['details_done']}/{row['details_total']}" in last_screen
    assert f"retries {row['retries']}, 429s {row['rate_limited']}, failed {row['failures']}" in (
        last_screen
    )
    assert summary == describe_run(row, {})  # no failures: two lines
    assert "\n".join(summary) in sync_out
    assert "\x1b" not in watched.out and "\r" not in watched.out


def test_monitor_says_when_the_runs_process_is_gone(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.02, catalog_size=200)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(200))
    victim = cli.start("sync", "--pa-rate", "600", "--details-interval", "0.05")
    row = wait_for_running_run(cli.db)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    watched = cli.run("monitor", str(row["id"]), "--refresh", "0.1", timeout=20)
    assert watched.code == 1, watched
    assert f"process {victim.pid} is gone" in watched.out
    assert "resumes" in watched.out


@pytest.mark.slow
def test_monitor_and_runs_without_runs_or_database_fail_cleanly(cli):
    no_database = cli.run("monitor")
    assert no_database.code == 2 and "no database" in no_database.err, no_database
    cli.run("products", "add", "ABC123")
    no_runs = cli.run("monitor")
    assert no_runs.code == 2 and "no runs yet" in no_runs.err, no_runs
    unknown = cli.run("runs", "show", "7")
    assert unknown.code == 2 and "no run 7" in unknown.err and "Traceback" not in unknown.err
    assert "no runs yet" in cli.run("runs").err  # "nothing to show" is not data


@pytest.mark.slow
def test_monitor_takes_the_run_as_run_too_the_name_failed_uses(sandbox, cli):
    cli.run("products", "add", *sandbox.catalog.part_numbers(5))
    assert cli.sync().code == 0 and cli.sync().code == 0
    first = cli.run("monitor", "--run", "1", "--refresh", "0.05")
    assert first.code == 0 and "run 1 " in first.out and "run 2 " not in first.out, first
    assert cli.run("monitor", "1", "--run", "1", "--refresh", "0.05").code == 0
    clash = cli.run("monitor", "1", "--run", "2")
    assert clash.code == 2 and "disagree" in clash.err and "Traceback" not in clash.err


@pytest.mark.slow
def test_runs_table_json_and_show(sandbox, cli):
    pns = sandbox.catalog.part_numbers(60)
    cli.run("products", "add", *pns)
    sandbox.reconfigure(failing_part_numbers=frozenset({pns[3]}))
    assert cli.sync("--batch-size", "20").code == 1
    sandbox.reconfigure(failing_part_numbers=frozenset())
    assert cli.sync().code == 0

    table = cli.run("runs")
    assert table.code == 0, table
    header, newest, oldest = table.out.splitlines()
    assert header.split()[:4] == ["id", "kind", "status", "started"]
    assert newest.split()[:3] == ["2", "sync", "completed"]
    assert oldest.split()[:3] == ["1", "sync", "completed_with_failures"]

    listed = json.loads(cli.run("runs", "--json").out)
    contract = {"id", "status", "started_at", "finished_at", "products", "pa_requests"}
    contract |= {"details_requests", "failures", "retries", "rate_limited"}
    assert all(contract <= set(run) for run in listed)
    assert [run["id"] for run in listed] == [2, 1]
    assert listed[1]["failures"] == 1 and listed[1]["products"] == 60  # its batch split

    (shown,) = json.loads(cli.run("runs", "show", "1", "--json").out)
    assert shown["options"]["batch_size"] == 20
    pa, details = shown["streams"]["price_availability"], shown["streams"]["details"]
    # 3 batches of 20, the failed one split into 20 of one part number (it counts no items)
    assert (pa["tasks"], pa["items"], pa["failed"], pa["pending"]) == (23, 60, 1, 0)
    assert details["tasks"] == 59 and details["seconds"] >= 0
    assert pa["first_created"] >= shown["started_at"]
    assert pa["last_finished"] <= shown["finished_at"]
    assert len(shown["failures_list"]) == 1
    assert all(f["resolved_at"] for f in shown["failures_list"])  # run 2 resolved them

    readable = cli.run("runs", "show", "1")
    assert readable.code == 0, readable
    assert readable.out.startswith("run 1 (sync) completed_with_failures")
    assert "batch_size=20" in readable.out
    assert "price & availability" in readable.out and "details" in readable.out
    assert "failures   1\n" in readable.out and "(resolved)" in readable.out
    both = json.loads(cli.run("runs", "show", "2", "1", "--json").out)
    assert [run["id"] for run in both] == [2, 1]


def sandbox_values(sandbox, pns) -> dict:
    values = {}
    for pn in pns:
        item = sandbox.catalog.price_availability_item(pn)
        price = (item.get("pricing") or item["availability"]["pricing"])["customerPrice"]
        values[pn] = {
            "customer_price": Decimal(str(price)),
            "total_availability": Decimal(item["availability"]["totalAvailability"]),
        }
    return values


@pytest.mark.slow
def test_changes_are_recorded_only_when_a_value_really_changes(sandbox, cli):
    pns = sandbox.catalog.part_numbers(100)
    cli.run("products", "add", *pns)
    assert cli.sync("--no-details").code == 0
    assert cli.sync("--no-details").code == 0
    unchanged = cli.run("changes")
    assert unchanged.out == "" and "no changes" in unchanged.err
    before = sandbox_values(sandbox, pns)

    sandbox.reconfigure(price_epoch=1)
    after = sandbox_values(sandbox, pns)
    assert cli.sync("--no-details").code == 0
    expected = {
        (pn, field, before[pn][field], after[pn][field])
        for pn in pns
        for field in ("customer_price", "total_availability")
        if before[pn][field] != after[pn][field]
    }
    assert expected, "price_epoch=1 should change some products"
    # money is a JSON number with its stored decimals: read it exactly
    everything = json.loads(cli.run("changes", "--since", "1h", "--json").out, parse_float=Decimal)
    # backorder ETAs move with stock (see test_shop_fields); price and stock are checked here
    recorded = [c for c in everything if c["field"] in ("customer_price", "total_availability")]
    assert {
        (c["ingram_part_number"], c["field"], Decimal(c["old_value"]), Decimal(c["new_value"]))
        for c in recorded
    } == expected
    assert len(recorded) == len(expected)
    assert {c["run_id"] for c in everything} == {3}
    table = cli.run("changes", "--since", "1d")
    assert len(table.out.splitlines()) == len(everything) + 1 and " -> " in table.out

    changed = {c["ingram_part_number"] for c in everything}
    filtered = json.loads(cli.run("export", "--format", "json", "--changed-since", "1h").out)
    assert {row["ingram_part_number"] for row in filtered} == changed
    bad = cli.run("changes", "--since", "yesterday")
    assert bad.code == 2 and "not a duration" in bad.err and "Traceback" not in bad.err


def test_export_status_filter_and_atomic_output(sandbox, cli, tmp_path):
    cli.run("products", "add", *sandbox.catalog.part_numbers(30), "ZZNOTREAL1", "ZZNOTREAL2")
    assert cli.sync("--no-details").code == 0
    jsonl = cli.run("export", "--format", "jsonl", "--status", "not_found")
    rows = [json.loads(line) for line in jsonl.out.splitlines()]
    assert [row["ingram_part_number"] for row in rows] == ["ZZNOTREAL1", "ZZNOTREAL2"]

    target = tmp_path / "out" / "catalog.csv"
    target.parent.mkdir()
    target.write_text("old content\n")
    old_inode = target.stat().st_ino
    statuses = ("--status", "active", "--status", "not_authorized")  # one of them is not ours
    written = cli.run("export", *statuses, "--output", str(target))
    assert written.code == 0, written
    assert "wrote 30 products" in written.err
    assert target.stat().st_ino != old_inode  # replaced by rename, never rewritten in place
    assert len(target.read_text().splitlines()) == 31
    assert sorted(os.listdir(target.parent)) == ["catalog.csv"]  # no temporary file left

    missing = cli.run("export", "--output", str(tmp_path / "nowhere" / "x.csv"))
    assert missing.code == 2 and "cannot write" in missing.err and "Traceback" not in missing.err


def test_cron_mode_quiet_success_is_silent_and_the_log_file_has_the_story(sandbox, cli, tmp_path):
    log_file = tmp_path / "ingram-sync.log"
    cli.run("products", "add", *sandbox.catalog.part_numbers(40))
    quiet = cli.run("-q", "--log-file", str(log_file), "sync", *FAST_TIMINGS)
    assert quiet.code == 0, quiet
    assert quiet.out == "" and quiet.err == ""
    logged = log_file.read_text()
    assert "INFO sync started: 40 products to price" in logged
    assert "INFO run 1 completed in" in logged
    assert all(line[:4].isdigit() and "Z ingram-sync[" in line for line in logged.splitlines())

    sandbox.reconfigure(failing_part_numbers=frozenset({sandbox.catalog.part_numbers(1)[0]}))
    config = tmp_path / "config.toml"
    config.write_text(f'log_file = "{log_file}"\n')
    config.chmod(0o600)
    failing = cli.run("-q", "--config", str(config), "sync", *FAST_TIMINGS, "--batch-size", "10")
    assert failing.code == 1, failing
    assert failing.out == ""
    # the failed part number (its batch was tried again part number by part number), the run
    warning, summary = failing.err.strip().splitlines()
    broken = sandbox.catalog.part_numbers(1)[0]
    assert f"WARNING P&A of {broken} failed" in warning and "failed after 4 attempts" in warning
    assert summary == (
        "run 2: 1 items failed: list them with `ingram-sync failed`, retry with"
        " `ingram-sync retry-failed --all`"
    )
    logged = log_file.read_text()
    assert (
        "WARNING run 2: 1 items failed" in logged and "INFO run 2 completed_with_failures" in logged
    )
    assert "sandbox-secret" not in logged

    # A log file that cannot be opened is one warning; the command still runs.
    unlogged = cli.run("-q", "--log-file", str(tmp_path / "no" / "such" / "dir.log"), "runs")
    assert unlogged.code == 0 and "completed_with_failures" in unlogged.out, unlogged
    assert unlogged.err.count("\n") == 1 and "cannot write log file" in unlogged.err


def test_log_file_masks_the_secret_and_records_errors(sandbox, cli, tmp_path):
    log_file = tmp_path / "sync.log"
    cli.run("products", "add", "ABC123")
    env = dict(cli.env, INGRAM_CLIENT_SECRET="wrong-secret-value")
    refused = Cli(env, cli.db).run("-v", "--log-file", str(log_file), "sync", *FAST_TIMINGS)
    assert refused.code == 4, refused
    logged = log_file.read_text()
    assert "ERROR" in logged or "WARNING" in logged
    assert "wrong-secret-value" not in logged and "wrong-secret-value" not in refused.err


def test_discover_dry_run_adds_nothing_and_a_real_run_adds_the_matches(sandbox, cli):
    vendor = sandbox.catalog.search_row(0)["vendorName"]
    matches = [sandbox.catalog.search_row(i)["ingramPartNumber"] for i in
               sandbox.catalog.search(vendors=[vendor])]  # fmt: skip
    assert len(matches) > 3
    cli.run("products", "add", matches[0])
    sandbox.reset_stats()

    dry = cli.run("products", "discover", "--vendor", vendor.lower(), "--dry-run")
    assert dry.code == 0, dry
    assert f"found {len(matches)}: would add {len(matches) - 1}, already tracked 1" in dry.out
    assert all(pn in dry.out for pn in matches)
    assert dry.out.splitlines()[0].startswith("part number")  # the table has a header
    assert tracked_products(cli.db) == {matches[0]}

    limit = len(matches) - 2
    real = cli.run("products", "discover", "--vendor", vendor, "--limit", str(limit))
    assert real.code == 0, real
    assert f"found {limit}: added {limit - 1}, already tracked 1" in real.out
    assert tracked_products(cli.db) == set(matches[:limit])

    none = cli.run("products", "discover", "--keyword", "no-such-product-anywhere")
    assert none.code == 0 and "found 0: added 0" in none.out
    quiet = cli.run("-q", "products", "discover", "--vendor", vendor)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    bare = cli.run("products", "discover")
    assert bare.code == 2 and "--vendor, --keyword or --category" in bare.err
    assert sandbox.stats()["calls"].get("search", 0) >= 2
