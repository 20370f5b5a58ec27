"""Read commands work for another user who may read the database but not write its folder
(the monitor over ssh, a colleague's export); where reading is impossible, the one line says
which permission is missing. Played for real: another uid, the kernel's permission checks."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.clirunner import Cli, cli_env
from support.other_user import OtherUser, make_other_user, open_folder

from ingram.sandbox import SandboxServer

pytestmark = pytest.mark.slow  # each starts as another user, after its owner's sync

READ_COMMANDS = (
    ("monitor",),
    ("products", "list"),
    ("products", "show", "4A0036"),
    ("runs",),
    ("changes",),
    ("failed",),
    ("export", "--format", "json"),
    ("db", "check"),
)


@pytest.fixture(scope="module")
def reader() -> Iterator[OtherUser]:
    user, runtime = make_other_user()
    yield user
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def shared_catalog(sandbox: SandboxServer) -> Iterator[Path]:
    """A catalog synced by its owner (root) in a folder others may enter but not write,
    the database itself readable by all: as a service user's catalog with ``chmod o+r``."""
    folder = open_folder("ingram-sync-shared-")
    db = folder / "catalog.db"
    owner = Cli(cli_env(sandbox.url, db), db, cwd=folder)
    assert owner.run("products", "add", "6YE881", "4A0036", "123512").code == 0
    assert owner.sync().code == 0
    db.chmod(0o644)
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    yield db
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_works_for_a_user_who_cannot_write_the_folder(
    reader: OtherUser, shared_catalog: Path, args: tuple[str, ...]
) -> None:
    before = sorted(shared_catalog.parent.iterdir())
    done = reader.run(shared_catalog.parent, "--db", str(shared_catalog), *args)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "readonly" not in done.stderr and "Traceback" not in done.stderr
    if args[0] == "export":
        assert {row["ingram_part_number"] for row in json.loads(done.stdout)} == {
            "6YE881",
            "4A0036",
            "123512",
        }
    assert sorted(shared_catalog.parent.iterdir()) == before  # nothing written beside it


def test_the_monitor_reads_a_live_database_through_its_write_ahead_log(
    reader: OtherUser, shared_catalog: Path
) -> None:
    """A writer has the database open (its -wal and -shm exist, readable, not writable by the
    reader): the reader sees what the writer committed, not only what the file holds."""
    writer = sqlite3.connect(shared_catalog)
    try:
        writer.execute(
            "UPDATE products SET customer_price = '12.50' WHERE ingram_part_number = ?", ("4A0036",)
        )
        writer.commit()
        assert Path(f"{shared_catalog}-shm").exists()
        done = reader.run(shared_catalog.parent, "--db", str(shared_catalog), "products", "list")
        monitor = reader.run(shared_catalog.parent, "--db", str(shared_catalog), "monitor")
    finally:
        writer.close()
    assert done.returncode == 0, done.stderr
    assert "12.50 USD" in done.stdout
    assert monitor.returncode == 0, monitor.stderr


def test_a_database_the_user_may_not_read_is_named_with_the_permission_missing(
    reader: OtherUser, shared_catalog: Path
) -> None:
    shared_catalog.chmod(0o600)
    done = reader.run(shared_catalog.parent, "--db", str(shared_catalog), "products", "list")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"cannot read database {shared_catalog}" in done.stderr
    assert "read permission" in done.stderr


def test_a_folder_the_user_may_not_enter_is_named(reader: OtherUser, shared_catalog: Path) -> None:
    shared_catalog.parent.chmod(0o700)
    done = reader.run(Path("/"), "--db", str(shared_catalog), "runs")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(shared_catalog.parent) in done.stderr and "permission" in done.stderr


def test_a_write_command_says_what_permission_it_lacks(
    reader: OtherUser, shared_catalog: Path
) -> None:
    done = reader.run(
        shared_catalog.parent, "--db", str(shared_catalog), "products", "add", "0R1XMS"
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "read-only" in done.stderr or "permission" in done.stderr
