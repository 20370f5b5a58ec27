"""How fast the Stock Update receiver acknowledges events, and how soon they are applied.

``ingram-sync webhook serve`` runs in its own process (waitress), the sandbox in
another; this script POSTs signed events of ``--resources`` part numbers at
``--rate`` a second for ``--seconds``, in three situations: an idle database,
during a real ``sync`` of the same database, and while another program holds
the database's write lock (released when the posting ends). It reports the
acknowledgement time per event (median, 99th percentile, largest) and how long
after the last acknowledgement every event was applied.

    python benchmarks/webhook_intake.py [--rate 100] [--seconds 5] [--resources 5]
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    CLI,
    Sandbox,
    fresh_db,
    parser,
    print_settings,
    print_table,
)
from common import workdir as scratch  # noqa: E402

from ingram.webhook import signature_of  # noqa: E402

SECRET = "benchmark-webhook-secret"
SENDERS = 4


@contextmanager
def receiver(env: dict[str, str], log: Path) -> Any:
    """``webhook serve --port 0`` in its own process; yields its URL."""
    with log.open("w") as err:
        process = subprocess.Popen(
            [*CLI, "webhook", "serve", "--port", "0"],
            env={**env, "INGRAM_WEBHOOK_SECRET": SECRET},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while "Receiving" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"webhook serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        line = next(x for x in log.read_text().splitlines() if x.startswith("Receiving"))
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def post(url: str, event_id: str, pns: list[str]) -> float:
    """Seconds until the 200 of one signed event."""
    when = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "topic": "resellers/catalog",
        "event": "im::updated",
        "eventId": event_id,
        "eventTimeStamp": when,
        "resource": [
            {"eventType": "IM::STOCK_UPDATE", "ingramPartNumber": pn, "totalAvailability": "7"}
            for pn in pns
        ],
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "x-hub-signature": signature_of(SECRET, event_id),
        },
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        if answer.status != 200:
            raise RuntimeError(f"event {event_id} answered {answer.status}")
    return time.perf_counter() - started


def send(url: str, tag: str, pns: list[str], rate: float, seconds: float, size: int) -> list[float]:
    """POST ``rate`` events a second for ``seconds`` from ``SENDERS`` threads; the ack times."""
    total = int(rate * seconds)
    times: list[float] = []
    start = time.monotonic()

    def sender(offset: int) -> None:
        for number in range(offset, total, SENDERS):
            time.sleep(max(0.0, start + number / rate - time.monotonic()))
            chosen = [pns[(number * size + i) % len(pns)] for i in range(size)]
            times.append(post(url, f"{tag}-{number}", chosen))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def applied_after(db: Path, expected: int, since: float) -> float:
    """Seconds from ``since`` until ``expected`` events are in the database."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        while conn.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0] < expected:
            time.sleep(0.01)
    finally:
        conn.close()
    return time.monotonic() - since


def scenario(name: str, box: Sandbox, db: Path, url: str, args: Any, done: int) -> tuple:
    """Run one situation; return its table row."""
    pns = box.part_numbers(args.products)
    sync = holder = None
    if name == "during a sync":
        pace = ("--no-details", "--pa-rate", "600", "--batch-size", "10")
        sync = subprocess.Popen([*CLI, "-q", "sync", *pace], env=box.env(db))
    if name == "write lock held":
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    times = send(url, name.replace(" ", "-"), pns, args.rate, args.seconds, args.resources)
    finished = time.monotonic()
    if holder is not None:
        holder.execute("ROLLBACK")
        holder.close()
    applied = applied_after(db, done + len(times), finished)
    if sync is not None:
        sync.wait(timeout=300)
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (name, len(times), statistics.median(ms), p99, ms[-1], applied)


def main() -> None:
    p = parser("Stock Update receiver: acknowledgement and apply times.", [2000])
    p.add_argument("--rate", type=float, default=100.0, help="events a second")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of posting per situation")
    p.add_argument("--resources", type=int, default=5, help="part numbers per event")
    args = p.parse_args()
    args.products = args.sizes[0]
    print_settings(
        "webhook intake: webhook serve (waitress) in its own process",
        {
            "events": f"{args.rate:g}/s for {args.seconds:g} s, {args.resources} resources each,"
            f" {SENDERS} sending threads",
            "catalog": f"{args.products:,} tracked products",
            "sync during posting": "--no-details --pa-rate 600 --batch-size 10",
        },
    )
    rows = []
    with scratch() as folder, Sandbox(catalog_size=args.products, latency=args.latency) as box:
        db = fresh_db(box, args.products, folder)
        with receiver(box.env(db), folder / "serve.log") as url:
            for name in ("idle database", "during a sync", "write lock held"):
                rows.append(scenario(name, box, db, url, args, sum(row[1] for row in rows)))
    print_table(
        ("situation", "events", "ack median ms", "ack p99 ms", "ack max ms", "all applied s"),
        rows,
    )


if __name__ == "__main__":
    main()
