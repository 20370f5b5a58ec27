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


def show_rows(
    state: State,
    output: str | None,
    rows: Iterable[dict[str, Any]],
    table: Callable[[Sequence[dict[str, Any]]], list[str]],
    empty: str,
    limit: int | None = None,
) -> None:
    """Print ``rows`` (at most ``limit``) in the chosen style; ``empty`` on stderr if none."""
    rows = list(itertools.islice(rows, limit))
    if output == "json":
        click.echo(json.dumps(rows, indent=2, default=float))
    elif output == "jsonl":
        for row in rows:
            click.echo(to_json(row))
    elif rows:
        for line in table(rows):
            click.echo(line)
    if not rows:
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
