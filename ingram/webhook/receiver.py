"""Accepting events: persist to a spool file first, then one writer thread applies them to SQLite.

Why a spool and not SQLite for the acknowledgement: a sync (or any other
program) may hold the database's write lock for seconds, and Ingram should get
its answer within a second. A spool file is written and fsynced in
milliseconds, so an event acknowledged is already on disk; the writer applies
it when the lock is free, then deletes the file. After a crash, ``start``
applies whatever the spool still holds. Applying is idempotent by event id,
so a crash between commit and delete applies nothing twice.

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
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingram.clock import utc_now
from ingram.errors import DatabaseBusy, StoreError
from ingram.models import StockEvent, StockResource
from ingram.state.products import details_cutoff
from ingram.state.store import Store
from ingram.state.webhook import StockOutcome, prune_webhook_events, save_refusals, save_stock_event

log = logging.getLogger("ingram.webhook")

QUEUE_SIZE = 64
KEEP_EVENT_IDS = 14 * 86400.0  # seconds an applied event id is remembered
PRUNE_EVERY = 3600.0
RETRY_WAIT = 0.5  # seconds between attempts while the database is locked


def spool_dir_for(db_path: str | os.PathLike[str]) -> Path:
    """The spool folder beside the database: ``catalog.db`` -> ``catalog.db-webhook-spool``."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + "-webhook-spool")


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
        self.writer = threading.Thread(target=self.write_loop, name="webhook-writer", daemon=True)
        self.last_prune = 0.0
        store.stop_waiting = self.stopping.is_set
        self.on_applied: Callable[[], None] = lambda: None  # stock changed: e.g. Follower.poke

    # -- request threads ---------------------------------------------------------

    def start(self) -> Receiver:
        try:
            self.spool_dir.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create spool {self.spool_dir}: {error.strerror}") from None
        self.pending.update(event.event_id for _, event in self.spooled())
        self.overflowed.set()  # what a previous process left is applied first
        self.writer.start()
        return self

    def accept(self, event: StockEvent) -> bool:
        """Persist ``event``; False when the same id is already waiting in the spool."""
        with self.lock:
            if event.event_id in self.pending:
                return False
            self.pending.add(event.event_id)
        try:
            path = self.spool(event)
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

    def spool(self, event: StockEvent) -> Path:
        """Write the event durably: temp file, fsync, rename, fsync the folder."""
        digest = hashlib.sha256(event.event_id.encode("utf-8")).hexdigest()[:32]
        final = self.spool_dir / f"{time.time_ns():020d}-{digest}.json"
        temp = final.with_suffix(".tmp")
        record = {"received_at": utc_now(), "event": dataclasses.asdict(event)}
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, json.dumps(record).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
        folder = os.open(self.spool_dir, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
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
            if path is not None:
                self.apply_file(path)
            elif self.overflowed.is_set():
                self.overflowed.clear()
                for spooled, _ in self.spooled():
                    self.apply_file(spooled)
            self.housekeeping()
        self.housekeeping()

    def apply_file(self, path: Path) -> None:
        """Apply one spooled event, waiting out a locked database; delete the file once done."""
        spooled = read_spooled(path)
        if spooled is None:
            return
        received_at, event = spooled
        while True:
            try:
                outcome = save_stock_event(self.store, event, received_at)
                break
            except (sqlite3.OperationalError, DatabaseBusy) as error:
                if not is_locked(error):
                    log.error("webhook event %s not applied: %s", event.event_id, error)
                if not is_locked(error) or self.stopping.is_set():
                    return  # it stays in the spool and is applied by the next start
                time.sleep(RETRY_WAIT)
        path.unlink(missing_ok=True)
        with self.lock:
            self.pending.discard(event.event_id)
        log_outcome(outcome, event)
        if outcome.applied:
            self.on_applied()

    def spooled(self) -> list[tuple[Path, StockEvent]]:
        """Spool files in arrival order with their events."""
        found = []
        for path in sorted(self.spool_dir.glob("*.json")):
            spooled = read_spooled(path)
            if spooled is not None:
                found.append((path, spooled[1]))
        return found

    def housekeeping(self) -> None:
        """Record refusal counts, and forget old event ids once an hour."""
        with self.lock:
            refused, self.refused = dict(self.refused), Counter()
        try:
            save_refusals(self.store, refused)
            if time.monotonic() - self.last_prune > PRUNE_EVERY:
                self.last_prune = time.monotonic()
                prune_webhook_events(self.store, details_cutoff(KEEP_EVENT_IDS))
        except (sqlite3.OperationalError, DatabaseBusy) as error:
            if not is_locked(error):
                log.error("webhook bookkeeping not saved: %s", error)
            with self.lock:
                self.refused.update(refused)  # counted next time


def is_locked(error: BaseException) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def read_spooled(path: Path) -> tuple[str, StockEvent] | None:
    """(received at, event) of a spool file; None when it is gone (applied meanwhile).

    A file that cannot be read as an event (not written by this receiver) is
    renamed ``*.bad`` and logged, so it neither stops the writer nor is retried forever.
    """
    try:
        record = json.loads(path.read_bytes())
        return str(record["received_at"]), event_from_record(record["event"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        log.error("spool file %s is not an event (%s): moved aside as .bad", path.name, error)
        path.replace(path.with_suffix(".bad"))
        return None


def event_from_record(data: dict[str, Any]) -> StockEvent:
    resources = tuple(StockResource(**item) for item in data["resources"])
    return StockEvent(
        event_id=str(data["event_id"]), event_time=str(data["event_time"]), resources=resources
    )


def log_outcome(outcome: StockOutcome, event: StockEvent) -> None:
    if outcome.duplicate:
        log.info("webhook event %s: replayed, nothing changed", event.event_id)
        return
    log.info(
        "webhook event %s of %s: %d resources, %d applied, %d untracked, %d stale",
        event.event_id,
        event.event_time,
        outcome.resources,
        outcome.applied,
        outcome.untracked,
        outcome.stale,
    )
