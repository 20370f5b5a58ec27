"""The fields a reseller's shop needs, parsed from P&A items and details documents.

Kept apart from ``parsing`` (which owns the hot path of prices and stock) so
the shop's extra fields can grow without touching it. Same rules: pure
functions, a field the vendor (or the country) does not send stays None. But
these are extras: an odd one (the spec's own example sends ``"boolean"`` and
``"decimal"``) costs its flag or its discount line, never the item's price and
stock; its name goes in ``odd``, for the client's one warning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ingram.api.values import (
    as_array,
    as_flag,
    as_mapping,
    as_money,
    as_quantity,
    as_text,
    first_of,
    stock_count,
)
from ingram.errors import MalformedResponse
from ingram.models import DetailsExtras, Discount, ShopFlags

__all__ = ["backorder_fields", "iso_date", "lenient", "parse_details_extras", "parse_shop_flags"]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_SPECS = 500  # a details document lists tens of attributes; more is not a spec table


def iso_date(value: Any, field: str) -> str | None:
    """A date as ``YYYY-MM-DD`` when it starts like one (``2025-01-01T00:00:00`` too), else text."""
    text = as_text(value, field)
    if text is not None and _ISO_DATE.match(text):
        return text[:10]
    return text


def backorder_fields(
    entry: Mapping[str, Any], odd: list[str]
) -> tuple[int | None, str | None, tuple[tuple[int | None, str | None], ...] | None]:
    """(quantityOnOrder, quantityBackorderedEta, backOrderInfo) of one warehouse entry.

    ``backOrderInfo`` is None when absent (some countries never send it), a
    tuple of (quantity, etaDate) otherwise.
    """
    on_order = stock_count(entry.get("quantityOnOrder"), "quantityOnOrder", odd)
    eta = iso_date(entry.get("quantityBackorderedEta"), "quantityBackorderedEta")
    raw_info = entry.get("backOrderInfo")
    if raw_info is None:
        return on_order, eta, None
    info = []
    for line in as_array(raw_info, "backOrderInfo"):
        line = as_mapping(line, "backOrderInfo entry") or {}
        info.append(
            (
                as_quantity(line.get("quantity"), "backOrderInfo.quantity"),
                iso_date(line.get("etaDate"), "backOrderInfo.etaDate"),
            )
        )
    return on_order, eta, tuple(info)


def lenient(parse: Any, value: Any, field: str, odd: list[str] | None = None) -> Any:
    """``parse(value, field)``, or None when the value is not one (named in ``odd``)."""
    try:
        return parse(value, field)
    except MalformedResponse:
        if odd is not None:
            odd.append(field)
        return None


def parse_shop_flags(item: Mapping[str, Any], odd: list[str]) -> ShopFlags:
    """Flags, special pricing, quantity breaks and service fees of one P&A item.

    A flag that is not one is None, a discount line that does not read is dropped;
    either way its field is named in ``odd``.
    """
    discounts: list[Discount] = []
    for block in _objects(item, "discounts", odd):
        discounts += _lines(block, "specialPricing", _special_pricing, odd)
        discounts += _lines(block, "quantityDiscounts", _quantity_break, odd)
    discounts += _lines(item, "serviceFees", _service_fee, odd)
    flag = functools.partial(lenient, as_flag, odd=odd)
    return ShopFlags(
        product_authorized=flag(item.get("productAuthorized"), "productAuthorized"),
        accept_back_order=flag(item.get("acceptBackOrder"), "acceptBackOrder"),
        end_user_info_required=flag(item.get("endUserInfoRequired"), "endUserInfoRequired"),
        bundle_part=flag(item.get("bundlePartIndicator"), "bundlePartIndicator"),
        discounts=tuple(discounts),
    )


def _objects(
    container: Mapping[str, Any], field: str, odd: list[str] | None = None
) -> list[Mapping[str, Any]]:
    """The entries of the list ``field`` that are objects (the others are named in ``odd``)."""
    entries = lenient(as_array, container.get(field), field, odd) or []
    objects = [entry for entry in entries if isinstance(entry, Mapping)]
    if odd is not None and len(objects) < len(entries):
        odd.append(f"{field} entry")
    return objects


def _lines(container: Mapping[str, Any], field: str, build: Any, odd: list[str]) -> list[Discount]:
    """One ``Discount`` a line of ``field``; a line that does not read is dropped."""
    lines = []
    for entry in _objects(container, field, odd):
        try:
            lines.append(build(entry, odd))
        except MalformedResponse:
            odd.append(f"{field} line")
    return lines


def _special_pricing(line: Mapping[str, Any], odd: list[str]) -> Discount:
    return Discount(
        kind="special_pricing",
        discount_type=as_text(line.get("discountType"), "discountType"),
        # the spec's schema spells it specialBidNumer, its example specialBidNumber
        bid_number=as_text(
            first_of(line, "specialBidNumber", "specialBidNumer"), "specialBidNumber"
        ),
        amount=as_money(line.get("specialPricingDiscount"), "specialPricingDiscount"),
        quantity=as_quantity(line.get("specialPricingMinQuantity"), "specialPricingMinQuantity"),
        available_quantity=as_quantity(
            line.get("specialPricingAvailableQuantity"), "specialPricingAvailableQuantity"
        ),
        effective_date=iso_date(
            line.get("specialPricingEffectiveDate"), "specialPricingEffectiveDate"
        ),
        expiration_date=iso_date(
            line.get("specialPricingExpirationDate"), "specialPricingExpirationDate"
        ),
    )


def _quantity_break(line: Mapping[str, Any], odd: list[str]) -> Discount:
    return Discount(
        kind="quantity_break",
        discount_type=as_text(line.get("conditionType"), "conditionType"),
        amount=as_money(line.get("amount"), "amount"),
        quantity=as_quantity(line.get("quantity"), "quantity"),
        currency=as_text(line.get("currencyCode"), "currencyCode"),
    )


def _service_fee(line: Mapping[str, Any], odd: list[str]) -> Discount:
    """A fee keeps its line without an amount that is none (the spec's example: "decimal")."""
    return Discount(
        kind="service_fee",
        discount_type=as_text(line.get("conditionType"), "conditionType"),
        amount=lenient(as_money, line.get("amount"), "serviceFees.amount", odd),
        expiration_date=iso_date(line.get("endDate"), "endDate"),
        currency=as_text(line.get("currencyCode"), "currencyCode"),
        description=as_text(line.get("description"), "description"),
    )


def parse_details_extras(payload: Mapping[str, Any]) -> DetailsExtras:
    """Indicators, weight and dimensions, and the spec table of a details document.

    The whole document is already kept raw; a part of it shaped unlike the spec
    leaves its columns None instead of refusing the details.
    """
    flags = lenient(as_mapping, payload.get("indicators"), "indicators") or {}
    info = lenient(as_mapping, payload.get("additionalInformation"), "additionalInformation") or {}
    weights = _objects(info, "productWeight") or [{}]
    flag, number, text = (
        functools.partial(lenient, parse) for parse in (as_flag, as_money, as_text)
    )
    return DetailsExtras(
        discontinued=flag(flags.get("isDiscontinuedProduct"), "isDiscontinuedProduct"),
        new_product=flag(flags.get("isNewProduct"), "isNewProduct"),
        backorder_allowed=flag(flags.get("isBackOrderAllowed"), "isBackOrderAllowed"),
        direct_ship=flag(flags.get("isDirectship"), "isDirectship"),
        has_warranty=flag(flags.get("hasWarranty"), "hasWarranty"),
        weight=number(weights[0].get("weight"), "weight"),
        weight_unit=text(weights[0].get("weightUnit"), "weightUnit"),
        height=number(info.get("height"), "height"),
        width=number(info.get("width"), "width"),
        length=number(info.get("length"), "length"),
        dimension_unit=text(info.get("dimensionUnit"), "dimensionUnit"),
        specs=_spec_table(payload.get("technicalSpecifications")),
    )


def _spec_table(value: Any) -> tuple[tuple[str | None, str, str | None], ...]:
    """(header, name, value) rows, each name once per header, in the vendor's order."""
    rows: dict[tuple[str | None, str], str | None] = {}
    entries = value if isinstance(value, list) else []
    for entry in entries[:MAX_SPECS]:
        try:
            name = as_text(first_of(entry, "attributename", "attributeName"), "attributename")
            header = as_text(first_of(entry, "headername", "headerName"), "headername")
            text = as_text(first_of(entry, "attributevalue", "attributeValue"), "attributevalue")
        except (MalformedResponse, AttributeError):
            continue  # not a spec row (not an object, or a value that is no text)
        if name is not None:
            rows.setdefault((header, name), text)
    return tuple((header, name, text) for (header, name), text in rows.items())
