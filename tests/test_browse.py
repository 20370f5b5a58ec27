"""``ingram-sync browse``: the catalog in Datasette, read-only, described, faceted, with
canned queries and a dashboard whose charts render offline. Looked at for real, in headless
Chromium that can reach nothing but loopback."""

from __future__ import annotations

import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import page_dom, screenshot
from support.clirunner import Cli

from ingram.browse.metadata import catalog_metadata, columns_of
from ingram.browse.queries import CANNED_QUERIES
from ingram.sandbox import SandboxServer
from ingram.state.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def synced(make_cli, sandbox_factory) -> Cli:
    """A catalog after two syncs: prices moved between them, one part number failing."""
    sandbox: SandboxServer = sandbox_factory(catalog_size=60, failing_part_numbers=["0R1XMS"])
    cli = make_cli(sandbox)
    assert (
        cli.run(
            "products", "add", "6YE881", "4A0036", "123512", *sandbox.catalog.part_numbers(40)
        ).code
        == 0
    )
    assert cli.sync().code == 1
    sandbox.reconfigure(price_epoch=1)
    assert cli.sync().code == 1
    return cli


@pytest.fixture
def browsing(synced: Cli) -> Iterator[str]:
    """``ingram-sync browse --port 0`` running; its URL."""
    proc = synced.start("browse", "--port", "0")
    for line in proc.lines("err", timeout=60):
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            break
    else:
        raise AssertionError(f"browse did not say where: {proc.text('err')}")
    yield match[1]
    proc.terminate()
    proc.communicate(timeout=30)


def test_every_table_and_column_of_the_catalog_is_described(tmp_path):
    store = Store.open(tmp_path / "fresh.db")
    metadata = catalog_metadata("fresh", columns_of(store.db))
    tables = metadata["databases"]["fresh"]["tables"]
    assert {"products", "runs", "tasks", "failures", "changes", "product_warehouses"} <= set(tables)
    for name, table in tables.items():
        assert table["description"] and "not described" not in table["description"], name
        for column, text in table.get("columns", {}).items():
            assert text and "not described" not in text, (name, column)
    assert tables["products"]["facets"] == ["vendor_name", "category", "status"]
    assert tables["_migrations"]["hidden"] and tables["product_documents"]["hidden"]


@pytest.mark.slow
def test_each_canned_query_runs_on_a_synced_catalog(synced: Cli):
    db = sqlite3.connect(f"file:{synced.db}?mode=ro", uri=True)
    try:
        for name, query in CANNED_QUERIES.items():
            assert db.execute(query["sql"]).fetchall() is not None, name
    finally:
        db.close()


@pytest.mark.slow
def test_a_reseller_sees_the_catalog_and_whether_syncs_are_healthy(
    browsing: str, synced: Cli, tmp_path: Path, chromium: str
):
    name = synced.db.stem
    home = page_dom(chromium, browsing)
    assert "ingram-sync catalog" in home and "read-only" in home

    products = page_dom(chromium, f"{browsing}{name}/products")
    for facet in ("vendor_name", "category", "status"):
        assert f'data-column="{facet}"' in products or f"facet-{name}-products-{facet}" in products
    assert "LENOVO" in products and "DELL" in products  # a vendor facet's values
    assert re.search(r"\d+\.\d\d USD", products)  # prices with their currency
    assert re.search(r"[\d,]+ units", products)  # stock with its unit
    assert 'data-column-description="your price, in the product' in products

    listing = page_dom(chromium, f"{browsing}{name}")
    for query in CANNED_QUERIES.values():
        assert query["title"] in listing

    failures = page_dom(chromium, f"{browsing}{name}/open_failures")
    assert "0R1XMS" in failures and "http_error" in failures
    moves = page_dom(chromium, f"{browsing}{name}/price_moves_this_week")
    assert 'class="col-old_price"' in moves and re.search(r"\d+\.\d\d USD", moves)
    floor = page_dom(chromium, f"{browsing}{name}/runs_against_their_floor")
    assert re.search(r"\d+(\.\d)? s", floor)

    dashboard = page_dom(chromium, f"{browsing}-/dashboards/sync-health")
    assert "Sync health" in dashboard
    charts = re.findall(r'<div id="chart-([a-z-]+)"[^>]*>(.*?)</div>\s*</div>', dashboard, re.S)
    drawn = {slug for slug, body in charts if "<svg" in body}
    assert {"run-durations", "failures-by-kind", "price-moves"} <= drawn, sorted(drawn)
    assert "took vs floor" in dashboard and "error kind" in dashboard and "price moves" in dashboard
    screenshot(
        chromium, f"{browsing}-/dashboards/sync-health", tmp_path / "dashboard.png"
    )  # it renders


@pytest.mark.slow
def test_browse_writes_nothing_and_refuses_writes(browsing: str, synced: Cli):
    name = synced.db.stem
    before = synced.export()
    sql = urllib.parse.quote("DELETE FROM products")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{browsing}{name}.json?sql={sql}", timeout=30)
    assert refused.value.code == 400
    assert synced.export() == before


@pytest.mark.slow
def test_the_pages_load_nothing_from_another_host(browsing: str, synced: Cli):
    for path in ("", f"{synced.db.stem}/products", "-/dashboards/sync-health"):
        html = urllib.request.urlopen(f"{browsing}{path}", timeout=30).read().decode()
        sources = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        loaded = [s for s in sources if not s.startswith("http://127.0.0.1")]
        assert all("datasette.io" in s for s in loaded), loaded  # the footer's link only


@pytest.mark.slow
def test_browse_without_a_database_refuses(make_cli, sandbox, tmp_path):
    result = make_cli(sandbox, db="nothing.db").run("browse", "--port", "0")
    assert result.code == 2 and "no database at" in result.err
    assert not (tmp_path / "nothing.db").exists()


def test_the_docs_show_the_dashboard():
    page = (ROOT / "docs" / "browse.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert images and all((ROOT / "docs" / image).exists() for image in images)
    assert "pip install 'ingram-sync[browse]'" in page
