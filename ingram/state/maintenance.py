"""Looking after the database file: integrity check and retention.

Also what marks a demo database, so that the demo never touches a real catalog.

Example::

    problems = integrity_problems(store)      # [] when the file is sound

The online backup lives in ``backups``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingram.clock import format_time
from ingram.errors import StoreError
from ingram.state.store import Store

PRUNE_CHUNK = 2_000  # rows deleted per commit: a sync waiting for the lock waits briefly


def integrity_problems(store: Store, most: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` and the foreign-key check find; empty when sound."""
    found = [row[0] for row in store.db.execute(f"PRAGMA integrity_check({most})")]
    problems = [] if found == ["ok"] else found
    for table, rowid, parent, _ in store.db.execute("PRAGMA foreign_key_check"):
        problems.append(f"row {rowid} of {table} points to a missing row of {parent}")
    return problems[:most]


DEMO_APPLICATION_ID = 0x494E4744  # "INGD" in the SQLite header: a database the demo made


def check_demo_database(path: Path) -> None:
    """Refuse ``path`` for the demo unless it is new, empty or a demo database already.

    The demo marks every product not in its fake catalog ``not_found`` and adds
    fake part numbers that later real syncs would send to Ingram.
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from error
    if int.from_bytes(header[68:72], "big") != DEMO_APPLICATION_ID:
        raise StoreError(
            f"{path} is not a demo database: the demo never touches a real catalog;"
            " run it without --db (it uses its own file) or give a new file"
        )


def mark_demo(store: Store) -> None:
    store.db.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")


@dataclass(frozen=True)
class Pruned:
    runs: int
    failures: int
    changes: int
    pages_freed: int


# What retention deletes, oldest first. A run still owed work, the newest run and an
# unresolved failure are never pruned; deleting a run deletes its tasks (ON DELETE CASCADE).
PRUNE_STATEMENTS = {
    "runs": "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at < :cutoff"
    " AND status != 'running' AND id < (SELECT MAX(id) FROM runs) AND NOT EXISTS"
    " (SELECT 1 FROM tasks WHERE tasks.run_id = runs.id AND tasks.state = 'pending')"
    " ORDER BY id LIMIT :chunk)",
    "failures": "DELETE FROM failures WHERE id IN (SELECT id FROM failures"
    " WHERE resolved_at < :cutoff ORDER BY id LIMIT :chunk)",
    "changes": "DELETE FROM changes WHERE id IN (SELECT id FROM changes"
    " WHERE changed_at < :cutoff ORDER BY id LIMIT :chunk)",
}


def prune(store: Store, older_than: float, *, compact: bool = False) -> Pruned:
    """Delete runs (with their tasks), resolved failures and changes older than ``older_than`` s.

    A chunk per commit, so a sync waiting for the write lock never waits long.
    The freed pages go back to the file system (incremental vacuum); ``compact``
    first converts a database made before that was possible (a full VACUUM).
    """
    cutoff = format_time(datetime.now(UTC) - timedelta(seconds=older_than))
    deleted = dict.fromkeys(PRUNE_STATEMENTS, 0)
    for table, statement in PRUNE_STATEMENTS.items():
        while True:
            with store.write() as db:
                count = db.execute(statement, {"cutoff": cutoff, "chunk": PRUNE_CHUNK}).rowcount
            deleted[table] += count
            if count < PRUNE_CHUNK:
                break
    return Pruned(deleted["runs"], deleted["failures"], deleted["changes"], reclaim(store, compact))


def reclaim(store: Store, compact: bool) -> int:
    """Give free pages back to the file system; return how many."""
    free = store.db.execute("PRAGMA freelist_count").fetchone()[0]
    if not free:
        return 0
    incremental = store.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    if incremental:
        with store.write() as db:
            # Python's sqlite3 steps this pragma once, and each step frees one page.
            for _ in range(free):
                db.execute("PRAGMA incremental_vacuum(1)")
    elif compact:
        store.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        store.db.execute("VACUUM")  # once: from then on the database vacuums incrementally
    else:
        return 0
    # The file shrinks when the pages are checkpointed: now, not at some later command.
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return free
