"""What ``browse`` tells Datasette about the catalog: every table and column described, the
units of prices and stock, facets, sort orders, and the internal tables hidden.

Example: ``metadata = catalog_metadata("catalog", columns_of(db))``
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from ingram.browse.queries import CANNED_QUERIES, dashboards

MONEY = "in the product's currency (the currency column)"
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "products": (
        "One row per tracked Ingram part number: identity, status, prices, stock, details.",
        {
            "ingram_part_number": "Ingram's part number (SKU), the key",
            "added_at": "when it was first tracked (UTC)",
            "status": "active, not_found (Ingram does not know it), not_authorized (your account"
            " may not buy it) or never_synced",
            "vendor_part_number": "the manufacturer's part number",
            "upc": "UPC / EAN barcode",
            "vendor_name": "manufacturer",
            "description": "Ingram's description",
            "product_class": "Ingram's product class (A..E)",
            "category": "category, from details",
            "subcategory": "subcategory, from details",
            "product_type": "product type, from a catalog search",
            "authorized": "whether your account may buy it",
            "customer_price": f"your price, {MONEY}",
            "retail_price": f"the vendor's suggested retail price, {MONEY}",
            "map_price": f"the minimum advertised price, {MONEY}",
            "currency": "currency of the prices (ISO code)",
            "available": "whether any warehouse has stock",
            "total_availability": "units in stock over all warehouses",
            "details_status": "found, search (basic fields from a search), none (no details)",
            "pa_synced_at": "when price and availability were last fetched (UTC)",
            "details_synced_at": "when details were last fetched (UTC)",
            "last_error": "the last error met on it, until it next succeeds",
            "product_status_code": "the vendor's status code of the last P&A answer",
            "product_status_message": "the vendor's status message of the last P&A answer",
            "sku_status": "stock status pushed by the Stock Update webhook",
            "back_order_flag": "backorder flag pushed by the webhook",
            "stock_pushed_at": "event time of the last stock the webhook applied (UTC)",
            "accept_back_order": "whether Ingram takes backorders for it",
            "end_user_info_required": "whether an order needs end-user information",
            "bundle_part": "whether it is a bundle",
            "backorder_eta": "earliest date backordered stock is due",
            "shop_synced_at": "when the shop fields were last saved (UTC)",
            "discontinued": "discontinued by the vendor",
            "new_product": "flagged new by the vendor",
            "backorder_allowed": "backorders allowed (details)",
            "direct_ship": "shipped by the vendor directly",
            "has_warranty": "comes with a warranty",
            "weight": "weight, in weight_unit",
            "weight_unit": "unit of weight",
            "height": "height, in dimension_unit",
            "width": "width, in dimension_unit",
            "length": "length, in dimension_unit",
            "dimension_unit": "unit of height, width and length",
            "user_key_type": "the kind of your own key it is tracked by",
            "user_key": "your own key (vendor part number, UPC or customer part number)",
            "seq": "internal product number (child rows are keyed by it)",
            "discontinued_since": "when Ingram first called it discontinued, or P&A lost it (UTC)",
            "replacement_part_number": "the part number Ingram names to replace it",
            "replacement_checked_at": "when search was last asked for its replacement (UTC)",
            "change_version": "the catalog's version when its mirrored values last changed",
            "price_source": "where the price came from: sync (P&A) or pricefile",
            "price_as_of": "when that price was observed (UTC)",
            "stock_source": "where the stock came from: sync (P&A) or webhook",
            "stock_as_of": "when that stock was observed (UTC)",
            "stock_observed_at": "the observation time the newest-stock rule compares (UTC)",
        },
    ),
    "runs": (
        "One row per sync or retry run: status, timings, counts.",
        {
            "id": "run number",
            "kind": "sync or retry",
            "status": "running, completed, completed_with_failures, interrupted or failed",
            "started_at": "start (UTC)",
            "finished_at": "end (UTC)",
            "options": "the options it ran with (JSON)",
            "pid": "its process id",
            "host": "the machine it ran on",
            "products": "products it priced",
            "pa_batches": "P&A calls planned (batches of up to 50)",
            "pa_batches_done": "P&A batches done",
            "pa_products_done": "products whose P&A came back",
            "not_found": "products Ingram did not know",
            "details_total": "details calls owed",
            "details_done": "details calls done",
            "failures": "items that failed",
            "pa_requests": "P&A requests sent (retries included)",
            "details_requests": "details requests sent",
            "token_requests": "token requests sent",
            "retries": "retried calls",
            "rate_limited": "429 answers met",
            "last_error": "the error that ended it, if one did",
            "pacing": "what the vendor's rate-limit headers said, per endpoint (JSON)",
            "activity": "the retry waits under way while it runs (JSON)",
            "search_requests": "catalog search calls",
            "answers": "every answer counted by endpoint and HTTP status (JSON)",
            "stream_timings": "each stream's start, end and counts (JSON)",
        },
    ),
    "tasks": (
        "The P&A batches and details items of each run: what resume and monitor read.",
        {
            "id": "task number",
            "run_id": "its run",
            "kind": "price_availability or details",
            "state": "pending, done, failed, split (tried again part number by part number),"
            " superseded or cancelled",
            "part_numbers": "its part numbers (JSON)",
            "size": "how many",
            "attempts": "attempts made",
            "created_at": "when planned (UTC)",
            "finished_at": "when closed (UTC)",
            "duration_ms": "how long its call took, in milliseconds",
            "error": "its last error",
        },
    ),
    "failures": (
        "Items whose retries were spent; retry-failed retries the open ones.",
        {
            "id": "failure id (retry-failed ID)",
            "run_id": "the run it failed in",
            "kind": "price_availability or details",
            "ingram_part_number": "the product",
            "error_kind": "http_error, timeout, connection, malformed, rate_limited, ...",
            "error": "the error's words",
            "http_status": "the HTTP status, if any",
            "attempts": "attempts made",
            "failed_at": "when (UTC)",
            "resolved_at": "when a later run succeeded (UTC); empty while open",
            "resolved_by_run": "the run that resolved it",
        },
    ),
    "changes": (
        "A row each time a tracked value changed: price, stock, backorder ETA, discontinued.",
        {
            "id": "change number",
            "run_id": "the run that saw it (empty for the webhook)",
            "ingram_part_number": "the product",
            "field": "what changed",
            "old_value": "before",
            "new_value": "after",
            "changed_at": "when (UTC)",
            "source": "sync or webhook",
            "event_id": "the webhook event that carried it",
            "version": "the catalog's version of this change (the change feed's cursor)",
        },
    ),
    "webhook_events": (
        "Stock Update events the receiver applied.",
        {
            "event_id": "Ingram's event id",
            "event_time": "the event's time (UTC)",
            "received_at": "when it arrived (UTC)",
            "applied_at": "when it was applied (UTC)",
            "resources": "part numbers it carried",
            "applied": "of them, applied",
            "untracked": "of them, not tracked here",
            "stale": "of them, older than what a sync saw",
            "replays": "times it was sent again",
            "skipped": "resources of the event skipped as unreadable",
        },
    ),
    "webhook_refusals": (
        "Requests the receiver refused, by HTTP status.",
        {"status": "the HTTP status answered", "count": "how many", "last_at": "the last (UTC)"},
    ),
    "product_keys": (
        "Your own keys (vendor part numbers, UPCs, customer part numbers) and what they name.",
        {
            "id": "key number",
            "key_type": "vendorPartNumber, upc or customerPartNumber",
            "key_value": "the key",
            "status": "unresolved, resolved, ambiguous or not_found",
            "ingram_part_number": "the part number it names",
            "candidates": "the part numbers an ambiguous key names (JSON)",
            "message": "the vendor's message about it",
            "added_at": "when added (UTC)",
            "resolved_at": "when resolved (UTC)",
        },
    ),
    "product_warehouses": (
        "Stock of each product per warehouse.",
        {
            "product_seq": "internal product number",
            "ingram_part_number": "the product",
            "warehouse_id": "Ingram's warehouse id",
            "location": "where it is",
            "quantity_available": "units in stock there",
            "quantity_backordered": "units on backorder there",
            "quantity_on_order": "units on order there",
            "backorder_eta": "when backordered stock is due there",
            "backorder_info": "the vendor's backorder lines (JSON)",
        },
    ),
    "product_discounts": (
        "Special prices, quantity breaks and service fees of each product.",
        {
            "product_seq": "internal product number",
            "ingram_part_number": "the product",
            "position": "order in the vendor's answer",
            "kind": "special_price, quantity_break or service_fee",
            "discount_type": "the vendor's discount type",
            "bid_number": "the special bid's number",
            "amount": "the price or fee, in the currency column",
            "quantity": "from this many units",
            "available_quantity": "units left at this price",
            "effective_date": "from",
            "expiration_date": "until",
            "currency": "currency of amount",
            "description": "the vendor's words",
        },
    ),
    "product_specs": (
        "The spec table of each product's details.",
        {
            "product_seq": "internal product number",
            "ingram_part_number": "the product",
            "position": "order in the vendor's table",
            "header": "section",
            "name": "attribute",
            "value": "value",
        },
    ),
    "publish_state": (
        "What each shop export target last published, per product: its delta's memory.",
        {
            "ingram_part_number": "the product",
            "target": "the export target (woocommerce, shopify, ... or a [targets.NAME])",
            "sku": "the SKU the shop knows it by",
            "price": f"the sell price published, {MONEY}",
            "stock": "the stock published",
            "listed": "whether it was published (not draft or delisted)",
            "published_at": "when that file was written (UTC)",
        },
    ),
    "catalog": (
        "Ingram's price file: every product it offers, tracked or not.",
        {
            "ingram_part_number": "Ingram's part number",
            "vendor_number": "Ingram's number of the vendor",
            "vendor_name": "manufacturer",
            "description": "the file's description",
            "vendor_part_number": "the manufacturer's part number",
            "upc": "UPC / EAN barcode",
            "category": "category/subcategory code",
            "customer_price": f"your price in the file (not guaranteed: P&A wins), {MONEY}",
            "retail_price": f"the suggested retail price in the file, {MONEY}",
            "currency": "currency of the prices",
            "available": "whether the file says some warehouse has stock",
            "quantity": "units in stock, where the layout gives them",
            "expected_at": "when stock is expected, where the layout gives it",
            "status": "the file's status: discontinued, to be discontinued, deleted by vendor",
            "substitute_part_number": "the part number the file names to replace it",
            "weight": "weight, as the file gives it",
            "length": "length",
            "width": "width",
            "height": "height",
            "price_changed": "the file's price-change flag",
            "special_price": "the file's special-price flag",
            "new_item": "the file's new-item flag",
            "cpu_code": "the file's CPU code",
            "media_type": "the file's media type",
            "file_date": "the date of the file it came from (UTC)",
            "load_id": "the catalog_loads row that loaded it",
        },
    ),
    "catalog_loads": (
        "One row per price file loaded.",
        {
            "id": "load number",
            "source": "where it came from (path or ftp://, sftp:// URL, no password)",
            "layout": "the layout detected",
            "kind": "full (replaces the catalog) or changes (A/C/D lines)",
            "file_date": "the file's date (UTC)",
            "started_at": "when the load began (UTC)",
            "finished_at": "when it ended (UTC)",
            "lines": "lines read",
            "products": "products in the catalog after it",
            "added": "products added (a changes file)",
            "changed": "products changed (a changes file)",
            "deleted": "products deleted (a changes file)",
            "tracked_changes": "changes rows it wrote for tracked products",
        },
    ),
    "mirror_targets": (
        "Each database the catalog is mirrored into: how far it has come.",
        {
            "target": "the target (URL without its password)",
            "change_cursor": "the catalog version mirrored",
            "pending_cursor": "the version a mirror under way is writing",
            "mirrored_at": "the last successful mirror (UTC)",
            "last_error": "the last failure, if any",
            "failed_at": "when it failed (UTC)",
        },
    ),
    "notify_feeds": (
        "Each change feed: the signed events sent, and what is pending.",
        {
            "channel": "a digest of the URL or command (hook URLs carry tokens)",
            "change_cursor": "the last change version delivered",
            "delivered": "events delivered",
            "delivered_at": "the last delivery (UTC)",
            "attempts": "failed attempts in a row",
            "next_attempt_at": "when it is tried again (UTC)",
            "last_error": "the last failure, if any",
            "failed_at": "when it failed (UTC)",
        },
    ),
    "webhook_counters": (
        "What the Stock Update receiver counted: topics ignored, resources skipped, set aside.",
        {"name": "what was counted", "count": "how many", "last_at": "the last one (UTC)"},
    ),
}
HIDDEN = {
    "change_clock": "the catalog's version counter and identity (the mirror's and feed's)",
    "removed_products": "products removed since, for the mirror to delete",
    "_migrations": "schema migrations applied",
    "product_documents": "the raw details documents, compressed (read them with products show)",
}
FACETS = {
    "products": ["vendor_name", "category", "status"],
    "failures": ["error_kind", "kind"],
    "changes": ["field", "source"],
    "runs": ["status", "kind"],
    "product_keys": ["status", "key_type"],
}
SORT_DESC = {"runs": "id", "changes": "id", "failures": "id", "webhook_events": "received_at"}
LABELS = {"products": "description", "product_keys": "key_value"}


def columns_of(db: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table of the database and its columns, as the file has them."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        table: [row[1] for row in db.execute(f"PRAGMA table_info('{table}')")] for table in tables
    }


def table_metadata(table: str, columns: list[str]) -> dict[str, Any]:
    """One table's description, its columns', facets and sort order (unknown ones said so)."""
    if table in HIDDEN:
        return {"hidden": True, "description": HIDDEN[table]}
    description, described = TABLES.get(table, ("(not described: from a newer ingram-sync)", {}))
    entry: dict[str, Any] = {
        "description": description,
        "columns": {name: described.get(name, "(not described)") for name in columns},
    }
    if table in FACETS:
        entry["facets"] = FACETS[table]
    if table in SORT_DESC:
        entry["sort_desc"] = SORT_DESC[table]
    if table in LABELS:
        entry["label_column"] = LABELS[table]
    return entry


def catalog_metadata(name: str, columns: Mapping[str, list[str]]) -> dict[str, Any]:
    """Datasette's metadata for the catalog database called ``name``."""
    return {
        "title": "ingram-sync catalog",
        "description": "Your Ingram Micro catalog as the last syncs left it, read-only."
        " Prices are in each product's currency; stock is in units.",
        "databases": {
            name: {
                "tables": {table: table_metadata(table, cols) for table, cols in columns.items()},
                "queries": CANNED_QUERIES,
            }
        },
        "plugins": {"datasette-dashboards": dashboards(name)},
    }
