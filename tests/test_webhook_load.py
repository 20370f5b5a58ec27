"""100 Stock Update events a second while a real sync writes the same database; operator views."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.webhook_support import SECRET, applied_events, post, query, stock_event, wait_for

from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.webhook.server import WebhookServer, WebhookSettings

EVENTS = 300
PER_EVENT = 5
THREADS = 4
RATE = 100.0  # events a second, all threads together


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def push_paced(url: str, batches: list[list[str]], answers: list[tuple[int, str]]) -> None:
    """POST one event per batch on a fixed schedule of ``RATE / THREADS`` a second."""
    session = requests.Session()
    start = time.monotonic()
    for number, pns in enumerate(batches):
        time.sleep(max(0.0, start + number * THREADS / RATE - time.monotonic()))
        event_id = f"LOAD-{pns[0]}"
        body = stock_event(event_id, now_text(), {pn: 100_000 + i for i, pn in enumerate(pns)})
        answer = post(url, body, session=session, timeout=5)  # well under SQLite's busy wait
        answers.append((answer.status_code, now_text()))


@pytest.mark.slow
def test_100_events_a_second_during_a_sync_are_all_applied_and_newest_wins(
    sandbox_factory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(catalog_size=2000, latency=0.005)
    db = tmp_path / "catalog.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    part_numbers = sandbox.catalog.part_numbers()
    add_products(Store.open(db), part_numbers)
    batches = [part_numbers[i : i + PER_EVENT] for i in range(0, EVENTS * PER_EVENT, PER_EVENT)]
    answers: list[tuple[int, str]] = []

    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as receiver:
        # 200 P&A calls at 50 a second: the sync runs for about 4 s
        pace = ("--no-details", "--batch-size", "10", "--pa-rate", "3000")
        sync = cli.start("sync", *FAST_TIMINGS, *pace)
        wait_for(lambda: query(db, "SELECT 1 FROM runs WHERE status = 'running'"), what="sync")
        first_post = now_text()
        pushers = [
            threading.Thread(target=push_paced, args=(receiver.url, batches[i::THREADS], answers))
            for i in range(THREADS)
        ]
        for pusher in pushers:
            pusher.start()
        for pusher in pushers:
            pusher.join()
        _, err = sync.communicate(timeout=120)
        assert sync.returncode == 0, err
        wait_for(lambda: applied_events(db) == EVENTS, timeout=30, what="all events applied")
        assert list(receiver.receiver.spool_dir.glob("*.json")) == []

    assert [status for status, _ in answers] == [200] * EVENTS
    run = query(db, "SELECT started_at, finished_at FROM runs")[0]
    assert run["started_at"] <= first_post < run["finished_at"]  # pushed while the sync ran
    check_newest_observation_won(db, sandbox, batches)
    runs_text = cli.run("runs").out
    assert f"webhook intake: {EVENTS} events, {EVENTS * PER_EVENT:,} resources" in runs_text


def check_newest_observation_won(db: Path, sandbox, batches: list[list[str]]) -> None:
    """Each product got one event: its stock is the event's if that is newer than its P&A."""
    pushed = {pn: 100_000 + i for pns in batches for i, pn in enumerate(pns)}
    rows = query(
        db,
        "SELECT ingram_part_number, total_availability, pa_synced_at, stock_pushed_at"
        " FROM products",
    )
    applied_and_kept = 0
    for row in rows:
        pn = row["ingram_part_number"]
        vendor = sandbox.catalog.price_availability_item(pn)["availability"]["totalAvailability"]
        pushed_last = row["stock_pushed_at"] and row["stock_pushed_at"] > row["pa_synced_at"]
        if pushed_last:
            applied_and_kept += 1
            assert row["total_availability"] == pushed[pn], pn
        else:
            assert row["total_availability"] == vendor, pn
    events = query(db, "SELECT SUM(applied), SUM(stale), SUM(untracked) FROM webhook_events")[0]
    assert events[0] + events[1] == len(pushed) and events[2] == 0
    assert applied_and_kept <= events[0]
