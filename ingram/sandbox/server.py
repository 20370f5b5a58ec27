"""The sandbox server object: lifecycle, tokens, live reconfiguration, control API."""

from __future__ import annotations

import contextlib
import random
import secrets
import socket
import threading
from collections.abc import Mapping
from http.server import ThreadingHTTPServer
from typing import Any

from . import api
from .api import Reply
from .catalog import Catalog
from .handler import SandboxHandler
from .settings import FAULT_NAMES, FaultRates, SandboxSettings
from .stats import RateLimiter, Stats
from .tokens import TokenStore


class _HTTPServer(ThreadingHTTPServer):
    """Daemon threads, and no joining them on close: idle keep-alive threads would block."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, SandboxHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer are normal here; stay quiet about it."""
        if self.sandbox.settings.verbose:
            super().handle_error(request, client_address)


class SandboxServer:
    """A loopback HTTP server that behaves like Ingram's Reseller API v6."""

    def __init__(self, settings: SandboxSettings | None = None, **overrides: Any) -> None:
        base = settings or SandboxSettings()
        self._settings = base.replace(**overrides) if overrides else base
        self._lock = threading.Lock()
        self._catalog = Catalog.from_settings(self._settings)
        self._rng = random.Random(self._settings.seed)
        self._rng_lock = threading.Lock()
        self.tokens = TokenStore()
        self.stats_recorder = Stats()
        self.limiter = RateLimiter()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind (a free port when ``port`` is 0) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self._settings.host, self._settings.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"ingram-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections so clients notice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the configured one before ``start``)."""
        if self._httpd is not None:
            return int(self._httpd.server_address[1])
        return self._settings.port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8765 (no trailing slash)."""
        host = self._settings.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def settings(self) -> SandboxSettings:
        """Current settings (an immutable snapshot)."""
        return self._settings

    @property
    def catalog(self) -> Catalog:
        """The catalog being served."""
        return self._catalog

    def track_connection(self, conn: socket.socket, alive: bool) -> None:
        """Called by handlers so ``stop`` can find idle keep-alive sockets."""
        with self._conn_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- runtime control --------------------------------------------------------

    def reconfigure(self, **changes: Any) -> SandboxSettings:
        """Change settings live; a new seed or size means a new catalog."""
        with self._lock:
            old = self._settings
            if self._httpd is not None and (
                changes.get("host", old.host) != old.host
                or changes.get("port", old.port) not in (old.port, self.port)
            ):
                raise ValueError("host and port cannot change while the sandbox runs")
            if self._httpd is not None:
                changes = {k: v for k, v in changes.items() if k not in ("host", "port")}
            new = old.replace(**changes)
            if (new.seed, new.catalog_size) != (old.seed, old.catalog_size):
                self._catalog = Catalog.from_settings(new)
            else:
                self._catalog.not_found_details_ratio = new.not_found_details_ratio
                self._catalog.price_epoch = new.price_epoch
                self._catalog.realistic = new.realistic
                self._catalog.numeric_warehouse_ids = new.numeric_warehouse_ids
            self._settings = new
            return new

    def revoke_tokens(self) -> None:
        """Invalidate every issued token now (clients must fetch a new one)."""
        self.tokens.revoke_all()

    def issue_token(self) -> str:
        """A valid token without an HTTP round trip (handy in tests).

        With ``single_token`` the older tokens stop working, as production has
        been seen to do for one client id.
        """
        if self._settings.single_token:
            self.tokens.revoke_all()
        return self.tokens.issue(self._settings.token_lifetime)

    def stats(self) -> dict[str, Any]:
        """JSON-serialisable snapshot of the traffic served so far."""
        return self.stats_recorder.snapshot()

    def reset_stats(self) -> None:
        """Forget traffic counters (tokens and rate-limit windows are kept)."""
        self.stats_recorder.reset()

    def request_log(self) -> list[dict[str, Any]]:
        """Recent requests (bounded): time, endpoint, status, sku_count, correlation_id..."""
        return self.stats_recorder.request_log()

    # -- used by the handler ----------------------------------------------------

    def draw_fault(self, rates: FaultRates) -> str | None:
        """One draw per API call from the seeded generator."""
        if not any(getattr(rates, name) for name in FAULT_NAMES):
            return None
        with self._rng_lock:
            roll = self._rng.random()
        total = 0.0
        for name in FAULT_NAMES:
            total += getattr(rates, name)
            if roll < total:
                return name
        return None

    def random_int(self) -> int:
        """Seeded choice among fault variants."""
        with self._rng_lock:
            return self._rng.randrange(1 << 30)

    def token_reply(self, params: Mapping[str, str]) -> Reply:
        """Client-credentials grant from the query or the form, as the portal documents it;
        HTTP Basic credentials are not read (Ingram refuses them: 401 invalid_client)."""
        settings = self._settings
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        grant_ok = params.get("grant_type") == "client_credentials"
        creds_ok = secrets.compare_digest(
            str(client_id or ""), settings.client_id
        ) and secrets.compare_digest(str(client_secret or ""), settings.client_secret)
        if not (grant_ok and creds_ok):
            return api.token_refused(grant_ok)
        return api.token_answer(self.issue_token(), settings.token_lifetime)

    def control_reply(
        self, method: str, name: str, query: Mapping[str, list[str]], body: bytes
    ) -> Reply:
        """The ``/_sandbox/*`` endpoints for other processes (no auth, no faults)."""
        if name == "stats":
            return api.json_reply(200, self.stats())
        if name == "log":  # the benchmarks time the streams by it, from another process
            return api.json_reply(200, self.request_log())
        if name == "reset":
            self.reset_stats()
            return api.json_reply(200, {"ok": True})
        if name == "revoke":
            self.revoke_tokens()
            return api.json_reply(200, {"ok": True})
        if name == "catalog":
            limit = query.get("limit", [None])[0]
            try:
                count = int(limit) if limit not in (None, "") else None
            except ValueError:
                return api.json_reply(400, {"error": "limit must be an integer"})
            return api.json_reply(200, self.catalog.part_numbers(count))
        if method == "GET":  # config
            return api.json_reply(200, {**self._settings.as_dict(), "port": self.port})
        try:
            changes = api.decode_json(body)
            if not isinstance(changes, dict):
                raise ValueError("config body must be a JSON object")
            new = self.reconfigure(**changes)
        except (ValueError, TypeError) as exc:
            return api.json_reply(400, {"error": str(exc)})
        return api.json_reply(200, {**new.as_dict(), "port": self.port})
