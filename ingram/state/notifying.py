"""The change feed's side of the catalog: ``changes`` rows after a feed's cursor, and its state.

Each destination (a URL, or a command) is a feed with its own cursor: the last
change version it was sent (or that its filters passed over). A cursor moves
only after the destination took a batch, so every event is delivered at least
once; a failure is recorded with the time of the next attempt.

Example::

    state = feed_state(store, "https://hooks.example/ingram") or start_feed(store, url)
    for change in changes_after(store, state.change_cursor, 500):
        ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingram.clock import utc_now
from ingram.state.history import change_value
from ingram.state.store import Store


@dataclass(frozen=True)
class FeedState:
    channel: str
    change_cursor: int
    delivered: int
    delivered_at: str | None
    attempts: int  # failures in a row
    next_attempt_at: str | None
    last_error: str | None
    failed_at: str | None


FEED_COLUMNS = (
    "channel, change_cursor, delivered, delivered_at, attempts, next_attempt_at, last_error,"
    " failed_at"
)


def feed_state(store: Store, channel: str) -> FeedState | None:
    row = store.db.execute(
        f"SELECT {FEED_COLUMNS} FROM notify_feeds WHERE channel = ?", (channel,)
    ).fetchone()
    return None if row is None else FeedState(*row)


def start_feed(store: Store, channel: str) -> FeedState:
    """A new feed starts with the changes of the latest run (and what came after it):
    the history before it stays in ``ingram-sync changes``, it is not sent."""
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO notify_feeds (channel, change_cursor) VALUES (?,"
            " COALESCE((SELECT MIN(version) - 1 FROM changes"
            " WHERE run_id = (SELECT MAX(id) FROM runs)), (SELECT version FROM change_clock)))",
            (channel,),
        )
    found = feed_state(store, channel)
    assert found is not None  # just inserted, or there already
    return found


def changes_after(store: Store, cursor: int, limit: int) -> list[dict[str, Any]]:
    """The next ``limit`` changes after version ``cursor``, with the product's keys today
    (none when it is no longer tracked), values as what they are (``change_value``)."""
    rows = store.db.execute(
        "SELECT changes.version, changes.run_id, changes.ingram_part_number, field, old_value,"
        " new_value, changed_at, source, event_id, vendor_part_number, user_key_type, user_key"
        " FROM changes LEFT JOIN products USING (ingram_part_number)"
        " WHERE changes.version > ? ORDER BY changes.version LIMIT ?",
        (cursor, limit),
    ).fetchall()
    return [
        dict(row)
        | {
            "old_value": change_value(row["field"], row["old_value"]),
            "new_value": change_value(row["field"], row["new_value"]),
        }
        for row in rows
    ]


def save_delivered(store: Store, channel: str, cursor: int, events: int) -> None:
    """The destination took the events up to ``cursor`` (or the filters passed over them)."""
    with store.write() as db:
        db.execute(
            "UPDATE notify_feeds SET change_cursor = MAX(change_cursor, ?),"
            " delivered = delivered + ?, delivered_at = CASE WHEN ? > 0 THEN ? ELSE delivered_at"
            " END, attempts = 0, next_attempt_at = NULL, last_error = NULL, failed_at = NULL"
            " WHERE channel = ?",
            (cursor, events, events, utc_now(), channel),
        )


def save_feed_failure(store: Store, channel: str, message: str, next_attempt_at: str) -> None:
    with store.write() as db:
        db.execute(
            "UPDATE notify_feeds SET attempts = attempts + 1, last_error = ?, failed_at = ?,"
            " next_attempt_at = ? WHERE channel = ?",
            (message, utc_now(), next_attempt_at, channel),
        )
