"""The one owner of stderr when it is a terminal: log lines and progress bars take turns.

Bars are redrawn in place; a log line written while they are on screen must go
above them, or it tears them apart. ``TERMINAL`` knows which bars are shown
(``show``/``hide``) and writes every log line (``write_line``) above them.

Example::

    TERMINAL.show(bars)
    TERMINAL.write_line("warning: ...")  # above the bars, which are drawn again below it
    TERMINAL.hide(bars)
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Protocol, TextIO


class Screen(Protocol):
    """What is drawn in place at the bottom of the terminal (the progress bars)."""

    def write_above(self, message: str) -> None: ...


class Terminal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shown: list[Screen] = []  # the bars on screen, the newest last

    def show(self, screen: Screen) -> None:
        with self._lock:
            self._shown.append(screen)

    def hide(self, screen: Screen) -> None:
        with self._lock:
            if screen in self._shown:
                self._shown.remove(screen)

    def write_line(self, message: str) -> None:
        """Print ``message`` on stderr, above the bars when some are drawn."""
        with self._lock:
            screen = self._shown[-1] if self._shown else None
        if screen is not None:
            screen.write_above(message)
        else:
            sys.stderr.write(message + "\n")


TERMINAL = Terminal()


def draws_in_place(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that takes cursor movements (``TERM=dumb`` does not)."""
    return stream.isatty() and os.environ.get("TERM", "") not in ("dumb", "")
