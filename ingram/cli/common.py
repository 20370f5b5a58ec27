"""What every ``ingram-sync`` command shares: the global options' state, exit codes, run endings.

Library errors become one line on stderr and the exit code of ``ExitStatus``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import click

from ingram.config import Settings, client_settings, load_settings
from ingram.errors import ApiError, CredentialsError, IngramSyncError, LockedError
from ingram.output.logs import FILE_ONLY
from ingram.output.reports import describe_run, run_advice
from ingram.state.store import Store

if TYPE_CHECKING:
    from ingram.api.client import IngramClient
    from ingram.engine import RunSummary

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
    "failed": ExitStatus.ITEMS_FAILED,  # the API could not be reached; FATAL_EXIT refines it
}

RUN_PROBLEMS = {
    "completed_with_failures": "run {run_id}: {failures} items failed: list them with"
    " `ingram-sync failed`, retry with `ingram-sync retry-failed --all`",
    "failed": "Error: {error}",
    "interrupted": "interrupted: the next sync resumes where this one stopped",
}
FATAL_EXIT = {
    "credentials": ExitStatus.CREDENTIALS,
    "configuration": ExitStatus.USAGE,  # the vendor refused the account's settings
    "outage": ExitStatus.ITEMS_FAILED,  # not a signal: cron should mail it
}


class CliError(click.ClickException):
    """One line on stderr, then the exit code the error's class calls for."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


def exit_code_for(error: IngramSyncError) -> int:
    if isinstance(error, CredentialsError):
        return ExitStatus.CREDENTIALS
    if isinstance(error, LockedError):
        return ExitStatus.LOCKED
    if isinstance(error, ApiError) and error.kind == "configuration":
        return ExitStatus.USAGE  # the settings point at no Ingram API, or the vendor refused them
    if isinstance(error, ApiError):
        return ExitStatus.ITEMS_FAILED  # the API could not be reached or answered nonsense
    return ExitStatus.USAGE


class State:
    """What the global options said; opens the store and resolves settings lazily."""

    def __init__(
        self,
        db: str | None,
        config: str | None,
        verbose: bool,
        quiet: bool,
        log_file: str | None = None,
        profile: str | None = None,
    ) -> None:
        self.db_flag = db
        self.config = config
        self.profile = profile
        self.verbose = verbose
        self.quiet = quiet
        self.log_file_flag = log_file

    def settings(self, **flags: Any) -> Settings:
        flags = {"db": self.db_flag, "profile": self.profile, **flags}
        return load_settings(flags, config_path=self.config)

    def store(self, *, readonly: bool = False, **flags: Any) -> Store:
        return Store.open(self.settings(**flags).db, readonly=readonly)


pass_state = click.make_pass_decorator(State)

# Run and failure ids are SQLite integers: 10**25 is a usage error, not an overflow traceback.
ROW_ID = click.IntRange(1, 2**63 - 1)


def say(state: State, message: str, *, err: bool = False) -> None:
    """A line for a person at the terminal; ``-q`` drops it (it needs no look)."""
    if not state.quiet:
        click.echo(message, err=err)


def open_client(settings: Settings) -> IngramClient:
    """A client for the configured API, or a ConfigError naming what is missing."""
    from ingram.api.client import IngramClient  # requests loads only for commands that call

    return IngramClient(client_settings(settings))


def finish(
    state: State,
    summary: RunSummary,
    epilogue: str | None = None,
    after: Callable[[int], int] | None = None,
) -> None:
    """Print the run's summary (also to the log file), then ``epilogue``; exit with its status.

    ``after`` gets the run's exit code once all is printed and gives the one to exit with
    (the database mirror and change events run there).
    """
    if summary.message and summary.status == "skipped":
        log.info("%s", summary.message, extra=FILE_ONLY)
        if not state.quiet:
            click.echo(summary.message, err=True)
    elif summary.run_id is not None:
        for line in describe_run(summary.counts, summary.failed):
            log.info("%s", line.strip(), extra=FILE_ONLY)
            if not state.quiet:
                click.echo(line)
    problem = RUN_PROBLEMS.get(summary.status)
    if summary.fatal_kind == "outage":
        problem = "interrupted: {error}"
    if problem:
        message = problem.format(
            run_id=summary.run_id, failures=summary.counts.get("failures"), error=summary.message
        )
        if summary.fatal_kind == "unavailable":
            message += "; then run it again: it resumes where this one stopped"
        log.warning("%s", message, extra=FILE_ONLY)
        click.echo(message, err=True)
    advice = run_advice(summary.counts)
    if advice and not state.quiet:
        click.echo(advice, err=True)
    if epilogue and not state.quiet:
        click.echo(epilogue, err=True)
    code = RUN_EXIT[summary.status]
    if summary.fatal_kind in FATAL_EXIT:
        code = FATAL_EXIT[summary.fatal_kind]
    elif summary.status == "failed":
        code = ExitStatus.ITEMS_FAILED  # the API could not be reached: nothing was done
    if summary.calls_left_running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # calls still on the wire must not delay an interrupted exit
    sys.exit(after(code) if after else code)
