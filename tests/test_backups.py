"""``db backup`` never writes over the live database's own files, never keeps a damaged copy,
and cleans what a killed backup left. Real files, real SQLite, the CLI as a user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from support.clirunner import Cli, cli_env
from support.reliability import damaged_database

from ingram.state.products import add_products
from ingram.state.store import Store


@pytest.fixture
def catalog_cli(tmp_path: Path) -> Cli:
    db = tmp_path / "catalog.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    assert cli.run("products", "add", *[f"PN{n:04d}" for n in range(200)]).code == 0
    return cli


LIVE = ("catalog.db", "catalog.db-wal")  # what a backup written over them would destroy


def open_with_log(db: Path) -> sqlite3.Connection:
    """A connection left open with a write in its log, as a running receiver leaves one."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute("UPDATE products SET last_error = 'held' WHERE ingram_part_number = 'PN0000'")
    assert (db.parent / (db.name + "-wal")).stat().st_size > 0
    return holder


def fingerprints(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Inode, size and change time of the live files, read without opening them: closing
    any descriptor of a file drops every POSIX lock this process (the holder) has on it."""
    found = {}
    for name in LIVE:
        st = (folder / name).stat()
        found[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def link(kind: str, target: Path, at: Path) -> Path:
    if kind == "symlink":
        at.symlink_to(target)
    else:
        os.link(target, at)
    return at


@pytest.mark.parametrize(
    "name", ["catalog.db", "catalog.db-wal", "catalog.db-shm", "catalog.db-journal"]
)
def test_a_backup_onto_the_database_or_its_companions_is_refused(
    catalog_cli: Cli, tmp_path: Path, name: str
) -> None:
    """`db backup catalog.db-wal` overwrote the live log: every later open failed and, after
    a kill -9 of the receiver, 50 acknowledged events were gone."""
    holder = open_with_log(catalog_cli.db)
    try:
        before = fingerprints(tmp_path)
        result = catalog_cli.run("db", "backup", str(tmp_path / name))
        assert result.code == 2, result
        assert "live database" in result.err and result.err.count("\n") == 1, result
        assert fingerprints(tmp_path) == before
        assert not (tmp_path / "catalog.db-journal").exists()
    finally:
        holder.close()
    assert catalog_cli.run("products", "list", "--limit", "1").code == 0  # the database still opens


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
@pytest.mark.parametrize("companion", ["", "-wal"])
def test_a_path_that_resolves_to_a_live_file_is_refused(
    catalog_cli: Cli, tmp_path: Path, kind: str, companion: str
) -> None:
    holder = open_with_log(catalog_cli.db)
    try:
        live = tmp_path / f"catalog.db{companion}"
        assert live.exists()
        alias = link(kind, live, tmp_path / "elsewhere" if kind == "symlink" else tmp_path / "x.db")
        before = fingerprints(tmp_path)
        result = catalog_cli.run("db", "backup", str(alias))
        assert result.code == 2, result
        assert fingerprints(tmp_path) == before
    finally:
        holder.close()


def test_a_backup_of_a_damaged_database_fails_and_keeps_the_good_one(tmp_path: Path) -> None:
    """It exited 0, so a rotation replaced good backups with damaged ones."""
    good = tmp_path / "good.db"
    store = Store.open(good)
    add_products(store, ["6YE881"])
    store.close()
    cli = damaged_database(tmp_path)
    target = tmp_path / "backup.db"
    target.write_bytes(good.read_bytes())
    result = cli.run("db", "backup", str(target))
    assert result.code == 2, result
    assert "damaged" in result.err and "Traceback" not in result.err, result
    assert target.read_bytes() == good.read_bytes()  # the earlier backup is untouched
    assert not list(tmp_path.glob(".backup.db.partial-*"))


def test_what_a_killed_backup_left_is_cleaned_by_the_next(catalog_cli: Cli, tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait(10)
    leftover = tmp_path / f".backup.db.partial-{dead.pid}"  # a pid no process has now
    leftover.write_bytes(b"\0" * 1_000_000)
    result = catalog_cli.run("db", "backup", str(tmp_path / "backup.db"))
    assert result.code == 0, result
    assert not leftover.exists()
    conn = sqlite3.connect(tmp_path / "backup.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 200
    conn.close()
