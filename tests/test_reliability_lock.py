"""One sync per database, whatever happens to the lock file or the path used to reach it."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.clirunner import Cli
from support.processes import Started
from support.reliability import assert_consistent, connect, start_sync

from ingram.clock import format_time
from ingram.errors import LockedError, StoreError
from ingram.state.lock import SyncLock, process_alive
from ingram.state.runs import create_run, interrupt_dead_runs, run_row
from ingram.state.store import Store

SLOW_DETAILS = ("--details-interval", "0.15")  # 30 products: about 4.5 s of details


def start_slow_sync(cli: Cli, tmp_path: Path) -> Started:
    first = start_sync(cli, tmp_path / "first.log", *SLOW_DETAILS)
    deadline = time.monotonic() + 20
    while not running_runs(cli.db):
        assert time.monotonic() < deadline and first.poll() is None, "first sync never started"
        time.sleep(0.02)
    return first


def running_runs(db: Path) -> list[int]:
    if not db.exists():
        return []
    conn = connect(db)
    try:
        tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchall()
        if not tables:
            return []
        return [r[0] for r in conn.execute("SELECT id FROM runs WHERE status = 'running'")]
    finally:
        conn.close()


@pytest.fixture
def tracked(sandbox, make_cli) -> Cli:
    cli = make_cli(sandbox, "real/c.db")
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(30)).code == 0
    return cli


def finish_first(first: Started, cli: Cli) -> None:
    assert first.wait(60) == 0
    assert_consistent(cli.db)
    statuses = [r[0] for r in connect(cli.db).execute("SELECT status FROM runs")]
    assert statuses == ["completed"], statuses  # never declared dead by the second


@pytest.mark.slow
def test_second_sync_through_a_symlinked_path_exits_3(tracked, tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(tracked.db)
    first = start_slow_sync(tracked, tmp_path)
    second = Cli(tracked.env | {"INGRAM_SYNC_DB": str(link)}, link).sync()
    assert second.code == 3, second
    assert f"pid {first.pid}" in second.err and "Traceback" not in second.err
    finish_first(first, tracked)


@pytest.mark.slow
def test_second_sync_after_the_lock_file_is_deleted_exits_3(tracked, tmp_path):
    first = start_slow_sync(tracked, tmp_path)
    lock = tracked.db.with_name("c.db.lock")
    lock.unlink()
    second = tracked.sync()
    assert second.code == 3, second
    assert f"pid {first.pid}" in second.err and "Traceback" not in second.err
    finish_first(first, tracked)


def test_a_symlink_planted_at_the_lock_path_is_refused_and_its_target_kept(tracked, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    tracked.db.with_name("c.db.lock").symlink_to(target)
    result = tracked.sync()
    assert result.code == 2, result
    assert "symlink" in result.err and result.err.count("\n") == 1, result.err
    assert target.read_text() == "keep me\n"


def test_a_lock_path_that_is_not_a_regular_file_is_refused(tmp_path):
    db = tmp_path / "c.db"
    os.mkfifo(tmp_path / "c.db.lock")
    with pytest.raises(StoreError, match="not a regular file"), SyncLock(db):
        pass


def test_a_live_process_is_never_declared_dead(tmp_path):
    """The lock file was deleted: the run row's live pid still keeps a second sync out."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.05)
        store = Store.open(tmp_path / "s.db")
        run_id = create_run(store, "sync", {})
        store.db.execute("UPDATE runs SET pid = ? WHERE id = ?", (sleeper.pid, run_id))
        with pytest.raises(LockedError, match=f"pid {sleeper.pid}"):
            interrupt_dead_runs(store)
        assert run_row(store, run_id)["status"] == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [row["id"] for row in interrupt_dead_runs(store)] == [run_id]


def test_a_pid_reused_by_a_younger_process_is_not_the_run(tmp_path):
    sleeper = subprocess.Popen(["sleep", "30"])  # started now: after the run "an hour ago"
    try:
        store = Store.open(tmp_path / "s.db")
        run_id = create_run(store, "sync", {})
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        store.db.execute(
            "UPDATE runs SET pid = ?, started_at = ? WHERE id = ?",
            (sleeper.pid, format_time(an_hour_ago), run_id),
        )
        assert process_alive(sleeper.pid, run_row(store, run_id)["host"], an_hour_ago) is False
        assert [row["id"] for row in interrupt_dead_runs(store)] == [run_id]
    finally:
        sleeper.kill()
        sleeper.wait()
