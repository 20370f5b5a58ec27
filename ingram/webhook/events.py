"""Reading a signed Stock Update event (``AvailabilityAsyncNotificationRequest``).

The signature is checked first (``signing``); this reads the body of a request that passed.
It takes what it can of an event: a resource that cannot be applied (no part number, a
stock figure that is not a whole number of SKUs SQLite can hold, text that is not valid
Unicode, another ``eventType``) is skipped and counted, the others are applied. Another
topic on the same webhook is ignored (answered 200). Every field is checked here, before
the 200 goes out, so nothing the writer is handed can stop it.

Event times are bounded by the receive time: a missing or unreadable ``eventTimeStamp`` is
the receive time; one more than ``CLOCK_ALLOWANCE`` after it is brought back to it (the
skew is logged); one more than a day from it is refused, so a captured signature cannot
sign a new body much later.

Example::

    received = parse_event(body, event_id, datetime.now(UTC))
    if isinstance(received, IgnoredTopic): ...   # 200 "ignored"
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingram.clock import format_time
from ingram.models import StockEvent, StockResource
from ingram.webhook.rejection import EventRejected
from ingram.webhook.signing import event_id_text

log = logging.getLogger("ingram.webhook")

TOPIC = "resellers/catalog"
EVENT_TYPE = "im::stock_update"
MAX_RESOURCES = 10_000  # Ingram sends at most 4,000 an event
MAX_COUNT = 2**63 - 1  # SQLite's largest integer
MAX_PART_NUMBER = 50
MAX_TEXT = 500
CLOCK_ALLOWANCE = timedelta(seconds=5)  # a sender's clock this far ahead keeps its times
FARTHEST = timedelta(days=1)  # an event stamped farther from its receipt is refused
WHOLE_NUMBER = re.compile(r"\s*\+?[0-9]{1,19}\s*")


class BadResource(ValueError):
    """One resource of an event that cannot be applied (its neighbours still are)."""


@dataclass(frozen=True)
class IgnoredTopic:
    """A signed event of another topic on the same webhook: answered 200, counted."""

    event_id: str
    topic: str


def load_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``EventRejected(400)``; nesting bounded by the parser."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise EventRejected(400, "body is not JSON") from None
    except RecursionError:  # the C parser's own bound: 100,000 brackets deep stop here
        raise EventRejected(400, "body is nested too deep") from None
    if not isinstance(data, dict):
        raise EventRejected(400, "body is not a JSON object")
    return data


def parse_event(body: bytes, event_id: str, received: datetime) -> StockEvent | IgnoredTopic:
    """The event in ``body`` whose signed id is ``event_id``, received at ``received``."""
    data = load_body(body)
    if event_id_text(data.get("eventId")) != event_id:
        raise EventRejected(400, "the body's eventId is not the one signed")
    topic = data.get("topic")
    if topic is not None and str(topic).strip().lower() != TOPIC:
        return IgnoredTopic(event_id, clean_text(topic)[:64] or "?")
    resources = data.get("resource")
    if not isinstance(resources, list):
        raise EventRejected(400, "resource is not a list")
    if len(resources) > MAX_RESOURCES:
        raise EventRejected(400, f"{len(resources)} resources: more than {MAX_RESOURCES:,}")
    taken, skipped = [], 0
    for index, item in enumerate(resources):
        try:
            taken.append(stock_resource(item))
        except BadResource as problem:
            skipped += 1
            log.warning("webhook event %s: resource[%d] skipped: %s", event_id, index, problem)
    return StockEvent(
        event_id=event_id,
        event_time=event_time(data.get("eventTimeStamp"), received, event_id),
        resources=tuple(taken),
        skipped=skipped,
    )


def event_time(value: Any, received: datetime, event_id: str) -> str:
    """``eventTimeStamp`` as UTC ISO-8601 with milliseconds, bounded by ``received``.

    No zone given means UTC. Missing or unreadable: the receive time.
    """
    moment = read_time(value)
    if moment is None:
        log.info("webhook event %s: no readable eventTimeStamp; the receive time is used", event_id)
        return format_time(received)
    skew = moment - received
    if abs(skew) > FARTHEST:
        raise EventRejected(
            400, f"eventTimeStamp {str(value)[:40]!r} is more than a day from the receive time"
        )
    if skew > CLOCK_ALLOWANCE:
        log.warning(
            "webhook event %s is stamped %.1f s after it arrived (the sender's clock is ahead);"
            " its time is bounded by the receive time",
            event_id,
            skew.total_seconds(),
        )
        moment = received + CLOCK_ALLOWANCE
    return format_time(moment)


def read_time(value: Any) -> datetime | None:
    """An ISO-8601 time in UTC, or None when it is missing or cannot be one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # year 9999 with a negative offset overflows
        return None


def stock_resource(item: Any) -> StockResource:
    """One ``resource[]`` entry, every field checked (``BadResource`` says which is wrong)."""
    if not isinstance(item, dict):
        raise BadResource("not an object")
    event_type = item.get("eventType")
    if event_type is not None and str(event_type).strip().lower() != EVENT_TYPE:
        raise BadResource(f"eventType {clean_text(event_type)[:40]!r} is not IM::STOCK_UPDATE")
    part_number = text(item.get("ingramPartNumber"), "ingramPartNumber", MAX_PART_NUMBER)
    if part_number is None:
        raise BadResource("no ingramPartNumber")
    return StockResource(
        ingram_part_number=part_number.upper(),
        total_availability=stock_count(item.get("totalAvailability")),
        sku_status=text(item.get("skuStatus"), "skuStatus"),
        back_order_flag=text(item.get("backOrderFlag"), "backOrderFlag"),
        vendor_part_number=text(item.get("vendorPartNumber"), "vendorPartNumber"),
        vendor_name=text(item.get("vendorName"), "vendorName"),
        upc=text(item.get("upcCode"), "upcCode"),
    )


def stock_count(value: Any) -> int | None:
    """``totalAvailability``: a string in the spec ("120"), a number taken too.

    Absent or empty: None (that product's stock is left as it was). Anything but a
    non-negative whole number SQLite can hold makes the resource bad.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
        number = int(value)
    else:
        raise BadResource(f"totalAvailability {clean_text(value)[:40]!r} is not a whole number")
    if not 0 <= number <= MAX_COUNT:
        raise BadResource(f"totalAvailability {number} is not a stock count")
    return number


def text(value: Any, name: str, longest: int = MAX_TEXT) -> str | None:
    """A text field, trimmed; None when absent. Not valid Unicode, control characters or
    over ``longest`` characters make the resource bad (SQLite would refuse a lone surrogate)."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise BadResource(f"{name} is not text")
    found = str(value).strip()
    if len(found) > longest:
        raise BadResource(f"{name} is longer than {longest} characters")
    if not found.isprintable() or not is_unicode(found):
        raise BadResource(f"{name} holds control characters or is not valid Unicode")
    return found or None


def is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, as JSON's "\ud800" escape gives
        return False
    return True


def clean_text(value: Any) -> str:
    """Text safe to log: surrogates and control characters replaced."""
    shown = str(value).encode("utf-8", "replace").decode("utf-8")
    return "".join(ch if ch.isprintable() else "?" for ch in shown)
