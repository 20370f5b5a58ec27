"""The deadline of one HTTP exchange, held whatever the server does.

A read timeout restarts with every byte, so a server trickling its answer a
byte at a time inside the timeout would hold a call (and a cron sync) for
hours. One watchdog thread expires each exchange at its deadline by shutting
down its connection's socket, which ends any blocked connect, TLS handshake or
read at once. ``Registering`` makes urllib3's connections tell the watchdog
which socket the exchange on their thread uses.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import urllib3

__all__ = ["WATCHDOG", "Registering", "Watch"]


class Watch:
    """One exchange under a deadline: when it is due, the connection it uses, whether it expired."""

    def __init__(self, due: float) -> None:
        self.due = due
        self.connection: urllib3.connection.HTTPConnection | None = None
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            # The plain socket's shutdown: SSLSocket's would drop its state under the reader.
            with suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """One thread for all exchanges: expires each watch at its due time.

    The thread sleeps until the earliest due time it knows of, and a new watch
    wakes it only when it falls due before that (the first after an idle spell,
    or a shorter deadline). The deadlines of a run are all one length, so a new
    watch falls due after those already watched: a call costs a lock and a set
    operation, not a thread switch (waking the thread on every call was 6 % of a
    sync's CPU). A watch that ends early leaves the wake-up as it was: the
    thread wakes, finds nothing due, and sleeps until the next due time.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._watches: set[Watch] = set()
        self._wakes_at = math.inf  # when the thread looks next (inf: it sleeps until notified)
        self._local = threading.local()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[Watch]:
        watch = Watch(time.monotonic() + seconds)
        with self._condition:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            if watch.due < self._wakes_at:
                self._wakes_at = watch.due
                self._condition.notify()
        self._local.watch = watch
        try:
            yield watch
        finally:
            self._local.watch = None
            with self._condition:
                self._watches.discard(watch)

    def current(self) -> Watch | None:
        """The watch of the exchange running on this thread, if any."""
        return getattr(self._local, "watch", None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for watch in [w for w in self._watches if w.due <= now]:
                    self._watches.discard(watch)
                    watch.expire()
                self._wakes_at = min((w.due for w in self._watches), default=math.inf)
                timeout = None if self._wakes_at == math.inf else self._wakes_at - now
                self._condition.wait(timeout)


WATCHDOG = Watchdog()


class Registering:
    """A connection mixin: tells the current exchange's watch which connection (and so which
    socket) it uses."""

    def connect(self) -> None:
        self._register()
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._register()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _register(self) -> None:
        watch = WATCHDOG.current()
        if watch is not None:
            watch.connection = self  # type: ignore[assignment]
