"""Genuine Stock Update events while slow clients hold connections to the receiver.

``ingram-sync webhook serve`` runs in its own process; this script opens ``--slow``
connections that each send one byte of a request's headers every ``--every`` seconds (as a
slow-loris attack does) and keeps them for ``--seconds``, while one sender POSTs a signed
event every 0.5 s. It reports each event's time to its 200, with and without the slow
connections. Before the receiver's guards, 150 such connections made every genuine event
wait 44 s: waitress's 100 connections were all taken and none was ever idle.

    python benchmarks/webhook_slow_clients.py [--slow 200] [--every 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import print_settings, print_table  # noqa: E402
from common import workdir as scratch  # noqa: E402
from webhook_intake import post, receiver  # noqa: E402

from ingram.state.products import add_products  # noqa: E402
from ingram.state.store import Store  # noqa: E402

PRODUCTS = [f"SLOW{n:04d}" for n in range(200)]


class SlowClients:
    """``count`` connections, a header byte each every ``every`` seconds, reopened if closed."""

    def __init__(self, address: tuple[str, int], count: int, every: float) -> None:
        self.address = address
        self.every = every
        self.stopped = threading.Event()
        self.sockets = [self.connect() for _ in range(count)]
        self.reopened = 0
        self.thread = threading.Thread(target=self.trickle, daemon=True)

    def connect(self) -> socket.socket:
        conn = socket.create_connection(self.address, timeout=10)
        conn.sendall(b"P")
        return conn

    def trickle(self) -> None:
        header = b"OST /ingram/stock HTTP/1.1\r\nHost: receiver\r\nX-Slow: " + b"a" * 100_000
        for byte in header:
            if self.stopped.wait(self.every):
                return
            for index, conn in enumerate(self.sockets):
                try:
                    conn.send(bytes([byte]))
                except OSError:  # closed by the receiver's request deadline: come back
                    conn.close()
                    with contextlib.suppress(OSError):
                        self.sockets[index] = self.connect()
                        self.reopened += 1

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(10)
        for conn in self.sockets:
            conn.close()


def genuine(url: str, tag: str, seconds: float) -> list[float]:
    """One signed event every 0.5 s for ``seconds``: each one's seconds to its 200."""
    took = []
    for number in range(int(seconds * 2)):
        started = time.monotonic()
        took.append(post(url, f"{tag}-{number}", PRODUCTS[number % 200 :][:5]))
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    return took


def row(name: str, took: list[float]) -> list[object]:
    ordered = sorted(took)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return [name, len(took), f"{statistics.median(took) * 1000:.1f}", f"{p99 * 1000:.1f}",
            f"{max(took) * 1000:.1f}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200, help="slow connections held")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between their bytes")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they are held")
    args = parser.parse_args()
    print_settings(
        "Genuine events while slow clients hold connections",
        {"slow connections": args.slow, "a byte every": f"{args.every} s"},
    )
    with scratch() as folder:
        db = folder / "catalog.db"
        add_products(Store.open(db), PRODUCTS)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGRAM_")}
        env["INGRAM_SYNC_DB"] = str(db)
        with receiver(env, folder / "serve.log") as url:
            parts = urlsplit(url)
            address = (parts.hostname or "127.0.0.1", parts.port or 80)
            quiet = genuine(url, "QUIET", min(args.seconds, 5.0))
            with SlowClients(address, args.slow, args.every) as slow:
                time.sleep(1.0)
                held = genuine(url, "HELD", args.seconds)
            reopened = slow.reopened
    print_table(
        ["situation", "events", "ack median ms", "ack p99 ms", "ack max ms"],
        [row("no slow clients", quiet), row(f"{args.slow} slow connections held", held)],
    )
    print(f"slow connections closed by the request deadline and reopened: {reopened}")


if __name__ == "__main__":
    main()
