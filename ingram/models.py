"""Plain data passed between the client (which parses) and the store (which writes).

Money is ``Decimal`` so 74.34 stays 74.34 from the vendor's JSON to SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    """One entry of ``availability.availabilityByWarehouse`` (the vendor may send only an id)."""

    warehouse_id: str
    location: str | None = None
    quantity_available: int | None = None
    quantity_backordered: int | None = None


@dataclass(frozen=True, slots=True)
class PriceAvailability:
    """One item of a P&A answer.

    ``found`` is False for an item with ``productStatusCode`` "E" (the vendor does
    not know the part number); ``message`` then holds the vendor's text.
    """

    ingram_part_number: str
    found: bool = True
    message: str | None = None
    vendor_part_number: str | None = None
    upc: str | None = None
    vendor_name: str | None = None
    description: str | None = None
    product_class: str | None = None
    customer_price: Decimal | None = None
    retail_price: Decimal | None = None
    map_price: Decimal | None = None
    currency: str | None = None
    available: bool | None = None
    total_availability: int | None = None
    warehouses: tuple[WarehouseStock, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductDetails:
    """A details document; ``found`` is False when the vendor answered 404 "No Records Found"."""

    ingram_part_number: str
    found: bool = True
    vendor_part_number: str | None = None
    upc: str | None = None
    vendor_name: str | None = None
    description: str | None = None
    category: str | None = None
    subcategory: str | None = None
    product_class: str | None = None
    product_type: str | None = None
    authorized: bool | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One product of a catalog search page."""

    ingram_part_number: str
    vendor_part_number: str | None = None
    vendor_name: str | None = None
    description: str | None = None
    category: str | None = None
    subcategory: str | None = None
    upc: str | None = None


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters of one client since it was made (thread-safe snapshot)."""

    pa_requests: int = 0
    details_requests: int = 0
    search_requests: int = 0
    token_requests: int = 0
    retries: int = 0
    rate_limited: int = 0
