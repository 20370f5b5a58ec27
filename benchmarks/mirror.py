"""The database mirror into PostgreSQL: a first mirror of the whole catalog, then incremental.

A catalog of N products is synced from the sandbox (P&A only, not timed), then
``ingram-sync mirror`` runs as a user runs it (its start-up included) into a
throwaway PostgreSQL server on loopback that syncs its writes to disk as a real
one does. First: every product, with its warehouse and discount rows. Then a
sync in which about a tenth of the products get a new price and stock, and the
incremental mirror after it: its time should follow what changed, not the
catalog. Last, a mirror with nothing to write: the floor (start-up, connect,
one look at the cursor).

    python benchmarks/mirror.py [--sizes 100000] [--repeat 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import (  # noqa: E402 - the paths above make benchmarks/ and tests/ importable
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
from dbservers import PASSWORD, PostgresServer  # noqa: E402
from sqlalchemy import text  # noqa: E402

SYNC = ("--pa-rate", "1e9", "--no-details")


def mirror(env: dict[str, str], url: str) -> float:
    timed = run_cli(env, "-q", "mirror", "--to", url)
    if timed.code != 0:
        raise RuntimeError(f"mirror exited {timed.code}: {timed.stderr[-2000:]}")
    return timed.wall


def counts(server: PostgresServer, database: str) -> tuple[int, int, int]:
    """Rows in ingram_products, ingram_warehouses, ingram_discounts."""
    engine = server.engine(database)
    try:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("ingram_products", "ingram_warehouses", "ingram_discounts")
            )
    finally:
        engine.dispose()


def written_since(server: PostgresServer, database: str, moment: object) -> int:
    engine = server.engine(database)
    try:
        with engine.connect() as conn:
            query = text("SELECT COUNT(*) FROM ingram_products WHERE mirrored_at > :moment")
            return int(conn.execute(query, {"moment": moment}).scalar_one())
    finally:
        engine.dispose()


def last_mirror(server: PostgresServer, database: str) -> object:
    engine = server.engine(database)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT mirrored_at FROM ingram_mirror")).scalar_one()
    finally:
        engine.dispose()


def main() -> None:
    p = parser("The database mirror into PostgreSQL: first, incremental, nothing.", [100000])
    args = p.parse_args()
    print_settings(
        "mirror: the catalog into PostgreSQL 15 on loopback (fsync on)",
        {
            "catalog": "synced from the sandbox first, P&A only (not timed)",
            "change": "the sandbox's next price epoch: about a tenth of prices and stock move",
            "repeats": f"{args.repeat} (median shown)",
        },
    )
    rows = []
    with workdir() as folder, Sandbox(catalog_size=max(args.sizes), latency=0) as box:
        with PostgresServer(durable=True) as server:
            for size in args.sizes:
                rows += measure(box, server, folder, size, max(args.repeat, 1))
    print_table(
        ("products", "mirror", "products written", "child rows", "wall s", "products/s"), rows
    )


def measure(box: Sandbox, server: PostgresServer, folder: Path, size: int, repeat: int) -> list:
    first, incremental, idle, written, children = [], [], [], 0, 0
    for run in range(repeat):
        box.control("config", {"price_epoch": 0})
        db = fresh_db(box, size, folder)
        env = {**box.env(db), "INGRAM_MIRROR_PASSWORD": PASSWORD}
        database = server.new_database()
        url = server.url(database)
        run_sync(env, *SYNC)
        first.append(mirror(env, url))
        _, warehouses, discounts = counts(server, database)
        children = warehouses + discounts
        box.control("config", {"price_epoch": run + 1})
        run_sync(env, *SYNC)
        before = last_mirror(server, database)
        incremental.append(mirror(env, url))
        written = written_since(server, database, before)
        idle.append(mirror(env, url))
    return [
        (f"{size:,}", "first", size, children, median(first), size / median(first)),
        (
            f"{size:,}",
            "incremental",
            written,
            "",
            median(incremental),
            written / median(incremental),
        ),
        (f"{size:,}", "nothing changed", 0, "", median(idle), ""),
    ]


if __name__ == "__main__":
    main()
