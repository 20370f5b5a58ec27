"""The sandbox HTTP server over real sockets: token, headers, P&A, details, search, control."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.sandbox_calls import CREDS, PA_PATH, api_headers, get_token

from ingram.sandbox import SandboxServer, SandboxSettings


def pa_body(pns: list[str]) -> dict:
    return {"products": [{"ingramPartNumber": pn} for pn in pns]}


# -- token -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/oauth/oauth20/token", "/oauth/oauth30/token"])
def test_token_by_post_form_and_get_query(sandbox: SandboxServer, path: str) -> None:
    posted = requests.post(sandbox.url + path, data=CREDS)
    got = requests.get(sandbox.url + path, params=CREDS)
    for response in (posted, got):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == "86399"
        assert len(body["access_token"]) >= 20
    assert posted.json()["access_token"] != got.json()["access_token"]
    assert sandbox.stats()["calls"]["token"] == 2


def test_token_refused_for_wrong_secret_or_grant(sandbox: SandboxServer) -> None:
    url = sandbox.url + "/oauth/oauth20/token"
    wrong = requests.post(url, data={**CREDS, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = requests.post(url, data={**CREDS, "grant_type": "password"})
    assert grant.status_code == 401
    assert "nope" not in wrong.text


def test_token_expires_after_its_lifetime(sandbox_factory) -> None:
    server = sandbox_factory(token_lifetime=0.3)
    token = get_token(server)
    url = server.url + "/resellers/v6/catalog/details/" + server.catalog.part_numbers(1)[0]
    assert requests.get(url, headers=api_headers(token)).status_code in (200, 404)
    time.sleep(0.35)
    expired = requests.get(url, headers=api_headers(token))
    assert expired.status_code == 401 and expired.content == b""


@pytest.mark.parametrize("auth", [None, "Bearer not-a-token", "Basic abc", "Bearer "])
def test_bad_token_is_401_with_empty_body(sandbox: SandboxServer, auth: str | None) -> None:
    headers = api_headers("x")
    headers.pop("Authorization")
    if auth is not None:
        headers["Authorization"] = auth
    response = requests.post(sandbox.url + PA_PATH, json=pa_body(["A"]), headers=headers)
    assert response.status_code == 401
    assert response.content == b""


def test_revoke_tokens(sandbox: SandboxServer) -> None:
    token = get_token(sandbox)
    sandbox.revoke_tokens()
    response = requests.get(sandbox.url + "/resellers/v6/catalog", headers=api_headers(token))
    assert response.status_code == 401


# -- header validation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("IM-CustomerNumber", None),
        ("IM-CustomerNumber", "12345678901"),
        ("IM-CountryCode", None),
        ("IM-CountryCode", "USA"),
        ("IM-CountryCode", "U"),
        ("IM-CorrelationID", None),
        ("IM-CorrelationID", ""),
        ("IM-CorrelationID", "x" * 33),
        ("IM-SenderID", "s" * 33),
    ],
)
def test_header_validation(sandbox: SandboxServer, header: str, value: str | None) -> None:
    token = sandbox.issue_token()
    headers = api_headers(token, **{header: value})  # type: ignore[arg-type]
    response = requests.post(sandbox.url + PA_PATH, json=pa_body(["X"]), headers=headers)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["type"] == "/errors/validation-failed"
    assert error["message"] == "Validation failed"
    assert error["id"]
    assert [f["field"] for f in error["fields"]] == [header]
    assert error["fields"][0]["message"]


def test_limits_exactly_at_maximum_are_fine(sandbox: SandboxServer) -> None:
    headers = api_headers(
        sandbox.issue_token(),
        **{"IM-CustomerNumber": "1" * 10, "IM-CorrelationID": "c" * 32, "IM-SenderID": "s" * 32},
    )
    pn = sandbox.catalog.part_numbers(1)[0]
    response = requests.post(sandbox.url + PA_PATH, json=pa_body([pn]), headers=headers)
    assert response.status_code == 200


# -- price and availability ----------------------------------------------------


def test_pa_all_found_is_200_in_request_order(sandbox: SandboxServer) -> None:
    pns = sandbox.catalog.part_numbers(50)[::-1]
    response = requests.post(
        sandbox.url + PA_PATH, json=pa_body(pns), headers=api_headers(sandbox.issue_token())
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    items = response.json()
    assert [item["ingramPartNumber"] for item in items] == pns
    assert items == [sandbox.catalog.price_availability_item(pn) for pn in pns]
    assert sandbox.stats()["pa_batch_sizes"] == [50]


def test_pa_unknown_is_207_with_e_item(sandbox: SandboxServer) -> None:
    pns = [*sandbox.catalog.part_numbers(2), "ZZNOTREAL1"]
    response = requests.post(
        sandbox.url + PA_PATH, json=pa_body(pns), headers=api_headers(sandbox.issue_token())
    )
    assert response.status_code == 207
    last = response.json()[-1]
    assert last["productStatusCode"] == "E"
    assert last["productStatusMessage"] == "Product not found for IngramPartNumber:  ZZNOTREAL1"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(pa_body([f"P{i}" for i in range(51)])),
        json.dumps({"products": []}),
        "{not json",
        json.dumps({"items": [{"ingramPartNumber": "A"}]}),
        json.dumps({"products": [{"foo": 1}]}),
    ],
)
def test_pa_bad_bodies_are_400(sandbox: SandboxServer, body: str) -> None:
    headers = {**api_headers(sandbox.issue_token()), "Content-Type": "application/json"}
    response = requests.post(sandbox.url + PA_PATH, data=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "/errors/validation-failed"


def test_pa_over_fifty_is_recorded_as_such(sandbox: SandboxServer) -> None:
    headers = api_headers(sandbox.issue_token())
    requests.post(sandbox.url + PA_PATH, json=pa_body(["A"] * 51), headers=headers)
    requests.post(
        sandbox.url + PA_PATH, json=pa_body(sandbox.catalog.part_numbers(3)), headers=headers
    )
    stats = sandbox.stats()
    assert stats["pa_batch_sizes"] == [51, 3]
    assert stats["pa_part_numbers_count"] == 54
    assert stats["status_counts"]["price_and_availability"] == {"400": 1, "200": 1}


@pytest.mark.parametrize(
    "query",
    [
        "?includePricing=true",
        "?includeAvailability=true",
        "?includeAvailability=maybe&includePricing=true",
    ],
)
def test_pa_requires_include_flags(sandbox: SandboxServer, query: str) -> None:
    response = requests.post(
        sandbox.url + "/resellers/v6/catalog/priceandavailability" + query,
        json=pa_body(sandbox.catalog.part_numbers(1)),
        headers=api_headers(sandbox.issue_token()),
    )
    assert response.status_code == 400


def test_pa_include_flags_false_leave_blocks_out(sandbox: SandboxServer) -> None:
    response = requests.post(
        sandbox.url + "/resellers/v6/catalog/priceandavailability",
        params={"includeAvailability": "false", "includePricing": "true"},
        json=pa_body(sandbox.catalog.part_numbers(20)),
        headers=api_headers(sandbox.issue_token()),
    )
    assert response.status_code == 200
    assert all("availability" not in i and "pricing" in i for i in response.json())


def test_keep_alive_connection_is_reused(sandbox: SandboxServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    body = json.dumps(pa_body(sandbox.catalog.part_numbers(5)))
    headers = {**api_headers(sandbox.issue_token()), "Content-Type": "application/json"}
    sockets = set()
    for _ in range(3):
        conn.request("POST", PA_PATH, body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())
        assert response.getheader("Content-Length")
        sockets.add(id(conn.sock))
    conn.close()
    assert len(sockets) == 1


# -- details -------------------------------------------------------------------


def test_details_200_and_404(sandbox_factory) -> None:
    server = sandbox_factory(not_found_details_ratio=0.5)
    session = requests.Session()
    headers = api_headers(get_token(server, session))
    pns = server.catalog.part_numbers(20)
    statuses = {}
    for pn in pns:
        response = session.get(f"{server.url}/resellers/v6/catalog/details/{pn}", headers=headers)
        statuses[pn] = response.status_code
        if response.status_code == 200:
            assert response.json() == server.catalog.details_document(pn)
        else:
            assert response.status_code == 404
            assert response.json() == {"errors": [{"message": "No Records Found"}]}
    assert set(statuses.values()) == {200, 404}
    unknown = session.get(f"{server.url}/resellers/v6/catalog/details/ZZNOTREAL1", headers=headers)
    assert unknown.status_code == 404
    assert server.stats()["details_part_numbers"] == [*pns, "ZZNOTREAL1"]


# -- search --------------------------------------------------------------------


def _search(server: SandboxServer, token: str, **params: object) -> requests.Response:
    return requests.get(
        server.url + "/resellers/v6/catalog", params=params, headers=api_headers(token)
    )


def test_search_pages_cover_every_match_once(sandbox: SandboxServer) -> None:
    token = sandbox.issue_token()
    first = _search(sandbox, token, pageSize=7, pageNumber=1, vendor="dell").json()
    total = first["recordsFound"]
    assert total > 7 and first["pageSize"] == 7 and first["pageNumber"] == 1
    assert "previousPage" not in first
    seen = [row["ingramPartNumber"] for row in first["catalog"]]
    link = first.get("nextPage")
    while link:
        page = requests.get(sandbox.url + link, headers=api_headers(token)).json()
        seen += [row["ingramPartNumber"] for row in page["catalog"]]
        assert page["previousPage"]
        link = page.get("nextPage")
    assert len(seen) == len(set(seen)) == total
    expected = {
        sandbox.catalog.search_row(i)["ingramPartNumber"] for i in sandbox.catalog.search(["dell"])
    }
    assert set(seen) == expected


def test_search_rows_and_filters(sandbox: SandboxServer) -> None:
    token = sandbox.issue_token()
    body = _search(sandbox, token, pageSize=100, category="networking").json()
    assert body["catalog"] and all(row["category"] == "Networking" for row in body["catalog"])
    row = body["catalog"][0]
    for key in (
        "ingramPartNumber",
        "vendorPartNumber",
        "vendorName",
        "description",
        "subCategory",
        "upcCode",
    ):
        assert isinstance(row[key], str)
    everything = _search(sandbox, token, pageSize=100).json()
    assert everything["recordsFound"] == 200
    keyword = _search(sandbox, token, keyword="switches").json()
    assert all("SWITCHES" in row["description"] for row in keyword["catalog"])


def test_search_errors(sandbox: SandboxServer) -> None:
    token = sandbox.issue_token()
    assert _search(sandbox, token, pageSize=101).status_code == 400
    assert _search(sandbox, token, pageSize=0).status_code == 400
    assert _search(sandbox, token, pageNumber="x").status_code == 400
    nothing = _search(sandbox, token, keyword="no-such-thing-anywhere")
    assert nothing.status_code == 404
    assert nothing.json()["errors"][0]["message"] == "No Records Found"


# -- routing -------------------------------------------------------------------


def test_unknown_paths_and_wrong_methods(sandbox: SandboxServer) -> None:
    headers = api_headers(sandbox.issue_token())
    assert requests.get(sandbox.url + "/nope", headers=headers).status_code == 404
    assert requests.get(sandbox.url + PA_PATH, headers=headers).status_code == 405
    assert requests.post(sandbox.url + "/resellers/v6/catalog", headers=headers).status_code == 405
    assert requests.delete(sandbox.url + "/oauth/oauth20/token").status_code == 405


# -- stats, control, reconfiguration -------------------------------------------


def test_stats_count_calls_concurrency_and_correlation_ids(sandbox_factory) -> None:
    server = sandbox_factory(latency=0.1)
    token = server.issue_token()
    pns = server.catalog.part_numbers(4)

    def call(i: int) -> int:
        headers = api_headers(token, **{"IM-CorrelationID": f"corr-{i}"})
        return requests.post(server.url + PA_PATH, json=pa_body(pns), headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(call, range(4))) == [200] * 4
    stats = server.stats()
    json.dumps(stats)
    assert stats["calls"]["price_and_availability"] == 4
    assert stats["max_in_flight"]["price_and_availability"] >= 2
    assert sorted(stats["correlation_ids"]) == [f"corr-{i}" for i in range(4)]
    log = server.request_log()
    assert len(log) == 4 and {e["sku_count"] for e in log} == {4}
    assert {e["status"] for e in log} == {200}
    server.reset_stats()
    assert server.stats()["calls"]["price_and_availability"] == 0


def test_control_endpoints(sandbox: SandboxServer) -> None:
    stats = requests.get(sandbox.url + "/_sandbox/stats").json()
    assert set(stats) >= {"calls", "status_counts", "max_calls_in_window"}
    catalog = requests.get(sandbox.url + "/_sandbox/catalog", params={"limit": 5}).json()
    assert catalog == sandbox.catalog.part_numbers(5)
    assert len(requests.get(sandbox.url + "/_sandbox/catalog").json()) == 200
    changes = {"latency": 0.01, "faults": {"error_500": 0.5}, "failing_part_numbers": ["ABC123"]}
    config = requests.post(sandbox.url + "/_sandbox/config", json=changes)
    assert config.status_code == 200 and config.json()["client_secret"] == "***"
    assert sandbox.settings.faults.error_500 == 0.5
    assert sandbox.settings.failing_part_numbers == frozenset({"ABC123"})
    bad = requests.post(sandbox.url + "/_sandbox/config", json={"no_such_setting": 1})
    assert bad.status_code == 400
    get_token(sandbox)
    assert requests.post(sandbox.url + "/_sandbox/reset").status_code == 200
    assert requests.get(sandbox.url + "/_sandbox/stats").json()["calls"]["token"] == 0


def test_the_request_log_is_served_to_other_processes(sandbox: SandboxServer) -> None:
    get_token(sandbox)
    log = requests.get(sandbox.url + "/_sandbox/log").json()
    assert [(e["endpoint"], e["status"]) for e in log] == [("token", 200)]
    assert log == sandbox.request_log()


def test_reconfigure_at_runtime(sandbox: SandboxServer) -> None:
    token = sandbox.issue_token()
    pn = sandbox.catalog.part_numbers(1)[0]
    before = sandbox.catalog.price_availability_item(pn)
    sandbox.reconfigure(failing_part_numbers=[pn])
    response = requests.post(sandbox.url + PA_PATH, json=pa_body([pn]), headers=api_headers(token))
    assert response.status_code == 500
    assert response.json()["errors"][0]["type"] == "/errors/system-errors"
    details = requests.get(
        f"{sandbox.url}/resellers/v6/catalog/details/{pn}", headers=api_headers(token)
    )
    assert details.status_code == 500
    sandbox.reconfigure(failing_part_numbers=frozenset(), catalog_size=300, seed=9)
    assert len(sandbox.catalog.part_numbers()) == 300
    assert sandbox.catalog.price_availability_item(pn) != before
    with pytest.raises(TypeError):
        sandbox.reconfigure(bogus=1)
    with pytest.raises(ValueError):
        sandbox.reconfigure(faults={"error_500": 2})


def test_price_epoch_reconfigure_changes_answers(sandbox_factory) -> None:
    server = sandbox_factory(catalog_size=500)
    pns = server.catalog.part_numbers()
    before = [server.catalog.price_availability_item(pn) for pn in pns]
    server.reconfigure(price_epoch=3)
    after = [server.catalog.price_availability_item(pn) for pn in pns]
    assert 20 <= sum(a != b for a, b in zip(before, after, strict=True)) <= 90


def test_urllib_client_and_context_manager() -> None:
    with SandboxServer(SandboxSettings(catalog_size=10)) as server:
        url = server.url + "/oauth/oauth30/token?" + "&".join(f"{k}={v}" for k, v in CREDS.items())
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.load(response)["token_type"] == "Bearer"
        base = server.url
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(base + "/_sandbox/stats", timeout=2)
