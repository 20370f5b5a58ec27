"""HTTP plumbing for the client: per-thread sessions and one bounded exchange.

``build_session`` is the one place sessions are made. ``SessionPool`` gives each
thread its own ``requests.Session`` (a Session is not promised to be
thread-safe). ``exchange`` sends one request with a (connect, read) timeout,
never follows a redirect, streams the body under an overall deadline, and turns
every transport failure into an ``ApiError`` whose message carries no header.
"""

from __future__ import annotations

import http
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from ingram.api.deadline import WATCHDOG, Registering
from ingram.api.network import Network
from ingram.api.parsing import error_message, loads
from ingram.api.ratelimiting import SpacedSend
from ingram.errors import ApiError, MalformedResponse, Unreachable
from ingram.policy import Trigger, status_trigger
from ingram.vocab import Endpoint

if TYPE_CHECKING:  # the stubs' names for what these requests methods return
    from requests.adapters import _HostParams, _PoolKwargs
    from requests.sessions import _Settings

__all__ = [
    "MAX_BODY_BYTES",
    "ApiRequest",
    "Response",
    "SessionPool",
    "build_session",
    "describe",
    "exchange",
    "status_error",
]

log = logging.getLogger("ingram.api")
MAX_BODY_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 16 * 1024


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


def build_session(user_agent: str, network: Network | None = None) -> requests.Session:
    """A session with no redirects, no .netrc credentials and no urllib3 retries.

    Nothing is looked up per call: the proxies and CA bundle are ``network``'s
    (the environment's, read now when not given), the TLS context is built once.
    """
    session = _Session(network or Network.from_environment())
    session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
    session.auth = lambda request: request  # set, so requests never applies .netrc credentials
    adapter = _Adapter(session.network)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class _Session(requests.Session):
    """A session that reads the environment once, not on every call (``trust_env`` off)."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.trust_env = False
        self.network = network

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """requests' preparation, its merges done directly: the session's headers under the
        call's (a call's None removes one), the session's cookie jar as it stands (requests
        copies it twice a call), the session's auth unless the call brings its own. A call
        with cookies or hooks of its own, or a session with params, takes requests' way."""
        if request.cookies or self.params or any(request.hooks.values()):
            return super().prepare_request(request)
        headers: CaseInsensitiveDict[str | bytes] = CaseInsensitiveDict(self.headers)
        for name, value in (request.headers or {}).items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=(request.method or "GET").upper(),
            url=request.url,
            files=request.files,
            data=request.data,
            json=request.json,
            headers=headers,
            params=request.params,
            auth=request.auth or self.auth,
            cookies=self.cookies,
            hooks=self.hooks,
        )
        return prepared

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        """requests' merge of a call's settings, with ``trust_env``'s part (the proxies for
        ``url``) taken from the environment as read when the session was built. Merged
        here, not by ``super()``: its merge checks each value against runtime protocols,
        as dear as the rest of it."""
        chosen = {**self.network.proxies_for(str(url)), **self.proxies, **(proxies or {})}
        return {
            "proxies": {scheme: proxy for scheme, proxy in chosen.items() if proxy is not None},
            "stream": self.stream if stream is None else stream,
            "verify": self.verify if verify is None else verify,
            "cert": self.cert if cert is None else cert,
        }


class _Adapter(HTTPAdapter):
    """requests' adapter with the TLS settings made once, and pools of our connections."""

    def __init__(self, network: Network) -> None:
        self._network = network
        super().__init__(pool_connections=2, pool_maxsize=4, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_our_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        known = proxy in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not known:  # proxied connections are ours too
            _use_our_pools(manager)
        return manager

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        cert: str | tuple[str, str] | None = None,
    ) -> tuple[_HostParams, _PoolKwargs]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if host["scheme"] == "https":
            pool["ssl_context"] = self._network.tls_context()
        return host, pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing per call: the TLS context holds the CA bundle, loaded once. (requests
        checks the bundle's path here on every call, and hands it to the pool, which
        has urllib3 load it again for every new connection.)"""


def _use_our_pools(manager: urllib3.PoolManager) -> None:
    """Pools of our connections: watched by the deadline, their sends spaced as written."""
    manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


class _Connection(Registering, SpacedSend, urllib3.connection.HTTPConnection):
    pass


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
        self._sessions: list[requests.Session] = []

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
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
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    data: Any = None,
    connect_timeout: float,
    timeout: float,
    deadline: float,
) -> Response:
    """One HTTP exchange; ``deadline`` seconds bound it from connecting to the body's last byte.

    The bound holds however the server trickles its bytes: past the deadline
    the watchdog shuts the connection's socket, which ends any read at once.
    """
    started = time.monotonic()
    with WATCHDOG.watch(deadline) as watch:
        try:
            with session.request(
                method,
                url,
                params=params,
                data=data,
                headers=dict(headers),
                timeout=(connect_timeout, min(timeout, deadline)),
                allow_redirects=False,
                stream=True,
            ) as raw:
                body = _read_body(raw, started + deadline, deadline)
                if watch.expired:  # cut while reading the headers: they ended early, not whole
                    raise _deadline_error(deadline)
                return Response(raw.status_code, raw.reason or "", raw.headers, body)
        except (requests.RequestException, OSError) as exc:
            if watch.expired:
                raise _deadline_error(deadline) from None
            if not isinstance(exc, requests.RequestException):
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


def _unreachable_cause(exc: requests.RequestException) -> str | None:
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
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(c, ssl.SSLError) for c in causes
    ):
        return "TLS handshake failed (an https:// URL for a plain http port?)"
    return None


def _read_body(raw: requests.Response, deadline: float, budget: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in raw.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MalformedResponse(f"answer larger than {MAX_BODY_BYTES} bytes")
        if time.monotonic() > deadline:
            raise _deadline_error(budget)
        chunks.append(chunk)
    return b"".join(chunks)


def _transport_error(exc: requests.RequestException, connect: float, read: float) -> ApiError:
    """Map a requests exception to an ApiError (retryable unless it could never work)."""
    name = type(exc).__name__
    if isinstance(exc, requests.ConnectTimeout):
        return ApiError(f"connect timed out after {connect:g} s", trigger=Trigger.CONNECT_TIMEOUT)
    read_timeout = isinstance(exc, requests.Timeout) or bool(
        exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError)
    )
    if read_timeout:
        return ApiError(f"no answer within {read:g} s", trigger=Trigger.READ_TIMEOUT)
    transient = (
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    if isinstance(exc, transient):
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
