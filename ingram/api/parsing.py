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

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ingram.errors import MalformedResponse
from ingram.models import PriceAvailability, ProductDetails, SearchResult, WarehouseStock

__all__ = [
    "error_message",
    "loads",
    "parse_details",
    "parse_price_availability",
    "parse_search_page",
    "parse_token",
]

MAX_MONEY = Decimal("1e12")  # no price of a product reaches a trillion
MIN_MONEY_EXPONENT = -10  # more than 10 decimal places is not a price
MAX_QUANTITY = 10**12
MAX_DEPTH = 64  # the vendor's documents nest about 5 deep
MAX_TOKEN_LIFETIME = 366 * 86400.0
DEFAULT_TOKEN_LIFETIME = 3600.0
MAX_MESSAGE = 300
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def _bad(what: str) -> MalformedResponse:
    return MalformedResponse(f"unexpected answer from the Ingram API: {what}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def loads(body: bytes | str) -> Any:
    """Decode a JSON body: floats as ``Decimal``; NaN, Infinity and junk raise MalformedResponse."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError, TypeError) as exc:
        raise _bad(f"not JSON ({type(exc).__name__})") from None


# ---------------------------------------------------------------- field helpers


def _get(obj: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present with a non-null value (key case varies)."""
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any, field: str) -> str | None:
    """A string field; numbers become their text (a UPC sent as a number); empty -> None."""
    if type(value) is str:  # the common case first: one check, no isinstance chain
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad(f"{field} is a boolean")
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        if abs(value) >= 10**40:
            raise _bad(f"{field} is an absurd number")
        return str(value)
    if isinstance(value, (Decimal, float)):
        number = _decimal(value, field)
        if number == number.to_integral_value():
            return str(int(number))
        return str(number)
    raise _bad(f"{field} is a {type(value).__name__}, not text")


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**40:
            raise _bad(f"{field} is an absurd number")
        number = Decimal(value)
    else:
        raise _bad(f"{field} is a {type(value).__name__}, not a number")
    # adjusted() needs no arithmetic context: abs() of 1e1000000 would raise decimal.Overflow.
    if not number.is_finite() or number.adjusted() >= 40:
        raise _bad(f"{field} is not a finite number")
    return number


def _money(value: Any, field: str) -> Decimal | None:
    """A price: a JSON number (or numeric text), finite, 0 or more, below a trillion, at most
    10 decimals. A negative price is no price a reseller can use: the item is malformed."""
    if type(value) is Decimal and value.is_finite():  # what ``loads`` gives: the checks inline
        exponent = value.as_tuple().exponent
        if 0 <= value < MAX_MONEY and exponent >= MIN_MONEY_EXPONENT:  # type: ignore[operator]
            return value  # anything else takes the general path below, which says why
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise _bad(f"{field} is not a number") from None
    number = _decimal(value, field)
    exponent = number.as_tuple().exponent
    if abs(number) >= MAX_MONEY or (isinstance(exponent, int) and exponent < MIN_MONEY_EXPONENT):
        raise _bad(f"{field} is out of range")
    if number < 0:
        raise _bad(f"{field} is negative")
    return number


def _quantity(value: Any, field: str) -> int | None:
    """A count: an integer (or integral number or digits as text) below 10**12 in size."""
    if type(value) is int and -MAX_QUANTITY < value < MAX_QUANTITY:  # the common case (no bool)
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(f"{field} is a boolean")
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            raise _bad(f"{field} is not a whole number")
        value = int(text)
    if not isinstance(value, int):
        number = _decimal(value, field)
        if number != number.to_integral_value():
            raise _bad(f"{field} is not a whole number")
        value = int(number)
    if abs(value) >= MAX_QUANTITY:
        raise _bad(f"{field} is out of range")
    return value


def _flag(value: Any, field: str) -> bool | None:
    """A boolean sent as true/false or as the text "True"/"False"."""
    if value is True or value is False:
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _bad(f"{field} is not a boolean")


def _mapping(value: Any, field: str) -> Mapping[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    if not isinstance(value, Mapping):
        raise _bad(f"{field} is a {type(value).__name__}, not an object")
    return value


def _array(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list and not isinstance(value, list):
        raise _bad(f"{field} is a {type(value).__name__}, not a list")
    return value


def _plain_json(value: Any, depth: int = 0) -> Any:
    """A copy with Decimals made plain numbers, so the raw document dumps as JSON."""
    if depth > MAX_DEPTH:
        raise _bad("the document is nested too deeply")
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v, depth + 1) for v in value]
    if isinstance(value, (Decimal, float)):
        number = _decimal(value, "a number")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(number)
        as_float = float(number)
        if not math.isfinite(as_float):
            raise _bad("a number is out of range")
        return as_float
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise _bad(f"a {type(value).__name__} in the document")


# ---------------------------------------------------------------- price and availability


def parse_price_availability(payload: Any) -> list[PriceAvailability]:
    """The P&A answer (a JSON array, HTTP 200 or 207) as one item per product.

    An item with ``productStatusCode`` "E" is ``found=False`` with the vendor's
    message: that is data, not an error.
    """
    if not isinstance(payload, list):
        raise _bad(f"P&A answer is a {type(payload).__name__}, not a list")
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
        raise _bad("a P&A item is not an object")
    get = item.get
    part_number = _text(get("ingramPartNumber"), "ingramPartNumber") or ""
    status = _text(get("productStatusCode"), "productStatusCode")
    message = _text(get("productStatusMessage"), "productStatusMessage")
    authorized = _flag(get("productAuthorized"), "productAuthorized")
    if status is not None and status.upper() == "E":
        if any(words in (message or "").lower() for words in NOT_AUTHORIZED_WORDS):
            authorized = False
        return PriceAvailability(
            part_number, found=False, message=message, status_code=status, authorized=authorized
        )
    availability = _mapping(get("availability"), "availability") or {}
    pricing = _mapping(get("pricing"), "pricing")
    if pricing is None:  # one published example nests pricing inside availability
        pricing = _mapping(availability.get("pricing"), "availability.pricing")
    pricing = pricing or {}
    vendor_pn = get("vendorPartNumber")
    vendor_pn = (
        (vendor_pn.strip() or None)
        if type(vendor_pn) is str
        else _text(vendor_pn, "vendorPartNumber")
    )
    upc = get("upc")
    upc = (upc.strip() or None) if type(upc) is str else _text(upc, "upc")
    vendor = get("vendorName")
    vendor = (vendor.strip() or None) if type(vendor) is str else _text(vendor, "vendorName")
    text = get("description")
    text = (text.strip() or None) if type(text) is str else _text(text, "description")
    klass = get("productClass")
    klass = (klass.strip() or None) if type(klass) is str else _text(klass, "productClass")
    customer = _money(pricing.get("customerPrice"), "customerPrice")
    retail = _money(pricing.get("retailPrice"), "retailPrice")
    map_price = _money(pricing.get("mapPrice"), "mapPrice")
    currency = pricing.get("currencyCode")
    currency = (
        (currency.strip() or None) if type(currency) is str else _text(currency, "currencyCode")
    )
    available = availability.get("available")
    if available is not True and available is not False:
        available = _flag(available, "available")
    total = availability.get("totalAvailability")
    if type(total) is not int or not -MAX_QUANTITY < total < MAX_QUANTITY:
        total = _quantity(total, "totalAvailability")
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
        warehouses=_warehouses(availability.get("availabilityByWarehouse")),
        shop=shop_parsing.parse_shop_flags(item),
    )


def _warehouses(value: Any) -> tuple[WarehouseStock, ...]:
    """The stock entries, checked like ``_text``/``_quantity`` do, with their common case inline."""
    stocks: list[WarehouseStock] = []
    append = stocks.append
    for entry in _array(value, "availabilityByWarehouse"):
        if type(entry) is not dict and not isinstance(entry, Mapping):
            raise _bad("a warehouse entry is not an object")
        get = entry.get
        warehouse_id = get("warehouseId")
        warehouse_id = (
            (warehouse_id.strip() or None)
            if type(warehouse_id) is str
            else _text(warehouse_id, "warehouseId")
        )
        if warehouse_id is None:  # the schema allows a null id; such an entry says nothing
            continue
        location = get("location")
        location = (
            (location.strip() or None) if type(location) is str else _text(location, "location")
        )
        available = get("quantityAvailable")
        if type(available) is not int or not -MAX_QUANTITY < available < MAX_QUANTITY:
            available = _quantity(available, "quantityAvailable")
        backordered = get("quantityBackordered")
        if type(backordered) is not int or not -MAX_QUANTITY < backordered < MAX_QUANTITY:
            backordered = _quantity(backordered, "quantityBackordered")
        extra = shop_parsing.backorder_fields(entry)
        append(WarehouseStock(warehouse_id, location, available, backordered, *extra))
    return tuple(stocks)


# ---------------------------------------------------------------- details, search, token


def parse_details(part_number: str, payload: Any) -> ProductDetails:
    """A details document (HTTP 200); ``raw`` keeps the whole document as plain JSON types."""
    if not isinstance(payload, Mapping):
        raise _bad(f"details answer is a {type(payload).__name__}, not an object")
    if ("errors" in payload or "fault" in payload) and "ingramPartNumber" not in payload:
        # An error body with status 200 (gateways do this) must not be saved as empty details.
        raise _bad(f"details answer is an error, not a product: {error_message(payload)}")
    raw = _plain_json(payload)
    return ProductDetails(
        ingram_part_number=part_number,
        found=True,
        vendor_part_number=_text(payload.get("vendorPartNumber"), "vendorPartNumber"),
        upc=_text(payload.get("upc"), "upc"),
        vendor_name=_text(payload.get("vendorName"), "vendorName"),
        description=_text(payload.get("description"), "description"),
        category=_text(_get(payload, "productCategory", "category"), "productCategory"),
        subcategory=_text(
            _get(payload, "productSubcategory", "productSubCategory", "subCategory"),
            "productSubcategory",
        ),
        product_class=_text(payload.get("productClass"), "productClass"),
        authorized=_flag(payload.get("productAuthorized"), "productAuthorized"),
        raw=raw,
        extras=shop_parsing.parse_details_extras(payload),
    )


def parse_search_page(payload: Any) -> tuple[list[SearchResult], bool]:
    """One page of a catalog search: its products and whether another page follows."""
    if not isinstance(payload, Mapping):
        raise _bad(f"search answer is a {type(payload).__name__}, not an object")
    results = []
    for item in _array(payload.get("catalog"), "catalog"):
        if not isinstance(item, Mapping):
            raise _bad("a search item is not an object")
        part_number = _text(item.get("ingramPartNumber"), "ingramPartNumber")
        if part_number is None:
            continue  # subscription groups and plans carry no part number
        results.append(
            SearchResult(
                ingram_part_number=part_number,
                vendor_part_number=_text(item.get("vendorPartNumber"), "vendorPartNumber"),
                vendor_name=_text(item.get("vendorName"), "vendorName"),
                description=_text(item.get("description"), "description"),
                category=_text(item.get("category"), "category"),
                subcategory=_text(_get(item, "subCategory", "subcategory"), "subCategory"),
                upc=_text(_get(item, "upcCode", "upc"), "upcCode"),
                product_type=_text(item.get("productType"), "productType"),
                discontinued=_flag(item.get("discontinued"), "discontinued"),
                replacement_sku=_text(item.get("replacementSku"), "replacementSku"),
            )
        )
    return results, bool(results) and _has_next(payload)


def _has_next(payload: Mapping[str, Any]) -> bool:
    if "nextPage" in payload:
        return _text(payload.get("nextPage"), "nextPage") is not None
    found = _quantity(payload.get("recordsFound"), "recordsFound")
    number = _quantity(payload.get("pageNumber"), "pageNumber")
    size = _quantity(payload.get("pageSize"), "pageSize")
    if found is None or number is None or not size:
        return False
    return number * size < found


TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")


def parse_token(payload: Any) -> tuple[str, float]:
    """The token answer: ``(access_token, expires_in seconds)``; a missing lifetime means 1 h."""
    if not isinstance(payload, Mapping):
        raise _bad("token answer is not an object")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token.strip() or len(token) > 8192:
        raise _bad("token answer has no access_token")
    if not TOKEN_CHARACTERS.fullmatch(token.strip()):  # a CR/LF would break every request's headers
        raise _bad("token answer's access_token holds characters no header can carry")
    raw_lifetime = payload.get("expires_in")
    if raw_lifetime is None or raw_lifetime == "":
        return token.strip(), DEFAULT_TOKEN_LIFETIME
    lifetime = _money(raw_lifetime, "expires_in")
    if lifetime is None or not 0 < lifetime <= Decimal(MAX_TOKEN_LIFETIME):
        raise _bad("token answer has an impossible expires_in")
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


def account_fault(status: int, payload: Any) -> str | None:
    """ "configuration" or "credentials" when an answer is an error no item caused.

    The gateway's top-level ``{"faultcode", "faultstring"}`` (a customer number
    the credentials do not own), a quota reply under any status, a 400 naming
    the ``IM-*`` headers, a 401/403 "apiproduct" fault (the app lacks the API
    product), and a 404 in the gateway's ``{"fault"}`` shape (no API at that
    URL). None for anything else, including a 400 about the body.
    """
    if not isinstance(payload, Mapping):
        return None
    if status == 404 and isinstance(payload.get("fault"), Mapping):
        return "configuration"
    text = (error_message(payload) or "").lower()
    if 400 <= status < 500 and status != 429 and "apiproduct" in text:
        return "credentials" if status in (401, 403) else "configuration"
    if isinstance(payload.get("faultstring"), str) or any(w in text for w in QUOTA_WORDS):
        return "configuration"
    if status == 400 and _names_im_headers(payload.get("errors")):
        return "configuration"
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


# Last, because the shop's fields (their own module) are parsed with the helpers above.
from ingram.api import shop_parsing  # noqa: E402
