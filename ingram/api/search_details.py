"""``--details-source search``: the basic details of many products from one catalog search.

An experiment, off by default. Catalog search takes ``vendorPartNumber`` as
an array and answers description, category, subcategory, vendor, UPC and
product type for up to 100 products a page, where the details endpoint needs
one call per product at 60 a minute. Ingram does not document how search
matches an array of vendor part numbers, so only answers whose Ingram part
number is one we asked for are taken; every product the search did not answer
gets the details endpoint, as it would without the experiment. One page is asked
per group (it holds every product the keys name); a search that answers products
no key names ignores the filter, and the source is dropped for the rest of the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ingram.errors import ApiError
from ingram.models import DetailsBatch, Lifecycle, ProductDetails, SearchResult
from ingram.vocab import DetailsSource

if TYPE_CHECKING:
    from ingram.api.client import IngramClient

log = logging.getLogger("ingram.api.search_details")
SEARCH_GROUP = 100  # vendor part numbers per search call: the vendor's largest page


class SearchDetails:
    """``--details-source search`` for one run, dropped for the rest of it (one warning)
    the first time the search answers products that none of the asked keys name: it
    ignored the ``vendorPartNumber`` filter, and its pages would be the whole catalog."""

    def __init__(self, client: IngramClient) -> None:
        self.client = client
        self.dropped = False
        self._lock = threading.Lock()

    def fetch(
        self, part_numbers: Sequence[str], vendor_part_numbers: Mapping[str, str]
    ) -> DetailsBatch:
        """Details of ``part_numbers``: from one search where it answers, else one call each.

        ``vendor_part_numbers`` maps part numbers to theirs (from P&A); one without
        goes straight to the details endpoint. A details call that fails fails its
        product only; an error that ends the run (the policy's) ends the batch.
        """
        answered = self._answered(part_numbers, vendor_part_numbers)
        details, failed = [], []
        for pn in part_numbers:
            if pn in answered:
                details.append(answered[pn])
                continue
            try:
                details.append(self.client.product_details(pn))
            except ApiError as error:
                if error.resolution.then.ends_run:
                    raise
                failed.append((pn, error))
        return DetailsBatch(details, failed)

    def _answered(
        self, part_numbers: Sequence[str], vendor_part_numbers: Mapping[str, str]
    ) -> dict[str, ProductDetails]:
        wanted = {pn.upper(): pn for pn in part_numbers}
        asked = list(
            dict.fromkeys(
                vendor_part_numbers[pn] for pn in part_numbers if pn in vendor_part_numbers
            )
        )[:SEARCH_GROUP]
        answered: dict[str, ProductDetails] = {}
        results = self._search(asked)
        if not self._filtered(asked, results):
            return answered
        for result in results:
            pn = wanted.get(result.ingram_part_number.upper())
            if pn is not None:  # an exact match on the Ingram part number, nothing looser
                answered.setdefault(pn, from_search(pn, result))
        return answered

    def _search(self, vendor_part_numbers: list[str]) -> list[SearchResult]:
        """The search's answers; none when it failed (every product then gets its details call)."""
        if not vendor_part_numbers or self.dropped:
            return []
        try:
            return self.client.search_vendor_part_numbers(vendor_part_numbers)
        except ApiError as error:
            if error.resolution.then.ends_run:
                raise
            log.warning("search for details failed, using the details endpoint: %s", error)
            return []

    def _filtered(self, asked: list[str], results: list[SearchResult]) -> bool:
        """Whether the search kept to the keys asked; drops the source, once, if it did not."""
        keys = {vpn.upper() for vpn in asked}
        if all((result.vendor_part_number or "").upper() in keys for result in results):
            return True
        with self._lock:
            if not self.dropped:
                self.dropped = True
                log.warning(
                    "catalog search answered products no vendor part number asked for: it"
                    " ignores the vendorPartNumber filter, so the details endpoint fills"
                    " details for the rest of this run (--details-source search is off)"
                )
        return False


def from_search(part_number: str, result: SearchResult) -> ProductDetails:
    return ProductDetails(
        ingram_part_number=part_number,
        found=True,
        vendor_part_number=result.vendor_part_number,
        upc=result.upc,
        vendor_name=result.vendor_name,
        description=result.description,
        category=result.category,
        subcategory=result.subcategory,
        product_type=result.product_type,
        source=DetailsSource.SEARCH,
        lifecycle=Lifecycle(part_number, result.discontinued, result.replacement_sku),
    )
