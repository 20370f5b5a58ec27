"""CPU per product of a full sync with the limits lifted, against the naive sequential script.

Both run as processes of their own against the same sandbox (no latency, no
rate limits): ``ingram-sync sync`` (P&A through its pool, every product's
details through its details thread, SQLite file) and the naive script of
``versus_sequential.py`` (one call at a time, plain ``requests``, SQLite in
memory). Their CPU seconds (user + system, from ``wait4``) are divided by the
products synced. Runs alternate, naive then ingram-sync, so both meet the same
load; the median of the repeats is shown. The per-size rows include each
process's start-up; the "marginal" row (the difference between the largest and
smallest size) is the cost of one more product, start-up left out.

    python benchmarks/cpu_per_product.py [--sizes 1000 3000] [--repeat 3]
"""

from __future__ import annotations

import os
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
    run_cli,
    run_sync,
    workdir,
)

LIFTED = ("--pa-rate", "1e9", "--details-interval", "0")
# The naive script in a process of its own, so that its CPU is measured as ingram-sync's is.
NAIVE = """
import sys
sys.path.insert(0, {folder!r})
from versus_sequential import sequential_sync
sequential_sync(sys.argv[1], sys.stdin.read().split(), 1e9, 0.0)
"""


def naive_cpu(box: Sandbox, part_numbers: list[str]) -> float:
    """CPU seconds of the naive script syncing ``part_numbers`` (P&A, then every details)."""
    command = (sys.executable, "-c", NAIVE.format(folder=str(Path(__file__).resolve().parent)))
    timed = run_cli(dict(os.environ), box.url, stdin="\n".join(part_numbers), command=command)
    if timed.code != 0:
        raise RuntimeError(f"the naive script exited {timed.code}: {timed.stderr[-2000:]}")
    return timed.cpu


def main() -> None:
    p = parser("CPU per product with the limits lifted: ingram-sync and the naive script.", [])
    p.set_defaults(sizes=[1000, 3000], repeat=3, latency=0.0)
    args = p.parse_args()
    sizes = sorted(set(args.sizes))
    print_settings(
        "cpu_per_product: full sync, limits lifted, CPU of each process per product",
        {
            "ingram-sync": "sync " + " ".join(LIFTED) + " (details for every product)",
            "naive": "versus_sequential.py's script: P&A one batch at a time, then every details",
            "sandbox latency": f"{args.latency:g} s",
            "repeats": f"{args.repeat} (median shown; runs alternate naive, ingram-sync)",
        },
    )
    cpu: dict[tuple[str, int], list[float]] = {}
    with workdir() as folder, Sandbox(catalog_size=max(sizes), latency=args.latency) as box:
        for _ in range(max(args.repeat, 1)):
            for size in sizes:
                cpu.setdefault(("naive", size), []).append(naive_cpu(box, box.part_numbers(size)))
                db = fresh_db(box, size, folder)
                cpu.setdefault(("ours", size), []).append(run_sync(box.env(db), *LIFTED).cpu)
    rows = []
    for size in sizes:
        naive, ours = median(cpu[("naive", size)]), median(cpu[("ours", size)])
        rows.append((f"{size:,}", naive * 1000 / size, ours * 1000 / size, f"{ours / naive:.2f}"))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        naive, ours = (
            (median(cpu[(who, large)]) - median(cpu[(who, small)])) * 1000 / (large - small)
            for who in ("naive", "ours")
        )
        rows.append((f"marginal {small:,}..{large:,}", naive, ours, f"{ours / naive:.2f}"))
    print_table(("products", "naive ms/product", "ingram-sync ms/product", "ratio"), rows)


if __name__ == "__main__":
    main()
