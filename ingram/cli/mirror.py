"""``mirror`` and ``notify``: the catalog into the shop's own database, and change events out.

Also what ``sync`` and ``retry-failed`` do once their run is over (``after_run``)
and the job the webhook receiver runs after applying stock (``webhook_publisher``).
SQLAlchemy and the drivers load only when a mirror runs.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ingram import __version__
from ingram.cli.common import CliError, State, configured_rules, pass_state, say
from ingram.config import Settings
from ingram.errors import ConfigError, IngramSyncError
from ingram.output.logs import FILE_ONLY
from ingram.state.store import Store
from ingram.vocab import ExitStatus

if TYPE_CHECKING:
    from ingram.publish.mirror import MirrorResult
    from ingram.publish.notify import Destination, EventFilter, FeedStatus, NotifyResult

log = logging.getLogger("ingram")


# -- mirror ---------------------------------------------------------------------


@click.command("mirror")
@click.option(
    "--to",
    "url",
    metavar="URL",
    help="postgresql://user@host:port/db or mysql://user@host:port/db [env INGRAM_MIRROR_URL].",
)
@click.option("--full", is_flag=True, help="Compare every product, not only what changed.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    help="Products per transaction in the target [2000].",
)
@pass_state
def mirror_command(state: State, url: str | None, full: bool, batch_size: int | None) -> None:
    """Mirror the catalog into PostgreSQL or MySQL/MariaDB: tables ingram_*, incremental.

    Only what changed since the last mirror is written, in batches, one transaction
    each; products no longer tracked are deleted. The password comes from
    INGRAM_MIRROR_PASSWORD or the URL and is never printed. With mirror_url set,
    every sync and retry-failed mirrors after its run.

    Example: ingram-sync mirror --to postgresql://shop@localhost:5432/shop
    """
    settings = state.settings(mirror_url=url)
    if not settings.mirror_url:
        raise ConfigError(
            "no mirror target: give --to postgresql://user@host:port/db (or mysql://...),"
            " or set INGRAM_MIRROR_URL or mirror_url in the config file"
        )
    from ingram.publish.mirror import MirrorFailed

    store = Store.open(settings.db)
    try:
        result = run_mirror(state, store, settings, full=full, batch_size=batch_size)
    except MirrorFailed as error:
        raise CliError(str(error), ExitStatus.ITEMS_FAILED) from None
    say(state, mirror_line(result))


def run_mirror(
    state: State,
    store: Store,
    settings: Settings,
    *,
    full: bool = False,
    batch_size: int | None = None,
) -> MirrorResult:
    """Mirror ``store`` into the configured target, the sell price and stock by the rules."""
    try:
        from ingram.publish.mirror import BATCH, MirrorTarget, mirror
        from ingram.publish.mirror.published import rules_publisher
    except ImportError:
        raise ConfigError(
            "the mirror needs SQLAlchemy and a driver: pip install 'ingram-sync[postgres]'"
            " or 'ingram-sync[mysql]'"
        ) from None
    target = MirrorTarget.parse(settings.mirror_url or "", password=settings.mirror_password)
    published = rules_publisher(configured_rules(state))
    return mirror(store, target, full=full, batch_size=batch_size or BATCH, published=published)


def mirror_line(result: MirrorResult) -> str:
    written = result.written
    what = (
        f"{written.products} products written, {written.removed} removed,"
        f" {written.warehouse_rows} warehouse and {written.discount_rows} discount rows"
    )
    if written.nothing:
        what = "nothing to write"
    full = " (full)" if result.full else ""
    return f"mirrored to {result.label}{full}: {what} in {result.seconds:.1f}s"


# -- after a run ------------------------------------------------------------------


def after_run(state: State, settings: Settings, code: int) -> int:
    """Mirror, then send change events, once a sync or retry-failed is over.

    The run's own exit code stands, but a failed mirror makes a clean run exit 1
    so cron mails it. Events that cannot be delivered wait for the next run: a
    warning line, the exit code unchanged. Nothing after a signal or a refusal.
    """
    if code not in (ExitStatus.OK, ExitStatus.ITEMS_FAILED):
        return code
    try:
        feed = notify_destination(settings)
        kinds = event_filter(state, settings) if feed is not None else None
    except ConfigError as error:
        problem(f"change events not sent: {error}")
        feed = kinds = None
    if not settings.mirror_url and feed is None:
        return code
    store = Store.open(settings.db)
    try:
        if settings.mirror_url:
            try:
                say(state, mirror_line(run_mirror(state, store, settings)))
            except (IngramSyncError, sqlite3.Error) as error:
                stands = "the run's results stand, the next mirror catches up"
                problem(f"{mirror_failure(error)}; {stands}")
                code = max(code, ExitStatus.ITEMS_FAILED)
        if feed is not None and kinds is not None:
            send_events(state, store, feed, kinds)
    finally:
        store.close()
    return code


def mirror_failure(error: BaseException) -> str:
    message = str(error)
    return message if message.startswith("mirror") else f"mirror failed: {message}"


def problem(message: str) -> None:
    log.warning("%s", message, extra=FILE_ONLY)
    click.echo(message, err=True)


def send_events(
    state: State, store: Store, destination: Destination, kinds: EventFilter
) -> NotifyResult | None:
    """Deliver pending events (after a run), saying what happened; None when they could not be."""
    from ingram.publish.notify import notify

    try:
        result = notify(store, destination, kinds)
    except (IngramSyncError, sqlite3.Error) as error:  # not delivered, or the catalog busy
        problem(str(error))
        return None
    if result.waiting_until:
        why = "the last delivery failed: see `ingram-sync notify status`"
        say(state, f"change events for {result.label} wait until {result.waiting_until} ({why})")
    elif result.sent:
        say(state, f"change events: {result.sent} sent to {result.label}")
    return result


# -- the change feed --------------------------------------------------------------


def notify_destination(settings: Settings, command: str | None = None) -> Destination | None:
    """Where events go: ``command`` (``--exec``), ``[notify] exec``, ``[notify] url``, or
    nowhere (None). The feed's module loads only when there is one (13 ms of each sync's end)."""
    command = command or settings.notify_exec
    if command:
        from ingram.publish.notify import CommandDestination

        return CommandDestination(command)
    if settings.notify_url:
        from ingram.publish.notify import WebhookDestination

        agent = f"ingram-sync/{__version__}"
        return WebhookDestination(settings.notify_url, settings.notify_secret or "", agent)
    return None


def event_filter(state: State, settings: Settings) -> EventFilter:
    from ingram.publish.notify import EventFilter, StockEvents

    return EventFilter(
        price_change_percent=settings.notify_price_change_percent,
        stock=StockEvents(settings.notify_stock),
        min_stock=configured_min_stock(state),
        backorder_eta=settings.notify_backorder_eta,
        discontinued=settings.notify_discontinued,
        replacement=settings.notify_replacement,
    )


def configured_min_stock(state: State) -> int | None:
    """``[stock] min_stock``, when a ``[stock]`` table sets one (the feed's threshold)."""
    stock = configured_rules(state).stock
    return stock.min_stock if stock.min_stock else None


def config_file(state: State) -> Path | None:
    path = state.config or os.environ.get("INGRAM_SYNC_CONFIG")
    return Path(path).expanduser() if path else None


def feed_of(state: State, command: str | None = None) -> tuple[Settings, Destination]:
    settings = state.settings()
    destination = notify_destination(settings, command)
    if destination is None:
        raise ConfigError(
            "no change feed configured: set [notify] url (and secret, or INGRAM_NOTIFY_SECRET)"
            " or [notify] exec in the config file"
        )
    return settings, destination


@click.group("notify")
def notify_group() -> None:
    """Change events out: prices, stock, ETAs, discontinued, as signed JSON.

    Example: ingram-sync notify status
    """


@notify_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_state
def notify_status(state: State, as_json: bool) -> None:
    """What the change feed has pending for its destination, and its last error.

    Example: ingram-sync notify status --json
    """
    from ingram.publish.notify import feed_status

    settings, destination = feed_of(state)
    status = feed_status(Store.open(settings.db), destination, event_filter(state, settings))
    if as_json:
        click.echo(json.dumps(status_dict(status), indent=2))
        return
    for line in status_lines(status):
        click.echo(line)


def status_dict(status: FeedStatus) -> dict[str, Any]:
    feed = status.state
    return {
        "destination": status.label,
        "pending": status.pending,
        "oldest_pending_at": status.oldest_pending_at,
        "delivered": feed.delivered,
        "delivered_at": feed.delivered_at,
        "failures_in_a_row": feed.attempts,
        "last_error": feed.last_error,
        "failed_at": feed.failed_at,
        "next_attempt_at": feed.next_attempt_at,
    }


def status_lines(status: FeedStatus) -> list[str]:
    feed = status.state
    oldest = f", the oldest from {status.oldest_pending_at}" if status.oldest_pending_at else ""
    lines = [
        f"destination: {status.label}",
        f"pending: {status.pending} events{oldest}",
        f"delivered: {feed.delivered} events"
        + (f", the last at {feed.delivered_at}" if feed.delivered_at else ""),
    ]
    if feed.last_error:
        lines.append(
            f"last error ({feed.attempts} in a row, at {feed.failed_at}): {feed.last_error}"
        )
        lines.append(
            f"next attempt: after {feed.next_attempt_at} (or now: ingram-sync notify send)"
        )
    return lines


@notify_group.command("send")
@click.option(
    "--exec", "command", metavar="CMD", help="Pipe the events to CMD as JSON Lines instead."
)
@pass_state
def notify_send(state: State, command: str | None) -> None:
    """Send pending change events now, without waiting out an earlier failure.

    Example: ingram-sync notify send --exec 'jq -c . >> events.jsonl'
    """
    from ingram.publish.notify import NotifyFailed, notify

    settings, destination = feed_of(state, command)
    store = Store.open(settings.db)
    try:
        result = notify(store, destination, event_filter(state, settings), force=True)
    except NotifyFailed as error:
        raise CliError(str(error), ExitStatus.ITEMS_FAILED) from None
    if result.sent:
        say(state, f"change events: {result.sent} sent to {result.label}")
    else:
        say(state, f"nothing to send to {result.label}")


# -- the webhook receiver ---------------------------------------------------------


def webhook_publisher(state: State, settings: Settings) -> Callable[[], bool] | None:
    """The job the receiver runs a moment after it applied stock: mirror, then events.

    Returns True when something failed (the receiver tries again a minute later);
    None when neither a mirror nor a change feed is configured.
    """
    destination = notify_destination(settings)
    if not settings.mirror_url and destination is None:
        return None
    kinds = event_filter(state, settings) if destination is not None else None

    def publish() -> bool:
        store = Store.open(settings.db)
        failed = False
        try:
            if settings.mirror_url:
                try:
                    log.info("%s", mirror_line(run_mirror(state, store, settings)))
                except (IngramSyncError, sqlite3.Error) as error:
                    log.warning("%s; tried again in a minute", mirror_failure(error))
                    failed = True
            if destination is not None and kinds is not None:
                failed = send_events(state, store, destination, kinds) is None or failed
        finally:
            store.close()
        return failed

    return publish
