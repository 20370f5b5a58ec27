"""The published sell price and stock of a product, for the mirror's ``sell_price`` and
``published_stock`` columns: what the price and stock rules (``ingram.publish.pricing``)
make of it, as a shop export would. With no ``[pricing]`` nor ``[stock]`` configured,
both columns stay empty (NULL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingram.publish.pricing import Publisher
from ingram.publish.settings import PublishRules, StockRules


@dataclass(frozen=True)
class Published:
    sell_price: Decimal | None
    stock: int | None


def no_rules(product: Mapping[str, Any]) -> Published | None:
    """No price or stock rules configured: nothing published."""
    return None


def rules_publisher(rules: PublishRules) -> Callable[[Mapping[str, Any]], Published | None]:
    """What ``rules`` publish for an export dict; ``no_rules`` when none are configured."""
    if rules.default is None and not rules.rules and rules.stock == StockRules():
        return no_rules
    publisher = Publisher(rules)

    def published(product: Mapping[str, Any]) -> Published | None:
        values = publisher.publish(product)
        return Published(values.price, values.stock)

    return published
