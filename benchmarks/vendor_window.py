"""A sync configured far faster than the vendor allows, against its fixed-window limit.

The realistic sandbox refuses P&A past ``--limit`` calls a window of
``--window`` seconds (a 429 until the window ends) and sends
``X-RateLimit-*`` on every answer. The sync asks for 100 times that rate; the
client must follow the headers: at most 2 429s per endpoint per run, and the
P&A stream within 1.25x of the window floor (calls ÷ limit × window).

    python benchmarks/vendor_window.py [--calls 60] [--limit 10] [--window 1.0]
"""

from __future__ import annotations

import json
import subprocess
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


def main() -> None:
    p = parser("P&A configured 100x faster than the vendor's fixed window allows.", [300])
    p.add_argument("--calls", type=int, nargs="+", default=[30, 60], help="P&A calls per run")
    p.add_argument("--limit", type=int, default=10, help="vendor's calls per window")
    p.add_argument("--window", type=float, default=1.0, help="vendor's window in seconds")
    args = p.parse_args()
    asked = 100 * args.limit * 60 / args.window
    print_settings(
        "vendor_window: a run far faster than the vendor allows follows its headers",
        {
            "vendor limit": f"{args.limit} P&A calls per {args.window:g} s window (fixed)",
            "configured": f"--pa-rate {asked:g} calls/min (100x), --max-concurrent 5",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    box = Sandbox(
        catalog_size=max(args.calls) * 5,
        realistic=True,
        pa_rate_limit=args.limit,
        rate_window=args.window,
        latency=args.latency,
    )
    with workdir() as folder, box:
        for calls in args.calls:
            floor = calls / args.limit * args.window
            streams, walls, refused = [], [], []
            for _ in range(max(args.repeat, 1)):
                db = fresh_db(box, calls * 5, folder)
                box.reset()
                limits = ("--pa-rate", f"{asked:g}", "--batch-size", "5", "--no-details")
                walls.append(run_sync(box.env(db), *limits).wall)
                refused.append(box.stats()["rate_limited"]["price_and_availability"])
                streams.append(stream_seconds(box.env(db)))
            stream = median(streams)
            rows.append(
                (calls, max(refused), median(walls), stream, floor, f"{stream / floor:.3f}")
            )
    print_table(("P&A calls", "429s (max)", "wall s", "P&A stream s", "floor s", "ratio"), rows)


def stream_seconds(env: dict[str, str]) -> float:
    """The P&A stream's own span from ``runs show`` (process start-up left out)."""
    out = subprocess.run(
        [sys.executable, "-m", "ingram", "runs", "show", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [run] = json.loads(out)
    return float(run["streams"]["price_availability"]["seconds"])


if __name__ == "__main__":
    main()
