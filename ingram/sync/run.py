"""One run, start to end: the prologue ``sync`` and ``retry-failed`` share, and the loop.

The prologue takes the lock, routes signals to the stop switch, marks dead runs,
plans, executes and prunes old history. The loop (``SyncRun``) keeps both
streams fed, hands what comes back to the single writer, and ends when no call
is in flight and nothing is held, or when a stop's grace period is over.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ingram.config.values import duration_text
from ingram.errors import DatabaseBusy, IngramSyncError
from ingram.state.dbfile import storage_error
from ingram.state.history import compact_finished_runs, failure_counts
from ingram.state.lock import SyncLock
from ingram.state.maintenance import prune
from ingram.state.products import add_products
from ingram.state.runs import (
    create_run,
    finish_run,
    interrupt_dead_runs,
    known_run,
    recount_failures,
)
from ingram.state.store import Store
from ingram.sync.options import Progress, RunSummary, SyncOptions
from ingram.sync.outcome import RunOutcome
from ingram.sync.plan import check_min_interval, plan_retries, plan_sync, resolve_keys
from ingram.sync.signals import StopSwitch, handle_stop_signals
from ingram.sync.streams import Streams
from ingram.sync.writer import DetailsStream, Writer
from ingram.vocab import ExitStatus, RunKind, RunStatus

if TYPE_CHECKING:  # the client (and requests) load only for commands that call the API
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.sync")


def run_sync(
    store: Store, client: IngramClient, options: SyncOptions, progress: Progress
) -> RunSummary:
    """A full sync of the tracked products (or ``options.skus``), resuming a dead run first."""

    def plan() -> int | RunSummary:
        skipped = check_min_interval(store, options)
        if skipped:
            return skipped
        interrupt_dead_runs(store)
        if options.skus:
            add_products(store, options.skus)
        else:  # keys added since the last sync become tracked part numbers first
            resolve_keys(store, client)
        run_id = create_run(store, RunKind.SYNC, options_record(options))
        with store.write():  # taking over owed work and planning are one transaction
            plan_sync(store, run_id, options)
        return run_id

    return run(store, client, options, progress, plan)


def run_retry_failed(
    store: Store,
    client: IngramClient,
    failures: Sequence[Any],
    options: SyncOptions,
    progress: Progress,
) -> RunSummary:
    """Re-run exactly the given failure rows (P&A items re-batched, details one by one)."""

    def plan() -> int | RunSummary:
        interrupt_dead_runs(store)
        ids = [row["id"] for row in failures]
        record = options_record(options) | {"retry_failures": ids[:100], "retried": len(ids)}
        run_id = create_run(store, RunKind.RETRY, record)
        plan_retries(store, run_id, failures, options)
        return run_id

    return run(store, client, options, progress, plan)


def run(
    store: Store,
    client: IngramClient,
    options: SyncOptions,
    progress: Progress,
    plan: Callable[[], int | RunSummary],
) -> RunSummary:
    """The one prologue: signals to the stop switch, the lock, ``plan``, the run, retention."""
    stop = StopSwitch(client)
    store.busy_wait, store.stop_waiting = options.busy_wait, stop.is_set
    with handle_stop_signals(stop), SyncLock(store.path):
        planned = plan()
        if isinstance(planned, RunSummary):
            return planned
        summary = SyncRun(store, client, planned, options, progress, stop).execute()
        apply_retention(store, options, summary)
        return summary


def apply_retention(store: Store, options: SyncOptions, summary: RunSummary) -> None:
    """After a run: drop finished runs' closed tasks (their figures stay on the run rows),
    then prune history older than ``keep_days``; a failure here fails no run.

    Not after a signal: the process is asked to end within its grace period.
    """
    if summary.status == RunStatus.INTERRUPTED:
        return
    try:
        compact_finished_runs(store)
        if options.keep_days <= 0:
            return
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


class SyncRun:
    """Executes the pending tasks of one run: streams fed, results to the writer."""

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
        self.run_id = run_id
        self.options = options
        self.progress = progress
        self.stop = stop
        self.streams = Streams(store, client, run_id, options)
        self.outcome = RunOutcome(stop)
        self.writer = Writer(store, client, run_id, options, progress, self.outcome, self.streams)

    def execute(self) -> RunSummary:
        run = known_run(self.store, self.run_id)
        self.writer.details_total = run["details_total"]
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
            return RunSummary(
                None,
                RunStatus.INTERRUPTED,
                ExitStatus.INTERRUPTED,
                message="stopped while the database was busy",
            )
        finally:
            self.streams.shutdown()
        return self.finish()

    def abandon(self, error: sqlite3.Error) -> None:
        """After a storage fault: mark the run interrupted if the disk still lets us.

        If it does not, the run stays ``running`` with a pid that is gone, and the
        next sync marks it interrupted; either way that sync resumes its tasks.
        """
        try:
            message = f"storage fault: {error}"[:300]
            finish_run(self.store, self.run_id, RunStatus.INTERRUPTED, message)
        except sqlite3.Error:
            log.debug("could not mark run %d interrupted", self.run_id, exc_info=True)

    def loop(self) -> None:
        writer, held, streams = self.writer, self.writer.held, self.streams
        grace_ends: float | None = None
        details = DetailsStream.UNFED  # as the last fill left it: its queue is read then
        while True:
            if self.stop.is_set() and grace_ends is None:
                grace_ends = time.monotonic() + self.options.grace_period
            out_of_time = grace_ends is not None and time.monotonic() > grace_ends
            ready = held.take(out_of_time or self.stop.is_set(), details)
            if ready:
                writer.save(ready)  # before dispatching: a result may stop a stream or the run
            if not self.stop.is_set():
                streams.fill()
            details = writer.details_stream()
            if not streams.in_flight or out_of_time:
                if not held:
                    return
                writer.save(held.take(everything=True))  # saved P&A may queue details
                continue
            due_in = held.next_due(details) - time.monotonic()
            wait_for = min(self.options.timing.stats_every, max(due_in, 0.0))
            for future, item in streams.completed(wait_for):
                writer.hold(future, item)
            writer.note_activity(streams.activity.now())
            if not held:  # held results carry the counters with them
                writer.save_client_stats()

    def finish(self) -> RunSummary:
        self.writer.save_client_stats()
        recount_failures(self.store, self.run_id)
        run = known_run(self.store, self.run_id)
        status, error = self.outcome.final_status(run, self.stop.is_set())
        finish_run(self.store, self.run_id, status, error)
        self.progress.waiting(())
        self.progress.close()
        counts = dict(known_run(self.store, self.run_id))
        ending = self.outcome.ending
        return RunSummary(
            self.run_id,
            status,
            self.outcome.exit_status(status),
            counts,
            error,
            len(self.streams.in_flight),
            ending.kind if ending is not None else None,
            failure_counts(self.store, self.run_id),
        )
