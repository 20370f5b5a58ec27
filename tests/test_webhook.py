"""The Stock Update receiver's WSGI app under waitress, over real HTTP, into a real SQLite file."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path

import pytest
from support.webhook_support import (
    SECRET,
    SYNCED_AT,
    applied_events,
    hours_ago,
    ingram_signature,
    post,
    query,
    stock_event,
    stock_of,
    track,
    wait_for,
)

from ingram.errors import ConfigError
from ingram.webhook.app import MAX_BODY, create_app
from ingram.webhook.server import WebhookServer, WebhookSettings

LATER = hours_ago(2)


def test_signed_event_updates_tracked_stock_only_and_records_webhook_changes(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    body = stock_event("EV-1", LATER, {"AAA111": 120, "zzz999": 5, "BBB222": 3})
    answer = post(webhook_receiver.url, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "accepted"}
    wait_for(lambda: applied_events(webhook_db) == 1, what="event applied")

    aaa = stock_of(webhook_db, "AAA111")
    assert (aaa["total_availability"], aaa["available"]) == (120, 1)
    assert (aaa["back_order_flag"], aaa["sku_status"]) == ("Y", None)
    assert aaa["stock_pushed_at"] == LATER
    assert aaa["pa_synced_at"] == SYNCED_AT  # pushed stock is not a P&A
    assert stock_of(webhook_db, "BBB222")["available"] == 1
    assert query(webhook_db, "SELECT 1 FROM products WHERE ingram_part_number = 'ZZZ999'") == []
    event = query(webhook_db, "SELECT * FROM webhook_events")[0]
    counts = (event["resources"], event["applied"], event["untracked"], event["stale"])
    assert counts == (3, 2, 1, 0)
    changes = [
        tuple(row)
        for row in query(
            webhook_db,
            "SELECT ingram_part_number, field, old_value, new_value, changed_at, source, event_id,"
            " run_id FROM changes ORDER BY ingram_part_number",
        )
    ]
    assert changes == [
        ("AAA111", "total_availability", "10", "120", LATER, "webhook", "EV-1", None),
        ("BBB222", "total_availability", "0", "3", LATER, "webhook", "EV-1", None),
    ]


@pytest.mark.parametrize(
    "signature",
    [
        None,  # unsigned
        "",
        ingram_signature("another-secret", "EV-2"),
        ingram_signature(SECRET, "EV-OTHER"),  # a genuine signature of another event
        ingram_signature(SECRET, "EV-2")[:-4] + "AAA=",
    ],
    ids=["missing", "empty", "wrong-secret", "other-event", "altered"],
)
def test_unsigned_or_badly_signed_events_are_refused_and_change_nothing(
    webhook_db: Path, webhook_receiver: WebhookServer, signature: str | None
) -> None:
    body = stock_event("EV-2", LATER, {"AAA111": 999})
    answer = post(webhook_receiver.url, body, secret=None, signature=signature)
    assert answer.status_code == 401
    assert SECRET not in answer.text
    wait_for(
        lambda: query(webhook_db, "SELECT count FROM webhook_refusals WHERE status = 401"),
        what="refusal counted",
    )
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 10
    assert applied_events(webhook_db) == 0
    assert list(webhook_receiver.receiver.spool_dir.iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe{}",
        json.dumps([{"eventId": "EV-3"}]).encode(),
        json.dumps({"eventId": "EV-3", "eventTimeStamp": LATER, "resource": {}}).encode(),
        json.dumps({"eventTimeStamp": LATER, "resource": []}).encode(),
        json.dumps({"eventId": "EV-3", "eventTimeStamp": hours_ago(25), "resource": []}).encode(),
        json.dumps({"eventId": "EV-3", "eventTimeStamp": hours_ago(-25), "resource": []}).encode(),
    ],
    ids=["text", "not-utf8", "array", "resource-object", "no-id", "a-day-old", "a-day-ahead"],
)
def test_malformed_bodies_are_refused_400(
    webhook_db: Path, webhook_receiver: WebhookServer, body: bytes
) -> None:
    answer = post(webhook_receiver.url, body, signature=ingram_signature(SECRET, "EV-3"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert applied_events(webhook_db) == 0
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 10


def test_a_body_over_the_limit_is_refused_413(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    body = stock_event("EV-4", LATER, {"AAA111": 1})
    body["padding"] = "x" * MAX_BODY
    assert post(webhook_receiver.url, body).status_code == 413
    assert applied_events(webhook_db) == 0


def test_other_paths_and_methods_are_refused(webhook_receiver: WebhookServer) -> None:
    import requests

    assert requests.get(webhook_receiver.url, timeout=10).status_code == 405
    other = webhook_receiver.url.replace("/ingram/stock", "/other")
    assert post(other, stock_event("EV-5", LATER, {"AAA111": 1})).status_code == 404


def test_a_replayed_event_id_changes_nothing_even_with_another_body(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    assert post(webhook_receiver.url, stock_event("EV-6", LATER, {"AAA111": 50})).status_code == 200
    wait_for(lambda: applied_events(webhook_db) == 1, what="first event applied")
    forged = stock_event("EV-6", hours_ago(1), {"AAA111": 999, "CCC333": 0})
    answer = post(webhook_receiver.url, forged)  # the captured signature still matches the id
    assert answer.status_code == 200
    wait_for(
        lambda: query(webhook_db, "SELECT replays FROM webhook_events")[0][0] == 1,
        what="replay seen",
    )
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 50
    assert stock_of(webhook_db, "CCC333")["total_availability"] == 7
    assert len(query(webhook_db, "SELECT * FROM changes")) == 1


def test_the_newest_observation_wins_over_late_events_and_older_syncs(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    post(webhook_receiver.url, stock_event("EV-NEW", hours_ago(4), {"AAA111": 30}))
    wait_for(lambda: applied_events(webhook_db) == 1, what="newer event applied")
    late = {"AAA111": 70, "CCC333": 1}
    post(webhook_receiver.url, stock_event("EV-OLD", hours_ago(5), late))
    # older than the sync that priced CCC333
    post(webhook_receiver.url, stock_event("EV-PRE", hours_ago(7), {"CCC333": 99}))
    wait_for(lambda: applied_events(webhook_db) == 3, what="late events handled")

    assert stock_of(webhook_db, "AAA111")["total_availability"] == 30
    assert stock_of(webhook_db, "CCC333")["total_availability"] == 1  # EV-OLD is newer than its P&A
    rows = {
        row["event_id"]: (row["applied"], row["stale"])
        for row in query(webhook_db, "SELECT * FROM webhook_events")
    }
    assert rows == {"EV-NEW": (1, 0), "EV-OLD": (1, 1), "EV-PRE": (0, 1)}


def test_an_event_of_4000_resources_is_applied_whole(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    stock = {f"P{index:05d}": index % 50 for index in range(4000)}
    track(db, stock)
    pushed = {pn: total + 1 for pn, total in stock.items()}
    body = stock_event("EV-BIG", LATER, pushed)
    assert 1_000_000 < len(json.dumps(body)) < MAX_BODY  # the size Ingram's largest event has
    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as server:
        assert post(server.url, body).status_code == 200
        wait_for(lambda: applied_events(db) == 1, what="big event applied")
    totals = dict(query(db, "SELECT ingram_part_number, total_availability FROM products"))
    assert totals == pushed
    assert query(db, "SELECT COUNT(*) FROM changes WHERE source = 'webhook'")[0][0] == 4000


def test_events_are_acknowledged_while_another_program_holds_the_write_lock(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    holder = sqlite3.connect(webhook_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # the client gives up long before SQLite's busy timeout: the answer must not wait on it
        answer = post(webhook_receiver.url, stock_event("EV-7", LATER, {"AAA111": 42}), timeout=3)
        assert answer.status_code == 200
        assert len(list(webhook_receiver.receiver.spool_dir.glob("*.json"))) == 1  # persisted
        assert holder.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0] == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_for(lambda: applied_events(webhook_db) == 1, what="applied once the lock is free")
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 42
    wait_for(
        lambda: not list(webhook_receiver.receiver.spool_dir.glob("*.json")), what="spool emptied"
    )


def test_the_writer_outlasts_a_lock_held_past_the_busy_timeout(webhook_db: Path) -> None:
    with WebhookServer(WebhookSettings(db=str(webhook_db), secret=SECRET, port=0)) as server:
        server.receiver.store.db.execute("PRAGMA busy_timeout = 50")  # compressed: outlasted 20x
        holder = sqlite3.connect(webhook_db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            assert post(server.url, stock_event("EV-8", LATER, {"AAA111": 5})).status_code == 200
            time.sleep(0.6)  # the lock outlives the busy timeout many times over
            assert server.receiver.writer.is_alive()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        wait_for(lambda: applied_events(webhook_db) == 1, what="applied once the lock is free")
        assert stock_of(webhook_db, "AAA111")["total_availability"] == 5
        assert post(server.url, stock_event("EV-9", LATER, {"AAA111": 6})).status_code == 200
        wait_for(
            lambda: applied_events(webhook_db) == 2, what="the writer still applies later events"
        )


def test_create_app_reads_the_environment_for_other_wsgi_servers(
    webhook_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``gunicorn 'ingram.webhook:create_app()'`` calls: a WSGI callable, receiver started."""
    monkeypatch.delenv("INGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("INGRAM_SYNC_DB", str(webhook_db))
    with pytest.raises(ConfigError, match="INGRAM_WEBHOOK_SECRET"):
        create_app()
    monkeypatch.setenv("INGRAM_WEBHOOK_SECRET", SECRET)
    app = create_app()
    body = json.dumps(stock_event("EV-8", LATER, {"CCC333": 70})).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/ingram/stock",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_HUB_SIGNATURE": ingram_signature(SECRET, "EV-8"),
        "wsgi.input": io.BytesIO(body),
    }
    statuses = []
    answer = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    try:
        assert statuses == ["200 OK"] and json.loads(answer) == {"status": "accepted"}
        wait_for(lambda: applied_events(webhook_db) == 1, what="applied")
        assert stock_of(webhook_db, "CCC333")["total_availability"] == 70
        assert SECRET not in repr(app)
    finally:
        app.receiver.stop()
        app.receiver.store.close()
