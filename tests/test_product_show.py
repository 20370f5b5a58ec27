"""``products show PN``: one product whole, as text and as JSON (finding 5 of issue 24)."""

from __future__ import annotations

import json
import re

import pytest

from ingram.sandbox import SandboxServer
from ingram.state.product_view import sources


@pytest.mark.slow
def test_show_gives_price_stock_by_warehouse_details_key_failures_and_changes(
    make_cli, sandbox_factory
):
    sandbox: SandboxServer = sandbox_factory(failing_details_part_numbers=["123512"])
    cli = make_cli(sandbox)
    assert cli.run("products", "add", "4A0036", "123512", "--cpn", "CP-6YE881").code == 0
    assert cli.sync().code == 1  # 123512's details fail
    sandbox.reconfigure(price_epoch=1)
    cli.sync("--sku", "4A0036")
    text = cli.run("products", "show", "4a0036")
    assert text.code == 0, text
    out = text.out
    assert out.startswith("4A0036  ")
    assert re.search(r"price\s+\d+\.\d\d USD; retail \d+\.\d\d, MAP \d+\.\d\d", out), out
    assert "from P&A" in out and "from details" in out
    assert re.search(r"warehouse\s+location\s+available\s+backordered\s+on order", out)
    assert "specs (" in out and "Manufacturer Part Number" in out
    assert "customer_price" in out and " -> " in out  # its last changes
    assert "None" not in out

    failing = cli.run("products", "show", "123512").out
    assert "failures    open" in failing and "details in run 1" in failing

    keyed = json.loads(cli.run("products", "show", "6YE881", "--json").out)
    assert (keyed["user_key_type"], keyed["user_key"]) == ("customerPartNumber", "CP-6YE881")
    assert keyed["status"] == "not_authorized"
    assert "may not buy it" in cli.run("products", "show", "6YE881").out
    for name in ("warehouses", "discounts", "specs", "sources", "open_failures", "last_changes"):
        assert name in keyed
    assert isinstance(keyed["customer_price"], float) and keyed["warehouses"]
    assert keyed["sources"]["price"]["from"] == "P&A"


@pytest.mark.slow
def test_show_of_an_untracked_part_number_says_how_to_track_it(cli):
    assert cli.run("products", "add", "6YE881").code == 0
    result = cli.run("products", "show", "ZZZZZ9")
    assert result.code == 2
    assert result.err.strip() == (
        "Error: ZZZZZ9 is not tracked: track it with `ingram-sync products add ZZZZZ9`, then sync"
    )


def test_stock_pushed_after_the_last_p_and_a_is_said_to_come_from_the_webhook():
    product = {
        "pa_synced_at": "2026-12-01T10:00:00.000Z",
        "stock_pushed_at": "2026-12-01T10:15:00.000Z",
        "details_synced_at": None,
    }
    seen = sources(product, None)
    assert seen["stock"] == {"at": "2026-12-01T10:15:00.000Z", "from": "webhook"}
    assert seen["price"]["from"] == "P&A" and seen["details"]["at"] is None
    older = sources(product | {"stock_pushed_at": "2026-12-01T09:00:00.000Z"}, "search")
    assert older["stock"]["from"] == "P&A" and older["details"]["from"] == "search"
