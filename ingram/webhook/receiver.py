"""Accepting events: persist to a spool file first, then one writer thread applies them to SQLite.

Why a spool and not SQLite for the acknowledgement: a sync (or any other
program) may hold the database's write lock for seconds, and Ingram should get
its answer within a second. A spool file is written whole, fsynced, checked and
renamed in milliseconds, so an event acknowledged is already on disk; the writer
applies it when the lock is free, then deletes the file. After a crash, ``start``
applies whatever the spool still holds. Applying is idempotent by event id,
so a crash between commit and delete applies nothing twice.

Nothing one event does stops the writer: an event it cannot apply is set aside
(its file renamed ``*.bad``, counted, logged) and the next one is applied. A full
disk or an I/O error is not the event's fault: those events stay in the spool and
are tried again every ``STORAGE_RETRY`` seconds, without a restart.

The queue between the request threads and the writer is bounded: when it is
full, the event stays in the spool and the writer picks it up from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import queue
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingram.errors import DatabaseBusy, StoreError
from ingram.models import StockEvent, StockResource
from ingram.state.dbfile import is_busy
from ingram.state.products import details_cutoff
from ingram.state.store import Store
from ingram.state.webhook import StockOutcome, prune_webhook_events, save_counts, save_stock_event
from ingram.vocab import WebhookCounter
from ingram.webhook.events import IgnoredTopic

log = logging.getLogger("ingram.webhook")

QUEUE_SIZE = 64
# Applied event ids are kept a year (about 160 bytes each, measured): a replay changes nothing.
KEEP_EVENT_IDS = 366 * 86400.0
PRUNE_EVERY = 3600.0
RETRY_WAIT = 0.5  # seconds between attempts while the database is locked
STORAGE_RETRY = 5.0  # seconds between attempts while the disk is full or failing
# SQLite's answers that are the disk's or the file's fault, not the event's: try again later.
STORAGE_CODES = (
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_NOMEM,
)


def spool_dir_for(db_path: str | os.PathLike[str]) -> Path:
    """The spool folder beside the database: ``catalog.db`` -> ``catalog.db-webhook-spool``."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + "-webhook-spool")


def is_storage_fault(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    return isinstance(error, sqlite3.DatabaseError) and code in STORAGE_CODES


def write_all(fd: int, data: bytes) -> None:
    """Write ``data`` whole: ``os.write`` may write less than asked (a nearly full disk)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(28, "No space left on device")
        view = view[written:]


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Receiver:
    """Spools accepted events and applies them through one writer thread."""

    def __init__(self, store: Store, spool_dir: Path, *, queue_size: int = QUEUE_SIZE) -> None:
        self.store = store
        # The writer waits out another program's write lock for as long as it lasts (the
        # events are safe in the spool meanwhile); only stopping ends the wait.
        store.busy_wait = math.inf
        self.spool_dir = Path(spool_dir)
        self.queue: queue.Queue[Path] = queue.Queue(maxsize=queue_size)
        self.overflowed = threading.Event()
        self.stopping = threading.Event()
        self.pending: set[str] = set()  # event ids spooled and not yet applied
        self.lock = threading.Lock()
        self.refused: Counter[int] = Counter()
        self.counted: Counter[str] = Counter()
        self.writer = threading.Thread(target=self.write_loop, name="webhook-writer", daemon=True)
        self.last_prune = 0.0
        self.storage_retry_at = 0.0  # while the disk fails: no write before this (monotonic)
        store.stop_waiting = self.stopping.is_set
        self.on_applied: Callable[[], None] = lambda: None  # stock changed: e.g. Follower.poke

    # -- request threads ---------------------------------------------------------

    def start(self) -> Receiver:
        try:
            self.spool_dir.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create spool {self.spool_dir}: {error.strerror}") from None
        if not self.spool_dir.is_dir():
            raise StoreError(f"spool {self.spool_dir} is not a folder: move it aside")
        self.pending.update(event.event_id for _, event in self.spooled())
        self.overflowed.set()  # what a previous process left is applied first
        self.writer.start()
        return self

    def accept(self, event: StockEvent, received_at: str) -> bool:
        """Persist ``event``; False when the same id is already waiting in the spool."""
        with self.lock:
            if event.event_id in self.pending:
                return False
            self.pending.add(event.event_id)
        try:
            path = self.spool(event, received_at)
        except OSError:
            with self.lock:
                self.pending.discard(event.event_id)
            raise
        try:
            self.queue.put_nowait(path)
        except queue.Full:
            self.overflowed.set()
        return True

    def refuse(self, status: int) -> None:
        with self.lock:
            self.refused[status] += 1

    def ignore(self, event: IgnoredTopic) -> None:
        """A signed event of another topic: counted, never spooled."""
        self.count(WebhookCounter.IGNORED_TOPIC)

    def count(self, name: WebhookCounter) -> None:
        with self.lock:
            self.counted[name] += 1

    def spool(self, event: StockEvent, received_at: str) -> Path:
        """Write the event durably: temp file written whole, fsynced and its size checked,
        renamed, the folder fsynced. Any failure raises OSError and leaves no file."""
        digest = hashlib.sha256(event.event_id.encode("utf-8")).hexdigest()[:32]
        final = self.spool_dir / f"{time.time_ns():020d}-{digest}.json"
        temp = final.with_suffix(".tmp")
        data = json.dumps({"received_at": received_at, "event": dataclasses.asdict(event)})
        encoded = data.encode("utf-8")
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            try:
                write_all(fd, encoded)
                os.fsync(fd)
                if os.fstat(fd).st_size != len(encoded):
                    raise OSError(5, "the spool file is not the size written")
            finally:
                os.close(fd)
            os.replace(temp, final)
        except OSError:
            temp.unlink(missing_ok=True)
            raise
        fsync_folder(self.spool_dir)
        return final

    def stop(self, timeout: float = 10.0) -> None:
        """Apply what is queued (within ``timeout``); the rest waits in the spool."""
        self.stopping.set()
        if self.writer.is_alive():
            self.writer.join(timeout)

    # -- the writer thread ---------------------------------------------------------

    def write_loop(self) -> None:
        while True:
            try:
                path = self.queue.get(timeout=0.2)
            except queue.Empty:
                if self.stopping.is_set():
                    break
                path = None
            try:
                self.write_step(path)
            except Exception:  # a bug must never end the thread every later event needs
                log.exception("webhook writer: unexpected error; it goes on")
        self.housekeeping()

    def write_step(self, path: Path | None) -> None:
        """Apply one queued file, or the whole spool after an overflow or a storage fault."""
        if time.monotonic() < self.storage_retry_at:
            if path is not None:
                self.overflowed.set()  # it stays in the spool for the next attempt
            return
        if path is not None:
            self.apply_file(path)
        elif self.overflowed.is_set():
            self.overflowed.clear()
            for spooled, _ in self.spooled():
                if time.monotonic() < self.storage_retry_at:
                    break
                self.apply_file(spooled)
        self.housekeeping()

    def apply_file(self, path: Path) -> None:
        """Apply one spooled event, waiting out a locked database; delete the file once done."""
        spooled = self.read_spooled(path)
        if spooled is None:
            return
        received_at, event = spooled
        while True:
            try:
                outcome = save_stock_event(self.store, event, received_at)
                break
            except (sqlite3.OperationalError, DatabaseBusy) as error:
                if not is_locked(error) or self.stopping.is_set():
                    return self.not_applied(path, event, error)
                time.sleep(RETRY_WAIT)
            except Exception as error:  # whatever it is, it is this event's
                return self.not_applied(path, event, error)
        self.done_with(path, event.event_id)
        log_outcome(outcome, event)
        if outcome.applied:
            self.on_applied()

    def not_applied(self, path: Path, event: StockEvent, error: BaseException) -> None:
        """A storage fault keeps the event for later; anything else sets it aside."""
        if is_locked(error):
            return  # stopping: it stays in the spool and is applied by the next start
        if is_storage_fault(error):
            if time.monotonic() >= self.storage_retry_at:
                log.error(
                    "webhook event %s not applied: %s; it stays in the spool and is tried"
                    " again every %g s",
                    event.event_id,
                    error,
                    STORAGE_RETRY,
                )
            self.storage_retry_at = time.monotonic() + STORAGE_RETRY
            self.overflowed.set()
            return
        self.set_aside(path, f"event {event.event_id} could not be applied ({error!r})")
        with self.lock:
            self.pending.discard(event.event_id)

    def set_aside(self, path: Path, why: str) -> None:
        """Rename a spool entry ``*.bad`` (kept for a person to look at), count it, log it."""
        aside = path.with_name(path.name + ".bad")
        try:
            path.replace(aside)
        except OSError as error:
            log.error("spool entry %s: %s, and it cannot be moved aside: %s", path, why, error)
            return
        self.count(WebhookCounter.SET_ASIDE)
        log.error("spool entry %s set aside as %s: %s", path.name, aside.name, why)

    def done_with(self, path: Path, event_id: str) -> None:
        path.unlink(missing_ok=True)
        with self.lock:
            self.pending.discard(event_id)

    def spooled(self) -> list[tuple[Path, StockEvent]]:
        """Spool files in arrival order with their events."""
        found = []
        for path in sorted(self.spool_dir.glob("*.json")):
            spooled = self.read_spooled(path)
            if spooled is not None:
                found.append((path, spooled[1]))
        return found

    def read_spooled(self, path: Path) -> tuple[str, StockEvent] | None:
        """(received at, event) of a spool file; None when it is gone (applied meanwhile).

        An entry that is not a regular file (a folder, a FIFO, a symlink named like an
        event) or cannot be read as an event (not written by this receiver) is set aside,
        so it neither stops the writer nor is retried forever.
        """
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                self.set_aside(path, "not a regular file")
                return None
            record = json.loads(path.read_bytes())
            return str(record["received_at"]), event_from_record(record["event"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            self.set_aside(path, f"not an event ({error})")
            return None

    def housekeeping(self) -> None:
        """Record the counts, and forget old event ids once an hour."""
        with self.lock:
            refused, self.refused = dict(self.refused), Counter()
            counted, self.counted = dict(self.counted), Counter()
        try:
            save_counts(self.store, refused, counted)
            if time.monotonic() - self.last_prune > PRUNE_EVERY:
                self.last_prune = time.monotonic()
                prune_webhook_events(self.store, details_cutoff(KEEP_EVENT_IDS))
        except (sqlite3.Error, DatabaseBusy) as error:
            if not is_locked(error):
                log.error("webhook bookkeeping not saved: %s", error)
                if is_storage_fault(error):
                    self.storage_retry_at = time.monotonic() + STORAGE_RETRY
            with self.lock:
                self.refused.update(refused)  # counted next time
                self.counted.update(counted)


def is_locked(error: BaseException) -> bool:
    if isinstance(error, DatabaseBusy):
        return True
    return isinstance(error, sqlite3.Error) and is_busy(error)


def event_from_record(data: dict[str, Any]) -> StockEvent:
    resources = tuple(StockResource(**item) for item in data["resources"])
    return StockEvent(
        event_id=str(data["event_id"]),
        event_time=str(data["event_time"]),
        resources=resources,
        skipped=int(data.get("skipped", 0)),
    )


def log_outcome(outcome: StockOutcome, event: StockEvent) -> None:
    if outcome.duplicate:
        log.info("webhook event %s: replayed, nothing changed", event.event_id)
        return
    log.info(
        "webhook event %s of %s: %d resources, %d applied, %d untracked, %d stale, %d skipped",
        event.event_id,
        event.event_time,
        outcome.resources,
        outcome.applied,
        outcome.untracked,
        outcome.stale,
        outcome.skipped,
    )
