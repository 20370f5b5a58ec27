"""``export --target woocommerce --full``: rows a second and peak memory, by catalog size.

A catalog is synced first (P&A only, not timed) from the sandbox in its own
process; then the real command writes the whole WooCommerce file with price and
stock rules applied, and once more as a delta with nothing changed (0 rows). The
whole command is timed as a user runs it, start-up included. Peak RSS should not
grow with the catalog: the export streams its rows and stages what it published
in a temporary table, never a list of all rows.

    python benchmarks/export_targets.py [--sizes 10000 100000] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    Timed,
    fresh_db,
    median,
    parser,
    print_settings,
    print_table,
    run_cli,
    run_sync,
    workdir,
)

RULES = """
[pricing]
markup = 20
ending = "0.99"
cap_at_retail = true
map_floor = true
min_margin = 5

[[pricing.rules]]
vendor = "Cisco"
markup = 12

[[pricing.rules]]
category = "Displays"
margin = 18

[stock]
buffer = 2
min_stock = 3
"""


def export(env: dict[str, str], out: Path, *args: str) -> tuple[Timed, int]:
    """One ``export --target woocommerce`` run and the rows it wrote."""
    timed = run_cli(env, "-q", "export", "--target", "woocommerce", *args, "-o", str(out))
    if timed.code != 0:
        raise RuntimeError(f"export exited {timed.code}: {timed.stderr[-2000:]}")
    with out.open(encoding="utf-8", newline="") as rows:
        return timed, sum(1 for _ in rows) - 1


def main() -> None:
    p = parser("Shop export speed and memory: export --target woocommerce --full.", [10000, 100000])
    p.set_defaults(repeat=3)
    args = p.parse_args()
    print_settings(
        "export_targets: export --target woocommerce (--full, then a delta with no change)",
        {
            "rules": "markup 20 %, ending 0.99, cap at retail, MAP floor, min margin 5 %,"
            " a vendor rule and a category rule; stock buffer 2, minimum 3",
            "catalog": "synced from the sandbox, P&A only (not timed)",
            "repeats": f"{args.repeat} (median shown; peak RSS is the largest)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=0) as box:
        config = folder / "rules.toml"
        config.write_text(RULES, encoding="utf-8")
        for size in args.sizes:
            db = fresh_db(box, size, folder)
            run_sync(box.env(db), "--pa-rate", "1e9", "--no-details")
            env = {**box.env(db), "INGRAM_SYNC_CONFIG": str(config)}
            runs = [export(env, folder / "woo.csv", "--full") for _ in range(max(args.repeat, 1))]
            wall = median([timed.wall for timed, _ in runs])
            written = runs[0][1]
            peak = max(timed.peak_rss_mb for timed, _ in runs)
            cpu = median([timed.cpu for timed, _ in runs])
            rows.append(
                (f"{size:,}", "full", written, wall, written / wall, cpu, written / cpu, peak)
            )
            delta, unchanged = export(env, folder / "delta.csv")
            rows.append(
                (
                    f"{size:,}",
                    "delta",
                    unchanged,
                    delta.wall,
                    "-",
                    delta.cpu,
                    "-",
                    delta.peak_rss_mb,
                )
            )
    # rows per CPU second beside rows per second: on a shared machine the wall clock also
    # counts the time other processes had the cores
    print_table(
        ("products", "export", "rows", "wall s", "rows/s", "CPU s", "rows/CPU s", "peak RSS MB"),
        rows,
    )


if __name__ == "__main__":
    main()
