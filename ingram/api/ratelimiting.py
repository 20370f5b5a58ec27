"""Per-endpoint pacing shared by every thread of a client, and cancellable waits.

An ``EndpointGate`` spaces the calls to one endpoint evenly (one call per
interval, on a fixed schedule), and holds the endpoint's "blocked until" time
after a 429 so that every thread of that endpoint waits, not only the one that
met it. A thread waits in ``acquire`` for its slot; the send itself is claimed
as the request is written (``SpacedSend``), so that the guard spaces the sends
where the vendor counts them. Every wait goes through a ``threading.Event``:
``cancel()`` ends it at once with ``Cancelled``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ratelimit import RateLimitException, limits

from ingram.api.vendorclock import http_date
from ingram.errors import Cancelled

__all__ = [
    "EndpointGate",
    "SpacedSend",
    "VendorWindow",
    "claim_send",
    "cancellable_sleep",
    "rate_limit_delay",
    "sleep_until",
    "vendor_window",
]

MAX_BLOCK_SECONDS = 900.0  # a 429 that asks for more than 15 minutes is not believed
CLOCK_SKEW_SECONDS = 2.0  # X-RateLimit-Reset this far in the past is taken as skew
# The end of a wait for a send is spun (yielding), not slept: most sleeps end later than asked
# by less than this. Spinning it costs less CPU than a call, one per interval at most.
SPIN_SECONDS = 0.0005


def cancellable_sleep(cancel: threading.Event, seconds: float) -> None:
    """Wait ``seconds`` unless ``cancel`` is set first; then raise ``Cancelled``."""
    if cancel.is_set():
        raise Cancelled("cancelled while waiting to call the Ingram API")
    if seconds > 0 and cancel.wait(seconds):
        raise Cancelled("cancelled while waiting to call the Ingram API")


def sleep_until(cancel: threading.Event, moment: float) -> None:
    """Wait until ``time.monotonic()`` reaches ``moment``: late by microseconds, not by a sleep's
    overshoot (0.1-0.5 ms here, more under load), which would push every later call back
    too. The last ``SPIN_SECONDS`` are spun; ``cancel`` ends the wait at once.
    """
    cancellable_sleep(cancel, moment - time.monotonic() - SPIN_SECONDS)
    while time.monotonic() < moment:  # spun, holding the processor: a yield may lose it for ms
        if cancel.is_set():
            raise Cancelled("cancelled while waiting to call the Ingram API")


@dataclass(frozen=True)
class VendorWindow:
    """What one answer's ``X-RateLimit-*`` headers said about the vendor's window."""

    limit: int | None
    remaining: int
    reset_in: float  # seconds from now until the window refreshes


def vendor_window(headers: Mapping[str, str], now: float | None = None) -> VendorWindow | None:
    """The vendor's window from an answer's headers; None without a usable ``Remaining``."""
    remaining = _finite(_header(headers, "X-RateLimit-Remaining") or "")
    reset = _finite(_header(headers, "X-RateLimit-Reset") or "")
    if remaining is None or reset is None:
        return None
    limit = _finite(_header(headers, "X-RateLimit-Limit") or "")
    now = time.time() if now is None else now
    reset_in = min(max(reset - now, 0.0), MAX_BLOCK_SECONDS)
    return VendorWindow(int(limit) if limit else None, max(int(remaining), 0), reset_in)


def _send() -> None:
    """The guarded action: ``ratelimit`` counts calls of it, one per interval."""


_slot_held = threading.local()  # .gate: the gate whose slot this thread holds, its send unclaimed


def claim_send() -> None:
    """Claim the send this thread's last ``EndpointGate.acquire`` allowed (none: nothing to do)."""
    gate: EndpointGate | None = getattr(_slot_held, "gate", None)
    if gate is not None:
        _slot_held.gate = None
        gate.claim()


class SpacedSend:
    """A connection mixin: the request's send is claimed just before its bytes are written."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        claim_send()
        super().request(*args, **kwargs)  # type: ignore[misc]


class EndpointGate:
    """One endpoint's limiter: even spacing plus a shared 429 block.

    ``interval`` seconds between calls (0 or less: no spacing). Waiting here is
    never an attempt; it ends early with ``Cancelled`` when ``cancel`` is set.
    """

    def __init__(self, name: str, interval: float, cancel: threading.Event) -> None:
        self.name = name
        self.interval = interval
        self._cancel = cancel
        self._lock = threading.Lock()
        self._blocked_until = 0.0  # time.monotonic() value
        self._windows_in_a_row = 0  # the vendor's windows met since the last other answer
        self._window_ends = 0.0  # time.monotonic() value: when the last window counted ends
        self._next_slot = 0.0  # time.monotonic() value of the next free send slot
        self._vendor_interval = 0.0  # the spacing the vendor's headers ask for (0: none)
        # ``ratelimit`` guards the spacing itself: one send per interval, whatever
        # the schedule says (see ``_claim_send``).
        self._guard = limits(calls=1, period=interval, raise_on_limit=True)
        self._one_send = self._guard(_send) if interval > 0 else _send

    def acquire(self) -> None:
        """Block until this thread may send one request to the endpoint (its slot has come).

        The send is claimed when the request is written (``claim_send``, from the
        connection): between here and there a thread builds and prepares its
        request, and under load one thread does so more slowly than the next, so
        sends spaced here reached the server bunched (12 in 10 intervals).
        """
        while True:
            self._wait_unblocked()
            sleep_until(self._cancel, self._reserve_slot())
            if self.blocked_for() <= 0:  # a 429 may have landed while we waited for a slot
                cancellable_sleep(self._cancel, 0.0)
                _slot_held.gate = self if self.interval > 0 else None
                return

    def claim(self) -> None:
        """Take the send now, once no send of this endpoint came less than one interval ago."""
        while (guard_ends := self._claim_send()) is not None:
            sleep_until(self._cancel, guard_ends)

    def _reserve_slot(self) -> float:
        """Take the next send slot; return when it comes (``time.monotonic``).

        Slots follow a fixed schedule, one interval after the previous slot (or
        now, when the endpoint was idle). A window restarted at each call, as
        ``ratelimit.limits`` alone does, adds every late wake-up to the spacing: about
        1 ms a call under load, 5% of a 20 ms interval. Here a late wake-up
        delays one call, never the calls after it, so the achieved rate is the
        configured one. Each thread sleeps until its own slot: no polling race.
        """
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            spacing = max(self.interval, self._vendor_interval)
            if spacing > 0:
                self._next_slot = slot + spacing
        return slot

    def _claim_send(self) -> float | None:
        """Take the send now (return None), or return when to ask again (``time.monotonic``).

        A thread that woke late for its slot must not send right before the
        next slot's thread: two sends closer than one interval put one call
        more than the rate into a vendor's window (11 in a window of 10 under
        load). So every send comes at least one interval after the previous
        one, and a thread the guard holds back waits for the very moment its
        window ends (``sleep_until`` it), not "now plus what remains", which
        came a little later each time: the guard's windows restart at each send,
        so any lateness of one send moves every send after it.
        """
        try:
            self._one_send()
        except RateLimitException:
            return self._guard.last_reset + self._guard.period
        return None

    def follow(self, window: VendorWindow) -> float:
        """Pace by the vendor's window; return the seconds every thread now waits (0: none).

        ``Remaining`` 0 holds every thread until ``Reset``; otherwise the calls
        left are spread over the time left, so the window is spent evenly and never overspent.
        The configured interval stays the floor of the spacing (a ceiling on the rate).
        """
        if window.remaining <= 0:
            waited = window.reset_in - self.blocked_for()
            self.block(window.reset_in)
            with self._lock:
                self._vendor_interval = 0.0  # the next window starts fresh
            return max(waited, 0.0)
        with self._lock:
            # One share more than the calls left: the last of them lands before the reset,
            # not on it, where it would meet a 429 or open the next window late.
            self._vendor_interval = window.reset_in / (window.remaining + 1)
        return 0.0

    def spacing(self) -> float:
        """Seconds between calls now: the configured interval or the vendor's, the longer."""
        with self._lock:
            return max(self.interval, self._vendor_interval)

    def block(self, seconds: float) -> None:
        """Make every thread of this endpoint wait ``seconds`` from now (a 429 was met)."""
        with self._lock:
            self._block_locked(seconds)

    def _block_locked(self, seconds: float) -> None:
        seconds = min(max(seconds, 0.0), MAX_BLOCK_SECONDS)
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)

    def window(self, seconds: float) -> int:
        """A vendor window was met (a 429, a quota reply): every thread waits ``seconds``.

        Returns the windows met in a row. Answers that arrive before the last window
        counted is over are that window, met by calls sent before it began: they count
        once (the answer's own ``Remaining: 0`` may already hold the endpoint).
        """
        with self._lock:
            now = time.monotonic()
            if now >= self._window_ends:  # the last window counted is over: this is the next
                self._windows_in_a_row += 1
            self._window_ends = max(
                self._window_ends, now + min(max(seconds, 0.0), MAX_BLOCK_SECONDS)
            )
            self._block_locked(seconds)
            return self._windows_in_a_row

    def answered(self) -> None:
        """An answer that was no window: the windows are no longer in a row."""
        with self._lock:
            self._windows_in_a_row = 0

    def blocked_for(self) -> float:
        """Seconds left of the current 429 block (0 when none)."""
        with self._lock:
            return max(self._blocked_until - time.monotonic(), 0.0)

    def _wait_unblocked(self) -> None:
        while (remaining := self.blocked_for()) > 0:
            cancellable_sleep(self._cancel, remaining)
        cancellable_sleep(self._cancel, 0.0)


def rate_limit_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait after a 429, from ``Retry-After`` or ``X-RateLimit-Reset``.

    ``Retry-After`` is seconds (possibly fractional) or an HTTP date;
    ``X-RateLimit-Reset`` is a Unix time (possibly fractional). None when
    neither header says anything usable (the caller then uses its retry wait).
    """
    now = time.time() if now is None else now
    retry_after = _header(headers, "Retry-After")
    if retry_after is not None:
        delay = _seconds_or_date(retry_after, now)
        if delay is not None:
            return min(delay, MAX_BLOCK_SECONDS)
    reset = _header(headers, "X-RateLimit-Reset")
    if reset is not None:
        moment = _finite(reset)
        if moment is not None and moment - now >= -CLOCK_SKEW_SECONDS:
            return min(max(moment - now, 0.0), MAX_BLOCK_SECONDS)
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _seconds_or_date(text: str, now: float) -> float | None:
    seconds = _finite(text)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    moment = http_date(text)
    return None if moment is None else max(moment - now, 0.0)
