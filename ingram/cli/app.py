"""The ``ingram-sync`` group, ``sync`` and ``retry-failed``; the other commands register here.

Library errors (``IngramSyncError``) become one line on stderr and the exit
code of ``ExitStatus``; nothing here talks SQL or HTTP directly.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ingram import __version__
from ingram.api.check import DETAILS_COUNTRIES
from ingram.cli.common import (
    INGRAM_SANDBOX_HELP,
    ROW_ID,
    CliError,
    State,
    finish,
    open_client,
    pass_state,
    say,
)
from ingram.cli.mirror import after_run
from ingram.config import VENDOR_SANDBOX_URL, Settings
from ingram.config.values import duration_text, url_password
from ingram.errors import ConfigError, IngramSyncError, InputError
from ingram.inputs import part_numbers_from_args
from ingram.output.logs import FILE_ONLY, setup_logging
from ingram.output.progress import make_progress
from ingram.output.reports import dry_run_lines
from ingram.state.dbfile import storage_error
from ingram.state.history import failures_by_id, list_failures
from ingram.state.keys import keys_with_status, unresolved_keys
from ingram.state.planning import work_plan
from ingram.state.products import not_found_part_numbers, tracked_part_numbers
from ingram.state.saving import DetailsPolicy
from ingram.state.store import Store
from ingram.sync import SyncOptions, run_retry_failed, run_sync
from ingram.vocab import DetailsSource, ExitStatus

log = logging.getLogger("ingram")


GLOBAL_VALUE_OPTIONS = ("--db", "--config", "--profile", "--log-file")
GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet", "-V", "--version")


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options moved to the front, wherever they were typed.

    People type ``ingram-sync sync -q --db x.db``; click only knows global options
    before the subcommand. Nothing after ``--`` is touched.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            rest += [token, *tokens]
            break
        name = token.split("=", 1)[0]
        if token in GLOBAL_FLAGS or (name in GLOBAL_VALUE_OPTIONS and "=" in token):
            hoisted.append(token)
        elif token in GLOBAL_VALUE_OPTIONS:
            hoisted += [token, *[value for value in [next(tokens, None)] if value is not None]]
        else:
            rest.append(token)
    return hoisted + rest


class IngramGroup(click.Group):
    """Turns library errors raised by any subcommand into ``CliError``.

    Global options are accepted after the subcommand too (see ``hoist_global_options``).
    Commands in ``LAZY_COMMANDS`` are imported only when used, so that every
    other command starts without loading the sandbox.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

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
        return CliError(str(error), error.exit_status)


def database_label(ctx: click.Context) -> str:
    """The database the command used, for an error message (settings may be broken)."""
    try:
        return ctx.obj.settings().db
    except IngramSyncError:
        return "(the database)"


@click.group(cls=IngramGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="SQLite database [env INGRAM_SYNC_DB; ingram_sync.db]")
@click.option("--config", metavar="FILE", help="TOML config file [env INGRAM_SYNC_CONFIG]")
@click.option(
    "--profile", metavar="NAME", help="The config's [profiles.NAME] section [env INGRAM_PROFILE]"
)
@click.option("-v", "--verbose", is_flag=True, help="More detail, including errors' causes.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@click.option("--log-file", metavar="PATH", help="Also append timestamped log lines here.")
@click.version_option(__version__, "-V", "--version", prog_name="ingram-sync")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    config: str | None,
    profile: str | None,
    verbose: bool,
    quiet: bool,
    log_file: str | None,
) -> None:
    """Keep a local SQLite catalog of Ingram Micro price, availability and details current.

    The options below also work after the subcommand: ingram-sync sync -q --db x.db

    Example: ingram-sync demo
    """
    ctx.obj = state = State(db, config, verbose, quiet, log_file=log_file, profile=profile)
    setup_logging(verbose, quiet)
    try:
        settings = state.settings(log_file=log_file)
    except ConfigError:
        settings = None  # the command itself reports a broken configuration
    configured_log = settings.log_file if settings else None
    if log_file or configured_log:
        secrets = (
            [
                settings.client_secret or "",
                settings.webhook_secret or "",
                settings.ftp_password or "",
                settings.mirror_password or "",
                settings.notify_secret or "",
                url_password(settings.mirror_url),
            ]
            if settings
            else []
        )
        profile = settings.profile if settings else None
        setup_logging(verbose, quiet, log_file or configured_log, secrets, profile)


# -- products ---------------------------------------------------------------


# -- sync -------------------------------------------------------------------

TIMING_OPTIONS = (
    ("--pa-rate", "P&A calls per minute [60]."),
    ("--details-interval", "Seconds between details calls [1.0; 0.5 the old default]."),
    ("--pa-retry-waits", "Seconds to wait before each P&A retry [30,60,120]."),
    ("--details-retry-waits", "Seconds to wait before each details retry [10,30,60]."),
    ("--timeout", "Seconds per HTTP read, connect and TLS handshake [30]."),
    ("--deadline", "Seconds per HTTP attempt, connect to last body byte [120]."),
    ("--max-concurrent", "P&A calls at once [5]."),
    ("--details-workers", "Details threads sharing the one details limiter, or auto [1]."),
    ("--batch-size", "Part numbers per P&A call, 1..50 [50]."),
    ("--details-max-age", "Refetch details older than this, e.g. 7d [7d]."),
    ("--outage-limit", "Stop as interrupted after this long of only errors, e.g. 2m [2m]."),
)


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The timing and API options shared by ``sync`` and ``retry-failed``."""
    for flag, help_text in reversed(TIMING_OPTIONS):
        command = click.option(flag, metavar="VALUE", help=help_text)(command)
    command = click.option(
        "--ingram-sandbox", "vendor_sandbox", is_flag=True, help=INGRAM_SANDBOX_HELP
    )(command)
    command = click.option(
        "--details/--no-details",
        default=None,
        help="Fetch product details where stale [on in US, IN, NL: where Ingram offers them].",
    )(command)
    command = click.option(
        "--no-progress",
        "no_progress",
        is_flag=True,
        help="No progress bars; progress lines only in the log file.",
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


def details_wanted(settings: Settings, flag: bool | None, quiet: bool) -> bool:
    """``--details/--no-details`` when given; else on where Ingram offers details, saying so."""
    if flag is not None:
        return flag
    country = settings.country_code.upper()
    if country in DETAILS_COUNTRIES:
        return True
    if not quiet:
        click.echo(
            f"details off: Ingram offers product details only in the US, India and the"
            f" Netherlands, not for country {country}; --details turns them on",
            err=True,
        )
    return False


def build_options(
    settings: Settings, kwargs: dict[str, Any], quiet: bool = False, **extra: Any
) -> SyncOptions:
    policy = DetailsPolicy(
        enabled=details_wanted(settings, kwargs.pop("details"), quiet),
        max_age=settings.details_max_age,
        refresh=kwargs.pop("refresh_details"),
        source=DetailsSource(kwargs.pop("details_source", None) or DetailsSource.DETAILS),
    )
    return SyncOptions(
        batch_size=settings.batch_size,
        max_concurrent=settings.max_concurrent,
        details_workers=settings.details_workers,
        details=policy,
        min_interval=settings.min_interval,
        profile=settings.profile,
        client_options=client_options_as_typed(settings),
        keep_days=settings.keep_days,
        **extra,
    )


def client_options_as_typed(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The client's timing settings in a user's units, for the run's record."""

    def waits(values: tuple[float, ...]) -> str:
        return ",".join(f"{value:g}" for value in values) or "none"

    return (
        ("pa_rate", f"{settings.pa_rate:g}/min"),
        ("details_interval", f"{settings.details_interval:g}s"),
        ("pa_retry_waits", waits(settings.pa_retry_waits)),
        ("details_retry_waits", waits(settings.details_retry_waits)),
        ("timeout", f"{settings.timeout:g}s"),
        ("deadline", f"{settings.deadline:g}s"),
        ("outage_limit", duration_text(settings.outage_limit)),
    )


@cli.command()
@run_options
@click.option(
    "--sku",
    "skus",
    multiple=True,
    help="Sync only this part number (repeatable); an untracked one is tracked from now on.",
)
@click.option(
    "--min-interval", metavar="DURATION", help="Skip if the last full sync ended within this [0]."
)
@click.option("--force", is_flag=True, help="Sync even within --min-interval.")
@click.option(
    "--details-source",
    type=click.Choice(["details", "search"]),
    default="details",
    show_default=True,
    help="Experiment: 'search' fills basic details 100 at a time from catalog search.",
)
@click.option(
    "--dry-run", is_flag=True, help="Say what would be called and the floor time; fetch nothing."
)
@pass_state
def sync(state: State, skus: tuple[str, ...], force: bool, dry_run: bool, **kwargs: Any) -> None:
    """Fetch price and availability (and stale details) of tracked products.

    Example: ingram-sync sync --max-concurrent 5
    """
    flags = timing_flags(kwargs)
    settings = state.settings(min_interval=kwargs.pop("min_interval"), **flags)
    skus_given = tuple(part_numbers_from_args(skus))
    options = build_options(settings, kwargs, state.quiet, skus=skus_given, force=force)
    if not skus_given and not Path(settings.db).exists():  # refused before any file is made
        raise InputError(
            f"no database at {settings.db}: track products first with `ingram-sync products"
            " add` or `products import`, or point --db (INGRAM_SYNC_DB) at your database"
        )
    store = Store.open(settings.db)
    plan = work_plan(store, options.details, options.batch_size, options.skus)
    if plan.products == 0 and not unresolved_keys(store):
        unmatched = len(keys_with_status(store, "not_found"))
        if unmatched:
            raise InputError(
                f"{settings.db} tracks no products yet: the {unmatched} keys added name no"
                " Ingram product; see them with `ingram-sync products list --unmatched`,"
                " then check them or track by Ingram part number"
            )
        raise InputError(
            f"{settings.db} tracks no products: add some with `ingram-sync products add`"
            " or `products import`, or point --db (INGRAM_SYNC_DB) at your database"
        )
    if dry_run:
        for line in dry_run_lines(plan, settings.pa_rate, settings.details_interval):
            click.echo(line)
        return
    untracked = sorted(set(options.skus) - set(tracked_part_numbers(store, list(options.skus))))
    if untracked:
        say(state, f"--sku: tracking {', '.join(untracked[:10])} from now on", err=True)
    client = open_client(settings)
    progress = make_progress(state.quiet, bars=not kwargs.pop("no_progress"))
    summary = run_sync(store, client, options, progress)
    unknown = not_found_part_numbers(store, options.skus)
    if unknown:  # said even under -q: the user asked for these by name
        click.echo(f"--sku: not known to Ingram: {', '.join(unknown)}", err=True)
    from ingram.cli.shop import follow_replacements

    epilogue = follow_replacements(settings, store, client, summary)
    finish(state, summary, epilogue, after=lambda code: after_run(state, settings, code))


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
        say(state, "nothing to retry: no unresolved failures", err=True)
        return
    client = open_client(settings)
    options = build_options(settings, kwargs, state.quiet)
    progress = make_progress(state.quiet, bars=not kwargs.pop("no_progress"))
    summary = run_retry_failed(store, client, rows, options, progress)
    finish(state, summary, after=lambda code: after_run(state, settings, code))


LAZY_COMMANDS = {
    "demo": ("ingram.cli.demo", "demo_command"),
    "sandbox": ("ingram.cli.demo", "sandbox_command"),
    "webhook": ("ingram.cli.webhook", "webhook_group"),
    "config": ("ingram.cli.settings", "config_group"),
    "pricing": ("ingram.cli.shop", "pricing_group"),
    "catalog": ("ingram.cli.catalog", "catalog_group"),
    "mirror": ("ingram.cli.mirror", "mirror_command"),
    "notify": ("ingram.cli.mirror", "notify_group"),
    "check": ("ingram.cli.check", "check_command"),
    "browse": ("ingram.cli.browse", "browse_command"),
}


def register_extra_commands() -> None:
    """Commands that live in their own modules (the reports; demo and sandbox load lazily)."""
    from ingram.cli.db import db_group  # these import common, never this module
    from ingram.cli.products import products
    from ingram.cli.reports import REPORT_COMMANDS

    for command in REPORT_COMMANDS:
        cli.add_command(command)
    cli.add_command(db_group)
    cli.add_command(products)


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
