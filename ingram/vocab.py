"""The words every part shares: kinds of stream, run, error and status, and exit codes.

They are ``StrEnum``s whose values are the words stored in SQLite and printed in
``--json`` output, so a member compares equal to its stored text (``StreamKind.PA
== "price_availability"``) and rows written before these enums read back as them.
Nothing here imports anything of ours: any module may use it.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class StreamKind(StrEnum):
    """The two kinds of work of a run (``tasks.kind``, ``failures.kind``)."""

    PA = "price_availability"
    DETAILS = "details"

    @property
    def label(self) -> str:
        """How a person reads it: ``P&A`` or ``details``."""
        return "P&A" if self is StreamKind.PA else "details"


class Endpoint(StrEnum):
    """The vendor's endpoints, as the client paces and counts them (``runs.answers``)."""

    TOKEN = "token"
    PA = "price_and_availability"
    DETAILS = "details"
    SEARCH = "search"


class DetailsSource(StrEnum):
    """Where a product's details come from (``--details-source``, ``details_status``)."""

    DETAILS = "details"  # the details endpoint, one call a product
    SEARCH = "search"  # catalog search: the basic fields of up to 100 products a call


class ChangeSource(StrEnum):
    """Who saw a value: ``changes.source``, and ``products.price_source`` and ``stock_source``.

    ``sync`` is a P&A answer or a search (a sync or a retry), ``webhook`` Ingram's
    pushed stock, ``pricefile`` the daily price file.
    """

    SYNC = "sync"
    WEBHOOK = "webhook"
    PRICEFILE = "pricefile"


class RunKind(StrEnum):
    SYNC = "sync"
    RETRY = "retry"


class RunStatus(StrEnum):
    """``runs.status``; ``skipped`` is never stored (``--min-interval`` says so instead)."""

    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    SKIPPED = "skipped"


class ProductStatus(StrEnum):
    """``products.status`` (``not_authorized``: the vendor denies this account the product)."""

    ACTIVE = "active"
    NOT_FOUND = "not_found"
    NEVER_SYNCED = "never_synced"
    NOT_AUTHORIZED = "not_authorized"


class ErrorKind(StrEnum):
    """Why a call failed: ``failures.error_kind`` and ``ApiError.kind``."""

    HTTP_ERROR = "http_error"  # an HTTP status with no kind of its own (5xx, 404, 418, ...)
    BAD_REQUEST = "bad_request"  # 400 about the request's body
    RATE_LIMITED = "rate_limited"  # 429, or the vendor's quota reply
    TIMEOUT = "timeout"  # connect or read timeout, 408, the per-attempt deadline
    CONNECTION = "connection"  # refused, reset, truncated body
    MALFORMED = "malformed"  # an answer the vendor's schema does not allow
    CANCELLED = "cancelled"  # Ctrl-C or SIGTERM while the call waited
    CREDENTIALS = "credentials"  # the API refused the credentials
    UNAVAILABLE = "unavailable"  # no token could be had
    CONFIGURATION = "configuration"  # an answer no item caused: the account's settings
    OUTAGE = "outage"  # nothing but errors for the outage limit
    INTERNAL = "internal"  # a bug of ours met on one item


class ExitStatus(IntEnum):
    """The command's exit code (the README's table)."""

    OK = 0
    ITEMS_FAILED = 1  # or the API could not be reached: cron mails it
    USAGE = 2  # usage or configuration, ours or the vendor's
    LOCKED = 3  # another sync holds the database
    CREDENTIALS = 4  # the API refused the credentials
    INTERRUPTED = 130


class WebhookCounter(StrEnum):
    """What the Stock Update receiver counts besides events applied and requests refused."""

    IGNORED_TOPIC = "ignored_topic"  # a signed event of another topic: answered 200, ignored
    SET_ASIDE = "set_aside"  # an event the writer could not apply: its spool file kept as .bad
