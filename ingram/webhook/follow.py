"""A job run in its own thread a moment after the writer applied stock: the database mirror
and change events of ``webhook serve`` (the job comes from the CLI, which knows them).

The writer only sets an event, so it never waits for the job. Stock applied while
the job runs makes it run once more; a job that failed (it returns True) runs
again after ``retry_every`` seconds even without new stock.

Example::

    follower = Follower(job, delay=2.0).start()
    receiver.on_applied = follower.poke
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("ingram.webhook")

DELAY = 2.0  # seconds to wait after stock lands: events in a burst go out in one job
RETRY_EVERY = 60.0


class Follower:
    def __init__(
        self, job: Callable[[], bool], *, delay: float = DELAY, retry_every: float = RETRY_EVERY
    ) -> None:
        self.job = job
        self.delay = delay
        self.retry_every = retry_every
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="webhook-follower", daemon=True)

    def start(self) -> Follower:
        self.thread.start()
        return self

    def poke(self) -> None:
        """Stock was applied: run the job soon (called by the writer thread)."""
        self.wanted.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.wanted.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def loop(self) -> None:
        retry = False
        while not self.stopping.is_set():
            poked = self.wanted.wait(self.retry_every if retry else None)
            if self.stopping.is_set():
                return
            if poked and self.stopping.wait(self.delay):
                return
            self.wanted.clear()
            try:
                retry = self.job()
            except Exception as error:  # the receiver goes on; the next stock tries again
                log.error("after applying stock: %s: %s", type(error).__name__, error)
                retry = True
