"""First runs, migrations and the database file: atomic, race-free, refused when unusable."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from clirunner import Cli, cli_env

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


def test_eight_first_runs_racing_on_one_fresh_file_all_succeed(tmp_path):
    for round_number in range(ROUNDS):
        db = tmp_path / f"race{round_number}.db"
        go = tmp_path / f"go{round_number}"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(db), str(go), f"PN{n}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
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
db, go, pn = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.001)
Store.open(db).add_products([pn])
"""
