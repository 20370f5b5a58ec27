"""What every ``ingram-sync`` command shares: the global options' state, exit codes, run endings.

Library errors become one line on stderr and the exit code of ``ExitStatus``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ingram.config import Settings, client_settings, load_publish_rules, load_settings
from ingram.output.logs import FILE_ONLY
from ingram.output.reports import describe_run, run_advice
from ingram.publish.settings import PublishRules
from ingram.state.store import Store
from ingram.vocab import ErrorKind, RunStatus

if TYPE_CHECKING:
    from ingram.api.client import IngramClient
    from ingram.sync import RunSummary

log = logging.getLogger("ingram")


RUN_PROBLEMS = {
    RunStatus.COMPLETED_WITH_FAILURES: "run {run_id}: {failures} items failed: list them with"
    " `ingram-sync failed`, retry with `ingram-sync retry-failed --all`",
    RunStatus.FAILED: "Error: {error}",
    RunStatus.INTERRUPTED: "interrupted: the next sync resumes where this one stopped",
}


class CliError(click.ClickException):
    """One line on stderr, then the exit code the error's class calls for."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


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

INGRAM_SANDBOX_HELP = "Use Ingram's own sandbox API (its credentials), not the built-in one."

# Run and failure ids are SQLite integers: 10**25 is a usage error, not an overflow traceback.
ROW_ID = click.IntRange(1, 2**63 - 1)


def configured_rules(state: State) -> PublishRules:
    """The price and stock rules of the config file (a profile's own over the file's)."""
    flags = {"db": state.db_flag, "profile": state.profile}
    return load_publish_rules(flags, config_path=state.config)


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
    if summary.message and summary.status == RunStatus.SKIPPED:
        log.info("%s", summary.message, extra=FILE_ONLY)
        if not state.quiet:
            click.echo(summary.message, err=True)
    elif summary.run_id is not None:
        for line in describe_run(summary.counts, summary.failed):
            log.info("%s", line.strip(), extra=FILE_ONLY)
            if not state.quiet:
                click.echo(line)
    problem = RUN_PROBLEMS.get(summary.status)
    if summary.status == RunStatus.INTERRUPTED and summary.stopped_by is not None:
        problem = "interrupted: {error}"  # an outage, the vendor's quota: its words
    if problem:
        message = problem.format(
            run_id=summary.run_id, failures=summary.counts.get("failures"), error=summary.message
        )
        if summary.stopped_by == ErrorKind.UNAVAILABLE:
            message += "; then run it again: it resumes where this one stopped"
        log.warning("%s", message, extra=FILE_ONLY)
        click.echo(message, err=True)
    advice = run_advice(summary.counts)
    if advice and not state.quiet:
        click.echo(advice, err=True)
    if epilogue and not state.quiet:
        click.echo(epilogue, err=True)
    code = summary.exit_status
    if summary.calls_left_running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # calls still on the wire must not delay an interrupted exit
    sys.exit(after(code) if after else code)
