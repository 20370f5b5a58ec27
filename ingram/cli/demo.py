"""``demo`` and ``sandbox``: the built-in sandbox API, alone or with a real sync against it.

The demo is the quickest way to see the tool work: it starts the sandbox on a
free loopback port, tracks demo products in a database in the current folder
and runs the same ``run_sync`` as ``ingram-sync sync``, with timings
compressed so it ends in seconds.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from ingram.api.client import ClientSettings, IngramClient
from ingram.output.progress import make_progress
from ingram.output.reports import describe_run
from ingram.sandbox import (
    SandboxServer,
    SandboxSettings,
    build_arg_parser,
    serve_forever,
    settings_from_options,
)
from ingram.state.maintenance import check_demo_database, mark_demo
from ingram.state.products import add_products
from ingram.state.store import Store
from ingram.sync import SyncOptions, run_sync
from ingram.vocab import RunStatus

DEMO_DB = "ingram_sync_demo.db"
DEMO_PA_RATE = 600.0
DEMO_DETAILS_INTERVAL = 0.01
DEMO_LATENCY = 0.005


def demo_client_settings(url: str, sandbox: SandboxSettings) -> ClientSettings:
    """A client for the sandbox with the demo's compressed timings."""
    return ClientSettings(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        customer_number="20-222222",
        base_url=url,
        timeout=10.0,
        pa_rate=DEMO_PA_RATE,
        details_interval=DEMO_DETAILS_INTERVAL,
        pa_retry_waits=(0.2, 0.5, 1.0),
        details_retry_waits=(0.2, 0.5, 1.0),
    )


@click.command("demo")
@click.option(
    "--catalog-size", "--products", "count", default=1000, show_default=True,
    type=click.IntRange(1, 1_000_000), help="Demo products (the sandbox's catalog size).",
)  # fmt: skip
@click.option(
    "--no-progress", is_flag=True, help="No progress bars; progress lines only in the log file."
)
@click.pass_obj
def demo_command(state: Any, count: int, no_progress: bool) -> None:
    """Sync demo products from the built-in sandbox API, with progress bars.

    Example: ingram-sync demo --catalog-size 200
    """
    from ingram.cli.common import finish, say

    db_path = Path(state.db_flag or DEMO_DB)
    check_demo_database(db_path)
    sandbox_settings = SandboxSettings(port=0, catalog_size=count, latency=DEMO_LATENCY)
    reused = Path(db_path).exists()
    say(
        state,
        f"Demo: a sandbox Ingram API on loopback, {count} products, database {db_path}"
        f"{' (reused: delete it to start fresh)' if reused else ''}.\n"
        f"Timings are compressed: P&A {DEMO_PA_RATE:.0f} calls/min and details every"
        f" {DEMO_DETAILS_INTERVAL}s; Ingram documents 60 calls a minute per endpoint.",
        err=True,
    )
    with SandboxServer(sandbox_settings) as server:
        store = Store.open(db_path)
        mark_demo(store)
        say(state, track_from_price_file(server, store), err=True)
        client = IngramClient(demo_client_settings(server.url, sandbox_settings))
        progress = make_progress(state.quiet, bars=not no_progress)
        summary = run_sync(store, client, SyncOptions(force=True), progress)
        if summary.status == RunStatus.COMPLETED:
            for line in describe_run(summary.counts, summary.failed):
                say(state, line, err=True)
            say(state, push_stock_by_webhook(server, store, str(db_path)), err=True)
            say(state, "A second sync: prices moved too, and webhooks carry none.", err=True)
            client = IngramClient(demo_client_settings(server.url, sandbox_settings))
            progress = make_progress(state.quiet, bars=not no_progress)
            summary = run_sync(store, client, SyncOptions(force=True), progress)
    next_steps = (
        f"\nYour data is in {db_path}. Try next:\n"
        f"  ingram-sync --db {db_path} changes --source webhook | head\n"
        f"  ingram-sync --db {db_path} export --format json | head -40\n"
        f"  ingram-sync --db {db_path} runs show {summary.run_id}\n"
        f"  ingram-sync --db {db_path} products list --status active | head\n"
        f"  ingram-sync --db {db_path} catalog stats"
    )
    finish(state, summary, next_steps)


def track_from_price_file(server: SandboxServer, store: Store) -> str:
    """Load the sandbox's price file, choose its largest vendor, track that vendor's
    products (as ``catalog load`` and ``products add --from-catalog`` do); say so."""
    from ingram.pricefile.choosing import Choice, catalog_stats, chosen_part_numbers
    from ingram.pricefile.loading import load_price_file
    from ingram.sandbox.pricefile import PriceFileOptions, write_price_file

    with tempfile.TemporaryDirectory(prefix="ingram-demo-") as folder:
        path = write_price_file(server.catalog, Path(folder), PriceFileOptions())
        loaded = load_price_file(store, path, source="the sandbox's PRICE.ZIP")
    vendor = catalog_stats(store, top=1)["vendors"][0]["name"]
    chosen = chosen_part_numbers(store, Choice(vendors=(vendor,)))
    add_products(store, chosen)
    return (
        f"Ingram's price file, as the sandbox writes it: {loaded.products} products loaded"
        f" into the catalog; tracking the {len(chosen)} active products of vendor {vendor}"
        " (ingram-sync products add --from-catalog --vendor ...)."
    )


def push_stock_by_webhook(server: SandboxServer, store: Store, db_path: str) -> str:
    """Between the syncs, the sandbox pushes signed stock events to a real receiver;
    returns what happened, in a line."""
    from ingram.sandbox.pushes import push_stock
    from ingram.state.webhook import webhook_intake
    from ingram.webhook.server import WebhookServer, WebhookSettings

    settings = WebhookSettings(db=db_path, secret=secrets.token_urlsafe(24), port=0)
    with WebhookServer(settings) as receiver:
        pushed = push_stock(server, receiver.url, settings.secret)
        deadline = time.monotonic() + 30
        while (webhook_intake(store) or {}).get("events", 0) < len(pushed):
            if time.monotonic() > deadline:
                raise click.ClickException("the demo's pushed stock events were not applied")
            time.sleep(0.05)
    intake = webhook_intake(store) or {}
    return (
        f"Ingram's Stock Update webhook, simulated: the sandbox pushed {len(pushed)} signed"
        f" event(s) to {receiver.url}; {intake.get('applied', 0)} products got new stock"
        " without an API call."
    )


def sandbox_options(command: Any) -> Any:
    """Every option of ``python -m ingram.sandbox``: same names, types, defaults and help.

    Read from its argparse parser, so the two never drift apart. ``--verbose`` is
    left out: here it is the global option; ``--request-log`` says the same.
    """
    for action in reversed(build_arg_parser()._actions):
        flags = [
            flag for flag in action.option_strings if flag not in ("-h", "--help", "--verbose")
        ]
        if not flags:
            continue
        settings: dict[str, Any] = {"help": action.help}
        if action.nargs == 0:
            settings["is_flag"] = True
        elif isinstance(action.default, list):
            settings.update(multiple=True, metavar=action.metavar)
            if action.choices:
                settings["type"] = click.Choice(list(action.choices))
        else:
            settings.update(type=action.type or str, default=action.default, metavar=action.metavar)
            settings["show_default"] = action.default is not None
        if action.dest in OPTION_ENVVARS:  # a secret: from the environment, never shown
            settings.update(envvar=OPTION_ENVVARS[action.dest], show_default=False)
            settings["help"] = f"{action.help} [env {OPTION_ENVVARS[action.dest]}]"
        command = click.option(*flags, action.dest, **settings)(command)
    return command


OPTION_ENVVARS = {
    "webhook_secret": "INGRAM_WEBHOOK_SECRET",
    "ftp_password": "INGRAM_FTP_PASSWORD",  # the sandbox asks for the password ingram-sync sends
}


@click.command("sandbox")
@sandbox_options
def sandbox_command(**options: Any) -> None:
    """Run the sandbox Ingram API server until Ctrl-C.

    On start it prints the environment lines that point ingram-sync at it. Every
    option of python -m ingram.sandbox is here.

    Example: ingram-sync sandbox --port 8765 --pa-rate-limit 60 --fault-500 0.05
    """
    try:
        settings = settings_from_options(**options)
        sys.exit(serve_forever(settings, announce=lambda line: click.echo(line)))
    except (TypeError, ValueError) as error:
        from ingram.cli.common import CliError
        from ingram.vocab import ExitStatus

        raise CliError(str(error), ExitStatus.USAGE) from None
