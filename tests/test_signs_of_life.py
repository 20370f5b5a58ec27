"""Signs of life (finding 6 of issue 24): retry waits on the bars' status line, in the log
and in ``monitor``; the monitor's details ETA from what is known; the details bar on its own
clock; ``products discover`` showing its progress."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from support.clirunner import run_on_pty, wait_for_running_run

from ingram.models import RetryWait, Waiting
from ingram.output import progress as progress_module
from ingram.output.monitor import build_view, render_line, render_screen
from ingram.output.progress import BarProgress
from ingram.output.reports import waiting_text

PNS = ("6YE881", "4A0036", "123512")
WAIT = RetryWait(30.0, 2, 3, "HTTP 500", "P&A request for 3 part numbers: HTTP 500 ...")


def test_a_wait_reads_as_the_issue_asks():
    wait = Waiting("P&A batch 1", WAIT, until=1000.0)
    assert waiting_text([wait]) == "waiting 30 s before retry 2 of P&A batch 1 (HTTP 500)"
    assert (
        waiting_text([wait], now=997.5) == "waiting 2.5 s before retry 2 of P&A batch 1 (HTTP 500)"
    )
    two = waiting_text([wait, Waiting("details of 4A0036", WAIT, until=1010.0)], now=990.0)
    assert two == "waiting 10 s before retry 2 of P&A batch 1 (HTTP 500); 1 more waiting"
    assert waiting_text([]) is None


@pytest.mark.slow
def test_the_bars_show_the_wait_on_their_status_line(make_cli, sandbox_factory):
    sandbox = sandbox_factory(failing_part_numbers=["6YE881"])
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *PNS).code == 0
    env = {k: v for k, v in cli.env.items() if k not in ("COLUMNS", "LINES")} | {"TERM": "xterm"}
    args = ("sync", "--no-details", "--pa-retry-waits", "1.5", "--pa-rate", "6000")
    code, raw = run_on_pty(cli.command(*args), env, (30, 120))
    assert code == 1
    assert b"before retry 1 of P&A batch 1 (HTTP 500)" in raw, raw[-2000:]


@pytest.mark.slow
def test_log_lines_say_each_wait_once_when_stderr_is_no_terminal(make_cli, sandbox_factory):
    sandbox = sandbox_factory(failing_part_numbers=["6YE881"])
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *PNS).code == 0
    result = cli.run("sync", "--no-details", "--pa-retry-waits", "0.6,0.6", "--pa-rate", "6000")
    assert result.code == 1
    said = [line for line in result.err.splitlines() if "before retry" in line]
    assert [line.split(" INFO ")[1] for line in said] == [
        "waiting 0.6 s before retry 1 of P&A batch 1 (HTTP 500)",
        "waiting 0.6 s before retry 2 of P&A batch 1 (HTTP 500)",
        "waiting 0.6 s before retry 1 of P&A batch 2 (HTTP 500)",
        "waiting 0.6 s before retry 2 of P&A batch 2 (HTTP 500)",
    ]


@pytest.mark.slow
def test_the_monitor_shows_the_wait_and_the_error_being_retried(make_cli, sandbox_factory):
    sandbox = sandbox_factory(failing_part_numbers=["6YE881"])
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *PNS).code == 0
    sync = cli.start("sync", "--no-details", "--pa-retry-waits", "4", "--pa-rate", "6000")
    wait_for_running_run(cli.db)
    time.sleep(1.0)  # the first attempt has failed: the run waits 4 s before its retry
    watched = cli.run("monitor", "--refresh", "0.2", timeout=60)
    sync.communicate(timeout=60)
    lines = watched.out.splitlines()
    waiting = [line for line in lines if "before retry 1 of P&A batch 1 (HTTP 500)" in line]
    assert waiting, watched.out
    assert "last error: P&A batch 1 (being retried): HTTP 500" in waiting[0]
    assert "last error: none" not in watched.out
    assert cli.run("runs", "show", "1", "--json").code == 0
    row = json.loads(cli.run("runs", "show", "1", "--json").out)[0]
    assert row["status"] == "completed_with_failures"


def running_row(**values) -> dict:
    base = dict(
        id=3, kind="sync", status="running", started_at="2026-05-01T04:15:00.000Z",
        finished_at=None, pid=None, host=None, products=1000, pa_batches=20,
        pa_batches_done=20, pa_products_done=1000, not_found=0, details_total=120,
        details_done=5, failures=0, pa_requests=20, details_requests=5, retries=0,
        rate_limited=0, last_error=None, pacing=json.dumps({"details": {"spacing": 1.0}}),
    )  # fmt: skip
    return base | values


def test_the_details_eta_follows_the_details_own_pace_and_the_limiter():
    started = datetime(2026, 5, 1, 4, 15, tzinfo=UTC)
    # 60 s into the run, details began 5 s ago and did 5: about 115 s to go, not 23 minutes
    view = build_view(running_row(), {}, None, None, started + timedelta(seconds=60),
                      {"details": 5.0})  # fmt: skip
    assert view.details.eta == pytest.approx(115.0)
    assert view.details.rate == pytest.approx(60.0)
    # None done yet: the limiter's spacing alone says at least 120 s
    fresh = build_view(running_row(details_done=0), {}, None, None, started, {"details": 0.0})
    assert fresh.details.eta == pytest.approx(120.0)
    assert "2:00" in render_line(fresh)


def test_the_monitor_screen_names_the_wait():
    waits = json.dumps([Waiting("P&A batch 1", WAIT, until=time.time() + 20).as_json()])
    now = datetime.now(UTC)
    row = running_row(started_at=now.isoformat(), activity=waits)
    view = build_view(row, {}, None, None, now)
    screen = "\n".join(render_screen(view))
    assert "now: waiting " in screen and "before retry 2 of P&A batch 1 (HTTP 500)" in screen
    assert "last error: P&A batch 1 (being retried): P&A request for 3 part numbers" in screen


def test_the_details_bar_keeps_its_own_clock(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bars = BarProgress(out)
    bars.start(pa_total=100, details_total=0)
    clock[0] = 102.0
    bars.pa_advance(50)
    bars.details_total(20)  # the first batch queued details, 2 s in
    clock[0] = 104.0
    bars.details_advance(20)
    clock[0] = 110.0
    bars.pa_advance(50)  # P&A ends 10 s in; details ended at 4 s, after 2 s of their own
    lines = bars.render(clock[0]).splitlines()
    assert "00:10" in lines[0] and "100/100" in lines[0]
    assert "00:02" in lines[1] and "20/20" in lines[1] and "10.00product/s" in lines[1]
    bars.close()


@pytest.mark.slow
def test_discover_shows_its_progress_on_a_terminal(make_cli, sandbox_factory):
    sandbox = sandbox_factory(catalog_size=400)
    cli = make_cli(sandbox)
    env = {k: v for k, v in cli.env.items() if k not in ("COLUMNS", "LINES")} | {"TERM": "xterm"}
    args = ("products", "discover", "--vendor", "DELL", "--limit", "300", "--timeout", "5")
    code, raw = run_on_pty(cli.command(*args), env, (30, 120))
    assert code == 0, raw
    assert b"searching the catalog" in raw and b"match" in raw
