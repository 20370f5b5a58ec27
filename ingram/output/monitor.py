"""``monitor``: a live view of a run, computed from the database alone.

The monitor opens the store read-only and never takes the sync lock: WAL lets
it read while the sync writes. Each refresh reads the run's counters (the
engine refreshes the request, retry and 429 counts every 0.5 s), turns them
into a ``RunView`` (done / total, rate per minute and ETA per stream) and
shows it: redrawn in place on a terminal, one line per refresh otherwise. A
run left ``running`` by a process that is gone on this host is reported as
such instead of being waited for.

Example::

    store = Store.open("catalog.db", readonly=True)
    view = follow(store, pick_run(store, None), LineScreen(sys.stdout), refresh=2)
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from ingram.clock import format_time, parse_time
from ingram.errors import InputError
from ingram.models import Record, Waiting
from ingram.output.reports import (
    STREAM_LABELS,
    clock,
    describe_run,
    intake_line,
    run_duration,
    seconds_between,
    stream_report,
    took,
    waiting_text,
)
from ingram.state.history import failure_counts, last_failure, run_profile, stream_timings
from ingram.state.lock import process_alive
from ingram.state.runs import known_run, last_run, run_activity, run_row
from ingram.state.store import Store
from ingram.state.webhook import webhook_intake
from ingram.vocab import RunStatus, StreamKind

ERASE_UP = "\x1b[{n}F\x1b[J"  # cursor up n lines to column 1, clear to the end of the screen


@dataclass(frozen=True)
class StreamView:
    """One stream (P&A or details) of a run: progress, rate per minute, ETA in seconds."""

    label: str
    done: int
    total: int
    rate: float | None
    eta: float | None
    failed: int


@dataclass(frozen=True)
class RunView:
    """What the monitor shows of a run at one moment."""

    run_id: int
    kind: str
    status: str
    elapsed: float
    pid: int | None
    host: str | None
    pa: StreamView
    details: StreamView
    pa_batches: tuple[int, int]
    requests: tuple[int, int]
    retries: int
    rate_limited: int
    failures: int
    last_error: str | None
    process_gone: bool
    webhook_intake: str | None = None  # the Stock Update receiver's line, when it received any
    profile: str | None = None  # the config profile the run was started with
    waits: tuple[Waiting, ...] = ()  # retry waits under way

    def waiting(self) -> str | None:
        """The retry wait under way, with the seconds left now."""
        return waiting_text(self.waits, time.time()) if self.running else None

    def error_now(self) -> str | None:
        """The last error: a failure's, the run's, else the one being retried."""
        if self.last_error or not self.waiting():
            return self.last_error
        wait = self.waits[0]
        return f"{wait.label} (being retried): {wait.wait.error}"

    @property
    def running(self) -> bool:
        return self.status == RunStatus.RUNNING and not self.process_gone


def pick_run(store: Store, run_id: int | None) -> int:
    """The run to show: ``run_id``, else the running run, else the last one."""
    if run_id is not None:
        if run_row(store, run_id) is None:
            raise InputError(f"no run {run_id}: see `ingram-sync runs`")
        return run_id
    row = last_run(store, (RunStatus.RUNNING,)) or last_run(store)
    if row is None:
        raise InputError(f"no runs yet in {store.path}: start one with `ingram-sync sync`")
    return row["id"]


def stream_view(
    label: str,
    done: int,
    total: int,
    elapsed: float,
    failed: int,
    running: bool,
    spacing: float | None = None,
) -> StreamView:
    """Rate (per minute, averaged over ``elapsed``: the stream's own time) and ETA of one
    stream. The ETA follows what is known: the pace so far, and never less than the calls
    left at the limiter's ``spacing`` (seconds between calls), which holds from the start."""
    done = min(done, total) if total else done
    rate = done * 60 / elapsed if elapsed >= 0.1 and done else None
    left = total - done
    known = [left * 60 / rate] if rate else []
    known += [left * spacing] if spacing else []
    eta: float | None = 0.0 if left <= 0 else max(known) if known and running else None
    return StreamView(label, done, total, rate, eta, failed)


def details_spacing(run: Record) -> float | None:
    """Seconds between details calls, as the run's client paced them (from its pacing)."""
    try:
        pacing = json.loads(run["pacing"] or "{}")
    except (IndexError, KeyError, TypeError, ValueError):
        return None
    return (pacing.get("details") or {}).get("spacing") or None


def build_view(
    run: Record,
    failed: Mapping[str, int],
    last: Mapping[str, Any] | None,
    alive: bool | None,
    now: datetime,
    stream_seconds: Mapping[str, float | None] | None = None,
) -> RunView:
    """A ``RunView`` from a runs row, its failures per kind and its latest failure.

    Rates are averaged over each stream's own span (``stream_seconds``, from the tasks:
    details start with the first P&A batch that queued some), else over the run so far.
    """
    gone = run["status"] == RunStatus.RUNNING and alive is False
    running = run["status"] == RunStatus.RUNNING and not gone
    elapsed = run_duration(run, now)
    spans = {
        kind: (stream_seconds or {}).get(kind) or elapsed
        for kind in (StreamKind.PA, StreamKind.DETAILS)
    }
    pa_done = run["pa_products_done"] + failed.get(StreamKind.PA, 0)
    pa = stream_view(
        STREAM_LABELS[StreamKind.PA],
        pa_done,
        run["products"],
        spans[StreamKind.PA],
        failed.get(StreamKind.PA, 0),
        running,
    )
    details = stream_view(
        STREAM_LABELS[StreamKind.DETAILS],
        run["details_done"],
        run["details_total"],
        spans[StreamKind.DETAILS],
        failed.get(StreamKind.DETAILS, 0),
        running,
        details_spacing(run),
    )
    last_error = run["last_error"]
    if last is not None and not last_error:
        last_error = f"{last['kind']} {last['ingram_part_number']}: {last['error']}"
    return RunView(
        waits=run_activity(run),
        run_id=run["id"],
        kind=run["kind"],
        status=run["status"],
        elapsed=elapsed,
        pid=run["pid"],
        host=run["host"],
        pa=pa,
        details=details,
        pa_batches=(run["pa_batches_done"], run["pa_batches"]),
        requests=(run["pa_requests"], run["details_requests"]),
        retries=run["retries"],
        rate_limited=run["rate_limited"],
        failures=run["failures"],
        last_error=last_error,
        process_gone=gone,
        profile=run_profile(run),
    )


def read_view(store: Store, run_id: int, now: Callable[[], datetime] | None = None) -> RunView:
    """The current view of a run (the process is checked before the row is read)."""
    first = run_row(store, run_id)
    if first is None:
        raise InputError(f"run {run_id} is gone from the database")
    # The start times tell a pid reused by another process from the run's own.
    alive = process_alive(first["pid"], first["host"], parse_time(first["started_at"]))
    run = known_run(store, run_id) if first["status"] == RunStatus.RUNNING else first
    moment = now() if now else datetime.now(UTC)
    failed = failure_counts(store, run_id)
    timings = stream_timings(store, run_id)
    if run["status"] != RunStatus.RUNNING:
        spans = {kind: stream_span(run, timing) for kind, timing in timings.items()}
    else:  # details so far: since their first task was queued, not since the run began
        details = timings.get(StreamKind.DETAILS)
        began = max(details["first_created"], run["started_at"]) if details else None
        spans = {StreamKind.DETAILS: seconds_between(began, format_time(moment))}
    view = build_view(run, failed, last_failure(store, run_id), alive, moment, spans)
    intake = webhook_intake(store)
    return replace(view, webhook_intake=intake_line(intake)) if intake else view


def stream_span(run: Record, timing: Mapping[str, Any]) -> float | None:
    """Seconds from a stream's first task to its last finished one."""
    return stream_report(run, timing).get("seconds")


def rate_text(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}/min"


def headline(view: RunView) -> str:
    where = f"pid {view.pid} on {view.host}" if view.pid else "unknown process"
    phase = "running for" if view.status == RunStatus.RUNNING else f"{view.status}, took"
    profile = f", profile {view.profile}" if view.profile else ""
    return f"run {view.run_id} ({view.kind}{profile}) {phase} {took(view.elapsed)}, {where}"


def render_screen(view: RunView) -> list[str]:
    """The terminal screen: a headline, one row per stream, the counters, the last error."""
    lines = [
        headline(view),
        f"  {'stream':<21} {'done / total':>19} {'rate':>11} {'ETA':>8} {'failed':>7}",
    ]
    for stream in (view.pa, view.details):
        lines.append(
            f"  {stream.label:<21} {stream.done:>9} / {stream.total:<7}"
            f" {rate_text(stream.rate):>11} {clock(stream.eta):>8} {stream.failed:>7}"
        )
    lines.append(
        f"  P&A batches {view.pa_batches[0]}/{view.pa_batches[1]}; requests {view.requests[0]}"
        f" P&A, {view.requests[1]} details; retries {view.retries}; 429s {view.rate_limited};"
        f" failed items {view.failures}"
    )
    waiting = view.waiting()
    if waiting:
        lines.append(f"  now: {waiting}")
    lines.append(f"  last error: {view.error_now() or 'none'}")
    if view.webhook_intake:
        lines.append(f"  {view.webhook_intake}")
    if view.process_gone:
        lines.append(gone_message(view))
    return lines


def render_line(view: RunView) -> str:
    """One plain line per refresh (no control characters), for pipes and log files."""
    stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
    parts = [
        f"{stamp} run {view.run_id}{f' (profile {view.profile})' if view.profile else ''}"
        f" {view.status} {took(view.elapsed)}",
        f"P&A {view.pa.done}/{view.pa.total} products {rate_text(view.pa.rate)}"
        f" ETA {clock(view.pa.eta)}",
        f"details {view.details.done}/{view.details.total} {rate_text(view.details.rate)}"
        f" ETA {clock(view.details.eta)}",
        f"retries {view.retries}, 429s {view.rate_limited}, failed {view.failures}",
    ]
    waiting = view.waiting()
    if waiting:
        parts.append(waiting)
    error = view.error_now()
    if error:
        parts.append(f"last error: {one_line(error, 100)}")
    if view.webhook_intake:
        parts.append(view.webhook_intake)
    if view.process_gone:
        parts.append(gone_message(view))
    return " | ".join(parts)


def gone_message(view: RunView) -> str:
    return (
        f"process {view.pid} is gone (killed or crashed): run {view.run_id} will not progress;"
        " the next `ingram-sync sync` resumes its unfinished work"
    )


def one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


class LineScreen:
    """Prints one line per refresh."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, view: RunView) -> None:
        self.out.write(render_line(view) + "\n")
        self.out.flush()


class TerminalScreen:
    """Redraws the screen in place, lines cut to the terminal's width so nothing wraps."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.drawn = 0

    def show(self, view: RunView) -> None:
        width = max(40, shutil.get_terminal_size().columns - 1)
        lines = [line[:width] for line in render_screen(view)]
        erase = ERASE_UP.format(n=self.drawn) if self.drawn else ""
        self.out.write(erase + "\n".join(lines) + "\n")
        self.out.flush()
        self.drawn = len(lines)


def follow(
    store: Store,
    run_id: int,
    screen: LineScreen | TerminalScreen,
    refresh: float,
    sleep: Callable[[float], None] = time.sleep,
) -> RunView:
    """Show the run every ``refresh`` seconds until it ends (or its process is gone)."""
    while True:
        view = read_view(store, run_id)
        screen.show(view)
        if not view.running:
            return view
        sleep(refresh)


def summary_lines(store: Store, view: RunView) -> list[str]:
    """What the monitor prints once the run has ended: the run's summary line.

    Nothing when the process is gone: the last screen already says so.
    """
    if view.process_gone:
        return []
    run = run_row(store, view.run_id)
    return describe_run(run, failure_counts(store, view.run_id)) if run is not None else []
