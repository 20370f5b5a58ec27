"""Running ``ingram-sync`` as a real subprocess against an in-test sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
