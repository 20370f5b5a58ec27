"""``ingram-sync`` against the original, sequential design, on the same sandbox and limits.

The baseline is the design ingram-sync replaced: one P&A batch at a time,
then every product's details one at a time, with plain ``requests`` and the
same rate limits (calls spaced by the same intervals). It kept no record of
when details were fetched, so every run of it fetches every product's details:
its routine run is its full run. Both write their results to SQLite.

    python benchmarks/versus_sequential.py [--sizes 1000] [--repeat 1]
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    BATCH,
    Sandbox,
    fresh_db,
    median,
    parser,
    print_settings,
    print_table,
    run_sync,
    workdir,
)

HEADERS = {"IM-CustomerNumber": "20-222222", "IM-CountryCode": "US"}
PA_QUERY = dict.fromkeys(
    ("includeAvailability", "includePricing", "includeProductAttributes"), "true"
)
PA_PATH = "/resellers/v6/catalog/priceandavailability"
DETAILS_PATH = "/resellers/v6/catalog/details/"


class Spacer:
    """At most one call per ``interval`` seconds, as the original's sleep between calls."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = float("-inf")

    def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.last = time.monotonic()


def sequential_sync(url: str, part_numbers: list[str], pa_rate: float, interval: float) -> float:
    """The original design, start to end; returns its wall time in seconds."""
    started = time.perf_counter()
    session = requests.Session()
    token = session.post(
        url + "/oauth/oauth20/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=30,
    ).json()["access_token"]
    session.headers.update(HEADERS | {"Authorization": f"Bearer {token}"})
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE products (pn TEXT PRIMARY KEY, pa TEXT, details TEXT)")
    pa_spacer, details_spacer = Spacer(60.0 / pa_rate), Spacer(interval)
    for start in range(0, len(part_numbers), BATCH):
        batch = part_numbers[start : start + BATCH]
        pa_spacer.wait()
        answer = session.post(
            url + PA_PATH,
            params=PA_QUERY,
            json={"products": [{"ingramPartNumber": pn} for pn in batch]},
            headers={"IM-CorrelationID": uuid.uuid4().hex},
            timeout=30,
        )
        answer.raise_for_status()
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO products (pn, pa) VALUES (?, ?)",
                [(item["ingramPartNumber"], json.dumps(item)) for item in answer.json()],
            )
    for pn in part_numbers:
        details_spacer.wait()
        answer = session.get(
            url + DETAILS_PATH + pn, headers={"IM-CorrelationID": uuid.uuid4().hex}, timeout=30
        )
        if answer.status_code != 404:  # 404: the product has no details
            answer.raise_for_status()
        with db:
            db.execute("UPDATE products SET details = ? WHERE pn = ?", (answer.text, pn))
    return time.perf_counter() - started


def main() -> None:
    p = parser("ingram-sync against a sequential baseline (the original design).", [1000])
    args = p.parse_args()
    limits = ("--pa-rate", str(args.pa_rate), "--details-interval", str(args.details_interval))
    print_settings(
        "versus_sequential: ingram-sync against one-call-at-a-time, P&A then details",
        {
            "P&A rate": f"{args.pa_rate:g} calls/min ({60 / args.pa_rate:g} s apart)",
            "details interval": f"{args.details_interval:g} s",
            "sandbox latency": f"{args.latency:g} s per answer",
            "baseline": "every run fetches P&A then every product's details (no freshness)",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            pns = box.part_numbers(size)
            base, full, routine = [], [], []
            for _ in range(max(args.repeat, 1)):
                base.append(sequential_sync(box.url, pns, args.pa_rate, args.details_interval))
                db = fresh_db(box, size, folder)
                full.append(run_sync(box.env(db), *limits).wall)
                routine.append(run_sync(box.env(db), *limits).wall)
            baseline = median(base)
            for kind, walls in (("full", full), ("routine", routine)):
                ours = median(walls)
                rows.append((f"{size:,}", kind, baseline, ours, f"{baseline / ours:.1f}x"))
    print_table(("products", "sync", "sequential s", "ingram-sync s", "speed-up"), rows)


if __name__ == "__main__":
    main()
