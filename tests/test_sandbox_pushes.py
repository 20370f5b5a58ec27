"""The sandbox pushes as Ingram may send: hex signatures, +08:30 times labelled UTC, other
topics on the same webhook, resources without part numbers; the receiver takes what it can."""

from __future__ import annotations

from pathlib import Path

from support.clirunner import Cli, cli_env
from support.webhook_support import SECRET, applied_events, hours_ago, query, track, wait_for

from ingram.sandbox import settings_from_options
from ingram.sandbox.pushes import push_stock
from ingram.state.store import Store
from ingram.state.webhook import webhook_intake
from ingram.webhook.server import WebhookServer, WebhookSettings


def test_every_quirk_at_once_is_received_and_the_rest_applied(sandbox_factory, tmp_path: Path):
    quirks = frozenset({"hex", "offset", "topics", "unnumbered"})
    sandbox = sandbox_factory(catalog_size=300, webhook_quirks=quirks)
    db = tmp_path / "catalog.db"
    # priced 10 h ago: a time 8.5 h behind (the +08:30 one) is still newer
    track(db, dict.fromkeys(sandbox.catalog.part_numbers(), 1), synced_at=hours_ago(10))
    with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as receiver:
        pushed = push_stock(sandbox, receiver.url, SECRET)
        assert [status for _, _, status in pushed] == [200, 200]  # stock, and an order event
        wait_for(lambda: applied_events(db) == 1, what="the stock event applied")
        stock_resources = pushed[0][1]
        wait_for(lambda: (intake(db) or {}).get("ignored") == 1, what="the order event counted")
    row = query(db, "SELECT resources, applied, skipped, event_time FROM webhook_events")[0]
    assert (row["resources"], row["applied"], row["skipped"]) == (
        stock_resources,
        stock_resources - 1,
        1,
    )
    assert hours_ago(9) < row["event_time"] < hours_ago(8)  # +08:30 read as an offset


def intake(db: Path) -> dict | None:
    store = Store.open(db, readonly=True)
    try:
        return webhook_intake(store)
    finally:
        store.close()


def test_the_quirks_are_options_of_ingram_sync_sandbox(tmp_path: Path) -> None:
    settings = settings_from_options(webhook_quirk=["hex", "topics"])
    assert settings.webhook_quirks == {"hex", "topics"}
    db = tmp_path / "c.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    shown = cli.run("sandbox", "--help")
    assert "--webhook-quirk" in shown.out and "unnumbered" in shown.out
    refused = cli.run("sandbox", "--webhook-quirk", "sideways", "--port", "0")
    assert refused.code == 2 and "sideways" in refused.err
