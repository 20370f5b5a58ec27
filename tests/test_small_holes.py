"""Smaller holes: failures of removed products, a reused pid under monitor, negative prices."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from support.clirunner import Cli, cli_env

from ingram.api.parsing import parse_price_availability
from ingram.clock import format_time
from ingram.errors import ApiError
from ingram.policy import Trigger
from ingram.state.products import add_products, remove_products
from ingram.state.runs import create_run, run_row
from ingram.state.saving import save_failure
from ingram.state.store import Store
from ingram.state.tasks import open_tasks, plan_pa_tasks
from ingram.vocab import StreamKind


def test_a_failure_recorded_after_its_products_removal_is_dropped(tmp_path):
    store = Store.open(tmp_path / "s.db")
    add_products(store, ["KEEP1", "GONE2"])
    run_id = create_run(store, "sync", {})
    plan_pa_tasks(store, run_id, [["KEEP1", "GONE2"]])
    [(task_id, pns)] = open_tasks(store, [run_id], StreamKind.PA, 0)
    remove_products(store, ["GONE2"])  # while the batch's call was in flight
    save_failure(
        store,
        run_id,
        task_id,
        StreamKind.PA,
        pns,
        ApiError("HTTP 500", trigger=Trigger.HTTP_5XX, http_status=500),
    )
    rows = store.db.execute("SELECT ingram_part_number FROM failures").fetchall()
    assert [row[0] for row in rows] == ["KEEP1"]
    assert run_row(store, run_id)["failures"] == 1


def test_monitor_ends_when_the_runs_pid_now_belongs_to_another_process(tmp_path):
    db = tmp_path / "c.db"
    store = Store.open(db)
    run_id = create_run(store, "sync", {})
    younger = subprocess.Popen(["sleep", "30"])  # the pid a reboot or wrap-around handed on
    try:
        store.db.execute(
            "UPDATE runs SET pid = ?, started_at = ? WHERE id = ?",
            (younger.pid, format_time(datetime.now(UTC) - timedelta(hours=1)), run_id),
        )
        store.close()
        cli = Cli(cli_env("http://127.0.0.1:9", db), db)
        watched = cli.run("monitor", "--refresh", "0.05", timeout=20)
    finally:
        younger.kill()
        younger.wait()
    assert watched.code == 1, watched
    assert f"process {younger.pid} is gone" in watched.out


@pytest.mark.parametrize("field", ["customerPrice", "retailPrice", "mapPrice"])
def test_a_negative_price_is_malformed(field):
    item = {
        "ingramPartNumber": "6YE881",
        "productStatusCode": "",
        "pricing": {"customerPrice": 74.34, "retailPrice": 99.0, field: -0.01},
        "availability": {"available": True, "totalAvailability": 3},
    }
    [parsed] = parse_price_availability(json.loads(json.dumps([item])))
    assert parsed.problem is not None and f"{field} is negative" in parsed.problem  # one item fails
