"""Sandbox rate limits and injected faults, each observable from a real client."""

from __future__ import annotations

import json
import time

import pytest
import requests

from ingram.sandbox import FaultRates, SandboxServer

PA_PATH = (
    "/resellers/v6/catalog/priceandavailability"
    "?includeAvailability=true&includePricing=true&includeProductAttributes=true"
)


def api_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "IM-CustomerNumber": "20-222222",
        "IM-CountryCode": "US",
        "IM-CorrelationID": "faults",
    }


def post_pa(server: SandboxServer, token: str, **kwargs: object) -> requests.Response:
    body = {"products": [{"ingramPartNumber": pn} for pn in server.catalog.part_numbers(3)]}
    return requests.post(server.url + PA_PATH, json=body, headers=api_headers(token), **kwargs)


def details_url(server: SandboxServer, index: int = 0) -> str:
    return (
        f"{server.url}/resellers/v6/catalog/details/{server.catalog.part_numbers(index + 1)[index]}"
    )


# -- rate limits ---------------------------------------------------------------


def test_rate_limit_429_shape_and_headers(sandbox_factory) -> None:
    server = sandbox_factory(pa_rate_limit=3, rate_window=1.0)
    token = server.issue_token()
    ok = [post_pa(server, token) for _ in range(3)]
    assert [r.status_code for r in ok] == [200, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in ok] == ["2", "1", "0"]
    assert ok[0].headers["X-RateLimit-Limit"] == "3"
    limited = post_pa(server, token)
    assert limited.status_code == 429
    assert limited.json() == {"errors": [{"field": None, "message": "too many requests"}]}
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    reset = float(limited.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 1.0
    assert "Retry-After" not in limited.headers
    # other endpoints have their own (here: no) limit
    assert requests.get(details_url(server), headers=api_headers(token)).status_code in (200, 404)
    stats = server.stats()
    assert stats["rate_limited"]["price_and_availability"] == 1
    assert stats["max_calls_in_window"]["price_and_availability"] == 3
    assert stats["status_counts"]["price_and_availability"] == {"200": 3, "429": 1}


def test_retry_after_and_window_rolls(sandbox_factory) -> None:
    server = sandbox_factory(details_rate_limit=2, rate_window=0.3, send_retry_after=True)
    token = server.issue_token()
    url = details_url(server)
    statuses = [requests.get(url, headers=api_headers(token)).status_code for _ in range(2)]
    assert 429 not in statuses
    limited = requests.get(url, headers=api_headers(token))
    assert limited.status_code == 429
    retry_after = float(limited.headers["Retry-After"])
    assert 0 < retry_after <= 0.3
    time.sleep(retry_after + 0.02)
    assert requests.get(url, headers=api_headers(token)).status_code != 429
    assert server.stats()["max_calls_in_window"]["details"] <= 2


def test_rejected_calls_do_not_count_and_window_max_stays_within_limit(sandbox_factory) -> None:
    # The sliding window of the lenient mode; the realistic one is a fixed window (below).
    server = sandbox_factory(search_rate_limit=5, rate_window=0.25, realistic=False)
    token = server.issue_token()
    session = requests.Session()
    accepted = 0
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        response = session.get(server.url + "/resellers/v6/catalog", headers=api_headers(token))
        accepted += response.status_code == 200
    stats = server.stats()
    assert stats["max_calls_in_window"]["search"] == 5
    assert stats["rate_limited"]["search"] > 0
    # a hammering client still gets a full quota in every window: 429s did not count
    assert accepted >= 10


# -- faults ----------------------------------------------------------------------


def test_fault_500_json(sandbox_factory) -> None:
    server = sandbox_factory(faults=FaultRates(error_500=1.0))
    response = post_pa(server, server.issue_token())
    assert response.status_code == 500
    assert response.json()["errors"][0]["type"] == "/errors/system-errors"
    assert server.stats()["faults_injected"] == {"error_500": 1}


def test_fault_503_html(sandbox_factory) -> None:
    server = sandbox_factory(faults={"error_503_html": 1.0})
    response = requests.get(details_url(server), headers=api_headers(server.issue_token()))
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_fault_429_injected(sandbox_factory) -> None:
    server = sandbox_factory(faults={"rate_limit_429": 1.0}, send_retry_after=True)
    response = post_pa(server, server.issue_token())
    assert response.status_code == 429
    assert response.json()["errors"][0]["message"] == "too many requests"
    assert {"X-RateLimit-Reset", "X-RateLimit-Remaining", "Retry-After"} <= set(response.headers)
    stats = server.stats()
    assert stats["rate_limited"]["price_and_availability"] == 1
    assert stats["max_calls_in_window"]["price_and_availability"] == 0


def test_fault_slow_trips_a_client_timeout(sandbox_factory) -> None:
    server = sandbox_factory(faults={"slow": 1.0}, slow_seconds=0.4)
    with pytest.raises(requests.exceptions.ReadTimeout):
        post_pa(server, server.issue_token(), timeout=0.1)


def test_fault_truncated_body(sandbox_factory) -> None:
    server = sandbox_factory(faults={"truncated": 1.0})
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        post_pa(server, server.issue_token())
    stats = server.stats()
    assert stats["faults_injected"] == {"truncated": 1}
    assert stats["status_counts"]["price_and_availability"] == {"truncated": 1}


def test_fault_malformed_json(sandbox_factory) -> None:
    server = sandbox_factory(faults={"malformed": 1.0})
    token = server.issue_token()
    for _ in range(4):
        response = post_pa(server, token)
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.content)


def test_fault_drop_connection(sandbox_factory) -> None:
    server = sandbox_factory(faults={"drop_connection": 1.0})
    with pytest.raises(requests.ConnectionError):
        post_pa(server, server.issue_token())
    assert server.stats()["status_counts"]["price_and_availability"] == {"dropped": 1}


def test_fault_revoke_token_then_new_token_works(sandbox_factory) -> None:
    server = sandbox_factory(faults={"revoke_token": 1.0})
    token = server.issue_token()
    first = post_pa(server, token)
    assert first.status_code == 401 and first.content == b""
    server.reconfigure(faults={})
    assert post_pa(server, token).status_code == 401  # the old token stays dead
    fresh = requests.post(
        server.url + "/oauth/oauth20/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
    ).json()["access_token"]
    assert post_pa(server, fresh).status_code == 200


def test_faults_spare_the_token_and_control_endpoints(sandbox_factory) -> None:
    server = sandbox_factory(faults={"error_500": 1.0})
    token = requests.get(
        server.url + "/oauth/oauth20/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
    )
    assert token.status_code == 200
    assert requests.get(server.url + "/_sandbox/stats").status_code == 200


def test_fault_rates_are_seeded_and_mixed(sandbox_factory) -> None:
    def run(seed: int) -> list[int]:
        server = sandbox_factory(seed=seed, faults={"error_500": 0.3, "error_503_html": 0.2})
        session, token = requests.Session(), server.issue_token()
        return [
            session.get(details_url(server), headers=api_headers(token)).status_code
            for _ in range(40)
        ]

    first, second = run(5), run(5)
    assert first == second
    assert {500, 503} <= set(first) and len(set(first)) >= 3


def test_fault_rates_validated() -> None:
    with pytest.raises(ValueError):
        FaultRates(slow=1.5)
    with pytest.raises(ValueError):
        FaultRates.from_value({"explode": 0.1})


def test_realistic_fixed_window_locks_the_endpoint_out_until_it_ends(sandbox_factory) -> None:
    server = sandbox_factory(search_rate_limit=3, rate_window=0.5, realistic=True)
    headers = {
        "Authorization": f"Bearer {server.issue_token()}",
        "IM-CustomerNumber": "20-222222",
        "IM-CountryCode": "US",
        "IM-CorrelationID": "a" * 32,
    }
    url = server.url + "/resellers/v6/catalog?pageSize=1&keyword=zz"
    session = requests.Session()
    opened = time.time()
    answers = [session.get(url, headers=headers, timeout=5) for _ in range(5)]
    assert [a.status_code == 429 for a in answers] == [False, False, False, True, True]
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    assert remaining == [2, 1, 0, 0, 0]
    reset = float(answers[-1].headers["X-RateLimit-Reset"])
    assert opened + 0.4 <= reset <= opened + 0.6  # the window's end, not a call's age
    time.sleep(max(0.0, reset - time.time()) + 0.02)
    again = session.get(url, headers=headers, timeout=5)
    assert again.status_code != 429 and again.headers["X-RateLimit-Remaining"] == "2"
