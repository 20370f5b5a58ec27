"""``db backup``: SQLite's online backup into a checked copy, never onto the live files.

Example::

    pages = backup(store, Path("copy.db"))    # consistent even while a sync writes
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from ingram.errors import StoreError
from ingram.state.store import Store

# The files SQLite keeps beside a database: writing a backup over one loses data.
COMPANIONS = ("", "-wal", "-shm", "-journal")


def live_files(store: Store) -> list[Path]:
    """The database and the files SQLite keeps beside it, by the path it was opened with
    and by its resolved path (SQLite keeps them beside the file a symlink points to)."""
    bases = dict.fromkeys((store.path, store.path.resolve()))
    return [base.with_name(base.name + suffix) for base in bases for suffix in COMPANIONS]


def same_file(one: Path, other: Path) -> bool:
    """The same file, by its resolved path or (a hard link) by device and inode."""
    if one.resolve() == other.resolve():
        return True
    try:
        a, b = one.stat(), other.stat()
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_target(store: Store, target: Path) -> None:
    """Refuse a backup path that is, or resolves to, the database or one of its files."""
    if target.exists() and not target.is_file():
        raise StoreError(f"{target} is not a regular file: choose another backup path")
    for live in live_files(store):
        if same_file(target, live):
            raise StoreError(
                f"{target} is the live database's own file {live.name}: writing a backup"
                " over it would lose data; choose another backup path"
            )


def clear_partials(target: Path) -> None:
    """Delete what killed backups to ``target`` left (a ``.partial-PID`` of a dead process)."""
    for partial in target.parent.glob(f".{target.name}.partial-*"):
        pid = partial.name.rpartition("-")[2]
        if pid.isdigit() and not process_alive(int(pid)):
            partial.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def backup(store: Store, target: Path) -> int:
    """Copy the database to ``target`` with SQLite's online backup; return the pages copied.

    The copy is one consistent snapshot even while a sync writes: it is taken in
    one step, inside one read transaction, which in WAL mode never blocks the
    writer. It is written beside ``target`` under a temporary name, passes SQLite's
    integrity check and is then renamed, so a failed backup never leaves half a file
    (or a damaged copy) where a good one was.
    """
    check_target(store, target)
    clear_partials(target)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        pages = copy_checked(store, partial)
        os.replace(partial, target)
    except OSError as error:
        raise StoreError(f"cannot write backup {target}: {error.strerror}") from error
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return pages


def copy_checked(store: Store, partial: Path) -> int:
    """The online backup into ``partial``, checked; its pages (StoreError if damaged)."""
    copy = sqlite3.connect(partial)
    try:
        store.db.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        found = [row[0] for row in copy.execute("PRAGMA integrity_check(5)")]
        if found != ["ok"]:
            raise StoreError(
                f"the database is damaged ({'; '.join(found)[:200]}): no backup was written,"
                " the earlier ones are the good ones; run `ingram-sync db check`"
            )
        return int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()
