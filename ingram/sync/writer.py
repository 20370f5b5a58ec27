"""The run's single writer: results held for company, then saved in one transaction.

Worker threads never write; the thread that runs the loop saves every result
(``Writer.save``), asks ``RunOutcome`` what an error means and does it: a
failure row, a stopped details stream, a task tried again later. Results are
held (``HeldResults``) so a commit carries many: each commit rewrites at least
one page of every table it touches.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import Future
from enum import Enum
from typing import TYPE_CHECKING, Any

from ingram.errors import ApiError
from ingram.models import DetailsBatch, ProductDetails, Waiting
from ingram.policy import Outcome, Trigger
from ingram.state.products import forget_details
from ingram.state.runs import set_run_activity, set_run_answers, set_run_counts, set_run_pacing
from ingram.state.saving import (
    save_details,
    save_details_batch,
    save_failure,
    save_price_availability,
)
from ingram.state.store import Store
from ingram.state.tasks import count_task_attempt, open_task_part_numbers, split_task
from ingram.sync.options import Progress, SyncOptions, WriterTiming
from ingram.sync.outcome import RunOutcome
from ingram.sync.streams import Fetched, InFlight, Streams
from ingram.vocab import StreamKind

if TYPE_CHECKING:
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.sync")
Held = tuple[Future[Any], InFlight]


class DetailsStream(Enum):
    """How the details stream stands, for how long held P&A results may wait."""

    BUSY = "busy"  # tasks queued beyond the pool's: P&A results may wait for a group
    WAITING = "waiting"  # nothing queued, and P&A results bring details: they are due at once
    UNFED = "unfed"  # P&A results bring it nothing (details off, or fresh): P&A each second


class HeldResults:
    """Results the writer holds until a commit is due, to write them together.

    A commit per details result (one a second at the vendor's pace) wrote ~40 KB
    per product. P&A and details results are held apart, each kind until it has
    a group old enough or has waited its longest (``WriterTiming``). A hard kill
    loses what is held, and the next run asks for it again: at most 5 s of P&A
    and a minute of details at the vendor's pace, 5 s of details when they come
    faster, and never more than ``ready_max`` products. A clean stop (Ctrl-C,
    SIGTERM, the end of the run) writes everything held first.
    """

    def __init__(self, timing: WriterTiming) -> None:
        self.timing = timing
        self.items: dict[StreamKind, list[Held]] = {kind: [] for kind in StreamKind}
        self.products = dict.fromkeys(StreamKind, 0)
        self.since = dict.fromkeys(StreamKind, math.inf)  # when the oldest one held came back
        self.urgent = False

    def __bool__(self) -> bool:
        return any(self.items.values())

    def add(self, future: Future[Any], item: InFlight, urgent: bool) -> None:
        """Hold one result; an ``urgent`` one (it may stop a stream or the run) is due now."""
        self.items[item.kind].append((future, item))
        self.products[item.kind] += len(item.part_numbers)
        self.since[item.kind] = min(self.since[item.kind], time.monotonic())
        self.urgent = self.urgent or urgent

    def next_due(self, details: DetailsStream) -> float:
        """When the first of what is held falls due (``time.monotonic``): the writer
        sleeps until then, or until another result comes."""
        return min(self.due_at(kind, details) for kind in StreamKind)

    def take(
        self, everything: bool = False, details: DetailsStream = DetailsStream.UNFED
    ) -> list[Held]:
        """The results due now (all of them if ``everything``), no longer held.

        ``details``: how the details stream stands, which decides how long P&A results wait.
        """
        held = sum(self.products.values())
        everything = everything or self.urgent or held >= self.timing.ready_max
        now = time.monotonic()
        kinds = [k for k in StreamKind if everything or now >= self.due_at(k, details)]
        taken = [result for kind in kinds for result in self.items[kind]]
        for kind in kinds:
            self.items[kind], self.products[kind], self.since[kind] = [], 0, math.inf
        self.urgent = self.urgent and not everything
        return taken

    def due_at(self, kind: StreamKind, details: DetailsStream) -> float:
        """When the results of ``kind`` held now fall due: the one rule of the writer's timing.

        Details: ``details_age`` after the oldest once there is a group, else
        ``details_hold``. P&A: at once while the details stream waits for the details
        they bring (it would starve: its work comes from the P&A results written); while
        it is busy, ``pa_hold`` after the oldest until there is a group, then
        ``commit_every``; ``commit_every`` when they feed it nothing. Nothing held: never.
        """
        t = self.timing
        if kind is StreamKind.DETAILS:
            grouped = self.products[kind] >= t.details_group
            return self.since[kind] + (t.details_age if grouped else t.details_hold)
        if details is DetailsStream.WAITING:
            return self.since[kind]
        grouped = details is DetailsStream.UNFED or self.products[kind] >= t.pa_group
        return self.since[kind] + (t.commit_every if grouped else t.pa_hold)


def describe_item(item: InFlight) -> str:
    """``details of 6YE881`` or ``P&A of 50 part numbers (6YE881 .. 9ZZ000)``, for log lines."""
    pns = item.part_numbers
    if item.kind is StreamKind.DETAILS:
        return f"details of {pns[0]}"
    if len(pns) == 1:
        return f"P&A of {pns[0]}"
    return f"P&A of {len(pns)} part numbers ({pns[0]} .. {pns[-1]})"


class Writer:
    """Saves one run's results and does what its errors mean."""

    def __init__(
        self,
        store: Store,
        client: IngramClient,
        run_id: int,
        options: SyncOptions,
        progress: Progress,
        outcome: RunOutcome,
        streams: Streams,
    ) -> None:
        self.store = store
        self.client = client
        self.run_id = run_id
        self.options = options
        self.progress = progress
        self.outcome = outcome
        self.streams = streams
        self.held = HeldResults(options.timing)
        # Details already queued (adopted from a dead run, or retried) are not queued twice.
        self.details_queued = frozenset(open_task_part_numbers(store, [run_id], StreamKind.DETAILS))
        self.details_total = 0  # the run's details_total, kept here as batches queue details
        # Whether P&A results bring the details stream work (the last one written did):
        # while they do, a details stream with nothing queued waits for them.
        self.pa_feeds_details = options.details.enabled
        self.stats_saved: tuple[Any, Any, Any] = (None, None, None)
        self.waits_saved: tuple[Waiting, ...] = ()

    def details_stream(self) -> DetailsStream:
        """Right after the streams were filled: an empty details queue means no details task
        was left to queue, so the stream runs dry unless the P&A results held are written."""
        details = self.streams.details
        if details.stopped or not self.pa_feeds_details:
            return DetailsStream.UNFED
        return DetailsStream.BUSY if details.queue else DetailsStream.WAITING

    def hold(self, future: Future[Any], item: InFlight) -> None:
        """Hold a result for the next commit; a details answer shows on the bar at once.

        An error, or a details answer while the details stream is still on probation,
        may stop a stream or the run: it is written before anything more is sent.
        """
        failed = future.exception() is not None
        if item.kind is StreamKind.DETAILS and not failed:
            self.progress.details_advance(len(item.part_numbers))
        on_probation = item.kind is StreamKind.DETAILS and not self.outcome.details_answered
        self.held.add(future, item, urgent=failed or on_probation)

    def save(self, ready: list[Held]) -> None:
        """The held results in one transaction, with the client's counters.

        A commit per result would write the same pages (and their WAL frames) again
        for each product; a kill loses what was held, which the next run refetches
        (their tasks are still pending).
        """
        with self.store.write():
            for future, item in ready:
                self.handle(future, item)
            self.save_client_stats()

    def handle(self, future: Future[Any], item: InFlight) -> None:
        try:
            fetched: Fetched = future.result()
        except ApiError as error:
            self.on_error(item, error)
            return
        except Exception as error:  # a bug on one item must not stop this and every later sync
            log.error("internal error on %s: %r", describe_item(item), error)
            internal = ApiError(f"internal error: {error!r}"[:300], trigger=Trigger.INTERNAL)
            self.on_error(item, internal)
            return
        self.outcome.answered()
        if item.kind is StreamKind.PA:
            self.save_pa(item, fetched)
        else:
            self.save_details(item, fetched)

    def save_pa(self, item: InFlight, fetched: Fetched) -> None:
        self.streams.details_fetcher.remember(fetched.result)
        queued = save_price_availability(
            self.store,
            self.run_id,
            item.task_id,
            item.part_numbers,
            fetched.result,
            fetched.attempts,
            self.options.details,
            self.details_queued,
            fetched.observed_at,
        )
        self.details_total += queued
        self.pa_feeds_details = self.options.details.enabled and queued > 0
        self.advance(item)  # a details answer was counted as it came (``hold``)

    def save_details(self, item: InFlight, fetched: Fetched) -> None:
        result = fetched.result
        if isinstance(result, DetailsBatch):
            save_details_batch(self.store, self.run_id, item.task_id, result, fetched.attempts)
            answers: list[ProductDetails] = list(result.details)
        else:
            save_details(self.store, self.run_id, item.task_id, result, fetched.attempts)
            answers = [result]
        for details in answers:
            self.watch_bare_details(details)

    def watch_bare_details(self, details: ProductDetails) -> None:
        bare = self.outcome.bare_details_stop(details)
        if not bare:
            return
        url = self.client.settings.base_url
        self.streams.details.stop(
            f"details stopped for this run: the first {len(bare)} details calls"
            f" to {url} answered without the vendor's body (204 or a bare 404): check"
            " INGRAM_API_URL"
        )
        with self.store.write() as db:  # not "no details": asked again next time
            forget_details(self.store, db, bare)

    def on_error(self, item: InFlight, error: ApiError) -> None:
        """Do what the policy makes of ``error``: nothing else decides it."""
        verdict = self.outcome.judge(item, error)
        if verdict is None:
            if not self.outcome.stop.is_set():
                log.debug("%s task %d: %s; trying it again later", item.kind, item.task_id, error)
                self.streams[item.kind].try_later(item)
        elif verdict is Outcome.CANCEL:
            count_task_attempt(self.store, item.task_id, error.attempts, "cancelled")
        elif verdict is Outcome.STOP_STREAM:
            message = f"{item.kind.label} stopped for this run: the {item.kind.label} endpoint"
            self.streams[item.kind].stop(f"{message} refused: {error}")
        elif verdict is Outcome.FAIL_ITEM:
            self.record_failure(item, error)

    def record_failure(self, item: InFlight, error: ApiError) -> None:
        pns = item.part_numbers
        if item.kind is StreamKind.PA and len(pns) > 1 and error.resolution.splits_batch:
            log.info("%s failed (%s): trying each part number alone", describe_item(item), error)
            split_task(self.store, self.run_id, item.task_id, pns, error.attempts, str(error))
            return
        log.warning("%s failed: %s", describe_item(item), error)
        save_failure(self.store, self.run_id, item.task_id, item.kind, pns, error)
        self.advance(item)

    def advance(self, item: InFlight) -> None:
        if item.kind is StreamKind.PA:
            self.progress.pa_advance(len(item.part_numbers))
            self.progress.details_total(self.details_total)
        else:
            self.progress.details_advance(len(item.part_numbers))

    def note_activity(self, waits: tuple[Waiting, ...]) -> None:
        """Tell the bars and the run's row of the retry waits, when they changed."""
        if waits != self.waits_saved:
            self.waits_saved = waits
            self.progress.waiting(waits)
            set_run_activity(self.store, self.run_id, waits)

    def save_client_stats(self) -> None:
        """The client's counters and pacing on the run row, when they changed (for ``monitor``)."""
        stats = self.client.stats()
        pacing = self.client.pacing()
        answers = self.client.answers()
        if (stats, pacing, answers) == self.stats_saved:
            return
        self.stats_saved = (stats, pacing, answers)
        with self.store.write() as db:
            set_run_counts(
                self.store,
                db,
                self.run_id,
                pa_requests=stats.pa_requests,
                details_requests=stats.details_requests,
                search_requests=stats.search_requests,
                token_requests=stats.token_requests,
                retries=stats.retries,
                rate_limited=stats.rate_limited,
            )
            set_run_pacing(self.store, db, self.run_id, pacing)
            set_run_answers(self.store, db, self.run_id, answers)
