"""Bad input of every kind: one clear line on stderr, the documented exit code, no traceback,
and the catalog left as it was.

The CLI runs in-process (click's runner) so the matrix stays fast; an uncaught
exception, which would print a traceback from a real process, shows up here as
``result.exception`` that is not a ``SystemExit``.
"""

from __future__ import annotations

import gc
import random
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from support.clirunner import FAST_TIMINGS, cli_env, invoke

from ingram.sandbox import FaultRates
from ingram.state.migrations import LATEST

USAGE, ITEMS_FAILED, CREDENTIALS = 2, 1, 4
TRACKED = ["AAA111", "BBB222", "CCC333"]


@dataclass
class World:
    """A database tracking ``TRACKED``, and the environment pointing at a sandbox."""

    db: Path
    env: dict[str, str]
    tmp: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = invoke(env or self.env, *args)
        if result.exception is not None:  # a real process would have printed a traceback
            assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.stdout + result.stderr
        return result

    def catalog(self) -> list[dict]:
        """Every product's data (``last_error`` aside: it says why an item failed; and the
        change version it moves, which numbers the change for the mirror)."""
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM products ORDER BY 1").fetchall()
        noted = ("last_error", "change_version")
        return [{k: v for k, v in dict(row).items() if k not in noted} for row in rows]


@pytest.fixture
def world(sandbox, tmp_path) -> World:
    db = tmp_path / "c.db"
    world = World(db, cli_env(sandbox.url, db), tmp_path)
    assert world.run("products", "add", *TRACKED).exit_code == 0
    return world


def refused(world: World, result: Result, code: int, message: str) -> None:
    """Exit ``code`` with one line on stderr holding ``message``; nothing else printed."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:") and message.lower() in lines[-1].lower(), lines
    assert [line for line in lines if "Error" in line] == [lines[-1]], lines


# ---------------------------------------------------------------- import files

BROKEN_FILES = {
    "empty": (b"", "is empty"),
    "header only": (b"ingramPartNumber\n", "has a header but no part numbers"),
    "unknown column": (b"name,price\nmonitor,74.34\n", "has no ingramPartNumber column"),
    "random bytes": (random.Random(7).randbytes(4096), "not UTF-8"),
    "binary with a NUL": (b"ingramPartNumber\nAB\x00CD\n", "binary data"),
}


@pytest.mark.parametrize("name", BROKEN_FILES)
def test_a_broken_import_file_is_refused_and_changes_nothing(world, name):
    data, message = BROKEN_FILES[name]
    path = world.tmp / "in.csv"
    path.write_bytes(data)
    before = world.catalog()
    refused(world, world.run("products", "import", str(path)), USAGE, message)
    assert world.catalog() == before


def test_import_of_a_missing_file_is_a_usage_error(world):
    result = world.run("products", "import", str(world.tmp / "absent.csv"))
    refused(world, result, USAGE, "No such file")


def test_bom_crlf_and_duplicates_import_each_part_number_once(world):
    path = world.tmp / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfingramPartNumber\r\nDDD444\r\nEEE555\r\nDDD444\r\nAAA111\r\n")
    result = world.run("products", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "added 2, already tracked 1, rejected 0" in result.stdout
    tracked = [row["ingram_part_number"] for row in world.catalog()]
    assert tracked == sorted([*TRACKED, "DDD444", "EEE555"])


def test_ten_thousand_rows_with_bad_lines_keep_the_good_ones(world):
    good = [f"P{n:06d}" for n in range(10_000)]
    rows = list(good)
    rows[10] = "X" * 21  # too long
    rows[20] = "HAS SPACE"
    rows[30] = "semi;colon"
    rows[40] = "tab\there"
    path = world.tmp / "big.csv"
    path.write_text("ingramPartNumber\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = world.run("products", "import", str(path))
    assert result.exit_code == ITEMS_FAILED, result.stderr
    assert "added 9996, already tracked 0, rejected 4" in result.stdout
    assert "line 12: 'XXXXXXXXXXXXXXXXXXXXX' rejected: too long" in result.stderr
    for line in (22, 32, 42):
        assert f"line {line}: " in result.stderr
    kept = {row["ingram_part_number"] for row in world.catalog()}
    assert len(kept) == 9996 + len(TRACKED) and "P000011" in kept and "P000010" not in kept


def test_a_bad_part_number_on_the_command_line_is_refused(world):
    before = world.catalog()
    refused(world, world.run("products", "add", "GOOD1", "bad part"), USAGE, "not a part number")
    assert world.catalog() == before


# ---------------------------------------------------------------- options

BAD_OPTIONS = {
    "batch size 0": (["sync", "--batch-size", "0"], "batch-size: must be between 1 and 50"),
    "batch size 51": (["sync", "--batch-size", "51"], "batch-size: must be between 1 and 50"),
    "batch size text": (["sync", "--batch-size", "ten"], "not a whole number"),
    "concurrency -1": (["sync", "--max-concurrent", "-1"], "max-concurrent: must be between"),
    "concurrency 0": (["sync", "--max-concurrent", "0"], "max-concurrent: must be between"),
    "details workers 0": (["sync", "--details-workers", "0"], "details-workers: must be"),
    "max age": (["sync", "--details-max-age", "soon"], "not a duration"),
    "min interval": (["sync", "--min-interval", "-5m"], "not a duration"),
    "retry waits": (["sync", "--pa-retry-waits", "1,x"], "not a duration"),
    "timeout 0": (["sync", "--timeout", "0"], "timeout: must be a number above 0"),
    "rate nan": (["sync", "--pa-rate", "nan"], "pa-rate: must be a number above 0"),
    "interval": (["sync", "--details-interval", "-1"], "details-interval"),
    "changes since": (["changes", "--since", "yesterday"], "not a duration"),
    "unknown command": (["frobnicate"], "No such command 'frobnicate'"),
    "unknown option": (["sync", "--frobnicate"], "No such option"),
    "retry nothing": (["retry-failed"], "give failure ids"),
    "unknown failure": (["retry-failed", "999"], "no failure with id 999"),
    "huge duration": (["changes", "--since", "999999d"], "longer than 100 years"),
    "duration inf": (["sync", "--details-max-age", "inf"], "not a duration"),
    "duration nan": (["sync", "--min-interval", "nan"], "not a duration"),
    "huge failure id": (["retry-failed", str(10**25)], "is not in the range"),
    "huge run id": (["runs", "show", str(10**25)], "is not in the range"),
    "huge failed run": (["failed", "--run", str(10**25)], "is not in the range"),
    "demo products -5": (["demo", "--products", "-5"], "is not in the range"),
    "rate overflowing": (["sync", "--pa-rate", "1e-300"], "less than one call a day"),
    "timeout of years": (["sync", "--timeout", "1e12"], "at most 86400"),
    "deadline 0": (["sync", "--deadline", "0"], "deadline: must be a number above 0"),
    "discover deadline": (["products", "discover", "--deadline", "-1"], "deadline: must be"),
    "retry deadline": (["retry-failed", "--all", "--deadline", "nan"], "deadline: must be"),
    "db with a newline": (["--db", "c.db\nx", "sync"], "line break"),
}


@pytest.mark.parametrize("name", BAD_OPTIONS)
def test_a_bad_option_is_a_usage_error(world, sandbox, name):
    args, message = BAD_OPTIONS[name]
    before = world.catalog()
    refused(world, world.run(*args), USAGE, message)
    assert world.catalog() == before
    assert sandbox.stats()["calls"]["token"] == 0  # refused before any call


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "variable", ["INGRAM_CLIENT_ID", "INGRAM_CLIENT_SECRET", "INGRAM_CUSTOMER_NUMBER"]
)
def test_each_missing_credential_is_named(world, variable):
    env = {k: v for k, v in world.env.items() if k != variable}
    before = world.catalog()
    result = invoke(env | {variable: ""}, "sync")
    refused(world, result, USAGE, f"missing {variable}")
    assert world.catalog() == before


CONFIG_FILES = {
    "malformed": (b"client_id = [unclosed\n", "not valid TOML"),
    "not UTF-8": (b"client_id = '\xff\xfe'\n", "cannot read config file"),
    "unknown key": (b"colour = 'blue'\n", "unknown setting 'colour'"),
    "bad value": (b"batch_size = 500\n", "batch-size: must be between 1 and 50"),
    "timeout true": (b"timeout = true\n", "timeout: True is not a number"),
    "log file list": (b"log_file = ['a', 'b']\n", "log-file: must be text"),
    "duration in TOML inf": (b"min_interval = inf\n", "longer than 100 years"),
}


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_a_bad_config_file_is_a_usage_error(world, name):
    data, message = CONFIG_FILES[name]
    config = world.tmp / "config.toml"
    config.write_bytes(data)
    config.chmod(0o600)
    refused(world, world.run("--config", str(config), "sync"), USAGE, message)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INGRAM_CUSTOMER_NUMBER", "20-2\r\nX: y"),
        ("INGRAM_SENDER_ID", "me\nX-Evil: 1"),
        ("INGRAM_API_URL", "http://127.0.0.1:9/\nX: 1"),
        ("INGRAM_SYNC_DB", "c.db\r\n"),
    ],
)
def test_a_line_break_in_a_header_url_or_path_setting_is_a_usage_error(world, variable, value):
    before = world.catalog()
    result = world.run("sync", env=world.env | {variable: value})
    refused(world, result, USAGE, f"{variable} holds a line break")
    assert world.catalog() == before


def test_an_unreadable_config_file_is_a_usage_error(world):
    folder = world.tmp / "config.d"  # root reads any file; a folder is unreadable as a file
    folder.mkdir()
    refused(world, world.run("--config", str(folder), "sync"), USAGE, "cannot read config file")
    missing = world.run("--config", str(world.tmp / "absent.toml"), "sync")
    refused(world, missing, USAGE, "does not exist")


def test_a_secret_in_a_config_file_others_can_read_gets_a_warning(world):
    config = world.tmp / "config.toml"
    config.write_text('client_secret = "sandbox-secret"\n')
    config.chmod(0o644)
    env = {k: v for k, v in world.env.items() if k != "INGRAM_CLIENT_SECRET"}
    result = world.run("--config", str(config), "products", "list", env=env)
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "other users can read it" in line]
    assert len(warnings) == 1 and "chmod 600" in warnings[0], result.stderr
    assert "sandbox-secret" not in result.stderr
    config.chmod(0o600)
    assert "other users" not in world.run("--config", str(config), "products", "list").stderr


# ---------------------------------------------------------------- database


def test_database_path_that_is_a_folder(world):
    refused(world, world.run("--db", str(world.tmp), "sync"), USAGE, "is a folder")


def test_read_only_database(world):
    gc.collect()  # in-process runs leave connections behind; closing them checkpoints the WAL
    world.db.chmod(0o400)
    before = world.db.read_bytes()
    refused(world, world.run("sync"), USAGE, "read-only")
    refused(world, world.run("products", "add", "DDD444"), USAGE, "read-only")
    assert world.db.read_bytes() == before


def test_database_of_random_bytes_is_left_untouched(world):
    junk = world.tmp / "junk.db"
    data = random.Random(3).randbytes(8192)
    junk.write_bytes(data)
    for args in (["sync"], ["products", "list"], ["export"]):
        refused(world, world.run("--db", str(junk), *args), USAGE, "is not an SQLite database")
    assert junk.read_bytes() == data
    assert sorted(p.name for p in world.tmp.glob("junk.db*")) == ["junk.db"]


def test_database_from_a_newer_version_is_refused(world):
    with sqlite3.connect(world.db) as conn:
        conn.execute("INSERT INTO _migrations VALUES (?, 'later')", (LATEST + 1,))
    before = world.catalog()
    refused(world, world.run("sync"), USAGE, "newer ingram-sync")
    refused(world, world.run("products", "list"), USAGE, "newer ingram-sync")
    assert world.catalog() == before


# ---------------------------------------------------------------- the API


def test_refused_credentials_exit_4(world, sandbox):
    env = world.env | {"INGRAM_CLIENT_SECRET": "wrong-secret"}
    before = world.catalog()
    result = world.run("sync", *FAST_TIMINGS, env=env)
    refused(world, result, CREDENTIALS, "refused the token request")
    assert "INGRAM_CLIENT_SECRET" in result.stderr and "wrong-secret" not in result.stderr
    assert world.catalog() == before
    assert sandbox.stats()["calls"]["price_and_availability"] == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_api_stops_the_run_with_one_line_and_exit_1(world):
    """No token, no call can work: one line saying so, no failure row per product."""
    env = world.env | {"INGRAM_API_URL": f"http://127.0.0.1:{closed_port()}"}
    before = world.catalog()
    result = world.run("sync", *FAST_TIMINGS, env=env)
    refused(world, result, ITEMS_FAILED, "cannot connect to 127.0.0.1:")
    assert "check INGRAM_API_URL" in result.stderr
    assert world.catalog() == before
    assert world.run("failed", "--json").stdout.strip() == "[]"
    with sqlite3.connect(world.db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]
        pending = conn.execute("SELECT COUNT(*) FROM tasks WHERE state = 'pending'").fetchone()
    assert pending[0] == 1  # the batch waits for the next sync, which finishes it
    ok = world.run("sync", *FAST_TIMINGS)
    assert ok.exit_code == 0, ok.stderr
    assert "3 not found" in ok.stdout  # TRACKED are not in the sandbox's catalog


@pytest.mark.parametrize(
    "faults, message",
    [
        (FaultRates(malformed=1.0), "unexpected answer from the Ingram API: not JSON"),
        (FaultRates(error_503_html=1.0), "HTTP 503 Service Unavailable"),
    ],
)
def test_junk_answers_end_as_failures_with_a_clear_message(world, sandbox, faults, message):
    pns = sandbox.catalog.part_numbers(3)
    assert world.run("products", "add", *pns).exit_code == 0
    before = world.catalog()
    sandbox.reconfigure(faults=faults)
    result = world.run("sync", *FAST_TIMINGS, "--sku", pns[0])
    assert result.exit_code == ITEMS_FAILED, result.stderr
    assert "1 items failed" in result.stderr
    failed = world.run("failed").stdout
    assert message in failed and "<html" not in failed.lower()
    assert world.catalog() == before
