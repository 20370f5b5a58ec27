"""The database's size after a year of routine runs: cron syncs, webhook pushes, retention.

A year is simulated, not waited for: each routine sync is a real sync (the library's
``run_sync`` against the sandbox, about a tenth of the products' price and stock moving
each time), and its history rows are then stamped with the time it would have run
(``--runs-per-day`` a day, ending now). Retention prunes by those times, as it would over a
year; runs older than ``keep_days`` (90) are pruned as the simulation goes, so its end is
the steady state. A year of Stock Update events (``--events-per-day``, each of
``--event-size`` part numbers) is applied first, stamped over the past year; their ids are
kept a year, their changes ``keep_days``.

Run: python benchmarks/database_year.py [--products 10000] [--days 95] [--runs-per-day 6]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import print_settings, print_table  # noqa: E402

from ingram.api.client import IngramClient  # noqa: E402
from ingram.clock import format_time  # noqa: E402
from ingram.models import ClientSettings, StockEvent, StockResource  # noqa: E402
from ingram.sandbox import SandboxServer, SandboxSettings  # noqa: E402
from ingram.state.products import add_products  # noqa: E402
from ingram.state.saving import DetailsPolicy  # noqa: E402
from ingram.state.store import Store  # noqa: E402
from ingram.state.webhook import save_stock_event  # noqa: E402
from ingram.sync import NoProgress, SyncOptions, run_sync  # noqa: E402


def client(url: str) -> IngramClient:
    return IngramClient(
        ClientSettings(
            client_id="sandbox-client",
            client_secret="sandbox-secret",
            customer_number="20-222222",
            base_url=url,
            pa_rate=0.0,
            details_interval=0.0,
            search_rate=0.0,
            pa_retry_waits=(0.01,),
            details_retry_waits=(0.01,),
        )
    )


def stamp(moment: datetime) -> str:
    return format_time(moment)


def push_a_year(store: Store, pns: list[str], per_day: int, size: int, now: datetime) -> int:
    """A year of events, oldest first, applied as the receiver's writer applies them."""
    count = per_day * 366
    for number in range(count):
        when = now - timedelta(days=366) + timedelta(days=366) * number / count
        start = (number * size) % len(pns)
        chosen = [pns[(start + k) % len(pns)] for k in range(size)]
        resources = tuple(StockResource(pn, (number + k) % 97) for k, pn in enumerate(chosen))
        event = StockEvent(f"EV{number:08d}", stamp(when), resources)
        save_stock_event(store, event, stamp(when))
        with store.write() as db:  # applied when it came, not now
            db.execute(
                "UPDATE webhook_events SET applied_at = ? WHERE event_id = ?",
                (stamp(when), event.event_id),
            )
    return count


def restamp_run(store: Store, run_id: int, when: datetime) -> None:
    """The run's rows as if it had run at ``when``."""
    text = stamp(when)
    with store.write() as db:
        db.execute(
            "UPDATE runs SET started_at = ?, finished_at = ? WHERE id = ?", (text, text, run_id)
        )
        db.execute("UPDATE changes SET changed_at = ? WHERE run_id = ?", (text, run_id))
        db.execute("UPDATE failures SET failed_at = ? WHERE run_id = ?", (text, run_id))
        db.execute("UPDATE failures SET resolved_at = ? WHERE resolved_by_run = ?", (text, run_id))


def file_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def table_sizes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT COALESCE(m.tbl_name, s.name), SUM(s.pgsize) FROM dbstat s"
            " LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--days", type=float, default=95.0, help="days of syncs (past keep_days)")
    parser.add_argument("--runs-per-day", type=int, default=6, help="cron: 6 is every 4 hours")
    parser.add_argument("--events-per-day", type=int, default=96, help="Ingram: every 15 min")
    parser.add_argument("--event-size", type=int, default=50, help="part numbers an event")
    parser.add_argument("--keep-days", type=float, default=90.0)
    args = parser.parse_args()
    runs = int(args.days * args.runs_per_day)
    print_settings(
        "Database size after a year of routine runs",
        {
            "products": args.products,
            "routine syncs": f"{runs} ({args.runs_per_day} a day for {args.days:g} days)",
            "webhook events": f"{args.events_per_day} a day for a year, {args.event_size} each",
            "keep_days": args.keep_days,
        },
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        SandboxServer(
            SandboxSettings(port=0, catalog_size=args.products, not_found_details_ratio=0.05)
        ) as sandbox,
    ):
        db = Path(folder) / "catalog.db"
        store = Store.open(db)
        pns = sandbox.catalog.part_numbers(args.products)
        add_products(store, pns)
        now = datetime.now(UTC)
        first = run_sync(store, client(sandbox.url), SyncOptions(keep_days=0), NoProgress())
        restamp_run(store, int(first.run_id or 0), now - timedelta(days=args.days + 1))
        after_first = file_size(db)
        started = time.monotonic()
        events = push_a_year(store, pns, args.events_per_day, args.event_size, now)
        options = SyncOptions(
            details=DetailsPolicy(max_age=400 * 86400.0), keep_days=args.keep_days
        )
        sizes = []
        for number in range(runs):
            sandbox.reconfigure(price_epoch=number + 1)  # a tenth of the catalog moves
            summary = run_sync(store, client(sandbox.url), options, NoProgress())
            when = now - timedelta(days=args.days) * (runs - 1 - number) / runs
            restamp_run(store, int(summary.run_id or 0), when)
            if (number + 1) % max(1, runs // 4) == 0:
                sizes.append((number + 1, file_size(db)))
        took = time.monotonic() - started
        store.close()
        final = file_size(db)
        tables = table_sizes(db)
    rows = [["after the first sync", f"{after_first / 1e6:.1f}", "", ""]]
    rows += [[f"after {n} routine syncs", f"{size / 1e6:.1f}", "", ""] for n, size in sizes]
    rows.append(
        [
            "a year on (steady state)",
            f"{final / 1e6:.1f}",
            f"{final / args.products / 1024:.2f}",
            f"{tables.get('tasks', 0) / 1e6:.2f}",
        ]
    )
    print_table(["database", "MB", "KB per product", "tasks MB"], rows)
    biggest = sorted(tables.items(), key=lambda item: -item[1])[:6]
    print("largest tables (MB): " + ", ".join(f"{name} {size / 1e6:.1f}" for name, size in biggest))
    print(f"{events} webhook events and {runs} syncs simulated in {took:.0f} s")


if __name__ == "__main__":
    main()
