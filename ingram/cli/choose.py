"""The options ``products add`` and ``catalog search`` share to choose from the price file.

Kept apart from ``ingram.cli.catalog`` so that every command starts without
loading the price file's modules (they load when ``--from-catalog`` is used).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ingram.cli.common import State, say
from ingram.errors import InputError
from ingram.state.products import add_products, tracked_part_numbers


def choice_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--vendor``, ``--category``, ``--match``, ``--include-discontinued``."""
    for option in reversed(
        (
            click.option("--vendor", "vendors", multiple=True, help="Vendor name or number."),
            click.option(
                "--category", "categories", multiple=True, help="Category code or its start."
            ),
            click.option(
                "--match", metavar="TEXT", help="Text in the description or part numbers."
            ),
            click.option("--include-discontinued", is_flag=True, help="Discontinued products too."),
        )
    ):
        command = option(command)
    return command


def from_catalog_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``products add`` takes to choose from the price file."""
    command = choice_options(command)
    command = click.option(
        "--limit", type=click.IntRange(1), metavar="N", help="With --from-catalog: at most N."
    )(command)
    command = click.option(
        "--dry-run", is_flag=True, help="With --from-catalog: say what would be added."
    )(command)
    return click.option(
        "--from-catalog", is_flag=True, help="Track products chosen from the price file."
    )(command)


def add_from_catalog(state: State, dry_run: bool, **choice: Any) -> None:
    """Track the catalog products ``choice`` picks; say how many were added and known."""
    from ingram.pricefile.choosing import Choice, chosen_part_numbers

    store = state.store()
    pns = chosen_part_numbers(store, Choice(**choice))
    if not pns:
        raise InputError("no product of the price file matches: see `ingram-sync catalog search`")
    if dry_run:
        known = len(tracked_part_numbers(store, pns))
        click.echo(
            f"would add {len(pns) - known}, already tracked {known} (dry run: nothing added)"
        )
        return
    added, already = add_products(store, pns)
    say(state, f"added {added}, already tracked {already}")
