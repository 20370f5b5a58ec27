"""``browse``: the catalog in Datasette, read-only, with descriptions, facets, canned queries
and the sync-health dashboard. Needs the ``[browse]`` extra (Datasette, datasette-dashboards).

Registered lazily by ``ingram.cli.app``: other commands never import Datasette.
"""

from __future__ import annotations

import socket
import threading
import time
import webbrowser
from typing import Any

import click

from ingram.cli.common import State, pass_state
from ingram.errors import ConfigError

BROWSE_NEEDS = "browse needs Datasette: pip install 'ingram-sync[browse]'"


@click.command("browse")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="0: any free."
)
@click.option("--open", "open_browser", is_flag=True, help="Open it in your web browser too.")
@pass_state
def browse_command(state: State, host: str, port: int, open_browser: bool) -> None:
    """Browse the catalog in Datasette, read-only, until Ctrl-C.

    Every table and column described, prices with their currency, facets by
    vendor, category and status, canned queries (out of stock, price moves this
    week, stale details, open failures, discontinued, runs against their floor)
    and a dashboard of the syncs' health. Needs: pip install 'ingram-sync[browse]'

    Example: ingram-sync browse --port 8001
    """
    try:
        import uvicorn
        from datasette.app import Datasette
    except ImportError:
        raise ConfigError(BROWSE_NEEDS) from None
    from ingram.browse.metadata import catalog_metadata, columns_of
    from ingram.state.readonly import opened_immutable

    store = state.store(readonly=True)  # an ingram-sync database, its schema current
    path = store.path.resolve()
    columns = columns_of(store.db)
    store.close()
    immutable = opened_immutable(path)
    datasette = Datasette(
        files=[] if immutable else [str(path)],
        immutables=[str(path)] if immutable else [],
        metadata=catalog_metadata(path.stem, columns),
        settings={"suggest_facets": False, "allow_download": False, "sql_time_limit_ms": 5000},
    )
    register_plugin()
    listener = listen(host, port)
    url = f"http://{host}:{listener.getsockname()[1]}/"
    server = uvicorn.Server(uvicorn.Config(datasette.app(), log_level="warning"))
    click.echo(f"Browse the catalog at {url} (read-only; the dashboard:", err=True)
    click.echo(f"  {url}-/dashboards/sync-health ). Stop it with Ctrl-C.", err=True)
    if open_browser:
        threading.Thread(target=open_when_up, args=(server, url), daemon=True).start()
    server.run(sockets=[listener])


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: one the OS picks), or a ConfigError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {error.strerror}; choose another --port"
        ) from None
    listener.listen(64)
    return listener


def register_plugin() -> None:
    """Our render_cell plugin, on Datasette's plugin manager (once per process)."""
    from datasette.plugins import pm

    from ingram.browse import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="ingram-sync-browse")


def open_when_up(server: Any, url: str) -> None:
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    webbrowser.open(url)
