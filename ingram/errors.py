"""The project's own exceptions.

Every error a user can cause or meet is one of these. Its ``str()`` is one line
that says what is wrong and what to do; it never contains a secret or a token.
The CLI maps each class to an exit code (see ``ingram.cli.ExitStatus``).
"""

from __future__ import annotations


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


class Cancelled(ApiError):
    """The client was asked to stop (Ctrl-C, SIGTERM) while a call waited; not a failure."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message, kind="cancelled")


class InputError(IngramSyncError):
    """A file or argument the user gave cannot be used (a broken CSV, an unknown id) (exit 2)."""
