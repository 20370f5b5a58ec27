"""The sandbox pushes signed Stock Update events like Ingram; they land between two real syncs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.clirunner import Cli, cli_env, isolated_env
from support.processes import start
from support.webhook_support import SECRET, applied_events, query, wait_for

from ingram.sandbox import Catalog
from ingram.sandbox.pushes import MAX_RESOURCES, push_stock, stock_events
from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.webhook.server import WebhookServer, WebhookSettings


@pytest.mark.slow
def test_pushed_stock_lands_between_syncs_without_prices_and_the_next_sync_agrees(
    sandbox_factory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(catalog_size=300)
    db = tmp_path / "catalog.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    add_products(Store.open(db), sandbox.catalog.part_numbers())
    assert cli.sync("--no-details").code == 0
    before = cli.export()

    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as receiver:
        pushed = push_stock(sandbox, receiver.url, SECRET)
        assert [status for _, _, status in pushed] == [200]
        wait_for(lambda: applied_events(db) == 1, what="pushed event applied")
    after = cli.export()
    changed = [
        pn
        for i, pn in enumerate(sandbox.catalog.part_numbers())
        if sandbox.catalog.stock_changed(i)
    ]
    assert pushed[0][1] == len(changed) > 10
    for pn in changed:
        vendor = sandbox.catalog.price_availability_item(pn)["availability"]["totalAvailability"]
        assert after[pn]["total_availability"] == vendor
        assert after[pn]["customer_price"] == before[pn]["customer_price"]  # no price pushed
        assert after[pn]["sku_status"] == "Active" and after[pn]["back_order_flag"] in "YN"
        assert after[pn]["stock_pushed_at"] is not None
    moved = [
        pn for pn in changed if after[pn]["total_availability"] != before[pn]["total_availability"]
    ]
    webhook_changes = json.loads(cli.run("changes", "--source", "webhook", "--json").out)
    assert sorted(row["ingram_part_number"] for row in webhook_changes) == sorted(moved)
    assert {row["source"] for row in webhook_changes} == {"webhook"}

    assert cli.sync("--no-details").code == 0
    sync_changes = json.loads(cli.run("changes", "--source", "sync", "--json").out)
    assert sync_changes, "the new epoch's prices are seen by the sync"
    seen = {row["field"] for row in sync_changes}
    assert "customer_price" in seen and "total_availability" not in seen  # stock was current
    monitor = cli.run("monitor")
    assert (
        f"webhook intake: 1 events, {len(changed)} resources: {len(changed)} applied" in monitor.out
    )
    table = cli.run("changes", "--source", "webhook")
    assert table.code == 0 and "webhook" in table.out and "sync " not in table.out


def test_large_deltas_are_split_into_events_of_at_most_4000() -> None:
    resources = [{"ingramPartNumber": f"P{i}"} for i in range(9001)]
    events = list(stock_events(resources))
    assert [len(event["resource"]) for event in events] == [MAX_RESOURCES, MAX_RESOURCES, 1001]
    assert len({event["eventId"] for event in events}) == 3


def test_sandbox_command_pushes_every_few_seconds_to_a_receiver(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    add_products(Store.open(db), Catalog(seed=1, size=200).part_numbers())
    env = isolated_env(tmp_path, INGRAM_WEBHOOK_SECRET=SECRET)
    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as receiver:
        command = [sys.executable, "-m", "ingram", "sandbox", "--port", "0", "--catalog-size"]
        command += ["200", "--webhook-url", receiver.url, "--webhook-every", "0.2"]
        process = start(command, env=env, text=True)
        try:
            wait_for(lambda: applied_events(db) >= 2, timeout=30, what="two pushes applied")
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "pushed stock event" in out and "HTTP 200" in out
    assert SECRET not in out + err
    assert query(db, "SELECT COUNT(*) FROM products WHERE stock_pushed_at IS NOT NULL")[0][0] > 0


def test_sandbox_refuses_a_webhook_url_without_a_secret(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "ingram", "sandbox", "--webhook-url", "http://127.0.0.1:9/x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--webhook-secret" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_demo_shows_stock_arriving_by_webhook_between_two_syncs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ingram", "demo", "--products", "200"],
        env=isolated_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Stock Update webhook, simulated" in done.stderr
    db = tmp_path / "ingram_sync_demo.db"
    assert [row[0] for row in query(db, "SELECT status FROM runs")] == ["completed"] * 2
    assert applied_events(db) == 1
    pushed = query(db, "SELECT COUNT(*) FROM products WHERE stock_pushed_at IS NOT NULL")[0][0]
    assert pushed > 0
    second_sync_saw = query(db, "SELECT DISTINCT field FROM changes WHERE source = 'sync'")
    seen = {row[0] for row in second_sync_saw}
    assert "customer_price" in seen and "total_availability" not in seen  # the webhook had it
