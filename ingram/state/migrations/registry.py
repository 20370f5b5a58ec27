"""The registry of numbered migrations: ``@migration(N)`` and the DDL helper they share."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[int, Migration] = {}


def migration(number: int) -> Callable[[Migration], Migration]:
    """Register ``fn`` as migration ``number``. Example: ``@migration(2) def m2(db): ...``"""

    def register(fn: Migration) -> Migration:
        if number in MIGRATIONS:
            raise ValueError(f"migration {number} registered twice")
        MIGRATIONS[number] = fn
        return fn

    return register


def execute_statements(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL inside the caller's transaction.

    ``executescript`` would COMMIT the open transaction first, making a
    half-applied migration possible.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
