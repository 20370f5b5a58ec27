"""Reporting commands: ``failed``, ``runs``, ``changes``, ``export`` and ``monitor``.

They read the database (read-only, except ``failed flush``) and print what the
library modules compute; ``ingram.cli`` registers them on the ``ingram-sync``
group. Example: ingram-sync runs show 3
"""

from __future__ import annotations

import json
import sys

import click

from ingram.cli.common import ROW_ID, State
from ingram.config import parse_duration
from ingram.errors import InputError
from ingram.files import FORMATS, atomic_output, write_export
from ingram.output.monitor import LineScreen, TerminalScreen, follow, pick_run, summary_lines
from ingram.output.reports import (
    changes_table,
    failure_line,
    render_run_detail,
    run_detail,
    runs_table,
)
from ingram.state.history import flush_failures, list_changes, list_failures, run_dict
from ingram.state.store import details_cutoff


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, default=float))


def cutoff_of(duration: str | None, option: str) -> str | None:
    """The UTC time ``duration`` ago (``1d``, ``12h``...), or None when not given."""
    return details_cutoff(parse_duration(duration, option)) if duration else None


@click.group(invoke_without_command=True)
@click.option("--run", "run_id", type=ROW_ID, help="Only failures of this run.")
@click.option("--resolved", is_flag=True, help="Include resolved failures.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@click.pass_context
def failed(ctx: click.Context, run_id: int | None, resolved: bool, as_json: bool) -> None:
    """List failed items. Example: ingram-sync failed --json"""
    if ctx.invoked_subcommand:
        return
    state: State = ctx.obj
    rows = list_failures(state.store(readonly=True), run_id=run_id, include_resolved=resolved)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(failure_line(row))
    if not rows:
        click.echo("no failures", err=True)


@failed.command("flush")
@click.option("--all", "everything", is_flag=True, help="Delete unresolved failures too.")
@click.pass_obj
def failed_flush(state: State, everything: bool) -> None:
    """Delete resolved failures (or --all). Example: ingram-sync failed flush"""
    click.echo(f"deleted {flush_failures(state.store(), everything=everything)} failures")


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many recent runs.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@click.pass_context
def runs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent runs with counts and durations, newest first.

    Example: ingram-sync runs --limit 5
    """
    if ctx.invoked_subcommand:
        return
    state: State = ctx.obj
    rows = [run_dict(row) for row in state.store(readonly=True).runs(limit)]
    if as_json:
        echo_json(rows)
        return
    for line in runs_table(rows):
        click.echo(line)


@runs.command("show")
@click.argument("run_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="A JSON object.")
@click.pass_obj
def runs_show(state: State, run_id: int, as_json: bool) -> None:
    """One run in full: options, timings per stream, failures.

    Example: ingram-sync runs show 3 --json
    """
    store = state.store(readonly=True)
    row = store.run(run_id)
    if row is None:
        raise InputError(f"no run {run_id}: see `ingram-sync runs`")
    detail = run_detail(store, row)
    if as_json:
        echo_json(detail)
        return
    for line in render_run_detail(detail):
        click.echo(line)


@click.command()
@click.option("--since", metavar="DURATION", help="Only changes newer than this, e.g. 1d.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@click.pass_obj
def changes(state: State, since: str | None, as_json: bool) -> None:
    """Price and stock changes seen by syncs (old value, new value, when).

    Example: ingram-sync changes --since 1d
    """
    rows = list_changes(state.store(readonly=True), since=cutoff_of(since, "--since"))
    if as_json:
        echo_json(rows)
        return
    for line in changes_table(rows):
        click.echo(line)
    if not rows:
        click.echo("no changes" + (f" in the last {since}" if since else ""), err=True)


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write here (atomically); - for stdout.")
@click.option("--status", multiple=True, help="Only products with this status (repeatable).")
@click.option(
    "--changed-since", metavar="DURATION", help="Only products whose price or stock changed."
)
@click.pass_obj
def export(
    state: State, fmt: str, output: str | None, status: tuple[str, ...], changed_since: str | None
) -> None:
    """Write the catalog as CSV, JSON or JSON Lines.

    Example: ingram-sync export --format json --output catalog.json
    """
    cutoff = cutoff_of(changed_since, "--changed-since")
    rows = state.store(readonly=True).products(status=status, changed_since=cutoff)
    if output in (None, "-"):
        write_export(rows, fmt, sys.stdout)
        return
    try:
        with atomic_output(output) as out:
            count = write_export(rows, fmt, out)
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None
    if not state.quiet:
        click.echo(f"wrote {count} products to {output}", err=True)


@click.command()
@click.argument("run_id", type=ROW_ID, required=False)
@click.option(
    "--refresh",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    metavar="SECONDS",
    help="Seconds between refreshes.",
)
@click.pass_obj
def monitor(state: State, run_id: int | None, refresh: float) -> None:
    """Watch a run live from another terminal; ends with the run's summary.

    Reads the database only (never takes the sync lock). Without RUN_ID it
    follows the running run, or shows the last one. Exit 1 when the run's
    process is gone without finishing it.

    Example: ingram-sync monitor --refresh 1
    """
    store = state.store(readonly=True)
    chosen = pick_run(store, run_id)
    screen = TerminalScreen(sys.stdout) if sys.stdout.isatty() else LineScreen(sys.stdout)
    try:
        view = follow(store, chosen, screen, refresh)
    except KeyboardInterrupt:
        click.echo()
        sys.exit(130)
    for line in summary_lines(store, view):
        click.echo(line)
    sys.exit(1 if view.process_gone else 0)


REPORT_COMMANDS = (failed, runs, changes, export, monitor)
