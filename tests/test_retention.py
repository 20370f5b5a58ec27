"""Bounded growth: history older than keep_days is pruned after each run, and by db prune."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.reliability import assert_consistent

from ingram.clock import format_time


def age_history(db, days: float) -> None:
    """Make every run, change and failure ``days`` old, as if synced back then."""
    then = format_time(datetime.now(UTC) - timedelta(days=days))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET started_at = ?, finished_at = ?", (then, then))
        conn.execute("UPDATE changes SET changed_at = ?", (then,))
        conn.execute("UPDATE failures SET failed_at = ?, resolved_at = ?", (then, then))
        conn.execute("UPDATE failures SET resolved_at = NULL WHERE ingram_part_number = 'ZZOPEN1'")


def counts(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = ("runs", "tasks", "changes", "failures")
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.slow
def test_history_past_keep_days_is_pruned_after_a_run_but_open_failures_stay(
    sandbox_factory, tmp_path
):
    sandbox = sandbox_factory(catalog_size=200)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    pns = sandbox.catalog.part_numbers(200)
    assert cli.run("products", "add", *pns, "ZZOPEN1").code == 0
    sandbox.reconfigure(failing_part_numbers=frozenset({"ZZOPEN1"}))
    for epoch in range(3):  # prices move: change rows; ZZOPEN1 fails: an open failure
        sandbox.reconfigure(price_epoch=epoch)
        assert cli.sync("--batch-size", "10").code == 1
    before = counts(db)
    assert before["changes"] > 0 and before["runs"] == 3
    age_history(db, 100)
    config = tmp_path / "config.toml"
    config.write_text("keep_days = 90\n")
    assert cli.run("--config", str(config), "sync", *FAST_TIMINGS, "--batch-size", "10").code == 1
    after = counts(db)
    assert after["runs"] == 1 and after["changes"] == 0
    assert after["tasks"] == before["tasks"] == 0  # each run's closed tasks dropped at its end
    with sqlite3.connect(db) as conn:
        open_failures = conn.execute(
            "SELECT ingram_part_number FROM failures WHERE resolved_at IS NULL"
        ).fetchall()
    assert open_failures == [("ZZOPEN1",)]
    assert_consistent_without_open_failures(db)


def assert_consistent_without_open_failures(db) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.slow
def test_db_prune_frees_the_space_and_keeps_a_run_owed_work(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=500)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(500)).code == 0
    for epoch in range(4):
        sandbox.reconfigure(price_epoch=epoch)
        assert cli.sync("--batch-size", "5", "--refresh-details").code == 0
    with sqlite3.connect(db) as conn:  # a stopped run still owed work is never pruned
        conn.execute(
            "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at)"
            " SELECT MIN(id), 'price_availability', json_array(?), 1, started_at FROM runs",
            (sandbox.catalog.part_numbers(1)[0],),
        )
    size = db.stat().st_size
    result = cli.run("db", "prune", "--older-than", "0")
    assert result.code == 0, result
    assert "pruned 2 runs" in result.out, result.out  # not the newest, not the one owed work
    assert counts(db)["runs"] == 2
    freed = int(result.out.rsplit("freed ", 1)[1].split()[0])
    assert freed > 0 and db.stat().st_size <= size - freed * 4096, (size, db.stat().st_size)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert cli.sync().code == 0  # finishes the owed task
    assert_consistent(db)
