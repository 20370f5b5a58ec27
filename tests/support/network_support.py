"""Real network peers for the environment tests: a TLS front and a forward proxy on loopback.

``TlsFront`` terminates TLS with a certificate of a test CA (``trustme``) and
relays the bytes to a plain-HTTP server (the sandbox), so the client meets a
real handshake and a real certificate check. ``ForwardProxy`` is an HTTP proxy
as ``http_proxy`` and ``https_proxy`` point at: absolute-form requests are
forwarded, ``CONNECT`` opens a tunnel; it records what it was asked for.
"""

from __future__ import annotations

import http.client
import selectors
import socket
import socketserver
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme


def relay(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(one, selectors.EVENT_READ, other)
        selector.register(other, selectors.EVENT_READ, one)
        while True:
            for key, _ in selector.select(timeout=30):
                source: Any = key.fileobj
                try:
                    data = source.recv(65536)
                except (OSError, ssl.SSLError):
                    return
                if not data:
                    return
                key.data.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Peer:
    """A loopback server on a port the OS picks, stopped by ``stop``."""

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.peer = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TlsFront(_Peer):
    """https://localhost:PORT in front of ``target_port``, its certificate from ``ca``."""

    def __init__(self, target_port: int, ca: trustme.CA, names: tuple[str, ...]) -> None:
        self.target_port = target_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(self.context)
        super().__init__(_TlsHandler)
        self.url = f"https://localhost:{self.port}"


class _TlsHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        front: TlsFront = self.server.peer  # type: ignore[attr-defined]
        try:
            tls = front.context.wrap_socket(self.request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # the client refused our certificate: what some tests want
        with tls, socket.create_connection(("127.0.0.1", front.target_port)) as plain:
            relay(tls, plain)


class ForwardProxy:
    """An HTTP proxy: ``seen`` lists each request line's target (or CONNECT's authority),
    ``headers`` each request's headers as the proxy got them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _note(self) -> None:
        proxy: ForwardProxy = self.server.proxy  # type: ignore[attr-defined]
        with proxy.lock:
            proxy.seen.append(self.path)
            proxy.headers.append(dict(self.headers.items()))

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
        self._note()
        host, _, port = self.path.rpartition(":")
        with socket.create_connection((host, int(port))) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            relay(self.connection, upstream)
        self.close_connection = True

    def _forward(self) -> None:
        """An absolute-form request, sent on to its origin; the answer relayed back."""
        self._note()
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        origin = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=30)
        try:
            origin.request(
                self.command, url.path + (f"?{url.query}" if url.query else ""), body, headers
            )
            answer = origin.getresponse()
            length = answer.getheader("Content-Length")
            data = b"" if length else answer.read()  # else streamed as it comes, below
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            while length and (chunk := answer.read1(65536)):
                self.wfile.write(chunk)
                self.wfile.flush()
        finally:
            origin.close()

    do_GET = do_POST = _forward  # noqa: N815


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
