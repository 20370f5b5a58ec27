"""A full sync whose two streams take as long as each other: neither hides the other's delays.

13 P&A batches 0.45 s apart and 600 details 0.01 s apart: about 6 s each. With
P&A far faster than details (``floor.py``) a late start of the details stream
or a held P&A result costs nothing while details have a backlog; here every
such delay shows in the wall time. Floor: max(⌈N/B⌉·60/R, N·d) plus one call's
latency. From the sandbox's request log: how long after the first P&A answer
the first details answer came, and how much slower than configured each
stream's calls were spaced.

    python benchmarks/two_streams.py [--sizes 600] [--batches 13] [--repeat 3]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    fresh_db,
    full_floor,
    median,
    median_of,
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
    p = parser("A full sync with P&A and details streams of the same length.", [600])
    p.set_defaults(pa_rate=60 / 0.45, details_interval=0.01, repeat=3)
    p.add_argument("--batches", type=int, default=13, help="P&A batches the products make")
    args = p.parse_args()
    print_settings(
        "two_streams: full sync, P&A and details streams of about the same length",
        {
            "P&A": f"{args.batches} batches, {60 / args.pa_rate:g} s apart",
            "details interval": f"{args.details_interval:g} s",
            "sandbox latency": f"{args.latency:g} s per answer",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            batch = math.ceil(size / args.batches)
            limits = (
                "--pa-rate", f"{args.pa_rate:.6g}",
                "--details-interval", str(args.details_interval),
                "--batch-size", str(batch),
            )  # fmt: skip
            walls, seen = [], []
            for _ in range(max(args.repeat, 1)):
                db = fresh_db(box, size, folder)
                box.reset()
                walls.append(run_sync(box.env(db), *limits).wall)
                seen.append(streams(box, 60 / args.pa_rate, args.details_interval))
            wall = median(walls)
            floor = full_floor(size, args.pa_rate, args.details_interval, args.latency, batch)
            rows.append(
                (
                    f"{size:,}",
                    f"{math.ceil(size / batch)} of {batch}",
                    wall,
                    floor,
                    f"{wall / floor:.3f}",
                    seconds(median_of([s.details_start for s in seen])),
                    percent(median_of([s.pa_spacing for s in seen])),
                    percent(median_of([s.details_spacing for s in seen])),
                )
            )
    headers = ("products", "P&A batches", "wall s", "floor s", "ratio", "details start s")
    print_table((*headers, "P&A spacing", "details spacing"), rows)


if __name__ == "__main__":
    main()
