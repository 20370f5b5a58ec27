"""How long a one-product sync takes end to end: process start, token, one P&A call, one
details call, the writes, exit. This is what ``ingram-sync sync --sku X`` costs a user.

    python benchmarks/startup.py [--repeat 9]
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


def main() -> None:
    p = parser("Wall time of a one-product sync, start-up included.", [1])
    p.set_defaults(repeat=9, latency=0.0)
    args = p.parse_args()
    options = ("--pa-rate", "1e9", "--details-interval", "0", "--refresh-details")
    print_settings(
        "startup: one product, P&A and details, fresh process each run",
        {
            "sync options": " ".join(options),
            "sandbox latency": f"{args.latency:g} s",
            "repeats": f"{args.repeat} (median shown, with the fastest and slowest)",
        },
    )
    with workdir() as folder, Sandbox(catalog_size=10, latency=args.latency) as box:
        db = fresh_db(box, 1, folder)
        walls = sorted(run_sync(box.env(db), *options).wall for _ in range(max(args.repeat, 1)))
    print_table(
        ("products", "median wall s", "fastest s", "slowest s"),
        [(1, median(walls), walls[0], walls[-1])],
    )


if __name__ == "__main__":
    main()
