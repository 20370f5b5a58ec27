"""What the client watches across its calls: pacing headers, outages, errors of no item.

``Pacing`` records, per endpoint, what the ``X-RateLimit-*`` headers said (the
lowest limit, and the last answer's calls left and seconds to the reset) and
how long answers took (``runs show`` reports it; ``--details-workers auto``
sizes the pool from it). ``OutageWatch`` times a run of nothing but transport
errors, timeouts and 5xx, so that an outage ends a run within a bound instead
of every batch spending minutes of retries. ``Counters`` counts requests and
every answer by endpoint and status; ``OddFields`` warns once a run for each
field the vendor sends unlike its schema. All are thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ingram.api.http import Response, describe
from ingram.api.parsing import account_fault, loads
from ingram.api.ratelimiting import VendorWindow
from ingram.errors import AccountFault, ApiError, CredentialsError, MalformedResponse
from ingram.models import ClientStats, PriceAvailability
from ingram.policy import POLICY, Retry, Trigger

log = logging.getLogger("ingram.api.client")

__all__ = ["Counters", "OddFields", "OutageWatch", "Pacing", "account_fault_error"]


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
    verb = "throttled" if POLICY[trigger].retry is Retry.WINDOW else "refused"  # a quota reply
    message = f"the Ingram API {verb} the call: {detail}"
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

    def headers(self, endpoint: str, window: VendorWindow, waited: float) -> None:
        limit = window.limit
        with self._lock:
            seen = self._entry(endpoint)
            if limit is not None:
                seen["limit"] = limit if seen["limit"] is None else min(seen["limit"], limit)
            seen["remaining"], seen["reset_in"] = window.remaining, round(window.reset_in, 3)
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


class Counters:
    """Thread-safe counters behind ``IngramClient.stats`` and ``IngramClient.answers``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(ClientStats.__dataclass_fields__, 0)
        self._answers: Counter[tuple[str, int]] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def answer(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._answers[endpoint, status] += 1

    def snapshot(self) -> ClientStats:
        with self._lock:
            return ClientStats(**self._counts)

    def answers(self) -> dict[str, dict[str, int]]:
        with self._lock:
            counted = sorted(self._answers.items())
        answers: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in counted:
            answers.setdefault(endpoint, {})[str(status)] = count
        return answers


class OddFields:
    """One warning a run for each field the vendor sends unlike its schema (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()

    def warn(self, items: Sequence[PriceAvailability]) -> None:
        for item in items:
            with self._lock:
                new = [field for field in item.odd_fields if field not in self._seen]
                self._seen.update(new)
            if new:
                log.warning(
                    "warning: P&A item %s: %s sent unlike the vendor's schema, left out; the"
                    " rest of the item is kept (said once a field per run)",
                    item.ingram_part_number or "(no part number)",
                    ", ".join(new),
                )
