"""``ingram-sync webhook serve`` as a real process: kills between acknowledgement and apply."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.webhook_support import (
    LATER,
    SECRET,
    Serving,
    applied_events,
    hours_ago,
    post,
    query,
    serve_env,
    stock_event,
    stock_of,
    track,
    wait_for,
)

from ingram.webhook.receiver import spool_dir_for


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "catalog.db"
    track(path, {"AAA111": 10, "BBB222": 0})
    yield path


def test_sigkill_between_acknowledgement_and_apply_loses_nothing(db: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    first = Serving(db, log)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the writer cannot apply: acknowledged, not yet applied
    try:
        for number, stock in enumerate(({"AAA111": 41}, {"BBB222": 5}, {"AAA111": 42}), 1):
            when = hours_ago(1 - number / 3600)  # a second apart, in order
            answer = post(first.url, stock_event(f"EV-{number}", when, stock), timeout=3)
            assert answer.status_code == 200, answer.text
        replay = post(first.url, stock_event("EV-1", LATER, {"AAA111": 999}), timeout=3)
        assert replay.json() == {"status": "duplicate"}  # still waiting in the spool
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert applied_events(db) == 0
    assert stock_of(db, "AAA111")["total_availability"] == 10
    assert len(list(spool_dir_for(db).glob("*.json"))) == 3

    second = Serving(db, log)
    try:
        wait_for(lambda: applied_events(db) == 3, what="spooled events applied after restart")
        assert stock_of(db, "AAA111")["total_availability"] == 42
        assert stock_of(db, "BBB222")["total_availability"] == 5
        assert list(spool_dir_for(db).glob("*")) == []
    finally:
        assert second.stop() == 0
    changes = query(db, "SELECT ingram_part_number, new_value FROM changes ORDER BY id")
    expected = [("AAA111", "41"), ("AAA111", "42"), ("BBB222", "5")]
    assert sorted(tuple(row) for row in changes) == expected
    text = log.read_text()
    assert "webhook event EV-3" in text  # one line per event
    assert SECRET not in text
    assert "x-hub-signature" not in text.lower().replace("no x-hub-signature header", "")


def test_sigkill_after_commit_before_spool_cleanup_applies_nothing_twice(
    db: Path, tmp_path: Path
) -> None:
    """A spool file whose event is already in the database (killed after the commit) is dropped."""
    log = tmp_path / "serve.log"
    first = Serving(db, log)
    post(first.url, stock_event("EV-1", LATER, {"AAA111": 41}))
    wait_for(lambda: applied_events(db) == 1, what="applied")
    spool = spool_dir_for(db)
    wait_for(lambda: not list(spool.glob("*.json")), what="spool emptied")
    # put the applied event back, as if the kill came between COMMIT and unlink
    (spool / "00000000000000000001-restored.json").write_text(
        '{"received_at": "2026-06-01T10:00:00.000Z", "event": {"event_id": "EV-1",'
        ' "event_time": "2026-06-01T10:00:00.000Z", "resources": [{"ingram_part_number":'
        ' "AAA111", "total_availability": 999}]}}'
    )
    (spool / "00000000000000000002-foreign.json").write_text("not an event")
    first.stop(signal.SIGKILL)
    second = Serving(db, log)
    try:
        wait_for(lambda: not list(spool.glob("*.json")), what="restored file handled")
        assert (spool / "00000000000000000002-foreign.json.bad").exists()  # set aside, not fatal
        assert post(second.url, stock_event("EV-2", LATER, {"BBB222": 4})).status_code == 200
        wait_for(lambda: applied_events(db) == 2, what="the writer still works")
        assert stock_of(db, "AAA111")["total_availability"] == 41
        assert query(db, "SELECT replays FROM webhook_events")[0][0] == 1
    finally:
        second.stop()


def test_serve_without_a_secret_says_what_to_set(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ingram", "webhook", "serve", "--port", "0"],
        env=serve_env(db),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "INGRAM_WEBHOOK_SECRET" in done.stderr
    assert "Traceback" not in done.stderr
