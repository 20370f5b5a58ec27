"""Reporting commands: ``failed``, ``runs``, ``changes``, ``export`` and ``monitor``.

They read the database (read-only, except ``failed flush``) and print what the
library modules compute; ``ingram.cli`` registers them on the ``ingram-sync``
group. Example: ingram-sync runs show 3
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ingram.cli.common import ROW_ID, State, say
from ingram.cli.listing import checked_statuses, listing_options, show_rows
from ingram.cli.shop import export_to_target, shop_file_wanted, shop_options
from ingram.config.values import parse_duration
from ingram.errors import InputError
from ingram.output.exports import (
    FORMATS,
    NOT_CSV,
    atomic_output,
    check_xlsx,
    write_export,
    write_workbook,
)
from ingram.output.monitor import (
    LineScreen,
    TerminalScreen,
    follow,
    pick_run,
    process_alive,
    summary_lines,
)
from ingram.output.reports import (
    changes_table,
    failures_table,
    intake_line,
    render_run_detail,
    run_detail,
    runs_table,
)
from ingram.output.terminal import draws_in_place
from ingram.state.export import ExportShape, export_rows
from ingram.state.history import flush_failures, list_changes, list_failures, run_dict
from ingram.state.products import EXPORT_COLUMNS, details_cutoff
from ingram.state.runs import recent_runs, run_row
from ingram.state.store import Store
from ingram.state.webhook import webhook_intake
from ingram.vocab import ChangeSource, RunStatus


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, default=float))


def cutoff_of(duration: str | None, option: str) -> str | None:
    """The UTC time ``duration`` ago (``1d``, ``12h``...), or None when not given."""
    return details_cutoff(parse_duration(duration, option)) if duration else None


@click.group(invoke_without_command=True)
@click.option("--run", "run_id", type=ROW_ID, help="Only failures of this run.")
@click.option("--resolved", is_flag=True, help="Include resolved failures.")
@listing_options
@click.pass_context
def failed(
    ctx: click.Context, run_id: int | None, resolved: bool, output: str | None, limit: int | None
) -> None:
    """List failed items. Example: ingram-sync failed --json"""
    if ctx.invoked_subcommand:
        return
    state: State = ctx.obj
    rows = list_failures(state.store(readonly=True), run_id=run_id, include_resolved=resolved)
    show_rows(state, output, rows, failures_table, "no failures", limit)


@failed.command("flush")
@click.option("--all", "everything", is_flag=True, help="Delete unresolved failures too.")
@click.pass_obj
def failed_flush(state: State, everything: bool) -> None:
    """Delete resolved failures (or --all). Example: ingram-sync failed flush"""
    say(state, f"deleted {flush_failures(state.store(), everything=everything)} failures")


@click.group(invoke_without_command=True)
@listing_options
@click.pass_context
def runs(ctx: click.Context, output: str | None, limit: int | None) -> None:
    """Recent runs with counts and durations, newest first.

    The last 20 unless --limit says otherwise.

    Example: ingram-sync runs --limit 5
    """
    if ctx.invoked_subcommand:
        return
    state: State = ctx.obj
    settings = state.settings()
    store = Store.open(settings.db, readonly=True)
    rows = [with_process_state(run_dict(row)) for row in recent_runs(store, limit or 20)]
    if settings.profile and output is None:
        say(state, f"profile {settings.profile}: the runs of {settings.db}", err=True)
    show_rows(state, output, rows, runs_table, "no runs yet: start one with `ingram-sync sync`")
    intake = webhook_intake(store)
    if intake and output is None:
        click.echo(intake_line(intake))


def with_process_state(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` with ``process_gone``: running, but its process on this host has died.

    The next sync marks such a run interrupted; until then ``runs`` says it died.
    """
    gone = run["status"] == RunStatus.RUNNING and process_alive(run["pid"], run["host"]) is False
    return run | {"process_gone": gone}


@runs.command("show")
@click.argument("run_ids", metavar="RUN_ID...", nargs=-1, type=ROW_ID, required=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array, one object per run.")
@click.pass_obj
def runs_show(state: State, run_ids: tuple[int, ...], as_json: bool) -> None:
    """Runs in full: options, timings per stream, failures.

    Example: ingram-sync runs show 3 --json
    """
    store = state.store(readonly=True)
    details = []
    for run_id in run_ids:
        row = run_row(store, run_id)
        if row is None:
            raise InputError(f"no run {run_id}: see `ingram-sync runs`")
        details.append(with_process_state(run_detail(store, row)))
    if as_json:
        echo_json(details)
        return
    for detail in details:
        for line in render_run_detail(detail):
            click.echo(line)


@click.command()
@click.option("--since", metavar="DURATION", help="Only changes newer than this, e.g. 1d.")
@click.option(
    "--source",
    type=click.Choice([source.value for source in ChangeSource]),
    help="Only changes seen by syncs, pushed by Ingram's Stock Update webhook, or in the price"
    " file.",
)
@listing_options
@click.pass_obj
def changes(
    state: State, since: str | None, source: str | None, output: str | None, limit: int | None
) -> None:
    """Price, stock, backorder ETA and discontinued changes, newest first.

    Seen by syncs or pushed by Ingram's Stock Update webhook.

    Example: ingram-sync changes --since 1d --source webhook
    """
    rows = list_changes(
        state.store(readonly=True),
        since=cutoff_of(since, "--since"),
        source=source,
        newest_first=True,  # as ``runs``: what happened last comes first
    )
    empty = "no changes" + (f" in the last {since}" if since else "")
    show_rows(state, output, rows, changes_table, empty, limit)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="csv, json, jsonl or xlsx [from the --output suffix, else csv].",
)
@click.option("--output", "-o", metavar="FILE", help="Write here (atomically); - or none: stdout.")
@click.option("--status", multiple=True, help="Only products with this status (repeatable).")
@click.option(
    "--since",
    "--changed-since",
    "changed_since",
    metavar="DURATION",
    help="Only products with a change since (see `changes`), e.g. 1d.",
)
@click.option(
    "--warehouses", is_flag=True, help="Stock per warehouse: a CSV row each, or nested in JSON."
)
@click.option(
    "--discounts",
    is_flag=True,
    help="Special prices, quantity breaks, service fees: a CSV row each, or nested in JSON.",
)
@click.option("--specs", is_flag=True, help="The spec table: a CSV row each, or nested in JSON.")
@shop_options
@click.option(
    "--allow-file-prices",
    is_flag=True,
    help="Products P&A never priced get the price file's price (price_source pricefile).",
)
@click.pass_obj
def export(
    state: State,
    fmt: str | None,
    output: str | None,
    status: tuple[str, ...],
    changed_since: str | None,
    warehouses: bool,
    discounts: bool,
    specs: bool,
    allow_file_prices: bool,
    **shop: Any,
) -> None:
    """Write the catalog as CSV, JSON, JSON Lines or an xlsx workbook, or a shop's own
    import file (--target).

    A --target file has the price and stock rules applied and holds only what changed
    since the last export to that target (--full: everything); see docs/shop.md. A
    workbook needs openpyxl: pip install 'ingram-sync[xlsx]'.

    Example: ingram-sync export --format json --output catalog.json
    """
    if shop_file_wanted(
        shop,
        format=fmt,
        status=status,
        since=changed_since,
        warehouses=warehouses,
        discounts=discounts,
        specs=specs,
        allow_file_prices=allow_file_prices,
    ):
        export_to_target(state, output=output, **shop)
        return
    fmt = export_format(fmt, None if output == "-" else output)
    cutoff = cutoff_of(changed_since, "--since")
    wanted = {"warehouses": warehouses, "discounts": discounts, "specs": specs}
    shape = ExportShape(tuple(name for name, on in wanted.items() if on), nested=fmt != "csv")
    store = state.store(readonly=True)
    rows = export_rows(store, shape, status=checked_statuses(status), changed_since=cutoff)
    if allow_file_prices:
        from ingram.pricefile.choosing import with_file_prices

        rows = with_file_prices(store, rows)
    if output in (None, "-"):
        if fmt == "xlsx":
            raise InputError("a workbook is a file: give --output catalog.xlsx")
        write_export(rows, fmt, sys.stdout, shape.columns())
        return
    if fmt == "xlsx":
        check_xlsx()
    try:
        with atomic_output(output, binary=fmt == "xlsx") as out:
            if fmt == "xlsx":
                count = write_workbook(rows, out, shape.columns())
            else:
                count = write_export(rows, fmt, out, shape.columns())
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None
    noun = "rows" if shape.columns() != EXPORT_COLUMNS else "products"
    say(state, f"wrote {count} {noun} to {output}", err=True)


def export_format(fmt: str | None, output: str | None) -> str:
    """``--format`` (any case), else the output's suffix, else csv; a contradiction is an error."""
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    if f".{suffix}" in NOT_CSV:
        raise InputError(
            f"cannot write {output}: .{suffix} is not a format of export; use .xlsx for a"
            " workbook, or .csv, .json, .jsonl"
        )
    if fmt is None:
        return suffix if suffix in FORMATS else "csv"
    fmt = fmt.lower()
    if suffix in FORMATS and suffix != fmt:
        raise InputError(f"--format {fmt} but --output {output} ends in .{suffix}: make them agree")
    return fmt


@click.command()
@click.argument("run_id", type=ROW_ID, required=False)
@click.option(
    "--run", "run_option", type=ROW_ID, help="The run to watch (as RUN_ID, the name failed uses)."
)
@click.option(
    "--refresh",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    metavar="SECONDS",
    help="Seconds between refreshes.",
)
@click.pass_obj
def monitor(state: State, run_id: int | None, run_option: int | None, refresh: float) -> None:
    """Watch a run live from another terminal; ends with the run's summary.

    Reads the database only (never takes the sync lock). Without RUN_ID it
    follows the running run, or shows the last one. Exit 1 when the run's
    process is gone without finishing it.

    Example: ingram-sync monitor --refresh 1
    """
    if run_id is not None and run_option is not None and run_id != run_option:
        raise InputError(f"RUN_ID {run_id} and --run {run_option} disagree: give one")
    store = state.store(readonly=True)
    chosen = pick_run(store, run_option if run_id is None else run_id)
    screen = TerminalScreen(sys.stdout) if draws_in_place(sys.stdout) else LineScreen(sys.stdout)
    try:
        view = follow(store, chosen, screen, refresh)
    except KeyboardInterrupt:
        click.echo()
        sys.exit(130)
    for line in summary_lines(store, view):
        click.echo(line)
    sys.exit(1 if view.process_gone else 0)


REPORT_COMMANDS = (failed, runs, changes, export, monitor)
