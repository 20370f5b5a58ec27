"""Bytes written per product by a full sync, and how the database grows with re-syncs.

The sync runs as the real command in its own process (the sandbox in another
one); its ``wchar`` is read from ``/proc/PID/io`` once it has exited: every byte
it handed to ``write`` and ``pwrite`` (the database, its write-ahead log, every
checkpoint, the last one included, which SQLite makes as the connection closes).

Two full syncs: one as fast as the sandbox answers, and one at the vendor's pace
(a P&A call and a details call a second) with time compressed ``--pace`` times:
the limits and the writer's own cadences (``WriterTiming``: the commit interval,
the counters' interval, the holds) divided alike, so results group as they would
in a real sync of 10,000 products, which takes 2.8 hours. Then ten routine
re-syncs, with no price change and with a tenth of the prices changed, show how
the file grows, and ``db prune`` what retention takes back.

    python benchmarks/write_volume.py [--sizes 10000] [--resyncs 10] [--pace 100]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    fresh_db,
    parser,
    print_settings,
    print_table,
    run_cli,
    workdir,
)

# The CLI, with the writer's own cadences divided by $PACE (the limits are options).
PACED = """
import os, sys
sys.argv[0] = "ingram-sync"
import dataclasses
from ingram.cli import app, main
pace = float(os.environ["PACE"])
built = app.build_options
def paced(*args, **kwargs):
    options = built(*args, **kwargs)
    return dataclasses.replace(options, timing=options.timing.scaled(1 / pace))
app.build_options = paced
main()
"""
FAST = ("--pa-rate", "60000", "--details-interval", "0", "--max-concurrent", "5")


def vendor_pace(pace: float) -> tuple[str, ...]:
    """The vendor's limits (60 P&A calls a minute, a details call a second), ``pace`` times."""
    return ("--pa-rate", f"{60 * pace:g}", "--details-interval", f"{1 / pace:g}")


def written_by_sync(env: dict[str, str], *args: str, pace: float = 1.0) -> int:
    """Bytes the ``ingram-sync -q sync ARGS`` process wrote (its ``wchar``, read at exit)."""
    paced = {**env, "PACE": str(pace)}
    timed = run_cli(paced, "-q", "sync", *args, command=(sys.executable, "-c", PACED))
    if timed.code != 0:
        raise RuntimeError(f"sync exited {timed.code}: {timed.stderr[-2000:]}")
    return timed.written


def database_bytes(db: Path) -> int:
    """The database's size with its write-ahead log folded in (as a backup would copy it)."""
    timed = run_cli({**os.environ, "INGRAM_SYNC_DB": str(db)}, "db", "check")
    if timed.code != 0:
        raise RuntimeError(timed.stderr)
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.suffix != ".lock")


def main() -> None:
    p = parser("Bytes written per product and growth over re-syncs.", [10000])
    p.add_argument("--resyncs", type=int, default=10)
    p.add_argument("--pace", type=float, default=100.0, help="the vendor's pace, this many times")
    args = p.parse_args()
    print_settings(
        "write_volume: bytes written by ingram-sync sync (wchar of its process)",
        {
            "sandbox latency": f"{args.latency:g} s",
            "vendor's pace compressed": f"{args.pace:g} times",
            "re-syncs": args.resyncs,
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            paced = fresh_db(box, size, folder, name="paced")
            written = written_by_sync(box.env(paced), *vendor_pace(args.pace), pace=args.pace)
            label = "full sync at the vendor's pace"
            rows.append((f"{size:,}", label, written / size / 1024, "", database_bytes(paced)))
            db = fresh_db(box, size, folder)
            written = written_by_sync(box.env(db), *FAST)
            rows.append(
                (f"{size:,}", "full sync, fast", written / size / 1024, "", database_bytes(db))
            )
            rows += resyncs(box, db, size, args.resyncs)
    print_table(("products", "run", "KB written per product", "growth", "db bytes"), rows)


def resyncs(box: Sandbox, db: Path, size: int, count: int) -> list[tuple[object, ...]]:
    """Growth over ``count`` re-syncs without and with price moves, then ``db prune``."""
    rows: list[tuple[object, ...]] = []
    for label, epoch_step in (("re-sync, no change", 0), ("re-sync, 10% prices", 1)):
        start = database_bytes(db)
        written = 0
        for n in range(count):
            if epoch_step:
                box.control("config", {"price_epoch": n + 1})  # a tenth of prices move
            written += written_by_sync(box.env(db), *FAST)
        end = database_bytes(db)
        growth = f"{(end - start) / start:+.1%}"
        rows.append((f"{size:,}", label, written / count / size / 1024, growth, end))
    pruned = run_cli(box.env(db), "db", "prune", "--older-than", "0")
    if pruned.code != 0:
        raise RuntimeError(f"db prune exited {pruned.code}: {pruned.stderr[-2000:]}")
    rows.append((f"{size:,}", "after db prune --older-than 0", "", "", database_bytes(db)))
    return rows


if __name__ == "__main__":
    main()
