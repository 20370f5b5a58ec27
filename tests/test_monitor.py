"""The monitor's view of a run, computed from runs rows (no processes, no sockets)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from ingram.output.monitor import build_view, process_alive, render_line, render_screen
from ingram.output.reports import clock, took

STARTED = datetime(2026, 5, 1, 4, 15, tzinfo=UTC)


def row(**values) -> dict:
    base = dict(
        id=7, kind="sync", status="running", started_at="2026-05-01T04:15:00.000Z",
        finished_at=None, pid=os.getpid(), host=socket.gethostname(), products=1000,
        pa_batches=20, pa_batches_done=10, pa_products_done=500, not_found=0,
        details_total=400, details_done=100, failures=0, pa_requests=11, details_requests=101,
        retries=2, rate_limited=1, last_error=None,
    )  # fmt: skip
    return base | values


def test_rates_and_etas_from_the_counters():
    view = build_view(row(), {}, None, True, STARTED + timedelta(seconds=60))
    assert view.running
    assert (view.pa.done, view.pa.total, view.pa.rate, view.pa.eta) == (500, 1000, 500.0, 60.0)
    assert (view.details.rate, view.details.eta) == (100.0, 180.0)
    screen = "\n".join(render_screen(view))
    assert "run 7 (sync) running for 1:00" in screen
    assert "500 / 1000" in screen and "500/min" in screen and "1:00" in screen
    assert "retries 2; 429s 1" in screen


def test_failed_items_count_as_done_and_the_last_failure_is_shown():
    failure = {"kind": "details", "ingram_part_number": "6YE881", "error": "HTTP 500 after 4"}
    view = build_view(
        row(failures=3), {"price_availability": 2, "details": 1}, failure, True, STARTED
    )
    assert view.pa.done == 502 and view.pa.failed == 2 and view.details.failed == 1
    assert view.pa.rate is None and view.pa.eta is None  # no time has passed yet
    assert "last error: details 6YE881: HTTP 500 after 4" in render_line(view)


def test_a_dead_process_is_reported_not_waited_for():
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    dead_pid = int(child.stdout)
    assert process_alive(dead_pid, socket.gethostname()) is False
    assert process_alive(os.getpid(), socket.gethostname()) is True
    assert process_alive(os.getpid(), "another-host") is None
    view = build_view(row(pid=dead_pid), {}, None, False, STARTED + timedelta(seconds=5))
    assert view.process_gone and not view.running
    assert f"process {dead_pid} is gone" in render_line(view)
    unknown = build_view(row(host="another-host"), {}, None, None, STARTED)
    assert unknown.running and not unknown.process_gone


def test_a_finished_run_uses_each_streams_own_span():
    finished = row(
        status="completed", finished_at="2026-05-01T04:17:00.000Z", pa_products_done=1000,
        pa_batches_done=20, details_done=400,
    )  # fmt: skip
    spans = {"price_availability": 30.0, "details": 120.0}
    view = build_view(finished, {}, None, None, STARTED + timedelta(hours=1), spans)
    assert not view.running and view.elapsed == 120.0
    assert (view.pa.rate, view.details.rate) == (2000.0, 200.0)
    assert view.pa.eta == 0.0
    assert "run 7 (sync) completed, took 2:00" in render_screen(view)[0]


def test_durations_read_well():
    assert (clock(None), clock(5), clock(75), clock(3725)) == ("-", "0:05", "1:15", "1:02:05")
    assert (took(4.12), took(75)) == ("4.1s", "1:15")
