"""What the deadline and network tests share: a server that trickles its answer."""

from __future__ import annotations

import socket
import threading

HEADER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"


class TricklingServer:
    """Answers every connection with ``prefix`` then one byte per ``every`` seconds, forever."""

    def __init__(self, prefix: bytes, every: float = 0.05, trickle_from: int = 0) -> None:
        self.prefix = prefix
        self.every = every
        self.trickle_from = trickle_from  # bytes of ``prefix`` sent at once
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.trickle, args=(conn,), daemon=True).start()

    def trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.prefix[: self.trickle_from])
                rest = self.prefix[self.trickle_from :] + b" " * 100_000
                for byte in rest:
                    if self.stopped.wait(self.every):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
