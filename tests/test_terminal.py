"""Bars on a terminal, plain lines without one: the CLI under a pseudo-terminal and a pipe."""

from __future__ import annotations

import re

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env, run_on_pty, wait_for_running_run

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(cli: Cli, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on a pseudo-terminal; return (code, output)."""
    env = dict(cli.env, COLUMNS="120", LINES="30", TERM="xterm")
    code, output = run_on_pty(cli.command(*args), env, (30, 120), timeout)
    return code, output.decode("utf-8", "replace")


@pytest.mark.slow
def test_bars_on_a_terminal_and_plain_lines_without_one(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.005, catalog_size=150)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(150))

    code, screen = run_on_terminal(cli, "sync", *FAST_TIMINGS)
    assert code == 0, screen
    assert "\r" in screen  # tqdm redraws its bars in place
    assert re.search(r"price & availability: 100%\|.*\| 150/150", screen), screen
    assert re.search(r"details\s*: 100%\|.*\| 150/150", screen), screen
    assert "run 1 completed" in screen

    piped = cli.run("sync", *FAST_TIMINGS, "--refresh-details")
    assert piped.code == 0, piped
    for text in (piped.out, piped.err):
        assert "\r" not in text and "\x1b" not in text and "%|" not in text
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO sync started", piped.err), piped.err
    assert "run 2 completed" in piped.out


@pytest.mark.slow
def test_monitor_redraws_in_place_on_a_terminal(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(latency=0.005, catalog_size=100)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(100))
    sync = cli.start("sync", *FAST_TIMINGS[:2], "--details-interval", "0.01")
    try:
        wait_for_running_run(cli.db)
        code, screen = run_on_terminal(cli, "monitor", "--refresh", "0.1")
    finally:
        sync.communicate(timeout=60)
    assert code == 0, screen
    assert re.search(r"\x1b\[\d+F\x1b\[J", screen), "no redraw in place"
    plain = ANSI.sub("", screen)
    assert "running for" in plain
    assert "run 1 (sync) completed, took" in plain
    assert re.search(r"price & availability\s+100 / 100", plain), plain
    assert "last error: none" in plain
    assert plain.rstrip().splitlines()[-2].startswith("run 1 completed in")
