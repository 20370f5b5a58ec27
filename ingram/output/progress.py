"""Showing a run's progress: tqdm bars on a terminal, periodic log lines for cron.

Example::

    progress = make_progress(quiet=False)   # bars if stderr is a terminal
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from ingram.models import Waiting
from ingram.output.logs import FILE_ONLY
from ingram.output.reports import plural, waiting_text
from ingram.output.terminal import TERMINAL, draws_in_place

log = logging.getLogger("ingram.progress")


class Stream:
    """One bar's numbers and its own clock: ``began`` when its first work was known (details:
    when the first batch queued some), ``ended`` freezes its time and rate when it is done."""

    def __init__(self, label: str, total: int | None, began: float | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.began = began
        self.last: float | None = None  # when its last work was done
        self.ended: float | None = None

    def line(self, now: float, width: int) -> str:
        if self.total == 0:
            return f"{self.label}: none due"
        elapsed = (self.ended or now) - (self.began or now)
        from tqdm import tqdm  # here: importing it costs a run without bars (cron) 25 ms

        return tqdm.format_meter(
            self.done,
            self.total,  # type: ignore[arg-type]  # tqdm takes None: a total not known yet
            elapsed,
            ncols=width,
            prefix=self.label,
            unit="product",
        )


class BarProgress:
    """Two bars on stderr, always P&A above details, redrawn in place by this class alone.

    tqdm draws each line (``format_meter``) but does not place them: with two tqdm
    bars the last screen showed them swapped, doubled, or still ticking after
    their stream ended. A stream's bar stops at its own end time and rate. The
    details total is not known until every P&A batch has landed (only found
    products get details), so until then the details bar shows a count, no
    percentage that could go backwards.
    """

    REDRAW_EVERY = 0.1

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.streams: list[Stream] = []
        self.drawn = 0  # lines of bars on the screen now
        self.last_draw = 0.0
        self.started = time.monotonic()
        self.lock = threading.RLock()

    def start(self, pa_total: int, details_total: int) -> None:
        self.started = time.monotonic()
        self.pa = Stream("price & availability", pa_total, self.started)
        self.details = Stream("details             ", None, self.started if details_total else None)
        self.details_sum = details_total
        self.status: str | None = None  # the retry wait under way, shown under the bars
        self.streams = [self.pa, self.details]
        self.end_finished_streams()
        TERMINAL.show(self)
        self.draw(force=True)

    def pa_advance(self, products: int) -> None:
        self.pa.done += products
        self.end_finished_streams()
        self.draw()

    def details_total(self, total: int) -> None:
        self.details_sum = total
        if total and self.details.began is None:
            self.details.began = time.monotonic()
        self.end_finished_streams()
        self.draw()

    def waiting(self, waits: Sequence[Waiting]) -> None:
        self.status = waiting_text(waits)
        self.draw(force=True)

    def details_advance(self, count: int) -> None:
        self.details.done += count
        self.details.last = time.monotonic()
        self.end_finished_streams()
        self.draw()

    def end_finished_streams(self) -> None:
        now = time.monotonic()
        if self.pa.done >= (self.pa.total or 0) and self.pa.ended is None:
            self.pa.ended = now
            self.draw(force=True)
        if self.pa.ended is not None:  # every batch has landed: the details owed are known
            self.details.total = self.details_sum
            if self.details.done >= self.details_sum and self.details.ended is None:
                self.details.ended = self.details.last or now  # when its last one came

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.streams or (not force and now - self.last_draw < self.REDRAW_EVERY):
            return
        with self.lock:
            self.last_draw = now
            self.out.write(self.erase() + self.render(now))
            self.out.flush()

    def render(self, now: float) -> str:
        width = max(40, shutil.get_terminal_size().columns - 1)  # a wrapped line breaks redraws
        lines = [stream.line(now, width) for stream in self.streams]
        if self.status:
            lines.append(self.status[:width])
        self.drawn = len(lines)
        return "\n".join(lines)

    def erase(self) -> str:
        """Back to the first bar's line and clear from there (nothing when none is drawn)."""
        up = f"\x1b[{self.drawn - 1}F" if self.drawn > 1 else ""
        return f"\r{up}\x1b[J" if self.drawn else ""

    def write_above(self, message: str) -> None:
        """A log line above the bars, which are drawn again below it."""
        with self.lock:
            self.out.write(f"{self.erase()}{message}\n{self.render(time.monotonic())}")
            self.out.flush()

    def close(self) -> None:
        """The last screen: both bars frozen where they ended, then a newline; nothing else."""
        TERMINAL.hide(self)
        if self.streams:
            self.draw(force=True)
            self.out.write("\n")
            self.out.flush()
            self.streams = []


class LogProgress:
    """A plain log line every ``every`` seconds, no control characters (cron mail, log files).

    ``file_only``: the lines go to the log file alone (``--no-progress``).
    """

    def __init__(self, every: float = 10.0, file_only: bool = False) -> None:
        self.every = every
        self.extra = FILE_ONLY if file_only else None
        self.pa_done = self.details_done = self.pa_total = self.details_sum = 0
        self.started = self.last = time.monotonic()
        self.last_wait: Waiting | None = None

    def start(self, pa_total: int, details_total: int) -> None:
        self.pa_total, self.details_sum = pa_total, details_total
        carried = f", {plural(details_total, 'details call', 'details calls')} carried over"
        log.info(
            "sync started: %s to price%s",
            plural(pa_total, "product", "products"),
            carried if details_total else "",  # the rest are queued as batches land
            extra=self.extra,
        )

    def pa_advance(self, products: int) -> None:
        self.pa_done += products
        self.maybe_log()

    def details_total(self, total: int) -> None:
        self.details_sum = total

    def details_advance(self, count: int) -> None:
        self.details_done += count
        self.maybe_log()

    def waiting(self, waits: Sequence[Waiting]) -> None:
        """A line when a wait begins (the soonest one), none when waits end."""
        text = waiting_text(waits)
        if text and waits[0] != self.last_wait:
            log.info("%s", text, extra=self.extra)
        self.last_wait = waits[0] if waits else None

    def maybe_log(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            log.info(
                "progress: P&A %d/%d products, details %d/%d, %.0fs elapsed",
                self.pa_done,
                self.pa_total,
                self.details_done,
                self.details_sum,
                now - self.started,
                extra=self.extra,
            )

    def close(self) -> None:
        pass


def make_progress(quiet: bool, bars: bool = True) -> BarProgress | LogProgress:
    """Bars on a terminal that can draw them; plain log lines otherwise.

    ``bars=False`` (``--no-progress``): no bars, and the progress lines go to the
    log file only. ``TERM=dumb`` terminals get the plain lines: no escape codes.
    """
    if not bars:
        return LogProgress(file_only=True)
    if not quiet and draws_in_place(sys.stderr):
        return BarProgress()
    return LogProgress()


class SearchProgress:
    """``products discover``: a bar of matches on a terminal, a line every ``every`` seconds
    otherwise (a search of a large vendor pages for minutes at 1.1 s a page)."""

    def __init__(self, limit: int, quiet: bool, every: float = 10.0) -> None:
        self.bar = None
        if not quiet and draws_in_place(sys.stderr):
            from tqdm import tqdm  # here: see ``Stream.line``

            self.bar = tqdm(total=limit, desc="searching the catalog", unit="match", leave=False)
        self.every = every
        self.last = time.monotonic()

    def matched(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count - self.bar.n)
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            log.info("searching the catalog: %d matches so far", count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
