"""--deadline bounds an attempt however a server trickles; --timeout bounds the TLS handshake."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from support.clirunner import Cli, cli_env
from support.trickling import HEADER, TricklingServer

from ingram.api.http import build_session, exchange
from ingram.errors import ApiError


@pytest.fixture
def trickling() -> Iterator[type[TricklingServer]]:
    servers: list[TricklingServer] = []

    def start(*args, **kwargs) -> TricklingServer:
        server = TricklingServer(*args, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def timed_exchange(url: str, deadline: float, timeout: float = 1.0) -> float:
    started = time.monotonic()
    with pytest.raises(ApiError, match=f"within {deadline:g} s") as caught:
        exchange(
            build_session("test"),
            "GET",
            url,
            headers={},
            connect_timeout=timeout,
            timeout=timeout,
            deadline=deadline,
        )
    assert caught.value.kind == "timeout" and caught.value.retryable
    return time.monotonic() - started


def test_header_bytes_trickled_inside_the_timeout_end_at_the_deadline(trickling):
    server = trickling(HEADER)  # every byte well inside --timeout: only the deadline ends it
    assert timed_exchange(server.url, deadline=0.5) < 1.5


def test_a_deadline_cut_while_reading_headers_is_a_deadline_not_not_json(trickling):
    # Issue 23: cut between two header lines, the headers seemed to end and the empty body
    # was reported as "not JSON" (a malformed answer) instead of the deadline.
    whole_lines = len(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    server = trickling(HEADER, trickle_from=whole_lines)
    assert timed_exchange(server.url, deadline=0.5) < 1.5


def test_a_content_length_body_trickled_ends_at_the_deadline(trickling):
    server = trickling(HEADER, trickle_from=len(HEADER))
    assert timed_exchange(server.url, deadline=0.5) < 1.5


@pytest.mark.slow
def test_sync_with_a_deadline_stops_against_a_trickling_api(trickling, tmp_path):
    server = trickling(HEADER)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(server.url, db), db)
    assert cli.run("products", "add", "6YE881").code == 0
    started = time.monotonic()
    result = cli.run("sync", "--deadline", "0.4", "--timeout", "1", "--pa-retry-waits", "0.01,0.01")
    elapsed = time.monotonic() - started
    assert result.code == 1, result
    assert "within 0.4 s" in result.err and "Traceback" not in result.err
    assert elapsed < 10, elapsed  # three token attempts of 0.4 s, plus start-up


def test_timeout_bounds_the_tls_handshake(tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers the ClientHello
    try:
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        db = tmp_path / "c.db"
        cli = Cli(cli_env(url, db), db)
        assert cli.run("products", "add", "6YE881").code == 0
        started = time.monotonic()
        result = cli.run("sync", "--timeout", "0.3", "--pa-retry-waits", "0.01,0.01")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert elapsed < 8, elapsed  # three handshakes of 0.3 s, not three of 10 s
