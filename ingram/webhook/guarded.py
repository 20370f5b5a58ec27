"""waitress, guarded against slow and oversized requests so that genuine events keep being served.

Two things waitress does not do by itself:

- **A deadline per request.** waitress closes a connection only after it has been idle
  ``channel_timeout`` seconds, so a client sending a header byte every few seconds holds
  its connection for ever; enough of them fill the connection limit and every genuine
  event waits in the listen queue. Here a request not received whole within
  ``REQUEST_DEADLINE`` seconds of its first byte has its connection closed.
- **A lingering close.** When waitress answers early (413 for a body over the limit)
  and closes while the client is still sending, the kernel resets the connection and
  the client never reads the answer. Here the server half-closes, reads and discards
  what still comes for up to ``LINGER`` seconds, then closes: the client reads its 413.

Example::

    server = GuardedServer(app, map={}, adj=Adjustments(**GUARDS, host=..., port=0))
"""

from __future__ import annotations

import resource
import socket
import time
from typing import Any, cast

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

REQUEST_DEADLINE = 30.0  # seconds from a request's first byte to its last
LINGER = 2.0  # seconds a closing connection's leftover input is read and dropped
CONNECTION_LIMIT = 1000  # with poll(), not select(): no limit of 1,024 descriptors
# waitress's settings (``Adjustments``); see docs/webhook.md for what a proxy should add.
GUARDS: dict[str, Any] = {
    "connection_limit": CONNECTION_LIMIT,
    "channel_timeout": 10,  # seconds a connection may send nothing
    "cleanup_interval": 1,  # seconds between the checks of both deadlines
    "max_request_header_size": 16 * 1024,  # Ingram's headers take a few hundred bytes
    "asyncore_use_poll": True,
}


class GuardedChannel(HTTPChannel):
    """One connection: its request's deadline, and a lingering close."""

    request_started = 0.0
    lingering_until: float | None = None

    def received(self, data: bytes) -> bool:
        if self.lingering_until is not None:
            return False
        if self.request is None:  # the first bytes of a new request
            self.request_started = time.monotonic()
        return bool(super().received(data))

    def readable(self) -> bool:
        return self.lingering_until is not None or bool(super().readable())

    def writable(self) -> bool:
        return self.lingering_until is None and bool(super().writable())

    def handle_read(self) -> None:
        if self.lingering_until is None:
            super().handle_read()
            return
        # wasyncore's recv closes (handle_close) on the client's end of input or a reset
        self.recv(self.adj.recv_bytes)
        if self.lingering_until is not None and time.monotonic() > self.lingering_until:
            super().handle_close()

    def handle_close(self) -> None:
        """The first close half-closes and lingers; the next one (or the time) closes."""
        if self.lingering_until is None and self.connected:
            try:
                if self.socket is None:
                    raise OSError("no socket")
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                super().handle_close()
                return
            self.lingering_until = time.monotonic() + LINGER
            self.will_close = self.close_when_flushed = False
            return
        super().handle_close()

    def check_deadlines(self, now: float) -> None:
        """From the server's loop: end a lingering past its time, or a request past its own."""
        if self.lingering_until is not None:
            if now > self.lingering_until:
                super().handle_close()
        elif self.request is not None and now - self.request_started > REQUEST_DEADLINE:
            self.logger.info("closing a connection whose request took over %gs", REQUEST_DEADLINE)
            self.will_close = True


class GuardedServer(TcpWSGIServer):
    """waitress's TCP server with ``GuardedChannel`` connections."""

    channel_class = GuardedChannel

    def maintenance(self, now: Any) -> None:
        super().maintenance(now)
        clock = time.monotonic()
        channels: dict[int, Any] = cast(dict[int, Any], self.active_channels)
        for channel in list(channels.values()):
            if isinstance(channel, GuardedChannel):
                channel.check_deadlines(clock)


def allow_connections(count: int = CONNECTION_LIMIT) -> None:
    """Raise this process's open-file limit to hold ``count`` connections, if it is lower
    and the hard limit allows (a limit of 1,024 is common)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 64  # the database, the spool, the log, the listening socket
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
