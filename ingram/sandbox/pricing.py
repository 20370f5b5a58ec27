"""The shop's fields of a P&A item: discounts, service fees, bundles, on-order and backorder ETAs.

Drawn from their own random stream (see ``Catalog._shop_rng``) so adding them
changed no price or stock the catalog served before. Countries where the spec
says a field is "currently not available" never get it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from .countries import currency_of

# The spec: backOrderInfo, bundlePartIndicator, serviceFees and extendedVendorPartNumber are
# "currently not available in these countries (Mexico, Turkey, New Zealand, Colombia, Chile,
# Brazil, Peru, Western Sahara)".
COUNTRIES_WITHOUT_EXTRAS = frozenset({"MX", "TR", "NZ", "CO", "CL", "BR", "PE", "EH"})
ETA_BASE = date(2026, 12, 1)


class Draws(Protocol):
    def random(self) -> float: ...
    def randint(self, low: int, high: int) -> int: ...


def has_extras(country: str | None) -> bool:
    return (country or "US").upper() not in COUNTRIES_WITHOUT_EXTRAS


def add_warehouse_extras(rows: list[dict[str, Any]], rng: Draws, country: str | None) -> None:
    """``quantityOnOrder`` everywhere; ETAs where stock is backordered."""
    for row in rows:
        if "quantityAvailable" not in row:
            continue  # the id-only entry the vendor sends says nothing more
        row["quantityOnOrder"] = rng.randint(0, 300) if rng.random() < 0.4 else 0
        backordered = row.get("quantityBackordered") or 0
        if backordered <= 0:
            continue
        first = ETA_BASE + timedelta(days=rng.randint(3, 60))
        row["quantityBackorderedEta"] = first.isoformat()
        if has_extras(country):
            second = first + timedelta(days=rng.randint(10, 90))
            split = rng.randint(1, backordered)
            row["backOrderInfo"] = [
                {"quantity": split, "etaDate": first.isoformat()},
                {"quantity": backordered - split, "etaDate": second.isoformat()},
            ][: 1 if split == backordered else 2]


def add_item_extras(
    item: dict[str, Any],
    rng: Draws,
    *,
    customer_price: float,
    show_discounts: bool,
    country: str | None,
) -> None:
    """Bundle flag and service fees (where the country has them), discounts when asked for."""
    if has_extras(country):
        item["bundlePartIndicator"] = rng.random() < 0.05
        if rng.random() < 0.15:
            item["serviceFees"] = [
                {
                    "conditionType": "ZREC",
                    "description": "Recycling fee",
                    "amount": round(0.5 + rng.randint(0, 900) / 100, 2),
                    "endDate": (ETA_BASE + timedelta(days=365)).isoformat(),
                    "currencyCode": currency_of(country),
                }
            ]
    else:
        item.pop("extendedVendorPartNumber", None)
    if show_discounts:
        discounts = _discounts(rng, customer_price, currency_of(country))
        if discounts:
            item["discounts"] = [discounts]


def _discounts(rng: Draws, customer_price: float, currency: str) -> dict[str, Any]:
    block: dict[str, Any] = {}
    if rng.random() < 0.3:
        block["specialPricing"] = [
            {
                "discountType": "Special Bid" if rng.random() < 0.5 else "Promo Discount",
                "specialBidNumber": f"SB{rng.randint(10000, 99999)}",
                "specialPricingDiscount": round(customer_price * rng.randint(2, 15) / 100, 2),
                "specialPricingEffectiveDate": (ETA_BASE - timedelta(days=30)).isoformat(),
                "specialPricingExpirationDate": (ETA_BASE + timedelta(days=90)).isoformat(),
                "specialPricingAvailableQuantity": rng.randint(10, 500),
                "specialPricingMinQuantity": rng.randint(0, 5),
            }
        ]
    if rng.random() < 0.2:
        block["quantityDiscounts"] = [
            {
                "conditionType": "Quantity break",
                "currencyCode": currency,
                "currencyType": "Amount",
                "quantity": quantity,
                "amount": round(customer_price * percent / 100, 2),
            }
            for quantity, percent in ((10, 2), (50, 5))
        ]
    return block
