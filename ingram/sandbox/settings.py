"""Settings of the sandbox server: what it simulates and how badly it behaves.

Both dataclasses are frozen so a running server can swap a whole settings
object atomically (``reconfigure``) instead of mutating fields that request
threads are reading at the same moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FAULT_NAMES: tuple[str, ...] = (
    "rate_limit_429",
    "error_500",
    "error_503_html",
    "slow",
    "truncated",
    "malformed",
    "drop_connection",
    "revoke_token",
    "quota_429",
    "quota_4xx",
)


WEBHOOK_QUIRKS: tuple[str, ...] = ("hex", "offset", "topics", "unnumbered")


@dataclass(frozen=True)
class FaultRates:
    """Probability (0..1) of each injected failure per API call.

    One random draw per call walks these in ``FAULT_NAMES`` order, so the
    rates add up; when their sum passes 1 the later kinds are starved, which
    is the caller's problem to avoid.
    """

    error_500: float = 0.0
    error_503_html: float = 0.0
    rate_limit_429: float = 0.0
    slow: float = 0.0
    truncated: float = 0.0
    malformed: float = 0.0
    drop_connection: float = 0.0
    revoke_token: float = 0.0
    quota_429: float = 0.0  # the vendor's quota reply under 429
    quota_4xx: float = 0.0  # ... and under a plain 403 (Europe's wording)

    def __post_init__(self) -> None:
        for name in FAULT_NAMES:
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"fault rate {name}={value!r} is not between 0 and 1")

    @classmethod
    def from_value(cls, value: FaultRates | Mapping[str, float] | None) -> FaultRates:
        """Accept the JSON form (a dict) used by ``/_sandbox/config`` and the CLI."""
        if value is None:
            return cls()
        if isinstance(value, FaultRates):
            return value
        unknown = set(value) - set(FAULT_NAMES)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in value.items()})

    def as_dict(self) -> dict[str, float]:
        """Plain dict, for JSON answers."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SandboxSettings:
    """Everything the sandbox can be told; every field may change at runtime.

    ``host`` and ``port`` are the exception: they only matter at ``start``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    catalog_size: int = 1000
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    token_lifetime: float = 86400.0
    latency: float = 0.0
    pa_rate_limit: int | None = None
    details_rate_limit: int | None = None
    search_rate_limit: int | None = None
    rate_window: float = 60.0
    send_retry_after: bool = False
    not_found_details_ratio: float = 0.05
    price_epoch: int = 0
    faults: FaultRates = field(default_factory=FaultRates)
    slow_seconds: float = 2.0
    failing_part_numbers: frozenset[str] = frozenset()
    failing_details_part_numbers: frozenset[str] = frozenset()  # their P&A still works
    unnumbered_part_numbers: frozenset[str] = frozenset()  # P&A items without ingramPartNumber
    misformatted_part_numbers: frozenset[str] = frozenset()  # customerPrice "1,234.56"
    refused_part_numbers: frozenset[str] = frozenset()  # "E": not authorized for the customer
    verbose: bool = False
    webhook_url: str | None = None  # where ``serve_forever`` pushes Stock Update events
    webhook_secret: str = ""
    webhook_every: float = 900.0  # Ingram pushes every 15 minutes
    # How Ingram may send its pushes (``pushes.WEBHOOK_QUIRKS``): hex signatures, +08:30
    # times labelled UTC, other topics on the same webhook, resources without part numbers.
    webhook_quirks: frozenset[str] = frozenset()
    # Realistic mode (see docs/real-api.md): a fixed-window lockout, details
    # only for US/IN/NL, found items with status messages, unknown paths answered by the
    # gateway, country codes Ingram does not serve refused. The options below it are
    # independent of it.
    realistic: bool = False
    registered_customer_number: str | None = None  # others get the gateway's fault
    single_token: bool = False  # a new token invalidates the client's older ones
    short_pages: bool = False  # search pages come back short, recordsFound changes
    maintenance: bool = False  # every API and token call answers 503 (a maintenance window)
    # The price file (ingram/sandbox/pricefile.py), served over FTP and/or SFTP when a port
    # is given; the options change the file for tests.
    ftp_port: int | None = None
    sftp_port: int | None = None
    ftp_user: str = "sandbox-ftp"
    ftp_password: str = "sandbox-ftp-secret"
    price_file_layout: str = "us"
    price_file_changes: bool = False
    price_file_foreign: bool = False
    price_file_truncated: bool = False
    search_ignores_filter: bool = False  # search answers the catalog whatever vendorPartNumber says
    placeholder_extras: bool = False  # P&A flags "boolean", quantity breaks "decimal" (the spec)
    negative_special_pricing: bool = False  # a special price line with a negative discount
    numeric_warehouse_ids: bool = False  # warehouseId a number, as the spec's examples send it
    clock_offset: float = 0.0  # seconds the vendor's clock (Date, X-RateLimit-Reset) is ahead

    def __post_init__(self) -> None:
        # Normalise the loose forms (dict, list) that JSON and kwargs bring in,
        # so the rest of the server can rely on the declared types.
        object.__setattr__(self, "faults", FaultRates.from_value(self.faults))
        for name in (
            "failing_part_numbers",
            "failing_details_part_numbers",
            "unnumbered_part_numbers",
            "misformatted_part_numbers",
            "refused_part_numbers",
        ):
            object.__setattr__(self, name, _part_number_set(getattr(self, name)))
        if self.catalog_size < 0:
            raise ValueError("catalog_size must be >= 0")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be > 0")
        if not 0.0 <= self.not_found_details_ratio <= 1.0:
            raise ValueError("not_found_details_ratio must be between 0 and 1")
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("--webhook-url needs --webhook-secret (the key the receiver checks)")
        if not self.webhook_every > 0:
            raise ValueError("webhook_every must be > 0 seconds")
        object.__setattr__(self, "webhook_quirks", frozenset(self.webhook_quirks))
        unknown = self.webhook_quirks - set(WEBHOOK_QUIRKS)
        if unknown:
            raise ValueError(
                f"unknown webhook quirk {sorted(unknown)[0]!r}: use {', '.join(WEBHOOK_QUIRKS)}"
            )

    def replace(self, **changes: Any) -> SandboxSettings:
        """Copy with ``changes``; unknown names raise ``TypeError`` early."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown sandbox settings: {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def rate_limit_for(self, endpoint: str) -> int | None:
        """The configured limit of one API endpoint (None = unlimited)."""
        return {
            "price_and_availability": self.pa_rate_limit,
            "details": self.details_rate_limit,
            "search": self.search_rate_limit,
        }.get(endpoint)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view; the client secret is masked."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["faults"] = self.faults.as_dict()
        data["failing_part_numbers"] = sorted(self.failing_part_numbers)
        data["failing_details_part_numbers"] = sorted(self.failing_details_part_numbers)
        data["unnumbered_part_numbers"] = sorted(self.unnumbered_part_numbers)
        data["misformatted_part_numbers"] = sorted(self.misformatted_part_numbers)
        data["refused_part_numbers"] = sorted(self.refused_part_numbers)
        data["client_secret"] = "***"
        data["webhook_secret"] = "***" if self.webhook_secret else ""
        data["ftp_password"] = "***"
        data["webhook_quirks"] = sorted(self.webhook_quirks)
        return data


def _part_number_set(value: Iterable[str] | str | None) -> frozenset[str]:
    """A bare string would otherwise become a set of characters."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    return frozenset(str(v).strip().upper() for v in value if str(v).strip())
