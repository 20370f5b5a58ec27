"""What a shop needs: discounts, flags, warehouses with ETAs, indicators, sizes, specs.

Parsers against the vendor's examples; the rest end to end against the sandbox
(CLI subprocess, real sockets, SQLite on disk).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from decimal import Decimal

import pytest
from support.clirunner import Cli, cli_env
from support.sandbox_calls import pa_call
from support.vendor_examples import DETAILS_EXAMPLE, PA_200_EXAMPLE

from ingram.api.parsing import loads, parse_details, parse_price_availability
from ingram.models import Discount
from ingram.sandbox.pricing import COUNTRIES_WITHOUT_EXTRAS
from ingram.state.migrations import MIGRATIONS, migrate
from ingram.state.products import export_products
from ingram.state.store import Store


def test_the_vendors_pa_example_gives_flags_discounts_and_backorder_lines() -> None:
    [item] = parse_price_availability(loads(PA_200_EXAMPLE))
    shop = item.shop
    assert (shop.product_authorized, shop.accept_back_order, shop.end_user_info_required) == (
        True,
        True,
        False,
    )
    assert shop.bundle_part is None  # the example's placeholder "boolean" is not a flag
    special, quantity_break, fee = shop.discounts
    assert special == Discount(
        kind="special_pricing",
        discount_type="Special Bid",
        bid_number="TESTRKP1",
        amount=Decimal("6.74"),
        quantity=0,
        available_quantity=9999999,
        effective_date="2022-03-24",
        expiration_date="2023-12-31",
    )
    assert (quantity_break.kind, quantity_break.amount, quantity_break.quantity) == (
        "quantity_break",
        Decimal("0"),
        0,
    )
    assert (fee.kind, fee.amount, fee.expiration_date) == ("service_fee", None, "2023-01-27")
    assert item.warehouses[0].backorder_info == ((1437, "2025-01-01"), (8163, "2026-01-01"))
    assert item.warehouses[1].backorder_info is None  # absent, as in MX, TR, NZ...


def test_the_vendors_details_example_gives_indicators_and_sizes() -> None:
    extras = parse_details("5348387", loads(DETAILS_EXAMPLE)).extras
    assert (extras.discontinued, extras.new_product, extras.has_warranty) == (True, False, True)
    assert extras.backorder_allowed is None and extras.direct_ship is None
    assert (extras.weight, extras.weight_unit) == (Decimal("2.6"), "KG")
    assert (extras.height, extras.width, extras.length, extras.dimension_unit) == (
        Decimal("8"),
        Decimal("31"),
        Decimal("50"),
        "CM",
    )


def test_spec_table_keeps_named_rows_once_in_order() -> None:
    document = {
        "ingramPartNumber": "X1",
        "technicalSpecifications": [
            {"headername": "Basic", "attributename": "Color", "attributevalue": "Black"},
            {"headername": "Basic", "attributename": "Color", "attributevalue": "Red"},
            {"headername": "Basic", "attributevalue": "no name"},
            "junk",
            {"headername": "Power", "attributename": "Watts", "attributevalue": 65},
        ],
        "indicators": [],
        "additionalInformation": {"height": "tall"},
    }
    extras = parse_details("X1", document).extras
    assert extras.specs == (("Basic", "Color", "Black"), ("Power", "Watts", "65"))
    assert extras.height is None and extras.discontinued is None


def db_rows(path, sql: str, *params) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


@pytest.mark.slow
def test_sync_stores_what_the_sandbox_serves_and_export_shows_it(sandbox, cli) -> None:
    pns = sandbox.catalog.part_numbers(60)
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync()
    assert result.code == 0, result
    exported = cli.export()
    warehouses = db_rows(cli.db, "SELECT * FROM product_warehouses")
    by_product: dict[str, dict[str, sqlite3.Row]] = {}
    for row in warehouses:
        by_product.setdefault(row["ingram_part_number"], {})[row["warehouse_id"]] = row
    discounts = db_rows(cli.db, "SELECT * FROM product_discounts")
    assert {row["kind"] for row in discounts} == {
        "special_pricing",
        "quantity_break",
        "service_fee",
    }
    etas = 0
    for pn in pns:
        item = sandbox.catalog.price_availability_item(pn, show_discounts=True)
        row = exported[pn]
        assert row["accept_back_order"] is item["acceptBackOrder"]
        assert row["bundle_part"] is item["bundlePartIndicator"]
        assert row["authorized"] is item["productAuthorized"]
        served = [w for w in item["availability"]["availabilityByWarehouse"] if len(w) > 1]
        stored = by_product[pn]
        for entry in served:
            wid = str(entry["warehouseId"])
            assert stored[wid]["quantity_on_order"] == entry["quantityOnOrder"]
            assert stored[wid]["quantity_backordered"] == entry["quantityBackordered"]
            assert stored[wid]["backorder_eta"] == entry.get("quantityBackorderedEta")
            info = stored[wid]["backorder_info"]
            expected = entry.get("backOrderInfo")
            assert (json.loads(info) if info else None) == (
                None
                if expected is None
                else [{"quantity": e["quantity"], "eta_date": e["etaDate"]} for e in expected]
            )
        dates = [w["quantityBackorderedEta"] for w in served if "quantityBackorderedEta" in w]
        assert row["backorder_eta"] == min(dates, default=None)
        etas += bool(dates)
        special = [
            d for d in discounts if d["ingram_part_number"] == pn and d["kind"] == "special_pricing"
        ]
        served_special = [
            s for block in item.get("discounts", []) for s in block.get("specialPricing", [])
        ]
        assert [(d["bid_number"], Decimal(d["amount"])) for d in special] == [
            (s["specialBidNumber"], Decimal(str(s["specialPricingDiscount"])))
            for s in served_special
        ]
        document = sandbox.catalog.details_document(pn)
        if document is not None:
            indicators = document["indicators"]
            assert row["discontinued"] is indicators["isDiscontinuedProduct"]
            assert row["has_warranty"] is indicators["hasWarranty"]
            info = document["additionalInformation"]
            assert Decimal(str(row["weight"])) == Decimal(str(info["productWeight"][0]["weight"]))
            assert (row["height"], row["dimension_unit"]) == (int(info["height"]), "CM")
            specs = db_rows(
                cli.db,
                "SELECT header, name, value FROM product_specs WHERE ingram_part_number = ?"
                " ORDER BY position",
                pn,
            )
            assert [tuple(s) for s in specs] == [
                (s["headername"], s["attributename"], s["attributevalue"])
                for s in document["technicalSpecifications"]
            ]
    assert etas, "some of 60 products should be backordered somewhere"

    flat = cli.run("export", "--warehouses")
    assert flat.code == 0, flat
    lines = list(csv.DictReader(io.StringIO(flat.out)))
    assert len(lines) == len(warehouses)
    assert {(r["ingram_part_number"], r["warehouse_id"]) for r in lines} == {
        (w["ingram_part_number"], w["warehouse_id"]) for w in warehouses
    }
    assert "warehouse_quantity_on_order" in lines[0] and "customer_price" in lines[0]

    nested = cli.run("export", "--format", "json", "--warehouses", "--discounts")
    assert nested.code == 0, nested
    products = json.loads(nested.out)
    assert len(products) == 60
    assert sum(len(p["warehouses"]) for p in products) == len(warehouses)
    assert sum(len(p["discounts"]) for p in products) == len(discounts)

    both = cli.run("export", "--warehouses", "--discounts")
    assert both.code == 2 and "--format json" in both.err and "Traceback" not in both.err

    specs = db_rows(cli.db, "SELECT * FROM product_specs")
    spec_lines = list(csv.DictReader(io.StringIO(cli.run("export", "--specs").out)))
    without = [p for p in pns if sandbox.catalog.details_document(p) is None]
    assert len(spec_lines) == len(specs) + len(without)  # a product without specs: one empty row
    assert {(r["ingram_part_number"], r["spec_name"]) for r in spec_lines if r["spec_name"]} == {
        (s["ingram_part_number"], s["name"]) for s in specs
    }
    jsonl = cli.run("export", "--format", "jsonl", "--specs")
    nested_specs = [json.loads(line)["specs"] for line in jsonl.out.splitlines()]
    assert sum(len(entries) for entries in nested_specs) == len(specs)


def test_countries_without_the_extras_leave_them_null(sandbox, tmp_path) -> None:
    assert "MX" in COUNTRIES_WITHOUT_EXTRAS
    db = tmp_path / "mx.db"
    cli = Cli(cli_env(sandbox.url, db, INGRAM_COUNTRY_CODE="MX"), db)
    pns = sandbox.catalog.part_numbers(40)
    assert cli.run("products", "add", *pns).code == 0
    assert cli.sync().code == 0
    exported = cli.export()
    assert all(row["bundle_part"] is None for row in exported.values())
    assert all(row["accept_back_order"] is not None for row in exported.values())
    kinds = {row["kind"] for row in db_rows(db, "SELECT kind FROM product_discounts")}
    assert "service_fee" not in kinds
    backordered = db_rows(db, "SELECT * FROM product_warehouses WHERE quantity_backordered > 0")
    assert backordered, "some of 40 products should be backordered"
    assert all(row["backorder_info"] is None for row in backordered)
    assert all(row["backorder_eta"] is not None for row in backordered)


@pytest.mark.slow
def test_changes_show_backorder_eta_moves_and_discontinued_flips(sandbox, cli) -> None:
    pns = sandbox.catalog.part_numbers(150)
    assert cli.run("products", "add", *pns).code == 0
    assert cli.sync().code == 0
    before = cli.export()
    sandbox.reconfigure(price_epoch=1)
    assert cli.sync("--refresh-details").code == 0
    after = cli.export()
    result = cli.run("changes", "--json")
    assert result.code == 0, result
    changes = json.loads(result.out)
    expected_eta = {
        (pn, before[pn]["backorder_eta"], after[pn]["backorder_eta"])
        for pn in pns
        if before[pn]["backorder_eta"] != after[pn]["backorder_eta"]
    }
    assert expected_eta, "epoch 1 should move some backorder ETAs"
    assert {
        (c["ingram_part_number"], c["old_value"], c["new_value"])
        for c in changes
        if c["field"] == "backorder_eta"
    } == expected_eta
    flips = {
        (pn, before[pn]["discontinued"], after[pn]["discontinued"])
        for pn in pns
        if before[pn]["discontinued"] is not None
        and after[pn]["discontinued"] is not None
        and before[pn]["discontinued"] != after[pn]["discontinued"]
    }
    assert flips, "epoch 1 should flip some discontinued flags"
    assert {
        (c["ingram_part_number"], c["old_value"], c["new_value"])
        for c in changes
        if c["field"] == "discontinued"
    } == flips


def test_migration_carries_an_old_database_forward(tmp_path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (number INTEGER PRIMARY KEY, applied_at TEXT)")
    db.execute("BEGIN")
    MIGRATIONS[1](db)
    db.execute("INSERT INTO _migrations VALUES (1, '2026-01-01T00:00:00Z')")
    db.execute("COMMIT")
    stock = [
        {"warehouse_id": "10", "location": "Mira Loma, CA", "quantity_available": 5,
         "quantity_backordered": 0},
        {"warehouse_id": "81", "location": None, "quantity_available": None,
         "quantity_backordered": None},
    ]  # fmt: skip
    db.execute(
        "INSERT INTO products (ingram_part_number, added_at, status, customer_price, warehouses)"
        " VALUES ('OLD1', '2026-01-01T00:00:00Z', 'active', '74.34', ?)",
        (json.dumps(stock),),
    )
    db.close()

    store = Store.open(path, readonly=True)  # a report on an old database brings it forward
    try:
        [row] = export_products(store)
        assert row["customer_price"] == Decimal("74.34") and row["discontinued"] is None
        assert row["user_key"] is None  # migration 8: tracked by its Ingram part number
        rows = store.db.execute(
            "SELECT warehouse_id, location, quantity_available FROM product_warehouses"
            " ORDER BY warehouse_id"
        ).fetchall()
        assert [tuple(r) for r in rows] == [("10", "Mira Loma, CA", 5), ("81", None, None)]
        assert migrate(store.db) == []
    finally:
        store.close()


def test_sandbox_refuses_a_showAvailableDiscounts_that_is_not_a_boolean(sandbox) -> None:
    pn = sandbox.catalog.part_numbers(1)[0]
    body = {"showAvailableDiscounts": "yes", "products": [{"ingramPartNumber": pn}]}
    refused = pa_call(sandbox, body)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["fields"][0]["field"] == "showAvailableDiscounts"
    body["showAvailableDiscounts"] = False
    plain = pa_call(sandbox, body)
    assert plain.status_code == 200 and "discounts" not in plain.json()[0]
    body["showAvailableDiscounts"] = True
    index = next(
        i
        for i in range(200)
        if "discounts"
        in sandbox.catalog.price_availability_item(
            sandbox.catalog.part_numbers(200)[i], show_discounts=True
        )
    )
    body["products"] = [{"ingramPartNumber": sandbox.catalog.part_numbers(200)[index]}]
    assert "discounts" in pa_call(sandbox, body).json()[0]
