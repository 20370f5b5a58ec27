"""HTTP plumbing of the sandbox: routing, the request pipeline, misbehaving sockets.

The order of checks mirrors a gateway in front of the vendor API:
latency, auth (401), headers (400), injected 429, real rate limit (429),
other faults, failing part numbers (500), then the endpoint itself. Only
calls past the rate limiter count toward its window.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from . import api, strict
from .api import Reply

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .catalog import Catalog
    from .settings import FaultRates, SandboxSettings
    from .stats import RateLimiter, Stats
    from .tokens import TokenStore

TOKEN_PATHS = ("/oauth/oauth20/token", "/oauth/oauth30/token")
PA_PATH = "/resellers/v6/catalog/priceandavailability"
DETAILS_PREFIX = "/resellers/v6/catalog/details/"
SEARCH_PATH = api.SEARCH_PATH
CONTROL_PREFIX = "/_sandbox/"
_SECRET_IN_QUERY = re.compile(r"((?:client_secret|access_token)=)[^&\s\"]*", re.IGNORECASE)

_ROUTE_METHODS: dict[str, tuple[str, ...]] = {
    "token": ("GET", "POST"),
    "price_and_availability": ("POST",),
    "details": ("GET",),
    "search": ("GET",),
}
_CONTROL_METHODS: dict[str, tuple[str, ...]] = {
    "stats": ("GET",),
    "log": ("GET",),
    "reset": ("POST",),
    "config": ("GET", "POST"),
    "catalog": ("GET",),
    "revoke": ("POST",),
}


def route(path: str) -> tuple[str | None, str | None]:
    """(endpoint, path parameter) for a request path; (None, None) when unknown."""
    path = path.rstrip("/") or "/"
    if path in TOKEN_PATHS:
        return "token", None
    if path == PA_PATH:
        return "price_and_availability", None
    if path.startswith(DETAILS_PREFIX) and "/" not in path[len(DETAILS_PREFIX) :]:
        return "details", unquote(path[len(DETAILS_PREFIX) :])
    if path == DETAILS_PREFIX.rstrip("/"):  # the query form: ?vendorPartNumber=
        return "details", None
    if path == SEARCH_PATH:
        return "search", None
    if path.startswith(CONTROL_PREFIX) and path[len(CONTROL_PREFIX) :] in _CONTROL_METHODS:
        return "control", path[len(CONTROL_PREFIX) :]
    return None, None


class Backend(Protocol):
    """What a handler needs of the server it serves (``SandboxServer`` provides it)."""

    tokens: TokenStore
    stats_recorder: Stats
    limiter: RateLimiter

    @property
    def settings(self) -> SandboxSettings: ...
    @property
    def catalog(self) -> Catalog: ...
    def track_connection(self, conn: socket.socket, alive: bool) -> None: ...
    def draw_fault(self, rates: FaultRates) -> str | None: ...
    def random_int(self) -> int: ...
    def token_reply(self, params: Mapping[str, str]) -> Reply: ...
    def control_reply(
        self, method: str, name: str, query: Mapping[str, list[str]], body: bytes
    ) -> Reply: ...


class SandboxHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive so client sessions reuse sockets."""

    protocol_version = "HTTP/1.1"
    server_version = "IngramSandbox/1.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header by the vendor's clock (``clock_offset`` ahead of ours)."""
        now = time.time() if timestamp is None else timestamp
        return super().date_time_string(now + self.sandbox.settings.clock_offset)

    @property
    def sandbox(self) -> Backend:
        return self.server.sandbox  # type: ignore[attr-defined]

    # -- connection bookkeeping (so stop() can cut idle keep-alive sockets) --

    # Headers and body leave in one segment: with Nagle and delayed ACKs a
    # separate small body write costs ~40 ms per answer on loopback.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.sandbox.track_connection(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sandbox.track_connection(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Per-request lines only with ``verbose``; never with a secret in them."""
        if self.sandbox.settings.verbose:
            line = _SECRET_IN_QUERY.sub(r"\1***", format % args)
            sys.stderr.write(f"sandbox: {self.address_string()} {line}\n")

    # -- dispatch ---------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        """Read the whole body first: keep-alive breaks if any of it is left unread."""
        try:
            body = self._read_body()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            endpoint, param = route(parts.path)
            if endpoint is None:
                self._send(api.unknown_path(parts.path, self.sandbox.settings.realistic))
            elif endpoint == "control":
                self._serve_control(method, param or "", query, body)
            elif method not in _ROUTE_METHODS[endpoint]:
                self._send(_method_not_allowed(_ROUTE_METHODS[endpoint]))
            elif endpoint == "token":
                self._serve_token(query, body)
            else:
                self._serve_api(endpoint, query, body, param)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a sandbox bug must not look like a hung vendor
            self.close_connection = True
            sys.stderr.write(f"sandbox: internal error {exc!r}\n")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # -- token ------------------------------------------------------------------

    def _serve_token(self, query: dict[str, list[str]], body: bytes) -> None:
        sandbox = self.sandbox
        if sandbox.settings.maintenance:
            self._log("token", 503, None, None, "maintenance")
            self._send(api.html_503())
            return
        with sandbox.stats_recorder.in_flight_of("token"):
            params = {k: v[-1] for k, v in query.items() if v}
            if body:
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                params.update({k: v[-1] for k, v in form.items() if v})
            reply = sandbox.token_reply(params)
        self._log("token", reply.status, None, None, None)
        self._send(reply)

    # -- API calls --------------------------------------------------------------

    def _serve_api(
        self, endpoint: str, query: dict[str, list[str]], body: bytes, param: str | None
    ) -> None:
        sandbox = self.sandbox
        settings = sandbox.settings  # one consistent view for the whole call
        correlation_id = self.headers.get("IM-CorrelationID")
        if endpoint == "price_and_availability":
            skus = api.requested_part_numbers(body)
        else:
            skus = [param] if param else None
        with sandbox.stats_recorder.in_flight_of(endpoint):
            sandbox.stats_recorder.record_request(endpoint, correlation_id, skus)
            if settings.latency > 0:
                time.sleep(settings.latency)
            reply, fault = self._api_reply(settings, endpoint, query, body, param, skus)
        # Bookkeeping before the first byte goes out: a client that reads stats
        # (or sends its next call) right after this answer must see it counted
        # and no longer in flight.
        status: int | str = reply.status
        if reply.transport != "normal":
            status = "dropped" if reply.transport == "drop" else "truncated"
        self._log(endpoint, status, len(skus) if skus is not None else None, correlation_id, fault)
        self._send(reply)

    def _api_reply(
        self,
        settings: SandboxSettings,
        endpoint: str,
        query: dict[str, list[str]],
        body: bytes,
        param: str | None,
        skus: list[str] | None,
    ) -> tuple[Reply, str | None]:
        sandbox = self.sandbox
        if settings.maintenance:
            return api.html_503(), "maintenance"
        token = _bearer(self.headers.get("Authorization"))
        if not sandbox.tokens.is_valid(token):
            return Reply(401, b"", None), None
        problems = api.validate_headers(self.headers)
        if problems:
            return api.validation_error(problems), None
        refused = strict.country_refused(self.headers) if settings.realistic else None
        gateway = refused or api.gateway_check(settings, self.headers)
        if gateway is not None:
            return gateway, None
        fault = sandbox.draw_fault(settings.faults)
        limit = settings.rate_limit_for(endpoint)
        if fault in ("rate_limit_429", *strict.QUOTA_WORDS):
            sandbox.stats_recorder.record_fault(fault)
            decision = sandbox.limiter.peek(endpoint, limit, settings.rate_window)
            if fault in strict.QUOTA_WORDS:
                nominal = decision.limit or api.VENDOR_RATE_LIMIT
                headers = api.rate_headers(nominal, 0, decision.reset_in, settings.clock_offset)
                return strict.quota_reply(fault, headers), fault
            return self._too_many(settings, decision.limit, decision.reset_in), fault
        window = settings.rate_window
        decision = sandbox.limiter.check(
            endpoint,
            limit,
            window,
            fixed=settings.realistic,
            on_admit=lambda now: sandbox.stats_recorder.record_accepted(endpoint, now, window),
        )
        if not decision.allowed:
            return self._too_many(settings, limit, decision.reset_in), None
        reply = self._faulted_or_real(settings, endpoint, query, body, param, skus, token, fault)
        if limit is not None and decision.remaining is not None:
            reply.headers.update(
                api.rate_headers(
                    limit, decision.remaining, decision.reset_in, settings.clock_offset
                )
            )
        return reply, fault

    def _too_many(self, settings: SandboxSettings, limit: int | None, reset_in: float) -> Reply:
        return api.rate_limited(
            limit, reset_in, settings.send_retry_after, settings.rate_window, settings.clock_offset
        )

    def _faulted_or_real(
        self,
        settings: SandboxSettings,
        endpoint: str,
        query: dict[str, list[str]],
        body: bytes,
        param: str | None,
        skus: list[str] | None,
        token: str | None,
        fault: str | None,
    ) -> Reply:
        """Faults that replace the answer, then the answer, then faults that mangle it."""
        sandbox = self.sandbox
        if fault is not None:
            sandbox.stats_recorder.record_fault(fault)
        if fault == "error_500":
            return api.system_error(500)
        if fault == "error_503_html":
            return api.html_503()
        if fault == "drop_connection":
            return Reply(0, transport="drop")
        if fault == "revoke_token":
            sandbox.tokens.revoke(token)
            return Reply(401, b"", None)
        if fault == "slow":
            time.sleep(settings.slow_seconds)
        failing = settings.failing_part_numbers
        if endpoint == "details":
            failing = failing | settings.failing_details_part_numbers
        if failing and skus and any(s.strip().upper() in failing for s in skus):
            sandbox.stats_recorder.record_fault("failing_part_number")
            return api.system_error(500)
        reply = self._real_answer(settings, endpoint, query, body, param)
        if endpoint == "price_and_availability":
            reply = strict.odd_extras(api.spoil_items(reply, settings), settings)
        if fault == "truncated":
            reply.transport = "truncate"
        elif fault == "malformed":
            reply = api.malformed(sandbox.random_int())
        return reply

    def _real_answer(
        self,
        settings: SandboxSettings,
        endpoint: str,
        query: dict[str, list[str]],
        body: bytes,
        param: str | None,
    ) -> Reply:
        catalog = self.sandbox.catalog
        if endpoint == "price_and_availability":
            country = self.headers.get("IM-CountryCode")
            return api.price_and_availability(catalog, query, body, country)
        if endpoint == "details":
            country = (self.headers.get("IM-CountryCode") or "").upper()
            if settings.realistic and country not in api.DETAILS_COUNTRIES:
                return api.details_not_offered(country)
            if param is None:
                return strict.details_by_query(catalog, query)
            return api.details(catalog, param)
        unstable = self.sandbox.random_int() if settings.short_pages else None
        return api.search(catalog, query, unstable, settings.search_ignores_filter)

    # -- control ----------------------------------------------------------------

    def _serve_control(
        self, method: str, name: str, query: dict[str, list[str]], body: bytes
    ) -> None:
        if method not in _CONTROL_METHODS[name]:
            self._send(_method_not_allowed(_CONTROL_METHODS[name]))
            return
        self._send(self.sandbox.control_reply(method, name, query, body))

    # -- sending ----------------------------------------------------------------

    def _send(self, reply: Reply) -> None:
        if reply.transport == "drop":
            self._cut_connection()
            return
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.transport == "truncate":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body[: max(1, len(reply.body) // 2)])
            self.wfile.flush()
            self._cut_connection()
            return
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)
        self.wfile.flush()

    def _cut_connection(self) -> None:
        """Close without (the rest of) an answer, as a crashed gateway would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _log(
        self,
        endpoint: str,
        status: int | str,
        sku_count: int | None,
        correlation_id: str | None,
        fault: str | None,
    ) -> None:
        self.sandbox.stats_recorder.record_response(
            {
                "time": time.time(),
                "endpoint": endpoint,
                "method": self.command,
                "path": self.path.split("?", 1)[0],
                "status": status,
                "sku_count": sku_count,
                "correlation_id": correlation_id,
                "fault": fault,
            }
        )


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _method_not_allowed(allowed: tuple[str, ...]) -> Reply:
    reply = api.json_reply(405, {"errors": [{"message": "Method not allowed"}]})
    reply.headers["Allow"] = ", ".join(allowed)
    return reply
