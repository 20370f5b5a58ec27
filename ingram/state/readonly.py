"""Connections to the database file, and reading it without write access.

Read commands (``monitor``, ``runs``, ``export``, ...) open the database with
SQLite's ``mode=ro``: another user who may read the file but not write its
folder (a colleague, the monitor over ssh) reads it too. In WAL mode a reader
needs the ``-shm`` index beside the file: while a writer has the database open
it exists and a read-only reader uses it; when none does, a reader that may not
create it opens the file ``immutable``. That is safe because no writer has the
database open then (it would have made its ``-wal`` and ``-shm``), and one that
opens it meanwhile writes into its ``-wal``, not into the file, until a
checkpoint. Where reading is impossible, the error names the permission missing.

Example: ``db = connect_read_only(Path("catalog.db"), upgrade=migrate_as_owner)``
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ingram.errors import StoreError
from ingram.state.dbfile import BUSY_TIMEOUT_MS
from ingram.state.migrations import LATEST, recorded_version

# SQLite's extended codes for "cannot make the -shm/-wal files": the folder is not writable.
SQLITE_READONLY_DIRECTORY = 1544
SQLITE_CANTOPEN = 14


def connect(path: Path | str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection as every part uses it: rows by name, a busy timeout, foreign keys on."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri)
    db.row_factory = sqlite3.Row
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def connect_read_only(path: Path, upgrade: Callable[[], None]) -> sqlite3.Connection:
    """A read-only connection; ``upgrade`` first when the file's schema is older than ours."""
    db = _open_read_only(path)
    version = recorded_version(db)
    if 0 < version < LATEST:
        db.close()
        if not os.access(path, os.W_OK):
            raise StoreError(
                f"database {path} has schema {version}, this version of ingram-sync reads"
                f" {LATEST}: its owner's next command upgrades it (you lack write permission)"
            )
        upgrade()
        db = _open_read_only(path)
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    db = connect(f"{uri}?mode=ro", uri=True)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the -shm index
        return db
    except sqlite3.OperationalError as error:
        db.close()
        code = getattr(error, "sqlite_errorcode", 0)
        if code != SQLITE_READONLY_DIRECTORY and code & 0xFF != SQLITE_CANTOPEN:
            raise
    if Path(f"{path}-wal").exists():  # a writer has it open, or left a log to replay
        raise StoreError(
            f"cannot read database {path}: its write-ahead log {path}-wal is in use and this"
            f" user may not write {path}-shm or the folder {path.parent}: ask its owner for"
            " write permission on them (a group both share), or read a backup"
        ) from None
    return connect(f"{uri}?immutable=1", uri=True)


def opened_immutable(path: Path) -> bool:
    """Whether a reader of ``path`` must open it ``immutable``, as ``connect_read_only``
    would: it may not create the ``-shm`` index, and no writer has the database open."""
    beside = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    return not os.access(path.parent, os.W_OK) and not any(p.exists() for p in beside)
