"""The sandbox catalog: deterministic, vendor-shaped, with the documented quirks."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from ingram.sandbox import Catalog
from ingram.sandbox.seeded import decode_part_number, encode_part_number

PN_RE = re.compile(r"^[0-9A-Z]{6,10}$")


def _warehouse_rows(item: dict) -> list[dict]:
    return item["availability"]["availabilityByWarehouse"]


def test_part_numbers_are_unique_well_formed_and_invertible() -> None:
    catalog = Catalog(seed=1, size=5000)
    pns = catalog.part_numbers()
    assert len(pns) == 5000 == len(set(pns))
    assert all(PN_RE.match(pn) for pn in pns)
    assert catalog.part_numbers(3) == pns[:3]
    assert all(decode_part_number(encode_part_number(i)) == i for i in (0, 1, 4999, 10**6))
    assert catalog.contains(pns[-1]) and catalog.contains(pns[0].lower())
    assert not catalog.contains("ZZNOTREAL1")
    assert not catalog.contains(encode_part_number(5000))  # beyond the size
    assert "ZZNOTREAL1" not in catalog and pns[1] in catalog


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = Catalog(seed=7, size=300), Catalog(seed=7, size=300), Catalog(seed=8, size=300)
    pns = a.part_numbers()
    for pn in pns[:50]:
        assert a.price_availability_item(pn) == b.price_availability_item(pn)
        assert a.details_document(pn) == b.details_document(pn)
    differ = sum(a.price_availability_item(pn) != c.price_availability_item(pn) for pn in pns)
    assert differ > 250


def test_price_and_availability_items_have_the_vendor_shape() -> None:
    catalog = Catalog(seed=1, size=200)
    for pn in catalog.part_numbers():
        item = catalog.price_availability_item(pn)
        assert item["ingramPartNumber"] == pn
        assert "productStatusCode" not in item
        assert isinstance(item["upc"], str) and len(item["upc"]) == 12
        for key in ("vendorPartNumber", "vendorName", "vendorNumber", "description"):
            assert isinstance(item[key], str) and item[key]
        availability = item["availability"]
        pricing = item.get("pricing") or availability["pricing"]
        assert set(pricing) == {"currencyCode", "retailPrice", "mapPrice", "customerPrice"}
        total = sum(row.get("quantityAvailable", 0) for row in _warehouse_rows(item))
        assert availability["totalAvailability"] == total
        assert availability["available"] is (total > 0)
        assert len(_warehouse_rows(item)) >= 2


def test_quirks_occur_across_a_thousand_products() -> None:
    catalog = Catalog(seed=1, size=1000)
    items = [catalog.price_availability_item(pn) for pn in catalog.part_numbers()]
    ids = [row["warehouseId"] for item in items for row in _warehouse_rows(item)]
    assert all(isinstance(i, str) for i in ids)  # the schema's type (issue 19)
    assert any(len(i) == 1 for i in ids) and any(i.startswith("0") for i in ids)  # "5", "05"
    catalog.numeric_warehouse_ids = True  # the spec's examples' form, as an option
    numeric = [
        row["warehouseId"]
        for item in (catalog.price_availability_item(pn) for pn in catalog.part_numbers(50))
        for row in _warehouse_rows(item)
    ]
    assert any(isinstance(i, int) for i in numeric) and any(isinstance(i, str) for i in numeric)
    id_only = [item for item in items if {"warehouseId": "81"} in _warehouse_rows(item)]
    nested = [item for item in items if "pricing" in item["availability"]]
    out_of_stock = [item for item in items if not item["availability"]["available"]]
    assert 50 <= len(id_only) <= 300
    assert 20 <= len(nested) <= 90 and all("pricing" not in item for item in nested)
    assert 60 <= len(out_of_stock) <= 150
    assert all(item["availability"]["totalAvailability"] == 0 for item in out_of_stock)
    prices = [(item.get("pricing") or item["availability"]["pricing"]) for item in items]
    cents = [p["customerPrice"] for p in prices if Decimal(str(p["customerPrice"])) % 1 != 0]
    assert len(cents) > 900
    assert all(re.fullmatch(r"\d+\.\d{1,2}", json.dumps(c)) for c in cents)


def test_unknown_part_number_item_is_an_e_item() -> None:
    item = Catalog(size=10).price_availability_item("ZZNOTREAL1")
    assert item == {
        "productStatusCode": "E",
        "productStatusMessage": "Product not found for IngramPartNumber:  ZZNOTREAL1",
        "ingramPartNumber": "ZZNOTREAL1",
    }


def test_details_documents_have_both_subcategory_spellings_and_string_flags() -> None:
    catalog = Catalog(seed=3, size=1000, not_found_details_ratio=0.05)
    docs = [catalog.details_document(pn) for pn in catalog.part_numbers()]
    missing = sum(doc is None for doc in docs)
    assert 20 <= missing <= 90
    found = [doc for doc in docs if doc is not None]
    camel = sum("productSubCategory" in doc for doc in found)
    lower = sum("productSubcategory" in doc for doc in found)
    assert camel > 300 and lower > 300 and camel + lower == len(found)
    for doc in found[:50]:
        assert doc["productAuthorized"] in ("True", "False")
        assert isinstance(doc["indicators"]["hasWarranty"], bool)
        spec = doc["technicalSpecifications"][0]
        assert set(spec) == {"headername", "attributename", "attributevalue", "attributedisplay"}
        info = doc["additionalInformation"]
        assert info["dimensionUnit"] == "CM" and info["productWeight"][0]["weightUnit"] == "KG"
        pa = catalog.price_availability_item(doc["ingramPartNumber"])
        assert doc["vendorName"] == pa["vendorName"] and doc["upc"] == pa["upc"]
    assert catalog.details_document("ZZNOTREAL1") is None


def test_not_found_ratio_zero_and_one() -> None:
    pns = Catalog(size=100).part_numbers()
    assert all(Catalog(size=100, not_found_details_ratio=0).details_document(p) for p in pns)
    assert not any(Catalog(size=100, not_found_details_ratio=1).details_document(p) for p in pns)


def test_price_epoch_changes_about_ten_percent_deterministically() -> None:
    base, moved = Catalog(seed=2, size=2000), Catalog(seed=2, size=2000, price_epoch=1)
    pns = base.part_numbers()
    changed = [
        pn for pn in pns if base.price_availability_item(pn) != moved.price_availability_item(pn)
    ]
    assert 120 <= len(changed) <= 280
    again = Catalog(seed=2, size=2000, price_epoch=1)
    assert all(
        again.price_availability_item(p) == moved.price_availability_item(p) for p in changed
    )


def test_search_filters_are_case_insensitive_substrings() -> None:
    catalog = Catalog(seed=1, size=1000)
    dell = list(catalog.search(vendors=["dell"]))
    assert dell and all(catalog.search_row(i)["vendorName"] == "DELL" for i in dell)
    either = list(catalog.search(vendors=["dell", "cisco"]))
    assert len(either) > len(dell)
    storage = list(catalog.search(category="STORAGE"))
    assert storage and all(catalog.search_row(i)["category"] == "Storage" for i in storage)
    monitors = list(catalog.search(keywords=["monitor"]))
    assert monitors and all("MONITOR" in catalog.search_row(i)["description"] for i in monitors)


def test_large_catalog_is_lazy() -> None:
    catalog = Catalog(seed=1, size=1_000_000)
    pn = encode_part_number(999_999)
    assert catalog.contains(pn)
    assert catalog.price_availability_item(pn)["ingramPartNumber"] == pn
