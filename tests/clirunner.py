"""Running ``ingram-sync`` as a real subprocess against an in-test sandbox."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

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


def cli_env(sandbox_url: str, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGRAM_")}
    env.update(
        INGRAM_API_URL=sandbox_url,
        INGRAM_CLIENT_ID="sandbox-client",
        INGRAM_CLIENT_SECRET="sandbox-secret",
        INGRAM_CUSTOMER_NUMBER="20-222222",
        INGRAM_SYNC_DB=str(db),
        INGRAM_TOKEN_CACHE=str(db.parent / "token-cache"),  # never the user's own
        HOME=str(db.parent),
    )
    env.update(extra)
    return env


def run_on_pty(
    command: list[str],
    env: dict[str, str],
    size: tuple[int, int],
    timeout: float = 60,
    during: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int, bytes]:
    """Run ``command`` with stdin, stdout and stderr on a pseudo-terminal of ``size``
    (rows, columns); ``during`` is called once the first output arrived. Returns (code, bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    process = subprocess.Popen(
        command, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
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
