"""Retries of one logical call on its endpoint's waits, as the policy says (tenacity).

``call_with_retries`` runs attempts until one succeeds, one fails in a way the
policy does not retry, or the waits are spent; what is left is the last error,
said once with its attempts (``exhausted``, so no outer loop retries it), or as
it is when it ends the run (refused credentials, no token, an outage, a stop).

Example::

    call_with_retries("P&A request", (30, 60), wait_for(waits, outage_left), attempt,
                      cancel=event, on_retry=count, redact=mask)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from ingram.api.ratelimiting import cancellable_sleep
from ingram.errors import ApiError, MalformedResponse
from ingram.models import RetryWait
from ingram.policy import Retry

log = logging.getLogger("ingram.api.client")
T = TypeVar("T")


def nth_wait(waits: tuple[float, ...], attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (1-based)."""
    if not waits:
        return 0.0
    return waits[min(attempt, len(waits)) - 1]


def wait_for(
    waits: tuple[float, ...], outage_left: Callable[[], float]
) -> Callable[[RetryCallState], float]:
    """The wait before the next attempt: none after a rate-limit window (the endpoint's gate
    holds every thread until it resets), else the next of ``waits``, never past the outage
    limit (the attempt after it decides)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.resolution.retry is Retry.WINDOW:
            return 0.0
        return min(nth_wait(waits, state.attempt_number), max(outage_left(), 0.0))

    return wait


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


def stop_after(retries: int) -> Callable[[RetryCallState], bool]:
    """Stop after ``retries`` retries, except while the policy counts the vendor's windows
    instead (a quota reply): the error that ends those comes back spent."""

    def stop(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.resolution.windows:
            return False
        return state.attempt_number > retries

    return stop


def call_with_retries(
    what: str,
    waits: tuple[float, ...],
    wait: Callable[[RetryCallState], float],
    attempt: Callable[[int], T],
    *,
    cancel: threading.Event,
    on_retry: Callable[[], None],
    redact: Callable[[str], str],
    on_wait: Callable[[RetryWait], None] | None = None,
) -> T:
    """``attempt(n)`` for n = 1, 2, ... until one succeeds, fails for good, or ``waits`` run out.

    ``on_wait`` hears of each wait before a retry, in the waiting thread (for signs of life).
    """
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            on_retry()
            log.debug("%s: attempt %d", what, attempts)
        return attempt(attempts)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        if on_wait is not None and seconds > 0 and isinstance(exc, ApiError):
            reason = f"HTTP {exc.http_status}" if exc.http_status else exc.kind.value
            on_wait(RetryWait(seconds, state.attempt_number, len(waits), reason, redact(str(exc))))

    retrying = Retrying(
        stop=stop_after(len(waits)),
        wait=wait,
        retry=retry_if_exception(_retryable),
        sleep=lambda seconds: cancellable_sleep(cancel, seconds),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(counted)
    except ApiError as exc:
        if exc.exhausted or exc.resolution.then.ends_run:
            exc.exhausted = True
            raise  # said as it is: its own words are the run's
        message = redact(f"{what} failed after {attempts} {_plural(attempts)}: {exc}")
        raise exhausted_error(message, exc, attempts) from exc


def exhausted_error(message: str, exc: ApiError, attempts: int) -> ApiError:
    """``exc`` said once more with its attempts, no longer retryable by anyone."""
    cls = MalformedResponse if isinstance(exc, MalformedResponse) else ApiError
    return cls(
        message,
        trigger=exc.trigger,
        http_status=exc.http_status,
        attempts=attempts,
        exhausted=True,
    )


def _plural(attempts: int) -> str:
    return "attempt" if attempts == 1 else "attempts"
