"""The database mirror into PostgreSQL: a first mirror of the whole catalog, then incremental.

A catalog of N products is synced from the sandbox (P&A only, not timed), then
``ingram-sync mirror`` runs as a user runs it (its start-up included) into a
throwaway PostgreSQL server on loopback that syncs its writes to disk as a real
one does. First: every product, with its warehouse and discount rows. Then a
sync in which about a tenth of the products get a new price and stock, and the
incremental mirror after it: its time should follow what changed, not the
catalog. Last, a mirror with nothing to write: the floor (start-up, connect,
one look at the cursor). "all rows" counts the products' warehouse and discount
rows too, which the first mirror writes with them.

    python benchmarks/mirror.py [--sizes 100000] [--repeat 1]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import (  # noqa: E402 - the paths above make benchmarks/ and tests/ importable
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
from sqlalchemy import text  # noqa: E402
from support.dbservers import PASSWORD, PostgresServer  # noqa: E402

SYNC = ("--pa-rate", "1e9", "--no-details")


def mirror(env: dict[str, str], url: str) -> Timed:
    timed = run_cli(env, "-q", "mirror", "--to", url)
    if timed.code != 0:
        raise RuntimeError(f"mirror exited {timed.code}: {timed.stderr[-2000:]}")
    return timed


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
    with (
        workdir() as folder,
        Sandbox(catalog_size=max(args.sizes), latency=0) as box,
        PostgresServer(durable=True) as server,
    ):
        for size in args.sizes:
            rows += measure(box, server, folder, size, max(args.repeat, 1))
    headers = ("products", "mirror", "products written", "all rows", "wall s", "CPU s")
    print_table((*headers, "products/s", "rows/s"), rows)


def measure(box: Sandbox, server: PostgresServer, folder: Path, size: int, repeat: int) -> list:
    """Rows of the table for ``size`` products: the first mirror, incremental, nothing."""
    runs: dict[str, list[Timed]] = {"first": [], "incremental": [], "nothing changed": []}
    written = {"first": size, "incremental": 0, "nothing changed": 0}
    rows: dict[str, Any] = {"first": 0, "incremental": "", "nothing changed": ""}
    for run in range(repeat):
        box.control("config", {"price_epoch": 0})
        db = fresh_db(box, size, folder)
        env = {**box.env(db), "INGRAM_MIRROR_PASSWORD": PASSWORD}
        database = server.new_database()
        url = server.url(database)
        run_sync(env, *SYNC)
        runs["first"].append(mirror(env, url))
        rows["first"] = sum(counts(server, database))
        box.control("config", {"price_epoch": run + 1})
        run_sync(env, *SYNC)
        before = last_mirror(server, database)
        runs["incremental"].append(mirror(env, url))
        written["incremental"] = written_since(server, database, before)
        runs["nothing changed"].append(mirror(env, url))
    table = []
    for case, timed in runs.items():
        wall = median([t.wall for t in timed])
        cpu = median([t.cpu for t in timed])
        speed = (written[case] / wall, rows[case] / wall if rows[case] else "")
        if not written[case]:
            speed = ("", "")
        table.append((f"{size:,}", case, written[case], rows[case], wall, cpu, *speed))
    return table


if __name__ == "__main__":
    main()
