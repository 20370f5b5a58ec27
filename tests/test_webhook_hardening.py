"""What one event, or one sender, must never do to the receiver: real HTTP into real SQLite.

Each of these broke the receiver before (issue 23, and the vendor's deviations of issue 19):
a writer killed for good by one event, 500s with tracebacks for unsigned junk, whole events
refused for one odd resource or another topic, a time in the future freezing a product.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from support.webhook_support import (
    SECRET,
    applied_events,
    hours_ago,
    ingram_signature,
    post,
    query,
    stock_event,
    stock_of,
    wait_for,
)

from ingram.errors import ConfigError
from ingram.state.store import Store
from ingram.state.webhook import webhook_intake
from ingram.webhook.receiver import spool_dir_for
from ingram.webhook.server import WebhookServer, WebhookSettings

NOW_ISH = hours_ago(0.5)


def intake(db: Path) -> dict:
    store = Store.open(db, readonly=True)
    try:
        return webhook_intake(store) or {}
    finally:
        store.close()


def later_event_still_applied(db: Path, url: str, before: int) -> None:
    """The writer lives: a genuine event after the bad one is applied."""
    answer = post(url, stock_event("EV-AFTER", hours_ago(0.1), {"CCC333": 77}))
    assert answer.status_code == 200, answer.text
    wait_for(lambda: applied_events(db) == before + 1, what="a later event applied")
    assert stock_of(db, "CCC333")["total_availability"] == 77


@pytest.mark.parametrize(
    "resource",
    [
        {"ingramPartNumber": "AAA111", "totalAvailability": str(2**63)},  # past SQLite's range
        {"ingramPartNumber": "AAA111", "totalAvailability": 10**30},
        {"ingramPartNumber": "AAA111", "totalAvailability": "-5"},
        {"ingramPartNumber": "AAA\ud800", "totalAvailability": "5"},  # a lone surrogate
        {"ingramPartNumber": "ZZZ\udfff", "totalAvailability": "5"},  # untracked, too
        {"ingramPartNumber": "AAA111", "totalAvailability": "5", "vendorName": "X\ud800"},
        {"totalAvailability": "5"},  # no part number
        {"ingramPartNumber": "AAA111", "eventType": "IM::ORDER_SHIPPED"},  # another type
        "not an object",
    ],
    ids=[
        "count-2**63",
        "count-10**30",
        "negative",
        "surrogate-tracked",
        "surrogate-untracked",
        "surrogate-text",
        "no-part-number",
        "other-type",
        "not-object",
    ],
)
def test_a_bad_resource_is_skipped_and_counted_and_the_writer_lives(
    webhook_db: Path, webhook_receiver: WebhookServer, resource: object
) -> None:
    body = stock_event("EV-BAD", NOW_ISH, {"BBB222": 9})
    body["resource"].insert(0, resource)
    answer = post(
        webhook_receiver.url,
        json.dumps(body).encode(),
        signature=ingram_signature(SECRET, "EV-BAD"),
    )
    assert answer.status_code == 200, answer.text
    wait_for(lambda: applied_events(webhook_db) == 1, what="the event applied")
    assert (
        stock_of(webhook_db, "AAA111")["total_availability"] == 10
    )  # the bad resource changed nothing
    assert stock_of(webhook_db, "BBB222")["total_availability"] == 9  # its neighbour was applied
    row = query(webhook_db, "SELECT resources, applied, skipped FROM webhook_events")[0]
    assert tuple(row) == (2, 1, 1)
    later_event_still_applied(webhook_db, webhook_receiver.url, 1)
    assert webhook_receiver.receiver.writer.is_alive()
    assert "1 skipped" in cli_runs_line(webhook_db)


def cli_runs_line(db: Path) -> str:
    from ingram.output.reports import intake_line

    return intake_line(intake(db))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (  # a surrogate in the event id
            b'{"eventId": "EV-\\ud800", "eventTimeStamp": "2026-01-01T00:00:00Z", "resource": []}',
            400,
        ),
        (b'{"eventId": "E1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 401),
        (b'{"eventId": "E1", "eventTimeStamp": "9999-12-31T23:59:59-23:59"}', 401),
        (b'{"eventId": 1.5, "resource": []}', 400),
        (b"[" * 100_000, 400),
    ],
    ids=["surrogate-id", "deep-unsigned", "overflowing-time", "float-id", "deep-no-id"],
)
def test_unsigned_junk_is_refused_without_a_traceback(
    webhook_db: Path,
    webhook_receiver: WebhookServer,
    body: bytes,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = post(webhook_receiver.url, body, signature="bm90IGEgc2lnbmF0dXJl")
    assert answer.status_code == status, answer.text
    assert "Traceback" not in caplog.text and "Exception" not in caplog.text
    assert applied_events(webhook_db) == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"eventId": "EV-DEEP", "resource": [], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"eventId": "EV-DEEP", "resource": {"eventId": "other"}}',
    ],
    ids=["nested-100000", "resource-object"],
)
def test_a_signed_but_malformed_body_is_400_not_500(
    webhook_db: Path, webhook_receiver: WebhookServer, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    answer = post(webhook_receiver.url, body, signature=ingram_signature(SECRET, "EV-DEEP"))
    assert answer.status_code == 400, answer.text
    assert "Traceback" not in caplog.text


def test_the_signature_must_cover_the_bodys_own_event_id(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    """A signed id hidden in a nested object does not sign the event's top-level id."""
    body = stock_event("EV-FORGED", NOW_ISH, {"AAA111": 1})
    nested_first = json.dumps({"wrap": {"eventId": "EV-CAPTURED"}, **body}).encode()
    answer = post(
        webhook_receiver.url, nested_first, signature=ingram_signature(SECRET, "EV-CAPTURED")
    )
    assert answer.status_code == 400, answer.text
    assert applied_events(webhook_db) == 0


def test_a_hex_signature_is_accepted_and_the_form_logged(
    webhook_db: Path, webhook_receiver: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The portal's sample: "Can either base64 encode or put it right into hex"."""
    caplog.set_level(logging.INFO, logger="ingram.webhook")
    mac = hmac.new(SECRET.encode(), b"EV-HEX", hashlib.sha512).hexdigest()
    body = stock_event("EV-HEX", NOW_ISH, {"AAA111": 33})
    for signature in (mac.upper(), mac[:-1] + ("0" if mac[-1] != "0" else "1")):
        answer = post(webhook_receiver.url, body, signature=signature)
        if signature == mac.upper():
            assert answer.status_code == 200, answer.text
        else:
            assert answer.status_code == 401
    wait_for(lambda: applied_events(webhook_db) == 1, what="the hex-signed event applied")
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 33
    assert "signed in hex" in caplog.text


def test_a_numeric_event_id_is_taken_as_its_text(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    body = stock_event("0", NOW_ISH, {"AAA111": 44})
    data = json.dumps(body).replace('"eventId": "0"', '"eventId": 98765').encode()
    answer = post(webhook_receiver.url, data, signature=ingram_signature(SECRET, "98765"))
    assert answer.status_code == 200, answer.text
    wait_for(lambda: applied_events(webhook_db) == 1, what="applied")
    assert query(webhook_db, "SELECT event_id FROM webhook_events")[0][0] == "98765"


def test_another_topic_is_answered_200_ignored_and_counted(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    body = stock_event("EV-ORDER", NOW_ISH, {"AAA111": 1}) | {"topic": "resellers/orders"}
    answer = post(webhook_receiver.url, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ignored"}
    wait_for(lambda: intake(webhook_db).get("ignored") == 1, what="ignored counted")
    assert applied_events(webhook_db) == 0
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 10
    assert "1 of other topics ignored" in cli_runs_line(webhook_db)


@pytest.mark.parametrize("stamp", [None, "yesterday-ish", 12345], ids=["missing", "text", "number"])
def test_an_unreadable_timestamp_falls_back_to_the_receive_time(
    webhook_db: Path, webhook_receiver: WebhookServer, stamp: object
) -> None:
    body = stock_event("EV-T", NOW_ISH, {"AAA111": 55})
    if stamp is None:
        del body["eventTimeStamp"]
    else:
        body["eventTimeStamp"] = stamp
    answer = post(webhook_receiver.url, body)
    assert answer.status_code == 200, answer.text
    wait_for(lambda: applied_events(webhook_db) == 1, what="applied")
    row = query(webhook_db, "SELECT event_time, received_at FROM webhook_events")[0]
    assert row["event_time"] == row["received_at"]
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 55


def test_an_event_stamped_ahead_is_bounded_and_does_not_freeze_the_product(
    webhook_db: Path, webhook_receiver: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The portal's sample labels +08:30 as UTC: a clock hours ahead must not make every later
    push stale (nor one in the year 2999: refused, more than a day away)."""
    caplog.set_level(logging.WARNING, logger="ingram.webhook")
    assert (
        post(
            webhook_receiver.url, stock_event("EV-2999", "2999-01-01T00:00:00Z", {"AAA111": 1})
        ).status_code
        == 400
    )
    ahead = post(webhook_receiver.url, stock_event("EV-AHEAD", hours_ago(-8.5), {"AAA111": 20}))
    assert ahead.status_code == 200, ahead.text
    wait_for(lambda: applied_events(webhook_db) == 1, what="the event ahead applied")
    row = query(webhook_db, "SELECT event_time, received_at FROM webhook_events")[0]
    assert row["event_time"] < hours_ago(-0.01)  # within seconds of its receipt, not 8.5 h on
    assert "after it arrived" in caplog.text  # the skew is logged
    wait_for(lambda: hours_ago(0) > row["event_time"], timeout=10, what="time to pass the bound")
    now = post(webhook_receiver.url, stock_event("EV-NOW", hours_ago(0), {"AAA111": 21}))
    assert now.status_code == 200
    wait_for(lambda: applied_events(webhook_db) == 2, what="the next event handled")
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 21  # not stale


def test_two_events_stamped_with_the_same_second_the_later_arrival_wins(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    second = hours_ago(0.2)[:19] + "Z"
    post(webhook_receiver.url, stock_event("EV-S1", second, {"AAA111": 1}))
    wait_for(lambda: applied_events(webhook_db) == 1, what="first applied")
    post(webhook_receiver.url, stock_event("EV-S2", second, {"AAA111": 2}))
    wait_for(lambda: applied_events(webhook_db) == 2, what="second handled")
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 2


def test_applied_event_ids_are_kept_a_year(webhook_db: Path) -> None:
    """The signature covers the id only: a replay 30 days on must still change nothing."""
    store = Store.open(webhook_db)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO webhook_events (event_id, event_time, received_at, applied_at, resources,"
            " applied, untracked, stale) VALUES ('EV-MONTH', ?, ?, ?, 1, 1, 0, 0)",
            (hours_ago(24 * 30),) * 3,
        )
    store.close()
    with WebhookServer(WebhookSettings(db=str(webhook_db), secret=SECRET, port=0)) as server:
        wait_for(
            lambda: query(webhook_db, "SELECT 1 FROM webhook_refusals") or True, what="started"
        )
        server.receiver.housekeeping()  # the hourly prune runs at the first housekeeping
        answer = post(server.url, stock_event("EV-MONTH", NOW_ISH, {"AAA111": 999}))
        assert answer.status_code == 200
        wait_for(
            lambda: query(webhook_db, "SELECT replays FROM webhook_events")[0][0] == 1,
            what="replay",
        )
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 10


def test_a_spool_file_the_writer_cannot_apply_is_set_aside_and_later_events_applied(
    webhook_db: Path,
) -> None:
    """A file holding a stock figure SQLite cannot store (written before this version checked
    events) killed the writer at every start; now it is set aside and counted."""
    spool = spool_dir_for(webhook_db)
    spool.mkdir(mode=0o700)
    record = {
        "received_at": NOW_ISH,
        "event": {
            "event_id": "EV-POISON",
            "event_time": NOW_ISH,
            "resources": [{"ingram_part_number": "AAA111", "total_availability": 2**70}],
        },
    }
    (spool / "00000000000000000001-poison.json").write_text(json.dumps(record))
    (spool / "00000000000000000002-folder.json").mkdir()  # not a file: set aside, not fatal
    with WebhookServer(WebhookSettings(db=str(webhook_db), secret=SECRET, port=0)) as server:
        wait_for(lambda: intake(webhook_db).get("set_aside") == 2, what="both set aside")
        later_event_still_applied(webhook_db, server.url, 0)
    assert sorted(path.name for path in spool.iterdir()) == [
        "00000000000000000001-poison.json.bad",
        "00000000000000000002-folder.json.bad",
    ]
    assert "2 set aside" in cli_runs_line(webhook_db)
    assert stock_of(webhook_db, "AAA111")["total_availability"] == 10


@pytest.mark.parametrize("secret", ["x", "1234567"])
def test_a_short_webhook_secret_is_refused(webhook_db: Path, secret: str) -> None:
    with pytest.raises(ConfigError, match="at least 8"):
        WebhookServer(WebhookSettings(db=str(webhook_db), secret=secret, port=0)).start()
