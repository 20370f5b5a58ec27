"""What every answer of the API means: the one table that decides retry, fail or stop.

A call that does not succeed is classified once, where it happens, as a
``Trigger`` (a 5xx, a quota reply, a refused token, ...); the ``ApiError``
raised carries it. What that means is read here and nowhere else: whether the
call is retried and on which waits, and once the retries are spent (or at
once) whether the item fails, the details stream stops, the run stops (with
which exit code) or the run is interrupted. The client's retries, the sync,
key resolution, search-sourced details and the CLI's exit codes all read
``POLICY``; the README's table "What each vendor answer does" is generated
from it (``python -m ingram.cli.docs``).

Adding a vendor answer is one row here, and a test.

Example::

    error.resolution.then is Outcome.FAIL_ITEM  # one failure row, the run goes on
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ingram.vocab import ErrorKind, ExitStatus


class Trigger(StrEnum):
    """What happened, as the code that met it classified it."""

    CONNECT_TIMEOUT = "connect timeout"
    READ_TIMEOUT = "read timeout"
    DEADLINE = "per-attempt deadline passed"
    CONNECTION_LOST = "connection reset or body cut short"
    UNSENDABLE = "request could not be sent"
    UNREACHABLE = "host unreachable (refused, no such host, TLS)"
    HTTP_400 = "HTTP 400 about the request"
    HTTP_401 = "HTTP 401"
    HTTP_403 = "HTTP 403"
    HTTP_404 = "HTTP 404 (P&A, search)"
    HTTP_408 = "HTTP 408"
    HTTP_429 = "HTTP 429"
    HTTP_4XX = "another HTTP 4xx"
    HTTP_5XX = "HTTP 5xx"
    HTTP_3XX = "HTTP 3xx (redirects are not followed)"
    HTTP_OTHER = "any other HTTP status"
    MALFORMED_ANSWER = "an answer that is not the vendor's JSON, or a 2xx it does not give"
    ITEM_UNREADABLE = "one item unreadable, or left out of the answer"
    GATEWAY_FAULT = "the gateway's faultcode/faultstring (e.g. a customer number not owned)"
    QUOTA_REPLY = 'a quota reply ("The quota limit exceeds ...")'
    HEADERS_REFUSED = "HTTP 400 naming the IM-* headers"
    NO_API_AT_URL = "HTTP 404 in the gateway's fault shape (no API at that URL)"
    API_PRODUCT_MISSING = 'HTTP 401/403 "apiproduct" fault (the app lacks the API product)'
    API_PRODUCT_FAULT = 'another 4xx "apiproduct" fault'
    TOKEN_REFUSED = "token request refused (4xx)"
    TOKEN_URL_NOT_FOUND = "token URL answered 404"
    CA_BUNDLE_UNUSABLE = "the CA bundle the environment names cannot be loaded"
    NO_TOKEN = "no token could be had (unreachable, 5xx, timeouts after retries)"
    OUTAGE = "nothing but connection errors, timeouts and 5xx for --outage-limit"
    CANCELLED = "Ctrl-C or SIGTERM while a call waited"
    INTERNAL = "a bug of ours met on one item"


class Retry(StrEnum):
    NO = "no"
    ENDPOINT = "on the endpoint's waits"  # --pa-retry-waits / --details-retry-waits
    WINDOW = "when the vendor's window resets"  # every thread of the endpoint waits


class Outcome(StrEnum):
    """What an error does once its retries are spent (or at once, when it has none)."""

    FAIL_ITEM = "fails the item (a failure row)"
    STOP_STREAM = "stops the details stream (tasks stay pending)"
    STOP_RUN = "stops the run (status failed, tasks pending)"
    INTERRUPT_RUN = "interrupts the run (tasks pending)"
    CANCEL = "ends the call, nothing recorded"

    @property
    def ends_run(self) -> bool:
        """No item caused it: it stops the run, so a batch of calls must not go on."""
        return self in (Outcome.STOP_RUN, Outcome.INTERRUPT_RUN, Outcome.CANCEL)


@dataclass(frozen=True)
class Resolution:
    kind: ErrorKind  # stored in failures.error_kind
    retry: Retry
    then: Outcome
    exit: ExitStatus = ExitStatus.ITEMS_FAILED  # of a command it ends, or of the run it stops
    outage: bool = False  # counts toward --outage-limit
    repeats: int = 1  # ``then`` only when met this many calls in a row; before, the task waits
    on_probation: Outcome | None = None  # on the details stream before its first real answer
    # Retry.WINDOW: the endpoint waits out this many of the vendor's windows in a row before
    # ``then`` (0: the endpoint's retries bound it), each ``window`` seconds long when the
    # answer names no reset (0: the endpoint's next retry wait).
    windows: int = 0
    window: float = 0.0

    @property
    def splits_batch(self) -> bool:
        """A batch of several that fails for good is tried again part number by part number
        (one part number the vendor cannot answer must not sink the rest); never after
        throttling, where more calls would only make it worse."""
        return self.then is Outcome.FAIL_ITEM and self.kind is not ErrorKind.RATE_LIMITED


_E, _R, _O, _X = ErrorKind, Retry, Outcome, ExitStatus


def _transient(kind: ErrorKind) -> Resolution:
    """Worth the endpoint's retries; a sign of an outage when nothing else comes back."""
    return Resolution(kind, _R.ENDPOINT, _O.FAIL_ITEM, outage=True)


def _account_fault() -> Resolution:
    return Resolution(_E.CONFIGURATION, _R.NO, _O.STOP_RUN, _X.USAGE, repeats=2)


def _refused() -> Resolution:
    return Resolution(_E.CREDENTIALS, _R.NO, _O.STOP_RUN, _X.CREDENTIALS)


POLICY: dict[Trigger, Resolution] = {
    Trigger.CONNECT_TIMEOUT: _transient(_E.TIMEOUT),
    Trigger.READ_TIMEOUT: _transient(_E.TIMEOUT),
    Trigger.DEADLINE: _transient(_E.TIMEOUT),
    Trigger.CONNECTION_LOST: _transient(_E.CONNECTION),
    Trigger.UNREACHABLE: _transient(_E.CONNECTION),
    Trigger.HTTP_5XX: _transient(_E.HTTP_ERROR),
    Trigger.UNSENDABLE: Resolution(_E.CONNECTION, _R.NO, _O.FAIL_ITEM),
    Trigger.HTTP_408: Resolution(_E.TIMEOUT, _R.ENDPOINT, _O.FAIL_ITEM),
    Trigger.HTTP_429: Resolution(_E.RATE_LIMITED, _R.WINDOW, _O.FAIL_ITEM),
    # Throttling, not a fault: the endpoint waits for the vendor's window (Europe's counts
    # reset each minute); a client measured in production gives up after six in a row.
    Trigger.QUOTA_REPLY: Resolution(
        _E.RATE_LIMITED, _R.WINDOW, _O.INTERRUPT_RUN, windows=6, window=60.0
    ),
    Trigger.MALFORMED_ANSWER: Resolution(_E.MALFORMED, _R.ENDPOINT, _O.FAIL_ITEM),
    Trigger.HTTP_400: Resolution(_E.BAD_REQUEST, _R.NO, _O.FAIL_ITEM, on_probation=_O.STOP_STREAM),
    Trigger.HTTP_4XX: Resolution(_E.HTTP_ERROR, _R.NO, _O.FAIL_ITEM, on_probation=_O.STOP_STREAM),
    Trigger.HTTP_404: Resolution(_E.HTTP_ERROR, _R.NO, _O.FAIL_ITEM),
    Trigger.HTTP_3XX: Resolution(_E.HTTP_ERROR, _R.NO, _O.FAIL_ITEM),
    Trigger.HTTP_OTHER: Resolution(_E.HTTP_ERROR, _R.NO, _O.FAIL_ITEM),
    Trigger.ITEM_UNREADABLE: Resolution(_E.MALFORMED, _R.NO, _O.FAIL_ITEM),
    Trigger.INTERNAL: Resolution(_E.INTERNAL, _R.NO, _O.FAIL_ITEM),
    # A 401 with a token just issued is most often a gateway revoking tokens early: each
    # retry asks for a fresh token; a 401 that outlasts the waits stops the run.
    Trigger.HTTP_401: Resolution(_E.CREDENTIALS, _R.ENDPOINT, _O.STOP_RUN, _X.CREDENTIALS),
    Trigger.HTTP_403: _refused(),
    Trigger.API_PRODUCT_MISSING: _refused(),
    Trigger.TOKEN_REFUSED: _refused(),
    # Errors no item caused: every call would meet them, so the run stops with the
    # vendor's words instead of a failure row per product (once is taken as a blip).
    Trigger.GATEWAY_FAULT: _account_fault(),
    Trigger.HEADERS_REFUSED: _account_fault(),
    Trigger.NO_API_AT_URL: _account_fault(),
    Trigger.API_PRODUCT_FAULT: _account_fault(),
    Trigger.TOKEN_URL_NOT_FOUND: Resolution(_E.CONFIGURATION, _R.NO, _O.STOP_RUN, _X.USAGE),
    Trigger.CA_BUNDLE_UNUSABLE: Resolution(_E.CONFIGURATION, _R.NO, _O.STOP_RUN, _X.USAGE),
    Trigger.NO_TOKEN: Resolution(_E.UNAVAILABLE, _R.NO, _O.STOP_RUN),
    Trigger.OUTAGE: Resolution(_E.OUTAGE, _R.NO, _O.INTERRUPT_RUN),
    Trigger.CANCELLED: Resolution(_E.CANCELLED, _R.NO, _O.CANCEL, _X.INTERRUPTED),
}


def status_trigger(status: int) -> Trigger:
    """The trigger of an HTTP status that is not a success (401 and 403 included)."""
    named = {
        400: Trigger.HTTP_400,
        401: Trigger.HTTP_401,
        403: Trigger.HTTP_403,
        404: Trigger.HTTP_404,
        408: Trigger.HTTP_408,
        429: Trigger.HTTP_429,
    }
    if status in named:
        return named[status]
    if 500 <= status < 600:
        return Trigger.HTTP_5XX
    if 400 <= status < 500:
        return Trigger.HTTP_4XX
    if 300 <= status < 400:
        return Trigger.HTTP_3XX
    if 200 <= status < 300:
        return Trigger.MALFORMED_ANSWER
    return Trigger.HTTP_OTHER


def policy_rows() -> list[tuple[str, str, str, str]]:
    """The table as the README shows it: answer, retried, then, exit code."""
    rows = []
    for trigger, res in POLICY.items():
        retried, then = res.retry.value, res.then.value
        if res.window:
            retried += f" (else after {res.window:g} s)"
        if res.windows:
            retried += f", up to {res.windows} windows in a row"
        if res.repeats > 1:
            then = f"{then}, when met {res.repeats} calls in a row (once: tried again later)"
        if res.on_probation:
            then += f"; {res.on_probation.value} on the first details calls"
        if res.splits_batch:
            then += "; a P&A batch is tried again part number by part number"
        if res.outage:
            then += "; counts toward the outage limit"
        exit_code = "" if res.then is Outcome.FAIL_ITEM else str(int(res.exit))
        rows.append((trigger.value, retried, then, exit_code))
    return rows
