"""The products the README, docs/ and examples/ name: fixed identities and keys in every catalog.

A newcomer types ``products add 6YE881`` or ``--vpn E2016HV`` from the docs; these products
answer as named (a Dell monitor, a Lenovo notebook, a cable, ...) whatever the seed and the
catalog size, and their keys resolve. Prices, stock and details are drawn as for any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .seeded import decode_part_number

Vendor = tuple[str, str, str, tuple[str, ...]]  # as ``vocabulary.VENDORS``: name, number, ...


@dataclass(frozen=True)
class Documented:
    vendor: Vendor
    category: str
    subcategory: str
    vendor_part_number: str
    upc: str
    description: str
    customer_part_number: str | None = None  # the reseller's own key, if the docs give one


_DELL: Vendor = ("DELL", "802U", "DL", ("Displays",))
_LENOVO: Vendor = ("LENOVO", "0000500082", "21", ("Computers",))
_STARTECH: Vendor = ("STARTECH.COM", "5TAR", "N6", ("Accessories",))
_CISCO: Vendor = ("CISCO", "7C15", "C1", ("Networking",))
_APC: Vendor = ("APC", "0A9C", "BE", ("Power",))
_LOGITECH: Vendor = ("LOGITECH", "L0G1", "920-", ("Accessories",))

DOCUMENTED_PRODUCTS: dict[str, Documented] = {
    "6YE881": Documented(
        _LENOVO, "Computers", "Notebooks & Tablets", "21KG0070US", "0197529483512",
        "LENOVO THINKBOOK 14 G6 ABP 14IN NOTEBOOK",
    ),
    "4A0036": Documented(
        _DELL, "Displays", "Monitors", "E2016HV", "0884116186519",
        "DELL E2016HV 19.5IN LED MONITOR",
    ),
    "123512": Documented(
        _STARTECH, "Accessories", "Cables", "N6PATCH10BL", "0065030856517",
        "STARTECH.COM 10FT CAT6 PATCH CABLE BLUE",
    ),
    "2RT113": Documented(
        _CISCO, "Networking", "Switches", "C1000-8T-2G-L", "0889728247896",
        "CISCO CATALYST 1000 8-PORT GIGABIT SWITCH",
    ),
    "9DD437": Documented(
        _APC, "Power", "UPS", "BE600M1", "0731304333293", "APC BACK-UPS 600VA 120V UPS",
    ),
    "3LK902": Documented(
        _LOGITECH, "Accessories", "Keyboards & Mice", "920-009295", "0097855159165",
        "LOGITECH MX KEYS WIRELESS KEYBOARD", customer_part_number="MY-SKU-1",
    ),
}  # fmt: skip

DOCUMENTED = frozenset(DOCUMENTED_PRODUCTS)
BY_INDEX: dict[int, Documented] = {
    index: product
    for pn, product in DOCUMENTED_PRODUCTS.items()
    if (index := decode_part_number(pn)) is not None
}
DOCUMENTED_INDICES = frozenset(BY_INDEX)
BY_CUSTOMER_PART_NUMBER = {
    product.customer_part_number: pn
    for pn, product in DOCUMENTED_PRODUCTS.items()
    if product.customer_part_number
}
