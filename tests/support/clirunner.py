"""Running ``ingram-sync`` as a real subprocess against an in-test sandbox, in an environment
of its own: no ``INGRAM_*`` variable of the shell, and HOME (config file, token cache) inside
the test's folder, so that tests running side by side share nothing."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from click.testing import Result as InProcessResult

from ingram.cli import cli
from support.processes import Started, start

FAST_TIMINGS = (
    "--pa-rate", "6000",
    "--details-interval", "0.002",
    "--pa-retry-waits", "0.01,0.02,0.05",
    "--details-retry-waits", "0.01,0.02,0.05",
    "--timeout", "5",
)  # fmt: skip


@dataclass
class Cli:
    """``ingram-sync`` bound to one database and one sandbox."""

    env: dict[str, str]
    db: Path
    cwd: Path | None = None  # where relative database paths land

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ingram", *args]

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> Result:
        done = subprocess.run(
            self.command(*args),
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, **kwargs: Any) -> Started:
        """In the background, its output read as it comes (``communicate`` gives it)."""
        kwargs.setdefault("text", True)
        return start(self.command(*args), env=self.env, cwd=self.cwd, **kwargs)

    def sync(self, *args: str, timeout: float = 120) -> Result:
        return self.run("sync", *FAST_TIMINGS, *args, timeout=timeout)

    def export(self) -> dict[str, dict[str, Any]]:
        result = self.run("export", "--format", "json")
        assert result.code == 0, result.stderr
        return {row["ingram_part_number"]: row for row in json.loads(result.out)}


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


# Where the shell's settings would reach into a test: ingram-sync's own variables, and the
# folders the config file and the token cache are looked for in.
NOT_INHERITED = ("XDG_CACHE_HOME", "XDG_CONFIG_HOME")


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without ``INGRAM_*`` and with HOME at ``home``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("INGRAM_") and k not in NOT_INHERITED
    }
    env.update(HOME=str(home), **extra)
    return env


def cli_env(sandbox_url: str, db: Path, **extra: str) -> dict[str, str]:
    """The environment pointing ``ingram-sync`` at ``sandbox_url`` and the database ``db``."""
    env = isolated_env(
        db.parent,
        INGRAM_API_URL=sandbox_url,
        INGRAM_CLIENT_ID="sandbox-client",
        INGRAM_CLIENT_SECRET="sandbox-secret",
        INGRAM_CUSTOMER_NUMBER="20-222222",
        INGRAM_SYNC_DB=str(db),
        INGRAM_TOKEN_CACHE=str(db.parent / "token-cache"),  # never the user's own
    )
    env.update(extra)
    return env


def invoke(env: dict[str, str], *args: str) -> InProcessResult:
    """``ingram-sync ARGS`` in this process (click's runner): fast, for matrices of bad input.

    The runner only sets ``env``; the conftest keeps ``INGRAM_*`` out of this process."""
    return CliRunner().invoke(cli, list(args), env=env, prog_name="ingram-sync")


def run_row(db: Path, run_id: int | None = None) -> dict[str, Any] | None:
    """The runs table's row ``run_id``, else its newest; None if there is none."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM runs " + ("WHERE id = ?" if run_id else "ORDER BY id DESC LIMIT 1")
        row = conn.execute(sql, (run_id,) if run_id else ()).fetchone()
    finally:
        conn.close()
    return None if row is None else dict(row)


def wait_for_running_run(db: Path, timeout: float = 20.0) -> dict[str, Any]:
    """The newest run once a sync in another process has started it and counted its products."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                row = run_row(db)
            except sqlite3.OperationalError:
                row = None
            if row and row["status"] == "running" and row["products"]:
                return row
        time.sleep(0.02)
    raise AssertionError("no running run appeared")


def run_on_pty(
    command: list[str],
    env: dict[str, str],
    size: tuple[int, int],
    timeout: float = 60,
    during: Callable[[Started], None] | None = None,
) -> tuple[int, bytes]:
    """Run ``command`` with stdin, stdout and stderr on a pseudo-terminal of ``size``
    (rows, columns); ``during`` is called once the first output arrived. Returns (code, bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    process = start(command, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if during and chunks:
            during(process)
            during = None
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(10), b"".join(chunks)
