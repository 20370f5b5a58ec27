"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ingram.sandbox import SandboxServer, SandboxSettings


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


# Throwaway PostgreSQL and MariaDB servers (the database mirror's tests)
from dbservers import mariadb_server, postgres_db, postgres_server, target_db  # noqa: E402, F401
