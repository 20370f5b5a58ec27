"""Helpers of the reliability tests: start syncs that get killed, check what the database holds."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingram.sandbox import SandboxServer
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.processes import Started


def start_sync(cli: Cli, log: Path, *args: str) -> Started:
    """A sync in the background, its stderr appended to ``log`` for the test to read."""
    with log.open("ab") as err:
        return cli.start("sync", *FAST_TIMINGS, *args, stdout=subprocess.DEVNULL, stderr=err)


def lock_is_free(db: Path) -> bool:
    """True when nothing holds the sync lock beside ``db``."""
    path = db.with_name(db.name + ".lock")
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def assert_consistent(db: Path) -> None:
    """No corruption, nothing doubled, no run left running, no open task anywhere."""
    conn = connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert integrity == "ok", integrity
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], "foreign keys"
        doubled_products = conn.execute(
            "SELECT ingram_part_number FROM products GROUP BY 1 HAVING COUNT(*) > 1"
        ).fetchall()
        assert doubled_products == [], [tuple(r) for r in doubled_products]
        doubled_failures = conn.execute(
            "SELECT kind, ingram_part_number FROM failures WHERE resolved_at IS NULL"
            " GROUP BY 1, 2 HAVING COUNT(*) > 1"
        ).fetchall()
        assert doubled_failures == [], [tuple(r) for r in doubled_failures]
        running = conn.execute("SELECT id FROM runs WHERE status = 'running'").fetchall()
        assert running == [], f"runs left running: {[r[0] for r in running]}"
        open_tasks = conn.execute(
            "SELECT run_id, kind, COUNT(*) FROM tasks WHERE state = 'pending' GROUP BY 1, 2"
        ).fetchall()
        assert open_tasks == [], f"open tasks (run, kind, n): {[tuple(r) for r in open_tasks]}"
        assert_changes_form_chains(conn)
    finally:
        conn.close()


def assert_changes_form_chains(conn: sqlite3.Connection) -> None:
    """Each product's changes of one field chain old -> new; a doubled row breaks the chain."""
    last: dict[tuple[str, str], str] = {}
    for row in conn.execute(
        "SELECT ingram_part_number, field, old_value, new_value FROM changes ORDER BY id"
    ):
        key = (row["ingram_part_number"], row["field"])
        old, new = (
            comparable(row["field"], row["old_value"]),
            comparable(row["field"], row["new_value"]),
        )
        assert old != new, dict(row)
        if key in last:
            assert old == comparable(row["field"], last[key]), (dict(row), last[key])
        last[key] = row["new_value"]


def comparable(field: str, value: str | None) -> object:
    """Prices and stock compare as numbers (74.3 == 74.30); dates and flags as their text."""
    return Decimal(value) if field in ("customer_price", "total_availability") else value


def open_failures(db: Path) -> dict[str, set[str]]:
    """Part numbers with an unresolved failure, by kind."""
    conn = connect(db)
    try:
        found: dict[str, set[str]] = {}
        for row in conn.execute(
            "SELECT kind, ingram_part_number FROM failures WHERE resolved_at IS NULL"
        ):
            found.setdefault(row["kind"], set()).add(row["ingram_part_number"])
        return found
    finally:
        conn.close()


def expected_status(item: dict[str, Any]) -> str:
    """The status a sandbox P&A item should leave: the account may not buy it (a flag, or
    the realistic sandbox's "E" saying so), the vendor does not know it, or active."""
    message = (item.get("productStatusMessage") or "").lower()
    if item.get("productAuthorized") is False or "not authorized" in message:
        return "not_authorized"
    return "not_found" if item.get("productStatusCode") == "E" else "active"


def assert_catalog_matches(
    sandbox: SandboxServer, exported: dict[str, dict[str, Any]], failed: dict[str, set[str]]
) -> None:
    """Every product equals the sandbox's answer, unless an open failure says why not."""
    catalog = sandbox.catalog
    for pn, row in exported.items():
        if pn in failed.get("price_availability", set()):
            continue
        item = catalog.price_availability_item(pn)
        assert row["status"] == expected_status(item), row
        if item.get("productStatusCode") == "E":
            continue
        pricing = item.get("pricing") or item["availability"]["pricing"]
        assert Decimal(str(row["customer_price"])) == Decimal(str(pricing["customerPrice"])), pn
        assert Decimal(str(row["retail_price"])) == Decimal(str(pricing["retailPrice"])), pn
        assert row["total_availability"] == item["availability"]["totalAvailability"], pn
        assert row["pa_synced_at"] is not None, pn
        if pn in failed.get("details", set()):
            continue
        assert row["details_synced_at"] is not None, pn
        document = catalog.details_document(pn)
        assert row["category"] == (document or {}).get("productCategory"), pn


def damaged_database(tmp_path: Path) -> Cli:
    """A catalog of 3,000 products, then a leaf page of the products table overwritten."""
    db = tmp_path / "c.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    assert cli.run("products", "add", *[f"PN{n:05d}" for n in range(3000)]).code == 0
    assert cli.run("db", "check").code == 0
    with sqlite3.connect(db) as conn:
        leaves = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'products' AND pagetype = 'leaf' ORDER BY 1"
        ).fetchall()
    page = 4096
    with db.open("r+b") as handle:
        handle.seek(page * (leaves[len(leaves) // 2][0] - 1))
        handle.write(b"\xa5" * page)
    return cli
