"""Child processes of the tests: their output read as it comes, and none left running.

A child writing into a pipe nobody reads blocks once the pipe's 64 KiB are full
(a ``sync -v`` under load did, stuck in its log handler, and hung CI). Every
process a test starts is a ``Started``: a thread per piped stream reads it into
memory while the test does other things, and ``communicate`` hands back what
was written. What a failed or timed-out test left running, ``reap_all`` kills
(the conftest calls it after each test, so start children in tests or in
function-scoped fixtures, never in wider ones).
"""

from __future__ import annotations

import io
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from typing import IO, Any

_started: list[Started] = []  # the current test's children (a worker runs one test at a time)


class Started(subprocess.Popen):  # type: ignore[type-arg]  # of str or bytes, as asked
    """``subprocess.Popen`` whose piped stdout and stderr are drained by threads."""

    def __init__(self, args: Any, **kwargs: Any) -> None:
        super().__init__(args, **kwargs)
        self._changed = threading.Condition()
        self._chunks: dict[str, list[Any]] = {"out": [], "err": []}
        self._open: set[str] = set()
        self._readers: list[threading.Thread] = []
        for name, stream in (("out", self.stdout), ("err", self.stderr)):
            if stream is not None:
                self._open.add(name)
                reader = threading.Thread(target=self._drain, args=(name, stream), daemon=True)
                reader.start()
                self._readers.append(reader)
        _started.append(self)

    def _drain(self, name: str, stream: IO[Any]) -> None:
        try:
            for line in stream:
                with self._changed:
                    self._chunks[name].append(line)
                    self._changed.notify_all()
        finally:
            stream.close()
            with self._changed:
                self._open.discard(name)
                self._changed.notify_all()

    def text(self, name: str = "out") -> Any:
        """What the child wrote to std``name`` ("out" or "err") so far; None if not piped."""
        stream = self.stdout if name == "out" else self.stderr
        if stream is None:
            return None
        empty = "" if isinstance(stream, io.TextIOBase) else b""
        with self._changed:
            return empty.join(self._chunks[name])

    def _news(self, name: str, seen: int) -> bool:
        """More than ``seen`` lines of std``name``, or the stream closed (called locked)."""
        return len(self._chunks[name]) > seen or name not in self._open

    def lines(self, name: str = "out", timeout: float = 30.0) -> Iterator[Any]:
        """The lines of std``name`` as they arrive, until the child closes it.

        Raises AssertionError when no line came for ``timeout`` seconds."""
        seen = 0
        while True:
            with self._changed:
                arrived = self._changed.wait_for(partial(self._news, name, seen), timeout)
                fresh = self._chunks[name][seen:]
            if not arrived:
                raise AssertionError(f"no line on std{name} for {timeout} s from {self.args}")
            if not fresh:
                return
            seen += len(fresh)
            yield from fresh

    def communicate(  # type: ignore[override]
        self, input: Any = None, timeout: float | None = None
    ) -> tuple[Any, Any]:
        """Wait for the exit, then (stdout, stderr) as written. Takes no ``input``."""
        assert input is None, "a Started child reads no input"
        self.wait(timeout)
        deadline = time.monotonic() + (10.0 if timeout is None else timeout)
        for reader in self._readers:  # a grandchild holding the pipe open is not waited for
            reader.join(max(0.0, deadline - time.monotonic()))
        return self.text("out"), self.text("err")


def start(args: list[str], **kwargs: Any) -> Started:
    """Start ``args`` with stdout and stderr piped and drained, unless ``kwargs`` redirect them."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return Started(args, **kwargs)


def reap_all(grace: float = 5.0) -> None:
    """Kill what the test left running (it failed, or timed out, before stopping it)."""
    left = [process for process in _started if process.poll() is None]
    for process in left:
        process.kill()
    for process in left:
        process.wait(grace)
    _started.clear()
