"""``catalog load|search|stats`` and ``products add --from-catalog``: Ingram's price file.

The file tells what exists, to choose from; the API keeps what is tracked exact.
Example: ingram-sync catalog load ftp://ftp.example.com/PRICE.ZIP
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ingram.cli.choose import choice_options
from ingram.cli.common import State, pass_state, say
from ingram.cli.listing import listing_options, show_rows
from ingram.cli.shop import track_new_replacements
from ingram.clock import format_time
from ingram.config import Settings
from ingram.errors import InputError
from ingram.pricefile.choosing import Choice, catalog_stats, search_catalog
from ingram.pricefile.fetch import Login, fetch, parse_source
from ingram.pricefile.loading import LoadKind, LoadResult, load_price_file
from ingram.state.store import Store

SEARCH_HEADER = (
    f"{'part number':<12} {'vendor':<16} {'vendor part':<20} {'price':>10}  status      "
)


@click.group("catalog")
def catalog_group() -> None:
    """Ingram's price file: every product it offers, to search and choose from.

    Example: ingram-sync catalog stats
    """


@catalog_group.command("load")
@click.argument("source")
@click.option(
    "--full", "kind", flag_value=LoadKind.FULL.value, help="The file is the whole catalog."
)
@click.option(
    "--changes", "kind", flag_value=LoadKind.CHANGES.value, help="The file holds only A/C/D lines."
)
@click.option("--date", metavar="WHEN", help="The file's date, e.g. 2026-11-02T06:00 (UTC).")
@pass_state
def catalog_load(state: State, source: str, kind: str | None, date: str | None) -> None:
    """Load a price file: a PRICE.ZIP, PRICE.TXT or CSV path, or ftp://, ftps://, sftp://.

    The layout is detected and every line checked: a file that does not fit is
    refused whole. A full file replaces the catalog, a file of changes applies its
    lines. What it newly says of tracked products (discontinued, deleted, left out
    of a full file, a substitute) goes into their lifecycle, as a sync's word does;
    with track_replacements = true the substitutes it names are tracked.
    Login: INGRAM_FTP_USER, INGRAM_FTP_PASSWORD (or ftp_ssh_key for SFTP).

    Example: ingram-sync catalog load sftp://ftp.example.com:22/PRICE.ZIP
    """
    settings = state.settings()
    store = Store.open(settings.db)
    remote = parse_source(source)
    if remote is None:
        path, label = Path(source).expanduser(), source
        if not path.is_file():
            raise InputError(f"no price file at {source}: give a path, or ftp://, sftp:// ...")
    else:
        say(state, f"fetching {remote.label} ...", err=True)
        path, label = fetch(remote, login_of(settings), downloads_folder(settings)), remote.label
    result = load_price_file(
        store, path, source=label, kind=LoadKind(kind) if kind else None, date=file_date(date)
    )
    say(state, load_summary(result))
    tracking = track_new_replacements(settings, store)  # the substitutes the file named
    if tracking:
        say(state, tracking)


def login_of(settings: Settings) -> Login:
    return Login(settings.ftp_user, settings.ftp_password, settings.ftp_ssh_key)


def downloads_folder(settings: Settings) -> Path:
    """Beside the database: each database fetches (and resumes) its own files."""
    db = Path(settings.db).expanduser().resolve()
    return db.with_name(db.name + ".downloads")


def file_date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--date {text!r} is not a date such as 2026-11-02T06:00") from None
    return format_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def load_summary(result: LoadResult) -> str:
    if result.kind == LoadKind.FULL:
        what = f"{result.products:,} products"
    else:
        what = (
            f"{result.lines:,} lines of changes: added {result.added:,}, changed"
            f" {result.changed:,}, removed {result.deleted:,}; {result.products:,} products now"
        )
    return (
        f"loaded {result.source} ({result.layout}, {result.kind.value} file of"
        f" {result.file_date}): {what}; {result.tracked_changes} changes of tracked products"
        " (see `ingram-sync changes --source pricefile`)"
    )


@catalog_group.command("search")
@click.argument("text", required=False)
@choice_options
@listing_options
@pass_state
def catalog_search(
    state: State, text: str | None, output: str | None, limit: int | None, **choice: Any
) -> None:
    """Products of the price file whose description or part numbers hold TEXT.

    Example: ingram-sync catalog search "24-port" --vendor CISCO
    """
    if text and choice.get("match"):
        raise InputError("give the text once: as TEXT or as --match")
    chosen = Choice(**{**choice, "match": text or choice.get("match")}, limit=limit or 50)
    rows = search_catalog(state.store(readonly=True), chosen)
    show_rows(state, output, rows, search_table, "no product of the price file matches")


def search_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [SEARCH_HEADER + "description"]
    for row in rows:
        price = "" if row["customer_price"] is None else f"{row['customer_price']:.2f}"
        mark = "*" if row["tracked"] else " "
        lines.append(
            f"{row['ingram_part_number'] + mark:<12} {str(row['vendor_name'] or '')[:16]:<16}"
            f" {str(row['vendor_part_number'] or '')[:20]:<20} {price:>10}"
            f"  {row['status']:<19}{str(row['description'] or '')[:60]}"
        )
    lines.append("(* tracked)")
    return lines


@catalog_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="A JSON object.")
@click.option("--top", default=20, show_default=True, type=click.IntRange(1), help="Rows a list.")
@pass_state
def catalog_stats_command(state: State, as_json: bool, top: int) -> None:
    """The price file loaded last: its date, counts by status, vendor and category.

    Example: ingram-sync catalog stats --top 10
    """
    stats = catalog_stats(state.store(readonly=True), top)
    if as_json:
        import json

        click.echo(json.dumps(stats, indent=2))
        return
    if not stats["products"]:
        say(state, "the catalog is empty: load a price file with `ingram-sync catalog load`")
        return
    click.echo(f"price file of {stats['file_date']} from {stats['source']} ({stats['layout']})")
    click.echo(
        f"loaded {stats['loaded_at']}: {stats['products']:,} products, {stats['tracked']:,} tracked"
    )
    click.echo("by status: " + ", ".join(f"{k} {v:,}" for k, v in stats["by_status"].items()))
    for title, key in (("vendor", "vendors"), ("category", "categories")):
        click.echo(f"\n{title:<32} products")
        for row in stats[key]:
            click.echo(f"{str(row['name'] or '(none)')[:32]:<32} {row['products']:>8,}")
