"""Shared helpers of the client tests: settings for a sandbox, and a scriptable stub server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ingram.api.client import ClientSettings, IngramClient

SECRET = "sandbox-secret"
FAST_WAITS = (0.01, 0.02, 0.03)


def client_for(server: Any, **overrides: Any) -> IngramClient:
    """A client of ``server`` with compressed timings (no limiter unless asked)."""
    values: dict[str, Any] = {
        "client_id": "sandbox-client",
        "client_secret": SECRET,
        "customer_number": "20-222222",
        "base_url": server.url,
        "connect_timeout": 2.0,
        "timeout": 5.0,
        "deadline": 10.0,
        "pa_rate": 0.0,
        "details_interval": 0.0,
        "search_rate": 0.0,
        "pa_retry_waits": FAST_WAITS,
        "details_retry_waits": FAST_WAITS,
    }
    values.update(overrides)
    return IngramClient(ClientSettings(**values))


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, or anything JSON-serialisable
    headers: dict[str, str] = field(default_factory=dict)
    body_delay: float = 0.0  # seconds between the headers and the body

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    at: float  # time.monotonic() when it arrived
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StubServer:
    """A loopback server answering from a function, recording every request it saw.

    The token endpoint answers a fresh token by default (``token_reply`` changes it).
    """

    def __init__(self, api_reply: Callable[[Seen], Reply]) -> None:
        self.api_reply = api_reply
        self.token_reply: Callable[[Seen], Reply] = self._default_token
        self.seen: list[Seen] = []
        self.tokens_issued: list[str] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    time.monotonic(),
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(length),
                )
                with stub._lock:
                    stub.seen.append(seen)
                is_token = self.path.startswith("/oauth/")
                reply = (stub.token_reply if is_token else stub.api_reply)(seen)
                body = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.body_delay:
                    self.wfile.flush()
                    time.sleep(reply.body_delay)
                self.wfile.write(body)

            do_GET = do_POST = _serve  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _default_token(self, seen: Seen) -> Reply:
        with self._lock:
            token = f"stub-token-{len(self.tokens_issued)}"
            self.tokens_issued.append(token)
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": "86399"})

    def api_requests(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if not s.path.startswith("/oauth/")]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def stub_servers() -> Iterator[Callable[[Any], StubServer]]:
    """Body of the ``stub`` fixture: a factory of stub servers, all stopped afterwards."""
    servers: list[StubServer] = []

    def make(api_reply: Any) -> StubServer:
        server = StubServer(api_reply)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def run_threads(count: int, target: Any) -> list[Any]:
    """Run ``target(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
