"""The vendor's clock, estimated from the ``Date`` header of its answers.

``X-RateLimit-Reset`` (and ``Retry-After`` as an HTTP date) are moments on the
vendor's clock. Read against ours, a host 20 s behind waits 20 s past every
reset. Each answer bounds how far the vendor's clock is ahead of ours: it
stamped ``Date`` (whole seconds, rounded down) after we sent and before we
received, so the offset lies in ``[Date - received, Date + 1 - sent)``. The
bounds of the answers so far are intersected (an empty intersection means a
clock was set: start again from the latest answer). When 0 lies within them
the clocks agree as far as the header can tell and nothing is corrected;
otherwise the lower bound is taken, which errs on waiting longer, never shorter.

Example::

    clock = VendorClock()
    clock.observe(resp.headers.get("Date"), sent=t0, received=t1)
    reset_in = float(resp.headers["X-RateLimit-Reset"]) - clock.now()
"""

from __future__ import annotations

import datetime
import email.utils
import math
import threading
import time

__all__ = ["VendorClock", "http_date"]


def http_date(text: str | None) -> float | None:
    """The Unix time of an HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``); None if it is not one."""
    if not text:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # HTTP dates are GMT
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


class VendorClock:
    """How far the vendor's clock is ahead of ours (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._low = -math.inf
        self._high = math.inf

    def observe(self, date: str | None, sent: float, received: float) -> None:
        """One answer's ``Date``, sent and received at these Unix times (ours)."""
        stamped = http_date(date)
        if stamped is None:
            return
        low, high = stamped - received, stamped + 1 - sent
        with self._lock:
            if low >= self._high or high <= self._low:
                self._low, self._high = low, high
            else:
                self._low, self._high = max(self._low, low), min(self._high, high)

    @property
    def offset(self) -> float:
        """Seconds the vendor's clock is ahead of ours (negative: behind); 0 when unknown."""
        with self._lock:
            low, high = self._low, self._high
        if low == -math.inf or low <= 0 < high:
            return 0.0
        return low

    def now(self) -> float:
        """The vendor's Unix time now, as estimated."""
        return time.time() + self.offset
