"""The database file: checks before SQLite opens it, WAL mode, and SQLite errors as one line.

Example: ``raise storage_error(error, path)`` turns an SQLite failure met in the
middle of a command (a full disk, an I/O error, a damaged page, a busy lock)
into the one-line error the CLI prints.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

from ingram.errors import DatabaseBusy, IngramSyncError, StoreError
from ingram.state.migrations import LATEST, recorded_version

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


def file_exists(path: Path) -> bool:
    """Whether ``path`` exists; a folder on the way this user may not enter is said so."""
    try:
        path.lstat()
    except FileNotFoundError:
        return False
    except PermissionError:
        raise StoreError(
            f"cannot reach database {path}: no permission to enter the folder {path.parent};"
            " ask its owner for it (chmod o+x, or a group you share)"
        ) from None
    except NotADirectoryError:
        return False
    return True


def check_database_file(path: Path, *, writable: bool) -> None:
    """Refuse, without touching it, a path that cannot be an ingram-sync database."""
    if not file_exists(path):
        if not file_exists(path.parent):
            raise StoreError(f"folder {path.parent} does not exist: create it or choose --db")
        return
    if path.is_dir():
        raise StoreError(f"database path {path} is a folder: give a file path with --db")
    if not path.is_file():  # a FIFO would hang the read below; a device would get -journal litter
        raise StoreError(
            f"database path {path} is not a regular file (a FIFO or a device?): choose another --db"
        )
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except PermissionError:
        raise StoreError(
            f"cannot read database {path}: this user lacks read permission on it; ask its"
            " owner for it (chmod o+r, or a group you share)"
        ) from None
    except OSError as error:
        raise StoreError(f"cannot read database {path}: {error.strerror}") from error
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not an SQLite database; it was left untouched: choose another --db"
        )
    if writable:
        check_writable(path)


def check_writable(path: Path) -> None:
    """Refuse a database this user cannot write, naming what is missing."""
    if not path.stat().st_mode & stat.S_IWUSR:
        raise StoreError(f"database {path} is read-only: make it writable or choose another --db")
    if not os.access(path, os.W_OK):
        raise StoreError(
            f"database {path} is read-only for this user (it belongs to another): run the"
            " command as its owner, or ask for write permission on it and its folder"
        )
    if not os.access(path.parent, os.W_OK):
        raise StoreError(
            f"cannot write database {path}: no write permission on its folder {path.parent}"
            " (SQLite keeps its journal beside the file); run the command as its owner"
        )


def create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (it would use 0644)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise StoreError(f"cannot create database {path}: {error.strerror}") from error


def check_schema(db: sqlite3.Connection, path: Path, version: int, readonly: bool) -> None:
    """Refuse an SQLite file that another program made, or an empty one for reading."""
    if version:
        return
    # An empty ``_migrations`` alone is a first run that an older version left half-done.
    tables = db.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name != '_migrations'"
    ).fetchone()[0]
    if tables:
        db.close()
        raise StoreError(
            f"{path} is an SQLite database of another program; it was left untouched:"
            " choose another --db"
        )
    if readonly:
        db.close()
        raise StoreError(
            f"{path} holds no ingram-sync data yet: track products first"
            " (`ingram-sync products add`)"
        )


def is_busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


def busy_error(path: Path) -> DatabaseBusy:
    return DatabaseBusy(
        f"database busy: another program holds the write lock of {path}; try again when it is done"
    )


SQLITE_IOERR_WRITE = 778  # SQLITE_IOERR | 3 << 8: the OS refused a write
STORAGE_PROBLEMS = {
    sqlite3.SQLITE_FULL: "cannot write: the disk is full, a file-size limit was reached or"
    " the disk failed; free space or check the disk, then run it again (a sync resumes)",
    sqlite3.SQLITE_IOERR: "an I/O error: check the disk, then run it again (a sync resumes)",
    sqlite3.SQLITE_CORRUPT: "the file is damaged: run `ingram-sync db check`, restore a backup",
    sqlite3.SQLITE_NOTADB: "the file is damaged: run `ingram-sync db check`, restore a backup",
    sqlite3.SQLITE_READONLY: "it cannot be written: check its permissions and the disk",
    sqlite3.SQLITE_CANTOPEN: "it cannot be opened: check the path and its folder",
}


def storage_error(error: sqlite3.Error, path: Path | str) -> IngramSyncError:
    """The one-line error for an SQLite failure met in the middle of a command."""
    if is_busy(error):
        return busy_error(Path(path))
    code = getattr(error, "sqlite_errorcode", 0)
    if code == SQLITE_IOERR_WRITE:  # a write refused: EFBIG (file-size limit) or EIO
        code = sqlite3.SQLITE_FULL
    problem = STORAGE_PROBLEMS.get(code & 0xFF)
    return StoreError(f"database {path}: {problem or error}")


def check_version(db: sqlite3.Connection, path: Path, readonly: bool) -> bool:
    """Refuse a foreign or newer database, reading its schema in one consistent snapshot;
    True for a database with no migration yet.

    One read transaction: a racing first run that commits its migration between
    two separate reads would make its tables look like another program's.
    """
    db.execute("BEGIN")
    version = recorded_version(db)
    check_schema(db, path, version, readonly)
    db.execute("COMMIT")
    if version > LATEST:
        db.close()
        raise StoreError(
            f"{path} was written by a newer ingram-sync (schema {version}, this "
            f"version knows {LATEST}): upgrade ingram-sync to use it"
        )
    return version == 0


def enable_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL mode, waiting out other first runs doing the same.

    Changing the journal mode fails at once with "database is locked" while
    another connection reads the file in rollback mode (SQLite's busy timeout
    does not apply), which is what racing first runs on a fresh file do.
    """
    give_up = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > give_up:
                raise
            time.sleep(0.005)
