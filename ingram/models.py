"""Plain data shared by all parts: client settings, and what the client parses and the store writes.

Money is ``Decimal`` so 74.34 stays 74.34 from the vendor's JSON to SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

from ingram import __version__

# What a report reads a run or product from: a dict, or a row of the store as it came.
Record: TypeAlias = Mapping[str, Any] | sqlite3.Row


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    """One entry of ``availability.availabilityByWarehouse`` (the vendor may send only an id)."""

    warehouse_id: str
    location: str | None = None
    quantity_available: int | None = None
    quantity_backordered: int | None = None
    quantity_on_order: int | None = None
    backorder_eta: str | None = None  # ``quantityBackorderedEta``
    backorder_info: tuple[tuple[int | None, str | None], ...] | None = None  # (quantity, etaDate)


@dataclass(frozen=True, slots=True)
class Discount:
    """One special price, quantity break or service fee of a P&A item (``showAvailableDiscounts``).

    ``kind`` is ``special_pricing``, ``quantity_break`` or ``service_fee``; each
    kind fills the fields the vendor sends for it and leaves the others None.
    """

    kind: str
    discount_type: str | None = None  # discountType, or conditionType of breaks and fees
    bid_number: str | None = None
    amount: Decimal | None = None
    quantity: int | None = None  # minimum quantity (special pricing) or break quantity
    available_quantity: int | None = None
    effective_date: str | None = None
    expiration_date: str | None = None  # or a fee's endDate
    currency: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ShopFlags:
    """P&A flags a shop needs; None where the vendor (or the country) sends nothing."""

    product_authorized: bool | None = None
    accept_back_order: bool | None = None
    end_user_info_required: bool | None = None
    bundle_part: bool | None = None
    discounts: tuple[Discount, ...] = ()


@dataclass(frozen=True, slots=True)
class DetailsExtras:
    """From a details document: ``indicators``, ``additionalInformation`` and the spec table."""

    discontinued: bool | None = None
    new_product: bool | None = None
    backorder_allowed: bool | None = None
    direct_ship: bool | None = None
    has_warranty: bool | None = None
    weight: Decimal | None = None
    weight_unit: str | None = None
    height: Decimal | None = None
    width: Decimal | None = None
    length: Decimal | None = None
    dimension_unit: str | None = None
    specs: tuple[tuple[str | None, str, str | None], ...] = ()  # (header, name, value)


@dataclass(frozen=True, slots=True)
class PriceAvailability:
    """One item of a P&A answer.

    ``found`` is False for an item with ``productStatusCode`` "E" (the vendor does
    not know the part number); ``message`` then holds the vendor's text.
    ``authorized`` False: the account may not buy it (``productAuthorized``, or an
    "E" saying so). ``problem`` names the item and field when this one item could
    not be read (its neighbours still are); ``ingram_part_number`` is "" when the
    vendor left it out (the writer matches it by vendor part number or UPC).
    """

    ingram_part_number: str
    found: bool = True
    message: str | None = None
    status_code: str | None = None
    authorized: bool | None = None
    problem: str | None = None
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
    shop: ShopFlags | None = None
    # Fields sent unlike the schema and dropped (a flag "boolean", a discount line that does
    # not read, a negative stock count): the price and stock are kept, the client warns.
    odd_fields: tuple[str, ...] = ()


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
    authorized: bool | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)
    extras: DetailsExtras | None = None
    source: str = "details"  # DetailsSource: or "search", the basic fields only
    product_type: str | None = None  # from a search only: the details schema lacks it
    bare: bool = False  # "no records" said by a 204 or a 404 without the vendor's body
    lifecycle: Lifecycle | None = None  # from a search only: discontinued, replacementSku


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
    product_type: str | None = None  # only search answers carry it (not the details schema)
    discontinued: bool | None = None
    replacement_sku: str | None = None  # Ingram's comparable substitute, when it names one


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What a source says of a product's life: discontinued, and the part number replacing it.

    None is "no word" (the stored value stays). Searches and the price file both say it.
    """

    ingram_part_number: str
    discontinued: bool | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class DetailsBatch:
    """Details of a group of products (``--details-source search``), and the ones that failed."""

    details: list[ProductDetails]
    failed: Sequence[tuple[str, Exception]]


@dataclass(frozen=True, slots=True)
class ProductKey:
    """A key a reseller knows a product by: ``vendorPartNumber``, ``upc`` or ``customerPartNumber``.

    ``ingram_part_number`` is set when the user gave it too (a CSV row with both).
    """

    key_type: str
    value: str
    ingram_part_number: str | None = None


@dataclass(frozen=True, slots=True)
class KeyResolution:
    """What P&A said about a key: ``resolved`` to one part number, ``ambiguous``, ``not_found``."""

    key_type: str
    value: str
    status: str
    candidates: tuple[str, ...] = ()
    message: str | None = None


@dataclass(frozen=True, slots=True)
class StockResource:
    """One ``resource[]`` entry of a Stock Update webhook event (stock only, never a price)."""

    ingram_part_number: str
    total_availability: int | None
    sku_status: str | None = None
    back_order_flag: str | None = None
    vendor_part_number: str | None = None
    vendor_name: str | None = None
    upc: str | None = None


@dataclass(frozen=True, slots=True)
class StockEvent:
    """A Stock Update webhook event; ``event_time`` is UTC ISO-8601 with milliseconds.

    ``skipped``: resources of the event that could not be applied (no part number, a bad
    stock figure or text, another event type); ``resources`` holds the others.
    """

    event_id: str
    event_time: str
    resources: tuple[StockResource, ...]
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters of one client since it was made (thread-safe snapshot)."""

    pa_requests: int = 0
    details_requests: int = 0
    search_requests: int = 0
    token_requests: int = 0
    retries: int = 0
    rate_limited: int = 0


@dataclass(frozen=True, slots=True)
class RetryWait:
    """A worker thread waiting before its next attempt: what the bars and the monitor say."""

    seconds: float  # the wait
    retry: int  # the attempt after it is retry ``retry`` of ``retries``
    retries: int
    reason: str  # "HTTP 500", "timeout", ...
    error: str  # the error's own words


@dataclass(frozen=True, slots=True)
class Waiting:
    """A retry wait of one task of a run: ``label`` ("P&A batch 1"), until when (Unix time)."""

    label: str
    wait: RetryWait
    until: float

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "until": self.until, **asdict(self.wait)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Waiting:
        fields = {name: data[name] for name in ("seconds", "retry", "retries", "reason", "error")}
        return cls(data["label"], RetryWait(**fields), data["until"])


@dataclass(frozen=True)
class ClientSettings:
    """Everything the client needs; timings in seconds, rates in calls per minute (0: off)."""

    client_id: str
    client_secret: str = field(repr=False)
    customer_number: str
    country_code: str = "US"
    sender_id: str | None = None
    base_url: str = "https://api.ingrammicro.com:443"
    token_path: str = "/oauth/oauth20/token"
    token_url: str | None = None  # full URL; None: the API's bare host + token_path
    token_cache: str | None = None  # folder of the shared token file; None: not shared
    connect_timeout: float = 10.0
    timeout: float = 30.0
    deadline: float = 120.0
    pa_rate: float = 60.0
    details_interval: float = 1.0  # the vendor: 60 calls a minute per endpoint
    search_rate: float = 60.0 / 1.1  # one search call every 1.1 s
    pa_retry_waits: tuple[float, ...] = (30.0, 60.0, 120.0)
    details_retry_waits: tuple[float, ...] = (10.0, 30.0, 60.0)
    token_refresh_margin: float = 60.0
    outage_limit: float = 120.0  # seconds of nothing but transport errors and 5xx: stop the run
    user_agent: str = f"ingram-sync/{__version__}"

    def __post_init__(self) -> None:
        for name in ("pa_retry_waits", "details_retry_waits"):
            waits = tuple(float(w) for w in getattr(self, name))
            if any(w < 0 for w in waits):
                raise ValueError(f"{name} must not hold negative waits")
            object.__setattr__(self, name, waits)
        if min(self.connect_timeout, self.timeout, self.deadline) <= 0:
            raise ValueError("timeouts and deadline must be positive")
