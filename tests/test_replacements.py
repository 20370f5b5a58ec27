"""Discontinued products and their replacements: since when gone, looked up, listed, syncing.

The sandbox marks products discontinued (details and search) and names a
replacement (search ``replacementSku``) for every second one; the CLI runs in a
subprocess against it. ``observe_lifecycle``, the seam the price file feeds, is
checked on a real database file.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.clirunner import Cli
from support.shop_support import write_config

from ingram.models import Lifecycle
from ingram.sandbox import SandboxServer
from ingram.state.history import list_changes
from ingram.state.lifecycle import observe_lifecycle
from ingram.state.products import add_products, export_products
from ingram.state.store import Store
from ingram.vocab import ChangeSource

TRACKED = 60


def replaced_in_sandbox(sandbox: SandboxServer, pns: list[str]) -> dict[str, str]:
    """Product -> replacement, as the sandbox's search names them (products with details)."""
    catalog = sandbox.catalog
    named = {}
    for index, pn in enumerate(pns):
        if catalog.details_document(pn) is not None and catalog.replacement(index):
            named[pn] = catalog.replacement(index)
    return named


@pytest.fixture
def syncing(cli: Cli, sandbox: SandboxServer) -> Cli:
    """The conftest's ``cli``, tracking the first TRACKED products of the sandbox."""
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(TRACKED)).code == 0
    return cli


def test_a_sync_looks_up_replacements_once_and_lists_them(
    syncing: Cli, sandbox: SandboxServer
) -> None:
    pns = sandbox.catalog.part_numbers(TRACKED)
    expected = replaced_in_sandbox(sandbox, pns)
    assert expected
    sandbox.reset_stats()
    assert syncing.sync().code == 0
    searches = sandbox.stats()["calls"]["search"]
    assert searches == 1  # the gone products' vendor part numbers, 100 a call
    listed = json.loads(syncing.run("products", "list", "--replaced", "--json").out)
    assert {row["ingram_part_number"]: row["replacement_part_number"] for row in listed} == (
        expected
    )
    assert all(row["discontinued"] and row["discontinued_since"] for row in listed)
    tracked_pns = set(pns)
    assert {row["ingram_part_number"] for row in listed if row["replacement_tracked"]} == {
        pn for pn, new in expected.items() if new in tracked_pns
    }
    changes = json.loads(syncing.run("changes", "--json").out)
    assert {
        c["ingram_part_number"]: c["new_value"] for c in changes if c["field"] == "replacement"
    } == (expected)
    table = syncing.run("products", "list", "--replaced").out.splitlines()
    assert table[0].split()[:2] == ["part", "number"] and len(table) == len(expected) + 1
    sandbox.reset_stats()
    assert syncing.sync().code == 0
    assert sandbox.stats()["calls"]["search"] == 0  # asked once, not at every sync


def test_track_replacements_tracks_them_and_the_summary_says_so(
    syncing: Cli, sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", "track_replacements = true\n")
    db = tmp_path / "replaced.db"
    tracking = Cli(
        {**syncing.env, "INGRAM_SYNC_CONFIG": str(config), "INGRAM_SYNC_DB": str(db)}, db
    )
    replaced = replaced_in_sandbox(sandbox, sandbox.catalog.part_numbers(TRACKED))
    assert tracking.run("products", "add", *replaced).code == 0  # not their replacements
    new = sorted(set(replaced.values()) - set(replaced))
    assert new
    done = tracking.sync()
    assert done.code == 0, done
    assert f"tracking {len(new)} replacement" in done.err
    products = {
        row["ingram_part_number"]: row
        for row in json.loads(tracking.run("products", "list", "--json").out)
    }
    assert {pn: products[pn]["status"] for pn in new} == dict.fromkeys(new, "never_synced")
    again = tracking.sync()
    assert again.code == 0 and "tracking" not in again.err
    products = {
        row["ingram_part_number"]: row
        for row in json.loads(tracking.run("products", "list", "--json").out)
    }
    assert {products[pn]["status"] for pn in new} <= {"active", "not_authorized"}
    quiet = syncing.run("products", "list", "--replaced")
    assert quiet.code == 0


def test_a_product_p_and_a_stops_finding_is_gone_until_it_comes_back(
    syncing: Cli, sandbox: SandboxServer, sandbox_factory
) -> None:
    assert syncing.sync().code == 0
    index = max(i for i in range(TRACKED) if not sandbox.catalog.discontinued(i))
    last = sandbox.catalog.part_numbers(TRACKED)[index]
    smaller = sandbox_factory(catalog_size=index)  # from it on, P&A says "not found"
    elsewhere = Cli({**syncing.env, "INGRAM_API_URL": smaller.url}, syncing.db)
    assert elsewhere.sync().code == 0
    gone = syncing.export()[last]
    assert (gone["status"], gone["discontinued_since"] is not None) == ("not_found", True)
    assert syncing.sync().code == 0  # the full catalog again: it is back
    back = syncing.export()[last]
    assert (back["status"], back["discontinued_since"]) == ("active", None)


def test_search_sourced_details_bring_the_replacement_without_a_lookup(
    syncing: Cli, sandbox: SandboxServer
) -> None:
    pns = sandbox.catalog.part_numbers(TRACKED)
    done = syncing.sync("--details-source", "search")
    assert done.code == 0, done
    listed = json.loads(syncing.run("products", "list", "--replaced", "--json").out)
    assert {row["ingram_part_number"]: row["replacement_part_number"] for row in listed} == (
        replaced_in_sandbox(sandbox, pns)
    )


def test_the_price_file_feeds_the_same_state(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    add_products(store, ["AB1234", "CD5678"])
    with store.write() as db:
        changed = observe_lifecycle(
            db,
            [
                Lifecycle("AB1234", discontinued=True, replacement=" ef9012 "),
                Lifecycle("CD5678", replacement="../../etc/passwd"),  # vendor text, not a path
                Lifecycle("NOTOURS", discontinued=True, replacement="GH3456"),
            ],
            ChangeSource.PRICEFILE,
        )
    assert changed == 1
    rows = {row["ingram_part_number"]: row for row in export_products(store)}
    assert rows["AB1234"]["discontinued"] is True and rows["AB1234"]["discontinued_since"]
    assert rows["AB1234"]["replacement_part_number"] == "EF9012"
    assert rows["CD5678"]["replacement_part_number"] is None
    assert [(c["field"], c["new_value"], c["source"]) for c in list_changes(store)] == [
        ("replacement", "EF9012", "pricefile"),
    ]  # a first word on "discontinued" is no flip: no change row for it
    with store.write() as db:
        observe_lifecycle(db, [Lifecycle("AB1234", discontinued=False)], ChangeSource.PRICEFILE)
    back = next(row for row in export_products(store, part_numbers=["AB1234"]))
    assert (back["discontinued"], back["discontinued_since"]) == (False, None)
    assert [c["new_value"] for c in list_changes(store)][-1] is False
    store.close()
    with sqlite3.connect(tmp_path / "c.db") as raw:
        assert raw.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 2  # none added
