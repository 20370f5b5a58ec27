"""``products discover``: track the products a vendor catalog search finds; and the
replacements of products that went (``look_up_replacements``, after each sync).

The client pages through the search as the vendor does (``pageNumber``,
``pageSize`` up to 100) and stops at ``limit`` results; the store tracks the
part numbers not tracked yet. A dry run reports the same without writing.

Example::

    result = discover(store, client, SearchQuery(vendor="Cisco"), limit=200, dry_run=True)
    print(len(result.new), "would be added")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingram.clock import utc_now
from ingram.errors import ApiError, InputError
from ingram.models import Lifecycle, SearchResult
from ingram.state.lifecycle import (
    mark_replacements_checked,
    observe_lifecycle,
    replacement_lookups,
)
from ingram.state.products import add_products, set_product_types, tracked_part_numbers
from ingram.state.store import Store, batched
from ingram.vocab import ChangeSource

if TYPE_CHECKING:
    from ingram.api.client import IngramClient

PAGE_SIZE = 100
log = logging.getLogger("ingram.discover")


@dataclass(frozen=True)
class SearchQuery:
    """What to search for; at least one of the three must be given."""

    vendor: str | None = None
    keyword: str | None = None
    category: str | None = None

    def check(self) -> None:
        if not (self.vendor or self.keyword or self.category):
            raise InputError("give at least one of --vendor, --keyword or --category")


@dataclass
class DiscoverResult:
    """The search's matches, which of them are new, and how many were added."""

    found: list[SearchResult] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    added: int = 0
    error: ApiError | None = None  # the search failed after ``found``; those are kept

    @property
    def already_tracked(self) -> int:
        return len(self.found) - len(self.new)


def discover(
    store: Store,
    client: IngramClient,
    query: SearchQuery,
    *,
    limit: int,
    dry_run: bool,
    on_match: Callable[[int], None] = lambda count: None,
) -> DiscoverResult:
    """Search the vendor catalog (up to ``limit`` results) and track the new part numbers.

    ``on_match`` hears the count of matches so far, once a match (for a progress bar).
    """
    query.check()
    if limit < 1:
        raise InputError("--limit must be 1 or more")
    matches: dict[str, SearchResult] = {}  # pages can overlap when recordsFound changes
    error = None
    pages = client.search(
        vendor=query.vendor,
        keyword=query.keyword,
        category=query.category,
        page_size=min(PAGE_SIZE, limit),
        limit=limit,
    )
    try:
        for item in pages:
            matches.setdefault(item.ingram_part_number, item)
            on_match(len(matches))
    except ApiError as exc:  # the pages fetched before it are kept and tracked
        if not matches:
            raise
        error = exc
    found = list(matches.values())
    tracked = set(tracked_part_numbers(store, [item.ingram_part_number for item in found]))
    new = [item.ingram_part_number for item in found if item.ingram_part_number not in tracked]
    result = DiscoverResult(found, new, error=error)
    if result.new and not dry_run:
        result.added, _ = add_products(store, result.new)
    if not dry_run:
        set_product_types(store, {item.ingram_part_number: item.product_type for item in found})
    return result


RESULT_HEADER = f"{'part number':<14} {'':<8} {'vendor':<18} {'vendor part number':<20} description"


def result_line(item: SearchResult, tracked: bool) -> str:
    """One match as a table line: part number, vendor, vendor part number, description."""
    mark = "tracked" if tracked else "new"
    return (
        f"{item.ingram_part_number:<14} {mark:<8} {(item.vendor_name or '')[:18]:<18} "
        f"{(item.vendor_part_number or '')[:20]:<20} {(item.description or '')[:60]}"
    )


REPLACEMENT_LOOKUPS = 1000  # gone products asked about per sync: 10 searches at most


def look_up_replacements(store: Store, client: IngramClient) -> int:
    """Ask catalog search (by vendor part number, 100 a call) for the replacement of each
    product that went and was never asked; returns how many products it changed. A failed
    search is a warning: its products are asked again by the next sync."""
    changed = 0
    for group in batched(replacement_lookups(store, REPLACEMENT_LOOKUPS), PAGE_SIZE):
        wanted = {pn for pn, _ in group}
        try:
            results = client.search_vendor_part_numbers(list(dict.fromkeys(v for _, v in group)))
        except ApiError as error:
            log.warning("warning: the search for replacements failed: %s", error)
            break
        seen = [
            Lifecycle(
                result.ingram_part_number.upper(), result.discontinued, result.replacement_sku
            )
            for result in results
            if result.ingram_part_number.upper() in wanted
        ]
        with store.write() as db:
            changed += observe_lifecycle(db, seen, ChangeSource.SYNC)
            mark_replacements_checked(db, sorted(wanted), utc_now())
    return changed
