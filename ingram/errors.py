"""The project's own exceptions.

Every error a user can cause or meet is one of these. Its ``str()`` is one line
that says what is wrong and what to do; it never contains a secret or a token.
The CLI maps each class to an exit code (see ``ingram.cli.ExitStatus``).
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus

MASK = "***"
PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")
SHORTEST_FORM = 6  # shorter pieces of an encoded secret would mask ordinary text


class IngramSyncError(Exception):
    """Base class: a problem worth one clear line to the user."""


class ConfigError(IngramSyncError):
    """A missing or invalid setting (exit 2)."""


class StoreError(IngramSyncError):
    """The database cannot be used: not a database, newer schema, unwritable (exit 2)."""


class LockedError(IngramSyncError):
    """Another sync holds the database's lock (exit 3)."""

    def __init__(self, message: str, holder_pid: int | None = None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


class DatabaseBusy(LockedError):
    """Another program held the database's write lock for longer than we wait (exit 3)."""


class ApiError(IngramSyncError):
    """A call to the Ingram API failed, after whatever retries it was owed.

    ``kind`` is a short stable word stored in the ``failures`` table:
    ``http_error``, ``bad_request``, ``rate_limited``, ``timeout``,
    ``connection``, ``malformed``, ``cancelled``.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "http_error",
        http_status: int | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status
        self.attempts = attempts
        self.retryable = retryable


class MalformedResponse(ApiError):
    """An answer that is not what the vendor's schema allows (unreadable, wrong types)."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, kind="malformed", http_status=http_status, retryable=True)


class CredentialsError(ApiError):
    """The API refused the credentials: token request refused, 401 twice, or 403 (exit 4)."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, kind="credentials", http_status=http_status)


class ApiUnavailable(ApiError):
    """No token could be had, for a reason other than refused credentials (exit 1).

    The API cannot be reached, times out or answers 5xx even after the token
    request's retries. Every call needs a token, so the run stops at once (its
    tasks stay open for the next sync) instead of each task waiting through
    the same retries and ending as a failure row.
    """

    def __init__(self, message: str, *, http_status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message, kind="unavailable", http_status=http_status, attempts=attempts)


class AccountFault(ApiError):
    """An error no item caused: the gateway's fault, a header-validation 400, a quota reply.

    Every call of the run would meet it, so the run stops (exit 2) with the
    vendor's words, its tasks left pending, instead of a failure row per product.
    """

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, kind="configuration", http_status=http_status)


class ApiOutage(ApiError):
    """Nothing but connection errors, timeouts and 5xx for the outage limit: the run ends
    as interrupted, its tasks pending for the next sync."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, kind="outage", http_status=http_status)


class Unreachable(ApiError):
    """The API's host could not be reached at all: connection refused, no such host, not TLS.

    Retryable mid-run (a restarting gateway refuses for a moment), but before the
    first token the run stops at once: nothing answers where the settings point.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="connection", retryable=True)


class TokenUrlNotFound(ApiUnavailable):
    """The token URL answered 404: the settings point at the wrong place (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, http_status=404)
        self.kind = "configuration"


class Cancelled(ApiError):
    """The client was asked to stop (Ctrl-C, SIGTERM) while a call waited; not a failure."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message, kind="cancelled")


class InputError(IngramSyncError):
    """A file or argument the user gave cannot be used (a broken CSV, an unknown id) (exit 2)."""


class PriceFileRefused(InputError):
    """A price file whose shape matches no known layout, or that is not whole: nothing loaded
    (exit 2)."""


class DownloadFailed(ApiError):
    """The price file could not be fetched whole from its server, after retries (exit 1).

    What was fetched stays in the download folder: the next ``catalog load`` resumes it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="connection", retryable=True)


class LoginRefused(CredentialsError):
    """The FTP or SFTP server refused the price file's login (exit 4)."""


def secret_forms(secret: str) -> list[str]:
    """Every form in which ``secret`` can come back: as is, URL-encoded (both quoting
    styles, either hex case), JSON-escaped and base64 (standard and URL-safe, at any
    offset inside a longer encoded text). Longest first, so masking one never leaves
    a piece of another.
    """
    if not secret:
        return []
    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret, safe="")}
    forms |= {PERCENT_ESCAPE.sub(lambda m: m[0].lower(), form) for form in forms}
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/")}
    for text in list(forms):  # base64 of the secret, or of a form or JSON that quoted it
        forms |= base64_forms(text.encode())
    return sorted((f for f in forms if len(f) >= SHORTEST_FORM), key=len, reverse=True)


def base64_forms(raw: bytes) -> set[str]:
    """``raw`` in base64, whole and as the run of characters it gives at any offset."""
    forms = {base64.b64encode(raw).decode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        start = (shift * 4 + 2) // 3  # characters that also carry bits of what came before
        forms.add(encoded[start : (shift + len(raw)) // 3 * 4])  # and only whole groups after
    return forms | {form.replace("+", "-").replace("/", "_") for form in forms}


def mask_secrets(text: str, forms: list[str]) -> str:
    """``text`` with every one of ``forms`` (see ``secret_forms``) replaced by ``***``."""
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text
