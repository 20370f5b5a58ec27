"""Into a shop: ``pricing preview``, ``export --target``, ``products list --replaced`` and
what a sync does about replacements (looked up; tracked with ``track_replacements``).

Example: ingram-sync export --target woocommerce -o /srv/shop/import/ingram.csv
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ingram.cli.common import State, configured_rules, pass_state, say
from ingram.cli.listing import show_rows, to_json
from ingram.config import Settings
from ingram.errors import ConfigError, IngramSyncError, InputError, StoreError
from ingram.inputs import part_numbers_from_args
from ingram.output.exports import atomic_output
from ingram.output.logs import FILE_ONLY
from ingram.output.pricing import export_lines, product_lines, replaced_table, summary_lines
from ingram.output.reports import plural
from ingram.publish.exporting import ShopSku, TargetExport
from ingram.publish.preview import preview_record, priced, summarize
from ingram.publish.settings import PublishRules
from ingram.publish.targets import BuiltinTarget, Target, builtin_target, custom_target
from ingram.state.lifecycle import replaced_products, track_replacements
from ingram.state.store import Store

if TYPE_CHECKING:
    from ingram.api.client import IngramClient
    from ingram.sync import RunSummary

log = logging.getLogger("ingram")
SHOP_SKU_CHOICES = [choice.value for choice in ShopSku if choice is not ShopSku.TRACKED]


def publish_rules(state: State) -> PublishRules:
    """The configured rules; shop prices need a ``[pricing]`` section."""
    rules = configured_rules(state)
    if rules.default is None:
        raise ConfigError(
            "no price rules: add a [pricing] section with markup or margin to the config file"
            " (see docs/shop.md)"
        )
    return rules


def existing_store(settings: Settings) -> Store:
    """The database, writable (the publish state is kept there), which must exist already."""
    if not Path(settings.db).exists():
        raise StoreError(
            f"no database at {settings.db}: track products and sync first, or use --db"
        )
    return Store.open(settings.db)


@click.group("pricing")
def pricing_group() -> None:
    """Price and stock rules. Example: ingram-sync pricing preview 6YE881"""


@pricing_group.command("preview")
@click.argument("skus", nargs=-1)
@click.option("--flagged", is_flag=True, help="Each product with a flag, instead of a summary.")
@click.option("--json", "as_json", is_flag=True, help="JSON: an array of products, or a summary.")
@pass_state
def pricing_preview(state: State, skus: tuple[str, ...], flagged: bool, as_json: bool) -> None:
    """Each product's cost, matching rule, each step's price, margin, published stock and flags;
    without part numbers a summary: products per rule and what was flagged.

    Example: ingram-sync pricing preview 6YE881 --json
    """
    rules = publish_rules(state)
    store = state.store(readonly=True)
    pns = part_numbers_from_args(skus)
    items = priced(store, rules, pns)
    if pns or flagged:
        chosen = [(p, values) for p, values in items if pns or values.flags]
        missing = sorted(set(pns) - {p["ingram_part_number"] for p, _ in chosen})
        if missing:
            raise InputError(
                f"not tracked: {', '.join(missing[:10])}; see `ingram-sync products list`"
            )
        if as_json:
            click.echo(to_json([preview_record(p, values) for p, values in chosen]))
        for product, values in [] if as_json else chosen:
            for line in product_lines(product, values):
                click.echo(line)
        if not chosen:
            say(state, "no product is flagged", err=True)
        return
    summary = summarize(items)
    if as_json:
        click.echo(
            to_json(
                {
                    "products": summary.products,
                    "rules": dict(summary.by_rule),
                    "flags": dict(summary.flags),
                    "left_out": summary.left_out,
                }
            )
        )
        return
    for line in summary_lines(summary, rules):
        click.echo(line)


def target_named(name: str, rules: PublishRules, location: str | None) -> Target:
    """A built-in target, or a ``[targets.NAME]`` of the config."""
    if name in set(BuiltinTarget):
        return builtin_target(BuiltinTarget(name), location or rules.stock.location)
    if name in rules.targets:
        return custom_target(name, rules.targets[name])
    known = ", ".join([*BuiltinTarget, *sorted(rules.targets)])
    raise InputError(f"unknown --target {name!r}: use {known}, or add [targets.{name}]")


def shop_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``export``'s options for a shop's file: ``--target``, ``--full``, ``--shop-sku``,
    ``--location`` (given to the command as those names)."""
    command = click.option(
        "--location",
        metavar="NAME",
        help="The Shopify location of shopify-inventory rows [[stock] location; Ingram Micro].",
    )(command)
    command = click.option(
        "--shop-sku",
        type=click.Choice(SHOP_SKU_CHOICES),
        help="The shop's SKU [the key a product is tracked by, else its Ingram part number].",
    )(command)
    command = click.option(
        "--full", is_flag=True, help="With --target: every row, not only what changed."
    )(command)
    return click.option(
        "--target",
        metavar="NAME",
        help="A shop's own CSV: woocommerce, shopify, shopify-inventory, magento, or a"
        " [targets.NAME] of the config.",
    )(command)


def shop_file_wanted(shop: dict[str, Any], **plain: Any) -> bool:
    """Whether ``export`` writes a shop's file (``--target``); the options of the other
    kind of export (``plain``, by name) are refused with it, and its own without it."""
    if not shop["target"]:
        if shop["full"] or shop["shop_sku"] or shop["location"]:
            raise InputError("--full, --shop-sku and --location go with --target")
        return False
    given = [name.replace("_", "-") for name, value in plain.items() if value]
    if given:
        raise InputError(f"--{given[0]} does not apply to --target (a shop's own CSV)")
    return True


def export_to_target(
    state: State,
    target: str,
    output: str | None,
    full: bool,
    shop_sku: str | None,
    location: str | None,
) -> None:
    """``export --target``: the shop's file, then remember what it published."""
    rules = publish_rules(state)
    chosen = target_named(target, rules, location)
    store = existing_store(state.settings())
    export = TargetExport(store, chosen, rules, ShopSku(shop_sku or ShopSku.TRACKED), full=full)
    if output in (None, "-"):
        counts = export.write(sys.stdout)
        sys.stdout.flush()
    else:
        try:
            with atomic_output(output) as out:
                counts = export.write(out)
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror or error}") from None
    export.commit()
    for line in export_lines(counts, chosen.name, output or "stdout", full):
        say(state, line, err=True)


def list_replaced(state: State, output: str | None, limit: int | None) -> None:
    """``products list --replaced``: gone products and the part numbers replacing them."""
    rows = replaced_products(state.store(readonly=True))
    show_rows(state, output, rows, replaced_table, "no product has a replacement", limit)


def follow_replacements(
    settings: Settings, store: Store, client: IngramClient, summary: RunSummary
) -> str | None:
    """After a sync: ask search for the replacements of products that went, and with
    ``track_replacements`` track the new ones; the line saying so, if any."""
    from ingram.discover import look_up_replacements

    if summary.status not in ("completed", "completed_with_failures"):
        return None
    try:
        look_up_replacements(store, client)
    except (IngramSyncError, sqlite3.Error) as error:  # the run itself is done and saved
        log.warning("warning: replacements were not followed up: %s", error)
        return None
    return track_new_replacements(settings, store)


def track_new_replacements(settings: Settings, store: Store) -> str | None:
    """With ``track_replacements``: track every replacement not tracked yet (a sync's
    lookups, a price file's substitutes); the line saying so, if any were added."""
    if not settings.track_replacements:
        return None
    try:
        pairs = track_replacements(store)
    except (IngramSyncError, sqlite3.Error) as error:  # what came before is done and saved
        log.warning("warning: replacements were not tracked: %s", error)
        return None
    if not pairs:
        return None
    named = ", ".join(f"{new} (for {old})" for old, new in pairs[:5])
    more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
    line = f"tracking {plural(len(pairs), 'replacement', 'replacements')}: {named}{more};"
    line += " the next sync prices them"
    log.info("%s", line, extra=FILE_ONLY)
    return line
