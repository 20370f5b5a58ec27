"""How long `catalog load` takes, and how much memory, for a price file of N lines.

Each size gets a PRICE.TXT generated on the fly (US layout, 23 quoted fields, a
few part numbers tracked so the tracked-product pass has work), then the real
`ingram-sync catalog load` runs on it in its own process: wall seconds, CPU
seconds and peak RSS come from that process alone. A second load of the same file
(the daily case: the table already full) is timed too. Memory is flat when the
peak RSS does not grow with N.

Example: python benchmarks/pricefile_load.py --sizes 100000 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median, print_settings, print_table, run_cli, workdir  # noqa: E402

GOAL_SECONDS = 15.0
VENDORS = ("DELL", "LENOVO", "HP INC", "CISCO", "APC", "LOGITECH", "SAMSUNG", "KINGSTON")


def line(index: int) -> str:
    """One PRICE.TXT line; every 50th product discontinued with a substitute."""
    pn = f"P{index:08d}"
    vendor = VENDORS[index % len(VENDORS)]
    status, substitute = ("*", f"P{index + 1:08d}") if index % 50 == 0 else (" ", "")
    cost = 10 + index % 5000 + (index % 100) / 100
    fields = (
        "A", pn, f"{index % 900:04d}", vendor, f"{vendor} PRODUCT {index}", "DESCRIPTION, LINE 2",
        f"{cost * 1.3:010.2f}", f"VP-{index}", "001.25", f"{index:012d}", "010.00", "005.00",
        "002.00", "N", f"{cost:010.2f}", "N", "Y" if index % 7 else "N", status, "", "HW",
        f"{index % 40:02d}{index % 12:02d}", "N", substitute,
    )  # fmt: skip
    return ",".join(f'"{value}"' for value in fields) + "\n"


def write_price_file(path: Path, count: int) -> None:
    with path.open("w", encoding="ascii") as out:
        for start in range(0, count, 10_000):
            out.write("".join(line(i) for i in range(start, min(start + 10_000, count))))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--repeat", type=int, default=1, help="runs per figure (the median is shown)")
    p.add_argument("--tracked", type=int, default=1000, help="part numbers tracked beforehand")
    args = p.parse_args(argv)
    print_settings(
        "catalog load: a generated PRICE.TXT into an empty and a full catalog",
        {"sizes": args.sizes, "repeat": args.repeat, "tracked": args.tracked},
    )
    rows = []
    with workdir() as folder:
        for size in args.sizes:
            price_file = folder / f"PRICE-{size}.TXT"
            write_price_file(price_file, size)
            first, again = [], []
            for attempt in range(args.repeat):
                db = folder / f"catalog-{size}-{attempt}.db"
                env = {"INGRAM_SYNC_DB": str(db), "HOME": str(folder), "PATH": "/usr/bin:/bin"}
                tracked = "\n".join(
                    f"P{i:08d}" for i in range(0, size, max(size // args.tracked, 1))
                )
                run_cli(env, "-q", "products", "import", "-", stdin=tracked + "\n")
                for runs in (first, again):
                    timed = run_cli(env, "-q", "catalog", "load", str(price_file))
                    if timed.code != 0:
                        raise RuntimeError(f"catalog load exited {timed.code}: {timed.stderr}")
                    runs.append(timed)
            for label, runs in (("empty catalog", first), ("full catalog", again)):
                wall = median([t.wall for t in runs])
                rows.append(
                    (
                        size,
                        label,
                        f"{wall:.2f}",
                        f"{median([t.cpu for t in runs]):.2f}",
                        f"{median([t.peak_rss_mb for t in runs]):.0f}",
                        f"{size / wall:,.0f}",
                        "yes" if wall <= GOAL_SECONDS else "no",
                    )
                )
            price_file.unlink()
    print_table(
        ("lines", "into", "wall s", "cpu s", "peak RSS MB", "lines/s", f"<= {GOAL_SECONDS:g} s"),
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
