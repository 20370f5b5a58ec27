"""A shop target's file, streamed: every product priced by the rules, only what changed.

Each product is priced (``Publisher``) and compared with what the target last
published of it (its shop SKU, price, stock and listed flag). A delta writes the
rows that differ and the new ones; ``full`` writes all. A product left out
(``pricing.LEFT_OUT``) that was published before gets its row withdrawn: stock 0 at
its last price, so a shop never sells what is not there. What was written is
remembered only by ``commit``, once the caller has the file complete.

Example::

    export = TargetExport(store, target, rules, ShopSku.TRACKED, full=False)
    with atomic_output("woo.csv") as out:
        counts = export.write(out)
    export.commit()
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any

from ingram.clock import format_time
from ingram.output.exports import CSV_LINE_END
from ingram.publish.pricing import LEFT_OUT, PUBLISH_COLUMNS, Flag, Publisher, money
from ingram.publish.settings import PublishRules
from ingram.publish.targets import ShopRow, Target
from ingram.state.publishing import PendingState, products_with_state
from ingram.state.store import Store


class ShopSku(StrEnum):
    """Which key is the shop's SKU (``--shop-sku``)."""

    TRACKED = "tracked"  # the user's own key where tracked by one, else the Ingram part number
    INGRAM = "ingram"
    VENDOR = "vendor"
    UPC = "upc"
    CUSTOMER = "customer"


# the products columns each choice of shop SKU reads
SKU_COLUMNS = {
    ShopSku.TRACKED: ("user_key",),
    ShopSku.INGRAM: (),
    ShopSku.VENDOR: ("vendor_part_number",),
    ShopSku.UPC: ("upc",),
    ShopSku.CUSTOMER: ("user_key_type", "user_key"),
}


def customer_sku(product: dict[str, Any]) -> str | None:
    """The customer part number a product is tracked by (its own key, or another one)."""
    if product["user_key_type"] == "customerPartNumber":
        return product["user_key"]
    return product["customer_key"]


# The product's SKU in the shop for each choice, or None when it has no key of that kind.
SKU_OF: dict[ShopSku, Callable[[dict[str, Any]], str | None]] = {
    ShopSku.TRACKED: lambda product: product["user_key"] or product["ingram_part_number"],
    ShopSku.INGRAM: lambda product: product["ingram_part_number"],
    ShopSku.VENDOR: lambda product: product["vendor_part_number"],
    ShopSku.UPC: lambda product: product["upc"],
    ShopSku.CUSTOMER: customer_sku,
}


@dataclass
class ExportCounts:
    """What one export did."""

    written: int = 0
    unchanged: int = 0
    withdrawn: int = 0  # written with stock 0: published before, left out now
    left_out: Counter[Flag] = field(default_factory=Counter)


class TargetExport:
    """One export of ``target``: ``write`` the file, then ``commit`` what it published."""

    def __init__(
        self,
        store: Store,
        target: Target,
        rules: PublishRules,
        sku_choice: ShopSku,
        *,
        full: bool,
        now: datetime | None = None,
    ) -> None:
        self.store, self.target, self.sku_choice, self.full = store, target, sku_choice, full
        self.sku_of = SKU_OF[sku_choice]
        now = now or datetime.now(UTC)
        self.publisher = Publisher(rules, now)
        self.pending = PendingState(store, target.name, format_time(now))

    def write(self, out: IO[str]) -> ExportCounts:
        """Write the header and every row due; what was written is staged, not yet kept."""
        counts = ExportCounts()
        writer = csv.writer(out, lineterminator=CSV_LINE_END)
        writer.writerow(self.target.header)
        renders = [render for _, render in self.target.columns]
        rows = products_with_state(
            self.store,
            self.target.name,
            tuple(
                dict.fromkeys(
                    (*PUBLISH_COLUMNS, *self.target.fields, *SKU_COLUMNS[self.sku_choice])
                )
            ),
            customer_keys=self.sku_choice is ShopSku.CUSTOMER,
        )
        for product in rows:
            shop_row = self.shop_row(product, counts)
            if shop_row is None:
                continue
            writer.writerow([render(shop_row) for render in renders])  # text made safe there
            counts.written += 1
            if not shop_row.changed:  # written again (--full), nothing new to remember
                continue
            self.pending.add(
                product["ingram_part_number"],
                shop_row.sku,
                shop_row.price_text,
                shop_row.stock,
                shop_row.listed,
            )
        return counts

    def shop_row(self, product: dict[str, Any], counts: ExportCounts) -> ShopRow | None:
        """The row this product gets, or None: left out, or unchanged in a delta."""
        published = self.publisher.publish(product)
        sku = self.sku_of(product)
        last_sku = product["last_sku"]
        withdrawn = not (published.publishable and sku)
        if not withdrawn:
            price, stock, listed = published.price, published.stock, published.listed
        elif last_sku is not None:  # published before: withdraw it at its last price
            sku, price, stock = sku or last_sku, money(product["last_price"]), 0
            listed = published.listed and bool(product["last_listed"])
        else:
            flags = published.flags if sku else published.flags | {Flag.NO_SKU}
            counts.left_out[next(flag for flag in LEFT_OUT if flag in flags)] += 1
            return None
        assert sku is not None and price is not None  # set on both paths above
        price_text = str(price)  # prices are plain decimal text: never an exponent
        last = (last_sku, product["last_price"], product["last_stock"], product["last_listed"])
        changed = last != (sku, price_text, stock, int(listed))
        if not changed and not self.full:
            counts.unchanged += 1
            return None
        counts.withdrawn += withdrawn
        return ShopRow(sku, product, price, price_text, stock, listed, published, changed)

    def commit(self) -> int:
        """Remember what was written (call once the file is complete); returns how many."""
        return self.pending.commit()

    def discard(self) -> None:
        self.pending.discard()
