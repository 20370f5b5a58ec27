"""SQL of the Stock Update webhook: apply one event, count refusals, prune, report intake.

Only the receiver's writer thread calls the ``save_*`` functions, one event per
transaction, so an event is applied whole or not at all and its id is recorded
in the same commit: a replay (even after a crash between commit and cleanup)
finds the id and changes nothing.

Example::

    outcome = save_stock_event(store, event, received_at=utc_now())
    print(outcome.applied, outcome.untracked, outcome.stale)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingram.clock import utc_now
from ingram.models import StockEvent, StockResource
from ingram.state.store import TASK_CHUNK, Store, batched
from ingram.vocab import ChangeSource, WebhookCounter


@dataclass(frozen=True)
class StockOutcome:
    """What one event did: resources applied, untracked (ignored), stale (older than known),
    skipped (unreadable)."""

    event_id: str
    resources: int
    applied: int = 0
    untracked: int = 0
    stale: int = 0
    duplicate: bool = False
    skipped: int = 0  # resources that could not be applied (see ``StockEvent.skipped``)


def save_stock_event(store: Store, event: StockEvent, received_at: str) -> StockOutcome:
    """Apply the event's stock to tracked products where it is the newest observation."""
    with store.write() as db:
        if db.execute(
            "UPDATE webhook_events SET replays = replays + 1 WHERE event_id = ?", (event.event_id,)
        ).rowcount:
            return StockOutcome(event.event_id, len(event.resources), duplicate=True)
        latest = {item.ingram_part_number: item for item in event.resources}  # last one wins
        known = current_stock(db, list(latest))
        newer = [
            item
            for pn, item in latest.items()
            if pn in known and is_newer(event.event_time, known[pn])
        ]
        record_stock_changes(db, event, newer, known)
        db.executemany(UPDATE_STOCK_SQL, [stock_row(item, event.event_time) for item in newer])
        outcome = StockOutcome(
            event.event_id,
            len(event.resources) + event.skipped,
            applied=len(newer),
            untracked=sum(pn not in known for pn in latest),
            stale=sum(pn in known for pn in latest) - len(newer),
            skipped=event.skipped,
        )
        db.execute(
            "INSERT INTO webhook_events (event_id, event_time, received_at, applied_at, resources,"
            " applied, untracked, stale, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.event_id,
                event.event_time,
                received_at,
                utc_now(),
                outcome.resources,
                outcome.applied,
                outcome.untracked,
                outcome.stale,
                outcome.skipped,
            ),
        )
    return outcome


UPDATE_STOCK_SQL = f"""
UPDATE products SET total_availability = COALESCE(?, total_availability),
    available = CASE WHEN ? IS NULL THEN available ELSE ? > 0 END,
    sku_status = ?, back_order_flag = ?, stock_pushed_at = ?, stock_observed_at = ?,
    stock_source = '{ChangeSource.WEBHOOK}', stock_as_of = ?,
    vendor_part_number = COALESCE(vendor_part_number, ?), upc = COALESCE(upc, ?),
    vendor_name = COALESCE(vendor_name, ?)
WHERE ingram_part_number = ?
"""


def stock_row(item: StockResource, event_time: str) -> tuple[object, ...]:
    total = item.total_availability
    return (
        total,
        total,
        total,
        item.sku_status,
        item.back_order_flag,
        event_time,
        event_time,  # stock_observed_at
        event_time,  # stock_as_of
        item.vendor_part_number,
        item.upc,
        item.vendor_name,
        item.ingram_part_number,
    )


def current_stock(db: sqlite3.Connection, pns: Sequence[str]) -> dict[str, sqlite3.Row]:
    """Stock and its observation time of the tracked ones among ``pns``."""
    found: dict[str, sqlite3.Row] = {}
    for chunk in batched(pns, TASK_CHUNK):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            "SELECT ingram_part_number, total_availability, stock_observed_at"
            f" FROM products WHERE ingram_part_number IN ({marks})",
            chunk,
        )
        found.update((row[0], row) for row in rows)
    return found


def is_newer(event_time: str, product: sqlite3.Row) -> bool:
    """The one rule for stock (``saving`` applies it to P&A): an observation replaces the
    stock held unless that one was observed later. A tie goes to the later arrival (two
    events stamped with the same second: the second one is the vendor's latest word).

    Both sides are UTC ISO-8601 with milliseconds and a ``Z``, so text order is time order.
    """
    observed = product["stock_observed_at"]
    return observed is None or event_time >= observed


def record_stock_changes(
    db: sqlite3.Connection,
    event: StockEvent,
    items: Sequence[StockResource],
    known: Mapping[str, sqlite3.Row],
) -> None:
    """One ``changes`` row (source webhook, at the event's time) per real change of stock."""
    rows = []
    for item in items:
        old = known[item.ingram_part_number]["total_availability"]
        new = item.total_availability
        if old is not None and new is not None and old != new:
            rows.append((item.ingram_part_number, str(old), str(new), event.event_time))
    db.executemany(
        "INSERT INTO changes (ingram_part_number, field, old_value, new_value, changed_at,"
        " source, event_id) VALUES (?, 'total_availability', ?, ?, ?,"
        f" '{ChangeSource.WEBHOOK}', ?)",
        [(*row, event.event_id) for row in rows],
    )


def save_counts(store: Store, refused: Mapping[int, int], counted: Mapping[str, int]) -> None:
    """Add refused requests (by HTTP status: 400, 401, 413...) and the receiver's other
    counts (``WebhookCounter``: topics ignored, events set aside) to the running totals."""
    if not refused and not counted:
        return
    now = utc_now()
    with store.write() as db:
        for table, key, counts in (
            ("webhook_refusals", "status", refused),
            ("webhook_counters", "name", counted),
        ):
            db.executemany(
                f"INSERT INTO {table} ({key}, count, last_at) VALUES (?, ?, ?)"
                f" ON CONFLICT ({key}) DO UPDATE SET count = count + excluded.count,"
                " last_at = excluded.last_at",
                [(name, count, now) for name, count in counts.items()],
            )


def prune_webhook_events(store: Store, cutoff: str) -> int:
    """Forget event ids applied before ``cutoff``: the receiver refuses events stamped more
    than a day from their receipt, so a replay of a forgotten one is refused anyway."""
    with store.write() as db:
        return db.execute("DELETE FROM webhook_events WHERE applied_at < ?", (cutoff,)).rowcount


def webhook_intake(store: Store) -> dict[str, Any] | None:
    """Totals of the receiver's intake over the kept events, or None if it never received one."""
    if not store.db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_events'"
    ).fetchone():
        return None  # a database no ingram-sync with the receiver has opened for writing
    row = store.db.execute(
        "SELECT COUNT(*) AS events, COALESCE(SUM(resources), 0) AS resources,"
        " COALESCE(SUM(applied), 0) AS applied, COALESCE(SUM(untracked), 0) AS untracked,"
        " COALESCE(SUM(stale), 0) AS stale, COALESCE(SUM(replays), 0) AS replays,"
        " COALESCE(SUM(skipped), 0) AS skipped,"
        " MAX(event_time) AS last_event_at, MAX(received_at) AS last_received_at"
        " FROM webhook_events"
    ).fetchone()
    refused = store.db.execute(
        "SELECT COALESCE(SUM(count), 0), MAX(last_at) FROM webhook_refusals"
    ).fetchone()
    counted = dict.fromkeys(WebhookCounter, 0) | dict(
        store.db.execute("SELECT name, count FROM webhook_counters").fetchall()
    )
    if not row["events"] and not refused[0] and not any(counted.values()):
        return None
    return {
        **dict(row),
        "refused": refused[0],
        "last_refused_at": refused[1],
        "ignored": counted[WebhookCounter.IGNORED_TOPIC],
        "set_aside": counted[WebhookCounter.SET_ASIDE],
    }
