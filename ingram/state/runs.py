"""The ``runs`` table: one row per sync or retry, its status, counters and pacing."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Sequence
from typing import Any

from ingram.clock import parse_time, utc_now
from ingram.models import Record, Waiting
from ingram.state.lock import locked_error, process_alive
from ingram.state.store import Store


def create_run(store: Store, kind: str, options: dict[str, Any]) -> int:
    with store.write() as db:
        cursor = db.execute(
            "INSERT INTO runs (kind, status, started_at, options, pid, host)"
            " VALUES (?, 'running', ?, ?, ?, ?)",
            (kind, utc_now(), json.dumps(options), os.getpid(), socket.gethostname()),
        )
        return int(cursor.lastrowid or 0)


def finish_run(store: Store, run_id: int, status: str, last_error: str | None = None) -> None:
    with store.write() as db:
        db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, last_error = COALESCE(?, last_error),"
            " activity = NULL WHERE id = ?",
            (status, utc_now(), last_error, run_id),
        )


def interrupt_dead_runs(store: Store) -> list[sqlite3.Row]:
    """Mark runs left ``running`` as interrupted; return them, oldest first.

    Call only while holding the sync lock. A live sync would hold it, but
    its lock file may have been deleted under it: a run whose process
    still runs on this host is never declared dead (LockedError instead).
    """
    with store.write() as db:
        dead = db.execute(
            "SELECT id, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY id"
        ).fetchall()
        for run in dead:
            if run["pid"] != os.getpid() and process_alive(
                run["pid"], run["host"], parse_time(run["started_at"])
            ):
                raise locked_error(run["pid"])
        db.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?,"
            " last_error = COALESCE(last_error, 'the process died; resumed by a later sync')"
            " WHERE status = 'running'",
            (utc_now(),),
        )
    return dead


def last_full_sync(store: Store) -> sqlite3.Row | None:
    """The latest sync of every tracked product (not ``--sku``, not a retry) that ended."""
    return store.db.execute(
        "SELECT * FROM runs WHERE kind = 'sync' AND finished_at IS NOT NULL"
        " AND status IN ('completed', 'completed_with_failures')"
        " AND json_array_length(options, '$.skus') = 0 ORDER BY id DESC LIMIT 1"
    ).fetchone()


def last_run(store: Store, statuses: Sequence[str] = ()) -> sqlite3.Row | None:
    clause = f"WHERE status IN ({','.join('?' * len(statuses))})" if statuses else ""
    return store.db.execute(
        f"SELECT * FROM runs {clause} ORDER BY id DESC LIMIT 1", tuple(statuses)
    ).fetchone()


def run_row(store: Store, run_id: int) -> sqlite3.Row | None:
    return store.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()


def known_run(store: Store, run_id: int) -> sqlite3.Row:
    """The row of a run this process created or already found (a LookupError if gone)."""
    row = run_row(store, run_id)
    if row is None:
        raise LookupError(f"no run {run_id}")
    return row


def recent_runs(store: Store, limit: int = 20) -> list[sqlite3.Row]:
    return store.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()


def add_run_counts(store: Store, db: sqlite3.Connection, run_id: int, **increments: int) -> None:
    """Add to a run's counters inside the caller's transaction."""
    sets = ", ".join(f"{name} = {name} + ?" for name in increments)
    db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*increments.values(), run_id))


def set_run_pacing(store: Store, db: sqlite3.Connection, run_id: int, pacing: Any) -> None:
    """What the vendor's rate-limit headers said, per endpoint (JSON)."""
    db.execute("UPDATE runs SET pacing = ? WHERE id = ?", (json.dumps(pacing), run_id))


def set_run_answers(
    store: Store, db: sqlite3.Connection, run_id: int, answers: dict[str, dict[str, int]]
) -> None:
    """Every answer of the run, counted by endpoint and HTTP status (JSON)."""
    db.execute("UPDATE runs SET answers = ? WHERE id = ?", (json.dumps(answers), run_id))


def set_run_counts(store: Store, db: sqlite3.Connection, run_id: int, **values: int) -> None:
    sets = ", ".join(f"{name} = ?" for name in values)
    db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))


def recount_failures(store: Store, run_id: int) -> None:
    """The run's failure count as the failures it recorded that are still there: a product
    removed during the run takes its open failures with it, and the run must not say
    "50 items failed" (and exit 1) while ``failed`` lists nothing."""
    with store.write() as db:
        db.execute(
            "UPDATE runs SET failures = (SELECT COUNT(*) FROM failures"
            " WHERE failures.run_id = runs.id AND resolved_at IS NULL) WHERE id = ?",
            (run_id,),
        )


def set_run_activity(store: Store, run_id: int, waits: Sequence[Waiting]) -> None:
    """The retry waits of a running run (``monitor`` shows them); none: NULL."""
    text = json.dumps([wait.as_json() for wait in waits]) if waits else None
    with store.write() as db:
        db.execute("UPDATE runs SET activity = ? WHERE id = ?", (text, run_id))


def run_activity(row: Record) -> tuple[Waiting, ...]:
    """The waits a runs row holds (none for a row written before migration 16)."""
    try:
        text = row["activity"]
    except (IndexError, KeyError):
        return ()
    return tuple(Waiting.from_json(item) for item in json.loads(text)) if text else ()
