"""Details latency above the details interval: one thread cannot keep the stream at its limit.

With answers taking L seconds and details allowed every d < L seconds, one
details thread sends a call every L seconds at best. ``--details-workers W``
threads share the one details limiter, so calls stay d apart while W answers
overlap; ⌈L/d⌉ + 1 workers should bring a full sync back to its floor. The
sandbox counts the most details calls it accepted in any window of
``--window`` seconds: at most window/d (+1 for arrival jitter) means spacing
held.

    python benchmarks/latency.py [--sizes 500] [--latency-factor 3] [--workers 1 4]
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
    parser,
    print_settings,
    print_table,
    run_sync,
    workdir,
)


def main() -> None:
    p = parser("Full syncs with details latency above the details interval.", [500])
    p.add_argument("--latency-factor", type=float, default=3.0, help="latency as a multiple of d")
    p.add_argument(
        "--workers", nargs="+", help="details workers to try, or auto [1, ⌈L/d⌉+1, auto]"
    )
    p.add_argument("--window", type=float, default=1.0, help="seconds of the spacing check")
    args = p.parse_args()
    d = args.details_interval
    latency = args.latency_factor * d
    workers = args.workers or [1, math.ceil(args.latency_factor) + 1, "auto"]
    allowed = args.window / d
    print_settings(
        "latency: details slower than their interval, 1 and more details workers",
        {
            "P&A rate": f"{args.pa_rate:g} calls/min ({60 / args.pa_rate:g} s apart)",
            "details interval": f"{d:g} s",
            "sandbox latency": f"{latency:g} s per answer ({args.latency_factor:g} x d)",
            "spacing check": f"at most {allowed:g} (+1 jitter) details calls per {args.window:g} s",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    box = Sandbox(catalog_size=max(args.sizes), latency=latency, rate_window=args.window)
    with workdir() as folder, box:
        for size in args.sizes:
            floor = full_floor(size, args.pa_rate, d, latency)
            for count in workers:
                limits = ("--pa-rate", str(args.pa_rate), "--details-interval", str(d))
                walls, peaks = [], []
                for _ in range(max(args.repeat, 1)):
                    db = fresh_db(box, size, folder)
                    box.reset()
                    walls.append(
                        run_sync(box.env(db), *limits, "--details-workers", str(count)).wall
                    )
                    peaks.append(box.stats()["max_calls_in_window"]["details"])
                wall, peak = median(walls), max(peaks)
                held = "yes" if peak <= allowed + 1 else "NO"
                rows.append((f"{size:,}", count, wall, floor, f"{wall / floor:.3f}", peak, held))
    headers = ("products", "details workers", "wall s", "floor s", "ratio")
    print_table((*headers, f"max details in {args.window:g} s", "spacing held"), rows)


if __name__ == "__main__":
    main()
