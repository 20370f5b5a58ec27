"""Looking after the database file: integrity check and online backup.

Also what marks a demo database, so that the demo never touches a real catalog.

Example::

    problems = integrity_problems(store)      # [] when the file is sound
    pages = backup(store, Path("copy.db"))    # consistent even while a sync writes
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ingram.errors import StoreError
from ingram.state.store import Store


def integrity_problems(store: Store, most: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` and the foreign-key check find; empty when sound."""
    found = [row[0] for row in store.db.execute(f"PRAGMA integrity_check({most})")]
    problems = [] if found == ["ok"] else found
    for table, rowid, parent, _ in store.db.execute("PRAGMA foreign_key_check"):
        problems.append(f"row {rowid} of {table} points to a missing row of {parent}")
    return problems[:most]


def backup(store: Store, target: Path) -> int:
    """Copy the database to ``target`` with SQLite's online backup; return the pages copied.

    The copy is one consistent snapshot even while a sync writes: it is taken in
    one step, inside one read transaction, which in WAL mode never blocks the
    writer. It is written beside
    ``target`` under a temporary name and renamed, so a failed backup never
    leaves half a file where a good one was.
    """
    if target.exists() and not target.is_file():
        raise StoreError(f"{target} is not a regular file: choose another backup path")
    if target.resolve() == store.path.resolve():
        raise StoreError("the backup must go to another file than the database itself")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        copy = sqlite3.connect(partial)
        try:
            store.db.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
        finally:
            copy.close()
        os.replace(partial, target)
    except OSError as error:
        raise StoreError(f"cannot write backup {target}: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)
    return pages


DEMO_APPLICATION_ID = 0x494E4744  # "INGD" in the SQLite header: a database the demo made


def check_demo_database(path: Path) -> None:
    """Refuse ``path`` for the demo unless it is new, empty or a demo database already.

    The demo marks every product not in its fake catalog ``not_found`` and adds
    fake part numbers that later real syncs would send to Ingram.
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from error
    if int.from_bytes(header[68:72], "big") != DEMO_APPLICATION_ID:
        raise StoreError(
            f"{path} is not a demo database: the demo never touches a real catalog;"
            " run it without --db (it uses its own file) or give a new file"
        )


def mark_demo(store: Store) -> None:
    store.db.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
