"""The project's own exceptions.

Every error a user can cause or meet is one of these. Its ``str()`` is one line
that says what is wrong and what to do; it never contains a secret or a token.
Each knows its exit code (``exit_status``): an ``ApiError`` from the policy row
of its ``trigger`` (``ingram.policy``), the others from their class.

- ``ConfigError``, ``StoreError``, ``InputError``: the user's settings, database
  or input (exit 2).
- ``LockedError`` and ``DatabaseBusy``: another sync or program holds the
  database (exit 3).
- ``ApiError``: a call to the Ingram API failed; its subclasses name the
  triggers callers ask for by name (``MalformedResponse``, ``CredentialsError``,
  ``ApiUnavailable``, ``TokenUrlNotFound``, ``AccountFault``, ``ApiOutage``,
  ``Unreachable``, ``Cancelled``). What each means is the policy's, not the class's.
"""

from __future__ import annotations

from ingram.policy import POLICY, Resolution, Retry, Trigger
from ingram.vocab import ErrorKind, ExitStatus


class IngramSyncError(Exception):
    """Base class: a problem worth one clear line to the user."""

    exit_status: ExitStatus = ExitStatus.USAGE


class ConfigError(IngramSyncError):
    """A missing or invalid setting (exit 2)."""


class StoreError(IngramSyncError):
    """The database cannot be used: not a database, newer schema, unwritable (exit 2)."""


class InputError(IngramSyncError):
    """A file or argument the user gave cannot be used (a broken CSV, an unknown id) (exit 2)."""


class PriceFileRefused(InputError):
    """A price file whose shape matches no known layout, or that is not whole: nothing loaded
    (exit 2)."""


class LockedError(IngramSyncError):
    """Another sync holds the database's lock (exit 3)."""

    exit_status = ExitStatus.LOCKED

    def __init__(self, message: str, holder_pid: int | None = None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


class DatabaseBusy(LockedError):
    """Another program held the database's write lock for longer than we wait (exit 3)."""


class ApiError(IngramSyncError):
    """A call to the Ingram API failed: what happened (``trigger``) and how many attempts.

    ``exhausted``: the retries it was owed are spent (or the token request gave up),
    so no outer loop retries it again.
    """

    trigger: Trigger = Trigger.HTTP_OTHER

    def __init__(
        self,
        message: str,
        *,
        trigger: Trigger | None = None,
        http_status: int | None = None,
        attempts: int = 1,
        exhausted: bool = False,
    ) -> None:
        super().__init__(message)
        if trigger is not None:
            self.trigger = trigger
        self.http_status = http_status
        self.attempts = attempts
        self.exhausted = exhausted

    @property
    def resolution(self) -> Resolution:
        return POLICY[self.trigger]

    @property
    def kind(self) -> ErrorKind:
        """The short stable word stored in the ``failures`` table."""
        return self.resolution.kind

    @property
    def retryable(self) -> bool:
        return self.resolution.retry is not Retry.NO and not self.exhausted

    @property
    def exit_status(self) -> ExitStatus:  # type: ignore[override]  # a class default above
        return self.resolution.exit


class MalformedResponse(ApiError):
    """An answer that is not what the vendor's schema allows (unreadable, wrong types)."""

    trigger = Trigger.MALFORMED_ANSWER


class CredentialsError(ApiError):
    """The API refused the credentials: token request refused, 401 twice, or 403 (exit 4)."""

    trigger = Trigger.TOKEN_REFUSED


class ApiUnavailable(ApiError):
    """No token could be had, for a reason other than refused credentials (exit 1).

    The API cannot be reached, times out or answers 5xx even after the token
    request's retries. Every call needs a token, so the run stops at once (its
    tasks stay open for the next sync) instead of each task waiting through
    the same retries and ending as a failure row.
    """

    trigger = Trigger.NO_TOKEN


class TokenUrlNotFound(ApiUnavailable):
    """The token URL answered 404: the settings point at the wrong place (exit 2)."""

    trigger = Trigger.TOKEN_URL_NOT_FOUND


class AccountFault(ApiError):
    """An error no item caused: the gateway's fault, a header-validation 400, a quota reply.

    Every call of the run would meet it, so instead of a failure row per product
    the policy stops the run with the vendor's words (exit 2), its tasks left
    pending; a quota reply is throttling instead: the endpoint waits for the window.
    """

    trigger = Trigger.GATEWAY_FAULT


class ApiOutage(ApiError):
    """Nothing but connection errors, timeouts and 5xx for the outage limit: the run ends
    as interrupted, its tasks pending for the next sync."""

    trigger = Trigger.OUTAGE


class Unreachable(ApiError):
    """The API's host could not be reached at all: connection refused, no such host, not TLS.

    Retryable mid-run (a restarting gateway refuses for a moment), but before the
    first token the run stops at once: nothing answers where the settings point.
    """

    trigger = Trigger.UNREACHABLE


class Cancelled(ApiError):
    """The client was asked to stop (Ctrl-C, SIGTERM) while a call waited; not a failure."""

    trigger = Trigger.CANCELLED

    def __init__(self, message: str = "cancelled", *, attempts: int = 1) -> None:
        super().__init__(message, attempts=attempts)


class DownloadFailed(ApiError):
    """The price file could not be fetched whole from its server, after retries (exit 1).

    What was fetched stays in the download folder: the next ``catalog load`` resumes it.
    """

    trigger = Trigger.CONNECTION_LOST


class LoginRefused(CredentialsError):
    """The FTP or SFTP server refused the price file's login (exit 4)."""
