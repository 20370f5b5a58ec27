"""The price file in the library: layouts checked line by line, loads, and tracked products.

Real SQLite files in ``tmp_path``; the files come from the sandbox's own writer, or
are written here to break one thing at a time.
"""

from __future__ import annotations

import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from ingram.errors import PriceFileRefused
from ingram.models import Lifecycle, PriceAvailability
from ingram.pricefile.choosing import Choice, chosen_part_numbers, with_file_prices
from ingram.pricefile.loading import LoadKind, load_price_file
from ingram.sandbox.catalog import Catalog
from ingram.sandbox.pricefile import FileLayout, PriceFileOptions, us_fields, write_price_file
from ingram.state.history import list_changes
from ingram.state.lifecycle import observe_lifecycle
from ingram.state.products import add_products, export_products
from ingram.state.runs import create_run
from ingram.state.saving import DetailsPolicy, save_price_availability
from ingram.state.store import Store
from ingram.state.tasks import open_tasks, plan_pa_tasks
from ingram.vocab import ChangeSource

US_LINE = (
    '"A","6YE881","1234","DELL","LATITUDE 5440","14IN, I5","0001299.00","DL-5440","004.50",'
    '"0884116186519","014.00","010.00","002.00","N","0000999.99","N","Y"," ","","HW","0701","N",""'
)


def quoted(fields: list[str]) -> str:
    return ",".join(f'"{field}"' for field in fields)


def write(path: Path, *lines: str) -> Path:
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def catalog_rows(store: Store) -> dict[str, dict[str, object]]:
    return {row[0]: dict(row) for row in store.db.execute("SELECT * FROM catalog")}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "catalog.db")


def test_a_us_line_is_read_field_by_field_with_money_as_decimal_text(store, tmp_path):
    load_price_file(store, write(tmp_path / "PRICE.TXT", US_LINE), source="PRICE.TXT")
    row = catalog_rows(store)["6YE881"]
    assert row["description"] == "LATITUDE 5440 14IN, I5"  # the quoted comma stays inside
    assert (row["customer_price"], row["retail_price"], row["weight"]) == (
        "999.99",
        "1299.00",
        "4.50",
    )
    assert (row["available"], row["status"], row["category"]) == (1, "active", "0701")


def test_the_sandbox_file_loads_in_both_layouts(store, tmp_path):
    catalog = Catalog(size=120)
    for layout in FileLayout:
        path = write_price_file(catalog, tmp_path / layout.value, PriceFileOptions(layout=layout))
        result = load_price_file(store, path, source=path.name)
        assert result.products == 120 and result.kind == LoadKind.FULL
    rows = catalog_rows(store)
    pn = catalog.part_numbers(1)[0]
    item = catalog.price_availability_item(pn)
    pricing = item.get("pricing") or item["availability"]["pricing"]
    assert Decimal(str(rows[pn]["customer_price"])) == Decimal(str(pricing["customerPrice"]))
    assert rows[pn]["quantity"] == item["availability"]["totalAvailability"]  # Europe's stock


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (US_LINE.replace('"0000999.99"', '"999,99"'), "field 15 (customer price) '999,99'"),
        (US_LINE.replace('"0000999.99"', '"99999"'), "not a price such as 0000012.99"),
        (US_LINE.replace('"A",', '"X",', 1), "field 1 (action indicator) 'X'"),
        (US_LINE.replace('"Y"," "', '"maybe"," "'), "field 17 (availability flag)"),
        (US_LINE + ',"extra"', "24 fields where the first line had 23"),
    ],
)
def test_a_line_that_does_not_fit_refuses_the_whole_file(store, tmp_path, line, said):
    load_price_file(store, write(tmp_path / "old.txt", US_LINE), source="old.txt")
    path = write(tmp_path / "PRICE.TXT", US_LINE.replace("6YE881", "4A0036"), line)
    with pytest.raises(PriceFileRefused) as refused:
        load_price_file(store, path, source="PRICE.TXT")
    assert "PRICE.TXT line 2" in str(refused.value) and said in str(refused.value)
    assert list(catalog_rows(store)) == ["6YE881"]  # the old catalog, untouched
    names = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}
    assert "catalog_staging" not in names


def test_a_foreign_layout_and_a_cut_zip_are_refused_with_nothing_loaded(store, tmp_path):
    catalog = Catalog(size=50)
    for options, said in (
        (PriceFileOptions(foreign=True), "line 1: field 15 .customer price."),
        (PriceFileOptions(truncated=True), "not a whole ZIP file"),
    ):
        path = write_price_file(catalog, tmp_path / str(options.foreign), options)
        with pytest.raises(PriceFileRefused, match=said):
            load_price_file(store, path, source=path.name)
    assert catalog_rows(store) == {}


def test_tab_separated_and_latin_american_lines_are_known_layouts(store, tmp_path):
    fields = us_fields(Catalog(size=5), 1, "A", False)
    latam = fields[:7] + fields[8:21] + [fields[22]] + [""] * 9 + [fields[7]]
    write(tmp_path / "tab.txt", "\t".join(fields))
    write(tmp_path / "latam.txt", quoted(latam))
    for name in ("tab.txt", "latam.txt"):
        result = load_price_file(store, tmp_path / name, source=name)
        row = catalog_rows(store)[fields[1]]
        assert (row["vendor_part_number"], row["customer_price"]) == (
            fields[7],
            fields[14].lstrip("0"),
        )
        assert result.layout.startswith("US" if name == "tab.txt" else "Latin")


def test_a_file_of_changes_applies_its_lines_and_reports_tracked_ones(store, tmp_path):
    catalog = Catalog(size=200)
    full = write_price_file(catalog, tmp_path / "full", PriceFileOptions())
    load_price_file(store, full, source="full")
    gone = catalog.part_numbers(50)[49]  # the changes file deletes every 50th product
    add_products(store, [gone])
    changed = Catalog(size=200, price_epoch=1)
    path = write_price_file(changed, tmp_path / "changes", PriceFileOptions(changes_only=True))
    result = load_price_file(store, path, source="changes")
    assert result.kind == LoadKind.CHANGES and result.deleted == 4
    assert gone not in catalog_rows(store) and result.products == 196
    change = store.db.execute(
        "SELECT field, old_value, new_value, source FROM changes WHERE ingram_part_number = ?",
        (gone,),
    ).fetchall()
    assert [tuple(row) for row in change] == [("discontinued", "false", "true", "pricefile")]
    life = product(store, gone)  # the product's own lifecycle follows: gone since the file
    assert (life["discontinued"], life["discontinued_since"]) == (1, result.file_date)


def test_a_tracked_products_life_follows_the_file_one_change_row_per_fact(store, tmp_path):
    add_products(store, ["6YE881", "4A0036"])
    other = US_LINE.replace("6YE881", "4A0036")
    replaced = other.replace('"Y"," "', '"Y","*"')[: -len('""')] + '"9AB123"'

    def load(*lines: str, day: int) -> int:
        path = write(tmp_path / "PRICE.TXT", *lines)
        date = f"2026-11-{day:02d}T06:00:00.000Z"
        return load_price_file(store, path, source="x", date=date).tracked_changes

    def changes() -> list[tuple[object, ...]]:
        rows = list_changes(store, source=ChangeSource.PRICEFILE)
        return [(c["ingram_part_number"], c["field"], c["old_value"], c["new_value"]) for c in rows]

    assert load(US_LINE, other, day=1) == 0  # a first word is no change
    assert (product(store, "4A0036")["discontinued"], changes()) == (0, [])
    assert load(US_LINE, replaced, day=2) == 2
    assert changes() == [
        ("4A0036", "discontinued", False, True),
        ("4A0036", "replacement", None, "9AB123"),
    ]
    after = product(store, "4A0036")
    assert (after["discontinued_since"], after["replacement_part_number"]) == (
        "2026-11-02T06:00:00.000Z",
        "9AB123",
    )
    with store.write() as db:  # the API says otherwise since: it wins
        observe_lifecycle(db, [Lifecycle("4A0036", discontinued=False)], ChangeSource.SYNC)
    assert load(US_LINE, replaced, day=3) == 0  # a file that repeats itself says nothing
    assert product(store, "4A0036")["discontinued"] == 0 and len(changes()) == 2
    assert load(replaced, day=4) == 1  # a full file that leaves 6YE881 out: it is gone
    assert changes()[-1] == ("6YE881", "discontinued", False, True)
    assert product(store, "6YE881")["discontinued_since"] == "2026-11-04T06:00:00.000Z"
    assert load(US_LINE, replaced, day=5) == 1  # and back
    assert changes()[-1] == ("6YE881", "discontinued", True, False)
    assert product(store, "6YE881")["discontinued_since"] is None


def test_a_load_that_fails_at_its_end_leaves_the_products_life_as_it_was(store, tmp_path):
    add_products(store, ["4A0036"])
    line = US_LINE.replace("6YE881", "4A0036")
    load_price_file(store, write(tmp_path / "PRICE.TXT", line), source="x")
    with store.write() as db:  # the load's last statement fails, as a full disk would
        db.execute(
            "CREATE TRIGGER no_room BEFORE INSERT ON catalog_loads"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    replaced = line.replace('"Y"," "', '"Y","*"')[: -len('""')] + '"9AB123"'
    with pytest.raises(sqlite3.DatabaseError, match="full"):
        load_price_file(store, write(tmp_path / "PRICE.TXT", replaced), source="x")
    life = product(store, "4A0036")  # one transaction: the swap and the lifecycle, or neither
    assert (life["discontinued"], life["replacement_part_number"]) == (0, None)
    assert list_changes(store) == [] and catalog_rows(store)["4A0036"]["status"] == "active"


def test_a_short_full_file_is_refused_until_the_user_says_which_it_is(store, tmp_path):
    load_price_file(
        store, write_price_file(Catalog(size=100), tmp_path / "a", PriceFileOptions()), source="a"
    )
    short = write_price_file(Catalog(size=10), tmp_path / "b", PriceFileOptions())
    with pytest.raises(PriceFileRefused, match="--full"):
        load_price_file(store, short, source="b")
    assert len(catalog_rows(store)) == 100
    assert load_price_file(store, short, source="b", kind=LoadKind.FULL).products == 10


def priced(store: Store, pn: str, price: str) -> None:
    """A P&A answer for ``pn``, saved as a sync saves it."""
    run = create_run(store, "sync", {})
    plan_pa_tasks(store, run, [[pn]])
    task = open_tasks(store, [run], "price_availability", 0)[0][0]
    item = PriceAvailability(pn, customer_price=Decimal(price), total_availability=5)
    save_price_availability(store, run, task, [pn], [item], 1, DetailsPolicy(enabled=False))


def product(store: Store, pn: str) -> dict[str, object]:
    return dict(
        store.db.execute("SELECT * FROM products WHERE ingram_part_number = ?", (pn,)).fetchone()
    )


def test_p_and_a_wins_and_the_file_only_replaces_an_older_price(store, tmp_path):
    add_products(store, ["6YE881", "4A0036"])
    priced(store, "6YE881", "900.00")
    assert product(store, "6YE881")["price_source"] == "sync"
    path = write(tmp_path / "PRICE.TXT", US_LINE, US_LINE.replace("6YE881", "4A0036"))
    load_price_file(store, path, source="x", date="2000-01-01T00:00:00.000Z")  # older
    assert product(store, "6YE881")["customer_price"] == "900.00"
    load_price_file(store, path, source="x", date="2999-01-01T00:00:00.000Z")  # newer
    newer = product(store, "6YE881")
    assert (newer["customer_price"], newer["price_source"]) == ("999.99", "pricefile")
    assert newer["stock_source"] == "sync" and newer["total_availability"] == 5  # never the file's
    assert product(store, "4A0036")["customer_price"] is None  # P&A never priced it
    priced(store, "6YE881", "901.00")  # the next answer wins
    assert (
        product(store, "6YE881")["customer_price"],
        product(store, "6YE881")["price_source"],
    ) == ("901.00", "sync")


def test_file_prices_are_exported_only_when_asked_and_marked(store, tmp_path):
    add_products(store, ["6YE881"])
    load_price_file(store, write(tmp_path / "PRICE.TXT", US_LINE), source="x")
    plain = list(export_products(store))
    assert plain[0]["customer_price"] is None and plain[0]["price_source"] is None
    (marked,) = with_file_prices(store, plain)
    assert marked["customer_price"] == Decimal("999.99") and marked["price_source"] == "pricefile"


def test_choosing_is_case_insensitive_and_leaves_out_discontinued(store, tmp_path):
    discontinued = US_LINE.replace("6YE881", "4A0036").replace('"Y"," "', '"Y","*"')
    other = US_LINE.replace("6YE881", "123512").replace('"DELL"', '"CISCO"')
    load_price_file(store, write(tmp_path / "PRICE.TXT", US_LINE, discontinued, other), source="x")
    assert chosen_part_numbers(store, Choice(vendors=("dell",))) == ["6YE881"]
    assert chosen_part_numbers(store, Choice(vendors=("dell",), include_discontinued=True)) == [
        "4A0036",
        "6YE881",
    ]
    assert chosen_part_numbers(store, Choice(categories=("07",), match="latitude")) == [
        "123512",
        "6YE881",
    ]


def test_a_zip_with_several_files_names_what_it_holds(store, tmp_path):
    path = tmp_path / "PRICE.ZIP"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("A.TXT", US_LINE)
        archive.writestr("B.TXT", US_LINE)
    with pytest.raises(PriceFileRefused, match="holds A.TXT, B.TXT"):
        load_price_file(store, path, source="PRICE.ZIP")
