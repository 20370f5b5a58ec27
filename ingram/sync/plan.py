"""Which part numbers a run asks for: its tasks rows, planned before anything is sent.

A sync first turns the user's own keys into tracked part numbers
(``resolve_keys``), takes over what stopped runs left pending, then plans its
P&A batches; details are planned as P&A results land (``state.saving``). A
retry run plans exactly the failed items it was given, and what stopped retry
runs still owe.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ingram.clock import parse_time
from ingram.config.values import duration_text
from ingram.errors import ApiError
from ingram.policy import Outcome
from ingram.state.history import list_failures
from ingram.state.keys import save_key_resolutions, unresolved_keys
from ingram.state.products import iter_tracked, tracked_part_numbers
from ingram.state.runs import last_full_sync
from ingram.state.store import Store, batched
from ingram.state.tasks import (
    adopt_open_tasks,
    plan_details_tasks,
    plan_pa_tasks,
    runs_with_open_tasks,
    supersede_open_tasks,
)
from ingram.sync.options import RunSummary, SyncOptions
from ingram.sync.outcome import InARow
from ingram.vocab import ExitStatus, RunKind, RunStatus, StreamKind

if TYPE_CHECKING:
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.sync")
LOOKUP_BATCH = 50  # keys per P&A call, the vendor's limit


def check_min_interval(store: Store, options: SyncOptions) -> RunSummary | None:
    """A summary saying "skipped" when the last full sync finished under ``min_interval`` ago."""
    if options.force or options.skus or options.min_interval <= 0:
        return None
    last = last_full_sync(store)  # a --sku spot check or a retry is no reason to skip
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
    return RunSummary(None, RunStatus.SKIPPED, ExitStatus.OK, message=message)


def plan_sync(store: Store, run_id: int, options: SyncOptions) -> None:
    """Take over the work stopped runs left, then plan this run's P&A batches.

    Not only the runs just found dead: any earlier run that stopped with work
    pending (a signal, a kill right after it marked a dead run) is finished too.
    Their P&A part numbers are planned afresh in this run's full batches, so ten
    killed retries of the same items cost one call per 50 products, not ten.
    """
    unfinished = runs_with_open_tasks(store, exclude=run_id)
    owed = supersede_open_tasks(store, unfinished, StreamKind.PA)
    # Without details this run takes over only P&A; the details stay owed to a later sync.
    if options.details.enabled:
        adopt_open_tasks(store, unfinished, run_id, (StreamKind.DETAILS,))
    if unfinished:
        runs = "run" if len(unfinished) == 1 else "runs"
        log.info("resuming the unfinished tasks of %s %s", runs, ", ".join(map(str, unfinished)))
    if options.skus:  # owed part numbers no longer tracked are dropped with their products
        plan: Iterable[str] = dict.fromkeys(
            [*options.skus, *tracked_part_numbers(store, sorted(owed))]
        )
    else:  # streamed, not listed: a 100,000-product catalog is never held in memory at once
        plan = iter_tracked(store)
    plan_pa_tasks(store, run_id, batched(plan, options.batch_size))


def plan_retries(store: Store, run_id: int, failures: Sequence[Any], options: SyncOptions) -> None:
    """Plan the failed items given (P&A items batched again), and what stopped retries owe."""
    with store.write() as db:  # taking over owed work and planning are one transaction
        items = owed_retries(store, run_id)
        for row in failures:
            items[StreamKind(row["kind"])].setdefault(row["ingram_part_number"])
        plan_pa_tasks(store, run_id, batched(items[StreamKind.PA], options.batch_size))
        plan_details_tasks(store, db, run_id, list(items[StreamKind.DETAILS]))


def owed_retries(store: Store, run_id: int) -> dict[StreamKind, dict[str, None]]:
    """The items that stopped retry runs left pending and that still have an open failure.

    Their tasks are closed: this run retries the items in its own batches. An item
    whose failure was resolved (or removed with its product) since is dropped.
    """
    stopped = runs_with_open_tasks(store, exclude=run_id, kind=RunKind.RETRY)
    still_failing = {(row["kind"], row["ingram_part_number"]) for row in list_failures(store)}
    items: dict[StreamKind, dict[str, None]] = {kind: {} for kind in StreamKind}
    for kind, found in items.items():
        owed = supersede_open_tasks(store, stopped, kind)
        found.update(dict.fromkeys(pn for pn in sorted(owed) if (kind, pn) in still_failing))
    if stopped:
        log.info("taking over the open retries of run(s) %s", ", ".join(map(str, stopped)))
    return items


def resolve_keys(store: Store, client: IngramClient) -> Counter[str]:
    """Ask P&A which Ingram part numbers the unresolved keys name; track the resolved ones.

    Returns how many keys ended ``resolved``, ``ambiguous`` or ``not_found``. A
    batch whose call fails stays unresolved for the next sync. What an error
    means is the policy's, as in the run that follows: one that ends a run
    (refused credentials, no token, an outage, an error no item caused met twice
    in a row) stops the sync before its run starts, with the code it gives; a
    stop signal ends the lookups and the run that follows is interrupted.
    """
    counts: Counter[str] = Counter()
    in_a_row = InARow()
    for batch in batched(unresolved_keys(store), LOOKUP_BATCH):
        try:
            resolutions = client.lookup_keys(batch)
        except ApiError as error:
            if error.resolution.then is Outcome.CANCEL:
                break
            if in_a_row.ends_run(error):
                raise
            log.warning("%d keys stay unresolved until the next sync: %s", len(batch), error)
            counts["unresolved"] += len(batch)
            continue
        in_a_row.reset()
        save_key_resolutions(store, resolutions)
        counts.update(found.status for found in resolutions)
    if counts["ambiguous"]:
        log.warning(
            "%d keys name several Ingram part numbers: see `ingram-sync products list"
            " --ambiguous` and track the right one with `ingram-sync products add`",
            counts["ambiguous"],
        )
    if counts["not_found"]:
        log.warning(
            "%d keys name no Ingram product: see them with `ingram-sync products list --unmatched`",
            counts["not_found"],
        )
    return counts
