"""What the run's worker threads are doing that no result shows: waiting before a retry.

Each worker says which task it works on (``working``); the client tells of each wait
before a retry, in that thread (``waiting``). The run's loop reads ``now()`` twice a second
and passes it on: to the progress bars' status line and to the run's row for ``monitor``.

Example::

    with activity.working("P&A batch 1"):
        client.price_and_availability(pns)   # a 500: "waiting 30 s before retry 1 of P&A batch 1"
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ingram.models import RetryWait, Waiting


class Activity:
    """Thread-safe: the label of each worker's task, and its wait if it is waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[int, str] = {}
        self._waits: dict[int, Waiting] = {}

    @contextmanager
    def working(self, label: str) -> Iterator[None]:
        """In a worker: the task it works on until the block ends (and its wait with it)."""
        thread = threading.get_ident()
        with self._lock:
            self._labels[thread] = label
        try:
            yield
        finally:
            with self._lock:
                self._labels.pop(thread, None)
                self._waits.pop(thread, None)

    def waiting(self, wait: RetryWait) -> None:
        """In a worker, from the client: it waits ``wait.seconds`` before its next attempt."""
        thread = threading.get_ident()
        with self._lock:
            label = self._labels.get(thread)
            if label is not None:
                self._waits[thread] = Waiting(label, wait, time.time() + wait.seconds)

    def now(self) -> tuple[Waiting, ...]:
        """The waits not over yet, the soonest first."""
        moment = time.time()
        with self._lock:
            waits = [w for w in self._waits.values() if w.until > moment]
        return tuple(sorted(waits, key=lambda w: w.until))
