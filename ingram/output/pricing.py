"""What a person reads of prices and shop exports: previews, summaries, replacements.

Every line stays within 100 columns. Example::

    for line in product_lines(product, values):
        print(line)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingram.output.reports import plural
from ingram.publish.exporting import ExportCounts
from ingram.publish.preview import PreviewSummary
from ingram.publish.pricing import FLAG_MEANINGS, LEFT_OUT, Flag, Published
from ingram.publish.settings import PublishRules

LIST_FLAGGED = "list them with `ingram-sync pricing preview --flagged`"


def product_lines(product: dict[str, Any], values: Published) -> list[str]:
    """Three lines: the product, each step's price, what is published."""
    head = f"{product['ingram_part_number']}  {product['vendor_name'] or ''}"
    head += f"  {(product['description'] or '')[:60]}"
    steps = values.steps
    if values.rule is None or steps is None:
        priced = f"  cost {_money(values.cost)}: not priced"
    else:
        priced = (
            f"  cost {_money(values.cost)}, {values.rule.label}: {values.rule.method}"
            f" {steps.base} -> ending {steps.ending} -> cap {steps.capped}"
            f" -> floor {steps.floored}"
        )
    margin = "" if values.margin is None else f", margin {values.margin}%"
    flags = ", ".join(sorted(values.flags)) or "none"
    shown = "" if values.listed else " (unpublished)"
    published = (
        f"  price {_money(values.price)}{margin}; stock {values.ingram_stock}"
        f" -> published {values.stock}{shown}; flags: {flags}"
    )
    return [head.rstrip()[:100], priced[:100], published[:100]]


def _money(value: object) -> str:
    return "-" if value is None else str(value)


def summary_lines(summary: PreviewSummary, rules: PublishRules) -> list[str]:
    """How many products each rule priced, what was flagged, and what exports leave out."""
    default = rules.default
    head = f"{plural(summary.products, 'product', 'products')}, priced by"
    head += f" {plural(len(rules.rules), 'rule', 'rules')} and the default"
    if default is not None:
        head += f" ({default.method}, min margin {default.min_margin}%)"
    lines = [head + ":"]
    labels = [rule.label for rule in (*rules.rules, *([default] if default else []))]
    width = max((len(label) for label in labels), default=0)
    for label in labels:
        lines.append(f"  {label:<{width}}  {summary.by_rule[label]:>7} priced")
    if summary.flags:
        lines.append("flagged:")
        for flag in Flag:
            if summary.flags[flag]:
                lines.append(f"  {flag:<15} {summary.flags[flag]:>7}  {FLAG_MEANINGS[flag]}")
    if summary.left_out:
        lines.append(f"left out of shop exports: {summary.left_out}; {LIST_FLAGGED}")
    return [line[:100] for line in lines]


def export_lines(counts: ExportCounts, target: str, output: str, full: bool) -> list[str]:
    """What an export wrote, and one line for what it left out."""
    kind = "full" if full else f"delta, {counts.unchanged} unchanged"
    withdrawn = f", {counts.withdrawn} withdrawn at stock 0" if counts.withdrawn else ""
    written = plural(counts.written, "row", "rows")
    lines = [f"wrote {written} to {output} ({target} {kind}{withdrawn})"]
    left = sum(counts.left_out.values())
    if left:
        reasons = ", ".join(
            f"{counts.left_out[flag]} {FLAG_MEANINGS[flag]}"
            for flag in LEFT_OUT
            if counts.left_out[flag]
        )
        lines.append(f"left out {plural(left, 'product', 'products')}: {reasons}; {LIST_FLAGGED}")
    return lines


REPLACED_HEADER = (
    f"{'part number':<20}  {'status':<14}  {'gone since':<10}  {'replacement':<20}  tracked"
)


def replaced_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """``products list --replaced``: each product, since when it is gone, its replacement."""
    lines = [REPLACED_HEADER]
    for row in rows:
        status = "discontinued" if row["discontinued"] else row["status"]
        since = (row["discontinued_since"] or "-")[:10]
        tracked = "yes" if row["replacement_tracked"] else "no"
        lines.append(
            f"{row['ingram_part_number']:<20}  {status:<14}  {since:<10}"
            f"  {row['replacement_part_number']:<20}  {tracked}"
        )
    return lines
