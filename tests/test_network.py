"""Proxies and CA bundles from the environment, read once, still take effect; the watchdog
sleeps until a deadline is due instead of waking on every call."""

from __future__ import annotations

import gzip
import subprocess
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from support.client_support import Reply, StubServer
from support.clirunner import Cli, cli_env
from support.network_support import ForwardProxy, TlsFront
from support.trickling import HEADER, TricklingServer

from ingram.api.deadline import Watchdog
from ingram.api.http import Response, build_session, exchange
from ingram.api.network import CA_VARIABLES, Network
from ingram.errors import ApiError
from ingram.policy import Trigger

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
NETWORK_VARIABLES = (
    *PROXY_VARIABLES,
    *(name.upper() for name in PROXY_VARIABLES),
    *CA_VARIABLES,
    "SSL_CERT_DIR",
)


@pytest.fixture
def peers() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for peer in started:
        peer.stop()


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path / "test-ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


def bare_env(url: str, db: Path, **network: str) -> dict[str, str]:
    """The CLI's environment with no proxy or CA setting but ``network``'s."""
    env = {k: v for k, v in cli_env(url, db).items() if k not in NETWORK_VARIABLES}
    return env | network


def synced(env: dict[str, str], db: Path, part_numbers: list[str]) -> Any:
    cli = Cli(env, db)
    assert cli.run("products", "add", *part_numbers).code == 0
    return cli.sync()


# ---------------------------------------------------------------- proxies


def test_a_proxy_from_the_environment_carries_every_call(sandbox_factory, peers, tmp_path):
    sandbox = sandbox_factory(catalog_size=20)
    proxy = ForwardProxy()
    peers.append(proxy)
    db = tmp_path / "c.db"
    result = synced(
        bare_env(sandbox.url, db, HTTP_PROXY=proxy.url), db, sandbox.catalog.part_numbers(3)
    )
    assert result.code == 0, result
    calls = sandbox.stats()["calls"]
    assert calls["price_and_availability"] == 1 and calls["details"] == 3
    assert len(proxy.seen) == sum(calls.values())  # the token request too
    assert all(target.startswith(sandbox.url + "/") for target in proxy.seen), proxy.seen


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "*", ".0.0.1"])
def test_no_proxy_from_the_environment_still_bypasses_it(
    sandbox_factory, peers, tmp_path, no_proxy
):
    sandbox = sandbox_factory(catalog_size=20)
    proxy = ForwardProxy()
    peers.append(proxy)
    db = tmp_path / "c.db"
    env = bare_env(sandbox.url, db, http_proxy=proxy.url, NO_PROXY=no_proxy)
    result = synced(env, db, sandbox.catalog.part_numbers(2))
    assert result.code == 0, result
    assert proxy.seen == []


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypassed"),
    [
        ("", "http://127.0.0.1:8080/x", False),
        ("example.com", "https://api.example.com/x", True),
        (".example.com", "https://example.com/x", True),
        ("example.com", "https://notexample.com/x", False),
        ("api.example.com:8443", "https://api.example.com:8443/x", True),
        ("api.example.com:8443", "https://api.example.com/x", False),
        ("10.0.0.0/8, 192.168.1.5", "http://10.1.2.3/x", True),
        ("10.0.0.0/8, 192.168.1.5", "http://192.168.1.5:81/x", True),
        ("10.0.0.0/8", "http://11.0.0.1/x", False),
        ("*", "https://anything.example/x", True),
    ],
)
def test_no_proxy_is_read_as_requests_reads_it(monkeypatch, no_proxy, url, bypassed):
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("no_proxy", no_proxy)
    network = Network.from_environment()
    monkeypatch.delenv("no_proxy")  # read once: a later change is not seen
    assert (network.proxies_for(url) == {}) is bypassed


def test_the_deadline_holds_through_a_proxy(peers, monkeypatch):
    """Proxied connections are watched too: a body trickled through the proxy inside the
    read timeout ends at the deadline."""
    server = TricklingServer(HEADER, trickle_from=len(HEADER))
    proxy = ForwardProxy()
    peers += [server, proxy]
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    started = time.monotonic()
    with pytest.raises(ApiError, match="within 0.5 s"):
        exchange(
            build_session("test"),
            "GET",
            server.url,
            headers={},
            connect_timeout=5,
            timeout=5,
            deadline=0.5,
        )
    assert time.monotonic() - started < 2.5
    assert proxy.seen == [server.url + "/"]


def send(session: Any, url: str, **headers: str | None) -> Response:
    return exchange(session, "GET", url, headers=headers, connect_timeout=5, timeout=5, deadline=10)


def test_a_session_sends_calls_as_requests_did():
    """The session's headers under the call's (None removes one), gzip asked for and
    undone, and a cookie the server set sent back until the server expires it."""
    replies = iter(
        [
            Reply(200, {}, {"Set-Cookie": "lb=node-7; Path=/"}),
            Reply(200, gzip.compress(b'{"a": 1}'), {"Content-Encoding": "gzip"}),
            Reply(200, {}, {"Set-Cookie": "lb=; Max-Age=0"}),
            Reply(200, {}),
        ]
    )
    server = StubServer(lambda seen: next(replies))
    try:
        session = build_session("ingram-sync/test")
        send(session, server.url + "/x", Accept=None, **{"X-Call": "1"})
        assert send(session, server.url + "/x", Accept="text/plain").body == b'{"a": 1}'
        send(session, server.url + "/x")
        send(session, server.url + "/x")
    finally:
        server.stop()
    first, second, third, fourth = (seen.headers for seen in server.seen)
    assert first["User-Agent"] == "ingram-sync/test" and first["X-Call"] == "1"
    assert "Accept" not in first and "Cookie" not in first
    assert "gzip" in first["Accept-Encoding"]
    assert second["Accept"] == "text/plain" and second["Cookie"] == "lb=node-7"
    assert third["Accept"] == "application/json" and third["Cookie"] == "lb=node-7"
    assert "Cookie" not in fourth


def test_a_proxy_url_with_a_user_and_password_signs_in_to_the_proxy(peers, monkeypatch):
    """As requests did: the proxy URL's credentials go to the proxy, never to the origin."""
    server = StubServer(lambda seen: Reply(200, {}))
    proxy = ForwardProxy()
    peers += [server, proxy]
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://ann:p%40ss@"))
    send(build_session("test"), server.url + "/x")
    assert proxy.headers[0]["Proxy-Authorization"] == "Basic " + b64encode(b"ann:p@ss").decode()
    assert "Proxy-Authorization" not in server.seen[0].headers


def test_a_header_that_cannot_be_sent_is_one_error_not_a_traceback():
    server = StubServer(lambda seen: Reply(200, {}))
    try:
        with pytest.raises(ApiError, match="could not be sent") as raised:
            send(build_session("test"), server.url + "/x", **{"IM-SenderID": "a\r\nX-Evil: 1"})
    finally:
        server.stop()
    assert raised.value.trigger is Trigger.UNSENDABLE and server.seen == []


# ---------------------------------------------------------------- CA bundles


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_a_ca_bundle_from_the_environment_is_trusted(
    sandbox_factory, peers, ca, tmp_path, variable
):
    authority, pem = ca
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("localhost",))
    peers.append(front)
    db = tmp_path / "c.db"
    result = synced(
        bare_env(front.url, db, **{variable: str(pem)}), db, sandbox.catalog.part_numbers(2)
    )
    assert result.code == 0, result
    assert sandbox.stats()["calls"]["details"] == 2


def test_a_ca_folder_from_the_environment_is_trusted(sandbox_factory, peers, ca, tmp_path):
    authority, pem = ca
    folder = tmp_path / "certs"
    folder.mkdir()
    authority.cert_pem.write_to_path(str(folder / "test-ca.pem"))
    rehash(folder)
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("localhost",))
    peers.append(front)
    db = tmp_path / "c.db"
    env = bare_env(front.url, db, REQUESTS_CA_BUNDLE=str(folder))
    result = synced(env, db, sandbox.catalog.part_numbers(1))
    assert result.code == 0, result


def rehash(folder: Path) -> None:
    """OpenSSL finds a folder's certificates by links named by their subject hash."""
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True, timeout=60)


def test_without_the_ca_the_certificate_is_refused(sandbox_factory, peers, ca, tmp_path):
    authority, _ = ca
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("localhost",))
    peers.append(front)
    db = tmp_path / "c.db"
    result = synced(bare_env(front.url, db), db, sandbox.catalog.part_numbers(1))
    assert result.code == 1, result
    assert "TLS certificate is not trusted" in result.err and "Traceback" not in result.err
    assert sandbox.stats()["calls"]["token"] == 0


def test_a_certificate_for_another_host_is_refused(sandbox_factory, peers, ca, tmp_path):
    authority, pem = ca
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("api.example.com",))  # not localhost
    peers.append(front)
    db = tmp_path / "c.db"
    env = bare_env(front.url, db, REQUESTS_CA_BUNDLE=str(pem))
    result = synced(env, db, sandbox.catalog.part_numbers(1))
    assert result.code == 1, result
    assert "TLS certificate is not trusted" in result.err
    assert sandbox.stats()["calls"]["token"] == 0


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_a_ca_bundle_that_cannot_be_loaded_is_a_setting_to_fix(
    sandbox_factory, peers, ca, tmp_path, content
):
    authority, _ = ca
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("localhost",))
    peers.append(front)
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_text(content)
    db = tmp_path / "c.db"
    result = synced(bare_env(front.url, db, REQUESTS_CA_BUNDLE=str(bundle)), db, ["6YE881"])
    assert result.code == 2, result
    assert f"REQUESTS_CA_BUNDLE names {bundle}" in result.err
    assert "Traceback" not in result.err


def test_https_through_a_proxy_tunnel_with_the_environments_ca(
    sandbox_factory, peers, ca, tmp_path
):
    authority, pem = ca
    sandbox = sandbox_factory(catalog_size=20)
    front = TlsFront(sandbox.port, authority, ("localhost",))
    proxy = ForwardProxy()
    peers += [front, proxy]
    db = tmp_path / "c.db"
    env = bare_env(front.url, db, HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=str(pem))
    result = synced(env, db, sandbox.catalog.part_numbers(2))
    assert result.code == 0, result
    assert proxy.seen and set(proxy.seen) == {f"localhost:{front.port}"}


# ---------------------------------------------------------------- the watchdog


def watchdog_thread(dog: Watchdog) -> threading.Thread:
    before = set(threading.enumerate())
    with dog.watch(30):
        pass
    [thread] = set(threading.enumerate()) - before
    return thread


def test_the_watchdog_does_not_wake_for_every_call():
    dog = Watchdog()
    clock = time.pthread_getcpuclockid(watchdog_thread(dog).ident or 0)
    with dog.watch(60):  # a call in flight: the thread sleeps until it is due
        spent = time.clock_gettime(clock)
        for _ in range(3000):
            with dog.watch(30):
                pass
        spent = time.clock_gettime(clock) - spent
    assert spent < 0.02, f"the watchdog thread spent {spent * 1000:.1f} ms on 3,000 calls"


def test_a_shorter_deadline_wakes_the_watchdog_in_time():
    dog = Watchdog()
    with dog.watch(30):
        started = time.monotonic()
        with dog.watch(0.2) as short:
            while not short.expired and time.monotonic() - started < 5:
                time.sleep(0.01)
        assert short.expired
        assert 0.19 <= time.monotonic() - started < 1.5
