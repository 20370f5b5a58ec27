"""Serving the receiver with waitress (a production WSGI server, pure Python) until a signal.

Example::

    with WebhookServer("catalog.db", secret="...", port=0) as server:
        print(server.url)   # http://127.0.0.1:PORT/ingram/stock
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments

from ingram.webhook.app import DEFAULT_PATH, MAX_BODY, StockWebhookApp, create_app
from ingram.webhook.follow import Follower
from ingram.webhook.guarded import GUARDS, GuardedServer, allow_connections
from ingram.webhook.receiver import Receiver

THREADS = 8
LOOP_TIMEOUT = 0.2  # seconds: how soon a stop is noticed
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class WebhookSettings:
    db: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 8080
    path: str = DEFAULT_PATH
    after_applied: Callable[[], bool] | None = None  # the mirror and change events (Follower)

    def __repr__(self) -> str:
        return f"WebhookSettings(db={self.db!r}, host={self.host!r}, port={self.port})"


class WebhookServer:
    """The receiver (spool, writer thread) and waitress serving its app on ``host:port``."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.app: StockWebhookApp | None = None
        self.server: Any = None
        self.socket_map: dict[int, Any] = {}
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.follower: Follower | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.server.effective_port}{self.receiver_app.path}"

    @property
    def receiver_app(self) -> StockWebhookApp:
        if self.app is None:
            raise RuntimeError("the webhook server is not started")
        return self.app

    @property
    def receiver(self) -> Receiver:
        return self.receiver_app.receiver

    def start(self) -> WebhookServer:
        """Apply what the spool holds from before, then listen (a free port when ``port`` is 0)."""
        settings = self.settings
        self.app = create_app(settings.db, settings.secret, settings.path)
        if settings.after_applied is not None:
            self.follower = Follower(settings.after_applied).start()
            self.app.receiver.on_applied = self.follower.poke
            self.follower.poke()  # what the spool held, or stock applied before a restart
        allow_connections()
        adjustments = Adjustments(
            host=settings.host,
            port=settings.port,
            threads=THREADS,
            max_request_body_size=MAX_BODY,
            ident="ingram-sync",
            clear_untrusted_proxy_headers=True,
            **GUARDS,
        )
        try:
            self.server = GuardedServer(self.app, map=self.socket_map, adj=adjustments)
        except BaseException:
            self.app.receiver.stop()
            self.app.receiver.store.close()
            raise
        return self

    def serve_in_thread(self) -> WebhookServer:
        self.thread = threading.Thread(target=self.serve_loop, name="webhook-http", daemon=True)
        self.thread.start()
        return self

    def serve_loop(self) -> None:
        """waitress's loop, stopped from its own thread: closing its sockets from another
        thread while it waits in ``select`` fails with a bad file descriptor."""
        while not self.stopping.is_set():
            wasyncore.loop(timeout=LOOP_TIMEOUT, map=self.socket_map, use_poll=True, count=1)
        self.server.task_dispatcher.shutdown()
        wasyncore.close_all(self.socket_map)

    def close(self) -> None:
        """Stop listening, let the writer apply what is queued, close the database."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        if self.app is not None:
            self.app.receiver.stop()
            self.app.receiver.store.close()
        if self.follower is not None:
            self.follower.stop()

    def __enter__(self) -> WebhookServer:
        return self.start().serve_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_until_signal(settings: WebhookSettings, announce: Callable[[str], Any]) -> None:
    """Serve until SIGINT or SIGTERM; then stop listening and apply what is queued."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        with WebhookServer(settings) as server:
            announce(f"Receiving Stock Update events on {server.url} (pid {os.getpid()})")
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
