"""Turn the vendor's JSON answers into the project's data classes.

Pure functions, no HTTP. Every function here either returns a value or raises
``MalformedResponse``: no ``KeyError``, ``TypeError`` or ``RecursionError``
leaks out, whatever the payload holds. The parsers are tolerant of the quirks
Ingram's API is known for (see DESIGN.md, "What the vendor documents"):
``warehouseId`` as a string or a number, warehouse entries holding only an id,
missing numbers, ``pricing`` nested inside ``availability``, flags sent as the
strings "True"/"False", ``productSubcategory``/``productSubCategory``, UPCs as
strings or numbers, ``expires_in`` as a string or a number.

Money is ``Decimal``: the client decodes JSON with ``parse_float=Decimal`` (see
``loads``), and a float handed in directly is converted through ``str`` so
74.34 stays ``Decimal("74.34")``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ingram.api import shop_parsing
from ingram.api.values import (
    MAX_QUANTITY,
    as_array,
    as_flag,
    as_mapping,
    as_money,
    as_quantity,
    as_text,
    first_of,
    loads,
    malformed,
    plain_json,
    stock_count,
)
from ingram.errors import MalformedResponse
from ingram.models import PriceAvailability, ProductDetails, SearchResult, WarehouseStock
from ingram.policy import Trigger

__all__ = [
    "error_message",
    "loads",
    "parse_details",
    "parse_price_availability",
    "parse_search_page",
    "parse_token",
]

MAX_TOKEN_LIFETIME = 366 * 86400.0
DEFAULT_TOKEN_LIFETIME = 3600.0
MAX_MESSAGE = 300


# ---------------------------------------------------------------- price and availability


def parse_price_availability(payload: Any) -> list[PriceAvailability]:
    """The P&A answer (a JSON array, HTTP 200 or 207) as one item per product.

    An item with ``productStatusCode`` "E" is ``found=False`` with the vendor's
    message: that is data, not an error.
    """
    if not isinstance(payload, list):
        raise malformed(f"P&A answer is a {type(payload).__name__}, not a list")
    return [_pa_item_or_problem(item) for item in payload]


def _pa_item_or_problem(item: Any) -> PriceAvailability:
    """One bad item fails that item only: it comes back with ``problem`` naming it."""
    try:
        return _pa_item(item)
    except MalformedResponse as exc:
        get = item.get if isinstance(item, Mapping) else (lambda key: None)
        number = get("ingramPartNumber")
        part_number = number.strip() if isinstance(number, str) else ""
        vendor_pn, upc = get("vendorPartNumber"), get("upc")
        return PriceAvailability(
            part_number,
            found=False,
            problem=f"P&A item {part_number or '(no part number)'}: {exc}",
            vendor_part_number=vendor_pn.strip() if isinstance(vendor_pn, str) else None,
            upc=upc.strip() if isinstance(upc, str) else None,
        )


NOT_AUTHORIZED_WORDS = ("not authorized", "not authorised", "unauthorized")


def _pa_item(item: Any) -> PriceAvailability:
    # Hot path (50 items an answer): a str field is checked inline; any other type takes
    # ``_text`` and friends, which accept or reject it exactly as before.
    if type(item) is not dict and not isinstance(item, Mapping):
        raise malformed("a P&A item is not an object")
    get = item.get
    odd: list[str] = []  # extras sent unlike the schema: dropped, the price and stock kept
    part_number = as_text(get("ingramPartNumber"), "ingramPartNumber") or ""
    status = as_text(get("productStatusCode"), "productStatusCode")
    message = as_text(get("productStatusMessage"), "productStatusMessage")
    shop = shop_parsing.parse_shop_flags(item, odd)
    authorized = shop.product_authorized
    if status is not None and status.upper() == "E":
        if any(words in (message or "").lower() for words in NOT_AUTHORIZED_WORDS):
            authorized = False
        return PriceAvailability(
            part_number, found=False, message=message, status_code=status, authorized=authorized
        )
    availability = as_mapping(get("availability"), "availability") or {}
    pricing = as_mapping(get("pricing"), "pricing")
    if pricing is None:  # one published example nests pricing inside availability
        pricing = as_mapping(availability.get("pricing"), "availability.pricing")
    pricing = pricing or {}
    vendor_pn = get("vendorPartNumber")
    vendor_pn = (
        (vendor_pn.strip() or None)
        if type(vendor_pn) is str
        else as_text(vendor_pn, "vendorPartNumber")
    )
    upc = get("upc")
    upc = (upc.strip() or None) if type(upc) is str else as_text(upc, "upc")
    vendor = get("vendorName")
    vendor = (vendor.strip() or None) if type(vendor) is str else as_text(vendor, "vendorName")
    text = get("description")
    text = (text.strip() or None) if type(text) is str else as_text(text, "description")
    klass = get("productClass")
    klass = (klass.strip() or None) if type(klass) is str else as_text(klass, "productClass")
    customer = as_money(pricing.get("customerPrice"), "customerPrice")
    retail = as_money(pricing.get("retailPrice"), "retailPrice")
    map_price = as_money(pricing.get("mapPrice"), "mapPrice")
    currency = pricing.get("currencyCode")
    currency = (
        (currency.strip() or None) if type(currency) is str else as_text(currency, "currencyCode")
    )
    available = availability.get("available")
    if available is not True and available is not False:
        available = as_flag(available, "available")
    total = availability.get("totalAvailability")
    if type(total) is not int or not 0 <= total < MAX_QUANTITY:
        total = stock_count(total, "totalAvailability", odd)
    return PriceAvailability(
        ingram_part_number=part_number,
        found=True,
        message=message,
        status_code=status,
        authorized=authorized,
        vendor_part_number=vendor_pn,
        upc=upc,
        vendor_name=vendor,
        description=text,
        product_class=klass,
        customer_price=customer,
        retail_price=retail,
        map_price=map_price,
        currency=currency,
        available=available,
        total_availability=total,
        warehouses=_warehouses(availability.get("availabilityByWarehouse"), odd),
        shop=shop,
        odd_fields=tuple(dict.fromkeys(odd)),
    )


def _warehouses(value: Any, odd: list[str]) -> tuple[WarehouseStock, ...]:
    """The stock entries, checked like ``_text``/``_quantity`` do, with their common case inline."""
    stocks: list[WarehouseStock] = []
    append = stocks.append
    for entry in as_array(value, "availabilityByWarehouse"):
        if type(entry) is not dict and not isinstance(entry, Mapping):
            raise malformed("a warehouse entry is not an object")
        get = entry.get
        warehouse_id = get("warehouseId")
        warehouse_id = (
            (warehouse_id.strip() or None)
            if type(warehouse_id) is str
            else as_text(warehouse_id, "warehouseId")
        )
        if warehouse_id is None:  # the schema allows a null id; such an entry says nothing
            continue
        location = get("location")
        location = (
            (location.strip() or None) if type(location) is str else as_text(location, "location")
        )
        available = get("quantityAvailable")
        if type(available) is not int or not 0 <= available < MAX_QUANTITY:
            available = stock_count(available, "quantityAvailable", odd)
        backordered = get("quantityBackordered")
        if type(backordered) is not int or not 0 <= backordered < MAX_QUANTITY:
            backordered = stock_count(backordered, "quantityBackordered", odd)
        extra = shop_parsing.backorder_fields(entry, odd)
        append(WarehouseStock(warehouse_id, location, available, backordered, *extra))
    return tuple(stocks)


# ---------------------------------------------------------------- details, search, token


def parse_details(part_number: str, payload: Any) -> ProductDetails:
    """A details document (HTTP 200); ``raw`` keeps the whole document as plain JSON types."""
    if not isinstance(payload, Mapping):
        raise malformed(f"details answer is a {type(payload).__name__}, not an object")
    if ("errors" in payload or "fault" in payload) and "ingramPartNumber" not in payload:
        # An error body with status 200 (gateways do this) must not be saved as empty details.
        raise malformed(f"details answer is an error, not a product: {error_message(payload)}")
    raw = plain_json(payload)
    return ProductDetails(
        ingram_part_number=part_number,
        found=True,
        vendor_part_number=as_text(payload.get("vendorPartNumber"), "vendorPartNumber"),
        upc=as_text(payload.get("upc"), "upc"),
        vendor_name=as_text(payload.get("vendorName"), "vendorName"),
        description=as_text(payload.get("description"), "description"),
        category=as_text(first_of(payload, "productCategory", "category"), "productCategory"),
        subcategory=as_text(
            first_of(payload, "productSubcategory", "productSubCategory", "subCategory"),
            "productSubcategory",
        ),
        product_class=as_text(payload.get("productClass"), "productClass"),
        authorized=shop_parsing.lenient(
            as_flag, payload.get("productAuthorized"), "productAuthorized"
        ),
        raw=raw,
        extras=shop_parsing.parse_details_extras(payload),
    )


def parse_search_page(payload: Any) -> tuple[list[SearchResult], bool]:
    """One page of a catalog search: its products and whether another page follows."""
    if not isinstance(payload, Mapping):
        raise malformed(f"search answer is a {type(payload).__name__}, not an object")
    results = []
    for item in as_array(payload.get("catalog"), "catalog"):
        if not isinstance(item, Mapping):
            raise malformed("a search item is not an object")
        part_number = as_text(item.get("ingramPartNumber"), "ingramPartNumber")
        if part_number is None:
            continue  # subscription groups and plans carry no part number
        results.append(
            SearchResult(
                ingram_part_number=part_number,
                vendor_part_number=as_text(item.get("vendorPartNumber"), "vendorPartNumber"),
                vendor_name=as_text(item.get("vendorName"), "vendorName"),
                description=as_text(item.get("description"), "description"),
                category=as_text(item.get("category"), "category"),
                subcategory=as_text(first_of(item, "subCategory", "subcategory"), "subCategory"),
                upc=as_text(first_of(item, "upcCode", "upc"), "upcCode"),
                product_type=as_text(item.get("productType"), "productType"),
                discontinued=as_flag(item.get("discontinued"), "discontinued"),
                replacement_sku=as_text(item.get("replacementSku"), "replacementSku"),
            )
        )
    return results, bool(results) and _has_next(payload)


def _has_next(payload: Mapping[str, Any]) -> bool:
    if "nextPage" in payload:
        return as_text(payload.get("nextPage"), "nextPage") is not None
    found = as_quantity(payload.get("recordsFound"), "recordsFound")
    number = as_quantity(payload.get("pageNumber"), "pageNumber")
    size = as_quantity(payload.get("pageSize"), "pageSize")
    if found is None or number is None or not size:
        return False
    return number * size < found


TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")


def parse_token(payload: Any) -> tuple[str, float]:
    """The token answer: ``(access_token, expires_in seconds)``; a missing lifetime means 1 h."""
    if not isinstance(payload, Mapping):
        raise malformed("token answer is not an object")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token.strip() or len(token) > 8192:
        raise malformed("token answer has no access_token")
    if not TOKEN_CHARACTERS.fullmatch(token.strip()):  # a CR/LF would break every request's headers
        raise malformed("token answer's access_token holds characters no header can carry")
    raw_lifetime = payload.get("expires_in")
    if raw_lifetime is None or raw_lifetime == "":
        return token.strip(), DEFAULT_TOKEN_LIFETIME
    lifetime = as_money(raw_lifetime, "expires_in")
    if lifetime is None or not 0 < lifetime <= Decimal(MAX_TOKEN_LIFETIME):
        raise malformed("token answer has an impossible expires_in")
    return token.strip(), float(lifetime)


def error_message(payload: Any) -> str | None:
    """The vendor's error text from ``{"errors": [...]}``, ``{"fault": ...}`` or ``{"message"}``.

    Never raises; returns one line of at most 300 characters, or None.
    """
    try:
        text = _error_text(payload)
    except Exception:  # an error body is a hint only; never let it mask the real error
        return None
    if not text:
        return None
    line = " ".join(text.split())
    return line[: MAX_MESSAGE - 3] + "..." if len(line) > MAX_MESSAGE else line or None


def _error_text(payload: Any) -> str | None:
    if not isinstance(payload, Mapping):
        return None
    errors = payload.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, Mapping) and isinstance(error.get("message"), str):
                return error["message"] + _field_messages(error.get("fields"))
    fault = payload.get("fault")
    if isinstance(fault, Mapping) and isinstance(fault.get("faultstring"), str):
        return fault["faultstring"]
    for key in ("faultstring", "message", "error_description", "error"):
        if isinstance(payload.get(key), str):
            return payload[key]
    return None


QUOTA_WORDS = ("quota limit exceeds", "quote limit violation")


def account_fault(status: int, payload: Any) -> Trigger | None:
    """The trigger when an answer is an error no item caused (``ingram.policy`` says what then).

    The gateway's top-level ``{"faultcode", "faultstring"}`` (a customer number
    the credentials do not own), a quota reply under any status, a 400 naming
    the ``IM-*`` headers, a 401/403 "apiproduct" fault (the app lacks the API
    product), and a 404 in the gateway's ``{"fault"}`` shape (no API at that
    URL). None for anything else, including a 400 about the body.
    """
    if not isinstance(payload, Mapping):
        return None
    if status == 404 and isinstance(payload.get("fault"), Mapping):
        return Trigger.NO_API_AT_URL
    text = (error_message(payload) or "").lower()
    if 400 <= status < 500 and status != 429 and "apiproduct" in text:
        return Trigger.API_PRODUCT_MISSING if status in (401, 403) else Trigger.API_PRODUCT_FAULT
    if any(word in text for word in QUOTA_WORDS):
        return Trigger.QUOTA_REPLY
    if isinstance(payload.get("faultstring"), str):
        return Trigger.GATEWAY_FAULT
    if status == 400 and _names_im_headers(payload.get("errors")):
        return Trigger.HEADERS_REFUSED
    return None


def _names_im_headers(errors: Any) -> bool:
    fields = [
        field
        for error in (errors if isinstance(errors, list) else [])
        if isinstance(error, Mapping) and isinstance(error.get("fields"), list)
        for field in error["fields"]
        if isinstance(field, Mapping)
    ]
    return any(str(field.get("field") or "").upper().startswith("IM-") for field in fields)


def _field_messages(fields: Any) -> str:
    if not isinstance(fields, list):
        return ""
    parts = [
        f"{field.get('field')}: {field.get('message')}"
        for field in fields[:5]
        if isinstance(field, Mapping) and isinstance(field.get("message"), str)
    ]
    return f" ({'; '.join(parts)})" if parts else ""
