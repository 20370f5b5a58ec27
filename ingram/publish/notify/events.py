"""Which changes become events, and what an event and a signed batch of them look like.

Example::

    kinds = EventFilter(price_change_percent=Decimal(5), min_stock=3)
    events = [event_of(change, catalog_id) for change in changes if kinds.passes(change)]
    body = batch_body(events, catalog_id)
    headers = {SIGNATURE_HEADER: signature(secret, body)}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ingram.clock import utc_now

SIGNATURE_HEADER = "X-Ingram-Sync-Signature"
PAYLOAD_VERSION = 1


class EventKind(StrEnum):
    """What an event is about: the ``type`` of its JSON."""

    PRICE = "price"
    STOCK = "stock"
    BACKORDER_ETA = "backorder_eta"
    DISCONTINUED = "discontinued"
    REPLACEMENT = "replacement"


class StockEvents(StrEnum):
    """``[notify] stock``: which stock moves are sent."""

    THRESHOLDS = "thresholds"  # in and out of stock, and across ``[stock] min_stock``
    ALL = "all"
    OFF = "off"


FIELD_KINDS = {
    "customer_price": EventKind.PRICE,
    "total_availability": EventKind.STOCK,
    "backorder_eta": EventKind.BACKORDER_ETA,
    "discontinued": EventKind.DISCONTINUED,
}


def kind_of(field: str) -> EventKind | None:
    """The kind of a ``changes`` row's field; None for fields the feed does not send."""
    if field.startswith("replacement"):
        return EventKind.REPLACEMENT
    return FIELD_KINDS.get(field)


@dataclass(frozen=True)
class EventFilter:
    """The ``[notify]`` choices: a change passes when its kind is on and it is big enough."""

    price_change_percent: Decimal = Decimal(0)
    stock: StockEvents = StockEvents.THRESHOLDS
    min_stock: int | None = None
    backorder_eta: bool = True
    discontinued: bool = True
    replacement: bool = True

    def passes(self, change: Mapping[str, Any]) -> bool:
        kind = kind_of(change["field"])
        old, new = change["old_value"], change["new_value"]
        if kind is EventKind.PRICE:
            return self.price_moved(old, new)
        if kind is EventKind.STOCK:
            return self.stock_crossed(old, new)
        if kind is None:
            return False
        return bool(getattr(self, kind.value))

    def price_moved(self, old: Decimal | None, new: Decimal | None) -> bool:
        """Every move at 0 %; else a move of at least that many percent of the old price."""
        if not self.price_change_percent or not old or new is None:
            return True
        return abs(new - old) * 100 >= self.price_change_percent * abs(old)

    def stock_crossed(self, old: int | None, new: int | None) -> bool:
        if self.stock is StockEvents.OFF:
            return False
        if self.stock is StockEvents.ALL or old is None or new is None:
            return True
        lines = [1] if self.min_stock is None else [1, self.min_stock]
        return any((old >= line) != (new >= line) for line in lines)


def event_of(change: Mapping[str, Any], catalog_id: str) -> dict[str, Any]:
    """One event: its stable id (the same in every retry), the product's keys, old and new."""
    return {
        "id": f"{catalog_id}-{change['version']}",
        "type": str(kind_of(change["field"])),
        "field": change["field"],
        "ingram_part_number": change["ingram_part_number"],
        "vendor_part_number": change["vendor_part_number"],
        "user_key_type": change["user_key_type"],
        "user_key": change["user_key"],
        "old_value": change["old_value"],
        "new_value": change["new_value"],
        "changed_at": change["changed_at"],
        "source": change["source"],
        "run_id": change["run_id"],
        "webhook_event_id": change["event_id"],
    }


def batch_body(events: Sequence[Mapping[str, Any]], catalog_id: str) -> bytes:
    """The POST body: money as decimal text (a JSON number would round it in JavaScript)."""
    batch = {
        "version": PAYLOAD_VERSION,
        "catalog": catalog_id,
        "sent_at": utc_now(),
        "events": list(events),
    }
    return json.dumps(batch, default=decimal_text, separators=(",", ":")).encode("utf-8")


def event_lines(events: Sequence[Mapping[str, Any]]) -> bytes:
    """The same events as JSON Lines, for a command."""
    return b"".join(
        json.dumps(event, default=decimal_text, separators=(",", ":")).encode("utf-8") + b"\n"
        for event in events
    )


def decimal_text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON")


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>``, as GitHub and Stripe sign theirs."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
