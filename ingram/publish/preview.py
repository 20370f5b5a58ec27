"""``pricing preview``: what the rules make of each product, or of the whole catalog.

Example::

    for product, values in priced(store, rules, ["6YE881"]):
        print(product["ingram_part_number"], values.price, sorted(values.flags))
    summary = summarize(priced(store, rules))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingram.publish.pricing import Flag, Published, Publisher
from ingram.publish.settings import PublishRules
from ingram.state.products import export_products
from ingram.state.store import Store


def priced(
    store: Store, rules: PublishRules, part_numbers: Sequence[str] = ()
) -> Iterator[tuple[dict[str, Any], Published]]:
    """Each product (all, or those named) with what it publishes."""
    publisher = Publisher(rules)
    for product in export_products(store, part_numbers=part_numbers):
        yield product, publisher.publish(product)


@dataclass
class PreviewSummary:
    """How many products each rule priced, and how many carry each flag."""

    products: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)  # rule label -> products priced
    flags: Counter[Flag] = field(default_factory=Counter)
    left_out: int = 0  # not written to shop files (unless published before)


def summarize(items: Iterable[tuple[dict[str, Any], Published]]) -> PreviewSummary:
    summary = PreviewSummary()
    for _, values in items:
        summary.products += 1
        if values.rule is not None and values.price is not None:
            summary.by_rule[values.rule.label] += 1
        summary.flags.update(values.flags)
        summary.left_out += not values.publishable
    return summary


def preview_record(product: dict[str, Any], values: Published) -> dict[str, Any]:
    """The ``pricing preview --json`` object of one product (money as Decimal)."""
    steps = values.steps
    return {
        "ingram_part_number": product["ingram_part_number"],
        "vendor_name": product["vendor_name"],
        "category": product["category"],
        "description": product["description"],
        "cost": values.cost,
        "retail_price": product["retail_price"],
        "map_price": product["map_price"],
        "rule": None if values.rule is None else values.rule.label,
        "method": None if values.rule is None else values.rule.method,
        "steps": None
        if steps is None
        else {
            "base": steps.base,
            "ending": steps.ending,
            "capped": steps.capped,
            "floored": steps.floored,
        },
        "price": values.price,
        "margin": values.margin,
        "stock": values.ingram_stock,
        "published_stock": values.stock,
        "listed": values.listed,
        "publishable": values.publishable,
        "flags": sorted(values.flags),
        "discontinued_since": product["discontinued_since"],
        "replacement_part_number": product["replacement_part_number"],
    }
