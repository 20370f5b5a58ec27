"""``sync --details-source search``: basic details from search, details calls for the rest."""

from __future__ import annotations

import sqlite3

import pytest

from ingram.sandbox.identifiers import shares_vendor_part_number
from ingram.state.runs import create_run, finish_run
from ingram.state.store import Store
from ingram.state.tasks import plan_details_tasks


def statuses(db) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT ingram_part_number, details_status FROM products")
        return dict(rows.fetchall())


@pytest.mark.slow
def test_search_fills_basic_details_and_falls_back_for_the_rest(sandbox, cli) -> None:
    catalog = sandbox.catalog
    shared = next(i for i in range(1, 200) if shares_vendor_part_number(i))
    # the shared vendor part number's other SKU is not tracked: its answer must not be taken
    indices = [i for i in range(102) if i != shared - 1]  # 101: P&A batches of 50, 50 and 1
    pns = [catalog.identity(i)[0] for i in indices]
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--details-source", "search")
    assert result.code == 0, result
    calls = sandbox.stats()["calls"]
    without_details = {pn for pn in pns if catalog.details_document(pn) is None}
    assert without_details, "the sandbox leaves about 5% without details"
    assert calls["search"] == 3  # one per P&A batch of 50 (the last holds one product)
    assert calls["details"] == len(without_details)  # search does not answer those
    found = statuses(cli.db)
    assert {pn for pn, status in found.items() if status == "none"} == without_details
    assert {pn for pn, status in found.items() if status == "search"} == set(pns) - without_details
    exported = cli.export()
    for index in indices:
        pn = catalog.identity(index)[0]
        if pn in without_details:
            continue
        row = catalog.search_row(index)
        assert (exported[pn]["category"], exported[pn]["subcategory"]) == (
            row["category"],
            row["subCategory"],
        )
        assert exported[pn]["details_synced_at"] is not None

    sandbox.reset_stats()
    assert cli.sync().code == 0  # the default source fetches the full documents search lacked
    assert sandbox.stats()["calls"]["details"] == len(pns) - len(without_details)
    assert set(statuses(cli.db).values()) == {"found", "none"}
    sandbox.reset_stats()
    assert cli.sync("--details-source", "search").code == 0  # fresh now: nothing to ask
    assert sandbox.stats()["calls"].get("search", 0) == 0


def test_a_group_left_by_a_stopped_search_run_is_fetched_whole(sandbox, cli) -> None:
    pns = sandbox.catalog.part_numbers(3)
    assert cli.run("products", "add", *pns).code == 0
    store = Store.open(cli.db)
    try:
        run_id = create_run(store, "sync", {"skus": []})
        with store.write() as db:
            plan_details_tasks(store, db, run_id, pns, 3)  # as a search run queues them
        finish_run(store, run_id, "interrupted")
    finally:
        store.close()
    result = cli.sync()  # the default source adopts the group
    assert result.code == 0, result
    assert sandbox.stats()["calls"]["details"] == 3
    assert set(statuses(cli.db)) == set(pns)
    assert None not in statuses(cli.db).values()
