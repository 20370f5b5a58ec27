"""Senders the receiver must survive: slow clients, oversized bodies, chunked POSTs under
gunicorn, and a disk that fills up. Real sockets, real servers, a real (small) filesystem."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support.clirunner import isolated_env
from support.processes import start
from support.small_disk import small_disk
from support.webhook_support import (
    SECRET,
    applied_events,
    hours_ago,
    ingram_signature,
    post,
    query,
    stock_event,
    stock_of,
    track,
    wait_for,
)

from ingram.webhook import receiver as receiver_module
from ingram.webhook.app import MAX_BODY
from ingram.webhook.server import WebhookServer, WebhookSettings

NOW_ISH = hours_ago(0.2)


def raw_post(port: int, body: bytes, signature: str = "abc") -> bytes:
    """Headers and body sent in one go, as a client that does not wait for an early answer;
    then the answer's status line."""
    head = (
        "POST /ingram/stock HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"
        f"x-hub-signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(head + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("megabytes", [5, 32])
def test_a_body_over_the_limit_sent_without_waiting_gets_its_413(
    webhook_receiver: WebhookServer, megabytes: int
) -> None:
    """waitress answered 413 and closed while the body still came: the client saw a reset."""
    assert (megabytes << 20) > MAX_BODY
    status = raw_post(webhook_receiver.server.effective_port, b"x" * (megabytes << 20))
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    # and the webhook_receiver still serves
    assert (
        post(webhook_receiver.url, stock_event("EV-1", NOW_ISH, {"AAA111": 3})).status_code == 200
    )


class SlowClients:
    """``count`` connections, each sending one byte of a request's headers every ``every`` s."""

    def __init__(self, port: int, count: int, every: float) -> None:
        self.sockets = [
            socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)
        ]
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)
        self.thread.start()

    def trickle(self) -> None:
        header = b"POST /ingram/stock HTTP/1.1\r\nHost: receiver\r\nX-Padding: " + b"a" * 10_000
        for byte in header:
            for conn in self.sockets:
                with contextlib.suppress(OSError):  # closed by the receiver: its deadline
                    conn.send(bytes([byte]))
            if self.stopped.wait(self.every):
                return

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        for conn in self.sockets:
            conn.close()


def test_genuine_events_are_answered_while_200_slow_clients_are_held(
    webhook_db: Path, webhook_receiver: WebhookServer
) -> None:
    """150 connections trickling header bytes made every genuine event wait 44 s: waitress's
    100 connections were all taken, and none of them was ever idle long enough to be closed."""
    slow = SlowClients(webhook_receiver.server.effective_port, 200, every=0.5)
    try:
        time.sleep(1.0)  # every slow connection accepted and trickling
        took = []
        for number in range(5):
            started = time.monotonic()
            answer = post(
                webhook_receiver.url,
                stock_event(f"EV-{number}", NOW_ISH, {"AAA111": number}),
                timeout=5,
            )
            took.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.text
        assert max(took) < 2.0, took  # under 1 s measured (benchmarks/webhook_slow_clients.py)
    finally:
        slow.close()
    wait_for(lambda: applied_events(webhook_db) == 5, what="the genuine events applied")


@pytest.mark.slow
def test_a_chunked_post_under_gunicorn_is_read(webhook_db: Path, tmp_path: Path) -> None:
    """gunicorn gives a chunked request no Content-Length; it sets wsgi.input_terminated."""
    log = tmp_path / "gunicorn.log"
    env = isolated_env(tmp_path, INGRAM_SYNC_DB=str(webhook_db), INGRAM_WEBHOOK_SECRET=SECRET)
    with log.open("ab") as err:
        server = start(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "-b",
             "127.0.0.1:0", "ingram.webhook:create_app()"],
            env=env, stdout=err, stderr=err, cwd=tmp_path,
        )  # fmt: skip
    try:
        url = wait_for(lambda: listening_url(log), timeout=30, what="gunicorn listening")
        body = stock_event("EV-CHUNKED", NOW_ISH, {"AAA111": 64})
        data = json.dumps(body).encode()
        chunks = (
            data[i : i + 1000] for i in range(0, len(data), 1000)
        )  # Transfer-Encoding: chunked
        answer = requests.post(
            url + "/ingram/stock",
            data=chunks,
            headers={"x-hub-signature": ingram_signature(SECRET, "EV-CHUNKED")},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        wait_for(lambda: applied_events(webhook_db) == 1, what="the chunked event applied")
        assert stock_of(webhook_db, "AAA111")["total_availability"] == 64
    finally:
        server.terminate()
        server.communicate(timeout=30)


def listening_url(log: Path) -> str | None:
    for line in log.read_text(errors="replace").splitlines():
        if "Listening at: " in line:
            return line.split("Listening at: ", 1)[1].split()[0]
    return None


def test_a_short_write_on_a_full_disk_is_a_503_and_leaves_nothing(tmp_path: Path) -> None:
    """The spool file was cut at 307,200 bytes, the event answered 200, then set aside as .bad."""
    with small_disk(tmp_path, megabytes=6) as disk:
        db = disk.folder / "catalog.db"
        # 1,000 resources: about 370 KB, which waitress holds in memory (not in a temp file)
        stock = {f"P{index:05d}": 1 for index in range(1000)}
        track(db, {"AAA111": 10})
        with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as server:
            big = stock_event("EV-BIG", NOW_ISH, stock | {"AAA111": 5})
            disk.fill(leave=100_000)
            try:
                answer = post(server.url, big)
                assert answer.status_code == 503, answer.text
                assert list(server.receiver.spool_dir.iterdir()) == []  # no .tmp, no cut file
            finally:
                disk.free()
            answer = post(server.url, big)  # Ingram sends it again: space is back
            assert answer.status_code == 200, answer.text
            wait_for(lambda: applied_events(db) == 1, what="applied once space returned")
        assert stock_of(db, "AAA111")["total_availability"] == 5


def test_an_event_met_by_a_full_database_is_applied_when_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It waited in the spool until the receiver was restarted; now it is tried again."""
    monkeypatch.setattr(receiver_module, "STORAGE_RETRY", 0.3)  # compressed: 5 s
    with small_disk(tmp_path, megabytes=16) as disk:
        db = disk.folder / "catalog.db"
        stock = {f"P{index:05d}": 1 for index in range(4000)}
        track(db, stock)
        checkpoint = sqlite3.connect(db)
        checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint.close()
        with WebhookServer(WebhookSettings(db=str(db), secret=SECRET, port=0)) as server:
            holder = sqlite3.connect(db, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the writer waits: the event stays spooled
            pushed = {pn: 7 for pn in stock}
            assert post(server.url, stock_event("EV-FULL", NOW_ISH, pushed)).status_code == 200
            disk.fill()
            try:
                holder.execute("ROLLBACK")
                holder.close()
                time.sleep(1.5)  # the writer tries, the disk refuses, it tries again
                assert applied_events(db) == 0
                assert len(list(server.receiver.spool_dir.glob("*.json"))) == 1  # kept
                assert list(server.receiver.spool_dir.glob("*.bad")) == []  # not set aside
            finally:
                disk.free()
            wait_for(lambda: applied_events(db) == 1, timeout=15, what="applied, no restart")
            assert server.receiver.writer.is_alive()
        assert query(db, "SELECT COUNT(*) FROM products WHERE total_availability = 7")[0][0] == 4000
