"""Bytes written per product by a full sync, and how the database grows with re-syncs.

The sync runs as the real command in its own process (the sandbox in another
one); a wrapper reads that process's ``wchar`` from ``/proc/self/io`` as it
exits: every byte it handed to ``write`` (the database, its write-ahead log,
checkpoints), socket traffic not included. Then ten routine re-syncs, with no
price change and with a tenth of the prices changed, show how the file grows,
and ``db prune`` what retention takes back.

    python benchmarks/write_volume.py [--sizes 10000] [--resyncs 10]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 - the path above makes benchmarks/ importable as a script
    Sandbox,
    fresh_db,
    parser,
    print_settings,
    print_table,
    run_cli,
    workdir,
)

# The CLI in this process; at exit it appends the process's write counter to $WRITE_COUNTER.
COUNTED = """
import atexit, os, sys
def report():
    counters = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    with open(os.environ["WRITE_COUNTER"], "a") as out:
        out.write(counters["wchar"] + "\\n")
atexit.register(report)
sys.argv[0] = "ingram-sync"
from ingram.cli import main
main()
"""


def written_by_sync(env: dict[str, str], *args: str) -> int:
    """Bytes the ``ingram-sync -q sync ARGS`` process wrote (its ``wchar``)."""
    with tempfile.NamedTemporaryFile("r", suffix=".io") as counter:
        counted = {**env, "WRITE_COUNTER": counter.name}
        timed = run_cli(counted, "-q", "sync", *args, command=(sys.executable, "-c", COUNTED))
        if timed.code != 0:
            raise RuntimeError(f"sync exited {timed.code}: {timed.stderr[-2000:]}")
        return int(Path(counter.name).read_text().split()[-1])


def database_bytes(db: Path) -> int:
    """The database's size with its write-ahead log folded in (as a backup would copy it)."""
    timed = run_cli({**os.environ, "INGRAM_SYNC_DB": str(db)}, "db", "check")
    if timed.code != 0:
        raise RuntimeError(timed.stderr)
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.suffix != ".lock")


def main() -> None:
    p = parser("Bytes written per product and growth over re-syncs.", [10000])
    p.add_argument("--resyncs", type=int, default=10)
    args = p.parse_args()
    limits = ("--pa-rate", "60000", "--details-interval", "0", "--max-concurrent", "5")
    print_settings(
        "write_volume: bytes written by ingram-sync sync (wchar of its process)",
        {
            "sandbox latency": f"{args.latency:g} s",
            "re-syncs": args.resyncs,
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=args.latency) as box:
        for size in args.sizes:
            db = fresh_db(box, size, folder)
            full = written_by_sync(box.env(db), *limits)
            rows.append((f"{size:,}", "full sync", full / size / 1024, "", database_bytes(db)))
            for label, epoch_step in (("re-sync, no change", 0), ("re-sync, 10% prices", 1)):
                start = database_bytes(db)
                written = 0
                for n in range(args.resyncs):
                    if epoch_step:
                        box.control("config", {"price_epoch": n + 1})  # a tenth of prices move
                    written += written_by_sync(box.env(db), *limits)
                end = database_bytes(db)
                growth = f"{(end - start) / start:+.1%}"
                rows.append((f"{size:,}", label, written / args.resyncs / size / 1024, growth, end))
            pruned = run_cli(box.env(db), "db", "prune", "--older-than", "0")
            if pruned.code != 0:
                raise RuntimeError(f"db prune exited {pruned.code}: {pruned.stderr[-2000:]}")
            rows.append((f"{size:,}", "after db prune --older-than 0", "", "", database_bytes(db)))
    print_table(("products", "run", "KB written per product", "growth", "db bytes"), rows)


if __name__ == "__main__":
    main()
