"""``ingram-sync products``: what is tracked, added by part number or key, found by search."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ingram.cli.choose import add_from_catalog, from_catalog_options
from ingram.cli.common import INGRAM_SANDBOX_HELP, CliError, State, open_client, pass_state, say
from ingram.cli.listing import checked_statuses, listing_options, show_rows
from ingram.cli.show import products_show
from ingram.config import VENDOR_SANDBOX_URL
from ingram.errors import InputError
from ingram.inputs import keys_from_args, part_numbers_from_args, read_part_numbers
from ingram.output.reports import keys_table, products_table
from ingram.state.keys import (
    add_keys,
    choose_candidates,
    forget_keys,
    keys_with_status,
)
from ingram.state.products import (
    add_products,
    export_products,
    remove_products,
    tracked_part_numbers,
)
from ingram.state.store import Store
from ingram.vocab import ExitStatus, ProductStatus

if TYPE_CHECKING:  # the client (and requests) load only for commands that call the API
    from collections.abc import Iterable, Iterator

    from ingram.api.client import IngramClient
    from ingram.discover import DiscoverResult, SearchQuery


@click.group()
def products() -> None:
    """Track part numbers. Example: ingram-sync products add 6YE881"""


@products.command("add")
@click.argument("skus", nargs=-1)
@click.option("--vpn", multiple=True, metavar="VPN", help="Track by vendor part number.")
@click.option("--upc", multiple=True, metavar="UPC", help="Track by UPC.")
@click.option("--cpn", multiple=True, metavar="CPN", help="Track by your customer part number.")
@from_catalog_options
@pass_state
def products_add(
    state: State,
    skus: tuple[str, ...],
    vpn: tuple[str, ...],
    upc: tuple[str, ...],
    cpn: tuple[str, ...],
    from_catalog: bool,
    **choice: Any,
) -> None:
    """Track part numbers, or products by the keys you have (resolved by the next sync),
    or products chosen from the price file (--from-catalog, see `catalog load`).

    Example: ingram-sync products add 6YE881 --vpn E2016HV --upc 0884116186519
    """
    if from_catalog:
        if skus or vpn or upc or cpn:
            raise InputError("--from-catalog chooses from the price file: give no part numbers")
        add_from_catalog(state, **choice)
        return
    if any(choice.values()):
        raise InputError("--vendor, --category, --match, --limit and --dry-run need --from-catalog")
    keys = [
        *keys_from_args("vendorPartNumber", vpn),
        *keys_from_args("upc", upc),
        *keys_from_args("customerPartNumber", cpn),
    ]
    if not skus and not keys:
        raise InputError("give part numbers, or keys with --vpn, --upc or --cpn")
    store = state.store()
    pns = part_numbers_from_args(skus)
    added, already = add_products(store, pns)
    settled = choose_candidates(store, pns)
    key_added, key_known = add_keys(store, keys)
    say(state, f"added {added + key_added}, already tracked {already + key_known}")
    if settled:
        say(state, f"{settled} ambiguous keys now name the part number you chose")
    if key_added:
        say(state, f"{key_added} keys are resolved to Ingram part numbers by the next sync")


def one_character(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--delimiter``: one character, or the word ``tab``."""
    if value is not None and value.lower() == "tab":
        return "\t"
    if value is not None and len(value) != 1:
        raise click.BadParameter(f"{value!r}: give one character, e.g. ';' or tab")
    return value


@products.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--delimiter",
    metavar="CHAR",
    callback=one_character,
    help="Column separator: ; , | or tab [sniffed; Excel's sep= line honoured].",
)
@pass_state
def products_import(state: State, file: Any, delimiter: str | None) -> None:
    """Track part numbers from a CSV file (or - for stdin).

    The file has a column ingramPartNumber, or a single column of part numbers,
    or any of the columns ingramPartNumber, vendorPartNumber (or vpn, mpn), upc
    and customerPartNumber (or cpn): each row is tracked by its Ingram part
    number if it has one (keeping its other key beside it), else by its first
    key, which the next sync resolves. Files saved by European Excel (; and
    sep=;), tab-separated files and Windows-1252 text are read too.

    Example: ingram-sync products import examples/products.csv
    """
    result = read_part_numbers(file, file.name, delimiter)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    store = state.store()
    added, already = add_products(store, result.part_numbers)
    key_added, key_known = add_keys(store, result.keys)
    say(
        state,
        f"added {added + key_added}, already tracked {already + key_known},"
        f" rejected {len(result.rejected)}",
    )
    for line, value, reason in result.rejected[:10]:
        click.echo(f"line {line}: {value!r} rejected: {reason}", err=True)
    if len(result.rejected) > 10:
        click.echo(f"... and {len(result.rejected) - 10} more rejected lines", err=True)
    if result.rejected:
        sys.exit(ExitStatus.ITEMS_FAILED)


@products.command("list")
@click.option("--status", multiple=True, help="Only products with this status (repeatable).")
@click.option(
    "--ambiguous", is_flag=True, help="Keys that name several Ingram part numbers, to choose from."
)
@click.option("--unmatched", is_flag=True, help="Keys that name no Ingram product.")
@click.option(
    "--replaced", is_flag=True, help="Products Ingram names a replacement for (see docs/shop.md)."
)
@listing_options
@pass_state
def products_list(
    state: State,
    status: tuple[str, ...],
    output: str | None,
    limit: int | None,
    ambiguous: bool,
    unmatched: bool,
    replaced: bool,
) -> None:
    """List tracked products. Example: ingram-sync products list --status not_found"""
    if replaced:
        from ingram.cli.shop import list_replaced

        list_replaced(state, output, limit)
        return
    if ambiguous or unmatched:
        list_keys(state, "ambiguous" if ambiguous else "not_found", output, limit)
        return
    rows = export_products(state.store(readonly=True), status=checked_statuses(status))
    statuses_shown: set[str] = set()
    show_rows(
        state,
        output,
        noting_statuses(rows, statuses_shown),
        products_table,
        "no products tracked",
        limit,
    )
    if output is None and ProductStatus.NOT_AUTHORIZED in statuses_shown:
        say(state, NOT_AUTHORIZED_HINT, err=True)


def noting_statuses(rows: Iterable[dict[str, Any]], seen: set[str]) -> Iterator[dict[str, Any]]:
    """``rows`` as they stream past, each one's status added to ``seen`` (none held)."""
    for row in rows:
        seen.add(row["status"])
        yield row


NOT_AUTHORIZED_HINT = (
    "not_authorized: Ingram knows the product, but your account may not buy it (its price is"
    " what Ingram showed); ask your Ingram rep to authorize it, or stop tracking it"
)
KEY_LIST_HINTS = {
    "ambiguous": ("no ambiguous keys", "track the right one: ingram-sync products add PART_NUMBER"),
    "not_found": ("no unmatched keys", "check these keys, or track by ingramPartNumber"),
}


def list_keys(state: State, status: str, output: str | None, limit: int | None) -> None:
    """Keys in ``status``: ambiguous ones with candidates, unmatched with the vendor's word."""
    rows = keys_with_status(state.store(readonly=True), status)
    empty, hint = KEY_LIST_HINTS[status]
    show_rows(state, output, rows, keys_table, empty, limit)
    if rows and output is None:
        say(state, hint, err=True)


@products.command("remove")
@click.argument("skus", nargs=-1, required=True)
@pass_state
def products_remove(state: State, skus: tuple[str, ...]) -> None:
    """Stop tracking part numbers. Example: ingram-sync products remove 6YE881"""
    store = state.store()
    pns = part_numbers_from_args(skus)
    untracked = [pn for pn in pns if pn not in set(tracked_part_numbers(store, pns))]
    removed = remove_products(store, pns)
    forget_keys(store, pns)
    say(state, f"removed {removed}")
    if untracked:
        shown = ", ".join(untracked[:20]) + (
            f" and {len(untracked) - 20} more" if len(untracked) > 20 else ""
        )
        click.echo(f"not tracked, so not removed: {shown}", err=True)


@products.command("discover")
@click.option("--vendor", help="Vendor name, e.g. Cisco.")
@click.option("--keyword", help="Words to look for.")
@click.option("--category", help="Category or subcategory.")
@click.option("--limit", default=500, show_default=True, help="At most this many matches.")
@click.option("--dry-run", is_flag=True, help="List what would be added; track nothing.")
@click.option("--ingram-sandbox", "vendor_sandbox", is_flag=True, help=INGRAM_SANDBOX_HELP)
@click.option(
    "--timeout", metavar="VALUE", help="Seconds per HTTP read, connect and TLS handshake [30]."
)
@click.option(
    "--deadline", metavar="VALUE", help="Seconds per HTTP attempt, connect to last body byte [120]."
)
@pass_state
def products_discover(
    state: State,
    limit: int,
    dry_run: bool,
    vendor_sandbox: bool,
    timeout: str | None,
    deadline: str | None,
    **query: Any,
) -> None:
    """Track the products a vendor catalog search finds.

    Example: ingram-sync products discover --vendor Cisco --dry-run
    """
    from ingram.discover import RESULT_HEADER, SearchQuery, result_line

    settings = state.settings(
        api_url=VENDOR_SANDBOX_URL if vendor_sandbox else None, timeout=timeout, deadline=deadline
    )
    client = open_client(settings)
    store = Store.open(settings.db)
    result = discover_with_progress(store, client, SearchQuery(**query), limit, dry_run, state)
    if (dry_run or state.verbose) and result.found:
        click.echo(RESULT_HEADER)
        new = set(result.new)
        for item in result.found:
            click.echo(result_line(item, item.ingram_part_number not in new))
    if dry_run:
        click.echo(
            f"found {len(result.found)}: would add {len(result.new)},"
            f" already tracked {result.already_tracked} (dry run: nothing added)"
        )
    else:
        say(
            state,
            f"found {len(result.found)}: added {result.added},"
            f" already tracked {result.already_tracked}",
        )
    if result.error is not None:
        raise CliError(
            f"the search stopped early, after {len(result.found)} matches: {result.error}",
            result.error.exit_status,
        )


products.add_command(products_show)


def discover_with_progress(
    store: Store,
    client: IngramClient,
    query: SearchQuery,
    limit: int,
    dry_run: bool,
    state: State,
) -> DiscoverResult:
    """``discover``, with a bar of its matches (the search pages at 1.1 s a page)."""
    from ingram.discover import discover
    from ingram.output.progress import SearchProgress

    progress = SearchProgress(limit, state.quiet)
    try:
        return discover(
            store, client, query, limit=limit, dry_run=dry_run, on_match=progress.matched
        )
    finally:
        progress.close()
