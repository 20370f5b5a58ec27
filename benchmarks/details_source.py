"""First sync of new products: details from the details endpoint, or basics from catalog search.

``sync --details-source search`` (an experiment) asks catalog search by the
``vendorPartNumber`` array for each P&A batch's products instead of one details
call each, and falls back to details calls for the products search leaves out
(in the sandbox: those without a details record, about 5%). Both runs use the
vendor's documented limits by default: 60 calls a minute per endpoint
(details 1.0 s apart, search at the client's 60 a minute, P&A 60 a minute).
The sandbox counts the calls each run made.

    python benchmarks/details_source.py [--sizes 200] [--details-interval 1.0] [--pa-rate 60]
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

SOURCES = ("details", "search")


def main() -> None:
    p = parser("First syncs of new products: details endpoint versus catalog search.", [200])
    p.set_defaults(pa_rate=60.0, details_interval=1.0)
    args = p.parse_args()
    print_settings(
        "details source: one details call per product, or one search per P&A batch",
        {
            "P&A rate": f"{args.pa_rate:g} calls/min",
            "details interval": f"{args.details_interval:g} s",
            "search rate": "60 calls/min (the client's default, the vendor's documented limit)",
            "sandbox latency": f"{args.latency:g} s per answer",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            walls: dict[str, float] = {}
            for source in SOURCES:
                runs, calls = [], {}
                for _ in range(max(args.repeat, 1)):
                    db = fresh_db(box, size, folder)
                    box.reset()
                    limits = ("--pa-rate", str(args.pa_rate))
                    limits += ("--details-interval", str(args.details_interval))
                    runs.append(run_sync(box.env(db), *limits, "--details-source", source).wall)
                    calls = box.stats()["calls"]
                walls[source] = median(runs)
                rows.append(
                    (
                        f"{size:,}",
                        source,
                        calls.get("price_and_availability", 0),
                        calls.get("details", 0),
                        calls.get("search", 0),
                        walls[source],
                        f"{walls[source] / walls['details']:.3f}",
                    )
                )
    headers = ("products", "source", "P&A calls", "details calls", "search calls", "wall s")
    print_table((*headers, "wall / details"), rows)


if __name__ == "__main__":
    main()
