"""SQLite state: the connection, migrations and every SQL statement of ingram-sync.

Only one thread writes (the sync's main thread); reads from other processes
(``monitor``, ``runs``) work during a sync because the database is in WAL
mode. Every write transaction starts with ``BEGIN IMMEDIATE`` so it takes the
write lock up front and waits ``busy_timeout`` instead of failing half-way.

Example::

    store = Store.open("catalog.db")
    store.add_products(["6YE881"])
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingram.errors import StoreError
from ingram.state.dbfile import (
    BUSY_TIMEOUT_MS,
    busy_error,
    check_database_file,
    check_version,
    create_private_file,
    enable_wal,
    is_busy,
)
from ingram.state.lock import locked_error, process_alive
from ingram.state.migrations import LATEST, migrate, recorded_version

log = logging.getLogger("ingram.state")

PA = "price_availability"
DETAILS = "details"
TASK_CHUNK = 500
WAL_CHECKPOINT_PAGES = 10_000
WRITE_CHUNK = 20_000  # rows per commit of a bulk write (a fraction of a second each)
PLAN_GROUP = 100  # P&A tasks inserted per executemany while planning

# Every status a product can have (``not_authorized``: the vendor denies this account it).
PRODUCT_STATUSES = ("active", "not_found", "never_synced", "not_authorized")

EXPORT_COLUMNS = (
    "ingram_part_number",
    "vendor_part_number",
    "upc",
    "vendor_name",
    "description",
    "category",
    "subcategory",
    "product_class",
    "product_type",
    "status",
    "product_status_code",
    "product_status_message",
    "customer_price",
    "retail_price",
    "map_price",
    "currency",
    "available",
    "total_availability",
    "pa_synced_at",
    "details_synced_at",
    "last_error",
    "sku_status",
    "back_order_flag",
    "stock_pushed_at",
    # what a shop needs (migration 7); None where the vendor or the country sends nothing
    "authorized",
    "accept_back_order",
    "end_user_info_required",
    "bundle_part",
    "backorder_eta",
    "discontinued",
    "new_product",
    "backorder_allowed",
    "direct_ship",
    "has_warranty",
    "weight",
    "weight_unit",
    "height",
    "width",
    "length",
    "dimension_unit",
    # the key the user tracks the product by (migration 8), for the shop to join on
    "user_key_type",
    "user_key",
    # where the price and the stock came from (sync, webhook, pricefile) and when (migration 13)
    "price_source",
    "price_as_of",
    "stock_source",
    "stock_as_of",
)
DECIMAL_COLUMNS = (
    "customer_price",
    "retail_price",
    "map_price",
    "weight",
    "height",
    "width",
    "length",
)
FLAG_COLUMNS = (
    "available",
    "authorized",
    "accept_back_order",
    "end_user_info_required",
    "bundle_part",
    "discontinued",
    "new_product",
    "backorder_allowed",
    "direct_ship",
    "has_warranty",
)


def utc_now() -> str:
    """Now as UTC ISO-8601 with milliseconds, e.g. ``2026-11-28T22:40:01.123Z``."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def money(value: Decimal | None) -> str | None:
    """Decimal text, so 74.34 is stored and read back as exactly 74.34."""
    return None if value is None else format(value, "f")


# Tracks a part number. Its number (``seq``) counts up in the order products are added:
# child rows are found by it, so a sync, which saves in that order, appends to indexes.
# Given here rather than left to migration 9's trigger (which numbers products added by
# hand): the trigger's extra UPDATE per row made a 200,000-line import 40 % slower.
INSERT_PRODUCT_SQL = (
    "INSERT OR IGNORE INTO products (ingram_part_number, added_at, seq)"
    " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products))"
)


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

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> Store:
        """Open (creating and migrating when needed) the database at ``path``."""
        path = Path(path)
        check_database_file(path, writable=not readonly)
        if readonly and not path.exists():
            raise StoreError(
                f"no database at {path}: track products first (`ingram-sync products add`)"
                " or use --db"
            )
        if not readonly:
            create_private_file(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            fresh = check_version(db, path, readonly)
            if fresh and not readonly:  # only before the first table: pruning can free pages
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            if not readonly:
                enable_wal(db)
                db.execute("PRAGMA synchronous = NORMAL")
                # A page rewritten by many commits is copied back once per checkpoint:
                # fewer, larger checkpoints (a 40 MB log at most) halve a full sync's writes.
                db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
                migrate(db)
            elif recorded_version(db) < LATEST:
                migrate(db)  # read by a newer version: its new columns must exist to be read
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

    # -- products -----------------------------------------------------------

    def add_products(self, part_numbers: Iterable[str]) -> tuple[int, int]:
        """Track part numbers; return (added, already tracked)."""
        unique = list(dict.fromkeys(part_numbers))
        now = utc_now()
        added = 0
        # A commit per chunk: a 3-million-line import never holds the write lock for long.
        for chunk in batched(unique, WRITE_CHUNK):
            with self.write() as db:
                added += db.executemany(INSERT_PRODUCT_SQL, ((pn, now) for pn in chunk)).rowcount
        return added, len(unique) - added

    def set_product_types(self, types: dict[str, str | None]) -> None:
        """``productType`` as a search found it (the one answer that carries it)."""
        with self.write() as db:
            db.executemany(
                "UPDATE products SET product_type = ? WHERE ingram_part_number = ?",
                [(kind, pn) for pn, kind in types.items() if kind],
            )

    def remove_products(self, part_numbers: Iterable[str]) -> int:
        """Stop tracking; open failures of those products go too (nothing to retry)."""
        pns = [(pn,) for pn in part_numbers]
        with self.write() as db:
            # rowcount, not total_changes: the child rows the delete cascades to do not count
            delete = "DELETE FROM products WHERE ingram_part_number = ?"
            removed = db.executemany(delete, pns).rowcount
            db.executemany(
                "DELETE FROM failures WHERE ingram_part_number = ? AND resolved_at IS NULL", pns
            )
            return removed

    def tracked(self, part_numbers: Sequence[str] | None = None) -> list[str]:
        """Tracked part numbers (all, or those of ``part_numbers`` that are tracked)."""
        if part_numbers is None:
            sql = "SELECT ingram_part_number FROM products ORDER BY ingram_part_number"
            return [row[0] for row in self.db.execute(sql)]
        found: set[str] = set()
        for chunk in batched(part_numbers, TASK_CHUNK):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT ingram_part_number FROM products WHERE ingram_part_number IN ({marks})"
            found.update(row[0] for row in self.db.execute(sql, chunk))
        return [pn for pn in part_numbers if pn in found]

    def iter_tracked(self, page: int = TASK_CHUNK) -> Iterator[str]:
        """Every tracked part number in the table's own (rowid) order, a page at a time.

        Memory stays flat, and a batch of 50 is 50 neighbouring rows: its results
        rewrite a few pages, not 50 pages scattered over the table (as part-number
        order would, the rows being stored in the order they were added).
        """
        sql = (
            "SELECT rowid, ingram_part_number FROM products WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        last = -(2**63)
        while rows := self.db.execute(sql, (last, page)).fetchall():
            yield from (row[1] for row in rows)
            last = rows[-1][0]

    def products(
        self, *, status: Sequence[str] = (), changed_since: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Products as export dicts, filtered by status and P&A change time."""
        where: list[str] = []
        params: list[str] = []
        if status:
            where.append(f"status IN ({','.join('?' * len(status))})")
            params.extend(status)
        if changed_since:
            where.append(
                "ingram_part_number IN (SELECT ingram_part_number FROM changes"
                " WHERE changed_at >= ?)"
            )
            params.append(changed_since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {', '.join(EXPORT_COLUMNS)} FROM products {clause} ORDER BY 1"
        for row in self.db.execute(sql, params):
            yield export_row(row)

    # -- runs -------------------------------------------------------------

    def create_run(self, kind: str, options: dict[str, Any]) -> int:
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, status, started_at, options, pid, host)"
                " VALUES (?, 'running', ?, ?, ?, ?)",
                (kind, utc_now(), json.dumps(options), os.getpid(), socket.gethostname()),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, last_error: str | None = None) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, last_error = COALESCE(?, last_error)"
                " WHERE id = ?",
                (status, utc_now(), last_error, run_id),
            )

    def interrupt_dead_runs(self) -> list[sqlite3.Row]:
        """Mark runs left ``running`` as interrupted; return them, oldest first.

        Call only while holding the sync lock. A live sync would hold it, but
        its lock file may have been deleted under it: a run whose process
        still runs on this host is never declared dead (LockedError instead).
        """
        with self.write() as db:
            dead = db.execute(
                "SELECT id, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY id"
            ).fetchall()
            for run in dead:
                if run["pid"] != os.getpid() and process_alive(
                    run["pid"], run["host"], parse_time(run["started_at"])
                ):
                    raise locked_error(run["pid"])
            db.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?,"
                " last_error = COALESCE(last_error, 'the process died; resumed by a later sync')"
                " WHERE status = 'running'",
                (utc_now(),),
            )
        return dead

    def last_full_sync(self) -> sqlite3.Row | None:
        """The latest sync of every tracked product (not ``--sku``, not a retry) that ended."""
        return self.db.execute(
            "SELECT * FROM runs WHERE kind = 'sync' AND finished_at IS NOT NULL"
            " AND status IN ('completed', 'completed_with_failures')"
            " AND json_array_length(options, '$.skus') = 0 ORDER BY id DESC LIMIT 1"
        ).fetchone()

    def last_run(self, statuses: Sequence[str] = ()) -> sqlite3.Row | None:
        clause = f"WHERE status IN ({','.join('?' * len(statuses))})" if statuses else ""
        return self.db.execute(
            f"SELECT * FROM runs {clause} ORDER BY id DESC LIMIT 1", tuple(statuses)
        ).fetchone()

    def run(self, run_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()

    def known_run(self, run_id: int) -> sqlite3.Row:
        """The row of a run this process created or already found (a LookupError if gone)."""
        row = self.run(run_id)
        if row is None:
            raise LookupError(f"no run {run_id}")
        return row

    def runs(self, limit: int = 20) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    def add_run_counts(self, db: sqlite3.Connection, run_id: int, **increments: int) -> None:
        """Add to a run's counters inside the caller's transaction."""
        sets = ", ".join(f"{name} = {name} + ?" for name in increments)
        db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*increments.values(), run_id))

    def forget_details(self, db: sqlite3.Connection, pns: Sequence[str]) -> None:
        """Mark details as never fetched (a run's "no records" turned out not to be believed)."""
        db.executemany(
            "UPDATE products SET details_status = NULL, details_synced_at = NULL"
            " WHERE ingram_part_number = ?",
            [(pn,) for pn in pns],
        )

    def set_run_pacing(self, db: sqlite3.Connection, run_id: int, pacing: Any) -> None:
        """What the vendor's rate-limit headers said, per endpoint (JSON)."""
        db.execute("UPDATE runs SET pacing = ? WHERE id = ?", (json.dumps(pacing), run_id))

    def set_run_counts(self, db: sqlite3.Connection, run_id: int, **values: int) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))

    # -- tasks ------------------------------------------------------------

    def plan_pa_tasks(self, run_id: int, batches: Iterable[Sequence[str]]) -> None:
        """Create one pending P&A task per batch and count the run's work.

        ``batches`` may be a lazy iterator (``iter_tracked`` through ``batched``): it is
        consumed a group at a time, so planning 100,000 products holds no list of them.
        """
        now = utc_now()
        tasks = products = 0
        with self.write() as db:
            for group in batched(batches, PLAN_GROUP):
                db.executemany(
                    "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(run_id, PA, json.dumps(list(b)), len(b), now) for b in group],
                )
                tasks += len(group)
                products += sum(len(b) for b in group)
            self.add_run_counts(db, run_id, pa_batches=tasks, products=products)

    def plan_details_tasks(
        self, db: sqlite3.Connection, run_id: int, pns: Sequence[str], size: int = 1
    ) -> None:
        """Queue details tasks of ``size`` part numbers in the caller's transaction."""
        now = utc_now()
        db.executemany(
            "INSERT INTO tasks (run_id, kind, part_numbers, size, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((run_id, DETAILS, json.dumps(group), len(group), now) for group in batched(pns, size)),
        )
        if pns:
            self.add_run_counts(db, run_id, details_total=len(pns))

    def open_tasks(
        self, run_ids: Sequence[int], kind: str, after_id: int, limit: int = TASK_CHUNK
    ) -> list[tuple[int, list[str]]]:
        """Pending tasks of ``kind`` in ``run_ids`` with id above ``after_id``, by id."""
        marks = ",".join("?" * len(run_ids))
        rows = self.db.execute(
            f"SELECT id, part_numbers FROM tasks WHERE run_id IN ({marks}) AND kind = ?"
            " AND state = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (*run_ids, kind, after_id, limit),
        ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def adopt_open_tasks(
        self, from_runs: Sequence[int], run_id: int, kinds: Sequence[str] = (PA, DETAILS)
    ) -> None:
        """Move the unfinished tasks (of ``kinds``) of stopped runs to ``run_id``, done first."""
        if not from_runs:
            return
        marks = ",".join("?" * len(from_runs))
        kind_marks = ",".join("?" * len(kinds))
        scope = f"run_id IN ({marks}) AND state = 'pending' AND kind IN ({kind_marks})"
        with self.write() as db:
            # Several stopped runs may owe the same item: it is adopted once.
            db.execute(
                f"UPDATE tasks SET state = 'superseded', finished_at = ? WHERE {scope}"
                f" AND id NOT IN (SELECT MIN(id) FROM tasks WHERE {scope}"
                " GROUP BY kind, part_numbers)",
                (utc_now(), *from_runs, *kinds, *from_runs, *kinds),
            )
            totals = dict.fromkeys((PA, DETAILS), (0, 0))
            for kind, count, size in db.execute(
                f"SELECT kind, COUNT(*), SUM(size) FROM tasks WHERE {scope} GROUP BY kind",
                (*from_runs, *kinds),
            ):
                totals[kind] = (count, size)
            db.execute(f"UPDATE tasks SET run_id = ? WHERE {scope}", (run_id, *from_runs, *kinds))
            self.add_run_counts(
                db,
                run_id,
                pa_batches=totals[PA][0],
                products=totals[PA][1],
                details_total=totals[DETAILS][1],
            )

    def supersede_open_tasks(self, from_runs: Sequence[int], kind: str) -> set[str]:
        """Close the pending ``kind`` tasks of stopped runs; return their part numbers.

        The caller plans them afresh in its own full batches (in the same
        transaction), so items owed by several killed runs cost one call, not one each.
        """
        owed = self.open_task_part_numbers(from_runs, kind) if from_runs else set()
        if owed:
            marks = ",".join("?" * len(from_runs))
            with self.write() as db:
                db.execute(
                    "UPDATE tasks SET state = 'superseded', finished_at = ?"
                    f" WHERE run_id IN ({marks}) AND kind = ? AND state = 'pending'",
                    (utc_now(), *from_runs, kind),
                )
        return owed

    def runs_with_open_tasks(self, exclude: int, kind: str | None = None) -> list[int]:
        """Runs other than ``exclude`` that are over but left pending tasks, oldest first.

        Call only while holding the sync lock. A run stopped by a signal or a
        credentials error leaves its unsent tasks pending, and a sync killed
        between marking a dead run and adopting its tasks leaves them with a
        run that is no longer ``running``: all of these are still owed.
        """
        rows = self.db.execute(
            "SELECT id FROM runs WHERE id != ? AND status != 'running' AND kind = COALESCE(?, kind)"
            " AND EXISTS (SELECT 1 FROM tasks WHERE tasks.run_id = runs.id"
            " AND tasks.state = 'pending') ORDER BY id",
            (exclude, kind),
        )
        return [row[0] for row in rows]

    def open_task_part_numbers(self, run_ids: Sequence[int], kind: str) -> set[str]:
        found: set[str] = set()
        after = 0
        while chunk := self.open_tasks(run_ids, kind, after):
            for task_id, pns in chunk:
                found.update(pns)
                after = task_id
        return found

    def close_task(
        self, db: sqlite3.Connection, task_id: int, state: str, attempts: int, error: str | None
    ) -> None:
        db.execute(
            "UPDATE tasks SET state = ?, attempts = attempts + ?, finished_at = ?, error = ?"
            " WHERE id = ?",
            (state, attempts, utc_now(), error, task_id),
        )

    def count_task_attempt(self, task_id: int, attempts: int, error: str) -> None:
        """Record attempts spent on a task that stays pending (a cancelled call)."""
        with self.write() as db:
            db.execute(
                "UPDATE tasks SET attempts = attempts + ?, error = ? WHERE id = ?",
                (attempts, error, task_id),
            )


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


def export_row(row: sqlite3.Row) -> dict[str, Any]:
    """A products row as the stable export object (prices as decimal text, flags as bools)."""
    item = dict(row)
    for name in FLAG_COLUMNS:
        if item[name] is not None:
            item[name] = bool(item[name])
    for name in DECIMAL_COLUMNS:
        if item[name] is not None:
            item[name] = Decimal(item[name])
    return item


def details_cutoff(max_age: float) -> str:
    return format_time(datetime.now(UTC) - timedelta(seconds=max_age))
