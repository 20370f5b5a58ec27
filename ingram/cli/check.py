"""``ingram-sync check``: a token, one P&A call and one details call, and what they said.

The first thing to run against a real account: it prints, a line at a time,
what ``ingram.api.check`` learnt (token URL and expiry, customer number and
country accepted, price and stock of one product, details offered or not, the
vendor's rate-limit headers, latency), and exits 0, or with the code the error
policy gives the first error met, in the vendor's words.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from ingram.cli.common import INGRAM_SANDBOX_HELP, State, pass_state
from ingram.config import VENDOR_SANDBOX_URL, client_settings
from ingram.inputs import part_numbers_from_args
from ingram.state.products import iter_tracked
from ingram.state.store import Store


def first_tracked(db: str) -> str | None:
    """The first product tracked in ``db`` (None when there is no database or no product)."""
    if not Path(db).exists():
        return None
    store = Store.open(db, readonly=True)
    try:
        return next(iter_tracked(store, page=1), None)
    finally:
        store.close()


@click.command("check")
@click.option("--sku", metavar="PN", help="Price this part number [the first tracked one].")
@click.option("--ingram-sandbox", "vendor_sandbox", is_flag=True, help=INGRAM_SANDBOX_HELP)
@pass_state
def check_command(state: State, sku: str | None, vendor_sandbox: bool) -> None:
    """Check the setup: a token, one P&A call, one details call where offered.

    Each call is made once (no retry waits), through the shared token cache.

    Example: ingram-sync check --sku 6YE881
    """
    from ingram.api.check import check_setup  # requests loads only for commands that call
    from ingram.api.client import IngramClient

    settings = state.settings(**({"api_url": VENDOR_SANDBOX_URL} if vendor_sandbox else {}))
    part_number = part_numbers_from_args([sku])[0] if sku else first_tracked(settings.db)
    once = dataclasses.replace(client_settings(settings), pa_retry_waits=(), details_retry_waits=())
    with IngramClient(once) as client:
        for finding in check_setup(client, part_number):
            click.echo(f"{finding.topic:<12} {finding.text}")
