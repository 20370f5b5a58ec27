"""What the client watches across its calls: pacing headers, outages, errors of no item.

``Pacing`` records, per endpoint, what the ``X-RateLimit-*`` headers said and
how long answers took (``runs show`` reports it; ``--details-workers auto``
sizes the pool from it). ``OutageWatch`` times a run of nothing but transport
errors, timeouts and 5xx, so that an outage ends a run within a bound instead
of every batch spending minutes of retries. Both are thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ingram.api.http import Response, describe
from ingram.api.parsing import account_fault, loads
from ingram.errors import AccountFault, ApiError, CredentialsError, MalformedResponse
from ingram.policy import Trigger

__all__ = ["OutageWatch", "Pacing", "account_fault_error", "maintenance_note"]

# Ingram's published daily maintenance windows (portal FAQ), by the countries of a region:
# (countries, UTC offset of the published times, first hour, end hour, region name).
# Only North America's is known here; other regions get no note rather than a wrong one.
MAINTENANCE_WINDOWS = (
    (frozenset({"US", "CA"}), -8, 23, 4, "North America (23:00-04:00 GMT-8, weekdays)"),
)


def maintenance_note(country: str, now: datetime | None = None) -> str | None:
    """Say so when ``now`` falls in the maintenance window of ``country``'s region."""
    now = now or datetime.now(UTC)
    for countries, offset, first, end, region in MAINTENANCE_WINDOWS:
        if country.upper() not in countries:
            continue
        local = now.astimezone(UTC) + timedelta(hours=offset)
        started = local if local.hour >= first else local - timedelta(days=1)
        in_window = local.hour >= first or local.hour < end
        if in_window and started.weekday() < 5:
            return f"now is within Ingram's daily maintenance window for {region}"
    return None


def account_fault_error(resp: Response, redact: Callable[[str], str]) -> ApiError | None:
    """The error to raise at once for an answer no item caused (None for any other answer):
    the engine stops the run when it repeats, instead of a failure row per product."""
    if resp.status < 400 or not resp.body:
        return None
    try:
        trigger = account_fault(resp.status, loads(resp.body))
    except MalformedResponse:
        return None
    if trigger is None:
        return None
    detail = redact(describe(resp))
    if trigger is Trigger.API_PRODUCT_MISSING:
        return CredentialsError(
            f"the Ingram API refused the call ({detail}): the API app lacks this API product",
            trigger=trigger,
            http_status=resp.status,
        )
    message = f"the Ingram API refused the call: {detail}"
    return AccountFault(message, trigger=trigger, http_status=resp.status)


class Pacing:
    """Per endpoint: what the vendor's ``X-RateLimit-*`` headers said, and answer latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, dict[str, Any]] = {}

    def _entry(self, endpoint: str) -> dict[str, Any]:
        empty = {"limit": None, "waits": 0, "waited": 0.0, "answers": 0, "seconds": 0.0}
        return self._seen.setdefault(endpoint, empty)

    def answer(self, endpoint: str, seconds: float) -> None:
        with self._lock:
            seen = self._entry(endpoint)
            seen["answers"] += 1
            seen["seconds"] += seconds

    def headers(self, endpoint: str, limit: int | None, waited: float) -> None:
        with self._lock:
            seen = self._entry(endpoint)
            if limit is not None:
                seen["limit"] = limit if seen["limit"] is None else min(seen["limit"], limit)
            if waited > 0:
                seen["waits"] += 1
                seen["waited"] += waited

    def snapshot(self, spacing: Mapping[str, float]) -> dict[str, dict[str, Any]]:
        """JSON-ready: ``latency`` is the mean seconds per answer, ``spacing`` the gate's."""
        with self._lock:
            seen = {name: dict(entry) for name, entry in self._seen.items()}
        for name, entry in seen.items():
            answers, total = entry.pop("answers"), entry.pop("seconds")
            entry["latency"] = round(total / answers, 4) if answers else None
            entry["waited"] = round(entry["waited"], 3)
            entry["spacing"] = round(spacing.get(name, 0.0), 4)
        return seen


class OutageWatch:
    """How long every call has met only transport errors, timeouts and 5xx (thread-safe)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._since: float | None = None  # monotonic time of the first failure in a row

    def answered(self) -> None:
        with self._lock:
            self._since = None

    def failed(self) -> float:
        """Note one more failure; return the seconds the API has been failing."""
        now = time.monotonic()
        with self._lock:
            if self._since is None:
                self._since = now
            return now - self._since

    def left(self) -> float:
        """Seconds before the failures so far make an outage (the limit when healthy)."""
        with self._lock:
            since = self._since
        return self.limit if since is None else self.limit - (time.monotonic() - since)
