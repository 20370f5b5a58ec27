"""One sync run: plan, the two pools, the single writer loop, resume and retry-failed.

Worker threads only call the client (HTTP and parsing). Results come back to
the calling thread through futures; that thread alone writes SQLite, one short
transaction for the results that are ready together (one, or a few when the
workers outpace the writer). Work lives in the ``tasks`` table: the loop pulls
pending tasks in id order, a bounded number at a time, so memory stays flat
however many products are tracked, and a dead run's tasks can be adopted by
the next one.

Example::

    summary = run_sync(store, client, SyncOptions(), progress)
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from ingram.errors import ApiError, ApiUnavailable, Cancelled, CredentialsError, IngramSyncError
from ingram.state.dbfile import storage_error
from ingram.state.history import list_failures
from ingram.state.lock import SyncLock
from ingram.state.maintenance import prune
from ingram.state.saving import DetailsPolicy, save_details, save_failure, save_price_availability
from ingram.state.store import DETAILS, PA, Store, batched, parse_time

if TYPE_CHECKING:  # the client (and requests) load only for commands that call the API
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.engine")
STATS_EVERY = 0.5
COMMIT_EVERY = 1.0  # seconds between the writer's commits while results keep coming
READY_MAX = 500  # products' results held for one commit at most: memory stays flat
# A sync waits this long for another program's write lock (backing off, results kept in hand).
SYNC_BUSY_WAIT = 3600.0


@dataclass(frozen=True)
class SyncOptions:
    """What one sync does; the CLI builds it from options, environment and config."""

    batch_size: int = 50
    max_concurrent: int = 5
    details_workers: int = 1
    details: DetailsPolicy = field(default_factory=DetailsPolicy)
    skus: tuple[str, ...] = ()
    min_interval: float = 0.0
    force: bool = False
    grace_period: float = 3.0
    keep_days: float = 90.0  # history pruned after each run; 0 keeps everything


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    calls_left_running: int = 0
    fatal_kind: str | None = None  # why a "failed" run stopped: "credentials" or "unavailable"


class Progress(Protocol):
    """What the engine tells whoever shows progress (tqdm bars, log lines, nothing)."""

    def start(self, pa_total: int, details_total: int) -> None: ...
    def pa_advance(self, products: int) -> None: ...
    def details_total(self, total: int) -> None: ...
    def details_advance(self, count: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, pa_total: int, details_total: int) -> None: ...
    def pa_advance(self, products: int) -> None: ...
    def details_total(self, total: int) -> None: ...
    def details_advance(self, count: int) -> None: ...
    def close(self) -> None: ...


def run_sync(
    store: Store, client: IngramClient, options: SyncOptions, progress: Progress
) -> RunSummary:
    """A full sync of the tracked products (or ``options.skus``), resuming a dead run first."""
    stop = StopSwitch(client)
    store.busy_wait, store.stop_waiting = SYNC_BUSY_WAIT, stop.is_set
    with handle_stop_signals(stop), SyncLock(store.path):
        skipped = check_min_interval(store, options)
        if skipped:
            return skipped
        store.interrupt_dead_runs()
        if options.skus:
            store.add_products(options.skus)
        run_id = store.create_run("sync", options_record(options))
        with store.write():  # taking over owed work and planning are one transaction
            plan_sync(store, run_id, options)
        summary = SyncRun(store, client, run_id, options, progress, stop).execute()
        apply_retention(store, options, summary)
        return summary


def apply_retention(store: Store, options: SyncOptions, summary: RunSummary) -> None:
    """Prune history older than ``keep_days`` after a run; a failure here fails no run.

    Not after a signal: the process is asked to end within its grace period.
    """
    if options.keep_days <= 0 or summary.status == "interrupted":
        return
    try:
        pruned = prune(store, options.keep_days * 86400)
    except (sqlite3.Error, IngramSyncError) as error:
        log.warning("warning: could not prune old history: %s", error)
        return
    if pruned.runs or pruned.changes or pruned.failures:
        log.info(
            "pruned %d runs, %d changes and %d resolved failures older than %g days",
            pruned.runs,
            pruned.changes,
            pruned.failures,
            options.keep_days,
        )


def plan_sync(store: Store, run_id: int, options: SyncOptions) -> None:
    """Take over the work stopped runs left, then plan this run's P&A batches.

    Not only the runs just found dead: any earlier run that stopped with work
    pending (a signal, a kill right after it marked a dead run) is finished too.
    Their P&A part numbers are planned afresh in this run's full batches, so ten
    killed retries of the same items cost one call per 50 products, not ten.
    """
    unfinished = store.runs_with_open_tasks(exclude=run_id)
    owed = store.supersede_open_tasks(unfinished, PA)
    # Without details this run takes over only P&A; the details stay owed to a later sync.
    if options.details.enabled:
        store.adopt_open_tasks(unfinished, run_id, (DETAILS,))
    if unfinished:
        log.info("resuming the unfinished tasks of run(s) %s", ", ".join(map(str, unfinished)))
    if options.skus:  # owed part numbers no longer tracked are dropped with their products
        plan: Iterable[str] = dict.fromkeys([*options.skus, *store.tracked(sorted(owed))])
    else:  # streamed, not listed: a 100,000-product catalog is never held in memory at once
        plan = store.iter_tracked()
    store.plan_pa_tasks(run_id, batched(plan, options.batch_size))


def run_retry_failed(
    store: Store,
    client: IngramClient,
    failures: Sequence[Any],
    options: SyncOptions,
    progress: Progress,
) -> RunSummary:
    """Re-run exactly the given failure rows (P&A items re-batched, details one by one)."""
    stop = StopSwitch(client)
    store.busy_wait, store.stop_waiting = SYNC_BUSY_WAIT, stop.is_set
    with handle_stop_signals(stop), SyncLock(store.path):
        store.interrupt_dead_runs()
        ids = [row["id"] for row in failures]
        record = options_record(options) | {"retry_failures": ids[:100], "retried": len(ids)}
        run_id = store.create_run("retry", record)
        with store.write() as db:  # taking over owed work and planning are one transaction
            items = owed_retries(store, run_id)
            for row in failures:
                items[row["kind"]].setdefault(row["ingram_part_number"])
            store.plan_pa_tasks(run_id, batched(items[PA], options.batch_size))
            store.plan_details_tasks(db, run_id, list(items[DETAILS]))
        summary = SyncRun(store, client, run_id, options, progress, stop).execute()
        apply_retention(store, options, summary)
        return summary


def owed_retries(store: Store, run_id: int) -> dict[str, dict[str, None]]:
    """The items that stopped retry runs left pending and that still have an open failure.

    Their tasks are closed: this run retries the items in its own batches. An item
    whose failure was resolved (or removed with its product) since is dropped.
    """
    stopped = store.runs_with_open_tasks(exclude=run_id, kind="retry")
    still_failing = {(row["kind"], row["ingram_part_number"]) for row in list_failures(store)}
    items: dict[str, dict[str, None]] = {PA: {}, DETAILS: {}}
    for kind, found in items.items():
        owed = store.supersede_open_tasks(stopped, kind)
        found.update(dict.fromkeys(pn for pn in sorted(owed) if (kind, pn) in still_failing))
    if stopped:
        log.info("taking over the open retries of run(s) %s", ", ".join(map(str, stopped)))
    return items


def check_min_interval(store: Store, options: SyncOptions) -> RunSummary | None:
    if options.force or options.skus or options.min_interval <= 0:
        return None
    last = store.last_full_sync()  # a --sku spot check or a retry is no reason to skip
    if last is None:
        return None
    age = time.time() - parse_time(last["finished_at"]).timestamp()
    if age < 0:  # the clock stepped back: skipping would go on until it catches up
        log.warning(
            "warning: run %d finished %.0fs in the future (the clock stepped back?);"
            " ignoring --min-interval",
            last["id"],
            -age,
        )
        return None
    if age >= options.min_interval:
        return None
    message = (
        f"skipped: run {last['id']} finished {age:.0f}s ago, less than --min-interval"
        f" {options.min_interval:.0f}s; use --force to sync anyway"
    )
    return RunSummary(None, "skipped", message=message)


def options_record(options: SyncOptions) -> dict[str, Any]:
    record = asdict(options)
    record["skus"] = list(options.skus)[:100]
    return record


@dataclass
class InFlight:
    kind: str
    task_id: int
    part_numbers: list[str]


class SyncRun:
    """Executes the pending tasks of one run through the P&A and details pools."""

    def __init__(
        self,
        store: Store,
        client: IngramClient,
        run_id: int,
        options: SyncOptions,
        progress: Progress,
        stop: StopSwitch,
    ) -> None:
        self.store = store
        self.client = client
        self.run_id = run_id
        # Details already queued (adopted from a dead run, or retried) are not queued twice.
        self.details_queued = frozenset(store.open_task_part_numbers([run_id], DETAILS))
        self.options = options
        self.progress = progress
        self.details_total = 0  # the run's details_total, kept here as batches queue details
        self.stop = stop
        self.fatal: CredentialsError | ApiUnavailable | None = None
        self.in_flight: dict[Future[Any], InFlight] = {}
        self.queued: dict[str, deque[tuple[int, list[str]]]] = {PA: deque(), DETAILS: deque()}
        self.cursor = {PA: 0, DETAILS: 0}
        self.caps = {PA: 2 * options.max_concurrent, DETAILS: 2 * options.details_workers}
        self.pools = {
            PA: ThreadPoolExecutor(options.max_concurrent, thread_name_prefix="pa"),
            DETAILS: ThreadPoolExecutor(options.details_workers, thread_name_prefix="details"),
        }
        self.fetchers: dict[str, Callable[[list[str]], Any]] = {
            PA: client.price_and_availability,
            DETAILS: lambda pns: client.product_details(pns[0]),
        }

    def execute(self) -> RunSummary:
        run = self.store.run(self.run_id)
        self.details_total = run["details_total"]
        self.progress.start(run["products"], run["details_total"])
        try:
            self.loop()
        except sqlite3.Error as error:
            self.progress.close()
            self.abandon(error)
            raise storage_error(error, self.store.path) from error
        finally:
            self.shutdown()
        return self.finish()

    def abandon(self, error: sqlite3.Error) -> None:
        """After a storage fault: mark the run interrupted if the disk still lets us.

        If it does not, the run stays ``running`` with a pid that is gone, and the
        next sync marks it interrupted; either way that sync resumes its tasks.
        """
        try:
            self.store.finish_run(self.run_id, "interrupted", f"storage fault: {error}"[:300])
        except sqlite3.Error:
            log.debug("could not mark run %d interrupted", self.run_id, exc_info=True)

    def loop(self) -> None:
        grace_ends: float | None = None
        last_stats = 0.0
        ready: list[tuple[Future[Any], InFlight]] = []
        next_commit = time.monotonic() + COMMIT_EVERY
        while True:
            if not self.stop.is_set():
                self.fill(PA)
                self.fill(DETAILS)
            elif grace_ends is None:
                grace_ends = time.monotonic() + self.options.grace_period
            out_of_time = grace_ends is not None and time.monotonic() > grace_ends
            idle = not self.in_flight or out_of_time
            held = sum(len(item.part_numbers) for _, item in ready)
            due = time.monotonic() >= next_commit or held >= READY_MAX
            if ready and (idle or self.stop.is_set() or due):
                self.save(ready)  # saved results may queue details: fill again before ending
                ready = []
                next_commit = time.monotonic() + COMMIT_EVERY
                continue
            if idle:
                return
            wait_for = min(STATS_EVERY, max(next_commit - time.monotonic(), 0.0) if ready else 1.0)
            done, _ = wait(list(self.in_flight), timeout=wait_for, return_when=FIRST_COMPLETED)
            ready.extend((future, self.in_flight.pop(future)) for future in done)
            if time.monotonic() - last_stats >= STATS_EVERY:
                self.save_client_stats()
                last_stats = time.monotonic()

    def save(self, ready: list[tuple[Future[Any], InFlight]]) -> None:
        """Results are written together: once every ``COMMIT_EVERY``, or per ``READY_MAX`` products.

        A commit per result would write the same pages (and their WAL frames) again
        for each product; a kill loses at most the last second of results, which
        the next run refetches (their tasks are still pending).
        """
        with self.store.write():
            for future, item in ready:
                self.handle(future, item)

    def fill(self, kind: str) -> None:
        """Submit pending tasks of ``kind`` until its bound of futures in flight is reached."""
        busy = sum(1 for item in self.in_flight.values() if item.kind == kind)
        queue = self.queued[kind]
        while busy < self.caps[kind]:
            if not queue:
                queue.extend(self.store.open_tasks([self.run_id], kind, self.cursor[kind]))
                if not queue:
                    return
                self.cursor[kind] = queue[-1][0]
            task_id, pns = queue.popleft()
            future = self.pools[kind].submit(self.fetchers[kind], pns)
            self.in_flight[future] = InFlight(kind, task_id, pns)
            busy += 1

    def handle(self, future: Future[Any], item: InFlight) -> None:
        try:
            result = future.result()
        except Cancelled as error:
            self.store.count_task_attempt(item.task_id, error.attempts, "cancelled")
            return
        except (CredentialsError, ApiUnavailable) as error:
            self.fatal = error
            self.stop(signalled=False)
            return
        except ApiError as error:
            self.record_failure(item, error)
            return
        except Exception as error:  # a bug on one item must not stop this and every later sync
            log.error("internal error on %s task %d: %r", item.kind, item.task_id, error)
            self.record_failure(item, ApiError(f"internal error: {error!r}"[:300], kind="internal"))
            return
        if item.kind == PA:
            self.details_total += save_price_availability(
                self.store,
                self.run_id,
                item.task_id,
                item.part_numbers,
                result,
                1,
                self.options.details,
                self.details_queued,
            )
        else:
            save_details(self.store, self.run_id, item.task_id, result, 1)
        self.advance(item)

    def record_failure(self, item: InFlight, error: ApiError) -> None:
        log.info("%s task %d failed: %s", item.kind, item.task_id, error)
        save_failure(self.store, self.run_id, item.task_id, item.kind, item.part_numbers, error)
        self.advance(item)

    def advance(self, item: InFlight) -> None:
        if item.kind == PA:
            self.progress.pa_advance(len(item.part_numbers))
            self.progress.details_total(self.details_total)
        else:
            self.progress.details_advance(1)

    def save_client_stats(self) -> None:
        stats = self.client.stats()
        with self.store.write() as db:
            self.store.set_run_counts(
                db,
                self.run_id,
                pa_requests=stats.pa_requests,
                details_requests=stats.details_requests,
                token_requests=stats.token_requests,
                retries=stats.retries,
                rate_limited=stats.rate_limited,
            )

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=not self.in_flight, cancel_futures=True)

    def finish(self) -> RunSummary:
        self.save_client_stats()
        run = self.store.run(self.run_id)
        if self.fatal is not None:
            status, error = "failed", str(self.fatal)
        elif self.stop.is_set():
            status, error = "interrupted", "stopped by a signal"
        elif run["failures"]:
            status, error = "completed_with_failures", None
        else:
            status, error = "completed", None
        self.store.finish_run(self.run_id, status, error)
        self.progress.close()
        counts = dict(self.store.run(self.run_id))
        kind = self.fatal.kind if self.fatal is not None else None
        return RunSummary(self.run_id, status, counts, error, len(self.in_flight), kind)


class StopSwitch:
    """Thrown by SIGINT/SIGTERM or a fatal error: nothing new is sent, waits are cancelled.

    Example: ``stop = StopSwitch(client); stop(); stop.is_set()`` is True.
    """

    def __init__(self, client: IngramClient) -> None:
        self.client = client
        self.event = threading.Event()

    def __call__(self, signalled: bool = True) -> None:
        if signalled and not self.event.is_set():  # a fatal error says so itself
            log.warning("stopping: finishing the calls in flight, then saving")
        self.event.set()
        self.client.cancel()

    def is_set(self) -> bool:
        return self.event.is_set()


class handle_stop_signals:  # noqa: N801 - used as a context manager, named like one
    """Route SIGINT and SIGTERM to ``stop`` while a run is planned and executed (main thread)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop()

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
