"""A deterministic fake Ingram catalog, derived product by product from (seed, index).

Nothing is precomputed: a 1,000,000-product catalog costs no memory until a
product is asked for, and then only a small LRU cache. Part numbers are an
invertible permutation of the index, so ``contains`` is O(1) without a set.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .countries import currency_of
from .documented import BY_CUSTOMER_PART_NUMBER, BY_INDEX, DOCUMENTED, DOCUMENTED_INDICES
from .documents import additional_information, cisco_fields, indicators, tech_specs
from .identifiers import (
    CUSTOMER_PN_PREFIX,
    KeyIndex,
    customer_part_number,
    shares_vendor_part_number,
)
from .pricing import add_item_extras, add_warehouse_extras
from .seeded import Draws, decode_part_number, encode_part_number, mix
from .settings import SandboxSettings
from .vocabulary import (
    ADJECTIVES,
    CATEGORIES,
    MODEL_LETTERS,
    VENDORS,
    WAREHOUSES,
)

# salts keep the independent random streams of one product apart
_SALT_STATIC, _SALT_EPOCH, _SALT_STOCK, _SALT_ID, _SALT_SHOP = 11, 19, 23, 29, 31

NOT_FOUND_MESSAGE = "Product not found for IngramPartNumber:  {pn}"
FOUND_MESSAGE = "ACOPS ARE AVAILABLE FOR THIS CUSTOMER AND SKU"  # the spec's example
NOT_AUTHORIZED_MESSAGE = "Product is not authorized for this customer"


@dataclass(frozen=True, slots=True)
class _Product:
    """The part of a product that never changes with ``price_epoch``."""

    index: int
    part_number: str
    vendor_part_number: str
    vendor_name: str
    vendor_number: str
    upc: str
    description: str
    category: str
    subcategory: str
    product_class: str
    authorized: bool
    warehouses: tuple[tuple[int, str], ...]
    string_warehouse_ids: bool
    id_only_warehouse: bool
    nested_pricing: bool
    camel_subcategory: bool
    details_draw: float
    base_price: float


class Catalog:
    """Products of one seed; ``not_found_details_ratio``, ``price_epoch``, ``realistic``
    (found items carry the vendor's status message) and ``numeric_warehouse_ids`` may change
    live."""

    def __init__(
        self,
        seed: int = 1,
        size: int = 1000,
        not_found_details_ratio: float = 0.05,
        price_epoch: int = 0,
        realistic: bool = False,
        numeric_warehouse_ids: bool = False,
    ) -> None:
        self.seed = seed
        self.size = size
        self.not_found_details_ratio = not_found_details_ratio
        self.price_epoch = price_epoch
        self.realistic = realistic
        self.numeric_warehouse_ids = numeric_warehouse_ids
        # per-instance cache: a module-level one would pin old catalogs in memory
        self._product = functools.lru_cache(maxsize=16384)(self._build_product)
        # the documented products (beyond the first ``size``) answer by their keys too
        self.keys = KeyIndex(size, self.identity, extra=DOCUMENTED_INDICES)

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> Catalog:
        """The catalog a server with ``settings`` serves."""
        return cls(
            settings.seed,
            settings.catalog_size,
            settings.not_found_details_ratio,
            settings.price_epoch,
            settings.realistic,
            settings.numeric_warehouse_ids,
        )

    def __len__(self) -> int:
        return self.size

    # -- part numbers -------------------------------------------------------

    def part_numbers(self, n: int | None = None) -> list[str]:
        """The first ``n`` part numbers (all by default), in index order."""
        count = self.size if n is None else max(0, min(n, self.size))
        return [encode_part_number(i) for i in range(count)]

    def index_of(self, pn: str) -> int | None:
        """Index of a catalog part number, None when unknown."""
        index = decode_part_number(pn) if isinstance(pn, str) else None
        if index is None or (index >= self.size and pn.strip().upper() not in DOCUMENTED):
            return None
        return index

    def find_key(self, key_type: str, value: str) -> list[int]:
        """Indices a P&A product key names: one, several (a shared vendor part number), none."""
        if key_type == "ingramPartNumber":
            index = self.index_of(value)
        elif key_type == "customerPartNumber":
            text = value.strip().upper()
            index = self.index_of(text[len(CUSTOMER_PN_PREFIX) :])
            if index is not None and customer_part_number(index, "") is None:
                index = None
            if not text.startswith(CUSTOMER_PN_PREFIX):
                index = None
            if text in BY_CUSTOMER_PART_NUMBER:
                index = self.index_of(BY_CUSTOMER_PART_NUMBER[text])
        else:
            return list(self.keys.find(key_type, value))
        return [] if index is None else [index]

    def customer_part_number(self, index: int) -> str | None:
        """The reseller's own key of a product: a documented one, else the sandbox's rule."""
        documented = BY_INDEX.get(index)
        if documented and documented.customer_part_number:
            return documented.customer_part_number
        return customer_part_number(index, encode_part_number(index))

    def contains(self, pn: str) -> bool:
        """Whether ``pn`` is one of this catalog's part numbers."""
        return self.index_of(pn) is not None

    def __contains__(self, pn: object) -> bool:
        return isinstance(pn, str) and self.contains(pn)

    # -- generation -----------------------------------------------------------

    def _traits(self, index: int) -> tuple[tuple[str, str, str, tuple[str, ...]], str, str, int]:
        """(vendor, category, subcategory, hash) from one hash: search calls it per product."""
        h = mix(self.seed, index, _SALT_ID)
        documented = BY_INDEX.get(index)
        if documented:
            return documented.vendor, documented.category, documented.subcategory, h
        vendor = VENDORS[h % len(VENDORS)]
        category = vendor[3][(h >> 8) % len(vendor[3])]
        subs = CATEGORIES[category]
        return vendor, category, subs[(h >> 16) % len(subs)], h

    def vendor_of(self, index: int) -> tuple[str, str, str, tuple[str, ...]]:
        """(name, vendorNumber, part-number prefix, categories) of a product's vendor."""
        return self._traits(index)[0]

    def category_of(self, index: int) -> tuple[str, str]:
        """(category, subcategory), always among what the vendor sells."""
        _, category, subcategory, _ = self._traits(index)
        return category, subcategory

    def identity(self, index: int) -> tuple[str, str, str, str]:
        """(part number, vendor part number, description, upc) from hash bits, no RNG.

        Keyword search scans the whole catalog, so these must cost microseconds.
        """
        return self._identity(index, self._traits(index))

    def _identity(
        self, index: int, traits: tuple[tuple[str, str, str, tuple[str, ...]], str, str, int]
    ) -> tuple[str, str, str, str]:
        documented = BY_INDEX.get(index)
        if documented:
            pn, doc = encode_part_number(index), documented
            return pn, doc.vendor_part_number, doc.description, doc.upc
        (vendor_name, _, prefix, _), _, subcategory, h = traits
        model = f"{MODEL_LETTERS[(h >> 24) % 16]}{100 + (h >> 28) % 9900}"
        adjective = ADJECTIVES[(h >> 42) % len(ADJECTIVES)]
        vendor_pn = f"{prefix}{(h >> 45) % 10**5:05d}-{model}"
        if shares_vendor_part_number(index):  # one manufacturer part, two Ingram SKUs
            vendor_pn = self.identity(index - 1)[1]
        u = mix(h, index)
        upc = f"{'0000123678'[u % 10]}{(u // 10) % 10**11:011d}"
        description = f"{vendor_name} {adjective} {subcategory.upper()} {model}"
        return encode_part_number(index), vendor_pn, description, upc

    def _build_product(self, index: int) -> _Product:
        rng = Draws(mix(self.seed, index, _SALT_STATIC))
        traits = self._traits(index)
        (vendor_name, vendor_number, _, _), category, subcategory, _ = traits
        part_number, vendor_pn, description, upc = self._identity(index, traits)
        warehouses = tuple(sorted(rng.sample(WAREHOUSES, rng.randint(2, 5))))
        return _Product(
            index=index,
            part_number=part_number,
            vendor_part_number=vendor_pn,
            vendor_name=vendor_name,
            vendor_number=vendor_number,
            upc=upc,
            description=description,
            category=category,
            subcategory=subcategory,
            product_class=rng.choice("AAABBBCCDE"),
            authorized=rng.random() < 0.95,
            warehouses=warehouses,
            string_warehouse_ids=rng.random() < 0.5,
            id_only_warehouse=rng.random() < 0.15,
            nested_pricing=rng.random() < 0.05,
            camel_subcategory=rng.random() < 0.5,
            details_draw=rng.random(),
            base_price=rng.randrange(4, 2500) + rng.randrange(1, 100) / 100,
        )

    def _stock_rng(self, index: int) -> tuple[Draws, bool]:
        """Stream for price/stock: ~10% of products get a new one per non-zero epoch.

        The documented part numbers always do, so the walkthrough's ``changes`` shows some.
        """
        variant = self._epoch_variant(index)
        return Draws(mix(self.seed, index, _SALT_STOCK, variant)), variant != 0

    def _epoch_variant(self, index: int) -> int:
        """The epoch a product's price and stock last changed in (0: never)."""
        epoch = self.price_epoch
        chosen = index in DOCUMENTED_INDICES or mix(self.seed, index, _SALT_EPOCH, epoch) % 10 == 0
        changed = epoch != 0 and chosen
        return epoch if changed else 0

    def _shop_rng(self, index: int) -> Draws:
        """Stream for discounts, fees and ETAs: changes with the product's stock."""
        return Draws(mix(self.seed, index, _SALT_SHOP, self._epoch_variant(index)))

    def discontinued(self, index: int) -> bool:
        """Class D products, and every third product whose stock changed in this epoch, flipped."""
        flipped = self._epoch_variant(index) != 0 and index % 3 == 0
        return (self._product(index).product_class == "D") != flipped

    def replacement(self, index: int) -> str:
        """The part number search names (``replacementSku``) for a discontinued product:
        its neighbour, for every second one; "" for the rest, as the vendor sends."""
        if not self.discontinued(index) or index % 2 or self.size < 2:
            return ""
        return self._product((index + 1) % self.size).part_number

    def stock_changed(self, index: int) -> bool:
        """Whether the current ``price_epoch`` gave this product new stock (and price)."""
        return self._stock_rng(index)[1]

    # -- vendor shapes ------------------------------------------------------

    def price_availability_item(
        self,
        pn: str,
        *,
        include_availability: bool = True,
        include_pricing: bool = True,
        include_attributes: bool = True,
        show_discounts: bool = False,
        country: str | None = None,
    ) -> dict[str, Any]:
        """Exactly the P&A array item the server answers for ``pn`` (in ``country``)."""
        index = self.index_of(pn)
        if index is None:
            return {
                "productStatusCode": "E",
                "productStatusMessage": NOT_FOUND_MESSAGE.format(pn=pn),
                "ingramPartNumber": pn,
            }
        p = self._product(index)
        item: dict[str, Any] = {
            "productStatusMessage": None,
            "ingramPartNumber": p.part_number,
            "vendorPartNumber": p.vendor_part_number,
            "customerPartNumber": self.customer_part_number(index),
            "extendedVendorPartNumber": p.vendor_part_number,
            "vendorNumber": p.vendor_number,
            "vendorName": p.vendor_name,
            "productAuthorized": p.authorized,
            "acceptBackOrder": True,
            "returnableProduct": p.product_class != "E",
            "endUserInfoRequired": False,
        }
        if include_attributes:
            item.update(upc=p.upc, description=p.description, productClass=p.product_class)
            item["uom"] = "EA"
        availability, pricing = self._availability_and_pricing(p, country)
        shop_rng = self._shop_rng(p.index)
        add_warehouse_extras(availability["availabilityByWarehouse"], shop_rng, country)
        add_item_extras(
            item,
            shop_rng,
            customer_price=pricing["customerPrice"],
            show_discounts=show_discounts,
            country=country,
        )
        if include_availability:
            item["availability"] = availability
            if include_pricing and p.nested_pricing:
                availability["pricing"] = pricing  # the spec's 207 example does this
        if include_pricing and not (include_availability and p.nested_pricing):
            item["pricing"] = pricing
        return _with_status_message(item) if self.realistic else item

    def _availability_and_pricing(
        self, p: _Product, country: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        rng, changed = self._stock_rng(p.index)
        out_of_stock = rng.random() < 0.10
        rows: list[dict[str, Any]] = []
        for wid, location in p.warehouses:
            qty = (
                0
                if out_of_stock
                else rng.choice((0, rng.randrange(1, 50), rng.randrange(50, 5000)))
            )
            rows.append(
                {
                    "warehouseId": self._warehouse_id(wid, p.string_warehouse_ids),
                    "location": location,
                    "quantityAvailable": qty,
                    "quantityBackordered": rng.randrange(0, 200) if qty == 0 else 0,
                }
            )
        if not out_of_stock and all(r["quantityAvailable"] == 0 for r in rows):
            rows[0]["quantityAvailable"] = rng.randrange(1, 100)
            rows[0]["quantityBackordered"] = 0
        if p.id_only_warehouse:
            rows.append({"warehouseId": "81"})
        total = sum(r.get("quantityAvailable", 0) for r in rows)
        price = p.base_price
        if changed:
            price = max(1.01, round(price * rng.uniform(0.8, 1.2), 2))
            if price == p.base_price:
                price = round(price + 0.01, 2)
        customer = round(price, 2)
        pricing = {
            "currencyCode": currency_of(country),
            "retailPrice": round(customer * 1.35 + 0.99, 2),
            "mapPrice": 0 if p.index % 2 else round(customer * 1.1, 2),
            "customerPrice": customer,
        }
        availability = {
            "available": total > 0,
            "totalAvailability": total,
            "availabilityByWarehouse": rows,
        }
        return availability, pricing

    def _warehouse_id(self, number: int, padded: bool) -> str | int:
        """A string, as the schema says ("05" or "5"); a number, as the spec's examples send
        it, only when ``numeric_warehouse_ids`` asks for that form."""
        if padded:
            return f"{number:02d}"
        return number if self.numeric_warehouse_ids else str(number)

    def details_document(self, pn: str) -> dict[str, Any] | None:
        """The details JSON for ``pn``; None means the server answers 404."""
        index = self.index_of(pn)
        if index is None:
            return None
        p = self._product(index)
        if p.details_draw < self.not_found_details_ratio:
            return None
        rng = Draws(mix(self.seed, index, _SALT_STATIC, 1))
        doc: dict[str, Any] = {
            "ingramPartNumber": p.part_number,
            "vendorPartNumber": p.vendor_part_number,
            "productAuthorized": "True" if p.authorized else "False",
            "description": p.description,
            "productDetailDescription": f"{p.description.title()} - {p.subcategory} for business",
            "upc": p.upc,
            "productCategory": p.category,
            ("productSubCategory" if p.camel_subcategory else "productSubcategory"): p.subcategory,
            "vendorName": p.vendor_name,
            "vendorNumber": p.vendor_number,
            "productStatusCode": None,
            "productClass": p.product_class if rng.random() < 0.7 else None,
            "indicators": indicators(rng, self.discontinued(index)),
            "ciscoFields": cisco_fields(p.vendor_name, p.subcategory),
            "technicalSpecifications": tech_specs(rng, p.vendor_name, p.vendor_part_number),
            "warrantyInformation": [],
            "additionalInformation": additional_information(rng),
        }
        return doc

    # -- search ---------------------------------------------------------------

    def search(
        self,
        vendors: Sequence[str] = (),
        keywords: Sequence[str] = (),
        category: str | None = None,
    ) -> Iterator[int]:
        """Indices matching any vendor, all keywords and the category (or subcategory).

        Every test is a case-insensitive substring test, like a forgiving vendor search.
        """
        wanted_vendors = [v.lower() for v in vendors if v]
        wanted_keywords = [k.lower() for k in keywords if k]
        wanted_category = (category or "").lower()
        for index in range(self.size):
            traits = self._traits(index)
            vendor, category, subcategory, _ = traits
            if wanted_vendors and not any(v in vendor[0].lower() for v in wanted_vendors):
                continue
            if wanted_category and not (
                wanted_category in category.lower() or wanted_category in subcategory.lower()
            ):
                continue
            if wanted_keywords:
                haystack = " ".join(self._identity(index, traits)).lower()
                if not all(k in haystack for k in wanted_keywords):
                    continue
            yield index

    def search_vendor_part_numbers(self, vendor_part_numbers: Sequence[str]) -> list[int]:
        """Indices a ``vendorPartNumber`` array search answers, in catalog order.

        Only products with a details record: the search is served from the same
        product data, so a product whose details are "No Records Found" is not in it
        (and a client must fall back to the details endpoint for it).
        """
        found = {i for vpn in vendor_part_numbers for i in self.keys.find("vendorPartNumber", vpn)}
        return [
            i
            for i in sorted(found)
            if self._product(i).details_draw >= self.not_found_details_ratio
        ]

    def search_row(self, index: int) -> dict[str, Any]:
        """One ``catalog`` entry of a search answer."""
        p = self._product(index)
        return {
            "description": p.description,
            "category": p.category,
            "subCategory": p.subcategory,
            "productType": p.subcategory,  # the spec's own example says "LCD Monitors"
            "ingramPartNumber": p.part_number,
            "vendorPartNumber": p.vendor_part_number,
            "upcCode": p.upc,
            "vendorName": p.vendor_name,
            "endUserRequired": "false",
            "hasDiscounts": "",
            "type": "IM::Physical",
            "discontinued": "true" if self.discontinued(index) else "false",
            "newProduct": "false",
            "directShip": "false",
            "hasWarranty": "true",
            "extraDescription": p.description,
            "replacementSku": self.replacement(index),
            "authorizedToPurchase": "true" if p.authorized else "false",
            "links": [
                {"topic": "catalog", "href": f"/catalog/{p.part_number}", "type": "GET"},
            ],
        }


def _with_status_message(item: dict[str, Any]) -> dict[str, Any]:
    """Realistic: a found item the account may buy carries the spec's example message."""
    if item.get("productAuthorized") is False:
        return item
    return {**item, "productStatusMessage": FOUND_MESSAGE}


def refused_item(pn: str) -> dict[str, Any]:
    """The other form of "not ours to buy": an "E" whose message says so."""
    return {
        "productStatusCode": "E",
        "productStatusMessage": NOT_AUTHORIZED_MESSAGE,
        "ingramPartNumber": pn,
    }
