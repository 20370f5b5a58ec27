"""The ``ingram-sync`` group, the products commands, ``sync`` and ``retry-failed``.

Library errors (``IngramSyncError``) become one line on stderr and the exit
code of ``ExitStatus``; nothing here talks SQL or HTTP directly.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click

from ingram import __version__
from ingram.cli.common import (
    ROW_ID,
    CliError,
    ExitStatus,
    State,
    exit_code_for,
    finish,
    open_client,
    pass_state,
)
from ingram.config import VENDOR_SANDBOX_URL, Settings
from ingram.engine import SyncOptions, run_retry_failed, run_sync
from ingram.errors import ConfigError, IngramSyncError, InputError
from ingram.files import part_numbers_from_args, read_part_numbers
from ingram.output.logs import FILE_ONLY, setup_logging
from ingram.output.progress import make_progress
from ingram.state.dbfile import storage_error
from ingram.state.history import failures_by_id, list_failures
from ingram.state.saving import DetailsPolicy
from ingram.state.store import Store

log = logging.getLogger("ingram")


class IngramGroup(click.Group):
    """Turns library errors raised by any subcommand into ``CliError``.

    Commands in ``LAZY_COMMANDS`` are imported only when used, so that every
    other command starts without loading the sandbox.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            module, attribute = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except sqlite3.Error as error:  # a storage fault met mid-command: full disk, I/O, damage
            raise self.fail(storage_error(error, database_label(ctx))) from None
        except IngramSyncError as error:
            raise self.fail(error) from None

    def fail(self, error: IngramSyncError) -> CliError:
        log.debug("error detail", exc_info=True)
        log.error("%s", error, extra=FILE_ONLY)
        return CliError(str(error), exit_code_for(error))


def database_label(ctx: click.Context) -> str:
    """The database the command used, for an error message (settings may be broken)."""
    try:
        return ctx.obj.settings().db
    except IngramSyncError:
        return "(the database)"


@click.group(cls=IngramGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="SQLite database [env INGRAM_SYNC_DB; ingram_sync.db]")
@click.option("--config", metavar="FILE", help="TOML config file [env INGRAM_SYNC_CONFIG]")
@click.option("-v", "--verbose", is_flag=True, help="More detail, including errors' causes.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@click.option("--log-file", metavar="PATH", help="Also append timestamped log lines here.")
@click.version_option(__version__, prog_name="ingram-sync")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    config: str | None,
    verbose: bool,
    quiet: bool,
    log_file: str | None,
) -> None:
    """Keep a local SQLite catalog of Ingram Micro price, availability and details current.

    Example: ingram-sync demo
    """
    ctx.obj = state = State(db, config, verbose, quiet)
    setup_logging(verbose, quiet)
    try:
        settings = state.settings(log_file=log_file)
    except ConfigError:
        settings = None  # the command itself reports a broken configuration
    if log_file or (settings and settings.log_file):
        secrets = [settings.client_secret or ""] if settings else []
        setup_logging(verbose, quiet, log_file or settings.log_file, secrets)


# -- products ---------------------------------------------------------------


@cli.group()
def products() -> None:
    """Track part numbers. Example: ingram-sync products add 6YE881"""


@products.command("add")
@click.argument("skus", nargs=-1, required=True)
@pass_state
def products_add(state: State, skus: tuple[str, ...]) -> None:
    """Track part numbers. Example: ingram-sync products add 6YE881 4A0036"""
    added, already = state.store().add_products(part_numbers_from_args(skus))
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
    removed = state.store().remove_products(part_numbers_from_args(skus))
    click.echo(f"removed {removed}")


@products.command("discover")
@click.option("--vendor", help="Vendor name, e.g. Cisco.")
@click.option("--keyword", help="Words to look for.")
@click.option("--category", help="Category or subcategory.")
@click.option("--limit", default=500, show_default=True, help="At most this many matches.")
@click.option("--dry-run", is_flag=True, help="List what would be added; track nothing.")
@click.option("--sandbox", "vendor_sandbox", is_flag=True, help="Use Ingram's own sandbox API.")
@click.option(
    "--timeout", metavar="VALUE", help="Seconds per HTTP read, connect and TLS handshake [30]."
)
@click.option(
    "--deadline", metavar="VALUE", help="Seconds per HTTP attempt, connect to last body byte [120]."
)
@pass_state
def products_discover(
    state: State,
    limit: int,
    dry_run: bool,
    vendor_sandbox: bool,
    timeout: str | None,
    deadline: str | None,
    **query: Any,
) -> None:
    """Track the products a vendor catalog search finds.

    Example: ingram-sync products discover --vendor Cisco --dry-run
    """
    from ingram.discover import SearchQuery, discover, result_line

    settings = state.settings(
        api_url=VENDOR_SANDBOX_URL if vendor_sandbox else None, timeout=timeout, deadline=deadline
    )
    client = open_client(settings)
    store = Store.open(settings.db)
    result = discover(store, client, SearchQuery(**query), limit=limit, dry_run=dry_run)
    if dry_run or state.verbose:
        new = set(result.new)
        for item in result.found:
            click.echo(result_line(item, item.ingram_part_number not in new))
    if dry_run:
        click.echo(
            f"found {len(result.found)}: would add {len(result.new)},"
            f" already tracked {result.already_tracked} (dry run: nothing added)"
        )
    else:
        click.echo(
            f"found {len(result.found)}: added {result.added},"
            f" already tracked {result.already_tracked}"
        )


# -- sync -------------------------------------------------------------------

TIMING_OPTIONS = (
    ("--pa-rate", "P&A calls per minute [60]."),
    ("--details-interval", "Seconds between details calls [0.5]."),
    ("--pa-retry-waits", "Seconds to wait before each P&A retry [30,60,120]."),
    ("--details-retry-waits", "Seconds to wait before each details retry [10,30,60]."),
    ("--timeout", "Seconds per HTTP read, connect and TLS handshake [30]."),
    ("--deadline", "Seconds per HTTP attempt, connect to last body byte [120]."),
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
        keep_days=settings.keep_days,
        **extra,
    )


@cli.command()
@run_options
@click.option("--sku", "skus", multiple=True, help="Sync only this part number (repeatable).")
@click.option(
    "--min-interval", metavar="DURATION", help="Skip if the last full sync ended within this [0]."
)
@click.option("--force", is_flag=True, help="Sync even within --min-interval.")
@pass_state
def sync(state: State, skus: tuple[str, ...], force: bool, **kwargs: Any) -> None:
    """Fetch price and availability (and stale details) of tracked products.

    Example: ingram-sync sync --max-concurrent 5
    """
    flags = timing_flags(kwargs)
    settings = state.settings(min_interval=kwargs.pop("min_interval"), **flags)
    client = open_client(settings)
    options = build_options(settings, kwargs, skus=tuple(part_numbers_from_args(skus)), force=force)
    store = Store.open(settings.db)
    summary = run_sync(store, client, options, make_progress(state.quiet))
    finish(state, summary)


@cli.command("retry-failed")
@click.argument("ids", nargs=-1, type=ROW_ID)
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
    client = open_client(settings)
    options = build_options(settings, kwargs)
    summary = run_retry_failed(store, client, rows, options, make_progress(state.quiet))
    finish(state, summary)


LAZY_COMMANDS = {
    "demo": ("ingram.cli.demo", "demo_command"),
    "sandbox": ("ingram.cli.demo", "sandbox_command"),
}


def register_extra_commands() -> None:
    """Commands that live in their own modules (the reports; demo and sandbox load lazily)."""
    from ingram.cli.db import db_group  # these import common, never this module
    from ingram.cli.reports import REPORT_COMMANDS

    for command in REPORT_COMMANDS:
        cli.add_command(command)
    cli.add_command(db_group)


register_extra_commands()


class Terminated(BaseException):
    """SIGTERM outside a sync: unwinds like Ctrl-C, so temporary files and transactions end."""


def raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def main() -> None:
    """The console script ``ingram-sync``."""
    for name in ("stdout", "stderr"):  # closed by the caller (2>&-): write nowhere, still run
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        try:
            cli(prog_name="ingram-sync")
        finally:
            sys.stdout.flush()
    except Terminated:
        sys.exit(ExitStatus.INTERRUPTED)
    except OSError as error:  # stdout on a full disk, or gone: one line, not a traceback
        sys.stderr.write(f"Error: cannot write the output: {error.strerror or error}\n")
        sys.stderr.flush()
        os._exit(ExitStatus.USAGE)  # the interpreter's own last flush would fail again
