"""Reading the catalog: search it, count it, choose products to track, show file prices.

Every text test is case-insensitive. A vendor is named whole (its name or its
number, as ``catalog stats`` lists them); a category matches as a prefix, so the
two digits of a US category take in all its subcategories.

Example::

    pns = chosen_part_numbers(store, Choice(vendors=("cisco",), match="switch"))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingram.errors import InputError
from ingram.pricefile.layouts import CatalogStatus
from ingram.state.store import Store, batched
from ingram.vocab import ChangeSource

SEARCH_COLUMNS = (
    "ingram_part_number",
    "vendor_name",
    "vendor_number",
    "vendor_part_number",
    "description",
    "category",
    "customer_price",
    "retail_price",
    "available",
    "quantity",
    "status",
    "substitute_part_number",
    "upc",
    "file_date",
)
EMPTY = "the catalog is empty: load Ingram's price file first: ingram-sync catalog load PRICE.ZIP"


@dataclass(frozen=True)
class Choice:
    """Which catalog products: any of ``vendors``, any of ``categories``, ``match`` text."""

    vendors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    match: str | None = None
    include_discontinued: bool = False
    limit: int | None = None


def like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself anywhere (``%`` and ``_`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(choice: Choice, table: str = "catalog") -> tuple[str, list[Any]]:
    """The WHERE clause (columns of ``table``) and its parameters."""
    vendor = f"{table}.vendor_name = ? COLLATE NOCASE OR {table}.vendor_number = ? COLLATE NOCASE"
    category = f"{table}.category LIKE ? ESCAPE '\\'"
    text = (
        f"({table}.description LIKE ? ESCAPE '\\' OR {table}.vendor_part_number LIKE ?"
        f" ESCAPE '\\' OR {table}.ingram_part_number LIKE ? ESCAPE '\\' OR {table}.upc = ?)"
    )
    clauses: list[str] = []
    params: list[Any] = []
    if choice.vendors:
        clauses.append("(" + " OR ".join([vendor] * len(choice.vendors)) + ")")
        params += [name.strip() for name in choice.vendors for _ in range(2)]
    if choice.categories:
        clauses.append("(" + " OR ".join([category] * len(choice.categories)) + ")")
        params += [like(name.strip())[1:] for name in choice.categories]  # a prefix
    if choice.match:
        clauses.append(text)
        params += [like(choice.match.strip())] * 3 + [choice.match.strip()]
    if not choice.include_discontinued:
        clauses.append(f"{table}.status IN (?, ?)")
        params += [CatalogStatus.ACTIVE.value, CatalogStatus.TO_BE_DISCONTINUED.value]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def check_catalog(store: Store, vendors: Sequence[str] = ()) -> None:
    """InputError when the catalog is empty, or names none of ``vendors``."""
    if store.db.execute("SELECT 1 FROM catalog LIMIT 1").fetchone() is None:
        raise InputError(EMPTY)
    for vendor in vendors:
        found = store.db.execute(
            "SELECT 1 FROM catalog WHERE vendor_name = ? COLLATE NOCASE"
            " OR vendor_number = ? COLLATE NOCASE LIMIT 1",
            (vendor.strip(), vendor.strip()),
        ).fetchone()
        if found is None:
            near = [
                row[0]
                for row in store.db.execute(
                    "SELECT DISTINCT vendor_name FROM catalog WHERE vendor_name LIKE ? ESCAPE '\\'"
                    " ORDER BY 1 LIMIT 5",
                    (like(vendor.strip()),),
                )
            ]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(
                f"no vendor {vendor!r} in the price file (see `ingram-sync catalog stats`){hint}"
            )


def chosen_part_numbers(store: Store, choice: Choice) -> list[str]:
    """The part numbers ``choice`` picks, in part-number order."""
    check_catalog(store, choice.vendors)
    clause, params = where(choice)
    limit = f" LIMIT {int(choice.limit)}" if choice.limit else ""
    sql = f"SELECT ingram_part_number FROM catalog{clause} ORDER BY 1{limit}"
    return [row[0] for row in store.db.execute(sql, params)]


def search_catalog(store: Store, choice: Choice) -> list[dict[str, Any]]:
    """Catalog rows ``choice`` picks, each with ``tracked``, prices as Decimal."""
    check_catalog(store, choice.vendors)
    clause, params = where(choice, "c")
    limit = f" LIMIT {int(choice.limit)}" if choice.limit else ""
    columns = ", ".join(f"c.{name}" for name in SEARCH_COLUMNS)
    sql = (
        f"SELECT {columns}, p.ingram_part_number IS NOT NULL AS tracked FROM catalog AS c"
        f" LEFT JOIN products AS p ON p.ingram_part_number = c.ingram_part_number{clause}"
        f" ORDER BY 1{limit}"
    )
    return [catalog_row(row) for row in store.db.execute(sql, params)]


def catalog_row(row: Any) -> dict[str, Any]:
    item = dict(row)
    for name in ("customer_price", "retail_price"):
        if item[name] is not None:
            item[name] = Decimal(item[name])
    for name in ("available", "tracked"):
        if item.get(name) is not None:
            item[name] = bool(item[name])
    return item


def catalog_stats(store: Store, top: int = 20) -> dict[str, Any]:
    """The last load, counts by status, and the ``top`` vendors and categories by count."""
    db = store.db
    last = db.execute("SELECT * FROM catalog_loads ORDER BY id DESC LIMIT 1").fetchone()
    total = db.execute("SELECT COUNT(*) FROM catalog").fetchone()[0]
    tracked = db.execute(
        "SELECT COUNT(*) FROM catalog JOIN products USING (ingram_part_number)"
    ).fetchone()[0]

    def counts(column: str) -> list[dict[str, Any]]:
        sql = (
            f"SELECT {column} AS name, COUNT(*) AS products FROM catalog GROUP BY {column}"
            " ORDER BY 2 DESC, 1 LIMIT ?"
        )
        return [dict(row) for row in db.execute(sql, (top,))]

    return {
        "file_date": last["file_date"] if last else None,
        "source": last["source"] if last else None,
        "layout": last["layout"] if last else None,
        "kind": last["kind"] if last else None,
        "loaded_at": last["finished_at"] if last else None,
        "products": total,
        "tracked": tracked,
        "by_status": {row["name"]: row["products"] for row in counts("status")},
        "vendors": counts("vendor_name"),
        "categories": counts("category"),
    }


def with_file_prices(store: Store, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Export rows where P&A gave no price, priced from the catalog and marked as such."""
    for group in batched(rows, 500):
        unpriced = [row["ingram_part_number"] for row in group if row["customer_price"] is None]
        prices = file_prices(store, unpriced) if unpriced else {}
        for row in group:
            found = prices.get(row["ingram_part_number"])
            if found and row.get("price_source") is None:
                customer, retail, date = found
                row = row | {
                    "customer_price": Decimal(customer),
                    "retail_price": None if retail is None else Decimal(retail),
                    "price_source": ChangeSource.PRICEFILE.value,
                    "price_as_of": date,
                }
            yield row


def file_prices(store: Store, pns: Sequence[str]) -> dict[str, tuple[str, str | None, str]]:
    marks = ", ".join("?" * len(pns))
    rows = store.db.execute(
        "SELECT ingram_part_number, customer_price, retail_price, file_date FROM catalog"
        f" WHERE customer_price IS NOT NULL AND ingram_part_number IN ({marks})",
        tuple(pns),
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}
