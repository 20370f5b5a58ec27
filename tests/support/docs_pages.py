"""The docs' pages and what tests do with them: their code blocks, the sandbox they start."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from click.testing import CliRunner

from ingram.cli import cli
from support.clirunner import isolated_env
from support.processes import Started, start

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GETTING_STARTED = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
CRON_PAGE = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")


def parses(argv: list[str]) -> bool:
    """Whether ``ingram-sync`` accepts ``argv`` (``--help`` at the end: nothing runs)."""
    result = CliRunner().invoke(cli, [*argv, "--help"])
    return result.exit_code == 0 and "Usage: cli sync" in result.output


def section_blocks(text: str, heading: str) -> list[list[str]]:
    """The code blocks of one section of a Markdown page, as lists of lines."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip().splitlines() for block in section.split("```")[1::2]]


def start_sandbox(home: Path, *args: str) -> tuple[Started, dict[str, str]]:
    """``ingram-sync sandbox ARGS``, and the variables its announcement says to export."""
    proc = start(
        [sys.executable, "-m", "ingram", "sandbox", *args], env=isolated_env(home), text=True
    )
    exports: dict[str, str] = {}
    for line in proc.lines():
        if line.startswith("Stop it"):
            return proc, exports
        if line.strip().startswith("export "):
            name, value = line.split("#")[0].strip()[len("export ") :].split("=", 1)
            exports[name] = value
    raise AssertionError("the sandbox did not announce itself")


def stop(proc: Started) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
