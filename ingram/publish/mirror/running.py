"""One mirror: from the target's cursor to the catalog's latest version, batch by batch.

Each batch is one transaction in the target that also moves the cursor kept
there (``ingram_mirror.change_cursor``), so a mirror killed at any moment
leaves whole batches and the next one goes on from the last. The catalog keeps
the same cursor per target (``mirror_targets``); when the two disagree in a way
a killed mirror cannot explain (the catalog was restored from a backup, the
target's tables were emptied), the mirror is full: every product compared, and
the target's rows of products no longer tracked deleted.

Two mirrors into one target (the webhook receiver's and a sync's) take turns:
each batch locks the target's state row and starts from the cursor it finds.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ingram.clock import parse_time
from ingram.errors import ConfigError, IngramSyncError
from ingram.publish.mirror.published import Published, no_rules
from ingram.publish.mirror.schema import ensure_schema, products, state
from ingram.publish.mirror.sql import Written, as_target_time, delete_keys, moment, write_batch
from ingram.publish.mirror.target import MirrorTarget
from ingram.state.mirroring import (
    CatalogClock,
    SourceBatch,
    catalog_clock,
    number_new_products,
    read_batch,
    reset_cursor,
    save_cursor,
    save_mirror_error,
    save_mirrored,
    save_pending,
    target_cursor,
)
from ingram.state.products import tracked_part_numbers
from ingram.state.runs import last_full_sync
from ingram.state.store import Store, batched

log = logging.getLogger("ingram.mirror")

BATCH = 2_000  # products per target transaction
RECONCILE_PAGE = 5_000

Publisher = Callable[[Mapping[str, Any]], Published | None]
Reader = Callable[[int], "Future[SourceBatch]"]  # the batch after a version, read ahead


class MirrorFailed(IngramSyncError):
    """The target could not be reached, or refused a write: the next mirror catches up."""


@dataclass(frozen=True)
class MirrorResult:
    label: str
    written: Written
    full: bool
    batches: int
    seconds: float


def mirror(
    store: Store,
    target: MirrorTarget,
    *,
    full: bool = False,
    batch_size: int = BATCH,
    published: Publisher = no_rules,
) -> MirrorResult:
    """Bring ``target`` up to the catalog in ``store``: what changed since its cursor, or
    everything with ``full``. MirrorFailed when the target fails; ConfigError when it is
    not one ingram-sync may write (tables of its own, newer, of another catalog)."""
    started = time.monotonic()
    engine = target.engine()
    try:
        with engine.connect() as conn:
            ensure_schema(conn, target.label)
            run = MirrorRun(store, conn, target.label, batch_size, published)
            written, batches, was_full = run.execute(full)
    except SQLAlchemyError as error:
        message = target.redact(f"mirror to {target.label} failed: {reason(error)}")
        remember_error(store, target.label, message)
        raise MirrorFailed(message) from None
    except IngramSyncError as error:
        remember_error(store, target.label, target.redact(str(error)))
        raise
    finally:
        engine.dispose()
    save_mirrored(store, target.label)
    return MirrorResult(target.label, written, was_full, batches, time.monotonic() - started)


def remember_error(store: Store, label: str, message: str) -> None:
    """Keep the error in the catalog if it can be written (not when it is the one failing)."""
    try:
        save_mirror_error(store, label, message)
    except (sqlite3.Error, IngramSyncError):
        log.debug("the mirror's error was not recorded", exc_info=True)


def reason(error: SQLAlchemyError) -> str:
    """The driver's own words, first line: "connection refused", "password authentication
    failed", "could not extend file"... (SQLAlchemy's wrapping adds the statement)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


class MirrorRun:
    """The batches of one mirror, on one connection to the target."""

    def __init__(
        self, store: Store, conn: Connection, label: str, batch_size: int, published: Publisher
    ) -> None:
        self.store = store
        self.conn = conn
        self.label = label
        self.batch_size = batch_size
        self.published = published

    def execute(self, full: bool) -> tuple[Written, int, bool]:
        """(written, batches, whether it was full)."""
        number_new_products(self.store)
        clock = catalog_clock(self.store)
        start = None if full else self.resume_point(clock)
        written = self.start_full(clock) if start is None else Written()
        batches = self.catch_up(start or 0, clock.catalog_id, written)
        self.record_sync_time()
        return written, batches, start is None

    def resume_point(self, clock: CatalogClock) -> int | None:
        """The target's cursor, or None when only a full mirror is safe."""
        found = self.conn.execute(
            select(state.c.catalog_id, state.c.catalog_label, state.c.change_cursor)
        ).one()
        self.conn.rollback()
        if found.catalog_id is None:
            return None  # new tables
        if found.catalog_id != clock.catalog_id:
            raise another_catalog(self.label, found.catalog_label)
        local = target_cursor(self.store, self.label)
        cursor = int(found.change_cursor)
        if cursor > clock.version:
            return None  # the target is ahead of the catalog: a restored backup
        if local is not None and not local.change_cursor <= cursor <= local.pending_cursor:
            return None  # ... or the target was rewritten since this catalog last wrote it
        return cursor

    def start_full(self, clock: CatalogClock) -> Written:
        """Claim the target for this catalog from version 0; delete what it is not tracking."""
        reset_cursor(self.store, self.label)
        written = Written()
        with self.conn.begin():
            self.conn.execute(select(state.c.id).with_for_update()).one()
            self.conn.execute(
                update(state).values(
                    catalog_id=clock.catalog_id,
                    catalog_label=f"{self.store.path.resolve()}",
                    change_cursor=0,
                )
            )
            mirrored = self.conn.execute(select(products.c.ingram_part_number)).scalars().all()
            for page in batched(mirrored, RECONCILE_PAGE):
                gone = set(page) - set(tracked_part_numbers(self.store, page))
                written.removed += delete_keys(self.conn, products, [(pn,) for pn in gone])
        return written

    def catch_up(self, cursor: int, catalog_id: str, written: Written) -> int:
        """Batches from ``cursor`` until nothing is left; return how many were written.

        The next batch is read from the catalog (on a connection of its own) while the
        target writes this one: the two wait for different disks and processes.
        """
        reader = Store.open(self.store.path, readonly=True)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="mirror-reader") as pool:

                def read(after: int) -> Future[SourceBatch]:
                    return pool.submit(read_batch, reader, after, self.batch_size)

                return self.write_batches(cursor, read, catalog_id, written)
        finally:
            reader.close()

    def write_batches(
        self,
        cursor: int,
        read: Callable[[int], Future[SourceBatch]],
        catalog_id: str,
        written: Written,
    ) -> int:
        batches, ahead = 0, read(cursor)
        while True:
            batch = ahead.result()
            if batch.upper == cursor and not batch.products and not batch.removed:
                return batches
            save_pending(self.store, self.label, batch.upper)
            ahead = read(batch.upper)
            moved = self.commit(batch, cursor, catalog_id, written)
            if moved is not None:  # another mirror wrote meanwhile: go on from where it got
                ahead.result()
                cursor, ahead = moved, read(moved)
                continue
            save_cursor(self.store, self.label, batch.upper)
            cursor = batch.upper
            batches += 1

    def commit(
        self, batch: SourceBatch, cursor: int, catalog_id: str, written: Written
    ) -> int | None:
        """Write ``batch`` and move the target's cursor in one transaction; the target's
        cursor instead when it is not ``cursor`` (nothing written then)."""
        with self.conn.begin() as transaction:
            found = self.conn.execute(
                select(
                    state.c.catalog_id, state.c.catalog_label, state.c.change_cursor
                ).with_for_update()
            ).one()
            if found.catalog_id != catalog_id:
                raise another_catalog(self.label, found.catalog_label)
            if found.change_cursor != cursor:
                transaction.rollback()
                return int(found.change_cursor)
            now = datetime.now(UTC)
            written.add(write_batch(self.conn, batch, self.published, now))
            when = as_target_time(self.conn, now)
            self.conn.execute(update(state).values(change_cursor=batch.upper, mirrored_at=when))
        return None

    def record_sync_time(self) -> None:
        """``catalog_synced_at``: when the last full sync ended (written when it moved)."""
        run = last_full_sync(self.store)
        if run is None:
            return
        synced = parse_time(run["finished_at"])
        with self.conn.begin():
            found = self.conn.execute(select(state.c.catalog_synced_at).with_for_update()).one()
            if moment(found.catalog_synced_at) != synced:
                self.conn.execute(
                    update(state).values(catalog_synced_at=as_target_time(self.conn, synced))
                )


def another_catalog(label: str, catalog: str | None) -> ConfigError:
    return ConfigError(
        f"{label} holds the mirror of another catalog ({catalog or 'another database'}):"
        " give each catalog (each profile) its own target database, or take this one over"
        " with `ingram-sync mirror --full`"
    )
