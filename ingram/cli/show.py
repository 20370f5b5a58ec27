"""``products show PN``: one product whole, the answer to "what are the price and stock of X?"

Registered on the ``products`` group by ``ingram.cli.products``.
"""

from __future__ import annotations

import click

from ingram.cli.common import State, pass_state
from ingram.cli.listing import to_json
from ingram.errors import InputError
from ingram.inputs import part_numbers_from_args
from ingram.output.product_report import product_lines
from ingram.state.product_view import product_view


@click.command("show")
@click.argument("part_number")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_state
def products_show(state: State, part_number: str, as_json: bool) -> None:
    """One product whole: price, stock by warehouse, discounts, details, keys, failures.

    Also when each part was fetched and from where (P&A, webhook, details or search),
    and the product's last changes.

    Example: ingram-sync products show 6YE881
    """
    [pn] = part_numbers_from_args([part_number])
    view = product_view(state.store(readonly=True), pn)
    if view is None:
        raise InputError(
            f"{pn} is not tracked: track it with `ingram-sync products add {pn}`, then sync"
        )
    if as_json:
        click.echo(to_json(view))
        return
    for line in product_lines(view):
        click.echo(line)
