"""Newer stock is never overwritten by older: a real sync whose P&A answers are held for a
grouped commit, while signed Stock Update events for the same products arrive over HTTP.

Found by the soak: the sync stamped P&A with the time it wrote it, not when the answer came,
and overwrote stock without looking at what the webhook had applied meanwhile.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from support.client_support import client_for
from support.webhook_support import (
    SECRET,
    applied_events,
    hours_ago,
    post,
    query,
    stock_event,
    wait_for,
)

from ingram.state.products import add_products
from ingram.state.saving import DetailsPolicy
from ingram.state.store import Store
from ingram.sync import NoProgress, SyncOptions, WriterTiming, run_sync
from ingram.webhook.server import WebhookServer, WebhookSettings

PUSHED = 100_000  # pushed stock figures the sandbox's catalog never has


def pa_answers(sandbox) -> int:
    return int(sandbox.stats()["status_counts"].get("price_and_availability", {}).get("200", 0))


def stocks(db: Path, pns: list[str]) -> dict[str, int]:
    marks = ",".join("?" * len(pns))
    sql = "SELECT ingram_part_number, total_availability FROM products"
    sql += f" WHERE ingram_part_number IN ({marks})"
    return dict(query(db, sql, pns))


@pytest.mark.slow
def test_events_between_a_held_pa_answer_and_its_commit_keep_their_newer_stock(
    sandbox_factory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(catalog_size=300, latency=0.5)
    db = tmp_path / "catalog.db"
    store = Store.open(db)
    pns = sandbox.catalog.part_numbers(300)
    add_products(store, pns)
    first = pns[:50]  # the first P&A batch: tasks follow the order products were added
    early, late = first[:25], first[25:]
    pushed = {pn: PUSHED + index for index, pn in enumerate(first)}
    seen: dict[str, object] = {}

    def push_around_the_commit(url: str) -> None:
        wait_for(lambda: pa_answers(sandbox) >= 1, timeout=20, what="the first P&A answer")
        time.sleep(0.3)  # the answer has reached the client; its commit is held 2 s
        seen["early"] = post(
            url, stock_event("EV-EARLY", hours_ago(0), {pn: pushed[pn] for pn in early})
        )
        wait_for(lambda: applied_events(db) == 1, what="the early event applied")
        observed_late = hours_ago(0)  # observed by Ingram before the commit ...
        seen["before_commit"] = query(
            db, "SELECT pa_synced_at FROM products WHERE ingram_part_number = ?", [first[0]]
        )[0][0]
        wait_for(
            lambda: query(
                db, "SELECT pa_synced_at FROM products WHERE ingram_part_number = ?", [first[0]]
            )[0][0],
            timeout=20,
            what="the first batch committed",
        )
        # ... and delivered after it
        seen["late"] = post(
            url, stock_event("EV-LATE", observed_late, {pn: pushed[pn] for pn in late})
        )

    timing = WriterTiming(commit_every=2.0)
    options = SyncOptions(max_concurrent=1, details=DetailsPolicy(enabled=False), timing=timing)
    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as receiver:
        pusher = threading.Thread(target=push_around_the_commit, args=(receiver.url,))
        pusher.start()
        with client_for(sandbox) as client:
            summary = run_sync(store, client, options, NoProgress())
        pusher.join(30)
        assert summary.status == "completed", summary
        wait_for(lambda: applied_events(db) == 2, what="both events handled")
    assert seen["before_commit"] is None  # the early event really came before the commit
    assert seen["early"].status_code == seen["late"].status_code == 200
    assert stocks(db, first) == pushed  # neither older P&A nor "stale" won
    rows = {
        row["event_id"]: (row["applied"], row["stale"])
        for row in query(db, "SELECT * FROM webhook_events")
    }
    assert rows == {"EV-EARLY": (25, 0), "EV-LATE": (25, 0)}
    # the rest of the catalog is the vendor's, observed by P&A
    rest = stocks(db, pns[50:])
    vendor = {
        pn: sandbox.catalog.price_availability_item(pn)["availability"]["totalAvailability"]
        for pn in pns[50:]
    }
    assert rest == vendor
    # P&A's time is its answer's arrival, before the events that replaced its stock
    arrival = query(
        db,
        "SELECT pa_synced_at, stock_observed_at FROM products WHERE ingram_part_number = ?",
        [early[0]],
    )[0]
    assert arrival["pa_synced_at"] < arrival["stock_observed_at"]
    store.close()
