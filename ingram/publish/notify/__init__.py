"""Change events out: new ``changes`` rows, filtered, as signed JSON to an endpoint or a command.

``events`` (which changes pass, the event and batch shapes, the signature),
``delivery`` (HTTPS POST, or JSON Lines to a command), ``running`` (the cursor,
at-least-once, backoff, status). May import ``ingram.state``, ``ingram.models``
and ``ingram.errors`` (and requests); never ``ingram.api`` or ``ingram.cli``.

Example::

    notify(store, WebhookDestination(url, secret), EventFilter(price_change_percent=Decimal(2)))
"""

from ingram.publish.notify.delivery import (
    CommandDestination,
    Destination,
    NotifyFailed,
    WebhookDestination,
)
from ingram.publish.notify.events import EventFilter, EventKind, StockEvents
from ingram.publish.notify.running import FeedStatus, NotifyResult, feed_status, notify

__all__ = [
    "CommandDestination",
    "Destination",
    "EventFilter",
    "EventKind",
    "FeedStatus",
    "NotifyFailed",
    "NotifyResult",
    "StockEvents",
    "WebhookDestination",
    "feed_status",
    "notify",
]
