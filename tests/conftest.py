"""Shared pytest fixtures. Helpers live in ``tests/support/``; no test module imports another.

Every test runs as if alone (the suite runs under pytest-xdist, ``-n auto``): its files in
its own ``tmp_path``, its servers on ports the OS picks, nothing of the shell's environment
or the user's home, and no child process left behind.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import installed_chromium
from support.client_support import StubServer, stub_servers
from support.clirunner import NOT_INHERITED, Cli, cli_env
from support.processes import reap_all

from ingram.sandbox import SandboxServer, SandboxSettings


@pytest.fixture(autouse=True)
def own_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``INGRAM_*`` variable of the shell, and a HOME of the test's own: neither the user's
    config file nor their token cache is read or written, in this process or its children."""
    for name in list(os.environ):
        if name.startswith("INGRAM_") or name in NOT_INHERITED:
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def ingram_logger_restored() -> Iterator[None]:
    """The CLI configures the ``ingram`` logger when run in-process; leave it as it was."""
    logger = logging.getLogger("ingram")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def no_process_left() -> Iterator[None]:
    """Whatever a test started and did not stop (it failed, or timed out) is killed."""
    yield
    reap_all()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with settings overrides; every one is stopped at teardown."""
    started: list[SandboxServer] = []

    def factory(**overrides: Any) -> SandboxServer:
        overrides.setdefault("catalog_size", 200)
        overrides.setdefault("realistic", True)  # as strict as the vendor unless a test says not
        server = SandboxServer(SandboxSettings(**overrides)).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A running sandbox with default settings and a 200-product catalog."""
    return sandbox_factory()


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[..., Cli]:
    """``make_cli(server, db="catalog.db", **env)``: ``ingram-sync`` pointed at ``server`` (a
    sandbox, a stub, anything with a ``url``, or the URL itself) and at the database ``db``
    in this test's folder, which is also its working directory; ``env`` adds variables."""

    def make(server: Any, db: str = "catalog.db", **env: str) -> Cli:
        url = server if isinstance(server, str) else server.url
        path = tmp_path / db
        path.parent.mkdir(parents=True, exist_ok=True)
        return Cli(cli_env(url, path, **env), path, cwd=tmp_path)

    return make


@pytest.fixture
def cli(make_cli: Callable[..., Cli], sandbox: SandboxServer) -> Cli:
    """``ingram-sync`` against this test's ``sandbox``, with ``catalog.db`` in ``tmp_path``."""
    return make_cli(sandbox)


@pytest.fixture
def stub() -> Iterator[Callable[[Any], StubServer]]:
    """``stub(answer)``: a loopback server answering API calls by ``answer(seen)``."""
    yield from stub_servers()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium's path: Debian's package, apt-installed when missing (once per
    machine, under a file lock, whichever xdist worker asks first)."""
    return installed_chromium()


@pytest.fixture
def webhook_db(tmp_path: Path) -> Path:
    """``catalog.db`` tracking AAA111 (stock 10), BBB222 (0) and CCC333 (7), priced 6 h ago."""
    from support.webhook_support import track

    path = tmp_path / "catalog.db"
    track(path, {"AAA111": 10, "BBB222": 0, "CCC333": 7})
    return path


@pytest.fixture
def webhook_receiver(webhook_db: Path) -> Iterator[Any]:
    """The Stock Update receiver under waitress on a free port, for ``webhook_db``."""
    from support.webhook_support import SECRET

    from ingram.webhook.server import WebhookServer, WebhookSettings

    with WebhookServer(WebhookSettings(db=str(webhook_db), secret=SECRET, port=0)) as server:
        yield server


# Throwaway PostgreSQL and MariaDB servers (the database mirror's tests)
from support.dbservers import mariadb_server, postgres_db, postgres_server, target_db  # noqa: E402, F401
