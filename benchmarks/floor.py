"""How close a sync runs to the floor its rate limits set.

A full sync (every product's details missing) cannot end before
max(⌈N/50⌉·60/R, N·d) plus one call's latency; a routine sync (details fresh)
not before ⌈N/50⌉·60/R. This runs both against a sandbox in another process
and prints wall time (of the ``ingram-sync sync`` process, start-up included),
floor and their ratio. From the sandbox's request log, where the time goes:
how long after the first P&A answer the first details answer came, and how
much slower than configured each stream's calls were spaced.

    python benchmarks/floor.py [--sizes 1000 5000] [--repeat 1] [--pa-rate 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    Streams,
    fresh_db,
    full_floor,
    median,
    median_of,
    pa_floor,
    parser,
    percent,
    print_settings,
    print_table,
    run_sync,
    seconds,
    streams,
    workdir,
)


def main() -> None:
    p = parser("Full and routine syncs measured against the rate-limit floor.", [1000, 5000])
    p.add_argument("--max-concurrent", type=int, default=5)
    args = p.parse_args()
    limits = (
        "--pa-rate", str(args.pa_rate),
        "--details-interval", str(args.details_interval),
        "--max-concurrent", str(args.max_concurrent),
    )  # fmt: skip
    print_settings(
        "floor: ingram-sync sync against the rate-limit floor",
        {
            "P&A rate": f"{args.pa_rate:g} calls/min ({60 / args.pa_rate:g} s apart)",
            "details interval": f"{args.details_interval:g} s",
            "sandbox latency": f"{args.latency:g} s per answer",
            "max concurrent P&A": args.max_concurrent,
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    intervals = (60 / args.pa_rate, args.details_interval)
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            runs: dict[str, list[tuple[float, Streams]]] = {"full": [], "routine": []}
            for _ in range(max(args.repeat, 1)):
                db = fresh_db(box, size, folder)
                for kind in ("full", "routine"):
                    box.reset()
                    wall = run_sync(box.env(db), *limits).wall
                    runs[kind].append((wall, streams(box, *intervals)))
            floors = {
                "full": full_floor(size, args.pa_rate, args.details_interval, args.latency),
                "routine": pa_floor(size, args.pa_rate),
            }
            for kind, measured in runs.items():
                rows.append((f"{size:,}", kind, *figures(measured, floors[kind])))
    print_table(HEADERS, rows)


HEADERS = (
    "products",
    "sync",
    "wall s",
    "floor s",
    "ratio",
    "details start s",
    "P&A spacing",
    "details spacing",
)


def figures(runs: list[tuple[float, Streams]], floor: float) -> tuple[object, ...]:
    """Medians of the runs: wall, floor, ratio, details start and each stream's spacing."""
    wall = median([run[0] for run in runs])
    return (
        wall,
        floor,
        f"{wall / floor:.3f}",
        seconds(median_of([run[1].details_start for run in runs])),
        percent(median_of([run[1].pa_spacing for run in runs])),
        percent(median_of([run[1].details_spacing for run in runs])),
    )


if __name__ == "__main__":
    main()
