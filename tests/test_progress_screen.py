"""The progress screen as a person sees it: a VT100 emulator (pyte) renders the terminal."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import time
from collections.abc import Callable

import pyte
import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env, run_on_pty, wait_for_running_run

from ingram.output.progress import BarProgress

COLUMNS, ROWS = 100, 30
SLOW_DETAILS = ("--pa-rate", "6000", "--details-interval", "0.01", *FAST_TIMINGS[4:])


def render(data: bytes, columns: int = COLUMNS) -> list[str]:
    """The visible screen, one string per non-empty line."""
    screen = pyte.Screen(columns, ROWS)
    pyte.ByteStream(screen).feed(data)
    return [line.rstrip() for line in screen.display if line.strip()]


def on_terminal(
    cli: Cli,
    *args: str,
    term: str = "xterm",
    during: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int, bytes]:
    """Run the CLI on a pseudo-terminal of COLUMNS x ROWS; return (exit code, raw output)."""
    env = {k: v for k, v in cli.env.items() if k not in ("COLUMNS", "LINES")} | {"TERM": term}
    return run_on_pty(cli.command(*args), env, (ROWS, COLUMNS), during=during)


def tty_bytes(out: io.StringIO) -> bytes:
    """What a terminal receives: the tty driver turns each newline into CR LF."""
    return out.getvalue().replace("\n", "\r\n").encode()


def bar_lines(screen: list[str]) -> list[str]:
    return [line for line in screen if line.startswith(("price & availability", "details "))]


def elapsed_of(line: str) -> int:
    minutes, seconds = re.search(r"\[(\d\d):(\d\d)", line).groups()
    return int(minutes) * 60 + int(seconds)


def tracked_cli(sandbox_factory, tmp_path, count: int) -> Cli:
    sandbox = sandbox_factory(latency=0.002, catalog_size=count)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(count))
    return cli


@pytest.mark.slow
def test_last_screen_has_each_bar_once_in_order_frozen_at_its_own_end(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 250)
    code, raw = on_terminal(cli, "sync", *SLOW_DETAILS)
    assert code == 0, raw
    screen = render(raw)
    bars = bar_lines(screen)
    assert len(bars) == 2, screen
    pa, details = bars
    assert pa.startswith("price & availability: 100%|") and pa.endswith("product/s]")
    assert "250/250" in pa
    assert re.match(r"details\s+: 100%\|.*\| 250/250", details), details
    # P&A (5 calls at 6,000 a minute) ended long before the details (250 at 0.01 s): its bar
    # shows its own time, not the run's.
    assert elapsed_of(pa) < elapsed_of(details) and elapsed_of(details) >= 2, bars
    assert screen.index(pa) + 1 == screen.index(details)
    assert screen[screen.index(details) + 1].startswith("run 1 completed")
    assert all(len(line) <= COLUMNS for line in screen)


def test_routine_run_says_no_details_are_due(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 60)
    assert cli.sync().code == 0
    code, raw = on_terminal(cli, "sync", *FAST_TIMINGS)
    bars = bar_lines(render(raw))
    assert code == 0 and len(bars) == 2, bars
    assert bars[1] == "details             : none due"


def test_ctrl_c_leaves_the_two_bars_and_nothing_else(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 300)

    def interrupt(process: subprocess.Popen) -> None:
        time.sleep(0.8)
        process.send_signal(signal.SIGINT)

    code, raw = on_terminal(
        cli, "sync", "--pa-rate", "6000", "--details-interval", "0.05", during=interrupt
    )
    assert code == 130, raw
    screen = render(raw)
    bars = bar_lines(screen)
    assert len(bars) == 2, screen
    assert "%" not in bars[1] or "300/300" in bars[0]
    after = screen[screen.index(bars[1]) + 1 :]
    assert not bar_lines(after) and not any("%|" in line for line in after), screen
    assert any("interrupted" in line for line in after)


def test_details_percentage_waits_for_its_total_and_never_goes_back():
    out = io.StringIO()
    progress = BarProgress(out)
    seen: list[list[str]] = []

    def snapshot() -> None:
        progress.draw(force=True)
        seen.append(bar_lines(render(tty_bytes(out))))

    progress.start(100, 0)
    progress.pa_advance(50)
    progress.details_total(50)
    progress.details_advance(40)
    snapshot()
    assert seen[-1][0].startswith("price & availability:  50%|")
    assert "%" not in seen[-1][1] and "40product" in seen[-1][1], seen[-1]
    progress.pa_advance(50)
    progress.details_total(80)  # known now: all batches landed
    snapshot()
    progress.details_advance(40)
    snapshot()
    progress.close()
    percents = [int(re.search(r"(\d+)%", lines[1])[1]) for lines in seen[1:]]
    assert percents == [50, 100]
    final = bar_lines(render(tty_bytes(out)))
    assert final[1].startswith("details             : 100%|") and "80/80" in final[1]


def test_dumb_terminal_gets_no_escape_codes(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 60)
    code, raw = on_terminal(cli, "sync", *FAST_TIMINGS, term="dumb")
    assert code == 0
    assert b"\x1b" not in raw and b"\r\n" in raw  # the terminal's own newlines only
    assert b"%|" not in raw
    assert b"run 1 completed" in raw


def test_no_progress_flag_draws_no_bars_and_logs_progress_to_the_file(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 60)
    log = tmp_path / "sync.log"
    code, raw = on_terminal(cli, "sync", *FAST_TIMINGS, "--no-progress", "--log-file", str(log))
    assert code == 0
    assert b"\x1b[" not in raw and b"%|" not in raw
    assert b"sync started" not in raw
    assert render(raw)[-1].startswith("run 1 completed") or "run 1 completed" in raw.decode()
    assert "sync started: 60 products to price" in log.read_text()


def test_demo_takes_no_progress_too(tmp_path):
    cli = Cli(cli_env("http://127.0.0.1:9", tmp_path / "unused.db"), tmp_path / "unused.db")
    demo_db = str(tmp_path / "demo.db")  # a new file: the demo makes it its own
    code, raw = on_terminal(cli, "--db", demo_db, "demo", "--products", "30", "--no-progress")
    assert code == 0, raw
    assert b"%|" not in raw and b"price & availability" not in raw
    assert b"run 2 completed" in raw


def test_log_lines_go_above_the_bars():
    out = io.StringIO()
    progress = BarProgress(out)
    progress.start(100, 0)
    progress.write_above("2026-11-29T03:00:00Z INFO details task 7 failed")
    progress.pa_advance(100)
    progress.write_above("second line")
    progress.close()
    screen = render(tty_bytes(out))
    assert screen[0] == "2026-11-29T03:00:00Z INFO details task 7 failed"
    assert screen[1] == "second line"
    assert screen[2].startswith("price & availability: 100%|")
    assert screen[3] == "details             : none due"
    assert len(screen) == 4


@pytest.mark.slow
def test_monitor_on_a_dumb_terminal_prints_lines_without_escape_codes(sandbox_factory, tmp_path):
    cli = tracked_cli(sandbox_factory, tmp_path, 200)
    screens = {}
    for number, term in enumerate(("xterm", "dumb"), start=1):
        sync = cli.start(
            "sync", "--pa-rate", "6000", "--details-interval", "0.01", "--refresh-details"
        )
        try:
            wait_for_running_run(cli.db)
            screens[term] = on_terminal(cli, "monitor", "--refresh", "0.1", term=term)
        finally:
            sync.communicate(timeout=60)
        assert screens[term][0] == 0, screens[term]
        assert f"run {number} completed".encode() in screens[term][1]
    assert b"\x1b[" in screens["xterm"][1]  # redrawn in place where the terminal can
    assert b"\x1b" not in screens["dumb"][1]
    assert screens["dumb"][1].count(b"running") >= 2  # one line per refresh instead
