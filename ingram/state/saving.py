"""``save_*``: write one fetched result (or failure) in one short transaction.

The sync's main thread is the only caller. Each function closes the task it
was given, updates the run's counters and resolves earlier failures of the
same items, all atomically, so a crash between two results loses nothing and a
replayed result writes the same rows again (idempotent upserts).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ingram.clock import utc_now
from ingram.errors import ApiError
from ingram.models import DetailsBatch, PriceAvailability, ProductDetails
from ingram.policy import Trigger
from ingram.state.documents import pack_document
from ingram.state.lifecycle import (
    mark_replacements_checked,
    observe_lifecycle,
    refresh_discontinued_since,
)
from ingram.state.products import details_cutoff, money, tracked_part_numbers
from ingram.state.runs import add_run_counts
from ingram.state.shop import save_details_extras, save_shop_fields
from ingram.state.store import Store
from ingram.state.tasks import close_task, plan_details_tasks
from ingram.vocab import ChangeSource, DetailsSource, ProductStatus, StreamKind

SEARCH_GROUP = 100  # products per details task with --details-source search (a search page)


@dataclass(frozen=True)
class DetailsPolicy:
    """Which products get a details call after their P&A lands."""

    enabled: bool = True
    max_age: float = 7 * 86400.0
    refresh: bool = False
    source: DetailsSource = DetailsSource.DETAILS  # SEARCH: basic fields, 100 a task

    @property
    def task_size(self) -> int:
        """Products per details task: one per call, or a search's worth."""
        return SEARCH_GROUP if self.source == DetailsSource.SEARCH else 1


def save_price_availability(
    store: Store,
    run_id: int,
    task_id: int,
    requested: Sequence[str],
    items: Sequence[PriceAvailability],
    attempts: int,
    policy: DetailsPolicy,
    already_queued: frozenset[str] = frozenset(),
    observed_at: str | None = None,
) -> int:
    """Write a P&A batch: products, changes, details tasks, failure resolutions, task, counts.

    ``already_queued`` part numbers have a pending details task (adopted from a
    stopped run, or retried) and get no second one. ``observed_at`` is when the answer
    arrived (the worker notes it; default now): its stock replaces a product's only if no
    later observation (a pushed event applied meanwhile) is held. Returns the number queued.
    """
    now = observed_at or utc_now()
    with store.write() as db:
        answered = match_items(db, requested, items)
        good = [answered[pn] for pn in requested if pn in answered and not answered[pn].problem]
        found = [item for item in good if item.found]
        unpriced = [item for item in good if not item.found]  # not found, or not ours to buy
        previous = previous_state(db, requested)
        record_changes(db, run_id, found, previous, now)
        db.executemany(UPDATE_PA_SQL, [pa_row(item, now) for item in found])
        db.executemany(
            # Stock and prices of a product the vendor does not sell us are not current.
            "UPDATE products SET status = ?, available = NULL,"
            " total_availability = NULL, customer_price = NULL,"
            " retail_price = NULL, map_price = NULL, pa_synced_at = ?, stock_observed_at = ?,"
            f" last_error = ?, price_source = '{ChangeSource.SYNC}', price_as_of = ?,"
            f" stock_source = '{ChangeSource.SYNC}', stock_as_of = ?,"
            " product_status_code = ?, product_status_message = ? WHERE ingram_part_number = ?",
            [
                (
                    item_status(item),
                    now,
                    now,
                    item.message,
                    now,
                    now,
                    item.status_code,
                    item.message,
                    item.ingram_part_number,
                )
                for item in unpriced
            ],
        )
        save_shop_fields(db, run_id, found, [item.ingram_part_number for item in unpriced], now)
        refresh_discontinued_since(db, [item.ingram_part_number for item in good], now)
        resolve_failures(db, run_id, StreamKind.PA, [item.ingram_part_number for item in good])
        wanted = needs_details(found, previous, policy, already_queued)
        plan_details_tasks(store, db, run_id, wanted, policy.task_size)
        record_item_problems(store, db, run_id, requested, answered)
        close_task(store, db, task_id, "done", attempts, None)
        add_run_counts(
            store,
            db,
            run_id,
            pa_batches_done=1,
            pa_products_done=len(good),
            not_found=sum(item_status(item) == ProductStatus.NOT_FOUND for item in unpriced),
        )
    return len(wanted)


def match_items(
    db: sqlite3.Connection, requested: Sequence[str], items: Sequence[PriceAvailability]
) -> dict[str, PriceAvailability]:
    """Items by requested part number; an item without one is matched by vendor part or UPC."""
    answered = {item.ingram_part_number: item for item in items if item.ingram_part_number}
    unnumbered = [item for item in items if not item.ingram_part_number]
    missing = [pn for pn in requested if pn not in answered]
    if not unnumbered or not missing:
        return answered
    marks = ",".join("?" * len(missing))
    known = db.execute(
        "SELECT ingram_part_number, vendor_part_number, upc FROM products"
        f" WHERE ingram_part_number IN ({marks})",
        tuple(missing),
    ).fetchall()
    unmatched = []
    for item in unnumbered:
        for pn, vendor_pn, upc in known:
            if pn not in answered and (
                (item.vendor_part_number and item.vendor_part_number == vendor_pn)
                or (item.upc and item.upc == upc)
            ):
                answered[pn] = replace(item, ingram_part_number=pn)
                break
        else:
            unmatched.append(item)
    left = [pn for pn in missing if pn not in answered]
    if len(unmatched) == 1 and len(left) == 1:  # one item per product asked: the last one
        answered[left[0]] = replace(unmatched[0], ingram_part_number=left[0])
    return answered


def item_status(item: PriceAvailability) -> str:
    """``active``, ``not_authorized`` (the account may not buy it) or ``not_found``."""
    if item.authorized is False:
        return ProductStatus.NOT_AUTHORIZED
    return ProductStatus.ACTIVE if item.found else ProductStatus.NOT_FOUND


def record_item_problems(
    store: Store,
    db: sqlite3.Connection,
    run_id: int,
    requested: Sequence[str],
    answered: dict[str, PriceAvailability],
) -> None:
    """A failure row for each item that could not be read, or that the answer left out."""
    for pn in requested:
        item = answered.get(pn)
        if item is not None and item.problem is None:
            continue
        problem = item.problem if item else None
        message = problem or "the vendor's answer left this part number out"
        record_failures(
            store,
            db,
            run_id,
            StreamKind.PA,
            [pn],
            ApiError(message, trigger=Trigger.ITEM_UNREADABLE),
        )


UPDATE_PA_SQL = f"""
UPDATE products SET status = ?, product_status_code = ?, product_status_message = ?,
    vendor_part_number = COALESCE(?, vendor_part_number),
    upc = COALESCE(?, upc),
    vendor_name = COALESCE(?, vendor_name), description = COALESCE(?, description),
    product_class = COALESCE(?, product_class), customer_price = ?, retail_price = ?,
    map_price = ?, currency = ?,
    available = CASE WHEN :newer THEN ? ELSE available END,
    total_availability = CASE WHEN :newer THEN ? ELSE total_availability END,
    stock_observed_at = CASE WHEN :newer THEN ? ELSE stock_observed_at END,
    stock_source = CASE WHEN :newer THEN '{ChangeSource.SYNC}' ELSE stock_source END,
    stock_as_of = CASE WHEN :newer THEN ? ELSE stock_as_of END,
    pa_synced_at = ?, last_error = NULL, price_source = '{ChangeSource.SYNC}', price_as_of = ?
WHERE ingram_part_number = ?
"""
# The one rule for stock (``state.webhook.is_newer`` applies it to pushed events): this
# answer's stock replaces the product's unless the stock held was observed later.
STOCK_IS_OLDER = "stock_observed_at IS NULL OR ? >= stock_observed_at"
UPDATE_PA_SQL = UPDATE_PA_SQL.replace(":newer", STOCK_IS_OLDER)


def pa_row(item: PriceAvailability, now: str) -> tuple[object, ...]:
    return (
        item_status(item),
        item.status_code,
        item.message,
        item.vendor_part_number,
        item.upc,
        item.vendor_name,
        item.description,
        item.product_class,
        None if item.customer_price is None else format(item.customer_price, "f"),  # money()
        None if item.retail_price is None else format(item.retail_price, "f"),
        None if item.map_price is None else format(item.map_price, "f"),
        item.currency,
        now,
        None if item.available is None else int(item.available),
        now,
        item.total_availability,
        now,
        now,  # stock_observed_at
        now,  # stock_source: its condition
        now,  # stock_as_of: its condition
        now,  # stock_as_of
        now,  # pa_synced_at
        now,  # price_as_of: right-hand sides of SET read the row as it was, not pa_synced_at's ?
        item.ingram_part_number,
    )


def previous_state(db: sqlite3.Connection, pns: Sequence[str]) -> dict[str, sqlite3.Row]:
    marks = ",".join("?" * len(pns))
    rows = db.execute(
        "SELECT ingram_part_number, customer_price, total_availability, details_synced_at,"
        " pa_synced_at, details_status, stock_observed_at"
        f" FROM products WHERE ingram_part_number IN ({marks})",
        tuple(pns),
    )
    return {row[0]: row for row in rows}


def record_changes(
    db: sqlite3.Connection,
    run_id: int,
    found: Sequence[PriceAvailability],
    previous: dict[str, sqlite3.Row],
    now: str,
) -> None:
    """One row per real change of customer price or total availability since the last sync."""
    rows = []
    for item in found:
        before = previous.get(item.ingram_part_number)
        if before is None or before["pa_synced_at"] is None:
            continue
        fields: list[tuple[str, object]] = [("customer_price", money(item.customer_price))]
        observed = before["stock_observed_at"]
        if observed is None or now >= observed:  # stock older than the held one is not applied
            fields.append(("total_availability", item.total_availability))
        for field, new in fields:
            old = before[field]
            if new is not None and old is not None and Decimal(str(old)) != Decimal(str(new)):
                rows.append((run_id, item.ingram_part_number, field, str(old), str(new), now))
    db.executemany(
        "INSERT INTO changes (run_id, ingram_part_number, field, old_value, new_value, changed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def needs_details(
    found: Sequence[PriceAvailability],
    previous: dict[str, sqlite3.Row],
    policy: DetailsPolicy,
    already_queued: frozenset[str],
) -> list[str]:
    if not policy.enabled:
        return []
    # A product removed while its P&A was in flight has no row: it needs nothing.
    found = [
        item
        for item in found
        if item.ingram_part_number in previous and item.ingram_part_number not in already_queued
    ]
    if policy.refresh:
        return [item.ingram_part_number for item in found]
    cutoff = details_cutoff(policy.max_age)
    wanted = []
    for item in found:
        before = previous[item.ingram_part_number]
        synced = before["details_synced_at"]
        # basic fields from a search are not the document: the details source fetches it
        partial = (
            policy.source == DetailsSource.DETAILS
            and before["details_status"] == DetailsSource.SEARCH
        )
        if synced is None or synced < cutoff or partial:
            wanted.append(item.ingram_part_number)
    return wanted


def save_details(
    store: Store, run_id: int, task_id: int, details: ProductDetails, attempts: int
) -> None:
    """Write one details result; a 404 is saved as "no details" with its time."""
    with store.write() as db:
        write_details(db, run_id, details, utc_now())
        resolve_failures(db, run_id, StreamKind.DETAILS, [details.ingram_part_number])
        close_task(store, db, task_id, "done", attempts, None)
        add_run_counts(store, db, run_id, details_done=1)


def save_details_batch(
    store: Store, run_id: int, task_id: int, batch: DetailsBatch, attempts: int
) -> None:
    """Write a group's details (``--details-source search``) and a failure row for each miss."""
    now = utc_now()
    with store.write() as db:
        for details in batch.details:
            write_details(db, run_id, details, now)
        resolve_failures(
            db, run_id, StreamKind.DETAILS, [d.ingram_part_number for d in batch.details]
        )
        for pn, error in batch.failed:
            problem = error if isinstance(error, ApiError) else ApiError(str(error))
            record_failures(store, db, run_id, StreamKind.DETAILS, [pn], problem)
        close_task(store, db, task_id, "done", attempts, None)
        add_run_counts(store, db, run_id, details_done=len(batch.details) + len(batch.failed))


def write_details(db: sqlite3.Connection, run_id: int, details: ProductDetails, now: str) -> None:
    """One product's details: the document, "none" for a 404, or a search's basic fields."""
    if details.source == DetailsSource.SEARCH:
        db.execute(UPDATE_SEARCH_DETAILS_SQL, search_details_row(details, now))
        if details.lifecycle is not None:  # a search also says discontinued and replacementSku
            observe_lifecycle(db, [details.lifecycle], ChangeSource.SYNC, now, run_id)
            mark_replacements_checked(db, [details.ingram_part_number], now)
        return  # no indicators, sizes or specs in a search answer: the earlier ones stay
    if details.found:
        db.execute(UPDATE_DETAILS_SQL, details_row(details, now))
    else:
        db.execute(
            "UPDATE products SET details_status = 'none', details_synced_at = ?"
            " WHERE ingram_part_number = ?",
            (now, details.ingram_part_number),
        )
    save_document(db, details.ingram_part_number, details.raw if details.found else None)
    extras = details.extras if details.found else None
    save_details_extras(db, run_id, details.ingram_part_number, extras, now)
    refresh_discontinued_since(db, [details.ingram_part_number], now)


def save_document(db: sqlite3.Connection, pn: str, raw: dict[str, Any] | None) -> None:
    """The raw details document, compressed (``pack_document``) in a table of its own;
    None removes it."""
    if raw is None:
        db.execute(
            "DELETE FROM product_documents"
            " WHERE product_seq = (SELECT seq FROM products WHERE ingram_part_number = ?)",
            (pn,),
        )
        return
    # Keyed by the product's number, so a full sync appends documents in turn.
    # A product removed while its call was in flight gets none.
    db.execute(
        "INSERT OR REPLACE INTO product_documents (product_seq, ingram_part_number, json_zlib)"
        " SELECT seq, ingram_part_number, ? FROM products WHERE ingram_part_number = ?",
        (pack_document(raw), pn),
    )


UPDATE_DETAILS_SQL = """
UPDATE products SET details_status = 'found', category = ?, subcategory = ?,
    authorized = ?, vendor_name = COALESCE(?, vendor_name),
    vendor_part_number = COALESCE(vendor_part_number, ?), upc = COALESCE(upc, ?),
    description = COALESCE(description, ?), product_class = COALESCE(?, product_class),
    details_synced_at = ?
WHERE ingram_part_number = ?
"""


UPDATE_SEARCH_DETAILS_SQL = """
UPDATE products SET details_status = 'search', category = COALESCE(?, category),
    subcategory = COALESCE(?, subcategory), product_type = COALESCE(?, product_type),
    vendor_name = COALESCE(?, vendor_name), upc = COALESCE(upc, ?),
    description = COALESCE(description, ?), details_synced_at = ?
WHERE ingram_part_number = ?
"""


def search_details_row(details: ProductDetails, now: str) -> tuple[object, ...]:
    return (
        details.category,
        details.subcategory,
        details.product_type,
        details.vendor_name,
        details.upc,
        details.description,
        now,
        details.ingram_part_number,
    )


def details_row(details: ProductDetails, now: str) -> tuple[object, ...]:
    return (
        details.category,
        details.subcategory,
        None if details.authorized is None else int(details.authorized),
        details.vendor_name,
        details.vendor_part_number,
        details.upc,
        details.description,
        details.product_class,
        now,
        details.ingram_part_number,
    )


def save_failure(
    store: Store, run_id: int, task_id: int, kind: str, pns: Sequence[str], error: ApiError
) -> None:
    """Close a task whose retries are spent: one open failure row per part number."""
    with store.write() as db:
        record_failures(store, db, run_id, kind, pns, error)
        close_task(store, db, task_id, "failed", error.attempts, str(error))
        if kind == StreamKind.PA:
            add_run_counts(store, db, run_id, pa_batches_done=1)
        else:  # a details task holds one product, or a search's group
            add_run_counts(store, db, run_id, details_done=len(pns))


def record_failures(
    store: Store,
    db: sqlite3.Connection,
    run_id: int,
    kind: str,
    pns: Sequence[str],
    error: ApiError,
) -> None:
    """Open (or refresh the open) failure of each item; never two open rows for one item.

    An item removed while its call was in flight gets none: nothing is left to retry.
    """
    now = utc_now()
    message = str(error)
    pns = tracked_part_numbers(store, pns)
    db.executemany(
        "INSERT INTO failures (run_id, kind, ingram_part_number, error_kind, error, http_status,"
        " attempts, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, ingram_part_number) WHERE resolved_at IS NULL DO UPDATE SET"
        " run_id = excluded.run_id, error_kind = excluded.error_kind, error = excluded.error,"
        " http_status = excluded.http_status, attempts = failures.attempts + excluded.attempts,"
        " failed_at = excluded.failed_at",
        [
            (run_id, kind, pn, error.kind, message, error.http_status, error.attempts, now)
            for pn in pns
        ],
    )
    db.executemany(
        "UPDATE products SET last_error = ? WHERE ingram_part_number = ?",
        [(message, pn) for pn in pns],
    )
    add_run_counts(store, db, run_id, failures=len(pns))


def resolve_failures(db: sqlite3.Connection, run_id: int, kind: str, pns: Sequence[str]) -> None:
    """Close the open failures of ``pns``: one statement (the open-failure index finds them)."""
    if not pns:
        return
    marks = ",".join("?" * len(pns))
    db.execute(
        "UPDATE failures SET resolved_at = ?, resolved_by_run = ?"
        f" WHERE kind = ? AND resolved_at IS NULL AND ingram_part_number IN ({marks})",
        (utc_now(), run_id, kind, *pns),
    )
