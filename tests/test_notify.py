"""Change events out: a local HTTP(S) receiver (stdlib http.server on a free port) that checks
``X-Ingram-Sync-Signature`` itself, the CLI in a subprocess, the sandbox, SQLite on disk."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.clirunner import Cli, Result, cli_env
from support.mirror_support import NOTIFY_SECRET, Receiver, config

from ingram.publish.notify import EventFilter, NotifyFailed, StockEvents, notify
from ingram.publish.notify.delivery import WebhookDestination
from ingram.publish.notify.events import batch_body, signature
from ingram.publish.notify.running import BACKOFF_FIRST
from ingram.state.products import add_products
from ingram.state.store import Store


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(fail=2)
    yield found
    found.close()


@pytest.fixture
def feed_cli(sandbox, tmp_path: Path, receiver: Receiver) -> Cli:
    db = tmp_path / "catalog.db"
    path = config(tmp_path, f'[notify]\nurl = "{receiver.url}"\nstock = "all"\n')
    env = cli_env(sandbox.url, db, INGRAM_SYNC_CONFIG=str(path), INGRAM_NOTIFY_SECRET=NOTIFY_SECRET)
    return Cli(env, db)


def versions_of_run(db: Path, run_id: int) -> list[int]:
    rows = sqlite3.connect(db).execute(
        "SELECT version FROM changes WHERE run_id = ? ORDER BY version", (run_id,)
    )
    return [row[0] for row in rows]


def status(cli: Cli) -> dict[str, Any]:
    result = cli.run("notify", "status", "--json")
    assert result.code == 0, result
    return json.loads(result.out)


def no_secret(result: Result) -> None:
    assert NOTIFY_SECRET not in result.out + result.err


def test_events_reach_the_receiver_signed_and_each_once_after_it_failed_twice(
    sandbox, feed_cli, receiver
):
    pns = sandbox.catalog.part_numbers(100)
    assert feed_cli.run("products", "add", *pns).code == 0
    assert feed_cli.sync("--no-details").code == 0  # first prices: no changes yet, nothing sent
    assert receiver.requests == []
    sandbox.reconfigure(price_epoch=1)

    moved = feed_cli.sync("--no-details")
    assert moved.code == 0, moved  # the sync's exit code stands
    [line] = [line for line in moved.err.splitlines() if "change events" in line]
    assert "HTTP 500" in line and "next attempt after" in line
    no_secret(moved)
    expected = versions_of_run(feed_cli.db, 2)
    assert expected and len(receiver.requests) == 1

    waiting = feed_cli.sync("--no-details")  # within the backoff: no attempt
    assert waiting.code == 0 and "wait until" in waiting.out
    assert len(receiver.requests) == 1
    pending = status(feed_cli)
    assert pending["pending"] == len(expected) and pending["failures_in_a_row"] == 1
    assert "HTTP 500" in pending["last_error"] and pending["destination"].endswith("/...")

    again = feed_cli.run("notify", "send")
    assert again.code == 1 and again.err.count("\n") == 1 and "HTTP 500" in again.err, again
    sent = feed_cli.run("notify", "send")
    assert sent.code == 0, sent
    assert f"{len(expected)} sent" in sent.out

    assert all(request["signed"] for request in receiver.requests)
    ids = [event["id"] for event in receiver.taken]
    assert len(ids) == len(set(ids)) == len(expected)  # each once
    catalog_id = (
        sqlite3.connect(feed_cli.db).execute("SELECT catalog_id FROM change_clock").fetchone()
    )
    assert ids == [f"{catalog_id[0]}-{version}" for version in expected]
    retried = {
        event["id"] for request in receiver.requests[:3] for event in request["body"]["events"]
    }
    assert retried == set(ids)  # the failed attempts carried the same events, the same ids
    done = status(feed_cli)
    assert done["pending"] == 0 and done["delivered"] == len(expected) and not done["last_error"]
    assert "nothing to send" in feed_cli.run("notify", "send").out


def test_an_event_carries_the_keys_old_and_new_value_when_and_whence(sandbox, feed_cli, receiver):
    receiver.fail = 0
    pns = sandbox.catalog.part_numbers(60)
    assert feed_cli.run("products", "add", *pns).code == 0
    assert feed_cli.sync("--no-details").code == 0
    sandbox.reconfigure(price_epoch=1)
    assert feed_cli.sync("--no-details").code == 0
    prices = [event for event in receiver.taken if event["type"] == "price"]
    assert prices
    event = prices[0]
    pn = event["ingram_part_number"]
    row = (
        sqlite3.connect(feed_cli.db)
        .execute(
            "SELECT vendor_part_number, customer_price FROM products WHERE ingram_part_number = ?",
            (pn,),
        )
        .fetchone()
    )
    assert event["field"] == "customer_price" and event["vendor_part_number"] == row[0]
    assert event["new_value"] == row[1] and isinstance(event["old_value"], str)  # exact decimals
    assert Decimal(event["old_value"]) != Decimal(event["new_value"])
    assert event["source"] == "sync" and event["run_id"] == 2 and event["changed_at"].endswith("Z")
    assert {"user_key_type", "user_key", "webhook_event_id"} <= set(event)
    batch = receiver.requests[0]["body"]
    assert batch["version"] == 1 and batch["catalog"] and batch["sent_at"].endswith("Z")


def add_changes(db: Path, rows: list[tuple[str, str, str | None, str | None]]) -> None:
    """``changes`` rows as a sync records them (the trigger numbers them)."""
    store = Store.open(db)
    add_products(store, sorted({row[0] for row in rows}))
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO changes (ingram_part_number, field, old_value, new_value, changed_at)"
            " VALUES (?, ?, ?, ?, '2026-11-28T22:40:01.000Z')",
            rows,
        )
    store.close()


CHANGES = [
    ("AAA111", "customer_price", "100.00", "100.50"),  # 0.5 %
    ("AAA111", "customer_price", "100.50", "110.00"),  # 9.5 %
    ("BBB222", "total_availability", "10", "0"),  # out of stock
    ("BBB222", "total_availability", "0", "2"),  # back in, below min_stock 5
    ("BBB222", "total_availability", "2", "8"),  # over min_stock
    ("BBB222", "total_availability", "8", "40"),  # a move, no line crossed
    ("CCC333", "backorder_eta", None, "2026-12-24"),
    ("CCC333", "discontinued", "false", "true"),
]


def pending_with(tmp_path: Path, notify_table: str, stock_table: str = "") -> int:
    db = tmp_path / "filters.db"
    if not db.exists():
        Store.open(db).close()
        feed = Cli(cli_env("http://127.0.0.1:9", db, INGRAM_NOTIFY_SECRET="x" * 8), db)
        path = config(tmp_path, '[notify]\nurl = "https://hooks.example/i"\n')
        feed.env["INGRAM_SYNC_CONFIG"] = str(path)
        assert feed.run("notify", "status").code == 0  # the feed starts before these changes
        add_changes(db, CHANGES)
    path = config(
        tmp_path, f'[notify]\nurl = "https://hooks.example/i"\n{notify_table}\n{stock_table}'
    )
    feed = Cli(cli_env("http://127.0.0.1:9", db, INGRAM_SYNC_CONFIG=str(path)), db)
    feed.env["INGRAM_NOTIFY_SECRET"] = "x" * 8
    result = feed.run("notify", "status", "--json")
    assert result.code == 0, result
    return int(json.loads(result.out)["pending"])


def test_the_notify_filters_choose_which_changes_are_sent(tmp_path):
    assert pending_with(tmp_path, "") == 6  # defaults: every price move, stock thresholds
    assert pending_with(tmp_path, "stock = 'all'") == 8
    assert pending_with(tmp_path, "price_change_percent = 5") == 5
    assert pending_with(tmp_path, "stock = false\nbackorder_eta = false") == 3
    assert pending_with(tmp_path, "discontinued = false", "[stock]\nmin_stock = 5") == 6
    assert pending_with(tmp_path, "", "[stock]\nmin_stock = 30") == 7


def test_the_filter_lines_stock_crosses():
    kinds = EventFilter(stock=StockEvents.THRESHOLDS, min_stock=5)

    def moved(old: int, new: int) -> bool:
        return kinds.passes({"field": "total_availability", "old_value": old, "new_value": new})

    assert moved(3, 0) and moved(0, 1) and moved(4, 5) and moved(9, 4)
    assert not moved(5, 900) and not moved(2, 3)
    price = {"field": "customer_price", "old_value": Decimal("10"), "new_value": Decimal("10.49")}
    assert not EventFilter(price_change_percent=Decimal(5)).passes(price)
    assert EventFilter(price_change_percent=Decimal("4.9")).passes(price)
    assert not EventFilter().passes({"field": "retail_price", "old_value": 1, "new_value": 2})


def test_events_piped_to_a_command_as_json_lines(tmp_path):
    db = tmp_path / "catalog.db"
    feed = Cli(cli_env("http://127.0.0.1:9", db), db)
    Store.open(db).close()
    out = tmp_path / "events.jsonl"
    command = f"cat >> {out}"
    assert feed.run("notify", "send", "--exec", command).code == 0  # the feed starts here
    add_changes(db, CHANGES)
    sent = feed.run("notify", "send", "--exec", command)
    assert sent.code == 0, sent
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [event["type"] for event in lines] == [
        "price",
        "price",
        "stock",
        "stock",
        "backorder_eta",
        "discontinued",
    ]
    assert "nothing to send" in feed.run("notify", "send", "--exec", command).out
    refusing = "echo no room >&2; exit 3"
    assert feed.run("notify", "send", "--exec", refusing).code == 0  # its feed starts: nothing
    add_changes(db, CHANGES[:1])
    failing = feed.run("notify", "send", "--exec", refusing)
    assert failing.code == 1 and "exited 3: no room" in failing.err, failing


def test_events_over_https_to_a_receiver_with_its_own_certificate(sandbox, tmp_path):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    secure = Receiver(tls=tmp_path)
    try:
        db = tmp_path / "catalog.db"
        path = config(tmp_path, f'[notify]\nurl = "{secure.url}"\nsecret = "{NOTIFY_SECRET}"\n')
        cli = Cli(cli_env(sandbox.url, db, INGRAM_SYNC_CONFIG=str(path)), db)
        cli.env["REQUESTS_CA_BUNDLE"] = str(tmp_path / "cert.pem")  # the user's own CA
        assert cli.run("products", "add", *sandbox.catalog.part_numbers(40)).code == 0
        assert cli.sync("--no-details").code == 0
        sandbox.reconfigure(price_epoch=1)
        result = cli.sync("--no-details")
        assert result.code == 0 and "change events:" in result.out, result
        assert secure.taken and all(request["signed"] for request in secure.requests)
        no_secret(result)
    finally:
        secure.close()


def test_the_change_feed_refuses_a_plain_http_url_elsewhere_and_a_missing_secret(tmp_path):
    db = tmp_path / "catalog.db"
    Store.open(db).close()
    for table, words in (
        ('url = "http://hooks.example/i"\nsecret = "abcdefgh"', "use https://"),
        ('url = "https://hooks.example/i"', "INGRAM_NOTIFY_SECRET"),
        ('url = "https://hooks.example/i"\nsecrett = "x"', "unknown setting 'secrett' in [notify]"),
        ('stock = "some"\nurl = "https://h.example/i"', "[notify] stock: 'some' is not one of"),
    ):
        feed = Cli(
            cli_env(
                "http://127.0.0.1:9",
                db,
                INGRAM_SYNC_CONFIG=str(config(tmp_path, f"[notify]\n{table}\n")),
            ),
            db,
        )
        result = feed.run("notify", "status")
        assert result.code == 2, result
        assert result.err.count("\n") == 1 and words in result.err, result.err


class Clock:
    """The only thing mocked: time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_backoff_doubles_after_each_failure_in_a_row_and_a_success_resets_it(tmp_path):
    db = tmp_path / "catalog.db"
    store = Store.open(db)
    failing = Receiver(fail=3)
    try:
        destination = WebhookDestination(failing.url, NOTIFY_SECRET)
        notify(store, destination, EventFilter(), force=True)  # the feed starts
        add_changes(db, CHANGES[:2])
        clock = Clock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
        waits = []
        for _ in range(3):
            with pytest.raises(NotifyFailed, match="HTTP 500"):
                notify(store, destination, EventFilter(), clock=clock)
            due = store.db.execute("SELECT next_attempt_at FROM notify_feeds").fetchone()[0]
            waits.append(datetime.fromisoformat(due.replace("Z", "+00:00")) - clock.now)
            skipped = notify(store, destination, EventFilter(), clock=clock)
            assert skipped.waiting_until == due and skipped.sent == 0
            clock.now += waits[-1] + timedelta(seconds=1)
        assert waits == [timedelta(seconds=BACKOFF_FIRST * 2**n) for n in range(3)]
        assert len(failing.requests) == 3  # nothing tried while waiting
        assert notify(store, destination, EventFilter(), clock=clock).sent == 2
        feed = store.db.execute("SELECT attempts, next_attempt_at FROM notify_feeds").fetchone()
        assert tuple(feed) == (0, None)
    finally:
        failing.close()
        store.close()


def test_secrets_of_the_mirror_and_the_feed_stay_masked(tmp_path):
    db = tmp_path / "catalog.db"
    path = tmp_path / "config.toml"
    path.write_text(
        'mirror_url = "postgresql://shop:Url-pw-1234@db.example/shop"\n'
        f'[notify]\nurl = "https://hooks.example/i"\nsecret = "{NOTIFY_SECRET}"\n'
    )
    path.chmod(0o644)
    cli = Cli(
        cli_env(
            "http://127.0.0.1:9",
            db,
            INGRAM_SYNC_CONFIG=str(path),
            INGRAM_MIRROR_PASSWORD="Env-pw-5678",
        ),
        db,
    )
    shown = cli.run("-v", "config", "show")
    assert shown.code == 0, shown
    text = shown.out + shown.err
    for secret in (NOTIFY_SECRET, "Url-pw-1234", "Env-pw-5678"):
        assert secret not in text
    assert "postgresql://shop:***@db.example/shop" in text
    assert "chmod 600" in shown.err  # a file holding secrets that others can read


def test_a_profile_has_its_own_mirror_and_change_feed(tmp_path):
    db = tmp_path / "catalog.db"
    path = config(
        tmp_path,
        'mirror_url = "postgresql://shop@db.example/us"\n'
        '[notify]\nurl = "https://hooks.example/us"\nprice_change_percent = 3\n'
        '[profiles.ca]\nmirror_url = "postgresql://shop@db.example/ca"\n'
        '[profiles.ca.notify]\nurl = "https://hooks.example/ca"\n',
    )
    cli = Cli(cli_env("http://127.0.0.1:9", db, INGRAM_SYNC_CONFIG=str(path)), db)
    shown = cli.run("--profile", "ca", "config", "show", "--json")
    assert shown.code == 0, shown
    rows = {row["setting"]: row for row in json.loads(shown.out)}
    assert rows["mirror_url"]["value"] == "postgresql://shop@db.example/ca"
    assert rows["notify_url"]["value"] == "https://hooks.example/ca"
    assert rows["notify_url"]["source"].endswith("[profiles.ca]")
    assert rows["notify_price_change_percent"]["value"] == "3"  # the file's, inherited


def test_the_documented_signature_check_accepts_a_body_we_signed_and_no_other():
    page = (Path(__file__).resolve().parents[1] / "docs" / "database.md").read_text()
    code = page.split("### Checking the signature", 1)[1].split("```python\n", 1)[1]
    namespace: dict[str, Any] = {}
    exec(code.split("```", 1)[0], namespace)  # the page's own few lines
    body = batch_body([{"id": "x-1", "new_value": Decimal("71.90")}], "x")
    assert namespace["genuine"](body, signature(NOTIFY_SECRET, body), NOTIFY_SECRET)
    assert not namespace["genuine"](body + b" ", signature(NOTIFY_SECRET, body), NOTIFY_SECRET)
