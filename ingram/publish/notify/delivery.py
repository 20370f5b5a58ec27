"""Where events go: an HTTPS endpoint (a signed JSON POST) or a command (JSON Lines on stdin).

A destination either takes a batch or raises ``NotifyFailed`` with one line saying
why; only a 2xx answer (or a command's exit 0) counts as taken.

Example::

    destination = WebhookDestination("https://hooks.example/ingram", secret="...")
    destination.send(events, catalog_id)
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from ingram.errors import ConfigError, IngramSyncError
from ingram.publish.notify.events import SIGNATURE_HEADER, batch_body, event_lines, signature
from ingram.redact import mask_secrets, secret_forms

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
LOOPBACK_NAMES = ("localhost",)


class NotifyFailed(IngramSyncError):
    """The destination did not take a batch; it is sent again later (at least once)."""


class Destination(Protocol):
    @property
    def channel(self) -> str:
        """The feed's key in the catalog: a digest of the URL or the command, which may
        carry a token (a hook URL's path often does): it is stored, so never as typed."""

    @property
    def label(self) -> str:
        """What messages call it: the URL's host, or the command's first word."""

    def send(self, events: Sequence[Mapping[str, Any]], catalog_id: str) -> None: ...


@dataclass(frozen=True)
class WebhookDestination:
    """POST each batch as JSON to ``url``, signed with ``secret``."""

    url: str
    secret: str = field(repr=False)
    user_agent: str = "ingram-sync"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"[notify] url {self.url!r} must be a full https:// URL")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ConfigError(
                f"[notify] url {self.url!r}: use https:// (plain http only to this machine)"
            )
        if not self.secret:
            raise ConfigError(
                "[notify] url is set but no secret: set [notify] secret or INGRAM_NOTIFY_SECRET"
                " to the key your endpoint checks the X-Ingram-Sync-Signature with"
            )

    @property
    def channel(self) -> str:
        return "url:" + digest(self.url)

    @property
    def label(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}" + ("/..." if parts.path.strip("/") else "/")

    def send(self, events: Sequence[Mapping[str, Any]], catalog_id: str) -> None:
        body = batch_body(events, catalog_id)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            SIGNATURE_HEADER: signature(self.secret, body),
        }
        import requests  # here: a sync that sends no batch does not load it (35 ms)

        try:
            answer = requests.post(
                self.url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,  # a redirect would turn the POST into a GET
            )
        except requests.RequestException as error:
            message = f"{self.label}: {type(error).__name__}: {error}"
            raise NotifyFailed(self.masked(message)) from None
        if not 200 <= answer.status_code < 300:
            words = " ".join(answer.text.split())[:200]
            message = f"{self.label} answered HTTP {answer.status_code} {words}"
            raise NotifyFailed(self.masked(message.strip()))

    def masked(self, message: str) -> str:
        """``message`` without the secret, or the URL's path and query, in any form."""
        parts = urlsplit(self.url)
        hidden = (parts.path + ("?" + parts.query if parts.query else ""), parts.path)
        forms = [*secret_forms(self.secret), *(part for part in hidden if part.strip("/"))]
        return mask_secrets(message, sorted(forms, key=len, reverse=True))


@dataclass(frozen=True)
class CommandDestination:
    """Pipe each batch to ``command`` (through the shell) as JSON Lines."""

    command: str

    @property
    def channel(self) -> str:
        return "exec:" + digest(self.command)

    @property
    def label(self) -> str:
        return f"command {self.command.split()[0] if self.command.split() else ''!r}"

    def send(self, events: Sequence[Mapping[str, Any]], catalog_id: str) -> None:
        try:
            done = subprocess.run(
                self.command,
                shell=True,  # the user's own command line from their config, pipes and all
                input=event_lines(events),
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise NotifyFailed(f"{self.label}: {type(error).__name__}") from None
        if done.returncode != 0:
            said = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
            raise NotifyFailed(f"{self.label} exited {done.returncode}: {said}")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
