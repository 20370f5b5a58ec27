"""``webhook serve``: receive Ingram's Stock Update webhook into the catalog.

Registered on the ``ingram-sync`` group by ``ingram.cli.app`` (loaded lazily,
so other commands never import waitress).
"""

from __future__ import annotations

from pathlib import Path

import click

from ingram.cli.common import State, pass_state
from ingram.errors import ConfigError, StoreError


@click.group("webhook")
def webhook_group() -> None:
    """Receive Ingram's Stock Update webhook.

    Example: ingram-sync webhook serve --port 8080
    """


@webhook_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--path", default="/ingram/stock", show_default=True, help="URL path of events.")
@pass_state
def webhook_serve(state: State, host: str, port: int, path: str) -> None:
    """Receive signed Stock Update events and apply them to tracked products, until Ctrl-C.

    The secret is the webhook's secret key from Ingram's portal, from
    INGRAM_WEBHOOK_SECRET or the config key webhook_secret. Put an HTTPS
    reverse proxy in front (see docs/webhook.md): Ingram only calls https:// URLs.
    With mirror_url or [notify] set, what it applies is mirrored and sent on
    within seconds.

    Example: ingram-sync webhook serve --port 8080 --path /ingram/stock
    """
    from ingram.cli.mirror import webhook_publisher
    from ingram.webhook.server import WebhookSettings, serve_until_signal

    settings = state.settings()
    if not settings.webhook_secret:
        raise ConfigError(
            "missing INGRAM_WEBHOOK_SECRET: set it (or webhook_secret in the config file)"
            " to the webhook's secret key from Ingram's developer portal"
        )
    if not Path(settings.db).exists():  # an empty catalog would take every event as untracked
        raise StoreError(
            f"no database at {settings.db}: the receiver applies stock to the products a"
            " catalog tracks; point --db (INGRAM_SYNC_DB) at it, or track products first"
        )
    serve_settings = WebhookSettings(
        db=settings.db,
        secret=settings.webhook_secret,
        host=host,
        port=port,
        path=path,
        after_applied=webhook_publisher(state, settings),
    )
    try:
        serve_until_signal(serve_settings, announce=lambda line: click.echo(line, err=True))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
