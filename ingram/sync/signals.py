"""Ctrl-C and SIGTERM during a run: stop sending, finish the calls in flight, save."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.sync")


class StopSwitch:
    """Thrown by SIGINT/SIGTERM or an error that ends the run: nothing new is sent, waits end.

    Example: ``stop = StopSwitch(client); stop(); stop.is_set()`` is True.
    """

    def __init__(self, client: IngramClient) -> None:
        self.client = client
        self.event = threading.Event()

    def __call__(self, signalled: bool = True) -> None:
        if signalled and not self.event.is_set():  # an error that ends the run says so itself
            log.warning("stopping: finishing the calls in flight, then saving")
        self.event.set()
        self.client.cancel()

    def is_set(self) -> bool:
        return self.event.is_set()


class handle_stop_signals:  # noqa: N801 - used as a context manager, named like one
    """Route SIGINT and SIGTERM to ``stop`` while a run is planned and executed (main thread)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop()

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
