"""The fields a reseller's shop needs, parsed from P&A items and details documents.

Kept apart from ``parsing`` (which owns the hot path of prices and stock) so
the shop's extra fields can grow without touching it. Same rules: pure
functions, every bad value raises ``MalformedResponse``, a field the vendor
(or the country) does not send stays None.
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
)
from ingram.errors import MalformedResponse
from ingram.models import DetailsExtras, Discount, ShopFlags

__all__ = ["backorder_fields", "parse_details_extras", "parse_shop_flags", "iso_date"]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_SPECS = 500  # a details document lists tens of attributes; more is not a spec table


def iso_date(value: Any, field: str) -> str | None:
    """A date as ``YYYY-MM-DD`` when it starts like one (``2025-01-01T00:00:00`` too), else text."""
    text = as_text(value, field)
    if text is not None and _ISO_DATE.match(text):
        return text[:10]
    return text


def backorder_fields(
    entry: Mapping[str, Any],
) -> tuple[int | None, str | None, tuple[tuple[int | None, str | None], ...] | None]:
    """(quantityOnOrder, quantityBackorderedEta, backOrderInfo) of one warehouse entry.

    ``backOrderInfo`` is None when absent (some countries never send it), a
    tuple of (quantity, etaDate) otherwise.
    """
    on_order = as_quantity(entry.get("quantityOnOrder"), "quantityOnOrder")
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


def _lenient(parse: Any, value: Any, field: str) -> Any:
    """A flag or amount that is not one (the spec's own example sends "boolean") counts as unsent.

    These fields are extras: an odd one must not cost the item its price and stock.
    """
    try:
        return parse(value, field)
    except MalformedResponse:
        return None


def parse_shop_flags(item: Mapping[str, Any]) -> ShopFlags:
    """Flags, special pricing, quantity breaks and service fees of one P&A item."""
    discounts: list[Discount] = []
    for block in as_array(item.get("discounts"), "discounts"):
        block = as_mapping(block, "discounts entry") or {}
        discounts.extend(_special_pricing(line) for line in _objects(block, "specialPricing"))
        discounts.extend(_quantity_break(line) for line in _objects(block, "quantityDiscounts"))
    discounts.extend(_service_fee(line) for line in _objects(item, "serviceFees"))
    return ShopFlags(
        product_authorized=as_flag(item.get("productAuthorized"), "productAuthorized"),
        accept_back_order=as_flag(item.get("acceptBackOrder"), "acceptBackOrder"),
        end_user_info_required=as_flag(item.get("endUserInfoRequired"), "endUserInfoRequired"),
        bundle_part=_lenient(as_flag, item.get("bundlePartIndicator"), "bundlePartIndicator"),
        discounts=tuple(discounts),
    )


def _objects(container: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    out = []
    for entry in as_array(container.get(field), field):
        mapping = as_mapping(entry, f"{field} entry")
        if mapping is not None:
            out.append(mapping)
    return out


def _special_pricing(line: Mapping[str, Any]) -> Discount:
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


def _quantity_break(line: Mapping[str, Any]) -> Discount:
    return Discount(
        kind="quantity_break",
        discount_type=as_text(line.get("conditionType"), "conditionType"),
        amount=as_money(line.get("amount"), "amount"),
        quantity=as_quantity(line.get("quantity"), "quantity"),
        currency=as_text(line.get("currencyCode"), "currencyCode"),
    )


def _service_fee(line: Mapping[str, Any]) -> Discount:
    return Discount(
        kind="service_fee",
        discount_type=as_text(line.get("conditionType"), "conditionType"),
        amount=_lenient(as_money, line.get("amount"), "amount"),
        expiration_date=iso_date(line.get("endDate"), "endDate"),
        currency=as_text(line.get("currencyCode"), "currencyCode"),
        description=as_text(line.get("description"), "description"),
    )


def parse_details_extras(payload: Mapping[str, Any]) -> DetailsExtras:
    """Indicators, weight and dimensions, and the spec table of a details document.

    The whole document is already kept raw; a part of it shaped unlike the spec
    leaves its columns None instead of refusing the details.
    """
    flags = _lenient(as_mapping, payload.get("indicators"), "indicators") or {}
    info = _lenient(as_mapping, payload.get("additionalInformation"), "additionalInformation") or {}
    weights = _lenient(_objects, info, "productWeight") or [{}]
    flag, number, text = (
        functools.partial(_lenient, parse) for parse in (as_flag, as_money, as_text)
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
