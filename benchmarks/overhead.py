"""What ingram-sync itself costs when the vendor costs nothing: no latency, no limits.

P&A only (``--no-details``), a P&A rate so high it never waits: products per
second, CPU seconds of the sync process per 1,000 products, and its peak RSS.
The sandbox runs in another process; its CPU time is not counted but it
shares the machine's cores. Peak RSS should not grow with the catalog: the
engine keeps a bounded number of tasks and futures in memory.

    python benchmarks/overhead.py [--sizes 10000 100000] [--repeat 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    fresh_db,
    median,
    parser,
    print_settings,
    print_table,
    run_sync,
    workdir,
)

UNLIMITED = "1e9"  # calls a minute: the limiter never waits


def main() -> None:
    p = parser("ingram-sync's own cost per product, with a free and instant API.", [10000, 100000])
    p.add_argument("--max-concurrent", type=int, default=5)
    args = p.parse_args()
    options = ("--pa-rate", UNLIMITED, "--no-details", "--max-concurrent", str(args.max_concurrent))
    print_settings(
        "overhead: P&A only, no latency, no rate limits",
        {
            "sync options": " ".join(options),
            "sandbox latency": "0 s",
            "repeats": f"{args.repeat} (median shown; peak RSS is the largest)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=0) as box:
        for size in args.sizes:
            runs = []
            for _ in range(max(args.repeat, 1)):
                db = fresh_db(box, size, folder)
                runs.append(run_sync(box.env(db), *options))
            wall = median([run.wall for run in runs])
            cpu = median([run.cpu for run in runs])
            peak = max(run.peak_rss_mb for run in runs)
            rows.append((f"{size:,}", wall, size / wall, cpu * 1000 / size, peak))
    print_table(("products", "wall s", "products/s", "CPU s per 1,000", "peak RSS MB"), rows)


if __name__ == "__main__":
    main()
