"""One style of output for every listing: a table with a header, ``--json`` or ``--jsonl``.

``--json`` is always a JSON array; ``--jsonl`` always JSON Lines (one object a
line); money is a JSON number with its stored decimals (74.34), as in
``export``. "Nothing to show" goes to stderr, so a pipe gets only data.
``--limit`` caps every listing.

Example::

    @listing_options
    def failed(state, output, limit): ...
        show_rows(state, output, rows, failures_table, "no failures")
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from ingram.cli.common import State, say
from ingram.errors import InputError
from ingram.state.products import PRODUCT_STATUSES
from ingram.state.store import batched


def listing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``, ``--jsonl`` and ``--limit`` (given to the command as ``output``, ``limit``)."""
    command = click.option(
        "--limit", type=click.IntRange(min=1), metavar="N", help="At most N rows."
    )(command)
    command = click.option(
        "--jsonl", "output", flag_value="jsonl", help="JSON Lines: one object a line."
    )(command)
    return click.option("--json", "output", flag_value="json", help="A JSON array.")(command)


def to_json(value: object) -> str:
    return json.dumps(value, default=float)  # Decimal money becomes a number: 74.34


PAGE = 1000  # rows formatted at a time: a listing streams, whatever the catalog's size


def show_rows(
    state: State,
    output: str | None,
    rows: Iterable[dict[str, Any]],
    table: Callable[[Sequence[dict[str, Any]]], list[str]],
    empty: str,
    limit: int | None = None,
) -> None:
    """Print ``rows`` (at most ``limit``) in the chosen style; ``empty`` on stderr if none.

    Rows are printed as they are read, a page at a time (``products list`` of 1,000,000
    products held them all: 2.6 GB); the output is the same as if they were held.
    """
    pages = batched(itertools.islice(rows, limit), PAGE)
    shown = 0
    if output == "json":
        for page in pages:
            for row in page:
                item = "\n".join(
                    "  " + line for line in json.dumps(row, indent=2, default=float).splitlines()
                )
                click.echo(("[\n" if shown == 0 else ",\n") + item, nl=False)
                shown += 1
        click.echo("\n]" if shown else "[]")
    else:
        for page in pages:
            lines = [to_json(row) for row in page] if output == "jsonl" else table(page)
            click.echo("\n".join(lines if output == "jsonl" or shown == 0 else lines[1:]))
            shown += len(page)
    if not shown:
        say(state, empty, err=True)


def checked_statuses(statuses: Sequence[str]) -> tuple[str, ...]:
    """``--status`` values, lower-cased; an unknown one is refused with the valid ones."""
    wanted = tuple(status.lower() for status in statuses)
    unknown = [status for status in wanted if status not in PRODUCT_STATUSES]
    if unknown:
        raise InputError(
            f"unknown --status {unknown[0]!r}: use one of {', '.join(PRODUCT_STATUSES)}"
        )
    return wanted
