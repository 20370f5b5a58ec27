"""One sync run: plan, the two pools, the single writer loop, resume and retry-failed.

Worker threads only call the client (HTTP and parsing). Results come back to
the calling thread through futures; that thread alone writes SQLite, holding
results and writing them together in one short transaction when a commit is due
(``HeldResults``). Work lives in the ``tasks`` table: the loop pulls pending
tasks in id order, a bounded number at a time, so memory stays flat however
many products are tracked, and a dead run's tasks can be adopted by the next
one.

Example::

    summary = run_sync(store, client, SyncOptions(), progress)
"""

from __future__ import annotations

import logging
import math
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from ingram.api.search_details import fetch_details_by_search
from ingram.config import duration_text
from ingram.discover import resolve_keys
from ingram.errors import (
    AccountFault,
    ApiError,
    ApiOutage,
    ApiUnavailable,
    Cancelled,
    CredentialsError,
    DatabaseBusy,
    IngramSyncError,
)
from ingram.models import DetailsBatch, PriceAvailability, ProductDetails
from ingram.state.dbfile import storage_error
from ingram.state.history import failure_counts, list_failures
from ingram.state.lock import SyncLock
from ingram.state.maintenance import prune
from ingram.state.saving import (
    DetailsPolicy,
    save_details,
    save_details_batch,
    save_failure,
    save_price_availability,
)
from ingram.state.store import DETAILS, PA, Store, batched, parse_time

if TYPE_CHECKING:  # the client (and requests) load only for commands that call the API
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.engine")
STATS_EVERY = 0.5
AUTO_MAX_WORKERS = 16  # --details-workers auto never runs more details threads than this
BARE_DETAILS_LIMIT = 20  # this many bodiless "no records" first: the URL is likely wrong
ACCOUNT_FAULT_REPEATS = 2  # the same error no item caused, this many calls in a row: stop
# When the writer commits what it holds (``HeldResults``): each commit rewrites a page of
# every table it touches, so results wait for company. Details wait for a group of
# DETAILS_GROUP at least DETAILS_AGE old (a minute at most: at the vendor's one a second,
# a group takes 50 s); P&A results wait a second, or, while details are being fetched,
# for a group of PA_GROUP (5 s at most, at the vendor's 50 products a second).
COMMIT_EVERY = 1.0
DETAILS_GROUP = 50
DETAILS_AGE = 5.0
DETAILS_HOLD = 60.0
PA_GROUP = 250
PA_HOLD = 5.0
READY_MAX = 500  # products' results held for one commit at most: memory stays flat
# A sync waits this long for another program's write lock (backing off, results kept in hand).
SYNC_BUSY_WAIT = 3600.0


@dataclass(frozen=True)
class SyncOptions:
    """What one sync does; the CLI builds it from options, environment and config."""

    batch_size: int = 50
    max_concurrent: int = 5
    details_workers: int = 1  # 0: auto, sized from the measured details latency
    details: DetailsPolicy = field(default_factory=DetailsPolicy)
    skus: tuple[str, ...] = ()
    min_interval: float = 0.0
    force: bool = False
    grace_period: float = 3.0
    profile: str | None = None  # recorded with the run, so runs and monitor can name it
    # The client's settings as the user typed them ("60/min", "30,60,120"), for ``runs show``.
    client_options: tuple[tuple[str, str], ...] = ()
    keep_days: float = 90.0  # history pruned after each run; 0 keeps everything


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    calls_left_running: int = 0
    # why the run stopped early: "credentials", "configuration", "unavailable" or "outage"
    fatal_kind: str | None = None
    failed: dict[str, int] = field(default_factory=dict)  # failed items per kind


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
        else:  # keys added since the last sync become tracked part numbers first
            resolve_keys(store, client)
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
        runs = "run" if len(unfinished) == 1 else "runs"
        log.info("resuming the unfinished tasks of %s %s", runs, ", ".join(map(str, unfinished)))
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
        f"skipped: run {last['id']} finished {duration_text(round(age))} ago, less than"
        f" --min-interval {duration_text(options.min_interval)}; use --force to sync anyway"
    )
    return RunSummary(None, "skipped", message=message)


def options_record(options: SyncOptions) -> dict[str, Any]:
    """Every option the run used, in the units a user types them; no internals."""
    return {
        "batch_size": options.batch_size,
        "max_concurrent": options.max_concurrent,
        "details_workers": options.details_workers,
        "details": options.details.enabled,
        "details_max_age": duration_text(options.details.max_age),
        "refresh_details": options.details.refresh,
        "details_source": options.details.source,
        "min_interval": duration_text(options.min_interval),
        "keep_days": f"{options.keep_days:g}d",
        "force": options.force,
        "skus": list(options.skus)[:100],  # [] marks a full sync (see last_full_sync)
        **dict(options.client_options),
        **({"profile": options.profile} if options.profile else {}),
    }


class DetailsStream(Enum):
    """How the details stream stands, for how long held P&A results may wait (``HeldResults``)."""

    BUSY = "busy"  # tasks queued beyond the pool's: P&A results may wait for a group
    WAITING = "waiting"  # nothing queued, and P&A results bring details: they are due at once
    UNFED = "unfed"  # P&A results bring it nothing (details off, or fresh): P&A each second


@dataclass
class InFlight:
    kind: str
    task_id: int
    part_numbers: list[str]


class HeldResults:
    """Results the writer holds until a commit is due, to write them together.

    Each commit rewrites at least one page of every table it touches: a commit per
    details result (one a second at the vendor's pace) wrote ~40 KB per product.
    P&A and details results are held apart, each kind until it has a group old
    enough or has waited its longest (see the constants above). A hard kill
    loses what is held, and the next run asks for it again: at most 5 s of P&A and
    a minute of details at the vendor's pace, 5 s of details when they come
    faster, and never more than READY_MAX products. A clean stop (Ctrl-C,
    SIGTERM, the end of the run) writes everything held first.
    """

    def __init__(self) -> None:
        self.items: dict[str, list[tuple[Future[Any], InFlight]]] = {PA: [], DETAILS: []}
        self.products = {PA: 0, DETAILS: 0}
        self.since = {PA: math.inf, DETAILS: math.inf}  # when the oldest one held came back
        self.urgent = False

    def __bool__(self) -> bool:
        return bool(self.items[PA] or self.items[DETAILS])

    def add(self, future: Future[Any], item: InFlight, urgent: bool) -> None:
        """Hold one result; an ``urgent`` one (it may stop a stream or the run) is due now."""
        self.items[item.kind].append((future, item))
        self.products[item.kind] += len(item.part_numbers)
        self.since[item.kind] = min(self.since[item.kind], time.monotonic())
        self.urgent = self.urgent or urgent

    def next_due(self, details: DetailsStream) -> float:
        """When the first of what is held falls due (``time.monotonic``): the writer
        sleeps until then, or until another result comes."""
        return min(self.due_at(PA, details), self.due_at(DETAILS, details))

    def take(
        self, everything: bool = False, details: DetailsStream = DetailsStream.UNFED
    ) -> list[tuple[Future[Any], InFlight]]:
        """The results due now (all of them if ``everything``), no longer held.

        ``details``: how the details stream stands, which decides how long P&A results wait.
        """
        everything = everything or self.urgent or sum(self.products.values()) >= READY_MAX
        now = time.monotonic()
        kinds = [kind for kind in (PA, DETAILS) if everything or now >= self.due_at(kind, details)]
        taken = [result for kind in kinds for result in self.items[kind]]
        for kind in kinds:
            self.items[kind], self.products[kind], self.since[kind] = [], 0, math.inf
        self.urgent = self.urgent and not everything
        return taken

    def due_at(self, kind: str, details: DetailsStream) -> float:
        """When the results of ``kind`` held now fall due: the one rule of the writer's timing.

        Details: DETAILS_AGE after the oldest once there is a group, else DETAILS_HOLD.
        P&A: at once while the details stream waits for the details they bring (it would
        starve: its work comes from the P&A results written); while it is busy, PA_HOLD
        after the oldest until there is a group, then a second; a second when they feed
        it nothing. Nothing held: never.
        """
        if kind == DETAILS:
            grouped = self.products[DETAILS] >= DETAILS_GROUP
            return self.since[DETAILS] + (DETAILS_AGE if grouped else DETAILS_HOLD)
        if details is DetailsStream.WAITING:
            return self.since[PA]
        grouped = details is DetailsStream.UNFED or self.products[PA] >= PA_GROUP
        return self.since[PA] + (COMMIT_EVERY if grouped else PA_HOLD)


def describe_item(item: InFlight) -> str:
    """``details of 6YE881`` or ``P&A of 50 part numbers (6YE881 .. 9ZZ000)``, for log lines."""
    pns = item.part_numbers
    if item.kind == DETAILS:
        return f"details of {pns[0]}"
    if len(pns) == 1:
        return f"P&A of {pns[0]}"
    return f"P&A of {len(pns)} part numbers ({pns[0]} .. {pns[-1]})"


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
        self.fatal: CredentialsError | ApiUnavailable | AccountFault | None = None
        self.outage: ApiOutage | None = None
        self.account_faults: tuple[str, int] = ("", 0)  # the last such message, times in a row
        self.details_answered = False  # a details document or the vendor's own 404 came back
        # Whether P&A results bring the details stream work (the last one written did):
        # while they do, a details stream with nothing queued waits for them.
        self.pa_feeds_details = options.details.enabled
        self.bare_details: list[str] = []  # bodiless "no records" before any real answer
        self.in_flight: dict[Future[Any], InFlight] = {}
        self.queued: dict[str, deque[tuple[int, list[str]]]] = {PA: deque(), DETAILS: deque()}
        self.cursor = {PA: 0, DETAILS: 0}
        workers = options.details_workers or AUTO_MAX_WORKERS
        self.caps = {PA: 2 * options.max_concurrent, DETAILS: 2 * options.details_workers or 1}
        self.pools = {
            PA: ThreadPoolExecutor(options.max_concurrent, thread_name_prefix="pa"),
            DETAILS: ThreadPoolExecutor(workers, thread_name_prefix="details"),
        }
        self.fetchers: dict[str, Callable[[list[str]], Any]] = {
            PA: client.price_and_availability,
            DETAILS: self.fetch_details,
        }
        # --details-source search: the vendor part numbers P&A gave, for the search to ask by
        self.vendor_part_numbers: dict[str, str] = {}
        self.stats_saved: tuple[Any, Any] = (None, None)

    def fetch_details(self, pns: list[str]) -> Any:
        """In a worker: one product's details, or a group's (search, then details calls).

        A group task adopted from a stopped ``--details-source search`` run is
        fetched whole by the default source too: one details call per product.
        """
        if self.options.details.source == "search":
            return fetch_details_by_search(self.client, pns, self.vendor_part_numbers)
        if len(pns) > 1:
            return fetch_details_by_search(self.client, pns, {})
        return self.client.product_details(pns[0])

    def execute(self) -> RunSummary:
        run = self.store.known_run(self.run_id)
        self.details_total = run["details_total"]
        self.progress.start(run["products"], run["details_total"])
        try:
            self.loop()
        except sqlite3.Error as error:
            self.progress.close()
            self.abandon(error)
            raise storage_error(error, self.store.path) from error
        except DatabaseBusy:
            if not self.stop.is_set():
                raise
            # Signalled while another program held the write lock: nothing more can be
            # written, so the run row stays "running" and the next sync, finding its
            # process gone, marks it interrupted and resumes its tasks.
            self.progress.close()
            return RunSummary(None, "interrupted", message="stopped while the database was busy")
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
        held = HeldResults()
        details = DetailsStream.UNFED  # as the last ``fill`` left it: its queue is read then
        while True:
            if self.stop.is_set() and grace_ends is None:
                grace_ends = time.monotonic() + self.options.grace_period
            out_of_time = grace_ends is not None and time.monotonic() > grace_ends
            ready = held.take(out_of_time or self.stop.is_set(), details)
            if ready:
                self.save(ready)  # before dispatching: a result may stop a stream or the run
            if not self.stop.is_set():
                self.fill(PA)
                self.fill(DETAILS)
            details = self.details_stream()
            if not self.in_flight or out_of_time:
                if not held:
                    return
                self.save(held.take(everything=True))  # saved P&A may queue details
                continue
            due_in = held.next_due(details) - time.monotonic()
            wait_for = min(STATS_EVERY, max(due_in, 0.0))
            done, _ = wait(list(self.in_flight), timeout=wait_for, return_when=FIRST_COMPLETED)
            for future in done:
                self.hold(held, future, self.in_flight.pop(future))
            if not held:  # held results carry the counters with them
                self.save_client_stats()

    def hold(self, held: HeldResults, future: Future[Any], item: InFlight) -> None:
        """Hold a result for the next commit; a details answer shows on the bar at once.

        An error, or a details answer while the details stream is still on probation,
        may stop a stream or the run: it is written before anything more is sent.
        """
        failed = future.exception() is not None
        if item.kind == DETAILS and not failed:
            self.progress.details_advance(len(item.part_numbers))
        on_probation = item.kind == DETAILS and not self.details_answered
        held.add(future, item, urgent=failed or on_probation)

    def details_stream(self) -> DetailsStream:
        """Right after ``fill``: an empty details queue means no details task was left to
        queue, so the stream runs dry unless the P&A results held are written."""
        if not self.caps[DETAILS] or not self.pa_feeds_details:
            return DetailsStream.UNFED
        return DetailsStream.BUSY if self.queued[DETAILS] else DetailsStream.WAITING

    def save(self, ready: list[tuple[Future[Any], InFlight]]) -> None:
        """The held results in one transaction, with the client's counters.

        A commit per result would write the same pages (and their WAL frames) again
        for each product; a kill loses what was held, which the next run refetches
        (their tasks are still pending).
        """
        with self.store.write():
            for future, item in ready:
                self.handle(future, item)
            self.save_client_stats()

    def fill(self, kind: str) -> None:
        """Submit pending tasks of ``kind`` until its bound of futures in flight is reached."""
        busy = sum(1 for item in self.in_flight.values() if item.kind == kind)
        if kind == DETAILS and self.options.details_workers == 0 and self.caps[DETAILS]:
            self.caps[DETAILS] = self.auto_details_workers()
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

    def auto_details_workers(self) -> int:
        """Enough details calls at once that slow answers still use every slot of the limiter
        (which spaces every call whatever the count): answer latency over call spacing."""
        seen = self.client.pacing().get("details") or {}
        latency, spacing = seen.get("latency"), seen.get("spacing")
        if not latency:
            return 1
        if not spacing:
            return AUTO_MAX_WORKERS
        return min(AUTO_MAX_WORKERS, math.ceil(latency / spacing) + 1)

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
        except AccountFault as error:
            self.on_account_fault(item, error)
            return
        except ApiOutage as error:
            self.outage = self.outage or error
            self.stop(signalled=False)
            return
        except ApiError as error:
            if item.kind == DETAILS and self.details_refused(error):
                return
            self.record_failure(item, error)
            return
        except Exception as error:  # a bug on one item must not stop this and every later sync
            log.error("internal error on %s: %r", describe_item(item), error)
            self.record_failure(item, ApiError(f"internal error: {error!r}"[:300], kind="internal"))
            return
        self.account_faults = ("", 0)
        if item.kind == PA:
            self.remember_vendor_part_numbers(result)
            queued = save_price_availability(
                self.store,
                self.run_id,
                item.task_id,
                item.part_numbers,
                result,
                1,
                self.options.details,
                self.details_queued,
            )
            self.details_total += queued
            self.pa_feeds_details = self.options.details.enabled and queued > 0
            self.advance(item)  # a details answer was counted as it came (``hold``)
        elif isinstance(result, DetailsBatch):
            save_details_batch(self.store, self.run_id, item.task_id, result, 1)
            for details in result.details:
                self.watch_bare_details(details)
        else:
            save_details(self.store, self.run_id, item.task_id, result, 1)
            self.watch_bare_details(result)

    def remember_vendor_part_numbers(self, items: Sequence[PriceAvailability]) -> None:
        if self.options.details.source == "search":
            for found in items:
                if found.vendor_part_number:
                    self.vendor_part_numbers[found.ingram_part_number] = found.vendor_part_number

    def details_refused(self, error: ApiError) -> bool:
        """The details endpoint refusing the country or the account on its first calls:
        stop the details stream (tasks stay pending), one warning, no failure rows."""
        status = error.http_status or 0
        if self.details_answered or not 400 <= status < 500 or status in (404, 408, 429):
            return False
        self.stop_details(f"details stopped for this run: the details endpoint refused: {error}")
        return True

    def watch_bare_details(self, details: ProductDetails) -> None:
        """A wrong base URL also answers bodiless 404s: the first 20 in a row stop the stream."""
        if self.details_answered:
            return
        if not details.bare:
            self.details_answered = True
            return
        self.bare_details.append(details.ingram_part_number)
        if len(self.bare_details) >= BARE_DETAILS_LIMIT:
            url = self.client.settings.base_url
            self.stop_details(
                f"details stopped for this run: the first {len(self.bare_details)} details calls"
                f" to {url} answered without the vendor's body (204 or a bare 404): check"
                " INGRAM_API_URL"
            )
            with self.store.write() as db:  # not "no details": asked again next time
                self.store.forget_details(db, self.bare_details)

    def stop_details(self, message: str) -> None:
        if self.caps[DETAILS] == 0:
            return
        log.warning("%s", message)
        self.caps[DETAILS] = 0
        self.queued[DETAILS].clear()

    def on_account_fault(self, item: InFlight, error: AccountFault) -> None:
        """No failure row: the task stays pending; the same fault again in a row stops the run."""
        message, times = self.account_faults
        times = times + 1 if str(error) == message else 1
        self.account_faults = (str(error), times)
        if times >= ACCOUNT_FAULT_REPEATS:
            self.fatal = self.fatal or error
            self.stop(signalled=False)
        elif not self.stop.is_set():
            log.debug("%s task %d: %s; trying it again later", item.kind, item.task_id, error)
            self.queued[item.kind].append((item.task_id, item.part_numbers))

    def record_failure(self, item: InFlight, error: ApiError) -> None:
        log.warning("%s failed: %s", describe_item(item), error)
        save_failure(self.store, self.run_id, item.task_id, item.kind, item.part_numbers, error)
        self.advance(item)

    def advance(self, item: InFlight) -> None:
        if item.kind == PA:
            self.progress.pa_advance(len(item.part_numbers))
            self.progress.details_total(self.details_total)
        else:
            self.progress.details_advance(len(item.part_numbers))

    def save_client_stats(self) -> None:
        """The client's counters and pacing on the run row, when they changed (for ``monitor``)."""
        stats = self.client.stats()
        pacing = self.client.pacing()
        if (stats, pacing) == self.stats_saved:
            return
        self.stats_saved = (stats, pacing)
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
            self.store.set_run_pacing(db, self.run_id, pacing)

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=not self.in_flight, cancel_futures=True)

    def finish(self) -> RunSummary:
        self.save_client_stats()
        run = self.store.known_run(self.run_id)
        if self.fatal is not None:
            status, error = "failed", str(self.fatal)
        elif self.outage is not None:
            status, error = "interrupted", str(self.outage)
        elif self.stop.is_set():
            status, error = "interrupted", "stopped by a signal"
        elif run["failures"]:
            status, error = "completed_with_failures", None
        else:
            status, error = "completed", None
        self.store.finish_run(self.run_id, status, error)
        self.progress.close()
        counts = dict(self.store.known_run(self.run_id))
        stopper = self.fatal or self.outage
        kind = stopper.kind if stopper is not None else None
        failed = failure_counts(self.store, self.run_id)
        return RunSummary(self.run_id, status, counts, error, len(self.in_flight), kind, failed)


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
