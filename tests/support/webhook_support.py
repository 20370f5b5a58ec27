"""Helpers of the webhook tests: build Ingram-shaped Stock Update events and POST them signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from ingram.state.products import add_products
from ingram.state.store import Store
from support.clirunner import isolated_env
from support.processes import start

SECRET = "test-webhook-secret-Zq9"


def hours_ago(hours: float) -> str:
    """A time ``hours`` before now, as the receiver stores times: events are bounded by their
    receipt (more than a day away is refused), so tests stamp them relative to now."""
    moment = datetime.now(UTC) - timedelta(hours=hours)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


SYNCED_AT = hours_ago(6)


def ingram_signature(secret: str, event_id: str) -> str:
    """Written from Ingram's portal page (Java sample), independently of the receiver's code."""
    mac = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


def stock_event(
    event_id: str, when: str, stock: dict[str, int | str | None], **resource_fields: Any
) -> dict[str, Any]:
    """A body like the spec's example: one resource per part number, stock as a string."""
    return {
        "topic": "resellers/catalog",
        "event": "im::updated",
        "eventTimeStamp": when,
        "eventId": event_id,
        "resource": [
            {
                "eventType": "IM::STOCK_UPDATE",
                "ingramPartNumber": pn,
                "vendorPartNumber": f"VP-{pn}",
                "vendorName": "BATTERY TECHNOLOGY INC.",
                "upcCode": "0886734869201",
                "skuStatus": resource_fields.get("skuStatus"),
                "backOrderFlag": resource_fields.get("backOrderFlag", "Y"),
                "totalAvailability": None if total is None else str(total),
                "links": [
                    {"topic": "orders", "href": f"/resellers/v5/catalog/{pn}", "type": "GET"}
                ],
            }
            for pn, total in stock.items()
        ],
    }


def post(
    url: str,
    body: dict[str, Any] | bytes,
    *,
    secret: str | None = SECRET,
    signature: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST an event, signed with ``secret`` over its eventId unless ``signature`` is given."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is None and secret is not None and isinstance(body, dict):
        signature = ingram_signature(secret, str(body["eventId"]))
    if signature is not None:
        headers["x-hub-signature"] = signature
    return (session or requests).post(url, data=data, headers=headers, timeout=timeout)


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def query(db: Path, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    finally:
        conn.close()


def stock_of(db: Path, pn: str) -> sqlite3.Row:
    rows = query(
        db,
        "SELECT total_availability, available, sku_status, back_order_flag, stock_pushed_at,"
        " pa_synced_at FROM products WHERE ingram_part_number = ?",
        (pn,),
    )
    return rows[0]


def applied_events(db: Path) -> int:
    return query(db, "SELECT COUNT(*) FROM webhook_events")[0][0]


def track(db: Path, stock: dict[str, int], synced_at: str | None = SYNCED_AT) -> None:
    """Track part numbers as if a sync had priced them at ``synced_at`` with ``stock``."""
    store = Store.open(db)
    add_products(store, stock)
    with store.write() as conn:
        conn.executemany(
            "UPDATE products SET status = 'active', total_availability = ?, available = ?,"
            " pa_synced_at = ? WHERE ingram_part_number = ?",
            [(total, int(total > 0), synced_at, pn) for pn, total in stock.items()],
        )
    store.close()


LATER = hours_ago(1)


def serve_env(db: Path, **extra: str) -> dict[str, str]:
    return isolated_env(db.parent, INGRAM_SYNC_DB=str(db), **extra)


class Serving:
    """One ``webhook serve`` process on a free port; stderr goes to a file read for its URL."""

    def __init__(self, db: Path, log: Path, **env: str) -> None:
        self.log = log
        with log.open("ab") as err:
            self.process = start(
                [sys.executable, "-m", "ingram", "webhook", "serve", "--port", "0"],
                env=serve_env(db, INGRAM_WEBHOOK_SECRET=SECRET, **env),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.url = wait_for(self.announced_url, timeout=30, what="webhook serve listening")

    def announced_url(self) -> str | None:
        assert self.process.poll() is None, self.log.read_text()
        for line in self.log.read_text().splitlines():
            if line.startswith("Receiving Stock Update events on "):
                url = line.split(" on ", 1)[1].split()[0]
                if str(self.process.pid) in line:
                    return url
        return None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)
