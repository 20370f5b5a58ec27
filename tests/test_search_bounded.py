"""Issue 19 §2: ``--details-source search`` never pages without bound.

Before, each P&A batch's search followed ``nextPage`` to the end: against a search
that ignores the ``vendorPartNumber`` filter, the whole catalog for four products.
Now one page is asked (it holds every product the keys name); a page holding
products no key names means the filter did not work, and the search source is
dropped for the rest of the run with one warning. Search calls count in the run.
"""

from __future__ import annotations

import json
import sqlite3


def run_counts(db) -> dict:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone())


def test_a_search_that_ignores_the_filter_is_dropped_after_one_page(sandbox_factory, make_cli):
    server = sandbox_factory(catalog_size=3000, search_ignores_filter=True)
    cli = make_cli(server)
    pns = server.catalog.part_numbers(60)  # two P&A batches: 50 and 10
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--details-source", "search")
    assert result.code == 0, result
    calls = server.stats()["calls"]
    # not 30 pages a batch, and the second batch asks none; after the run, the replacements
    # of products that went are looked up once more (issue 20): one search at most
    assert run_counts(cli.db)["search_requests"] == 1 and calls["search"] <= 2
    assert calls["details"] == 60  # every product from the details endpoint instead
    assert result.err.count("ignores the vendorPartNumber filter") == 1, result.err
    run = run_counts(cli.db)
    assert run["search_requests"] == 1 and json.loads(run["answers"])["search"] == {"200": 1}
    assert "60 details, 1 search;" in result.out, result.out
    assert set(cli.export()) == set(pns)  # the catalog's other products were not taken


def test_a_search_that_keeps_to_its_filter_asks_one_page_a_batch(sandbox_factory, make_cli):
    server = sandbox_factory(catalog_size=200, short_pages=True)  # nextPage, when it lies
    cli = make_cli(server)
    pns = server.catalog.part_numbers(40)
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--details-source", "search", "--batch-size", "20")
    assert result.code == 0, result
    # one page per P&A batch of 20 (and at most one replacement look-up after the run)
    assert run_counts(cli.db)["search_requests"] == 2 and server.stats()["calls"]["search"] <= 3
    assert "ignores the vendorPartNumber filter" not in result.err
    assert run_counts(cli.db)["search_requests"] == 2
