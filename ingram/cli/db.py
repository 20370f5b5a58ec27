"""``db check``, ``db backup`` and ``db prune``: looking after the database file.

Example: ingram-sync db backup /backups/catalog-$(date +%F).db
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from ingram.cli.common import CliError, State, pass_state
from ingram.config.values import parse_duration
from ingram.state.backups import backup
from ingram.state.maintenance import integrity_problems, prune
from ingram.vocab import ExitStatus

DAMAGED_ADVICE = (
    "the database is damaged: stop cron's syncs, restore the last good backup"
    " (`ingram-sync db backup` makes one), or move the file aside and sync again"
    " to rebuild the catalog (run history and failures are lost then)"
)


@click.group("db")
def db_group() -> None:
    """Check, back up and prune the database. Example: ingram-sync db check"""


@db_group.command("check")
@pass_state
def db_check(state: State) -> None:
    """Check the database's integrity. Example: ingram-sync db check"""
    store = state.store(readonly=True)
    try:
        problems = integrity_problems(store)
    except sqlite3.DatabaseError as error:  # damage that stops the check itself
        problems = [str(error)]
    if problems:
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        raise CliError(DAMAGED_ADVICE, ExitStatus.USAGE)
    click.echo(f"ok: {store.path} passed the integrity check")


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def db_backup(state: State, file: Path) -> None:
    """Copy the database to FILE, consistently even during a sync.

    The copy passes SQLite's integrity check before it replaces FILE; FILE may not be
    the database or one of its -wal, -shm, -journal files (nor a link to one).

    Example: ingram-sync db backup catalog-backup.db
    """
    store = state.store(readonly=True)
    pages = backup(store, file)
    click.echo(f"backed up {store.path} to {file} ({pages} pages)")


@db_group.command("prune")
@click.option(
    "--older-than",
    metavar="DURATION",
    help="Delete history older than this, e.g. 30d [keep_days of the config, 90d].",
)
@pass_state
def db_prune(state: State, older_than: str | None) -> None:
    """Delete old runs, their tasks, resolved failures and changes; free the space.

    Unresolved failures and runs still owed work are kept.

    Example: ingram-sync db prune --older-than 30d
    """
    keep_days = state.settings().keep_days
    if older_than is None and not keep_days:
        raise click.UsageError("keep_days is 0 (keep everything): give --older-than")
    age = parse_duration(older_than, "--older-than") if older_than else keep_days * 86400
    store = state.store()
    pruned = prune(store, age, compact=True)
    click.echo(
        f"pruned {pruned.runs} runs, {pruned.changes} changes and {pruned.failures}"
        f" resolved failures; freed {pruned.pages_freed} pages"
    )
