"""The keys resellers have: vendor part numbers, UPCs and their own customer part numbers.

P&A accepts any of them in place of the Ingram part number (spec lines
1591-1686), mixed in one request. A vendor part number may name several
Ingram SKUs (the same manufacturer part sold in two packagings): the sandbox
makes every 50th product share its neighbour's, and answers such a key with
one item per SKU, so a client has to notice and must not guess.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable

KEY_TYPES = ("ingramPartNumber", "vendorPartNumber", "upc", "customerPartNumber")
SHARED_VPN_EVERY = 50  # index % 50 == 49 shares the vendor part number of index - 1
CUSTOMER_PN_EVERY = 4  # the reseller gave its own part number to every 4th product
CUSTOMER_PN_PREFIX = "CP-"


def shares_vendor_part_number(index: int) -> bool:
    return index % SHARED_VPN_EVERY == SHARED_VPN_EVERY - 1


def customer_part_number(index: int, part_number: str) -> str | None:
    """The reseller's own part number of a product, if it gave one."""
    return f"{CUSTOMER_PN_PREFIX}{part_number}" if index % CUSTOMER_PN_EVERY == 0 else None


class KeyIndex:
    """Vendor part number and UPC -> catalog indices, built on the first lookup.

    Built once per catalog (a scan of every product's identity: about a second
    for a million products), so a catalog nobody asks by key costs nothing.
    """

    def __init__(
        self,
        size: int,
        identity: Callable[[int], tuple[str, str, str, str]],
        extra: Iterable[int] = (),
    ) -> None:
        self._size = size
        self._extra = tuple(extra)  # indices beyond ``size`` that answer by their keys too
        self._identity = identity
        self._lock = threading.Lock()
        self._by_vpn: dict[str, list[int]] | None = None
        self._by_upc: dict[str, list[int]] = {}

    def find(self, key_type: str, value: str) -> list[int]:
        """Indices a vendor part number (case-insensitive) or a UPC names; [] when none."""
        by_vpn, by_upc = self._built()
        if key_type == "vendorPartNumber":
            return by_vpn.get(value.strip().upper(), [])
        if key_type == "upc":
            return by_upc.get(value.strip().lstrip("0"), [])
        raise ValueError(f"not a searchable key: {key_type}")

    def _built(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        with self._lock:
            if self._by_vpn is None:
                by_vpn: dict[str, list[int]] = {}
                for index in itertools.chain(range(self._size), self._extra):
                    _, vpn, _, upc = self._identity(index)
                    by_vpn.setdefault(vpn.upper(), []).append(index)
                    self._by_upc.setdefault(upc.lstrip("0"), []).append(index)
                self._by_vpn = by_vpn
            return self._by_vpn, self._by_upc
