"""``webhook serve`` with a mirror and a change feed: what it applies reaches the shop's
database and the change feed within seconds, while the writer goes on applying."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from support.dbservers import PASSWORD, TargetDb
from support.mirror_support import NOTIFY_SECRET, Receiver, config
from support.webhook_support import LATER, Serving, post, stock_event, track, wait_for


def mirrored(target: TargetDb) -> dict[str, dict[str, Any]]:
    """The target's products; none before the first mirror made the table."""
    try:
        return {row["ingram_part_number"]: row for row in target.rows("ingram_products")}
    except DBAPIError:
        return {}


def test_stock_the_receiver_applies_is_mirrored_and_sent_within_seconds(
    tmp_path: Path, target_db: TargetDb
):
    db = tmp_path / "catalog.db"
    track(db, {"AAA111": 10, "BBB222": 0})
    feed = Receiver()
    path = config(tmp_path, f'mirror_url = "{target_db.url}"\n[notify]\nurl = "{feed.url}"\n')
    serving = Serving(
        db,
        tmp_path / "serve.log",
        INGRAM_SYNC_CONFIG=str(path),
        INGRAM_MIRROR_PASSWORD=PASSWORD,
        INGRAM_NOTIFY_SECRET=NOTIFY_SECRET,
    )
    try:
        wait_for(lambda: len(mirrored(target_db)) == 2, 30, "the first mirror")
        started = time.monotonic()
        answer = post(serving.url, stock_event("evt-1", LATER, {"AAA111": 0, "BBB222": 25}))
        assert answer.status_code == 200

        def applied() -> bool:
            rows = mirrored(target_db)
            return rows["AAA111"]["total_availability"] == 0 and bool(rows["BBB222"]["available"])

        wait_for(applied, 30, "the stock in the mirror")
        wait_for(lambda: len(feed.taken) == 2, 30, "two stock events")
        assert time.monotonic() - started < 20  # a few seconds, on a loaded machine
        assert {event["source"] for event in feed.taken} == {"webhook"}
        assert {event["webhook_event_id"] for event in feed.taken} == {"evt-1"}
        assert all(request["signed"] for request in feed.requests)
        assert serving.stop() == 0
    finally:
        if serving.process.poll() is None:
            serving.process.kill()
        feed.close()
    log = (tmp_path / "serve.log").read_text()
    assert "mirrored to" in log and PASSWORD not in log and NOTIFY_SECRET not in log
