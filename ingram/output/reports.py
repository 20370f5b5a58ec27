"""Readable reports of what syncs recorded: run summaries, the runs table, one run in full.

Functions here take rows and dicts (from ``ingram.state.history`` and the store) and
return text lines or JSON-ready dicts; the CLI only prints them.

Example::

    for line in runs_table([run_dict(row) for row in recent_runs(store, 20)]):
        print(line)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ingram.clock import parse_time
from ingram.models import Record, Waiting
from ingram.state.history import list_failures, run_dict, stream_timings
from ingram.state.planning import WorkPlan
from ingram.state.store import Store
from ingram.vocab import Endpoint, StreamKind

CENTS = Decimal("0.01")
STREAM_LABELS = {StreamKind.PA: "price & availability", StreamKind.DETAILS: "details"}
ENDPOINT_LABELS: dict[str, str] = {
    Endpoint.PA: "P&A",
    Endpoint.DETAILS: "details",
    Endpoint.SEARCH: "search",
    Endpoint.TOKEN: "token",
}


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from ``start`` to ``end`` (ISO texts); None when either is missing."""
    if not start or not end:
        return None
    return (parse_time(end) - parse_time(start)).total_seconds()


def clock(seconds: float | None) -> str:
    """``0:42``, ``12:05`` or ``3:02:09``; ``-`` for None. Example: clock(75) == "1:15"."""
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def took(seconds: float | None) -> str:
    """``4.1s`` under a minute, else ``clock``. Example: took(4.12) == "4.1s"."""
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 60 else clock(seconds)


def describe_run(counts: Record, failed: Mapping[str, int]) -> list[str]:
    """The summary printed at the end of a run (and by ``monitor``), each line within 100 columns.

    ``failed`` is the run's failed items per kind (``failure_counts``): a details item
    whose retries were spent is counted as failed, not among the details done.
    """
    seconds = seconds_between(counts["started_at"], counts["finished_at"])
    duration = "" if seconds is None else f" in {took(seconds)}"
    priced = counts["pa_products_done"] - counts["not_found"]  # failed batches are not done
    details_done = counts["details_done"] - failed.get(StreamKind.DETAILS, 0)
    lines = [
        f"run {counts['id']} {counts['status']}{duration}: {priced} priced,"
        f" {counts['not_found']} not found, {details_done} details"
    ]
    if any(failed.values()):
        pa, details = (failed.get(kind, 0) for kind in (StreamKind.PA, StreamKind.DETAILS))
        lines.append(f"  failed: {pa} P&A, {details} details")
    searched = f", {counts['search_requests']} search" if counts["search_requests"] else ""
    lines.append(
        f"  requests: {counts['pa_requests']} P&A, {counts['details_requests']} details{searched};"
        f" {plural(counts['retries'], 'retry', 'retries')},"
        f" {counts['rate_limited']} rate-limited (429)"
    )
    return lines


def answers_line(answers: Mapping[str, Mapping[str, int]]) -> str:
    """``P&A 200 x4, 429 x1; details 200 x9, 404 x1; token 200 x1``: every answer counted."""
    if not answers:
        return "none"
    return "; ".join(
        f"{ENDPOINT_LABELS.get(endpoint, endpoint)} "
        + ", ".join(f"{status} x{count}" for status, count in sorted(counted.items()))
        for endpoint, counted in answers.items()
    )


def waiting_text(waits: Sequence[Waiting], now: float | None = None) -> str | None:
    """``waiting 30 s before retry 2 of P&A batch 1 (HTTP 500)``, the soonest wait first; None
    when nothing waits. ``now`` (Unix time): the seconds left then, else the whole wait."""
    if not waits:
        return None
    first = waits[0]
    seconds = first.wait.seconds if now is None else max(first.until - now, 0.0)
    shown = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}".removesuffix(".0")
    text = (
        f"waiting {shown} s before retry {first.wait.retry} of {first.label} ({first.wait.reason})"
    )
    return text + (f"; {len(waits) - 1} more waiting" if len(waits) > 1 else "")


def plural(count: int, one: str, many: str) -> str:
    """``1 retry``, ``2 retries``."""
    return f"{count} {one if count == 1 else many}"


def run_duration(run: Record, now: datetime | None = None) -> float:
    """Seconds a run took, or has taken so far when it has not finished."""
    end = run["finished_at"] or (now or datetime.now(UTC)).isoformat()
    return seconds_between(run["started_at"], end) or 0.0


RUNS_HEADER = (
    f"{'id':>5}  {'kind':<5}  {'status':<23}  {'started (UTC)':<19}  {'took':>7}  "
    f"{'products':>8}  {'details':>7}  {'failed':>6}  {'retries':>7}  {'429s':>5}"
)


def runs_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``runs`` table, newest first, one line per run."""
    lines = [RUNS_HEADER]
    for run in runs:
        started = run["started_at"][:19].replace("T", " ")
        lines.append(
            f"{run['id']:>5}  {run['kind']:<5}  {shown_status(run):<23}  {started:<19}  "
            f"{took(run_duration(run)):>7}  {run['products']:>8}  {run['details_done']:>7}  "
            f"{run['failures']:>6}  {run['retries']:>7}  {run['rate_limited']:>5}"
        )
    return lines


def shown_status(run: Mapping[str, Any]) -> str:
    """The status, or ``died`` for a run left ``running`` by a process that is gone."""
    return "died" if run.get("process_gone") else run["status"]


def stream_report(run: Record, timing: Mapping[str, Any] | None) -> dict[str, Any]:
    """One stream of a run: tasks, items, first created / last finished and the duration."""
    if not timing:
        return {"tasks": 0, "items": 0, "failed": 0, "pending": 0, "attempts": 0}
    started = max(timing["first_created"], run["started_at"])
    return {
        "tasks": timing["tasks"],
        "items": timing["items"],
        "failed": timing["failed"],
        "pending": timing["pending"],
        "attempts": timing["attempts"],
        "first_created": started,
        "first_finished": timing["first_finished"],
        "last_finished": timing["last_finished"],
        "seconds": seconds_between(started, timing["last_finished"]),
    }


def run_detail(store: Store, run: Record) -> dict[str, Any]:
    """``runs show``: the run's counts, options, per-stream timings and failures."""
    timings = stream_timings(store, run["id"])
    detail = run_dict(run)
    detail["seconds"] = run_duration(run) if run["finished_at"] else None
    detail["options"] = json.loads(run["options"] or "{}")
    detail["pacing"] = json.loads(run["pacing"] or "{}")
    detail["streams"] = {
        kind: stream_report(run, timings.get(kind)) for kind in (StreamKind.PA, StreamKind.DETAILS)
    }
    detail["failures_list"] = list_failures(store, run_id=run["id"], include_resolved=True)
    return detail


def render_run_detail(detail: Mapping[str, Any]) -> list[str]:
    """``runs show`` as readable lines."""
    priced = detail["pa_products_done"] - detail["not_found"]
    lines = [
        f"run {detail['id']} ({detail['kind']}) {shown_status(detail)}",
        f"  started    {detail['started_at']}",
        f"  finished   {detail['finished_at'] or '-'}  (took {took(run_duration(detail))})",
        f"  process    pid {detail['pid']} on {detail['host']}",
        f"  products   {detail['products']} in {detail['pa_batches']} P&A batches: {priced} priced,"
        f" {detail['not_found']} not found; details {detail['details_done']}"
        f" of {detail['details_total']}",
        f"  requests   {detail['pa_requests']} P&A, {detail['details_requests']} details,"
        f" {detail['search_requests']} search, {detail['token_requests']} token;"
        f" {detail['retries']} retries, {detail['rate_limited']} rate-limited (429)",
        f"  answers    {answers_line(detail['answers'])}",
        f"  options    {format_options(detail['options'])}",
        "  streams",
    ]
    for kind, stream in detail["streams"].items():
        span = (
            f"{stream['first_created']} .. {stream['last_finished'] or 'not finished'}"
            if stream["tasks"]
            else "no tasks"
        )
        lines.append(
            f"    {STREAM_LABELS[kind]:<21} {stream['tasks']:>6} tasks, {stream['items']:>7} items,"
            f" {stream['failed']} failed, {stream['pending']} pending;"
            f" {span} ({took(stream.get('seconds'))})"
        )
    lines.extend(pacing_lines(detail["pacing"]))
    advice = details_workers_advice(detail["pacing"], detail["options"].get("details_workers"))
    if advice:
        lines.append(f"  advice     {advice}")
    if detail["last_error"]:
        lines.append(f"  last error {detail['last_error']}")
    failures = detail["failures_list"]
    lines.append(f"  failures   {len(failures) or 'none'}")
    lines.extend("    " + failure_line(row) for row in failures)
    return lines


def pacing_lines(pacing: Mapping[str, Any]) -> list[str]:
    """What the vendor's X-RateLimit headers said per endpoint, and how fast it answered."""
    lines = []
    for endpoint, seen in pacing.items():
        limit = f"limit {seen['limit']} a window" if seen.get("limit") else "no limit headers"
        latency = seen.get("latency")
        answers = f"answers in {latency:.3f} s on average" if latency is not None else "no answers"
        lines.append(
            f"  vendor     {ENDPOINT_LABELS.get(endpoint, endpoint)}: {limit};"
            f" {seen.get('waits', 0)} waits for the window's reset ({seen.get('waited', 0):g} s);"
            f" {answers}"
        )
    return lines


def details_workers_advice(pacing: Mapping[str, Any], workers: Any) -> str | None:
    """When slow answers keep the details threads below the allowed pace, say how many would not.

    One thread sends a call only after the previous answer: with answers slower
    than the spacing of calls, it cannot use the whole limit.
    """
    seen = pacing.get("details") or {}
    latency, spacing = seen.get("latency"), seen.get("spacing")
    if not latency or not spacing or not isinstance(workers, int) or workers == 0:  # 0: auto
        return None
    needed = math.ceil(latency / spacing)
    if needed <= workers:
        return None
    return (
        f"details answers took {latency:.3f} s, longer than the {spacing:g} s between calls:"
        f" {workers} details thread{'s' if workers != 1 else ''} cannot reach the limit;"
        f" --details-workers {needed} (or auto) would"
    )


def run_advice(counts: Mapping[str, Any]) -> str | None:
    """The end-of-run advice line from a runs row (None when there is nothing to say)."""
    try:
        pacing = json.loads(counts.get("pacing") or "{}")
        workers = json.loads(counts.get("options") or "{}").get("details_workers")
    except (TypeError, ValueError):
        return None
    return details_workers_advice(pacing, workers)


def format_options(options: Mapping[str, Any]) -> str:
    """``batch_size=50 max_concurrent=5 details=yes pa_rate=60/min ...`` on one line."""
    parts: list[str] = []
    for name, value in options.items():
        if isinstance(value, dict):  # runs recorded before options were flattened
            parts.extend(f"{name}.{key}={inner}" for key, inner in value.items())
        elif isinstance(value, list):
            parts.append(f"{name}={','.join(map(str, value)) or '-'}")
        elif isinstance(value, bool):
            parts.append(f"{name}={'yes' if value else 'no'}")
        else:
            parts.append(f"{name}={value}")
    return " ".join(parts) or "-"


FAILURES_HEADER = f"{'id':>6} {'run':<9} {'kind':<19} {'part number':<14} {'status':<12} error"


def failures_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``failed`` table: a header, then one line per failed item."""
    return [FAILURES_HEADER, *(failure_line(row) for row in rows)]


def money_text(value: Decimal | None, currency: str | None = None) -> str:
    """Money as a person reads it: two decimals at least (``45.10``, never ``45.1``), the
    currency after it; ``-`` when there is none. Example: money_text(Decimal("45.1")) == "45.10"."""
    if value is None:
        return "-"
    shown = value.quantize(CENTS) if value.as_tuple().exponent > -2 else value  # type: ignore[operator]
    return f"{shown} {currency}" if currency else str(shown)


def change_text(value: Any) -> str:
    """A changed value: money (the only Decimal a change holds) with two decimals."""
    return money_text(value) if isinstance(value, Decimal) else value_text(value)


def value_text(value: Any) -> str:
    """A value as a table shows it: flags as yes/no, ``-`` for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def products_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``products list`` table: part number, status, customer price, total stock."""
    lines = [f"{'part number':<14} {'status':<14} {'price':>14} {'stock':>8}"]
    for row in rows:
        price = row["customer_price"]
        shown = "" if price is None else money_text(price, row["currency"])
        stock = "" if row["total_availability"] is None else str(row["total_availability"])
        lines.append(f"{row['ingram_part_number']:<14} {row['status']:<14} {shown:>14} {stock:>8}")
    return lines


def keys_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """``products list --ambiguous`` or ``--unmatched``: key, candidates or the vendor's word."""
    lines = [f"{'key type':<18} {'key':<24} candidates or the vendor's message"]
    for row in rows:
        said = ", ".join(row["candidates"]) if row["status"] == "ambiguous" else row["message"]
        lines.append(f"{row['key_type']:<18} {row['key_value']:<24} {said or ''}")
    return lines


def failure_line(row: Mapping[str, Any]) -> str:
    """One failure as a table line (``failed`` and ``runs show``)."""
    status = f"HTTP {row['http_status']}" if row["http_status"] else row["error_kind"]
    resolved = "  (resolved)" if row.get("resolved_at") else ""
    return (
        f"{row['id']:>6} run {row['run_id']:<5} {STREAM_LABELS[row['kind']]:<20} "
        f"{row['ingram_part_number']:<14} {status:<12} {row['error']}{resolved}"
    )


def changes_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``changes`` report: when, part number, field, old -> new."""
    lines = [f"{'changed at (UTC)':<24} {'part number':<14} {'field':<18} {'source':<7} old -> new"]
    for row in rows:
        lines.append(
            f"{row['changed_at']:<24} {row['ingram_part_number']:<14} {row['field']:<18} "
            f"{row['source']:<7} {change_text(row['old_value'])} -> {change_text(row['new_value'])}"
        )
    return lines


def intake_line(intake: Mapping[str, Any]) -> str:
    """The Stock Update receiver's intake in one line (``runs``, ``monitor``)."""
    return (
        f"webhook intake: {intake['events']:,} events, {intake['resources']:,} resources:"
        f" {intake['applied']:,} applied, {intake['untracked']:,} untracked,"
        f" {intake['stale']:,} stale, {intake.get('skipped', 0):,} skipped;"
        f" {intake['replays']:,} replays, {intake['refused']:,} refused,"
        f" {intake.get('ignored', 0):,} of other topics ignored"
        f"{set_aside_words(intake.get('set_aside', 0))};"
        f" last event {intake['last_event_at'] or 'none'}"
        f" (received {intake['last_received_at'] or 'never'})"
    )


def set_aside_words(count: int) -> str:
    """What an operator must look at: events the receiver could not apply."""
    if not count:
        return ""
    return f", {count:,} set aside (see the receiver's log and the spool's *.bad files)"


def dry_run_lines(plan: WorkPlan, pa_rate: float, details_interval: float) -> list[str]:
    """What ``sync --dry-run`` prints: the calls a sync would make and the floor the limits set."""
    pa_floor = plan.pa_floor(pa_rate)
    details_floor = plan.details_floor(details_interval)
    return [
        f"would sync {plan.products} products: {plan.pa_calls} P&A call{'s' * (plan.pa_calls != 1)}"
        f" (up to {plan.batch_size} part numbers each), up to {plan.details_due} details calls",
        f"floor set by the limits: P&A {took(pa_floor)} at {pa_rate:g} calls/min,"
        f" details {took(details_floor)} at one call every {details_interval:g}s;"
        f" the run takes at least {took(max(pa_floor, details_floor))}"
        " (details overlap P&A)",
        "dry run: nothing fetched, nothing written",
    ]
