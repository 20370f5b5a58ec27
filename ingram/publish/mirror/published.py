"""The published sell price and stock of a product, for the mirror's ``sell_price`` and
``published_stock`` columns.

A seam: the price and stock rules (``[pricing]``, ``[stock]``) are built apart
and give one function with a product's published price and stock. Until that
function is wired in here, no product has a published price: the columns stay
empty (NULL) and every other column is mirrored as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Published:
    sell_price: Decimal | None
    stock: int | None


def published_price_and_stock(product: Mapping[str, Any]) -> Published | None:
    """What the price and stock rules publish for ``product`` (an export dict); None when
    no rules are configured. The rules are not part of this build yet: always None."""
    return None
