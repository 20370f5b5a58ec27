"""The two streams of a run's work: P&A batches and details, each a ``Stream``.

A stream owns its thread pool, its bound of calls in flight, its cursor over
the run's pending tasks (read a bounded number at a time, so memory stays flat
however many products are tracked), its fetcher and whether it was stopped.
``Streams`` holds both and the calls in flight, which the writer's loop waits on.
Worker threads only call the client; what they return is a ``Fetched``.
"""

from __future__ import annotations

import logging
import math
import queue
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingram.api.search_details import SearchDetails
from ingram.clock import utc_now
from ingram.models import PriceAvailability
from ingram.state.store import Store
from ingram.state.tasks import open_tasks
from ingram.sync.activity import Activity
from ingram.vocab import DetailsSource, StreamKind

if TYPE_CHECKING:  # the client (and requests) load only for commands that call the API
    from ingram.api.client import IngramClient
    from ingram.sync.options import SyncOptions

log = logging.getLogger("ingram.sync")
AUTO_MAX_WORKERS = 16  # --details-workers auto never runs more details threads than this


@dataclass
class InFlight:
    kind: StreamKind
    task_id: int
    part_numbers: list[str]


@dataclass(frozen=True)
class Fetched:
    """What a worker brings back: the client's result, the attempts it took, and when its
    answer arrived (``observed_at``: the writer may hold it a while before saving it, and
    a pushed event observed in between must not be overwritten by this older stock)."""

    result: Any
    attempts: int
    observed_at: str


class Stream:
    """One kind of work: its pool, its bound of calls in flight, its queue of pending tasks."""

    def __init__(
        self,
        kind: StreamKind,
        store: Store,
        run_id: int,
        workers: int,
        cap: Callable[[], int],
        fetch: Callable[[list[str]], Any],
        attempts_made: Callable[[], int],
        activity: Activity,
    ) -> None:
        self.kind = kind
        self.activity = activity
        self.numbers: dict[int, int] = {}  # task id -> its batch's number in this run (1, 2...)
        self.store = store
        self.run_id = run_id
        prefix = "pa" if kind is StreamKind.PA else "details"
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=prefix)
        self.cap = cap
        self.fetch = fetch
        self.attempts_made = attempts_made
        self.queue: deque[tuple[int, list[str]]] = deque()
        self.cursor = 0
        self.drained_at = -1  # ``store.tasks_added`` when a query last found none pending
        self.stopped = False

    def fill(
        self, in_flight: dict[Future[Any], InFlight], on_done: Callable[[Future[Any]], None]
    ) -> None:
        """Submit pending tasks until this stream's bound of calls in flight is reached;
        ``on_done`` gets each call's future when it ends (in the worker's thread)."""
        if self.stopped:
            return
        busy = sum(1 for item in in_flight.values() if item.kind is self.kind)
        cap = self.cap()
        while busy < cap:
            if not self.queue and not self.refill():
                return
            task_id, pns = self.queue.popleft()
            future = self.pool.submit(self.fetched, pns, self.label(task_id, pns))
            in_flight[future] = InFlight(self.kind, task_id, pns)
            future.add_done_callback(on_done)
            busy += 1

    def refill(self) -> bool:
        """Read the next pending tasks into the queue; False when there are none.

        Called on every turn of the writer's loop, so a drained stream does not ask
        SQLite again (5 % of a 3,000-product sync's CPU) until tasks were added.
        """
        added = self.store.tasks_added
        if added == self.drained_at:
            return False
        self.queue.extend(open_tasks(self.store, [self.run_id], self.kind, self.cursor))
        if not self.queue:
            self.drained_at = added
            return False
        self.cursor = self.queue[-1][0]
        return True

    def label(self, task_id: int, pns: list[str]) -> str:
        """How a person names a task: ``P&A batch 3`` (in the order sent), ``details of X``."""
        if self.kind is StreamKind.DETAILS:
            return f"details of {pns[0]}" + (f" and {len(pns) - 1} more" if len(pns) > 1 else "")
        number = self.numbers.setdefault(task_id, len(self.numbers) + 1)
        return f"P&A batch {number}"

    def fetched(self, pns: list[str], label: str) -> Fetched:
        """In a worker: the fetch, with the attempts this thread made for it."""
        before = self.attempts_made()
        with self.activity.working(label):
            result = self.fetch(pns)
        return Fetched(result, max(self.attempts_made() - before, 1), utc_now())

    def try_later(self, item: InFlight) -> None:
        """The task goes back in the queue: an error no item caused, met once."""
        self.queue.append((item.task_id, item.part_numbers))

    def stop(self, message: str) -> None:
        """No more calls of this stream in this run; its tasks stay pending for the next."""
        if self.stopped:
            return
        log.warning("%s", message)
        self.stopped = True
        self.queue.clear()

    def shutdown(self, wait: bool) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=True)


class DetailsFetcher:
    """In a worker: one product's details, or a group's (search, then details calls).

    A group task adopted from a stopped ``--details-source search`` run is
    fetched whole by the default source too: one details call per product.
    """

    def __init__(self, client: IngramClient, by_search: bool) -> None:
        self.client = client
        self.by_search = by_search
        self.search = SearchDetails(client)
        # --details-source search: the vendor part numbers P&A gave, for the search to ask by
        self.vendor_part_numbers: dict[str, str] = {}

    def __call__(self, pns: list[str]) -> Any:
        if self.by_search:
            return self.search.fetch(pns, self.vendor_part_numbers)
        if len(pns) > 1:
            return self.search.fetch(pns, {})
        return self.client.product_details(pns[0])

    def remember(self, items: Sequence[PriceAvailability]) -> None:
        """The vendor part numbers of a P&A answer, for the search to ask by."""
        if self.by_search:
            for found in items:
                if found.vendor_part_number:
                    self.vendor_part_numbers[found.ingram_part_number] = found.vendor_part_number


class Streams:
    """Both streams of one run, and the calls in flight the writer waits on."""

    def __init__(
        self, store: Store, client: IngramClient, run_id: int, options: SyncOptions
    ) -> None:
        self.client = client
        self.activity = Activity()
        client.on_retry_wait = self.activity.waiting
        self.in_flight: dict[Future[Any], InFlight] = {}
        # Each call's future as it ends: the writer's loop waits on this one queue, not on
        # every future in flight (``concurrent.futures.wait`` was 17 % of the loop's CPU).
        self.ended: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        self.details_fetcher = DetailsFetcher(
            client, options.details.source == DetailsSource.SEARCH
        )
        pa_cap = 2 * options.max_concurrent
        details_cap = 2 * options.details_workers
        self.pa = Stream(
            StreamKind.PA,
            store,
            run_id,
            options.max_concurrent,
            lambda: pa_cap,
            client.price_and_availability,
            client.attempts_made,
            self.activity,
        )
        self.details = Stream(
            StreamKind.DETAILS,
            store,
            run_id,
            options.details_workers or AUTO_MAX_WORKERS,
            (lambda: details_cap) if details_cap else self.auto_details_cap,
            self.details_fetcher,
            client.attempts_made,
            self.activity,
        )

    def __getitem__(self, kind: StreamKind) -> Stream:
        return self.pa if kind is StreamKind.PA else self.details

    def __iter__(self) -> Iterator[Stream]:
        return iter((self.pa, self.details))

    def fill(self) -> None:
        for stream in self:
            stream.fill(self.in_flight, self.ended.put)

    def completed(self, timeout: float) -> list[tuple[Future[Any], InFlight]]:
        """The calls that finished within ``timeout`` seconds (at least one, if any did),
        in the order they ended."""
        try:
            done = [self.ended.get(timeout=timeout) if timeout > 0 else self.ended.get_nowait()]
        except queue.Empty:
            return []
        while not self.ended.empty():
            done.append(self.ended.get_nowait())
        return [(future, self.in_flight.pop(future)) for future in done]

    def auto_details_cap(self) -> int:
        """Enough details calls at once that slow answers still use every slot of the limiter
        (which spaces every call whatever the count): answer latency over call spacing."""
        seen: Mapping[str, Any] = self.client.pacing().get("details") or {}
        latency, spacing = seen.get("latency"), seen.get("spacing")
        if not latency:
            return 1
        if not spacing:
            return AUTO_MAX_WORKERS
        return min(AUTO_MAX_WORKERS, math.ceil(latency / spacing) + 1)

    def shutdown(self) -> None:
        for stream in self:
            stream.shutdown(wait=not self.in_flight)
