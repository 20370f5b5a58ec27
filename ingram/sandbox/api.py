"""Vendor-shaped answers: validation, errors and the three catalog endpoints.

Everything here is a pure function from a request to a ``Reply`` so the
HTTP plumbing (``handler``) stays about sockets and the vendor's quirks stay
in one place.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlencode

from .catalog import Catalog, refused_item
from .identifiers import KEY_TYPES
from .seeded import encode_part_number

MAX_PA_PRODUCTS = 50
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
VENDOR_RATE_LIMIT = 60  # per minute per endpoint (portal); shown on injected 429s
SEARCH_PATH = "/resellers/v6/catalog"
SEARCH_TYPES = ("im::physical", "im::digital", "im::any")  # the spec's enum of ``type``
DETAILS_COUNTRIES = frozenset({"US", "IN", "NL"})  # the spec: details only in these countries
CUSTOMER_FAULT = (
    "Invalid customer number. The customer number provided on the API call does not match"
    " the registered customer number."
)

_HEADER_RULES: tuple[tuple[str, int, bool, bool], ...] = (
    # name, max length, exact length, required
    ("IM-CustomerNumber", 10, False, True),
    ("IM-CountryCode", 2, True, True),
    ("IM-CorrelationID", 32, False, True),
    ("IM-SenderID", 32, False, False),
)

_HTML_503 = (
    "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service "
    "your request due to maintenance downtime or capacity problems. Please try again "
    "later.</p></body></html>"
)

_MALFORMED_BODIES: tuple[bytes, ...] = (
    b'[{"ingramPartNumber": "',
    b"<html><body>Gateway response</body></html>",
    b'{"errors": [{"message": "upstream"}]',
    b"\x00\xff not json at all",
)


@dataclass
class Reply:
    """One answer; ``transport`` says how the socket misbehaves, if at all."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    transport: str = "normal"  # normal | drop | truncate


def json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """Compact JSON, so prices go on the wire as written (74.34)."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, "application/json", dict(headers or {}))


def error_id() -> str:
    """Looks like the vendor's ids: a tag plus a timestamp with offset."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    return f"C{secrets.token_hex(2).upper()}-sandbox-{stamp}"


def validation_error(fields: list[dict[str, Any]]) -> Reply:
    """400 in the vendor's documented ``validation-failed`` shape."""
    return json_reply(
        400,
        {
            "errors": [
                {
                    "id": error_id(),
                    "type": "/errors/validation-failed",
                    "message": "Validation failed",
                    "fields": fields,
                }
            ]
        },
    )


def system_error(status: int = 500) -> Reply:
    """The vendor's generic 5xx JSON body."""
    message = "Some unexpected error occurred, please contact support team for more details."
    return json_reply(
        status,
        {"errors": [{"id": error_id(), "type": "/errors/system-errors", "message": message}]},
    )


def html_503() -> Reply:
    """What a load balancer in maintenance sends: HTML, not JSON."""
    return Reply(503, _HTML_503.encode(), "text/html; charset=utf-8")


def malformed(choice: int) -> Reply:
    """A 200 that claims JSON but is not."""
    return Reply(200, _MALFORMED_BODIES[choice % len(_MALFORMED_BODIES)], "application/json")


def not_found() -> Reply:
    """Details/search 404, exactly as the portal documents it."""
    return json_reply(404, {"errors": [{"message": "No Records Found"}]})


def unknown_path(path: str, realistic: bool) -> Reply:
    """A path no endpoint serves; realistic: the gateway's fault, unlike "No Records Found"."""
    if not realistic:
        return json_reply(404, {"errors": [{"message": "Resource not found"}]})
    fault = {
        "faultstring": f"Unable to identify proxy for host: default and url: {path[:200]}",
        "detail": {"errorcode": "messaging.adaptors.http.flow.ApplicationNotFound"},
    }
    return json_reply(404, {"fault": fault})


def gateway_check(settings: Any, headers: Message) -> Reply | None:
    """The gateway's top-level fault for a customer number the credentials do not own.

    The status is a guess (undocumented): 500, so a client that judges by the
    status alone would retry it for minutes.
    """
    registered = settings.registered_customer_number
    if registered is None or headers.get("IM-CustomerNumber") == registered:
        return None
    return json_reply(500, {"faultcode": "Server", "faultstring": CUSTOMER_FAULT})


def details_not_offered(country: str) -> Reply:
    """Details outside US/IN/NL: a 400 ``errors`` body (a guess: the spec only says so)."""
    message = f"Product details are not available for country code {country or '(none)'}"
    return json_reply(
        400,
        {"errors": [{"id": error_id(), "type": "/errors/validation-failed", "message": message}]},
    )


def spoil_items(reply: Reply, settings: Any) -> Reply:
    """P&A items refused as not authorized ("E"), losing their ``ingramPartNumber`` (public
    clients met it), or with ``customerPrice`` as localised text ("1,234.56")."""
    unnumbered, misformatted = settings.unnumbered_part_numbers, settings.misformatted_part_numbers
    refused = settings.refused_part_numbers
    if not (unnumbered or misformatted or refused):
        return reply
    items = json.loads(reply.body)
    if not isinstance(items, list):  # a validation error
        return reply
    for index, item in enumerate(items):
        pn = str(item.get("ingramPartNumber")).upper()
        if pn in misformatted and isinstance(item.get("pricing"), dict):
            item["pricing"]["customerPrice"] = "1,234.56"
        if pn in unnumbered:
            item.pop("ingramPartNumber")
        if pn in refused:
            items[index] = refused_item(pn)
    status = 207 if any(item.get("productStatusCode") == "E" for item in items) else reply.status
    return json_reply(status, items, reply.headers)


def rate_limited(
    limit: int | None, reset_in: float, retry_after: bool, window: float, clock_offset: float = 0.0
) -> Reply:
    """429 with the documented headers; Reset is a Unix time with milliseconds."""
    reply = json_reply(429, {"errors": [{"field": None, "message": "too many requests"}]})
    nominal = limit if limit is not None else VENDOR_RATE_LIMIT
    reply.headers.update(rate_headers(nominal, 0, reset_in, clock_offset))
    if retry_after:
        seconds = reset_in if reset_in > 0 else min(window, 1.0)
        reply.headers["Retry-After"] = _seconds_text(seconds)
    return reply


def rate_headers(
    limit: int, remaining: int, reset_in: float, clock_offset: float = 0.0
) -> dict[str, str]:
    """X-RateLimit-* headers for any answer of a limited endpoint (Reset by the vendor's clock,
    ``clock_offset`` seconds ahead of ours)."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": f"{time.time() + clock_offset + max(0.0, reset_in):.3f}",
    }


def _seconds_text(seconds: float) -> str:
    """Whole seconds like the vendor when possible; fractions in compressed tests."""
    if seconds >= 1.0:
        return str(int(seconds + 0.999))
    return f"{max(seconds, 0.001):.3f}".rstrip("0").rstrip(".")


def validate_headers(headers: Message) -> list[dict[str, Any]]:
    """Field errors for the IM-* headers, in the vendor's field-list shape."""
    problems: list[dict[str, Any]] = []
    for name, max_len, exact, required in _HEADER_RULES:
        value = headers.get(name)
        if value is None or not value.strip():
            if required:
                message = (
                    "Required field is missing" if value is None else f"{name} cannot be blank"
                )
                problems.append({"field": name, "value": value or "", "message": message})
            continue
        if exact and len(value) != max_len:
            message = f"{name} must be exactly {max_len} characters"
        elif len(value) > max_len:
            message = f"{name} must not exceed {max_len} characters"
        else:
            continue
        problems.append({"field": name, "value": value, "message": message})
    return problems


def token_answer(token: str, lifetime: float) -> Reply:
    """``expires_in`` is a string, as the spec's schema says (one second shy, like the portal)."""
    expires = str(max(1, int(lifetime) - 1))
    return json_reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires})


def token_refused(grant_ok: bool) -> Reply:
    """401 for a bad client or grant, OAuth-style plus the vendor's fault shape."""
    error = "invalid_client" if grant_ok else "unsupported_grant_type"
    payload = {
        "error": error,
        "fault": {
            "faultstring": "Invalid client identifier or grant type",
            "detail": {"errorcode": "oauth.v2.InvalidClientIdentifier"},
        },
    }
    return json_reply(401, payload)


def parse_bool(value: str | None) -> bool | None:
    """Query booleans: 'true'/'false' any case; None when absent or garbage."""
    if value is None:
        return None
    return {"true": True, "false": False}.get(value.strip().lower())


def requested_part_numbers(body: bytes) -> list[str] | None:
    """Part numbers in a P&A body, leniently (for stats even when it is invalid)."""
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    products = payload.get("products") if isinstance(payload, dict) else None
    if not isinstance(products, list):
        return None
    out = []
    for item in products:
        pn = None
        if isinstance(item, dict):
            pn = next((item[key] for key in KEY_TYPES if item.get(key)), None)
        out.append(str(pn) if pn is not None else "")
    return out


def price_and_availability(
    catalog: Catalog, query: Mapping[str, list[str]], body: bytes, country: str | None = None
) -> Reply:
    """The P&A endpoint: 200 when every item was found, 207 when some were not."""
    flags: dict[str, Any] = {name: parse_bool(_first(query, name)) for name in _PA_FLAGS}
    problems = [
        {"field": name, "value": _first(query, name) or "", "message": "Required boolean value"}
        for name in ("includeAvailability", "includePricing")
        if flags[name] is None
    ]
    products, body_problem = _pa_products(body)
    if body_problem:
        problems.append({"field": "products", "value": "", "message": body_problem})
    show_discounts, discounts_problem = body_flag(body, "showAvailableDiscounts")
    if discounts_problem:
        problems.append(discounts_problem)
    if problems:
        return validation_error(problems)
    flags = {**flags, "showAvailableDiscounts": show_discounts, "country": country}
    items = [
        item
        for product in products  # type: ignore[union-attr]
        for item in _pa_items(catalog, product, flags)
    ]
    status = 207 if any(item.get("productStatusCode") == "E" for item in items) else 200
    return json_reply(status, items)


_PA_FLAGS = ("includeAvailability", "includePricing", "includeProductAttributes")


def _pa_products(body: bytes) -> tuple[list[dict[str, Any]] | None, str | None]:
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None, "Request body is not valid JSON"
    products = payload.get("products") if isinstance(payload, dict) else None
    if not isinstance(products, list) or not products:
        return None, "products must be a non-empty list"
    if len(products) > MAX_PA_PRODUCTS:
        return None, f"At most {MAX_PA_PRODUCTS} products are allowed per request"
    for item in products:
        if not isinstance(item, dict) or not any(
            isinstance(item.get(key), str) and item[key].strip() for key in KEY_TYPES
        ):
            return None, f"Each product needs one of {', '.join(KEY_TYPES)}"
        if any(item.get(key) is not None and not isinstance(item[key], str) for key in KEY_TYPES):
            return None, f"{', '.join(KEY_TYPES)} must be strings"
    return products, None


def body_flag(body: bytes, name: str) -> tuple[bool, dict[str, Any] | None]:
    """A top-level boolean of the request body (absent or null: false); else a field error."""
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return False, None  # the body's own problem is reported once, by _pa_products
    value = payload.get(name) if isinstance(payload, dict) else None
    if value is None or isinstance(value, bool):
        return bool(value), None
    return False, {"field": name, "value": str(value)[:40], "message": "Must be a boolean"}


def _pa_items(
    catalog: Catalog, product: dict[str, Any], flags: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The answer to one requested product: by its first key (Ingram's part number first).

    A vendor part number shared by several SKUs gets one item per SKU; an
    unknown key gets the vendor's "E" item, echoing the key it was asked by.
    """
    key_type, value = next(
        (name, product[name])
        for name in KEY_TYPES
        if isinstance(product.get(name), str) and product[name].strip()
    )
    options = {
        "include_availability": bool(flags["includeAvailability"]),
        "include_pricing": bool(flags["includePricing"]),
        "include_attributes": bool(flags["includeProductAttributes"]),
        "show_discounts": bool(flags["showAvailableDiscounts"]),
        "country": flags["country"],
    }
    if key_type == "ingramPartNumber":  # the catalog answers unknown ones itself
        return [catalog.price_availability_item(value, **options)]
    indices = catalog.find_key(key_type, value)
    if not indices:
        label = key_type[0].upper() + key_type[1:]
        return [
            {
                "productStatusCode": "E",
                "productStatusMessage": f"Product not found for {label}:  {value}",
                key_type: value,
            }
        ]
    return [
        catalog.price_availability_item(encode_part_number(index), **options) for index in indices
    ]


def details(catalog: Catalog, part_number: str) -> Reply:
    """The details endpoint: the document or the documented 404."""
    document = catalog.details_document(part_number)
    if document is None:
        return not_found()
    return json_reply(200, document)


def search(
    catalog: Catalog,
    query: Mapping[str, list[str]],
    unstable: int | None = None,
    ignores_filter: bool = False,
) -> Reply:
    """Catalog search with paging links; 404 when nothing matches at all.

    ``unstable`` (a random number): the page comes back a few rows short and
    ``recordsFound`` is off by a little, as reported against production.
    ``ignores_filter``: ``vendorPartNumber`` is not applied (the whole catalog answers).
    ``type`` is one of the spec's enum; the catalog holds physical products only.
    """
    asked = _search_request(query)
    if isinstance(asked, Reply):
        return asked
    kind, page_number, page_size = asked
    matches = _matches(catalog, query, kind, ignores_filter)
    if not matches:
        return json_reply(404, {"errors": [{"id": error_id(), "message": "No Records Found"}]})
    start = (page_number - 1) * page_size
    rows = [catalog.search_row(i) for i in matches[start : start + page_size]]
    records_found = len(matches)
    if unstable is not None:
        rows = rows[: max(0, len(rows) - 1 - unstable % 3)]
        records_found += unstable % 7 - 3
    payload: dict[str, Any] = {
        "recordsFound": records_found,
        "pageSize": page_size,
        "pageNumber": page_number,
        "catalog": rows,
    }
    if start + page_size < len(matches):
        payload["nextPage"] = _page_link(query, page_number + 1, page_size)
    if page_number > 1:
        payload["previousPage"] = _page_link(query, page_number - 1, page_size)
    return json_reply(200, payload)


def _search_request(query: Mapping[str, list[str]]) -> tuple[str, int, int] | Reply:
    """(type, page number, page size) of a search, or the validation error it gets."""
    kind = (_first(query, "type") or "IM::any").lower()
    if kind not in SEARCH_TYPES:
        message = f"type must be one of {', '.join(SEARCH_TYPES)}"
        return validation_error(
            [{"field": "type", "value": _first(query, "type"), "message": message}]
        )
    try:
        page_number = int(_first(query, "pageNumber") or 1)
        page_size = int(_first(query, "pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        return validation_error([{"field": "pageNumber/pageSize", "message": "Must be integers"}])
    if page_size < 1 or page_size > MAX_PAGE_SIZE or page_number < 1:
        message = f"pageSize must be 1..{MAX_PAGE_SIZE}, pageNumber >= 1"
        return validation_error(
            [{"field": "pageSize", "value": str(page_size), "message": message}]
        )
    return kind, page_number, page_size


def _matches(
    catalog: Catalog, query: Mapping[str, list[str]], kind: str, ignores_filter: bool
) -> list[int]:
    """The catalog indices a search names (the catalog holds physical products only)."""
    vendor_part_numbers = [] if ignores_filter else _values(query, "vendorPartNumber")
    if kind == "im::digital":
        return []
    if vendor_part_numbers:
        return catalog.search_vendor_part_numbers(vendor_part_numbers)
    return list(
        catalog.search(
            vendors=_values(query, "vendor"),
            keywords=_values(query, "keyword"),
            category=_first(query, "category"),
        )
    )


def _page_link(query: Mapping[str, list[str]], page_number: int, page_size: int) -> str:
    params = {k: v for k, v in query.items() if k not in ("pageNumber", "pageSize")}
    params["pageSize"] = [str(page_size)]
    params["pageNumber"] = [str(page_number)]
    return f"{SEARCH_PATH}?{urlencode(params, doseq=True)}"


def _values(query: Mapping[str, list[str]], name: str) -> list[str]:
    """An array query parameter, in the repeated form the vendor's SDK sends
    (``vendor=A&vendor=B``): a comma is part of a value, not a separator."""
    return [value.strip() for value in query.get(name, []) if value.strip()]


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def decode_json(body: bytes) -> Any:
    """Control bodies: empty means an empty object."""
    return json.loads(body) if body.strip() else {}
