"""``demo`` and ``sandbox``: the built-in sandbox API, alone or with a real sync against it.

The demo is the quickest way to see the tool work: it starts the sandbox on a
free loopback port, tracks demo products in a database in the current folder
and runs the same ``run_sync`` as ``ingram-sync sync``, with timings
compressed so it ends in seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ingram.api.client import ClientSettings, IngramClient
from ingram.engine import SyncOptions, run_sync
from ingram.output.progress import make_progress
from ingram.sandbox import SandboxServer, SandboxSettings, serve_forever, settings_from_options
from ingram.sandbox.runner import FAULT_OPTIONS
from ingram.state.maintenance import check_demo_database, mark_demo
from ingram.state.store import Store

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
    "--products",
    "count",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Demo products.",
)
@click.pass_obj
def demo_command(state: Any, count: int) -> None:
    """Sync demo products from the built-in sandbox API, with progress bars.

    Example: ingram-sync demo --products 200
    """
    from ingram.cli.common import finish

    db_path = Path(state.db_flag or DEMO_DB)
    check_demo_database(db_path)
    sandbox_settings = SandboxSettings(port=0, catalog_size=count, latency=DEMO_LATENCY)
    click.echo(
        f"Demo: a sandbox Ingram API on loopback, {count} products, database {db_path}.\n"
        f"Timings are compressed: P&A {DEMO_PA_RATE:.0f} calls/min and details every "
        f"{DEMO_DETAILS_INTERVAL}s (Ingram's real limits: 60 calls/min, 0.5s).",
        err=True,
    )
    with SandboxServer(sandbox_settings) as server:
        store = Store.open(db_path)
        mark_demo(store)
        store.add_products(server.catalog.part_numbers(count))
        client = IngramClient(demo_client_settings(server.url, sandbox_settings))
        summary = run_sync(store, client, SyncOptions(force=True), make_progress(state.quiet))
    next_steps = (
        f"\nYour data is in {db_path}. Try next:\n"
        f"  ingram-sync --db {db_path} export --format json | head -40\n"
        f"  ingram-sync --db {db_path} runs show {summary.run_id}\n"
        f"  ingram-sync --db {db_path} products list --status active | head"
    )
    finish(state, summary, next_steps)


def fault_options(command: Any) -> Any:
    """One ``--fault-NAME RATE`` option per fault the sandbox can inject."""
    for option, fault in reversed(FAULT_OPTIONS.items()):
        flag = "--" + option.replace("_", "-")
        help_text = f"Probability 0..1 of '{fault}' per API call."
        command = click.option(flag, type=float, default=0.0, help=help_text)(command)
    return command


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, help="0 picks a free port.")
@click.option("--catalog-size", default=1000, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to each answer.")
@click.option("--pa-rate-limit", type=int, help="P&A calls per window (429 past it).")
@click.option("--details-rate-limit", type=int, help="Details calls per window.")
@click.option("--rate-window", default=60.0, show_default=True, help="Window in seconds.")
@click.option("--retry-after", is_flag=True, help="Send Retry-After with 429s.")
@click.option("--token-lifetime", default=86400.0, show_default=True, help="Seconds.")
@click.option("--client-id", default="sandbox-client", show_default=True)
@click.option("--client-secret", default="sandbox-secret", show_default=True)
@fault_options
def sandbox_command(**options: Any) -> None:
    """Run the sandbox Ingram API server until Ctrl-C.

    Example: ingram-sync sandbox --port 8765 --pa-rate-limit 60 --fault-500 0.05
    """
    try:
        settings = settings_from_options(**options)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error)) from None
    sys.exit(serve_forever(settings, announce=lambda line: click.echo(line)))
