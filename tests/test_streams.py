"""A stream's queue over the run's pending tasks, against a real SQLite file."""

from __future__ import annotations

from concurrent.futures import Future, wait
from typing import Any

from ingram.state.runs import create_run
from ingram.state.store import Store
from ingram.state.tasks import plan_details_tasks, plan_pa_tasks, split_task
from ingram.sync.activity import Activity
from ingram.sync.streams import InFlight, Stream
from ingram.vocab import StreamKind


def stream_of(store: Store, run_id: int, kind: StreamKind) -> Stream:
    return Stream(kind, store, run_id, 1, lambda: 4, lambda pns: pns, lambda: 1, Activity())


def ignore(future: Future[Any]) -> None:
    """A stream's ``on_done``: these tests wait on the futures themselves."""


def task_queries(store: Store) -> list[str]:
    seen: list[str] = []
    store.db.set_trace_callback(
        lambda sql: seen.append(sql) if sql.startswith("SELECT id, part_numbers") else None
    )
    return seen


def sent(stream: Stream, in_flight: dict[Future[Any], InFlight]) -> list[list[str]]:
    wait(list(in_flight))
    parts = [item.part_numbers for item in in_flight.values()]
    in_flight.clear()
    return parts


def test_a_drained_stream_asks_sqlite_again_only_once_tasks_were_added(tmp_path):
    store = Store.open(tmp_path / "s.db")
    run_id = create_run(store, "sync", {})
    details = stream_of(store, run_id, StreamKind.DETAILS)
    queries = task_queries(store)
    in_flight: dict[Future[Any], InFlight] = {}
    for _ in range(5):  # the writer's loop turns while P&A results are still out
        details.fill(in_flight, ignore)
    assert in_flight == {} and len(queries) == 1

    with store.write() as db:  # a P&A result brings details to fetch
        plan_details_tasks(store, db, run_id, ["A1", "B2"])
    details.fill(in_flight, ignore)
    assert sent(details, in_flight) == [["A1"], ["B2"]]
    details.fill(in_flight, ignore)
    details.fill(in_flight, ignore)
    assert len(queries) == 3  # one found A1 and B2; one found nothing more; then quiet
    details.shutdown(wait=True)


def test_a_split_batch_is_picked_up_by_its_drained_stream(tmp_path):
    store = Store.open(tmp_path / "s.db")
    run_id = create_run(store, "sync", {})
    plan_pa_tasks(store, run_id, [["A1", "B2"]])
    pa = stream_of(store, run_id, StreamKind.PA)
    in_flight: dict[Future[Any], InFlight] = {}
    pa.fill(in_flight, ignore)
    [batch] = in_flight.values()
    assert sent(pa, in_flight) == [["A1", "B2"]]
    pa.fill(in_flight, ignore)
    assert in_flight == {}

    split_task(store, run_id, batch.task_id, batch.part_numbers, 3, "HTTP 500")
    pa.fill(in_flight, ignore)
    assert sorted(sent(pa, in_flight)) == [["A1"], ["B2"]]
    pa.shutdown(wait=True)
