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

CPU seconds on a shared, loaded machine move by 30 % from run to run;
``--instructions`` counts each process's instructions under valgrind's
callgrind instead (user space only, the same count whatever else the machine
does; about 50 times slower, so use small sizes: 100 and 300).

    python benchmarks/cpu_per_product.py [--sizes 1000 3000] [--repeat 3] [--instructions]
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
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


class Meter:
    """Runs a process and says what it cost: CPU seconds, or instructions under callgrind."""

    def __init__(self, instructions: bool, folder: Path) -> None:
        self.instructions = instructions
        self.folder = folder

    def cost(
        self, env: dict[str, str], args: Sequence[str], command: Sequence[str], **kw: str
    ) -> float:
        if not self.instructions:
            timed = run_cli(env, *args, command=command, **kw)
            self.check(timed.code, timed.stderr)
            return timed.cpu
        out = Path(tempfile.mktemp(prefix="callgrind.", dir=self.folder))
        valgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command)
        timed = run_cli(env, *args, command=valgrind, **kw)
        self.check(timed.code, timed.stderr)
        found = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        out.unlink()
        if found is None:
            raise RuntimeError("callgrind wrote no summary")
        return float(found.group(1))

    @staticmethod
    def check(code: int, stderr: str) -> None:
        if code != 0:
            raise RuntimeError(f"exited {code}: {stderr[-2000:]}")


def naive_cost(meter: Meter, box: Sandbox, part_numbers: list[str]) -> float:
    """What the naive script costs syncing ``part_numbers`` (P&A, then every details)."""
    command = (sys.executable, "-c", NAIVE.format(folder=str(Path(__file__).resolve().parent)))
    return meter.cost(dict(os.environ), (box.url,), command, stdin="\n".join(part_numbers))


def sync_cost(meter: Meter, box: Sandbox, db: Path) -> float:
    """What ``ingram-sync -q sync`` with the limits lifted costs (every product's details)."""
    return meter.cost(box.env(db), ("-q", "sync", *LIFTED), (sys.executable, "-m", "ingram"))


def main() -> None:
    p = parser("CPU per product with the limits lifted: ingram-sync and the naive script.", [])
    p.set_defaults(sizes=[1000, 3000], repeat=3, latency=0.0)
    p.add_argument("--instructions", action="store_true", help="count instructions (callgrind)")
    args = p.parse_args()
    sizes = sorted(set(args.sizes))
    unit, scale = ("M instructions", 1e-6) if args.instructions else ("ms", 1000.0)
    print_settings(
        "cpu_per_product: full sync, limits lifted, CPU of each process per product",
        {
            "ingram-sync": "sync " + " ".join(LIFTED) + " (details for every product)",
            "naive": "versus_sequential.py's script: P&A one batch at a time, then every details",
            "sandbox latency": f"{args.latency:g} s",
            "repeats": f"{args.repeat} (median shown; runs alternate naive, ingram-sync)",
            "measure": "instructions (valgrind callgrind)" if args.instructions else "CPU seconds",
        },
    )
    cpu: dict[tuple[str, int], list[float]] = {}
    with workdir() as folder, Sandbox(catalog_size=max(sizes), latency=args.latency) as box:
        meter = Meter(args.instructions, folder)
        for _ in range(max(args.repeat, 1)):
            for size in sizes:
                naive = naive_cost(meter, box, box.part_numbers(size))
                cpu.setdefault(("naive", size), []).append(naive)
                db = fresh_db(box, size, folder)
                cpu.setdefault(("ours", size), []).append(sync_cost(meter, box, db))
    rows = []
    for size in sizes:
        naive, ours = median(cpu[("naive", size)]), median(cpu[("ours", size)])
        rows.append((f"{size:,}", naive * scale / size, ours * scale / size, f"{ours / naive:.2f}"))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        naive, ours = (
            (median(cpu[(who, large)]) - median(cpu[(who, small)])) * scale / (large - small)
            for who in ("naive", "ours")
        )
        rows.append((f"marginal {small:,}..{large:,}", naive, ours, f"{ours / naive:.2f}"))
    headers = (f"naive {unit}/product", f"ingram-sync {unit}/product")
    print_table(("products", *headers, "ratio"), rows)


if __name__ == "__main__":
    main()
