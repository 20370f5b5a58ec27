"""Issue 19: the sandbox as strict as Ingram, and every realistic option a flag.

Raw calls over real sockets, as the vendor's own examples make them (no client of
ours), except where a point is about what our client then does.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
import requests
from support.client_support import client_for
from support.sandbox_calls import CREDS, PA_PATH, api_headers, get_token

from ingram.errors import AccountFault
from ingram.sandbox import SandboxSettings, build_arg_parser, settings_from_args
from ingram.sandbox.runner import FAULT_OPTIONS

SEARCH = "/resellers/v6/catalog"
DETAILS_QUERY = "/resellers/v6/catalog/details"


def pa(server, pns, **headers):
    body = {"products": [{"ingramPartNumber": pn} for pn in pns], "showAvailableDiscounts": True}
    token = get_token(server)
    return requests.post(server.url + PA_PATH, json=body, headers=api_headers(token, **headers))


def get(server, path, params=None, **headers):
    token = get_token(server)
    return requests.get(server.url + path, params=params, headers=api_headers(token, **headers))


@pytest.mark.parametrize(("fault", "status"), [("quota_429", 429), ("quota_4xx", 403)])
def test_quota_replies_in_the_vendors_words(sandbox_factory, fault, status) -> None:
    server = sandbox_factory(faults={fault: 1.0}, rate_window=0.5)
    answer = pa(server, server.catalog.part_numbers(1))
    assert answer.status_code == status
    words = answer.json()["errors"][0]["message"]
    assert words in (
        "The quota limit exceeds for calls on your API app.",
        "Quote limit violation - Number of request limit exceeded",
    )
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert time.time() < float(answer.headers["X-RateLimit-Reset"]) <= time.time() + 0.5


def test_countries_are_checked_and_the_currency_follows_the_country(sandbox_factory) -> None:
    server = sandbox_factory(catalog_size=400)
    refused = pa(server, server.catalog.part_numbers(1), **{"IM-CountryCode": "ZZ"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["fields"][0]["field"] == "IM-CountryCode"
    pns = server.catalog.part_numbers(400)
    canadian = pa(server, pns[:50], **{"IM-CountryCode": "CA"}).json()
    prices = [item.get("pricing") or item["availability"]["pricing"] for item in canadian]
    assert {price["currencyCode"] for price in prices} == {"CAD"}
    lines = [
        line["currencyCode"]
        for item in canadian
        for block in item.get("discounts", [])
        for line in block.get("quantityDiscounts", [])
    ] + [fee["currencyCode"] for item in canadian for fee in item.get("serviceFees", [])]
    assert lines and set(lines) == {"CAD"}
    client = client_for(server, country_code="NL")
    assert {item.currency for item in client.price_and_availability(pns[:5])} == {"EUR"}


def test_an_unknown_customer_number_gets_the_gateway_fault(sandbox_factory) -> None:
    args = build_arg_parser().parse_args(["--registered-customer-number", "20-999999"])
    server = sandbox_factory(
        registered_customer_number=settings_from_args(args).registered_customer_number
    )
    with pytest.raises(AccountFault, match="Invalid customer number"):
        client_for(server).price_and_availability(server.catalog.part_numbers(1))


def test_the_token_endpoint_refuses_http_basic(sandbox) -> None:
    url = sandbox.url + "/oauth/oauth20/token"
    basic = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=("sandbox-client", "sandbox-secret")
    )
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    assert requests.post(url, data=CREDS).status_code == 200  # the form, as the portal says


def test_search_type_is_the_specs_enum(sandbox) -> None:
    vendor = sandbox.catalog.search_row(0)["vendorName"]
    for kind in ("IM::physical", "IM::any"):
        assert get(sandbox, SEARCH, {"vendor": vendor, "type": kind}).status_code == 200
    assert get(sandbox, SEARCH, {"vendor": vendor, "type": "IM::digital"}).status_code == 404
    wrong = get(sandbox, SEARCH, {"vendor": vendor, "type": "IM::subscription"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["fields"][0]["field"] == "type"


def test_arrays_only_in_the_repeated_form(sandbox) -> None:
    with_details = [i for i in range(50) if sandbox.catalog.details_document(
        sandbox.catalog.identity(i)[0])][:2]  # fmt: skip
    vpns = [sandbox.catalog.identity(i)[1] for i in with_details]
    repeated = get(sandbox, SEARCH, [("vendorPartNumber", vpn) for vpn in vpns])
    assert {row["vendorPartNumber"] for row in repeated.json()["catalog"]} == set(vpns)
    assert get(sandbox, SEARCH, {"vendorPartNumber": ",".join(vpns)}).status_code == 404


def test_a_search_that_ignores_the_filter(sandbox_factory) -> None:
    server = sandbox_factory(catalog_size=300, search_ignores_filter=True)
    vpn = server.catalog.identity(5)[1]
    page = get(server, SEARCH, {"vendorPartNumber": vpn, "pageSize": 100}).json()
    assert len(page["catalog"]) == 100 and page["recordsFound"] == 300 and page["nextPage"]


def test_details_in_the_query_form(sandbox) -> None:
    pn = next(pn for pn in sandbox.catalog.part_numbers(50) if sandbox.catalog.details_document(pn))
    vpn = sandbox.catalog.details_document(pn)["vendorPartNumber"]
    found = get(sandbox, DETAILS_QUERY, {"vendorPartNumber": vpn})
    assert found.status_code == 200 and found.json()["vendorPartNumber"] == vpn
    assert get(sandbox, DETAILS_QUERY, {"vendorPartNumber": "NO-SUCH-PART"}).status_code == 404
    assert get(sandbox, DETAILS_QUERY, {"planId": "471490"}).status_code == 404
    missing = get(sandbox, DETAILS_QUERY)
    assert missing.status_code == 400 and "vendorPartNumber" in missing.text


def test_warehouse_ids_are_strings_and_cisco_fields_an_object(sandbox_factory) -> None:
    server = sandbox_factory(catalog_size=300)
    pns = server.catalog.part_numbers(300)
    items = [
        item for start in range(0, 300, 50) for item in pa(server, pns[start : start + 50]).json()
    ]
    ids = [
        row["warehouseId"]
        for item in items
        for row in item["availability"]["availabilityByWarehouse"]
    ]
    assert ids and all(isinstance(i, str) for i in ids)
    documents = [server.catalog.details_document(pn) for pn in pns]
    cisco = [doc["ciscoFields"] for doc in documents if doc and doc["vendorName"] == "CISCO"]
    assert all(isinstance(doc["ciscoFields"], dict) for doc in documents if doc)
    assert cisco and all(
        fields and all(isinstance(v, str) for v in fields.values()) for fields in cisco
    )
    server.reconfigure(numeric_warehouse_ids=True)  # the spec's examples' form, as an option
    numeric = [row["warehouseId"] for item in pa(server, pns[:50]).json()
               for row in item["availability"]["availabilityByWarehouse"]]  # fmt: skip
    assert any(isinstance(i, int) for i in numeric)


def test_the_odd_extras_come_as_options(sandbox_factory) -> None:
    server = sandbox_factory(placeholder_extras=True, negative_special_pricing=True)
    [item] = pa(server, server.catalog.part_numbers(1)).json()
    assert item["productAuthorized"] == item["bundlePartIndicator"] == "boolean"
    [block] = item["discounts"]
    assert block["quantityDiscounts"][0]["amount"] == "decimal"
    assert block["specialPricing"][0]["specialPricingDiscount"] < 0


# Settings that are no vendor behaviour, or have a flag of another name.
NOT_BEHAVIOURS = {"host", "port", "faults", "verbose", "webhook_url", "webhook_secret"}
ALIASES = {"send_retry_after": "retry_after"}


def test_every_realistic_option_is_a_flag_of_the_sandbox() -> None:
    parser = build_arg_parser()
    dests = {action.dest for action in parser._actions}
    renamed = {f"{dest}s": dest for dest in dests}  # repeatable: --unnumbered-part-number ...
    missing = [
        field.name
        for field in dataclasses.fields(SandboxSettings)
        if field.name not in NOT_BEHAVIOURS
        and ALIASES.get(field.name, field.name) not in dests
        and field.name not in renamed
    ]
    assert not missing, f"sandbox settings without a flag: {missing}"
    switches = [
        "--realistic", "--single-token", "--short-pages", "--maintenance",
        "--search-ignores-filter", "--placeholder-extras", "--negative-special-pricing",
        "--numeric-warehouse-ids", "--clock-offset", "2.5", "--registered-customer-number",
        "20-999999", "--unnumbered-part-number", "a1", "--misformatted-part-number", "b2",
        "--refused-part-number", "c3", "--fault-quota-429", "0.1", "--fault-quota-4xx", "0.2",
    ]  # fmt: skip
    settings = settings_from_args(parser.parse_args(switches))
    assert settings.realistic and settings.single_token and settings.short_pages
    assert settings.maintenance and settings.search_ignores_filter
    assert settings.placeholder_extras and settings.negative_special_pricing
    assert settings.numeric_warehouse_ids and settings.clock_offset == 2.5
    assert settings.registered_customer_number == "20-999999"
    assert settings.unnumbered_part_numbers == {"A1"} and settings.refused_part_numbers == {"C3"}
    assert settings.misformatted_part_numbers == {"B2"}
    assert (settings.faults.quota_429, settings.faults.quota_4xx) == (0.1, 0.2)
    assert set(FAULT_OPTIONS.values()) == {f.name for f in dataclasses.fields(settings.faults)}
