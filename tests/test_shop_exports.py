"""``export --target``: each shop's own columns, prices by the rules, deltas, vendor text.

The CLI in a subprocess against the sandbox; files read back with the csv module and
checked against each shop's documented template (pinned in ``shop_support``, sources
named there) and against an independent computation of the rules over the sandbox's
own catalog.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from support.clirunner import Cli, Result, cli_env
from support.shop_support import (
    MAGENTO_SAMPLE,
    SHOPIFY_INVENTORY_TEMPLATE,
    SHOPIFY_PRODUCT_TEMPLATE,
    WOOCOMMERCE_EXPORTER,
    Rule,
    below_margin,
    expected_price,
    expected_stock,
    ordered_subset,
    read_csv,
    sandbox_facts,
    write_config,
)

from ingram.config import load_publish_rules
from ingram.publish.exporting import ShopSku, TargetExport
from ingram.publish.targets import BuiltinTarget, builtin_target
from ingram.sandbox import SandboxServer
from ingram.sandbox.identifiers import shares_vendor_part_number
from ingram.state.store import Store

TRACKED = 60
DEFAULT = Rule(markup="20", min_margin="10")
CHEAP = Rule(markup="8", min_margin="10")  # the vendor rule: some fall below the margin


@dataclass
class Shop:
    cli: Cli
    sandbox: SandboxServer
    config: Path
    folder: Path
    vendor: str  # the vendor the [[pricing.rules]] entry names

    def export(self, *args: str) -> tuple[Result, list[str], list[dict[str, str]]]:
        out = self.folder / "out.csv"
        out.unlink(missing_ok=True)
        done = self.cli.run("export", *args, "-o", str(out))
        assert done.code == 0, done
        with out.open(encoding="utf-8", newline="") as text:  # a CR inside a cell stays one
            return (done, *read_csv(text.read()))

    def configure(self, text: str) -> None:
        write_config(self.config, text)

    def facts(self) -> dict[str, dict[str, Any]]:
        return {pn: sandbox_facts(self.sandbox.catalog, pn) for pn in self.pns}

    @property
    def pns(self) -> list[str]:
        return self.sandbox.catalog.part_numbers(TRACKED)


def config_text(vendor: str, vendor_markup: str = "8", extra: str = "") -> str:
    return (
        f'{extra}\n[pricing]\nmarkup = 20\nending = "0.99"\ncap_at_retail = true\n'
        f'map_floor = true\nmin_margin = 10\n\n[[pricing.rules]]\nvendor = "{vendor.lower()}"\n'
        f'markup = {vendor_markup}\n\n[stock]\nbuffer = 2\nmin_stock = 3\nlocation = "Main"\n'
        '\n[targets.erp]\n"Article" = "sku"\n"Net" = "price"\n"Qty" = "stock"\n'
        '"Text" = "description"\n"Online" = "published"\n'
    )


@pytest.fixture
def shop(sandbox: SandboxServer, tmp_path: Path) -> Shop:
    vendor = sandbox_facts(sandbox.catalog, sandbox.catalog.part_numbers(1)[0])["vendor"]
    config = write_config(tmp_path / "shop.toml", config_text(vendor))
    db = tmp_path / "catalog.db"
    cli = Cli(cli_env(sandbox.url, db, INGRAM_SYNC_CONFIG=str(config)), db)
    made = Shop(cli, sandbox, config, tmp_path, vendor)
    assert cli.run("products", "add", *made.pns).code == 0
    synced = cli.sync()
    assert synced.code == 0, synced
    return made


def expected_rows(facts: dict[str, dict[str, Any]], vendor: str, cheap: Rule = CHEAP) -> dict:
    """SKU -> (price, stock) the rules give, and the SKUs left out, computed apart."""
    rows, left_out = {}, set()
    for pn, fact in facts.items():
        rule = cheap if fact["vendor"].lower() == vendor.lower() else DEFAULT
        if not fact["authorized"]:
            left_out.add(pn)
            continue
        price = expected_price(fact["cost"], fact["retail"], fact["map"], rule)
        if below_margin(price, fact["cost"], rule):
            left_out.add(pn)
            continue
        stock = 0 if fact["discontinued"] else expected_stock(fact["stock"], 2, 3)
        rows[pn] = (price, stock)
    return {"rows": rows, "left_out": left_out}


PINNED = {
    "woocommerce": (WOOCOMMERCE_EXPORTER, {"SKU", "Regular price", "Stock", "In stock?"}),
    "shopify": (
        SHOPIFY_PRODUCT_TEMPLATE,
        {"URL handle", "Title", "SKU", "Price", "Cost per item", "Vendor"},
    ),
    "shopify-inventory": (SHOPIFY_INVENTORY_TEMPLATE, set(SHOPIFY_INVENTORY_TEMPLATE)),
    "magento": (MAGENTO_SAMPLE, {"sku", "price", "qty", "is_in_stock"}),
}
SKU_COLUMN = {"woocommerce": "SKU", "shopify": "SKU", "shopify-inventory": "SKU", "magento": "sku"}
STOCK_COLUMN = {
    "woocommerce": "Stock",
    "shopify": "Inventory quantity",
    "shopify-inventory": "On hand (new)",
    "magento": "qty",
}


@pytest.mark.parametrize("target", list(PINNED))
def test_each_target_writes_its_shops_documented_columns(shop: Shop, target: str) -> None:
    template, required = PINNED[target]
    _, header, rows = shop.export("--target", target)
    assert ordered_subset(header, template), header
    assert required <= set(header)
    expected = expected_rows(shop.facts(), shop.vendor)["rows"]
    assert {row[SKU_COLUMN[target]]: int(row[STOCK_COLUMN[target]]) for row in rows} == {
        pn: stock for pn, (_, stock) in expected.items()
    }
    for row in rows:
        stocked = int(row[STOCK_COLUMN[target]]) > 0
        if target == "woocommerce":
            assert (row["Published"], row["In stock?"]) == ("1", "1" if stocked else "0")
        elif target == "shopify":
            assert (row["Status"], row["Published on online store"]) == ("active", "TRUE")
            assert row["URL handle"] == row["SKU"].lower()
            assert (row["Option1 name"], row["Option1 value"]) == ("Title", "Default Title")
        elif target == "shopify-inventory":
            assert (row["Location"], row["Handle"]) == ("Main", row["SKU"].lower())
        else:
            assert (row["product_online"], row["is_in_stock"]) == ("1", "1" if stocked else "0")


def test_prices_match_an_independent_computation_over_the_sandbox_catalog(shop: Shop) -> None:
    expected = expected_rows(shop.facts(), shop.vendor)
    done, _, rows = shop.export("--target", "woocommerce")
    assert {row["SKU"]: Fraction(row["Regular price"]) for row in rows} == {
        pn: price for pn, (price, _) in expected["rows"].items()
    }
    assert expected["left_out"] and any(  # the vendor rule does leave some out
        shop.facts()[pn]["authorized"] for pn in expected["left_out"]
    )
    assert f"left out {len(expected['left_out'])} product" in done.err
    flagged = json.loads(shop.cli.run("pricing", "preview", "--flagged", "--json").out)
    assert {item["ingram_part_number"] for item in flagged if not item["publishable"]} == (
        expected["left_out"]
    )
    _, _, shopify = shop.export("--target", "shopify")
    costs = {row["SKU"]: Fraction(row["Cost per item"]) for row in shopify}
    assert costs == {pn: Fraction(shop.facts()[pn]["cost"]) for pn in expected["rows"]}


def test_a_delta_after_no_change_is_empty_and_a_rule_change_moves_exactly_its_products(
    shop: Shop,
) -> None:
    _, _, first = shop.export("--target", "woocommerce")
    assert len(first) == len(expected_rows(shop.facts(), shop.vendor)["rows"])
    done, header, again = shop.export("--target", "woocommerce")
    assert (header[0], again) == ("SKU", [])
    assert f"wrote 0 rows to {shop.folder / 'out.csv'} (woocommerce delta" in done.err
    before = expected_rows(shop.facts(), shop.vendor)
    shop.configure(config_text(shop.vendor, vendor_markup="15"))
    after = expected_rows(shop.facts(), shop.vendor, Rule(markup="15", min_margin="10"))
    moved = {pn for pn, values in after["rows"].items() if before["rows"].get(pn) != values}
    assert moved and all(shop.facts()[pn]["vendor"] == shop.vendor for pn in moved)
    _, _, delta = shop.export("--target", "woocommerce")
    assert {row["SKU"] for row in delta} == moved
    _, _, full = shop.export("--target", "woocommerce", "--full")
    assert {row["SKU"] for row in full} == set(after["rows"])
    assert shop.export("--target", "woocommerce")[2] == []
    assert len(shop.export("--target", "magento")[2]) == len(after["rows"])  # its own state


def test_a_sync_that_moves_prices_and_stock_puts_exactly_those_in_the_delta(shop: Shop) -> None:
    shop.export("--target", "shopify")
    before = expected_rows(shop.facts(), shop.vendor)["rows"]
    shop.sandbox.reconfigure(price_epoch=1)
    assert shop.cli.sync().code == 0
    after = expected_rows(shop.facts(), shop.vendor)["rows"]
    changed = {pn for pn, values in after.items() if before.get(pn) != values}
    assert changed
    _, _, delta = shop.export("--target", "shopify")
    assert {row["SKU"] for row in delta} == changed
    assert {row["SKU"]: Fraction(row["Price"]) for row in delta} == {
        pn: after[pn][0] for pn in changed
    }


def test_a_failed_export_remembers_nothing_and_is_simply_repeated(shop: Shop) -> None:
    missing = shop.folder / "no such folder" / "woo.csv"
    failed = shop.cli.run("export", "--target", "woocommerce", "-o", str(missing))
    assert failed.code == 2 and failed.err.startswith(f"Error: cannot write {missing}")
    assert len(failed.err.splitlines()) == 1
    store = Store.open(shop.cli.db)  # a full disk half-way through the file, for real
    rules = load_publish_rules({}, environ={}, config_path=str(shop.config))
    target = builtin_target(BuiltinTarget.WOOCOMMERCE, "Main")
    export = TargetExport(store, target, rules, ShopSku.TRACKED, full=False)
    full_disk = open("/dev/full", "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    with pytest.raises(OSError, match="No space left"):
        export.write(full_disk)
    export.discard()
    store.close()
    _, _, rows = shop.export("--target", "woocommerce")
    assert len(rows) == len(expected_rows(shop.facts(), shop.vendor)["rows"])  # all still new


def test_a_custom_target_maps_its_columns_to_fields(shop: Shop) -> None:
    _, header, rows = shop.export("--target", "erp")
    assert header == ["Article", "Net", "Qty", "Text", "Online"]
    expected = expected_rows(shop.facts(), shop.vendor)["rows"]
    assert {row["Article"]: (Fraction(row["Net"]), int(row["Qty"])) for row in rows} == expected
    assert {row["Online"] for row in rows} == {"1"}
    unknown = shop.cli.run("export", "--target", "nosuchshop")
    assert unknown.code == 2 and "woocommerce, shopify, shopify-inventory, magento, erp" in (
        unknown.err
    )


def test_the_shop_sku_is_the_users_own_key_or_the_chosen_one(shop: Shop) -> None:
    catalog = shop.sandbox.catalog
    spare = catalog.part_numbers(catalog.size)
    publishable = expected_rows(
        {pn: sandbox_facts(catalog, pn) for pn in spare[TRACKED:]}, shop.vendor
    )["rows"]
    index = next(  # a product of its own vendor part number that the rules publish
        i
        for i in range(TRACKED, catalog.size - 1)
        if not shares_vendor_part_number(i)
        and not shares_vendor_part_number(i + 1)
        and spare[i] in publishable
    )
    by_vpn = spare[index]
    assert shop.cli.run("products", "add", "--vpn", vpn(catalog, by_vpn)).code == 0
    assert shop.cli.sync().code == 0
    _, _, rows = shop.export("--target", "woocommerce", "--full")
    skus = {row["SKU"] for row in rows}
    assert vpn(catalog, by_vpn) in skus and by_vpn not in skus  # tracked by its VPN
    _, _, ingram = shop.export("--target", "woocommerce", "--shop-sku", "ingram")
    assert by_vpn in {row["SKU"] for row in ingram}
    done, _, upc = shop.export("--target", "woocommerce", "--shop-sku", "upc")
    upcs = {shop.sandbox.catalog.price_availability_item(pn)["upc"] for pn in [*shop.pns, by_vpn]}
    assert {row["SKU"] for row in upc} <= upcs and len(upc) == len(rows)
    # none is tracked by a customer part number: left out (magento has published nothing yet)
    done, _, customer = shop.export("--target", "magento", "--shop-sku", "customer")
    assert customer == [] and "without the chosen shop SKU" in done.err


def vpn(catalog: Any, pn: str) -> str:
    return catalog.price_availability_item(pn)["vendorPartNumber"]


HOSTILE = ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR"]


def test_vendor_text_is_neutralised_in_every_csv_and_kept_in_json(shop: Shop) -> None:
    pns = shop.pns[: len(HOSTILE)]
    with sqlite3.connect(shop.cli.db) as db:  # as if the vendor had sent these descriptions
        db.executemany(
            "UPDATE products SET description = ?, vendor_name = ? WHERE ingram_part_number = ?",
            [(text, text, pn) for text, pn in zip(HOSTILE, pns, strict=True)],
        )
    texts = dict(zip(pns, HOSTILE, strict=True))
    for target, sku, text in (
        ("woocommerce", "SKU", "Name"),
        ("shopify", "SKU", "Title"),
        ("shopify", "SKU", "Vendor"),
        ("magento", "sku", "name"),
        ("erp", "Article", "Text"),
    ):
        _, _, rows = shop.export("--target", target, "--full")
        cells = {row[sku]: row[text] for row in rows if row[sku] in texts}
        assert cells and all(cells[pn] == "'" + texts[pn] for pn in cells), (target, cells)
    plain = shop.folder / "plain.csv"
    assert shop.cli.run("export", "--format", "csv", "-o", str(plain)).code == 0
    with plain.open(encoding="utf-8", newline="") as text:
        _, rows = read_csv(text.read())
    assert {
        row["ingram_part_number"]: row["description"]
        for row in rows
        if row["ingram_part_number"] in texts
    } == {pn: "'" + text for pn, text in texts.items()}
    exported = shop.cli.export()
    assert {pn: exported[pn]["description"] for pn in pns} == texts  # JSON keeps the text


def test_gone_products_keep_their_row_at_zero_then_are_unpublished(shop: Shop) -> None:
    facts = shop.facts()
    gone = [pn for pn in shop.pns if facts[pn]["discontinued"] and facts[pn]["authorized"]]
    assert gone
    _, _, rows = shop.export("--target", "shopify")
    listed = {row["SKU"]: row for row in rows if row["SKU"] in gone}
    assert {pn: (row["Inventory quantity"], row["Status"]) for pn, row in listed.items()} == {
        pn: ("0", "active") for pn in listed
    }
    shop.configure(config_text(shop.vendor, extra="delist_after_days = 0"))
    _, _, delta = shop.export("--target", "shopify")
    assert {row["SKU"]: (row["Status"], row["Published on online store"]) for row in delta} == {
        pn: ("draft", "FALSE") for pn in listed
    }
    _, _, woo = shop.export("--target", "woocommerce", "--full")
    assert {row["Published"] for row in woo if row["SKU"] in listed} == {"-1"}
    _, _, magento = shop.export("--target", "magento", "--full")
    assert {row["product_online"] for row in magento if row["sku"] in listed} == {"2"}


def test_a_product_p_and_a_no_longer_finds_is_withdrawn_at_stock_zero(
    shop: Shop, sandbox_factory: Any
) -> None:
    _, _, rows = shop.export("--target", "woocommerce")
    published = {row["SKU"]: row for row in rows}
    last = max(published, key=shop.pns.index)  # the last one published: those after it were not
    index = shop.pns.index(last)
    smaller = sandbox_factory(catalog_size=index)  # the same catalog, from that one on unknown
    moved = Cli({**shop.cli.env, "INGRAM_API_URL": smaller.url}, shop.cli.db)
    assert moved.sync().code == 0
    done, _, delta = shop.export("--target", "woocommerce")
    assert [row["SKU"] for row in delta] == [last]
    assert (delta[0]["Stock"], delta[0]["In stock?"]) == ("0", "0")
    assert delta[0]["Regular price"] == published[last]["Regular price"]  # its last price
    assert "1 withdrawn at stock 0" in done.err
    assert shop.export("--target", "woocommerce")[2] == []  # and it stays withdrawn


def test_the_preview_summary_counts_what_each_rule_priced(shop: Shop) -> None:
    facts = shop.facts()
    expected = expected_rows(facts, shop.vendor)
    priced = list(facts)  # all have a cost: a product not ours to buy is priced, left out
    by_vendor = sum(facts[pn]["vendor"] == shop.vendor for pn in priced)
    summary = json.loads(shop.cli.run("pricing", "preview", "--json").out)
    assert summary == {
        "products": TRACKED,
        "rules": {
            f'rule 1 (vendor "{shop.vendor.lower()}")': by_vendor,
            "default": len(priced) - by_vendor,
        },
        "flags": summary["flags"],
        "left_out": len(expected["left_out"]),
    }
    assert summary["flags"]["discontinued"] == sum(
        bool(fact["discontinued"]) for fact in facts.values()
    )
    table = shop.cli.run("pricing", "preview").out
    assert f"left out of shop exports: {len(expected['left_out'])};" in table


def test_shop_options_go_with_a_target_and_plain_options_without(shop: Shop) -> None:
    _, _, rows = shop.export("--target", "shopify-inventory", "--location", "Shelf 2")
    assert rows and {row["Location"] for row in rows} == {"Shelf 2"}
    for args, words in (
        (("--full",), "--full, --shop-sku and --location go with --target"),
        (("--target", "woocommerce", "--format", "json"), "--format does not apply to --target"),
        (("--target", "woocommerce", "--warehouses"), "--warehouses does not apply"),
    ):
        done = shop.cli.run("export", *args)
        assert done.code == 2 and done.err.startswith(f"Error: {words}"), done
