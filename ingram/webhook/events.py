"""Reading a Stock Update event: signature and body (``AvailabilityAsyncNotificationRequest``).

Ingram signs the event id only: ``x-hub-signature`` is base64(HMAC-SHA512(secret, eventId)),
both as UTF-8. The body itself is not covered, which is why the endpoint must be HTTPS.

Example::

    event = parse_event(body)
    if not signature_valid(secret, event.event_id, request_headers["x-hub-signature"]):
        ...  # 401
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from ingram.clock import format_time
from ingram.models import StockEvent, StockResource

TOPIC = "resellers/catalog"
EVENT_TYPE = "im::stock_update"
MAX_EVENT_ID = 200
WHOLE_NUMBER = re.compile(r"\s*[+-]?\d+\s*")


class EventRejected(Exception):
    """A request the receiver refuses: ``status`` (400, 401, 413...) and a reason for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_of(secret: str, event_id: str) -> str:
    """The ``x-hub-signature`` Ingram sends for ``event_id``."""
    digest = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(secret: str, event_id: str, header: str) -> bool:
    """Compare in constant time, so response timing tells a forger nothing."""
    expected = signature_of(secret, event_id).encode("ascii")
    # WSGI hands headers over as latin-1 text; any bytes compare, none raise.
    return hmac.compare_digest(expected, header.strip().encode("latin-1", "replace"))


def parse_event(body: bytes) -> StockEvent:
    """The event in ``body``, or ``EventRejected(400)`` saying what is wrong with it."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise EventRejected(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise EventRejected(400, "body is not a JSON object")
    event_id = data.get("eventId")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_EVENT_ID:
        raise EventRejected(400, "eventId missing or not a short string")
    topic = data.get("topic")
    if topic is not None and str(topic).lower() != TOPIC:
        raise EventRejected(400, f"topic {str(topic)[:40]!r} is not {TOPIC}")
    resources = data.get("resource")
    if not isinstance(resources, list):
        raise EventRejected(400, "resource is not a list")
    return StockEvent(
        event_id=event_id,
        event_time=event_time(data.get("eventTimeStamp")),
        resources=tuple(stock_resource(item, index) for index, item in enumerate(resources)),
    )


def event_time(value: Any) -> str:
    """``eventTimeStamp`` as UTC ISO-8601 with milliseconds (no zone given means UTC)."""
    if not isinstance(value, str):
        raise EventRejected(400, "eventTimeStamp missing")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EventRejected(400, f"eventTimeStamp {value[:40]!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)


def stock_resource(item: Any, index: int) -> StockResource:
    if not isinstance(item, dict):
        raise EventRejected(400, f"resource[{index}] is not an object")
    event_type = item.get("eventType")
    if event_type is not None and str(event_type).lower() != EVENT_TYPE:
        raise EventRejected(400, f"resource[{index}].eventType is not IM::STOCK_UPDATE")
    part_number = item.get("ingramPartNumber")
    if not isinstance(part_number, str) or not part_number.strip():
        raise EventRejected(400, f"resource[{index}].ingramPartNumber missing")
    return StockResource(
        ingram_part_number=part_number.strip().upper(),
        total_availability=whole_number(item.get("totalAvailability")),
        sku_status=text(item.get("skuStatus")),
        back_order_flag=text(item.get("backOrderFlag")),
        vendor_part_number=text(item.get("vendorPartNumber")),
        vendor_name=text(item.get("vendorName")),
        upc=text(item.get("upcCode")),
    )


def whole_number(value: Any) -> int | None:
    """``totalAvailability`` is a string in the spec ("120"); a number is taken too.

    Anything else becomes None: that product's stock is left as it was.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
        return int(value)
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None
