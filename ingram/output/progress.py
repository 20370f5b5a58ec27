"""Showing a run's progress: tqdm bars on a terminal, periodic log lines for cron.

Example::

    progress = make_progress(quiet=False)   # bars if stderr is a terminal
"""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger("ingram.progress")


class BarProgress:
    """Two tqdm bars on stderr: P&A products and details."""

    def __init__(self) -> None:
        self.bars: list[tqdm] = []

    def start(self, pa_total: int, details_total: int) -> None:
        self.pa = tqdm(total=pa_total, desc="price & availability", unit="product", position=0)
        self.details = tqdm(
            total=details_total, desc="details             ", unit="product", position=1
        )
        self.bars = [self.pa, self.details]

    def pa_advance(self, products: int) -> None:
        self.pa.update(products)

    def details_total(self, total: int) -> None:
        if total != self.details.total:
            self.details.total = total
            self.details.refresh()

    def details_advance(self, count: int) -> None:
        self.details.update(count)

    def close(self) -> None:
        for bar in reversed(self.bars):
            bar.close()


class LogProgress:
    """A plain log line every ``every`` seconds, no control characters (cron mail, log files)."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.pa_done = self.details_done = self.pa_total = self.details_sum = 0
        self.started = self.last = time.monotonic()

    def start(self, pa_total: int, details_total: int) -> None:
        self.pa_total, self.details_sum = pa_total, details_total
        log.info("sync started: %d products to price, %d details queued", pa_total, details_total)

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
            )

    def close(self) -> None:
        pass


def make_progress(quiet: bool) -> BarProgress | LogProgress:
    if not quiet and sys.stderr.isatty():
        return BarProgress()
    return LogProgress()
