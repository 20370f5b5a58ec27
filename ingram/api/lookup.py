"""Matching a P&A answer to the reseller's keys it was asked by (no HTTP).

P&A takes ``vendorPartNumber``, ``upc`` and ``customerPartNumber`` in place of
``ingramPartNumber``, mixed in one request. The answer is one item per SKU
found, echoing the key's field, or an "E" item naming the key. A key that
several SKUs answer is ambiguous: reported with its candidates, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingram.api.values import as_text, malformed
from ingram.models import KeyResolution, ProductKey

KEY_TYPES = ("vendorPartNumber", "upc", "customerPartNumber")


def normalized(key_type: str, value: str) -> str:
    """How the vendor compares a key: case-blind, and a UPC without its leading zeros."""
    text = value.strip().upper()
    return text.lstrip("0") if key_type == "upc" else text


def request_products(keys: Sequence[ProductKey]) -> list[dict[str, str]]:
    """The ``products`` entries of a P&A request asking by these keys."""
    return [{key.key_type: key.value} for key in keys]


def match_keys(keys: Sequence[ProductKey], payload: Any) -> list[KeyResolution]:
    """One resolution per key, from the P&A answer to ``request_products(keys)``."""
    if not isinstance(payload, list):
        raise malformed(f"P&A answer is a {type(payload).__name__}, not a list")
    found: dict[tuple[str, str], list[str]] = {}
    messages: dict[tuple[str, str], str | None] = {}
    for item in payload:
        if not isinstance(item, Mapping):
            raise malformed("a P&A item is not an object")
        part_number = as_text(item.get("ingramPartNumber"), "ingramPartNumber")
        failed = (as_text(item.get("productStatusCode"), "productStatusCode") or "").upper() == "E"
        for key_type in KEY_TYPES:
            echoed = as_text(item.get(key_type), key_type)
            if echoed is None:
                continue
            slot = (key_type, normalized(key_type, echoed))
            if failed or part_number is None:
                messages[slot] = as_text(item.get("productStatusMessage"), "productStatusMessage")
            elif part_number.upper() not in found.setdefault(slot, []):
                found[slot].append(part_number.upper())
    return [_resolution(key, found, messages) for key in keys]


def _resolution(
    key: ProductKey,
    found: Mapping[tuple[str, str], list[str]],
    messages: Mapping[tuple[str, str], str | None],
) -> KeyResolution:
    slot = (key.key_type, normalized(key.key_type, key.value))
    candidates = tuple(found.get(slot, ()))
    if len(candidates) == 1:
        return KeyResolution(key.key_type, key.value, "resolved", candidates)
    if candidates:
        return KeyResolution(key.key_type, key.value, "ambiguous", candidates)
    message = messages.get(slot) or "the vendor's answer named no product for this key"
    return KeyResolution(key.key_type, key.value, "not_found", (), message)
