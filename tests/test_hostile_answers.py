"""Hostile files, answers and clocks: a line rejected, a run stopped, a skip never forever."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from support.client_support import Reply, client_for
from support.clirunner import FAST_TIMINGS, Cli, cli_env

from ingram.clock import format_time
from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.sync import NoProgress, SyncOptions, run_sync


def test_a_128_kib_csv_field_rejects_its_line_not_the_file(tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    path = tmp_path / "in.csv"
    path.write_text(f'ingramPartNumber\nGOOD1\n"{"X" * 131_072}"\nGOOD2\n', encoding="utf-8")
    result = cli.run("products", "import", str(path))
    assert result.code == 1, result  # some lines rejected
    assert "added 2, already tracked 0, rejected 1" in result.out
    assert "line 3: 'XXXX" in result.err and "too long" in result.err
    assert "Traceback" not in result.err


def test_a_token_with_control_characters_stops_the_run_without_failure_rows(stub, tmp_path):
    server = stub(lambda seen: Reply(500))
    server.token_reply = lambda seen: Reply(200, {"access_token": "ok\r\nX-Evil: 1"})
    store = Store.open(tmp_path / "c.db")
    add_products(store, ["6YE881", "4A0036"])
    with client_for(server) as client:
        summary = run_sync(store, client, SyncOptions(), NoProgress())
    assert summary.status == "failed" and "no header can carry" in summary.message
    assert server.api_requests() == []  # the token never went into a header
    failures = store.db.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
    assert failures == 0


def test_min_interval_after_the_clock_stepped_back_warns_and_syncs(sandbox, tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(5)).code == 0
    assert cli.sync().code == 0
    tomorrow = format_time(datetime.now(UTC) + timedelta(days=1))
    with sqlite3.connect(db) as conn:  # as if the clock stepped back a day since that run
        conn.execute("UPDATE runs SET finished_at = ?", (tomorrow,))
    result = cli.run("sync", *FAST_TIMINGS, "--min-interval", "1h")
    assert result.code == 0, result
    assert "in the future" in result.err and "completed" in result.out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
