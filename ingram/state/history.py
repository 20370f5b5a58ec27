"""Reading what syncs recorded: failures, changes and runs, as plain dicts for output.

Example::

    for failure in list_failures(store, run_id=3):
        print(failure["ingram_part_number"], failure["error"])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ingram.state.store import Store

FAILURE_FIELDS = (
    "id",
    "run_id",
    "kind",
    "ingram_part_number",
    "error",
    "error_kind",
    "http_status",
    "attempts",
    "failed_at",
    "resolved_at",
)
RUN_FIELDS = (
    "id",
    "kind",
    "status",
    "started_at",
    "finished_at",
    "products",
    "pa_batches",
    "pa_batches_done",
    "pa_products_done",
    "not_found",
    "details_total",
    "details_done",
    "failures",
    "pa_requests",
    "details_requests",
    "search_requests",
    "token_requests",
    "retries",
    "rate_limited",
    "pid",
    "host",
    "last_error",
)


def list_failures(
    store: Store, *, run_id: int | None = None, include_resolved: bool = False
) -> list[dict[str, Any]]:
    where, params = [], []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if not include_resolved:
        where.append("resolved_at IS NULL")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {', '.join(FAILURE_FIELDS)} FROM failures {clause} ORDER BY id"
    return [dict(row) for row in store.db.execute(sql, params)]


def failures_by_id(store: Store, ids: Sequence[int]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(ids))
    sql = f"SELECT {', '.join(FAILURE_FIELDS)} FROM failures WHERE id IN ({marks}) ORDER BY id"
    return [dict(row) for row in store.db.execute(sql, tuple(ids))]


def flush_failures(store: Store, *, everything: bool) -> int:
    """Delete resolved failures (or all of them); return how many went."""
    clause = "" if everything else " WHERE resolved_at IS NOT NULL"
    with store.write() as db:
        return db.execute(f"DELETE FROM failures{clause}").rowcount


def list_changes(
    store: Store,
    *,
    since: str | None = None,
    source: str | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Changes in the order recorded (or the newest first, as ``changes`` shows them);
    ``source`` is ``sync``, ``webhook`` (pushed stock) or ``pricefile``."""
    where, params = [], []
    if since:
        where.append("changed_at >= ?")
        params.append(since)
    if source:
        where.append("source = ?")
        params.append(source)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = (
        "SELECT id, run_id, ingram_part_number, field, old_value, new_value, changed_at, source,"
        f" event_id FROM changes {clause} ORDER BY id{' DESC' if newest_first else ''}"
    )
    return [
        dict(row)
        | {
            "old_value": change_value(row["field"], row["old_value"]),
            "new_value": change_value(row["field"], row["new_value"]),
        }
        for row in store.db.execute(sql, params)
    ]


def change_value(field: str, text: str | None) -> Decimal | int | bool | str | None:
    """A change's stored text as what it is: money keeps its decimals, stock is whole,
    ``discontinued`` a flag, a backorder ETA its date."""
    if text is None:
        return None
    if field.endswith("_price"):
        return Decimal(text)
    if field == "total_availability":
        return int(text)
    if field == "discontinued":
        return text == "true"
    return text


def run_dict(row: Any) -> dict[str, Any]:
    """A runs row as the stable ``runs --json`` object."""
    return {
        **{name: row[name] for name in RUN_FIELDS},
        "answers": json.loads(row["answers"] or "{}"),
        "profile": run_profile(row),
    }


def run_profile(row: Any) -> str | None:
    """The config profile a run was started with (``--profile``), from its recorded options."""
    try:
        options = json.loads(row["options"] or "{}")
    except (IndexError, KeyError, TypeError, ValueError):  # no options column, or not JSON
        return None
    return options.get("profile") if isinstance(options, dict) else None


def stream_timings(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    """Per task kind of a run: tasks, items, failed, pending, attempts, first/last times.

    A finished run's done tasks are dropped (``compact_finished_runs``): its figures are
    then the ones saved on its row as it ended.
    """
    saved = store.db.execute("SELECT stream_timings FROM runs WHERE id = ?", (run_id,)).fetchone()
    if saved is not None and saved[0]:
        return dict(json.loads(saved[0]))
    return timings_from_tasks(store, run_id)


def timings_from_tasks(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    sql = (
        # A batch split after its retries counts once, as its part numbers' own tasks.
        "SELECT kind, COUNT(*) AS tasks, SUM(IIF(state = 'split', 0, size)) AS items,"
        " SUM(state = 'failed') AS failed,"
        " SUM(state = 'pending') AS pending, SUM(attempts) AS attempts,"
        " MIN(created_at) AS first_created, MIN(finished_at) AS first_finished,"
        " MAX(finished_at) AS last_finished FROM tasks WHERE run_id = ? GROUP BY kind"
    )
    return {row["kind"]: dict(row) for row in store.db.execute(sql, (run_id,))}


def compact_finished_runs(store: Store) -> int:
    """Keep each finished run's stream figures on its row and drop its closed tasks.

    A routine run left 156 KB of task rows at 10,000 products; with cron every few
    minutes and 90 days kept, that was gigabytes. Pending tasks (what a resume needs)
    stay, and failures are rows of their own. Returns the tasks dropped.
    """
    dropped = 0
    finished = store.db.execute(
        "SELECT id FROM runs WHERE status != 'running' AND stream_timings IS NULL"
    ).fetchall()
    for (run_id,) in finished:
        with store.write() as db:
            figures = timings_from_tasks(store, run_id)
            db.execute(
                "UPDATE runs SET stream_timings = ? WHERE id = ?", (json.dumps(figures), run_id)
            )
            dropped += db.execute(
                "DELETE FROM tasks WHERE run_id = ? AND state != 'pending'", (run_id,)
            ).rowcount
    with store.write() as db:  # owed work planned afresh by a later run: never read again
        dropped += db.execute("DELETE FROM tasks WHERE state = 'superseded'").rowcount
    return dropped


def failure_counts(store: Store, run_id: int) -> dict[str, int]:
    """Failed items recorded by a run, per kind (``price_availability``, ``details``)."""
    sql = "SELECT kind, COUNT(*) FROM failures WHERE run_id = ? GROUP BY kind"
    return {row[0]: row[1] for row in store.db.execute(sql, (run_id,))}


def last_failure(store: Store, run_id: int) -> dict[str, Any] | None:
    """The most recent failure recorded by a run, or None."""
    sql = f"SELECT {', '.join(FAILURE_FIELDS)} FROM failures WHERE run_id = ?"
    sql += " ORDER BY failed_at DESC, id DESC"
    row = store.db.execute(sql + " LIMIT 1", (run_id,)).fetchone()
    return None if row is None else dict(row)
