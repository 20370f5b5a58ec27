"""The ``tasks`` table: a run's P&A batches and details items, pending until closed.

A run pulls its pending tasks in id order (``open_tasks``), a bounded number at
a time; a later run takes over what a stopped one left (``adopt_open_tasks``,
``supersede_open_tasks``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from ingram.clock import utc_now
from ingram.state.runs import add_run_counts
from ingram.state.store import PLAN_GROUP, TASK_CHUNK, Store, batched
from ingram.vocab import StreamKind


def plan_pa_tasks(store: Store, run_id: int, batches: Iterable[Sequence[str]]) -> None:
    """Create one pending P&A task per batch and count the run's work.

    ``batches`` may be a lazy iterator (``iter_tracked`` through ``batched``): it is
    consumed a group at a time, so planning 100,000 products holds no list of them.
    """
    now = utc_now()
    tasks = products = 0
    with store.write() as db:
        for group in batched(batches, PLAN_GROUP):
            db.executemany(
                "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(run_id, StreamKind.PA, json.dumps(list(b)), len(b), now) for b in group],
            )
            tasks += len(group)
            products += sum(len(b) for b in group)
        store.note_tasks_added()
        add_run_counts(store, db, run_id, pa_batches=tasks, products=products)


def plan_details_tasks(
    store: Store, db: sqlite3.Connection, run_id: int, pns: Sequence[str], size: int = 1
) -> None:
    """Queue details tasks of ``size`` part numbers in the caller's transaction."""
    now = utc_now()
    db.executemany(
        "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at) VALUES (?, ?, ?, ?, ?)",
        (
            (run_id, StreamKind.DETAILS, json.dumps(group), len(group), now)
            for group in batched(pns, size)
        ),
    )
    if pns:
        store.note_tasks_added()
        add_run_counts(store, db, run_id, details_total=len(pns))


def open_tasks(
    store: Store, run_ids: Sequence[int], kind: str, after_id: int, limit: int = TASK_CHUNK
) -> list[tuple[int, list[str]]]:
    """Pending tasks of ``kind`` in ``run_ids`` with id above ``after_id``, by id."""
    marks = ",".join("?" * len(run_ids))
    rows = store.db.execute(
        f"SELECT id, part_numbers FROM tasks WHERE run_id IN ({marks}) AND kind = ?"
        " AND state = 'pending' AND id > ? ORDER BY id LIMIT ?",
        (*run_ids, kind, after_id, limit),
    ).fetchall()
    return [(row[0], json.loads(row[1])) for row in rows]


def adopt_open_tasks(
    store: Store,
    from_runs: Sequence[int],
    run_id: int,
    kinds: Sequence[str] = (StreamKind.PA, StreamKind.DETAILS),
) -> None:
    """Move the unfinished tasks (of ``kinds``) of stopped runs to ``run_id``, done first."""
    if not from_runs:
        return
    marks = ",".join("?" * len(from_runs))
    kind_marks = ",".join("?" * len(kinds))
    scope = f"run_id IN ({marks}) AND state = 'pending' AND kind IN ({kind_marks})"
    with store.write() as db:
        # Several stopped runs may owe the same item: it is adopted once.
        db.execute(
            f"UPDATE tasks SET state = 'superseded', finished_at = ? WHERE {scope}"
            f" AND id NOT IN (SELECT MIN(id) FROM tasks WHERE {scope}"
            " GROUP BY kind, part_numbers)",
            (utc_now(), *from_runs, *kinds, *from_runs, *kinds),
        )
        totals = dict.fromkeys((StreamKind.PA, StreamKind.DETAILS), (0, 0))
        for kind, count, size in db.execute(
            f"SELECT kind, COUNT(*), SUM(size) FROM tasks WHERE {scope} GROUP BY kind",
            (*from_runs, *kinds),
        ):
            totals[kind] = (count, size)
        db.execute(f"UPDATE tasks SET run_id = ? WHERE {scope}", (run_id, *from_runs, *kinds))
        store.note_tasks_added()
        add_run_counts(
            store,
            db,
            run_id,
            pa_batches=totals[StreamKind.PA][0],
            products=totals[StreamKind.PA][1],
            details_total=totals[StreamKind.DETAILS][1],
        )


def supersede_open_tasks(store: Store, from_runs: Sequence[int], kind: str) -> set[str]:
    """Close the pending ``kind`` tasks of stopped runs; return their part numbers.

    The caller plans them afresh in its own full batches (in the same
    transaction), so items owed by several killed runs cost one call, not one each.
    """
    owed = open_task_part_numbers(store, from_runs, kind) if from_runs else set()
    if owed:
        marks = ",".join("?" * len(from_runs))
        with store.write() as db:
            db.execute(
                "UPDATE tasks SET state = 'superseded', finished_at = ?"
                f" WHERE run_id IN ({marks}) AND kind = ? AND state = 'pending'",
                (utc_now(), *from_runs, kind),
            )
    return owed


def runs_with_open_tasks(store: Store, exclude: int, kind: str | None = None) -> list[int]:
    """Runs other than ``exclude`` that are over but left pending tasks, oldest first.

    Call only while holding the sync lock. A run stopped by a signal or a
    credentials error leaves its unsent tasks pending, and a sync killed
    between marking a dead run and adopting its tasks leaves them with a
    run that is no longer ``running``: all of these are still owed.
    """
    rows = store.db.execute(
        "SELECT id FROM runs WHERE id != ? AND status != 'running' AND kind = COALESCE(?, kind)"
        " AND EXISTS (SELECT 1 FROM tasks WHERE tasks.run_id = runs.id"
        " AND tasks.state = 'pending') ORDER BY id",
        (exclude, kind),
    )
    return [row[0] for row in rows]


def open_task_part_numbers(store: Store, run_ids: Sequence[int], kind: str) -> set[str]:
    found: set[str] = set()
    after = 0
    while chunk := open_tasks(store, run_ids, kind, after):
        for task_id, pns in chunk:
            found.update(pns)
            after = task_id
    return found


def close_task(
    store: Store, db: sqlite3.Connection, task_id: int, state: str, attempts: int, error: str | None
) -> None:
    db.execute(
        "UPDATE tasks SET state = ?, attempts = attempts + ?, finished_at = ?, error = ?"
        " WHERE id = ?",
        (state, attempts, utc_now(), error, task_id),
    )


def count_task_attempt(store: Store, task_id: int, attempts: int, error: str) -> None:
    """Record attempts spent on a task that stays pending (a cancelled call)."""
    with store.write() as db:
        db.execute(
            "UPDATE tasks SET attempts = attempts + ?, error = ? WHERE id = ?",
            (attempts, error, task_id),
        )


def split_task(
    store: Store, run_id: int, task_id: int, pns: Sequence[str], attempts: int, error: str
) -> None:
    """Close a P&A task whose retries are spent and plan each of its part numbers alone.

    One part number the vendor cannot answer must not sink its batch: alone, the healthy
    ones are priced and only that one fails. The task counts as a batch done.
    """
    now = utc_now()
    with store.write() as db:
        close_task(store, db, task_id, "split", attempts, error)
        db.executemany(
            "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at)"
            " VALUES (?, ?, ?, 1, ?)",
            [(run_id, StreamKind.PA, json.dumps([pn]), now) for pn in pns],
        )
        store.note_tasks_added()
        add_run_counts(store, db, run_id, pa_batches=len(pns), pa_batches_done=1)
