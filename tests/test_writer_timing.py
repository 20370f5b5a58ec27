"""The writer never holds a P&A result the details stream is waiting for.

Details are planned from the P&A results written; a writer that held them for
its grouped commit (``WriterTiming.commit_every``, ``pa_hold``) left the details stream idle
meanwhile: a full sync's details started a second late. Timings are the
sandbox's own, from its request log.
"""

from __future__ import annotations

from typing import Any

from support.client_support import client_for

from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.sync import NoProgress, SyncOptions, WriterTiming, run_sync

DETAILS = "/resellers/v6/catalog/details/"


def synced(sandbox: Any, tmp_path: Any, count: int, pa_every: float, details_every: float) -> Any:
    """A full sync of ``count`` products in P&A batches of 10, one P&A call at a time."""
    store = Store.open(tmp_path / "c.db")
    pns = sandbox.catalog.part_numbers(count)
    add_products(store, pns)
    options = SyncOptions(batch_size=10, max_concurrent=1)
    with client_for(sandbox, pa_rate=60 / pa_every, details_interval=details_every) as client:
        summary = run_sync(store, client, options, NoProgress())
    store.close()
    assert summary.status == "completed", summary
    return pns, sandbox.request_log()


def test_details_start_with_the_first_pa_result(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(catalog_size=60, latency=0.005)
    _, log = synced(sandbox, tmp_path, 60, pa_every=0.2, details_every=0.01)
    first_pa = min(e["time"] for e in log if e["endpoint"] == "price_and_availability")
    first_details = min(e["time"] for e in log if e["endpoint"] == "details")
    # Held for the grouped commit, the first details call came COMMIT_EVERY later.
    assert first_details - first_pa < WriterTiming().commit_every / 2, first_details - first_pa


def test_an_idle_details_stream_gets_each_pa_result_at_once(sandbox_factory, tmp_path):
    """Details far faster than P&A: the stream is idle when each batch comes back, and
    its products' details must start then, not when the batch's commit falls due."""
    sandbox = sandbox_factory(catalog_size=60, latency=0.005)
    pns, log = synced(sandbox, tmp_path, 60, pa_every=0.25, details_every=0.005)
    answered = sorted(e["time"] for e in log if e["endpoint"] == "price_and_availability")
    asked = {e["path"].rsplit("/", 1)[1]: e["time"] for e in log if DETAILS in e["path"]}
    assert len(answered) == 6 and len(asked) == 60
    waits = [
        min(asked[pn] for pn in pns[10 * batch : 10 * batch + 10]) - answered[batch]
        for batch in range(6)
    ]
    assert max(waits) < WriterTiming().commit_every / 2, waits
