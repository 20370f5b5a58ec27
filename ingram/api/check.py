"""``ingram-sync check``: what one token, one P&A call and one details call say about a setup.

``check_setup`` makes the calls a first contact needs, as a sync would (the
shared token cache, the pacing, the error policy), and yields what each one
taught, a line at a time: the token URL and the token's expiry, whether the
customer number and country were accepted, the product's price and stock, the
rate-limit headers seen, whether details are offered, and how long answers
took. An error is raised as the policy classifies it (refused credentials exit
4, an account or URL the API does not know exit 2, nothing answering exit 1),
after the lines learnt before it.

Example::

    for finding in check_setup(client, "6YE881"):
        print(f"{finding.topic:<12}{finding.text}")
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingram.api.maintenance import maintenance_note
from ingram.errors import ApiError
from ingram.models import PriceAvailability
from ingram.policy import Outcome
from ingram.vocab import Endpoint

if TYPE_CHECKING:
    from ingram.api.auth import TokenInfo
    from ingram.api.client import IngramClient

__all__ = ["DETAILS_COUNTRIES", "Finding", "check_setup"]

DETAILS_COUNTRIES = ("US", "IN", "NL")  # the spec: details "currently available" only there
LABELS = {Endpoint.PA: "P&A", Endpoint.DETAILS: "details"}


@dataclass(frozen=True)
class Finding:
    """One line of what the check learnt: its topic and what it said."""

    topic: str
    text: str


def check_setup(client: IngramClient, part_number: str | None) -> Iterator[Finding]:
    """The findings of a first contact, in order; an ``ApiError`` ends them as the policy says."""
    settings = client.settings
    note = maintenance_note(settings.country_code)
    if note:
        yield Finding("maintenance", f"{note}: answers may fail until it ends")
    yield token_finding(client.authenticate())
    if part_number is None:
        yield Finding("product", "none tracked: give --sku PN to price one")
        return
    items = client.price_and_availability([part_number])
    pacing = client.pacing()
    yield Finding(
        "account",
        f"customer number {settings.customer_number} and country {settings.country_code}"
        f" accepted ({answered(client, Endpoint.PA, pacing)})",
    )
    yield Finding("product", describe_item(part_number, items))
    country = settings.country_code.upper()
    if country in DETAILS_COUNTRIES:
        yield details_finding(client, part_number)
    else:
        yield Finding(
            "details",
            f"not offered in {country} (Ingram offers them in the US, India and the"
            " Netherlands): sync fetches none unless --details",
        )
    yield Finding("rate limits", rate_limits(client.pacing()))


def token_finding(info: TokenInfo) -> Finding:
    source = "read from the shared cache" if info.from_cache else "issued"
    left = "" if info.expires_at is None else f", expires in {span(info.expires_at - time.time())}"
    return Finding("token", f"{info.url}: {source}{left}")


def details_finding(client: IngramClient, part_number: str) -> Finding:
    """One details call; a refusal of the endpoint is what a sync's details stream would meet
    (it stops for the run), said here with the vendor's words, not an error of the check."""
    try:
        details = client.product_details(part_number)
    except ApiError as error:
        if error.resolution.on_probation is not Outcome.STOP_STREAM:
            raise
        return Finding("details", f"refused: {error}; a sync stops its details stream")
    have = "has details" if details.found else "has no details record (No Records Found)"
    return Finding(
        "details", f"offered: {part_number} {have} ({answered(client, Endpoint.DETAILS)})"
    )


def describe_item(part_number: str, items: list[PriceAvailability]) -> str:
    item = next(iter(items), None)  # one asked, one answered
    if item is None:
        return f"{part_number}: the answer held no item"
    if item.problem:
        return item.problem
    if not item.found:
        return f"{part_number}: not found ({item.status_code}: {item.message or 'no message'})"
    price = f"{item.customer_price} {item.currency or ''}".strip()
    stock = "stock unknown" if item.total_availability is None else f"{item.total_availability}"
    authorized = "; not authorized for this account" if item.authorized is False else ""
    return f"{part_number}: price {price}, {stock} available{authorized}"


def answered(
    client: IngramClient, endpoint: Endpoint, pacing: Mapping[str, Any] | None = None
) -> str:
    """``HTTP 200 in 0.214 s``: the endpoint's last answers and their mean latency."""
    statuses = client.answers().get(endpoint, {})
    seen = (pacing or client.pacing()).get(endpoint) or {}
    latency = seen.get("latency")
    took = f" in {latency:.3f} s" if latency is not None else ""
    return f"HTTP {', '.join(sorted(statuses)) or '-'}{took}"


def rate_limits(pacing: Mapping[str, Mapping[str, Any]]) -> str:
    """What the ``X-RateLimit-*`` headers said, per endpoint asked."""
    parts = []
    for endpoint, label in LABELS.items():
        seen = pacing.get(endpoint)
        if seen is None:
            continue
        if seen.get("limit") is None and "remaining" not in seen:
            parts.append(f"{label}: no X-RateLimit headers")
            continue
        parts.append(
            f"{label}: limit {seen.get('limit') or '?'} a window, {seen.get('remaining', '?')}"
            f" left, reset in {seen.get('reset_in', 0):g} s"
        )
    return "; ".join(parts) or "none seen"


def span(seconds: float) -> str:
    """``23 h 59 min``, ``12 min``, ``40 s``."""
    seconds = max(seconds, 0.0)
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min"
    return f"{seconds:.0f} s"
