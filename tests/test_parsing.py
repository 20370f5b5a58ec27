"""The parsers against the vendor's published examples, quirks, and junk (no HTTP)."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.vendor_examples import (
    DETAILS_404_EXAMPLE,
    DETAILS_EXAMPLE,
    PA_200_EXAMPLE,
    PA_207_EXAMPLE,
    SEARCH_EXAMPLE,
)

from ingram.api.parsing import (
    error_message,
    loads,
    parse_details,
    parse_price_availability,
    parse_search_page,
    parse_token,
)
from ingram.errors import MalformedResponse
from ingram.models import WarehouseStock

# ---------------------------------------------------------------- vendor examples


def test_pa_200_example() -> None:
    [item] = parse_price_availability(loads(PA_200_EXAMPLE))
    assert item.found and item.ingram_part_number == "4A0036"
    assert item.customer_price == Decimal("74.34") and str(item.customer_price) == "74.34"
    assert item.retail_price == Decimal("189.99")
    assert item.map_price == Decimal("0")
    assert item.currency == "USD"
    assert item.upc == "0884116186519"
    assert (item.vendor_part_number, item.vendor_name, item.product_class) == (
        "E2016HV",
        "DELL",
        "B",
    )
    assert item.available is False and item.total_availability == 0
    assert [w.warehouse_id for w in item.warehouses] == ["20", "40", "80", "10"]
    assert item.warehouses[0] == WarehouseStock(
        "20", "Fort Worth, TX", None, 0, backorder_info=((1437, "2025-01-01"), (8163, "2026-01-01"))
    )
    assert item.warehouses[1] == WarehouseStock("40", "Carol Stream, IL", 0, 156)


def test_pa_207_example() -> None:
    valid, missing = parse_price_availability(loads(PA_207_EXAMPLE))
    assert valid.found and valid.ingram_part_number == "123512"
    # pricing nested inside availability in this published example
    assert valid.customer_price == Decimal("5.43")
    assert valid.map_price == Decimal("540.25")
    assert valid.retail_price == Decimal("10")
    assert valid.available is True and valid.total_availability == 240479
    ids = [w.warehouse_id for w in valid.warehouses]
    assert ids == ["20", "25", "30", "40", "80", "10", "81", "05"]
    assert valid.warehouses[-1] == WarehouseStock("05")
    assert valid.warehouses[1] == WarehouseStock("25", None, 100000, None)
    assert not missing.found and missing.ingram_part_number == "12351211"
    assert missing.message == "Product not found for IngramPartNumber:  12351211"
    assert missing.customer_price is None


def test_details_example() -> None:
    payload = loads(DETAILS_EXAMPLE)
    details = parse_details("5348387", payload)
    assert details.found
    assert details.category == "Computers Test Duplicate"
    assert details.subcategory == "Notebooks & Tablets"
    assert details.authorized is True
    assert details.upc == "196119831243" and details.vendor_name == "Lenovo"
    assert details.product_class is None
    assert details.raw is not None and details.raw["vendorNumber"] == "0000500082"
    # raw is plain JSON: it dumps without a custom encoder and keeps 2.6
    assert json.loads(json.dumps(details.raw)) == json.loads(DETAILS_EXAMPLE)


def test_details_subcategory_case_and_false_flag() -> None:
    details = parse_details("X1", {"productSubCategory": "Mice", "productAuthorized": "False"})
    assert details.subcategory == "Mice" and details.authorized is False
    assert details.ingram_part_number == "X1"


def test_cloud_details_example_with_nulls() -> None:
    payload = {"ingramPartNumber": None, "productAuthorized": None, "subscriptionDetails": []}
    details = parse_details("ABC123", payload)
    assert details.ingram_part_number == "ABC123" and details.authorized is None


def test_error_messages() -> None:
    assert error_message(loads(DETAILS_404_EXAMPLE)) == "No Records Found"
    assert (
        error_message({"fault": {"faultstring": "Invalid Access Token"}}) == "Invalid Access Token"
    )
    assert error_message({"message": "bad client"}) == "bad client"
    validation = {
        "errors": [
            {
                "message": "Validation failed",
                "fields": [{"field": "IM-CorrelationID", "message": "cannot be blank"}],
            }
        ]
    }
    assert error_message(validation) == "Validation failed (IM-CorrelationID: cannot be blank)"
    assert error_message([1, 2]) is None and error_message(None) is None
    assert error_message({"errors": "x"}) is None
    long = error_message({"errors": [{"message": "x\n" * 500}]})
    assert long is not None and len(long) <= 300 and "\n" not in long


def test_search_example() -> None:
    results, has_next = parse_search_page(loads(SEARCH_EXAMPLE))
    assert has_next
    [result] = results
    assert result.ingram_part_number == "1A8249"
    assert result.upc == "0619659134587" and result.subcategory == "Flash Memory Devices"
    assert result.description == "CLASS 10 100MB/S UHS-I CARD"


def test_search_last_page() -> None:
    assert parse_search_page({"catalog": [{"ingramPartNumber": "A"}], "nextPage": ""})[1] is False
    assert parse_search_page({"catalog": [], "nextPage": "/next"}) == ([], False)
    by_count = {"catalog": [{"ingramPartNumber": "A"}], "recordsFound": 3, "pageNumber": 3}
    assert parse_search_page({**by_count, "pageSize": 1})[1] is False
    assert parse_search_page({**by_count, "pageSize": 1, "pageNumber": 2})[1] is True


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"access_token": "abc", "token_type": "Bearer", "expires_in": "86399"}, 86399.0),
        ({"access_token": "abc", "expires_in": 3600}, 3600.0),
        ({"access_token": "abc", "expires_in": Decimal("1.5")}, 1.5),
        ({"access_token": "abc"}, 3600.0),
    ],
)
def test_token(payload: dict[str, Any], expected: float) -> None:
    assert parse_token(payload) == ("abc", expected)


@pytest.mark.parametrize(
    "payload",
    [
        {"expires_in": 5},
        {"access_token": "", "expires_in": 5},
        {"access_token": 5},
        {"access_token": "a", "expires_in": "soon"},
        {"access_token": "a", "expires_in": -1},
        {"access_token": "a", "expires_in": "1e400"},
        [],
        None,
    ],
)
def test_token_rejects(payload: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_token(payload)


# ---------------------------------------------------------------- quirks and rejects


def test_quirks_flags_numbers_and_ids() -> None:
    item = {
        "ingramPartNumber": 123512,
        "upc": 884116186519,
        "availability": {
            "available": "True",
            "totalAvailability": "17",
            "availabilityByWarehouse": [{"warehouseId": 5}, {"warehouseId": None}, {}],
        },
        "pricing": {"customerPrice": 1.1, "retailPrice": "2.50", "mapPrice": None},
    }
    [pa] = parse_price_availability([item])
    assert pa.ingram_part_number == "123512" and pa.upc == "884116186519"
    assert pa.available is True and pa.total_availability == 17
    assert pa.warehouses == (WarehouseStock("5"),)
    assert pa.customer_price == Decimal("1.1") and pa.retail_price == Decimal("2.50")
    assert pa.map_price is None


def test_item_with_only_a_part_number() -> None:
    [pa] = parse_price_availability([{"ingramPartNumber": "A1"}])
    assert pa.found and pa.customer_price is None and pa.warehouses == ()


@pytest.mark.parametrize(
    "body", ["", "<html>503</html>", "{}", "[" * 100000 + "]" * 100000]
)  # fmt: skip
def test_pa_rejects_a_junk_answer(body: str) -> None:
    with pytest.raises(MalformedResponse):
        parse_price_availability(loads(body))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[1]", "not an object"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": 1e400}}]', "customerPrice"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": 1e1000000}}]', "customerPrice"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": NaN}}]', "not JSON"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": Infinity}}]', "not JSON"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": "lots"}}]', "customerPrice"),
        ('[{"ingramPartNumber": "A", "pricing": {"customerPrice": "1,234.56"}}]', "customerPrice"),
        ('[{"ingramPartNumber": "A", "pricing": []}]', "pricing"),
        ('[{"ingramPartNumber": "A", "availability": {"available": "maybe"}}]', "available"),
        ('[{"ingramPartNumber": "A", "availability": {"totalAvailability": 1.5}}]',
         "totalAvailability"),
        ('[{"ingramPartNumber": "A", "availability": {"totalAvailability": "--5"}}]',
         "totalAvailability"),
        ('[{"ingramPartNumber": "A", "availability": {"availabilityByWarehouse": {}}}]',
         "availabilityByWarehouse"),
        ('[{"ingramPartNumber": "A", "availability": {"availabilityByWarehouse": [1]}}]',
         "warehouse"),
        ('[{"ingramPartNumber": {"a": 1}}]', "ingramPartNumber"),
        ('[{"ingramPartNumber": true}]', "ingramPartNumber"),
        ('[{"ingramPartNumber": "A", "availability": {"totalAvailability": 1' + "0" * 5000 + "}}]",
         "not JSON"),
    ],
)  # fmt: skip
def test_a_junk_item_fails_that_item_only(body: str, field: str) -> None:
    if field == "not JSON":  # junk JSON: the whole answer is unreadable
        with pytest.raises(MalformedResponse, match=field):
            loads(body)
        return
    items = loads(body)
    neighbour = {"ingramPartNumber": "B", "pricing": {"customerPrice": 1}}
    first, second = parse_price_availability([*items, neighbour])
    assert first.problem is not None and field in first.problem, first.problem
    assert first.problem.startswith("P&A item ")
    assert second.problem is None and second.customer_price == 1


def test_an_item_without_part_number_keeps_what_identifies_it() -> None:
    (item,) = parse_price_availability([{"vendorPartNumber": "X1", "upc": "0123"}])
    assert (item.ingram_part_number, item.vendor_part_number, item.upc) == ("", "X1", "0123")
    assert item.found and item.problem is None


def test_details_rejects_junk() -> None:
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    for payload in ([], "x", None, {"upc": []}, {"x": deep}):
        with pytest.raises(MalformedResponse):
            parse_details("A", payload)
    # A flag that is none (issue 19: the spec's own examples send "boolean") is unknown.
    assert parse_details("A", {"productAuthorized": 3}).authorized is None


# ---------------------------------------------------------------- properties

text = st.text(max_size=20)
decimal_price = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)
flag = st.sampled_from([True, False, "True", "False", "true", "false", None])
warehouse = st.fixed_dictionaries(
    {"warehouseId": st.one_of(st.integers(0, 999), st.from_regex(r"[0-9]{2}", fullmatch=True))},
    optional={
        "location": st.one_of(st.none(), text),
        "quantityAvailable": st.one_of(st.none(), st.integers(0, 10**6)),
        "quantityBackordered": st.one_of(st.none(), st.integers(0, 10**6)),
    },
)
pricing = st.fixed_dictionaries(
    {},
    optional={
        "customerPrice": st.one_of(st.none(), decimal_price),
        "retailPrice": st.one_of(st.none(), decimal_price, st.integers(0, 10**6)),
        "mapPrice": st.one_of(st.none(), decimal_price),
        "currencyCode": st.sampled_from(["USD", "EUR"]),
    },
)
availability = st.fixed_dictionaries(
    {},
    optional={
        "available": flag,
        "totalAvailability": st.one_of(st.none(), st.integers(0, 10**7)),
        "availabilityByWarehouse": st.one_of(st.none(), st.lists(warehouse, max_size=4)),
        "pricing": pricing,
    },
)
part_number = st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)
pa_item = st.fixed_dictionaries(
    {"ingramPartNumber": part_number},
    optional={
        "productStatusCode": st.sampled_from([None, "E", "W"]),
        "productStatusMessage": st.one_of(st.none(), text),
        "vendorPartNumber": st.one_of(st.none(), text),
        "upc": st.one_of(
            st.none(), st.integers(0, 10**13), st.from_regex(r"[0-9]{12}", fullmatch=True)
        ),
        "availability": st.one_of(st.none(), availability),
        "pricing": st.one_of(st.none(), pricing),
        "productAuthorized": flag,
    },
)


@settings(database=None)
@given(st.lists(pa_item, max_size=5))
def test_valid_pa_answers_parse(items: list[dict[str, Any]]) -> None:
    parsed = parse_price_availability(items)
    assert [p.ingram_part_number for p in parsed] == [i["ingramPartNumber"] for i in items]
    for source, result in zip(items, parsed, strict=True):
        assert result.found == (source.get("productStatusCode") != "E")
        if result.found and source.get("pricing"):
            assert result.customer_price == source["pricing"].get("customerPrice")


@settings(database=None)
@given(st.lists(pa_item, max_size=3))
def test_valid_pa_answers_parse_after_a_json_round_trip(items: list[dict[str, Any]]) -> None:
    body = json.dumps(items, default=str)
    assert len(parse_price_availability(loads(body))) == len(items)


json_junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**30, max_value=10**60),
        st.floats(),  # includes nan and inf
        st.decimals(),  # includes NaN, sNaN and Infinity
        st.text(max_size=10),
        st.sampled_from(["True", "E", "", "1e400", "12", "-0"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "ingramPartNumber",
                    "availability",
                    "pricing",
                    "customerPrice",
                    "available",
                    "availabilityByWarehouse",
                    "warehouseId",
                    "quantityAvailable",
                    "productStatusCode",
                    "upc",
                    "productAuthorized",
                    "catalog",
                    "nextPage",
                    "access_token",
                    "expires_in",
                    "errors",
                    "fault",
                    "message",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(json_junk)
def test_junk_raises_only_malformed(payload: Any) -> None:
    for parse in (
        parse_price_availability,
        lambda p: parse_details("A1", p),
        parse_search_page,
        parse_token,
    ):
        with contextlib.suppress(MalformedResponse):
            parse(payload)
    message = error_message(payload)
    assert message is None or isinstance(message, str)


@settings(database=None)
@given(st.lists(st.sampled_from(["[", "]", "{", "}", '"a"', ":", ",", "1", "1e999", "NaN", "-"])))
def test_junk_text_raises_only_malformed(tokens: list[str]) -> None:
    with contextlib.suppress(MalformedResponse):
        parse_price_availability(loads("".join(tokens)))


# ---------------------------------------------------------------- properties: details, search...

optional_text = st.one_of(st.none(), text)
upc = st.one_of(st.none(), st.integers(0, 10**13), st.from_regex(r"[0-9]{12}", fullmatch=True))
nested_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), decimal_price, text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(text, children, max_size=3)
    ),
    max_leaves=10,
)
details_document = st.fixed_dictionaries(
    {"ingramPartNumber": part_number},
    optional={
        "vendorPartNumber": optional_text,
        "upc": upc,
        "vendorName": optional_text,
        "description": optional_text,
        "productCategory": optional_text,
        "productSubcategory": optional_text,
        "productClass": optional_text,
        "productType": optional_text,
        "productAuthorized": flag,
        "productStatusCode": st.none(),
        "indicators": st.dictionaries(text, st.one_of(st.booleans(), st.none()), max_size=4),
        "additionalInformation": nested_json,
        "warrantyInformation": st.lists(nested_json, max_size=2),
    },
)


def expected_text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


@settings(database=None, suppress_health_check=[HealthCheck.too_slow])
@given(details_document, st.sampled_from(["productSubcategory", "productSubCategory"]))
def test_valid_details_documents_parse(document: dict[str, Any], subcategory_key: str) -> None:
    document = dict(document)
    if "productSubcategory" in document:  # the key's case varies
        document[subcategory_key] = document.pop("productSubcategory")
    parsed = parse_details("A1", loads(json.dumps(document, default=str)))
    assert parsed.found and parsed.ingram_part_number == "A1"
    assert parsed.category == expected_text(document.get("productCategory"))
    assert parsed.subcategory == expected_text(document.get(subcategory_key))
    flag_value = document.get("productAuthorized")
    if isinstance(flag_value, bool) or flag_value in ("True", "False", "true", "false"):
        assert parsed.authorized == (str(flag_value).lower() == "true")
    json.dumps(parsed.raw)  # the raw document is plain JSON again


search_item = st.fixed_dictionaries(
    {},
    optional={
        "ingramPartNumber": st.one_of(st.none(), part_number),
        "vendorPartNumber": optional_text,
        "vendorName": optional_text,
        "description": optional_text,
        "category": optional_text,
        "subCategory": optional_text,
        "upcCode": upc,
        "authorizedToPurchase": st.sampled_from(["true", "false", ""]),
    },
)


@settings(database=None)
@given(
    st.lists(search_item, max_size=5),
    st.integers(0, 10**6),
    st.integers(1, 100),
    st.integers(1, 1000),
    st.one_of(st.none(), st.just("/resellers/v6/catalog?pageNumber=3")),
)
def test_valid_search_pages_parse(items, found, size, number, next_page) -> None:
    page = {"recordsFound": found, "pageSize": size, "pageNumber": number, "catalog": items}
    if next_page is not None:
        page["nextPage"] = next_page
    results, has_next = parse_search_page(loads(json.dumps(page)))
    assert [r.ingram_part_number for r in results] == [
        i["ingramPartNumber"] for i in items if i.get("ingramPartNumber")
    ]
    assert not has_next or results


@settings(database=None)
@given(
    st.from_regex(r"[A-Za-z0-9._~+/-]{1,200}", fullmatch=True),
    st.one_of(
        st.integers(1, 366 * 86400),
        st.integers(1, 366 * 86400).map(str),
        st.decimals(min_value=1, max_value=86400, places=3),
        st.none(),
    ),
    st.sampled_from(["Bearer", "bearer", None]),
)
def test_valid_token_answers_parse(token: str, expires_in: Any, token_type: Any) -> None:
    answer = {"access_token": token, "token_type": token_type}
    if expires_in is not None:
        answer["expires_in"] = expires_in
    parsed, lifetime = parse_token(loads(json.dumps(answer, default=str)))
    assert parsed == token.strip()
    assert lifetime == (3600.0 if expires_in is None else float(expires_in))


@settings(database=None)
@given(st.integers(0, 400), st.sampled_from(["list", "dict"]))
def test_deep_nesting_raises_only_malformed(depth: int, shape: str) -> None:
    deep: Any = "leaf"
    for _ in range(depth):
        deep = [deep] if shape == "list" else {"x": deep}
    document = {"ingramPartNumber": "A1", "additionalInformation": deep}
    if depth < 60:  # real documents nest about 5 deep
        assert parse_details("A1", document).raw is not None
    elif depth > 70:  # past the parser's MAX_DEPTH (64): refused, never a RecursionError
        with pytest.raises(MalformedResponse):
            parse_details("A1", document)
    for parse in (parse_price_availability, parse_search_page):
        with contextlib.suppress(MalformedResponse):
            parse({"catalog": [deep]} if parse is parse_search_page else [deep])
    with contextlib.suppress(MalformedResponse):
        parse_price_availability(loads(json.dumps([{"ingramPartNumber": "A1", "x": deep}])))


@settings(database=None)
@given(
    st.one_of(
        st.integers(min_value=10**12),
        st.integers(max_value=-(10**12)),
        st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_finite()),
        st.builds(lambda e: Decimal(f"1e{e}"), st.integers(12, 10**6)),
        st.builds(lambda e: Decimal(f"1e-{e}"), st.integers(11, 10**6)),
    ),
    st.sampled_from(["customerPrice", "retailPrice", "mapPrice"]),
)
def test_huge_or_impossible_numbers_raise_only_malformed(number: Any, field: str) -> None:
    item = {"ingramPartNumber": "A1", "pricing": {field: number}}
    (parsed,) = parse_price_availability([item])  # one bad item fails that item only
    assert parsed.problem is not None and parsed.problem.startswith("P&A item A1: ")
    quantity = {"ingramPartNumber": "A1", "availability": {"totalAvailability": number}}
    (parsed,) = parse_price_availability([quantity])
    assert parsed.problem is not None or abs(parsed.total_availability) < 10**12


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [{"message": "Some unexpected error occured"}]},
        {"fault": {"faultstring": "Rate limit quota violation"}},
    ],
)
def test_details_error_body_with_status_200_is_malformed_not_empty_details(body):
    with pytest.raises(MalformedResponse, match="an error, not a product"):
        parse_details("6YE881", body)
