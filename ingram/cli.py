"""The ``ingram-sync`` command: parse options, call the library, print, exit.

Library errors (``IngramSyncError``) become one line on stderr and the exit
code of ``ExitStatus``; nothing here talks SQL or HTTP directly.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import click

from ingram import __version__
from ingram.client import IngramClient
from ingram.config import VENDOR_SANDBOX_URL, Settings, client_settings, load_settings
from ingram.engine import RunSummary, SyncOptions, run_retry_failed, run_sync
from ingram.errors import (
    ConfigError,
    CredentialsError,
    IngramSyncError,
    InputError,
    LockedError,
)
from ingram.files import FORMATS, atomic_output, read_part_numbers, valid_part_number, write_export
from ingram.history import (
    failures_by_id,
    flush_failures,
    list_changes,
    list_failures,
    run_dict,
)
from ingram.progress import make_progress
from ingram.saving import DetailsPolicy
from ingram.store import Store, details_cutoff

log = logging.getLogger("ingram")


class ExitStatus(IntEnum):
    OK = 0
    ITEMS_FAILED = 1
    USAGE = 2
    LOCKED = 3
    CREDENTIALS = 4
    INTERRUPTED = 130


RUN_EXIT = {
    "completed": ExitStatus.OK,
    "skipped": ExitStatus.OK,
    "completed_with_failures": ExitStatus.ITEMS_FAILED,
    "interrupted": ExitStatus.INTERRUPTED,
    "failed": ExitStatus.CREDENTIALS,
}


class CliError(click.ClickException):
    """One line on stderr, then the exit code the error's class calls for."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: IngramSyncError) -> int:
    if isinstance(error, CredentialsError):
        return ExitStatus.CREDENTIALS
    if isinstance(error, LockedError):
        return ExitStatus.LOCKED
    if isinstance(error, ConfigError | InputError):
        return ExitStatus.USAGE
    return ExitStatus.USAGE


class IngramGroup(click.Group):
    """Turns library errors raised by any subcommand into ``CliError``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IngramSyncError as error:
            log.debug("error detail", exc_info=True)
            raise CliError(str(error), exit_code_for(error)) from None


class State:
    """What the global options said; opens the store and resolves settings lazily."""

    def __init__(self, db: str | None, config: str | None, verbose: bool, quiet: bool) -> None:
        self.db_flag = db
        self.config = config
        self.verbose = verbose
        self.quiet = quiet

    def settings(self, **flags: Any) -> Settings:
        return load_settings({"db": self.db_flag, **flags}, config_path=self.config)

    def store(self, *, readonly: bool = False, **flags: Any) -> Store:
        return Store.open(self.settings(**flags).db, readonly=readonly)


pass_state = click.make_pass_decorator(State)


class TqdmHandler(logging.Handler):
    """Log lines that do not tear tqdm bars apart."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        tqdm.write(self.format(record), file=sys.stderr)


def setup_logging(verbose: bool, quiet: bool, log_file: str | None = None) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler: logging.Handler = TqdmHandler()
    if not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("ingram")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@click.group(cls=IngramGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="SQLite database [env INGRAM_SYNC_DB; ingram_sync.db]")
@click.option("--config", metavar="FILE", help="TOML config file [env INGRAM_SYNC_CONFIG]")
@click.option("-v", "--verbose", is_flag=True, help="More detail, including errors' causes.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@click.version_option(__version__, prog_name="ingram-sync")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None, verbose: bool, quiet: bool) -> None:
    """Keep a local SQLite catalog of Ingram Micro price, availability and details current.

    Example: ingram-sync demo
    """
    setup_logging(verbose, quiet)
    ctx.obj = State(db, config, verbose, quiet)


# -- products ---------------------------------------------------------------


@cli.group()
def products() -> None:
    """Track part numbers. Example: ingram-sync products add 6YE881"""


@products.command("add")
@click.argument("skus", nargs=-1, required=True)
@pass_state
def products_add(state: State, skus: tuple[str, ...]) -> None:
    """Track part numbers. Example: ingram-sync products add 6YE881 4A0036"""
    bad = [sku for sku in skus if not valid_part_number(sku)]
    if bad:
        raise InputError(f"not a part number: {bad[0]!r} (letters, digits, . _ / -; 20 at most)")
    added, already = state.store().add_products(skus)
    click.echo(f"added {added}, already tracked {already}")


@products.command("import")
@click.argument("file", type=click.File("rb"))
@pass_state
def products_import(state: State, file: Any) -> None:
    """Track part numbers from a CSV file (or - for stdin).

    The file has a column ingramPartNumber, or a single column of part numbers.

    Example: ingram-sync products import examples/products.csv
    """
    result = read_part_numbers(file, file.name)
    added, already = state.store().add_products(result.part_numbers)
    click.echo(f"added {added}, already tracked {already}, rejected {len(result.rejected)}")
    for line, value, reason in result.rejected[:10]:
        click.echo(f"line {line}: {value!r} rejected: {reason}", err=True)
    if len(result.rejected) > 10:
        click.echo(f"... and {len(result.rejected) - 10} more rejected lines", err=True)
    if result.rejected:
        sys.exit(ExitStatus.ITEMS_FAILED)


@products.command("list")
@click.option("--status", multiple=True, help="Only products with this status (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@pass_state
def products_list(state: State, status: tuple[str, ...], as_json: bool) -> None:
    """List tracked products. Example: ingram-sync products list --status not_found"""
    for row in state.store(readonly=True).products(status=status):
        if as_json:
            click.echo(json.dumps(row, default=float))
        else:
            price = (
                ""
                if row["customer_price"] is None
                else f"{row['customer_price']} {row['currency'] or ''}"
            )
            stock = "" if row["total_availability"] is None else str(row["total_availability"])
            click.echo(
                f"{row['ingram_part_number']:<14} {row['status']:<13} {price:>14} {stock:>8}"
            )


@products.command("remove")
@click.argument("skus", nargs=-1, required=True)
@pass_state
def products_remove(state: State, skus: tuple[str, ...]) -> None:
    """Stop tracking part numbers. Example: ingram-sync products remove 6YE881"""
    removed = state.store().remove_products(skus)
    click.echo(f"removed {removed}")


# -- sync -------------------------------------------------------------------

TIMING_OPTIONS = (
    ("--pa-rate", "P&A calls per minute [60]."),
    ("--details-interval", "Seconds between details calls [0.5]."),
    ("--pa-retry-waits", "Seconds to wait before each P&A retry [30,60,120]."),
    ("--details-retry-waits", "Seconds to wait before each details retry [10,30,60]."),
    ("--timeout", "Seconds per HTTP call [30]."),
    ("--max-concurrent", "P&A calls at once [5]."),
    ("--details-workers", "Details threads sharing the one details limiter [1]."),
    ("--batch-size", "Part numbers per P&A call, 1..50 [50]."),
    ("--details-max-age", "Refetch details older than this, e.g. 7d [7d]."),
)


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The timing and API options shared by ``sync`` and ``retry-failed``."""
    for flag, help_text in reversed(TIMING_OPTIONS):
        command = click.option(flag, metavar="VALUE", help=help_text)(command)
    command = click.option(
        "--sandbox", "vendor_sandbox", is_flag=True, help="Use Ingram's own sandbox API."
    )(command)
    command = click.option(
        "--details/--no-details", default=True, help="Fetch product details where stale."
    )(command)
    return click.option("--refresh-details", is_flag=True, help="Fetch details even when fresh.")(
        command
    )


def timing_flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    names = [flag[2:].replace("-", "_") for flag, _ in TIMING_OPTIONS]
    flags = {name: kwargs.pop(name) for name in names}
    if kwargs.pop("vendor_sandbox"):
        flags["api_url"] = VENDOR_SANDBOX_URL
    return flags


def build_options(settings: Settings, kwargs: dict[str, Any], **extra: Any) -> SyncOptions:
    policy = DetailsPolicy(
        enabled=kwargs.pop("details"),
        max_age=settings.details_max_age,
        refresh=kwargs.pop("refresh_details"),
    )
    return SyncOptions(
        batch_size=settings.batch_size,
        max_concurrent=settings.max_concurrent,
        details_workers=settings.details_workers,
        details=policy,
        min_interval=settings.min_interval,
        **extra,
    )


@cli.command()
@run_options
@click.option("--sku", "skus", multiple=True, help="Sync only this part number (repeatable).")
@click.option("--min-interval", metavar="DURATION", help="Skip if the last sync is newer [0].")
@click.option("--force", is_flag=True, help="Sync even within --min-interval.")
@pass_state
def sync(state: State, skus: tuple[str, ...], force: bool, **kwargs: Any) -> None:
    """Fetch price and availability (and stale details) of tracked products.

    Example: ingram-sync sync --max-concurrent 5
    """
    flags = timing_flags(kwargs)
    settings = state.settings(min_interval=kwargs.pop("min_interval"), **flags)
    client = IngramClient(client_settings(settings))
    options = build_options(settings, kwargs, skus=skus, force=force)
    store = Store.open(settings.db)
    summary = run_sync(store, client, options, make_progress(state.quiet))
    finish(state, summary)


@cli.command("retry-failed")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Retry every unresolved failure.")
@run_options
@pass_state
def retry_failed(state: State, ids: tuple[int, ...], retry_all: bool, **kwargs: Any) -> None:
    """Retry failed items by failure id, or --all unresolved ones.

    Example: ingram-sync retry-failed --all
    """
    if not ids and not retry_all:
        raise click.UsageError("give failure ids (see `ingram-sync failed`) or --all")
    settings = state.settings(**timing_flags(kwargs))
    store = Store.open(settings.db)
    rows = list_failures(store) if retry_all else failures_by_id(store, ids)
    unknown = sorted(set(ids) - {row["id"] for row in rows})
    if unknown:
        raise InputError(f"no failure with id {unknown[0]}: see `ingram-sync failed`")
    rows = [row for row in rows if row["resolved_at"] is None]
    if not rows:
        click.echo("nothing to retry: no unresolved failures")
        return
    client = IngramClient(client_settings(settings))
    options = build_options(settings, kwargs)
    summary = run_retry_failed(store, client, rows, options, make_progress(state.quiet))
    finish(state, summary)


def finish(state: State, summary: RunSummary) -> None:
    """Print the run's summary and exit with its status."""
    if summary.message and summary.status == "skipped":
        click.echo(summary.message, err=True)
    elif summary.run_id is not None and not state.quiet:
        click.echo(describe_run(summary.counts))
    if summary.status == "completed_with_failures":
        click.echo(
            f"{summary.counts['failures']} items failed: list them with `ingram-sync failed`,"
            " retry with `ingram-sync retry-failed --all`",
            err=True,
        )
    elif summary.status == "failed":
        click.echo(f"Error: {summary.message}", err=True)
    elif summary.status == "interrupted":
        click.echo("interrupted: the next sync resumes where this one stopped", err=True)
    code = RUN_EXIT[summary.status]
    if summary.calls_left_running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # calls still on the wire must not delay an interrupted exit
    sys.exit(code)


def describe_run(counts: dict[str, Any]) -> str:
    from ingram.store import parse_time

    seconds = (parse_time(counts["finished_at"]) - parse_time(counts["started_at"])).total_seconds()
    priced = counts["pa_products_done"] - counts["not_found"]
    return (
        f"run {counts['id']} {counts['status']} in {seconds:.1f}s: {priced} products priced,"
        f" {counts['not_found']} not found, {counts['details_done']} details,"
        f" {counts['failures']} failed; requests: {counts['pa_requests']} P&A,"
        f" {counts['details_requests']} details; {counts['retries']} retries,"
        f" {counts['rate_limited']} rate-limited (429)"
    )


# -- failures, runs, changes, export -------------------------------------------


@cli.group(invoke_without_command=True)
@click.option("--run", "run_id", type=int, help="Only failures of this run.")
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
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = f"HTTP {row['http_status']}" if row["http_status"] else row["error_kind"]
        click.echo(
            f"{row['id']:>6} run {row['run_id']:<5} {row['kind']:<19} "
            f"{row['ingram_part_number']:<14} {status:<12} {row['error']}"
        )
    if not rows:
        click.echo("no failures", err=True)


@failed.command("flush")
@click.option("--all", "everything", is_flag=True, help="Delete unresolved failures too.")
@pass_state
def failed_flush(state: State, everything: bool) -> None:
    """Delete resolved failures (or --all). Example: ingram-sync failed flush"""
    click.echo(f"deleted {flush_failures(state.store(), everything=everything)} failures")


@cli.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many recent runs.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@click.pass_context
def runs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent runs with counts. Example: ingram-sync runs --json"""
    if ctx.invoked_subcommand:
        return
    state: State = ctx.obj
    rows = [run_dict(row) for row in state.store(readonly=True).runs(limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5} {row['kind']:<5} {row['status']:<24} {row['started_at']} "
            f"products {row['products']:>7} details {row['details_done']:>6} "
            f"failed {row['failures']:>5} retries {row['retries']:>4} 429s {row['rate_limited']:>4}"
        )


@runs.command("show")
@click.argument("run_id", type=int)
@pass_state
def runs_show(state: State, run_id: int) -> None:
    """One run in full, with its options and failures. Example: ingram-sync runs show 3"""
    store = state.store(readonly=True)
    row = store.run(run_id)
    if row is None:
        raise InputError(f"no run {run_id}: see `ingram-sync runs`")
    detail = run_dict(row) | {"options": json.loads(row["options"] or "{}")}
    detail["failures_list"] = list_failures(store, run_id=run_id, include_resolved=True)
    click.echo(json.dumps(detail, indent=2))


@cli.command()
@click.option("--since", metavar="DURATION", help="Only changes newer than this, e.g. 1d.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@pass_state
def changes(state: State, since: str | None, as_json: bool) -> None:
    """Price and stock changes seen by syncs. Example: ingram-sync changes --since 1d"""
    from ingram.config import parse_duration

    cutoff = details_cutoff(parse_duration(since, "--since")) if since else None
    rows = list_changes(state.store(readonly=True), since=cutoff)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['changed_at']} {row['ingram_part_number']:<14} {row['field']:<18} "
            f"{row['old_value']} -> {row['new_value']}"
        )


@cli.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write here (atomically) instead of stdout.")
@click.option("--status", multiple=True, help="Only products with this status (repeatable).")
@click.option("--changed-since", metavar="DURATION", help="Only products changed within this.")
@pass_state
def export(
    state: State, fmt: str, output: str | None, status: tuple[str, ...], changed_since: str | None
) -> None:
    """Write the catalog as CSV, JSON or JSON Lines.

    Example: ingram-sync export --format json --output catalog.json
    """
    from ingram.config import parse_duration

    cutoff = (
        details_cutoff(parse_duration(changed_since, "--changed-since")) if changed_since else None
    )
    rows = state.store(readonly=True).products(status=status, changed_since=cutoff)
    if output is None:
        write_export(rows, fmt, sys.stdout)
        return
    with atomic_output(output) as out:
        count = write_export(rows, fmt, out)
    if not state.quiet:
        click.echo(f"wrote {count} products to {output}", err=True)


def register_extra_commands() -> None:
    """Commands that live in their own modules (demo, sandbox)."""
    from ingram.demo import demo_command, sandbox_command

    cli.add_command(demo_command)
    cli.add_command(sandbox_command)


register_extra_commands()


def main() -> None:
    """The console script ``ingram-sync``."""
    cli(prog_name="ingram-sync")
