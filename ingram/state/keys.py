"""Products tracked by the keys resellers have: vendor part numbers, UPCs, customer part numbers.

A key waits in ``product_keys`` (status ``unresolved``) until a sync asks P&A
what it names. Resolved, its Ingram part number is tracked with the user's
key beside it (``products.user_key_type``/``user_key``), so an export joins on
it. A key naming several SKUs stays ``ambiguous`` with its candidates until the
user tracks one of them; a key naming none is ``not_found``.

Example::

    add_keys(store, [ProductKey("vendorPartNumber", "E2016HV")])
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from ingram.clock import utc_now
from ingram.models import KeyResolution, ProductKey
from ingram.state.products import INSERT_PRODUCT_SQL
from ingram.state.store import Store

KEY_FIELDS = ("key_type", "key_value", "status", "ingram_part_number", "candidates", "message")


def add_keys(store: Store, keys: Sequence[ProductKey]) -> tuple[int, int]:
    """Track products by keys; return (added, already known).

    A key given with its Ingram part number (a CSV row holding both) is
    resolved at once; the others wait for the next sync.
    """
    unique = list({(key.key_type, key.value): key for key in keys}.values())
    now = utc_now()
    added = 0
    with store.write() as db:
        for key in unique:
            pn = key.ingram_part_number
            added += db.execute(
                "INSERT OR IGNORE INTO product_keys (key_type, key_value, status,"
                " ingram_part_number, added_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?)",
                (key.key_type, key.value, "resolved" if pn else "unresolved", pn, now, pn and now),
            ).rowcount
            if pn:
                _track(db, key.key_type, key.value, pn, now)
    return added, len(unique) - added


def _track(db: sqlite3.Connection, key_type: str, value: str, pn: str, now: str) -> None:
    db.execute(INSERT_PRODUCT_SQL, (pn, now))
    db.execute(
        "UPDATE products SET user_key_type = ?, user_key = ? WHERE ingram_part_number = ?",
        (key_type, value, pn),
    )


def unresolved_keys(store: Store) -> list[ProductKey]:
    rows = store.db.execute(
        "SELECT key_type, key_value FROM product_keys WHERE status = 'unresolved' ORDER BY id"
    )
    return [ProductKey(row[0], row[1]) for row in rows]


def save_key_resolutions(store: Store, resolutions: Sequence[KeyResolution]) -> None:
    """Record what P&A said about each key; track the part number of each resolved one."""
    now = utc_now()
    with store.write() as db:
        for found in resolutions:
            pn = found.candidates[0] if found.status == "resolved" else None
            if pn:
                _track(db, found.key_type, found.value, pn, now)
            db.execute(
                "UPDATE product_keys SET status = ?, ingram_part_number = ?, candidates = ?,"
                " message = ?, resolved_at = ? WHERE key_type = ? AND key_value = ?",
                (
                    found.status,
                    pn,
                    json.dumps(found.candidates) if found.status == "ambiguous" else None,
                    found.message,
                    now,
                    found.key_type,
                    found.value,
                ),
            )


def keys_with_status(store: Store, status: str) -> list[dict[str, Any]]:
    """Keys in ``status`` (``ambiguous``, ``not_found``, ...), candidates as a list."""
    rows = store.db.execute(
        f"SELECT {', '.join(KEY_FIELDS)} FROM product_keys WHERE status = ? ORDER BY id",
        (status,),
    )
    out = []
    for row in rows:
        item = dict(row)
        item["candidates"] = json.loads(item["candidates"]) if item["candidates"] else []
        out.append(item)
    return out


def choose_candidates(store: Store, part_numbers: Sequence[str]) -> int:
    """Resolve each ambiguous key to the one of its candidates the user just tracked.

    Returns how many keys that settled. A key two of whose candidates were
    tracked stays ambiguous: the user still has to choose.
    """
    chosen = set(part_numbers)
    settled = 0
    now = utc_now()
    with store.write() as db:
        for key in keys_with_status(store, "ambiguous"):
            picked = [pn for pn in key["candidates"] if pn in chosen]
            if len(picked) != 1:
                continue
            _track(db, key["key_type"], key["key_value"], picked[0], now)
            db.execute(
                "UPDATE product_keys SET status = 'resolved', ingram_part_number = ?,"
                " resolved_at = ? WHERE key_type = ? AND key_value = ?",
                (picked[0], now, key["key_type"], key["key_value"]),
            )
            settled += 1
    return settled


def forget_keys(store: Store, part_numbers: Sequence[str]) -> None:
    """Keys of products no longer tracked go too, so adding the key again tracks it again."""
    with store.write() as db:
        db.executemany(
            "DELETE FROM product_keys WHERE ingram_part_number = ?",
            [(pn,) for pn in part_numbers],
        )
