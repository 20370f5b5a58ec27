"""The WSGI app of the receiver: refuse what is not a genuine Stock Update event, spool the rest.

It is a plain WSGI callable, so ``webhook serve`` runs it under waitress and a
user may mount it under gunicorn or uWSGI instead (one process: the writer
thread and the spool belong to it). Answers: 200 accepted, a replay, or another
topic ("ignored"); 400 malformed body; 401 unsigned or badly signed; 404 another
path; 405 not a POST; 411 no length; 413 too large; 503 the spool cannot be written.

The order is the point: sizes first, then the signature over the event id (read
out of the raw body without parsing it), and only then the JSON.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ingram.clock import format_time
from ingram.errors import ConfigError
from ingram.state.store import Store
from ingram.webhook.events import IgnoredTopic, parse_event
from ingram.webhook.receiver import Receiver, spool_dir_for
from ingram.webhook.rejection import EventRejected
from ingram.webhook.signing import authenticate

log = logging.getLogger("ingram.webhook")

DEFAULT_PATH = "/ingram/stock"
# 4,000 resources (Ingram's largest event) take about 1.5 MB; leave room, refuse more.
MAX_BODY = 4 * 1024 * 1024
# Shorter keys are guessable from one captured signature (the event id is in the body).
MIN_SECRET = 8
READ_CHUNK = 64 * 1024

StartResponse = Callable[..., Any]


def check_secret(secret: str | None) -> str:
    """The webhook secret, or a ConfigError saying what is wrong with it."""
    if not secret:
        raise ConfigError(
            "missing INGRAM_WEBHOOK_SECRET: set it to the webhook's secret key from Ingram's portal"
        )
    if len(secret) < MIN_SECRET:
        raise ConfigError(
            f"INGRAM_WEBHOOK_SECRET is {len(secret)} characters: a webhook key has at least"
            f" {MIN_SECRET}; copy the whole key from Ingram's portal (Generate New Key)"
        )
    return secret


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
        self.receiver = receiver
        self._secret = check_secret(secret)
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
        received = datetime.now(UTC)
        try:
            event = self.read_event(environ, received)
        except EventRejected as refusal:
            self.receiver.refuse(refusal.status)
            log.warning(
                "webhook request from %s refused (HTTP %d): %s",
                environ.get("REMOTE_ADDR", "?"),
                refusal.status,
                refusal.reason,
            )
            return HTTPStatus(refusal.status), {"error": refusal.reason}
        if isinstance(event, IgnoredTopic):
            self.receiver.ignore(event)
            return HTTPStatus.OK, {"status": "ignored"}
        try:
            fresh = self.receiver.accept(event, format_time(received))
        except OSError as error:
            log.error("webhook event %s not spooled: %s", event.event_id, error.strerror or error)
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "cannot store the event now"}
        return HTTPStatus.OK, {"status": "accepted" if fresh else "duplicate"}

    def read_event(self, environ: dict[str, Any], received: datetime) -> Any:
        """The signed event of the request (or another topic), or ``EventRejected``."""
        body = self.read_body(environ)
        event_id, form = authenticate(self._secret, body, environ.get("HTTP_X_HUB_SIGNATURE", ""))
        log.debug("webhook event %s: the signature matched in %s", event_id, form)
        event = parse_event(body, event_id, received)
        if isinstance(event, IgnoredTopic):
            log.info("webhook event %s of topic %r ignored", event_id, event.topic)
        else:
            log.info(
                "webhook event %s received (signed in %s): %d resources, %d skipped",
                event_id,
                form,
                len(event.resources),
                event.skipped,
            )
        return event

    def read_body(self, environ: dict[str, Any]) -> bytes:
        """The body, never more than ``max_body`` bytes of it read.

        A chunked request has no Content-Length: waitress de-chunks it and sets one;
        gunicorn sets ``wsgi.input_terminated`` instead, and the input ends by itself.
        """
        stream = environ["wsgi.input"]
        length_text = environ.get("CONTENT_LENGTH") or ""
        if length_text.isdigit():
            length = int(length_text)
            if length > self.max_body:
                raise EventRejected(413, f"body of {length} bytes is over {self.max_body}")
            return bytes(stream.read(length))
        if not environ.get("wsgi.input_terminated"):
            raise EventRejected(411, "no Content-Length")
        body = bytearray()
        while chunk := stream.read(READ_CHUNK):
            body += chunk
            if len(body) > self.max_body:
                raise EventRejected(413, f"body is over {self.max_body} bytes")
        return bytes(body)


def create_app(
    db: str | None = None, secret: str | None = None, path: str = DEFAULT_PATH
) -> StockWebhookApp:
    """The app with its receiver started (spool applied), for any WSGI server.

    Without arguments it reads ``INGRAM_SYNC_DB`` and ``INGRAM_WEBHOOK_SECRET``, so
    ``gunicorn --workers 1 --threads 8 'ingram.webhook:create_app()'`` serves it.
    One process per database: the spool and its writer belong to one process.
    """
    db = db or os.environ.get("INGRAM_SYNC_DB") or "ingram_sync.db"
    secret = check_secret(secret or os.environ.get("INGRAM_WEBHOOK_SECRET"))
    receiver = Receiver(Store.open(db), spool_dir_for(db)).start()
    return StockWebhookApp(receiver, secret, path=path)
