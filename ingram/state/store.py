"""SQLite state: the connection, its transactions and its migrations.

The statements live beside it, a module per table (``products``, ``runs``,
``tasks``, ``saving``, ``history``, ...), each a function taking the store.
Only one thread writes (the sync's main thread); reads from other processes
(``monitor``, ``runs``) work during a sync because the database is in WAL
mode. Every write transaction starts with ``BEGIN IMMEDIATE`` so it takes the
write lock up front and waits ``busy_timeout`` instead of failing half-way.

Example::

    store = Store.open("catalog.db")
    add_products(store, ["6YE881"])  # ingram.state.products: a function per table
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingram.errors import StoreError
from ingram.state.dbfile import (
    busy_error,
    check_database_file,
    check_version,
    create_private_file,
    enable_wal,
    file_exists,
    is_busy,
)
from ingram.state.migrations import migrate
from ingram.state.readonly import connect, connect_read_only

log = logging.getLogger("ingram.state")

TASK_CHUNK = 500
WAL_CHECKPOINT_PAGES = 10_000
WRITE_CHUNK = 20_000  # rows per commit of a bulk write (a fraction of a second each)
PLAN_GROUP = 100  # P&A tasks inserted per executemany while planning


class Store:
    """One SQLite connection and the statements ingram-sync runs on it."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._writing = False  # inside ``write``: a nested ``write`` joins that transaction
        # Seconds to keep retrying the write lock after the busy timeout, before DatabaseBusy.
        # A sync sets it long: it waits out another writer instead of crashing its run.
        self.busy_wait = 0.0
        self.stop_waiting: Callable[[], bool] = lambda: False  # a signal ends that wait early
        # Bumped whenever tasks become pending here (``note_tasks_added``): a stream that
        # found none asks SQLite again only once this has moved.
        self.tasks_added = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> Store:
        """Open (creating and migrating when needed) the database at ``path``."""
        path = Path(path)
        check_database_file(path, writable=not readonly)
        if readonly and not file_exists(path):
            raise StoreError(
                f"no database at {path}: track products first (`ingram-sync products add`)"
                " or use --db"
            )
        if not readonly:
            create_private_file(path)
        try:
            db = (
                connect_read_only(path, upgrade=lambda: cls.open(path).close())
                if readonly
                else connect(path)
            )
            fresh = check_version(db, path, readonly)
            if fresh and not readonly:  # only before the first table: pruning can free pages
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            if not readonly:
                enable_wal(db)
                db.execute("PRAGMA synchronous = NORMAL")
                # A page rewritten by many commits is copied back once per checkpoint:
                # fewer, larger checkpoints (a 40 MB log at most) halve a full sync's writes.
                db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
                # Statement journals (a multi-row statement's undo inside a transaction) in
                # memory, not spilled to temporary files: spilled, they wrote up to ten times
                # what the sync itself did (re-syncs of 2.0 to 19.8 KB a product).
                db.execute("PRAGMA temp_store = MEMORY")
                migrate(db)
        except sqlite3.DatabaseError as error:
            if is_busy(error):
                raise busy_error(path) from None
            raise StoreError(f"cannot use database {path}: {error}") from error
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front.

        A ``write`` inside another one joins it: the outer one commits (or
        rolls back) both, so a caller can group several writes in one commit.
        """
        if self._writing:
            yield self.db
            return
        self.begin()
        self._writing = True
        try:
            yield self.db
        except BaseException:
            self._writing = False
            if self.db.in_transaction:  # SQLite already rolled back after a full disk or I/O error
                self.db.execute("ROLLBACK")
            raise
        self._writing = False
        self.db.execute("COMMIT")

    def note_tasks_added(self) -> None:
        self.tasks_added += 1

    def begin(self) -> None:
        """``BEGIN IMMEDIATE``; past the busy timeout, retried with backoff for ``busy_wait`` s."""
        started = time.monotonic()
        pause = 0.05
        warned = False
        while True:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                if time.monotonic() - started >= self.busy_wait or self.stop_waiting():
                    raise busy_error(self.path) from None
                if not warned:
                    warned = True
                    log.warning(
                        "warning: database %s is busy (another program holds its write lock);"
                        " waiting for it, results are kept",
                        self.path,
                    )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last may be shorter), taken lazily from any iterable."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
