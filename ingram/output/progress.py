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
from typing import TextIO

from tqdm import tqdm

from ingram.output.logs import FILE_ONLY
from ingram.output.reports import plural
from ingram.output.terminal import TERMINAL, draws_in_place

log = logging.getLogger("ingram.progress")


class Stream:
    """One bar's numbers; ``ended`` freezes its time and rate when its work is done."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.ended: float | None = None

    def line(self, started: float, now: float, width: int) -> str:
        if self.total == 0:
            return f"{self.label}: none due"
        elapsed = (self.ended or now) - started
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
        self.pa = Stream("price & availability", pa_total)
        self.details = Stream("details             ", None)
        self.details_sum = details_total
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
        self.end_finished_streams()
        self.draw()

    def details_advance(self, count: int) -> None:
        self.details.done += count
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
                self.details.ended = now

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
        lines = [stream.line(self.started, now, width) for stream in self.streams]
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
