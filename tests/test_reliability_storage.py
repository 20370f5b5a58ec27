"""First runs, migrations and the database file: atomic, race-free, refused when unusable."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.processes import start
from support.reliability import assert_catalog_matches, assert_consistent, damaged_database

from ingram.state.migrations import LATEST

RACERS = 8
ROUNDS = 10


def test_a_first_run_left_half_done_is_completed(tmp_path):
    db = tmp_path / "half.db"
    conn = sqlite3.connect(db)  # what a first run killed after creating _migrations left
    conn.execute("CREATE TABLE _migrations (number INTEGER PRIMARY KEY, applied_at TEXT)")
    conn.close()
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    result = cli.run("products", "add", "6YE881")
    assert result.code == 0, result
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT MAX(number) FROM _migrations").fetchone()[0] == LATEST
    assert conn.execute("SELECT ingram_part_number FROM products").fetchall() == [("6YE881",)]


@pytest.mark.slow
def test_eight_first_runs_racing_on_one_fresh_file_all_succeed(tmp_path):
    for round_number in range(ROUNDS):
        db = tmp_path / f"race{round_number}.db"
        go = tmp_path / f"go{round_number}"
        racers = [
            start([sys.executable, "-c", RACER, str(db), str(go), f"PN{n}"], text=True)
            for n in range(RACERS)
        ]
        go.touch()
        for racer in racers:
            out, err = racer.communicate(timeout=60)
            assert racer.returncode == 0, err
        conn = sqlite3.connect(db)
        numbers = [r[0] for r in conn.execute("SELECT number FROM _migrations ORDER BY 1")]
        assert numbers[-1] == LATEST and len(numbers) == len(set(numbers))
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == RACERS


# Each racer imports first, then waits for the start file, so all open the fresh file at once.
RACER = """
import os, sys, time
from ingram.state.store import Store
from ingram.state.products import add_products
db, go, pn = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.001)
add_products(Store.open(db), [pn])
"""


# -- unusable paths, damaged files, full disks, backups --------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_as_database_is_refused_at_once(tmp_path, kind):
    db = tmp_path / "fifo.db"
    if kind == "fifo":
        os.mkfifo(db)
    else:
        db.symlink_to("/dev/null")
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    result = cli.run("products", "add", "6YE881", timeout=20)
    assert result.code == 2, result
    assert "not a regular file" in result.err and result.err.count("\n") == 1, result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.db"]  # no -journal litter


def test_db_check_reports_damage_with_advice(tmp_path):
    cli = damaged_database(tmp_path)
    result = cli.run("db", "check")
    assert result.code == 2, result
    assert "restore the last good backup" in result.err and "Traceback" not in result.err


def test_a_damaged_page_found_mid_command_gives_one_line(tmp_path):
    cli = damaged_database(tmp_path)
    result = cli.run("export", "--format", "json")
    assert result.code == 2, result
    assert "damaged" in result.err and "db check" in result.err, result
    assert result.err.count("\n") == 1, result


@pytest.mark.slow
def test_a_file_size_limit_mid_sync_gives_one_line_and_the_next_sync_resumes(
    sandbox_factory, tmp_path
):
    sandbox = sandbox_factory(catalog_size=1000)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(1000)).code == 0
    limit = db.stat().st_size + 256 * 1024  # room for the first results, not for all

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        cli.command("sync", *FAST_TIMINGS, "--batch-size", "10"),
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited,
    )
    assert done.returncode == 2, done
    assert "cannot write: the disk is full" in done.stderr, done.stderr
    assert done.stderr.count("Error") == 1 and "Traceback" not in done.stderr, done.stderr
    final = cli.sync("--batch-size", "10")
    assert final.code == 0, final
    assert "resuming" in final.err or "1000 products priced" in final.out
    assert_consistent(db)
    assert_catalog_matches(sandbox, cli.export(), {})


@pytest.mark.slow
def test_db_backup_during_a_sync_is_consistent(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=1000, latency=0.005)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(1000)).code == 0
    sync = cli.start("sync", *FAST_TIMINGS, "--batch-size", "10", "--details-interval", "0.01")
    copies = []
    while sync.poll() is None and len(copies) < 5:
        copy = tmp_path / f"copy{len(copies)}.db"
        result = cli.run("db", "backup", str(copy))
        assert result.code == 0, result
        copies.append(copy)
    assert sync.wait(120) == 0
    assert copies, "the sync ended before any backup"
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 1000
        conn.close()
        restored = Cli(cli.env | {"INGRAM_SYNC_DB": str(copy)}, copy)
        assert restored.run("db", "check").code == 0
