"""From Ingram's cost to the price and stock a shop publishes, by the configured rules.

The steps, in this order and no other: the matching rule's markup or margin on the
cost (rounded up to the cent, so never less than asked) → the price ending → the
cap at Ingram's retail price → the MAP floor (after the cap, so the floor wins)
→ the margin check. Money is ``Decimal`` throughout.

Stock: ``max(0, stock - buffer)``, and 0 when that is below ``min_stock``; a
product that is gone (discontinued, or no longer found by P&A) publishes 0 and,
``delist_after_days`` after it went, is no longer listed.

The one entry point, also for the database mirror::

    publisher = Publisher(rules)            # rules: ingram.config.load_publish_rules(...)
    values = publisher.publish(product)     # a products row with PUBLISH_COLUMNS
    values.price, values.stock, values.flags, values.listed
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from ingram.publish.settings import PriceRule, PublishRules

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
# The products columns ``Publisher.publish`` reads (prices as decimal text or Decimal).
PUBLISH_COLUMNS = (
    "ingram_part_number",
    "vendor_name",
    "category",
    "subcategory",
    "status",
    "customer_price",
    "retail_price",
    "map_price",
    "total_availability",
    "discontinued",
    "discontinued_since",
)


class Flag(StrEnum):
    """Why a product is not published as priced, or is published differently."""

    NOT_FOUND = "not_found"  # P&A does not (or no longer) know it
    NOT_AUTHORIZED = "not_authorized"  # the account may not buy it
    NO_COST = "no_cost"  # no customer price (never synced, or none given)
    BELOW_MARGIN = "below_margin"  # under min_margin after cap and floor
    DISCONTINUED = "discontinued"  # Ingram marks it so: stock 0
    DELISTED = "delisted"  # gone longer than delist_after_days: unpublished/draft
    NO_SKU = "no_sku"  # the chosen --shop-sku key is missing (set by the export)


# Flags that keep a product out of shop files (unless it was published before: then
# its row is withdrawn with stock 0). In this order they name the reason.
LEFT_OUT = (Flag.NOT_FOUND, Flag.NOT_AUTHORIZED, Flag.NO_COST, Flag.BELOW_MARGIN, Flag.NO_SKU)
FLAG_MEANINGS = {
    Flag.NOT_FOUND: "not known to Ingram",
    Flag.NOT_AUTHORIZED: "not authorized for this account",
    Flag.NO_COST: "without a cost",
    Flag.BELOW_MARGIN: "below the minimum margin",
    Flag.DISCONTINUED: "discontinued: stock 0",
    Flag.DELISTED: "gone longer than delist_after_days: unpublished",
    Flag.NO_SKU: "without the chosen shop SKU",
}


class PriceSteps(NamedTuple):
    """The price after each step, in order."""

    base: Decimal  # markup or margin on the cost
    ending: Decimal
    capped: Decimal  # at the retail price
    floored: Decimal  # at the MAP price: the final price


class Published(NamedTuple):
    """What a product publishes: price (None without a cost), stock, flags, listed.

    A tuple rather than a dataclass: an export makes one per product (measured: a
    frozen dataclass costs a quarter of an export's time).
    """

    rule: PriceRule | None
    cost: Decimal | None
    steps: PriceSteps | None
    ingram_stock: int
    stock: int
    flags: frozenset[Flag]
    listed: bool

    @property
    def price(self) -> Decimal | None:
        return None if self.steps is None else self.steps.floored

    @property
    def margin(self) -> Decimal | None:
        """Percent of the price, cut to 2 decimals."""
        if self.steps is None or self.cost is None:
            return None
        price = self.steps.floored
        return ((price - self.cost) * HUNDRED / price).quantize(CENT, ROUND_DOWN)

    @property
    def publishable(self) -> bool:
        """Written to shop files as priced (see ``LEFT_OUT``)."""
        return self.steps is not None and self.flags.isdisjoint(LEFT_OUT)


NO_FLAGS: frozenset[Flag] = frozenset()


class Publisher:
    """Prices products by ``rules``; ``now`` decides which gone products are delisted."""

    def __init__(self, rules: PublishRules, now: datetime | None = None) -> None:
        self.rules = rules
        self.buffer, self.min_stock = rules.stock.buffer, rules.stock.min_stock
        moment = (now or datetime.now(UTC)) - timedelta(days=rules.delist_after_days)
        # stored times are UTC ISO-8601 text, so they compare as text
        self.delist_before = moment.astimezone(UTC).isoformat(timespec="milliseconds")[:23]

    def publish(self, product: Mapping[str, Any]) -> Published:
        flags = self.flags(product)
        price = product["customer_price"]
        cost = None if price is None else Decimal(price)
        rule = self.rules.rule_for(
            product["ingram_part_number"],
            product["vendor_name"],
            product["category"],
            product["subcategory"],
        )
        steps = None
        if cost is None or cost <= ZERO:
            flags = flags | {Flag.NO_COST}
        elif rule is not None:
            steps = price_steps(cost, rule, product["retail_price"], product["map_price"])
            price = steps.floored  # margin (price - cost) / price below min_margin percent:
            if (price - cost) * HUNDRED < rule.min_margin * price:
                flags = flags | {Flag.BELOW_MARGIN}
        stock = product["total_availability"] or 0
        if stock < 0:
            stock = 0
        if not flags:  # the common case: no set look-ups (an enum member hashes slowly)
            return Published(rule, cost, steps, stock, self.published_stock(stock), flags, True)
        gone = Flag.DISCONTINUED in flags or Flag.NOT_FOUND in flags
        shown = 0 if gone else self.published_stock(stock)
        return Published(rule, cost, steps, stock, shown, flags, Flag.DELISTED not in flags)

    def published_stock(self, stock: int) -> int:
        """``max(0, stock - buffer)``, or 0 when that is below ``min_stock``."""
        left = stock - self.buffer
        return left if left >= self.min_stock and left > 0 else 0

    def flags(self, product: Mapping[str, Any]) -> frozenset[Flag]:
        """What the product's status, discontinued flag and gone time say."""
        status = product["status"]
        discontinued = product["discontinued"]
        since = product["discontinued_since"]
        if status == "active" and not discontinued and since is None:
            return NO_FLAGS  # the common case, without building a set
        flags = set()
        if status == "not_found":
            flags.add(Flag.NOT_FOUND)
        elif status == "not_authorized":
            flags.add(Flag.NOT_AUTHORIZED)
        if discontinued:
            flags.add(Flag.DISCONTINUED)
        if since is not None and since[:23] < self.delist_before:
            flags.add(Flag.DELISTED)
        return frozenset(flags)


def money(value: Any) -> Decimal | None:
    """A stored price (decimal text, or already a Decimal) as a Decimal."""
    return None if value is None else Decimal(value)


def price_steps(cost: Decimal, rule: PriceRule, retail: Any, map_price: Any) -> PriceSteps:
    """Each step's price for ``cost`` under ``rule``, given the retail and MAP prices."""
    if rule.margin is not None:  # divided, not times 1/(1-m): that inverse is inexact
        base = (cost * HUNDRED / (HUNDRED - rule.margin)).quantize(CENT, ROUND_UP)
    else:  # (100 + markup) / 100 is exact
        base = (cost * rule.factor).quantize(CENT, ROUND_UP)
    ended = with_ending(base, rule.ending, rule.period)
    capped = ended
    if rule.cap_at_retail and retail is not None:
        retail_price = Decimal(retail)
        if ZERO < retail_price < ended:
            capped = retail_price
    floored = capped
    if rule.map_floor and map_price is not None:
        floor = Decimal(map_price)
        if floor > capped:  # a MAP of 0 is none
            floored = floor
    return PriceSteps(base, ended, capped, floored)


def with_ending(price: Decimal, ending: Decimal | None, period: Decimal) -> Decimal:
    """The lowest price >= ``price`` that ends in ``ending`` every ``period`` (0.99 every 1:
    x.99; 9.99 every 10: x9.99)."""
    if ending is None:
        return price
    candidate = price // period * period + ending
    return candidate if candidate >= price else candidate + period
