"""The WSGI app of the receiver: refuse what is not a genuine Stock Update event, spool the rest.

It is a plain WSGI callable, so ``webhook serve`` runs it under waitress and a
user may mount it under gunicorn or uWSGI instead (one process: the writer
thread and the spool belong to it). Answers: 200 accepted (or a replay), 400
malformed body, 401 unsigned or badly signed, 404 another path, 405 not a
POST, 411 no length, 413 too large, 503 the spool cannot be written.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from ingram.errors import ConfigError
from ingram.state.store import Store
from ingram.webhook.events import EventRejected, parse_event, signature_valid
from ingram.webhook.receiver import Receiver, spool_dir_for

log = logging.getLogger("ingram.webhook")

DEFAULT_PATH = "/ingram/stock"
# 4,000 resources (Ingram's largest event) take about 1.5 MB; leave room, refuse more.
MAX_BODY = 4 * 1024 * 1024

StartResponse = Callable[..., Any]


class StockWebhookApp:
    """``app(environ, start_response)``: one Stock Update event per POST to ``path``."""

    def __init__(
        self,
        receiver: Receiver,
        secret: str,
        *,
        path: str = DEFAULT_PATH,
        max_body: int = MAX_BODY,
    ) -> None:
        if not secret:
            raise ValueError("the webhook secret is empty")
        self.receiver = receiver
        self._secret = secret
        self.path = "/" + path.strip("/")
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"StockWebhookApp(path={self.path!r})"  # never the secret

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status, answer = self.handle(environ)
        body = json.dumps(answer).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            headers.append(("Allow", "POST"))
        start_response(f"{status.value} {status.phrase}", headers)
        return [body]

    def handle(self, environ: dict[str, Any]) -> tuple[HTTPStatus, dict[str, str]]:
        path = "/" + (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).strip("/")
        if path != self.path:
            return HTTPStatus.NOT_FOUND, {"error": "not found"}
        if environ.get("REQUEST_METHOD") != "POST":
            return HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST a Stock Update event"}
        try:
            event = self.read_event(environ)
        except EventRejected as refusal:
            self.receiver.refuse(refusal.status)
            log.warning(
                "webhook request from %s refused (HTTP %d): %s",
                environ.get("REMOTE_ADDR", "?"),
                refusal.status,
                refusal.reason,
            )
            return HTTPStatus(refusal.status), {"error": refusal.reason}
        try:
            fresh = self.receiver.accept(event)
        except OSError as error:
            log.error("webhook event %s not spooled: %s", event.event_id, error.strerror)
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "cannot store the event now"}
        return HTTPStatus.OK, {"status": "accepted" if fresh else "duplicate"}

    def read_event(self, environ: dict[str, Any]) -> Any:
        """The signed event of the request, or ``EventRejected``."""
        length_text = environ.get("CONTENT_LENGTH") or ""
        if not length_text.isdigit():
            raise EventRejected(411, "no Content-Length")
        length = int(length_text)
        if length > self.max_body:
            raise EventRejected(413, f"body of {length} bytes is over {self.max_body}")
        signature = environ.get("HTTP_X_HUB_SIGNATURE", "")
        if not signature.strip():
            raise EventRejected(401, "no x-hub-signature header")
        event = parse_event(environ["wsgi.input"].read(length))
        if not signature_valid(self._secret, event.event_id, signature):
            raise EventRejected(401, f"bad signature for event {event.event_id[:64]!r}")
        return event


def create_app(
    db: str | None = None, secret: str | None = None, path: str = DEFAULT_PATH
) -> StockWebhookApp:
    """The app with its receiver started (spool applied), for any WSGI server.

    Without arguments it reads ``INGRAM_SYNC_DB`` and ``INGRAM_WEBHOOK_SECRET``, so
    ``gunicorn --workers 1 --threads 8 'ingram.webhook:create_app()'`` serves it.
    One process per database: the spool and its writer belong to one process.
    """
    db = db or os.environ.get("INGRAM_SYNC_DB") or "ingram_sync.db"
    secret = secret or os.environ.get("INGRAM_WEBHOOK_SECRET")
    if not secret:
        raise ConfigError(
            "missing INGRAM_WEBHOOK_SECRET: set it to the webhook's secret key from Ingram's portal"
        )
    receiver = Receiver(Store.open(db), spool_dir_for(db)).start()
    return StockWebhookApp(receiver, secret, path=path)
