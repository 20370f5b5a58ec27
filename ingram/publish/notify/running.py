"""Sending the change feed: new ``changes`` rows that pass the filters, in batches, at least once.

The feed's cursor moves past a batch only once the destination took it; changes
the filters do not pass are stepped over with it. A failed batch stops this
round and waits, longer after each failure in a row (30 s, 1 min, 2 min ... 1 h),
before a later run or the webhook receiver tries again; ``force`` (``notify
send``) tries at once.

Example::

    result = notify(store, WebhookDestination(url, secret), EventFilter())
    print(result.sent, "events sent")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingram.clock import format_time
from ingram.publish.notify.delivery import Destination, NotifyFailed
from ingram.publish.notify.events import EventFilter, event_of
from ingram.state.mirroring import catalog_clock
from ingram.state.notifying import (
    FeedState,
    changes_after,
    feed_state,
    save_delivered,
    save_feed_failure,
    start_feed,
)
from ingram.state.store import Store

BATCH = 500  # events per POST
READ_PAGE = 2_000  # changes read at a time
BACKOFF_FIRST = 30.0  # seconds before the first retry; doubled after each failure in a row
BACKOFF_MOST = 3600.0

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NotifyResult:
    label: str
    sent: int
    batches: int
    waiting_until: str | None = None  # nothing tried: an earlier failure's backoff runs


@dataclass(frozen=True)
class FeedStatus:
    label: str
    pending: int
    oldest_pending_at: str | None
    state: FeedState


def notify(
    store: Store,
    destination: Destination,
    kinds: EventFilter,
    *,
    force: bool = False,
    clock: Clock = utc_clock,
) -> NotifyResult:
    """Send what is pending; NotifyFailed (after recording it) when a batch is not taken."""
    state = feed_state(store, destination.channel) or start_feed(store, destination.channel)
    if not force and state.next_attempt_at and state.next_attempt_at > format_time(clock()):
        return NotifyResult(destination.label, 0, 0, state.next_attempt_at)
    catalog_id = catalog_clock(store).catalog_id
    cursor, sent, batches = state.change_cursor, 0, 0
    while changes := changes_after(store, cursor, READ_PAGE):
        for events, upto in groups(changes, kinds, catalog_id):
            if events:
                try:
                    destination.send(events, catalog_id)
                except NotifyFailed as error:
                    raise failed(store, destination, state.attempts, str(error), clock) from None
                batches += 1
            save_delivered(store, destination.channel, upto, len(events))
            sent += len(events)
            cursor = upto
    return NotifyResult(destination.label, sent, batches)


def groups(
    changes: Sequence[Mapping[str, Any]], kinds: EventFilter, catalog_id: str
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """(events, version up to which they cover the changes): ``BATCH`` events at most."""
    events: list[dict[str, Any]] = []
    for change in changes:
        if kinds.passes(change):
            events.append(event_of(change, catalog_id))
        if len(events) == BATCH:
            yield events, change["version"]
            events = []
    yield events, changes[-1]["version"]


def failed(
    store: Store, destination: Destination, attempts: int, message: str, clock: Clock
) -> NotifyFailed:
    """Record a failed batch and when the next attempt is due; the error to raise."""
    wait = min(BACKOFF_FIRST * 2**attempts, BACKOFF_MOST)
    due = format_time(clock() + timedelta(seconds=wait))
    save_feed_failure(store, destination.channel, message, due)
    return NotifyFailed(f"change events not delivered: {message}; kept, next attempt after {due}")


def feed_status(store: Store, destination: Destination, kinds: EventFilter) -> FeedStatus:
    """How many events wait for ``destination``, the oldest one's time, and the feed's state."""
    state = feed_state(store, destination.channel) or start_feed(store, destination.channel)
    cursor, pending, oldest = state.change_cursor, 0, None
    while changes := changes_after(store, cursor, READ_PAGE):
        passing = [change for change in changes if kinds.passes(change)]
        if passing and oldest is None:
            oldest = passing[0]["changed_at"]
        pending += len(passing)
        cursor = changes[-1]["version"]
    return FeedStatus(destination.label, pending, oldest, state)
