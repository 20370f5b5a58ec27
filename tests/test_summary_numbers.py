"""Numbers that add up: the run summary counts failed items as failed, within 100 columns."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from support.clirunner import Cli, cli_env, isolated_env, wait_for_running_run


@pytest.mark.slow
def test_summary_counts_failed_details_as_failed_and_fits_100_columns(sandbox_factory, tmp_path):
    probe = sandbox_factory(catalog_size=40)
    pns = sorted(probe.catalog.part_numbers(40))  # the order batches are planned in
    sandbox = sandbox_factory(
        catalog_size=40,
        failing_part_numbers=[pns[0]],  # its batch of 10 fails, then it alone
        failing_details_part_numbers=pns[20:23],
    )
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *pns)
    result = cli.sync("--batch-size", "10")
    assert result.code == 1, result
    first, failed, second = result.out.splitlines()
    assert first.startswith("run 1 completed_with_failures in ")
    assert first.endswith(": 39 priced, 0 not found, 36 details")  # 39 asked for, 3 failed
    assert failed == "  failed: 1 P&A, 3 details"
    # 3 batches; the failed one (4 attempts), then its 10 alone (the failing one 4 attempts);
    # the failed details items 4 attempts each
    assert second == "  requests: 20 P&A, 48 details; 15 retries, 0 rate-limited (429)"
    assert all(len(line) <= 100 for line in result.out.splitlines()), result.out


@pytest.mark.slow
def test_runs_show_lists_every_option_as_typed_and_no_internals(sandbox, tmp_path):
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(5))
    result = cli.run(
        "sync", "--pa-rate", "6000", "--details-interval", "0.002",
        "--pa-retry-waits", "0.01,0.02", "--details-retry-waits", "", "--timeout", "5",
        "--details-max-age", "3d", "--min-interval", "90m", "--batch-size", "2",
    )  # fmt: skip
    assert result.code == 0, result
    (shown,) = json.loads(cli.run("runs", "show", "1", "--json").out)  # an array, as everywhere
    options = shown["options"]
    assert options == {
        "batch_size": 2,
        "max_concurrent": 5,
        "details_workers": 1,
        "details": True,
        "details_max_age": "3d",
        "refresh_details": False,
        "details_source": "details",
        "min_interval": "90m",
        "keep_days": "90d",
        "force": False,
        "skus": [],
        "pa_rate": "6000/min",
        "details_interval": "0.002s",
        "pa_retry_waits": "0.01,0.02",
        "details_retry_waits": "none",
        "timeout": "5s",
        "deadline": "120s",
        "outage_limit": "2m",
    }
    text = cli.run("runs", "show", "1").out
    assert "pa_rate=6000/min" in text and "details=yes" in text and "grace" not in text


@pytest.mark.slow
def test_runs_shows_a_run_whose_process_died_without_waiting_for_the_next_sync(
    sandbox_factory, tmp_path
):
    sandbox = sandbox_factory(catalog_size=300)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(300))
    victim = cli.start("sync", "--pa-rate", "6000", "--details-interval", "0.05")
    wait_for_running_run(cli.db)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    table = cli.run("runs").out.splitlines()
    assert table[1].split()[2] == "died", table
    (run,) = json.loads(cli.run("runs", "--json").out)
    assert run["status"] == "running" and run["process_gone"] is True
    assert cli.run("runs", "show", "1").out.startswith("run 1 (sync) died")


@pytest.mark.slow
def test_item_failures_are_warnings_naming_the_stream_as_users_see_it(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=10, failing_details_part_numbers=["6YE881"])
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", "6YE881")
    result = cli.sync("-q")
    assert result.code == 1
    assert "WARNING details of 6YE881 failed: details request for 6YE881 failed after 4" in (
        result.err
    )
    assert "price_availability" not in result.err
    table = cli.run("failed").out
    assert "price_availability" not in table and " details " in table
    assert json.loads(cli.run("failed", "--json").out)[0]["kind"] == "details"  # the contract
    log = tmp_path / "s.log"
    cli.sync("--log-file", str(log), "--sku", "4A0036")
    assert "sync started: 1 product to price" in log.read_text()


def test_sku_says_it_tracks_an_untracked_part_number(sandbox, tmp_path):
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", "6YE881")
    result = cli.sync("--sku", "4a0036", "--sku", "6YE881")
    assert result.code == 0, result
    assert "--sku: tracking 4A0036 from now on" in result.err
    assert "4A0036" in cli.run("products", "list").out
    again = cli.sync("--sku", "4A0036")
    assert "tracking" not in again.err


def test_demo_states_the_documented_limits_and_says_when_it_reuses_its_database(tmp_path):
    env = isolated_env(tmp_path)

    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ingram", "demo", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = demo("--catalog-size", "30")
    assert first.returncode == 0, first.stderr
    assert "Ingram documents 60 calls a minute per endpoint" in first.stderr
    assert "reused" not in first.stderr
    # the demo tracks one vendor's products from the sandbox's price file, then syncs them:
    # the first sync's summary, then stock pushed by webhook, then the second sync's on stdout
    tracked = re.search(r"tracking the (\d+) active products", first.stderr)[1]
    assert f": {tracked} priced, 0 not found, {tracked} details" in first.stderr
    assert "run 2 completed" in first.stdout and f": {tracked} priced, 0 not found" in first.stdout
    again = demo("--products", "20")  # the old name still works
    assert again.returncode == 0, again.stderr
    assert "ingram_sync_demo.db (reused: delete it to start fresh)" in again.stderr
