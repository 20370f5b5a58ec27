"""Answers as strict (and as odd) as Ingram's: quota replies, countries, placeholder extras,
the query form of details.

Pure functions from settings and a request to a ``Reply``, like ``api``:

- quota replies in the vendor's words, under 429 (a client measured in production
  met it) and under a plain 403 (Europe's P&A notice words it; the status is a guess);
- a country Ingram does not serve refused (realistic mode), in the validation shape;
- the spec's own placeholders in P&A items (``"productAuthorized": "boolean"``, a
  quantity break ``"amount": "decimal"``) and a negative special price, as options;
- ``GET /resellers/v6/catalog/details?vendorPartNumber=``, answered as the spec says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.message import Message
from typing import Any

from . import api
from .api import Reply
from .catalog import Catalog
from .countries import served
from .seeded import encode_part_number

QUOTA_WORDS = {
    "quota_429": (429, "The quota limit exceeds for calls on your API app."),
    "quota_4xx": (403, "Quote limit violation - Number of request limit exceeded"),
}
PLACEHOLDER_BREAK = {
    "currencyType": "string",
    "amount": "decimal",
    "quantity": 0,
    "conditionType": "string",
    "currencyCode": "string",
}  # the spec's 200 example, as it is
NEGATIVE_SPECIAL = {
    "discountType": "Special Bid",
    "specialBidNumber": "SBNEG01",
    "specialPricingDiscount": -6.74,
    "specialPricingMinQuantity": 0,
    "specialPricingAvailableQuantity": 10,
}


def quota_reply(fault: str, reset_headers: Mapping[str, str]) -> Reply:
    """The vendor's quota reply; the window's headers come with it (Reset, Remaining 0)."""
    status, words = QUOTA_WORDS[fault]
    return api.json_reply(
        status, {"errors": [{"id": api.error_id(), "message": words}]}, reset_headers
    )


def country_refused(headers: Message) -> Reply | None:
    """A country Ingram does not serve: the validation error naming ``IM-CountryCode``."""
    country = headers.get("IM-CountryCode") or ""
    if served(country):
        return None
    message = f"IM-CountryCode {country!r} is not a country Ingram Micro serves"
    return api.validation_error([{"field": "IM-CountryCode", "value": country, "message": message}])


def odd_extras(reply: Reply, settings: Any) -> Reply:
    """P&A items with the spec's placeholders and a negative special price, as asked."""
    placeholders, negative = settings.placeholder_extras, settings.negative_special_pricing
    if not (placeholders or negative) or reply.status not in (200, 207):
        return reply
    items = json.loads(reply.body)
    for item in items:
        if item.get("productStatusCode") == "E":
            continue
        block = (item.setdefault("discounts", [{}]) or [{}])[0]
        if placeholders:
            item["productAuthorized"] = item["bundlePartIndicator"] = "boolean"
            block["quantityDiscounts"] = [dict(PLACEHOLDER_BREAK)]
        if negative:
            block["specialPricing"] = [dict(NEGATIVE_SPECIAL)]
        item["discounts"] = [block]
    return api.json_reply(reply.status, items, reply.headers)


def details_by_query(catalog: Catalog, query: Mapping[str, list[str]]) -> Reply:
    """``/catalog/details?vendorPartNumber=``: the first product of that vendor part number;
    ``planId``/``planName`` name subscriptions, of which the sandbox has none."""
    vendor_part_number = (query.get("vendorPartNumber") or [""])[0].strip()
    if not vendor_part_number:
        if query.get("planId") or query.get("planName"):
            return api.not_found()
        message = "To search for details pass either vendorPartNumber, planName or planId"
        return api.validation_error(
            [{"field": "vendorPartNumber", "value": "", "message": message}]
        )
    indices = catalog.find_key("vendorPartNumber", vendor_part_number)
    return api.details(catalog, encode_part_number(indices[0])) if indices else api.not_found()
