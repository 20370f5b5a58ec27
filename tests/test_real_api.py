"""Issue 10: the client against the sandbox in its realistic mode (the vendor's documented ways)."""

from __future__ import annotations

import json
import time

import pytest
from clirunner import Cli, cli_env


@pytest.fixture
def realistic(sandbox_factory):
    def start(**overrides):
        overrides.setdefault("realistic", True)
        return sandbox_factory(**overrides)

    return start


def cli_of(server, tmp_path, **env) -> Cli:
    db = tmp_path / "catalog.db"
    return Cli(cli_env(server.url, db, **env), db)


def run_json(cli: Cli, run_id: int) -> dict:
    shown = cli.run("runs", "show", str(run_id), "--json")
    assert shown.code == 0, shown
    return json.loads(shown.out)


def test_a_run_far_faster_than_the_vendor_allows_follows_its_headers(realistic, tmp_path):
    limit, window, batches = 10, 0.5, 60
    server = realistic(pa_rate_limit=limit, rate_window=window, catalog_size=batches * 5)
    cli = cli_of(server, tmp_path)
    assert cli.run("products", "add", *server.catalog.part_numbers(batches * 5)).code == 0
    started = time.monotonic()
    result = cli.sync("--no-details", "--batch-size", "5", "--max-concurrent", "5")
    elapsed = time.monotonic() - started
    assert result.code == 0, result
    stats = server.stats()
    assert stats["calls"]["price_and_availability"] - batches <= 2  # at most 2 429s retried
    assert stats["rate_limited"]["price_and_availability"] <= 2
    floor = batches / limit * window  # the vendor's window floor: 3.0 s
    # The sync's process start-up (about a second under load) is not the pacing's doing.
    startup = run_json(cli, 1)["streams"]["price_availability"]["seconds"]
    assert startup is not None and startup <= 1.25 * floor, (startup, floor, elapsed)
    pacing = run_json(cli, 1)["pacing"]["price_and_availability"]
    assert pacing["limit"] == limit and pacing["waits"] >= 1
    shown = cli.run("runs", "show", "1")
    assert f"P&A: limit {limit} a window" in shown.out, shown


def test_slow_details_say_how_many_workers_would_reach_the_limit(realistic, tmp_path):
    server = realistic(latency=0.05, catalog_size=20)
    cli = cli_of(server, tmp_path)
    assert cli.run("products", "add", *server.catalog.part_numbers(8)).code == 0
    result = cli.sync("--details-interval", "0.01")
    assert result.code == 0, result
    assert "--details-workers" in result.err and "cannot reach the limit" in result.err, result
    shown = cli.run("runs", "show", "1")
    assert "advice     details answers took" in shown.out, shown
    again = cli.sync("--details-interval", "0.2", "--refresh-details")
    assert "--details-workers" not in again.err, again
