"""HTTP plumbing for the client: per-thread sessions and one bounded exchange.

``build_session`` is the one place sessions are made. ``SessionPool`` gives each
thread its own ``Session`` (its pools are not shared between threads). A
``Session`` sends through urllib3's connection pools directly: requests' layer
over them (preparing, merging settings, hooks, its cookie jar) cost 35 % of a
details call's CPU (1.22 against 0.79 ms a call, measured on the sandbox), and
loading it 35 ms of every sync's start. ``exchange`` sends one request with a
(connect, read) timeout, never follows a redirect, streams the body under an
overall deadline, and turns every transport failure into an ``ApiError`` whose
message carries no header.
"""

from __future__ import annotations

import http
import logging
import socket
import ssl
import threading
import time
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, NamedTuple
from urllib.parse import unquote, urlencode

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from ingram.api.deadline import WATCHDOG, Registering
from ingram.api.network import Network
from ingram.api.parsing import error_message, loads
from ingram.api.ratelimiting import SpacedSend
from ingram.errors import ApiError, MalformedResponse, Unreachable
from ingram.policy import Trigger, status_trigger
from ingram.vocab import Endpoint

__all__ = [
    "MAX_BODY_BYTES",
    "ApiRequest",
    "Response",
    "Session",
    "SessionPool",
    "build_session",
    "describe",
    "exchange",
    "status_error",
]

log = logging.getLogger("ingram.api")
MAX_BODY_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 16 * 1024
# What requests sent on every call, kept so the wire looks the same to the vendor.
BASE_HEADERS = {"Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}


class Response(NamedTuple):
    """A complete answer: status, reason phrase, headers and the whole body."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ApiRequest:
    """What one call sends: the API's base URL + ``path`` (or a full ``url``: the token's)."""

    endpoint: Endpoint
    method: str
    path: str
    what: str  # for messages: "P&A request for 50 part numbers"
    params: Mapping[str, Any] | None = None
    body: bytes | None = None
    url: str | None = None


def build_session(user_agent: str, network: Network | None = None) -> Session:
    """A session with no redirects, no .netrc credentials and no urllib3 retries.

    Nothing is looked up per call: the proxies and CA bundle are ``network``'s
    (the environment's, read now when not given), the TLS context is built once.
    """
    return Session(user_agent, network or Network.from_environment())


class Session:
    """One thread's connections (direct, or through the environment's proxy), the headers
    every call sends, and the cookies the servers set (a load balancer's, say)."""

    def __init__(self, user_agent: str, network: Network) -> None:
        self.headers = {"User-Agent": user_agent, "Accept": "application/json", **BASE_HEADERS}
        self.network = network
        self.cookies = Cookies()
        self._managers: dict[tuple[str, str], urllib3.PoolManager] = {}  # (proxy, scheme)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str | None],
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        timeout: tuple[float, float],
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; the answer's body is left to be streamed."""
        parsed = urllib3.util.parse_url(url)
        if not parsed.path:  # "http://host" asks for "/", through a proxy too
            parsed = parsed._replace(path="/")
            url = parsed.url
        if params:
            url += ("&" if parsed.query else "?") + urlencode(params, doseq=True)
        host = (parsed.host or "").lower()
        merged = {**self.headers, **headers}
        cookie = self.cookies.header(host)
        if cookie:
            merged["Cookie"] = cookie
        answer = self._manager(url, parsed.scheme or "http").urlopen(
            method,
            url,
            body=urlencode(data) if isinstance(data, Mapping) else data,
            headers={name: value for name, value in merged.items() if value is not None},
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            retries=False,
            redirect=False,
            preload_content=False,
        )
        self.cookies.update(host, answer.headers.getlist("Set-Cookie"))
        return answer

    def _manager(self, url: str, scheme: str) -> urllib3.PoolManager:
        """The pools for ``url``: made once per proxy and scheme, the TLS context only for
        https (so a CA bundle that cannot be loaded stops https calls, not plain ones)."""
        proxies = self.network.proxies_for(url)
        proxy = proxies.get(scheme) or proxies.get("all") or ""
        manager = self._managers.get((proxy, scheme))
        if manager is None:
            tls = {"ssl_context": self.network.tls_context()} if scheme == "https" else {}
            options: dict[str, Any] = {"num_pools": 2, "maxsize": 4, **tls}
            if proxy:
                proxy = proxy if "://" in proxy else "http://" + proxy
                manager = urllib3.ProxyManager(proxy, proxy_headers=_proxy_auth(proxy), **options)
            else:
                manager = urllib3.PoolManager(**options)
            manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
            self._managers[proxy, scheme] = manager
        return manager

    def close(self) -> None:
        for manager in self._managers.values():
            manager.clear()


def _proxy_auth(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization`` from the proxy URL's user and password, as requests sends it."""
    auth = urllib3.util.parse_url(proxy).auth
    if not auth:
        return {}
    return {"Proxy-Authorization": "Basic " + b64encode(unquote(auth).encode("latin-1")).decode()}


class Cookies:
    """Cookies by host, sent back to the host that set them until it expires them."""

    def __init__(self) -> None:
        self._by_host: dict[str, dict[str, str]] = {}

    def header(self, host: str) -> str | None:
        jar = self._by_host.get(host)
        return "; ".join(f"{name}={value}" for name, value in jar.items()) if jar else None

    def update(self, host: str, set_cookies: list[str]) -> None:
        for line in set_cookies:
            try:
                cookie = SimpleCookie(line)
            except CookieError:  # a cookie the server garbled is not ours to send back
                continue
            jar = self._by_host.setdefault(host, {})
            for name, morsel in cookie.items():
                if _expired(morsel["max-age"]):
                    jar.pop(name, None)
                else:
                    jar[name] = morsel.value


def _expired(max_age: str) -> bool:
    try:
        return int(max_age) <= 0
    except ValueError:
        return False


class _Connection(Registering, SpacedSend, urllib3.connection.HTTPConnection):
    """Watched by the deadline, its sends spaced as written."""


class _TLSConnection(Registering, SpacedSend, urllib3.connection.HTTPSConnection):
    pass


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class SessionPool:
    """One session per thread, all closed by ``close``; the environment is read once for all."""

    def __init__(self, user_agent: str) -> None:
        self._user_agent = user_agent
        self._network = Network.from_environment()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[Session] = []

    def get(self) -> Session:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = build_session(self._user_agent, self._network)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


def exchange(
    session: Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str | None],
    params: Mapping[str, Any] | None = None,
    data: Any = None,
    connect_timeout: float,
    timeout: float,
    deadline: float,
) -> Response:
    """One HTTP exchange; ``deadline`` seconds bound it from connecting to the body's last byte.

    The bound holds however the server trickles its bytes: past the deadline
    the watchdog shuts the connection's socket, which ends any read at once.
    A call's header set to None is not sent, though the session has it.
    """
    started = time.monotonic()
    with WATCHDOG.watch(deadline) as watch:
        try:
            raw = session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=data,
                timeout=(connect_timeout, min(timeout, deadline)),
            )
            body = _read_body(raw, started + deadline, deadline)
            if watch.expired:  # cut while reading the headers: they ended early, not whole
                raise _deadline_error(deadline)
            return Response(raw.status, raw.reason or "", raw.headers, body)
        except (HTTPError, OSError, ValueError) as exc:
            if watch.expired:
                raise _deadline_error(deadline) from None
            if not isinstance(exc, HTTPError | ValueError):
                raise
            log.debug("%s %s: %s", method, urllib3.util.parse_url(url).path, exc)  # shown by -v
            unreachable = _unreachable_cause(exc)
            if unreachable:
                raise Unreachable(f"cannot connect to {_host_port(url)}: {unreachable}") from None
            raise _transport_error(exc, connect_timeout, timeout) from None


def _deadline_error(deadline: float) -> ApiError:
    return ApiError(f"no complete answer within {deadline:g} s", trigger=Trigger.DEADLINE)


def _host_port(url: str) -> str:
    parsed = urllib3.util.parse_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.host}:{port}"


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it wraps (args, ``reason``, ``__cause__``, ``__context__``)."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if isinstance(item, BaseException) and all(item is not s for s in seen):
            seen.append(item)
            todo += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
    return seen


def _unreachable_cause(exc: Exception) -> str | None:
    """Why nothing answers at all (refused, no such host, not TLS), or None if it is not that."""
    causes = _causes(exc)
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "Connection refused" in str(
        exc
    ):
        return "connection refused (nothing listens there)"
    if any(isinstance(c, socket.gaierror | urllib3.exceptions.NameResolutionError) for c in causes):
        return "no such host (DNS lookup failed)"
    if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
        return "its TLS certificate is not trusted"
    if any(isinstance(c, ssl.SSLError | SSLError) for c in causes):
        return "TLS handshake failed (an https:// URL for a plain http port?)"
    return None


def _read_body(raw: urllib3.BaseHTTPResponse, deadline: float, budget: float) -> bytes:
    """The whole body, decoded; the connection goes back to its pool only when it was read
    to the end (one cut short is closed: what is left of its answer would be read next)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in raw.stream(CHUNK_BYTES, decode_content=True):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MalformedResponse(f"answer larger than {MAX_BODY_BYTES} bytes")
            if time.monotonic() > deadline:
                raise _deadline_error(budget)
            chunks.append(chunk)
    except BaseException:
        raw.close()
        raise
    finally:
        raw.release_conn()
    return b"".join(chunks)


def _transport_error(exc: Exception, connect: float, read: float) -> ApiError:
    """Map a transport failure to an ApiError (retryable unless it could never work)."""
    name = type(exc).__name__
    if isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError):
        return ApiError(f"connect timed out after {connect:g} s", trigger=Trigger.CONNECT_TIMEOUT)
    if any(isinstance(cause, ReadTimeoutError) for cause in _causes(exc)):
        return ApiError(f"no answer within {read:g} s", trigger=Trigger.READ_TIMEOUT)
    if isinstance(exc, NewConnectionError | ProtocolError | ProxyError | SSLError | DecodeError):
        return ApiError(f"connection failed ({name})", trigger=Trigger.CONNECTION_LOST)
    return ApiError(f"request could not be sent ({name})", trigger=Trigger.UNSENDABLE)


def describe(resp: Response) -> str:
    """One line: "HTTP 503 Service Unavailable", plus the vendor's message when the body has one."""
    try:
        phrase = resp.reason or http.HTTPStatus(resp.status).phrase
    except ValueError:
        phrase = ""
    text = f"HTTP {resp.status} {phrase}".strip()
    try:
        message = error_message(loads(resp.body)) if resp.body else None
    except MalformedResponse:
        message = None
    return f"{text}: {message}" if message else text


def status_error(status: int, detail: str) -> ApiError:
    """The error for an HTTP status that is not a success; what it means is the policy's."""
    trigger = status_trigger(status)
    if trigger is Trigger.MALFORMED_ANSWER:
        return MalformedResponse(f"unexpected {detail}", http_status=status)
    if trigger is Trigger.HTTP_3XX:
        detail += " (redirects are not followed: check INGRAM_API_URL)"
    return ApiError(detail, trigger=trigger, http_status=status)
