"""What the sandbox served, and the rolling-window rate limiter.

Tests assert on traffic (batch sizes, concurrency, rate), so every counter is
updated under one lock and ``snapshot`` hands out copies that stay valid
while the server keeps serving.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

ENDPOINTS: tuple[str, ...] = ("token", "price_and_availability", "details", "search")
API_ENDPOINTS: tuple[str, ...] = ENDPOINTS[1:]
_LIST_BOUND = 200_000
_LOG_BOUND = 100_000


class Stats:
    """Counters of served traffic; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset_locked()

    def _reset_locked(self) -> None:
        self.calls: Counter[str] = Counter()
        self.status_counts: dict[str, Counter[str]] = {e: Counter() for e in ENDPOINTS}
        self.pa_batch_sizes: deque[int] = deque(maxlen=_LIST_BOUND)
        self.pa_part_numbers_count = 0
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.correlation_ids: deque[str] = deque(maxlen=_LIST_BOUND)
        self.details_part_numbers: deque[str] = deque(maxlen=_LIST_BOUND)
        self.accepted: dict[str, deque[float]] = {e: deque() for e in API_ENDPOINTS}
        self.max_calls_in_window: Counter[str] = Counter()
        self.log: deque[dict[str, Any]] = deque(maxlen=_LOG_BOUND)

    def reset(self) -> None:
        """Forget all traffic (the rate limiter keeps its own memory)."""
        with self._lock:
            self._reset_locked()

    @contextmanager
    def in_flight_of(self, endpoint: str) -> Iterator[None]:
        """Count a request as running for ``max_in_flight`` while the block runs."""
        with self._lock:
            self.calls[endpoint] += 1
            self.in_flight[endpoint] += 1
            self.max_in_flight[endpoint] = max(
                self.max_in_flight[endpoint], self.in_flight[endpoint]
            )
        try:
            yield
        finally:
            with self._lock:
                self.in_flight[endpoint] -= 1

    def record_request(
        self,
        endpoint: str,
        correlation_id: str | None,
        skus: list[str] | None,
    ) -> None:
        """What the client asked for, whatever the answer turns out to be."""
        with self._lock:
            if correlation_id:
                self.correlation_ids.append(correlation_id)
            if endpoint == "price_and_availability" and skus is not None:
                self.pa_batch_sizes.append(len(skus))
                self.pa_part_numbers_count += len(skus)
            elif endpoint == "details" and skus:
                self.details_part_numbers.extend(skus)

    def record_accepted(self, endpoint: str, now: float, window: float) -> None:
        """An accepted call: feeds ``max_calls_in_window`` (a rolling maximum)."""
        with self._lock:
            stamps = self.accepted[endpoint]
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            stamps.append(now)
            self.max_calls_in_window[endpoint] = max(
                self.max_calls_in_window[endpoint], len(stamps)
            )

    def record_fault(self, name: str) -> None:
        """One injected failure of kind ``name``."""
        with self._lock:
            self.faults_injected[name] += 1

    def record_response(self, entry: dict[str, Any]) -> None:
        """Final status of one request (``entry`` becomes a request-log line)."""
        endpoint, status = entry["endpoint"], str(entry["status"])
        with self._lock:
            self.status_counts.setdefault(endpoint, Counter())[status] += 1
            if status == "429":
                self.rate_limited[endpoint] += 1
            self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable copy; status codes are string keys (as JSON makes them)."""
        with self._lock:
            return {
                "calls": {e: self.calls[e] for e in ENDPOINTS},
                "status_counts": {e: dict(c) for e, c in self.status_counts.items()},
                "pa_batch_sizes": list(self.pa_batch_sizes),
                "pa_part_numbers_count": self.pa_part_numbers_count,
                "max_in_flight": {e: self.max_in_flight[e] for e in ENDPOINTS},
                "rate_limited": {e: self.rate_limited[e] for e in API_ENDPOINTS},
                "faults_injected": dict(self.faults_injected),
                "correlation_ids": list(self.correlation_ids),
                "details_part_numbers": list(self.details_part_numbers),
                "max_calls_in_window": {e: self.max_calls_in_window[e] for e in API_ENDPOINTS},
            }

    def request_log(self) -> list[dict[str, Any]]:
        """Copy of the bounded per-request log."""
        with self._lock:
            return [dict(e) for e in self.log]


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one rate-limit check, with what the headers must say."""

    allowed: bool
    limit: int | None
    remaining: int | None
    reset_in: float  # seconds until a slot frees up (0 when unlimited)


class RateLimiter:
    """Sliding-window log per endpoint; only accepted calls enter the window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamps: dict[str, deque[float]] = {e: deque() for e in API_ENDPOINTS}

    def check(
        self,
        endpoint: str,
        limit: int | None,
        window: float,
        fixed: bool = False,
        on_admit: Callable[[float], None] | None = None,
    ) -> RateDecision:
        """Admit (and remember) the call, or say how long until it would be admitted.

        ``fixed``: the vendor's fixed window, opened by the first call after the
        previous one ended; once spent, the endpoint is refused until it ends.
        ``on_admit(now)`` runs under the limiter's lock when the call is admitted, so
        whatever it records sees admissions in the order and at the times they happened.
        """
        with self._lock:
            now = time.monotonic()
            stamps = self._stamps.setdefault(endpoint, deque())
            if fixed and limit is not None:
                decision = self._check_fixed(stamps, limit, window, now)
            else:
                decision = self._check_sliding(stamps, limit, window, now)
            if decision.allowed and on_admit is not None:
                on_admit(now)
            return decision

    @staticmethod
    def _check_sliding(
        stamps: deque[float], limit: int | None, window: float, now: float
    ) -> RateDecision:
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        if limit is None:
            stamps.append(now)
            return RateDecision(True, None, None, 0.0)
        if len(stamps) >= limit:
            reset_in = max(0.0, stamps[-limit] + window - now) if limit > 0 else window
            return RateDecision(False, limit, 0, reset_in)
        stamps.append(now)
        return RateDecision(True, limit, limit - len(stamps), stamps[0] + window - now)

    @staticmethod
    def _check_fixed(stamps: deque[float], limit: int, window: float, now: float) -> RateDecision:
        if stamps and stamps[0] <= now - window:
            stamps.clear()  # the window ended: a new one opens with this call
        reset_in = (stamps[0] if stamps else now) + window - now
        if len(stamps) >= limit:
            return RateDecision(False, limit, 0, reset_in)
        stamps.append(now)
        return RateDecision(True, limit, limit - len(stamps), reset_in)

    def peek(self, endpoint: str, limit: int | None, window: float) -> RateDecision:
        """Headers for an answer that did not go through ``check`` (injected 429)."""
        now = time.monotonic()
        with self._lock:
            stamps = [s for s in self._stamps.get(endpoint, ()) if s > now - window]
        if limit is None:  # nothing to reset: a short, honest wait keeps fault tests fast
            return RateDecision(False, None, 0, min(window, 1.0))
        reset_in = stamps[0] + window - now if stamps else window
        return RateDecision(False, limit, max(0, limit - len(stamps)), reset_in)

    def clear(self) -> None:
        """Forget all admitted calls (used when limits are reconfigured)."""
        with self._lock:
            for stamps in self._stamps.values():
                stamps.clear()
