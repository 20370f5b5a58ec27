"""IngramClient against the sandbox (and a stub server): protocol, tokens, faults, secrets."""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from support.client_support import (
    SECRET,
    Reply,
    Seen,
    client_for,
    run_threads,
)

from ingram import __version__
from ingram.api.client import ClientSettings, IngramClient
from ingram.api.parsing import loads, parse_price_availability
from ingram.errors import ApiError, ApiUnavailable, CredentialsError, MalformedResponse
from ingram.sandbox import FaultRates

# ---------------------------------------------------------------- protocol


def test_headers_on_every_call(stub: Any) -> None:
    server = stub(lambda seen: Reply(200, [{"ingramPartNumber": "A1"}]))
    client = client_for(server, sender_id="MyCompany", country_code="NL")
    for _ in range(3):
        client.price_and_availability(["A1"])
    requests_seen = server.api_requests()
    assert len(requests_seen) == 3
    ids = set()
    for seen in requests_seen:
        h = {k.lower(): v for k, v in seen.headers.items()}
        assert h["authorization"] == "Bearer stub-token-0"
        assert h["im-customernumber"] == "20-222222"
        assert h["im-countrycode"] == "NL"
        assert h["im-senderid"] == "MyCompany"
        assert len(h["im-correlationid"]) == 32
        int(h["im-correlationid"], 16)
        ids.add(h["im-correlationid"])
        assert h["accept"] == "application/json"
        assert h["content-type"] == "application/json"
        assert h["user-agent"] == f"ingram-sync/{__version__}"
        assert seen.path.startswith("/resellers/v6/catalog/priceandavailability?")
        for flag in ("includeAvailability", "includePricing", "includeProductAttributes"):
            assert f"{flag}=true" in seen.path
        assert json.loads(seen.body) == {
            "showAvailableDiscounts": True,
            "products": [{"ingramPartNumber": "A1"}],
        }
    assert len(ids) == 3
    token_request = server.seen[0]
    assert token_request.method == "POST" and token_request.path == "/oauth/oauth20/token"
    assert b"grant_type=client_credentials" in token_request.body
    assert b"client_id=sandbox-client" in token_request.body
    assert "authorization" not in {k.lower() for k in token_request.headers}
    client.close()


def test_correlation_ids_unique_and_headers_valid(sandbox: Any) -> None:
    client = client_for(sandbox, sender_id="S" * 32)
    pns = sandbox.catalog.part_numbers(30)
    client.price_and_availability(pns[:10])
    for pn in pns[10:15]:
        client.product_details(pn)
    list(client.search(page_size=50, limit=60))
    stats = sandbox.stats()
    ids = stats["correlation_ids"]
    assert len(ids) == 1 + 5 + 2
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    assert "400" not in stats["status_counts"].get("price_and_availability", {})
    assert client.stats().pa_requests == 1 and client.stats().details_requests == 5
    assert client.stats().search_requests == 2 and client.stats().token_requests == 1


@pytest.mark.parametrize("count", [0, 51])
def test_batch_limits(sandbox: Any, count: int) -> None:
    client = client_for(sandbox)
    with pytest.raises(ValueError):
        client.price_and_availability([f"P{i}" for i in range(count)])
    with pytest.raises(ValueError):
        client.price_and_availability("ABC123")
    assert sandbox.stats()["calls"]["price_and_availability"] == 0


def test_pa_values_match_the_catalog(sandbox: Any) -> None:
    client = client_for(sandbox)
    pns = sandbox.catalog.part_numbers(48) + ["ZZ0000", "NOPE99"]
    results = client.price_and_availability(pns)
    assert [r.ingram_part_number for r in results] == pns
    for pn, result in zip(pns[:48], results[:48], strict=True):
        item = sandbox.catalog.price_availability_item(pn, show_discounts=True)
        [expected] = parse_price_availability(loads(json.dumps([item], default=str)))
        assert result == expected and result.found
        if item.get("pricing", {}).get("customerPrice") is not None:
            assert isinstance(result.customer_price, Decimal)
            assert str(result.customer_price) == str(item["pricing"]["customerPrice"])
    assert [r.found for r in results[48:]] == [False, False]
    assert all(r.message for r in results[48:])
    assert sandbox.stats()["pa_batch_sizes"] == [50]


def test_details_found_and_404(sandbox: Any) -> None:
    client = client_for(sandbox)
    pns = sandbox.catalog.part_numbers(200)
    missing = next(pn for pn in pns if sandbox.catalog.details_document(pn) is None)
    present = next(pn for pn in pns if sandbox.catalog.details_document(pn) is not None)
    details = client.product_details(present)
    document = sandbox.catalog.details_document(present)
    assert details.found and details.raw == json.loads(json.dumps(document))
    assert details.vendor_part_number == document.get("vendorPartNumber")
    sandbox.reset_stats()
    gone = client.product_details(missing)
    assert gone.found is False and gone.ingram_part_number == missing
    assert sandbox.stats()["calls"]["details"] == 1
    assert client.stats().retries == 0


def test_search_pages_until_the_end_or_the_limit(sandbox: Any) -> None:
    client = client_for(sandbox)
    everything = list(client.search(page_size=100))
    assert len(everything) == 200 and len({r.ingram_part_number for r in everything}) == 200
    assert sandbox.stats()["calls"]["search"] == 2
    sandbox.reset_stats()
    assert len(list(client.search(page_size=7, limit=20))) == 20
    assert sandbox.stats()["calls"]["search"] == 3
    assert list(client.search(keyword="no-such-product-anywhere")) == []
    with pytest.raises(ValueError):
        client.search(page_size=101)


# ---------------------------------------------------------------- token


def test_eight_threads_meeting_a_revoked_token_cause_one_token_request(sandbox: Any) -> None:
    client = client_for(sandbox)
    pns = sandbox.catalog.part_numbers(8)
    client.price_and_availability(pns[:1])
    sandbox.revoke_tokens()
    results = run_threads(8, lambda i: client.price_and_availability([pns[i]]))
    assert all(isinstance(r, list) and r[0].found for r in results), results
    assert sandbox.stats()["calls"]["token"] == 2
    assert client.stats().token_requests == 2
    assert client.stats().retries == 0


def test_token_refreshed_before_it_expires(stub: Any) -> None:
    server = stub(lambda seen: Reply(200, [{"ingramPartNumber": "A1"}]))
    issued: list[str] = []

    def short_token(seen: Seen) -> Reply:
        issued.append(f"short-{len(issued)}")
        return Reply(200, {"access_token": issued[-1], "expires_in": 0.3})

    server.token_reply = short_token
    client = client_for(server, token_refresh_margin=60.0)
    client.price_and_availability(["A1"])
    client.price_and_availability(["A1"])
    assert len(issued) == 1
    time.sleep(0.3)  # past lifetime - min(margin, lifetime / 10)
    client.price_and_availability(["A1"])
    assert len(issued) == 2
    auth = [s.headers["Authorization"] for s in server.api_requests()]
    assert auth == ["Bearer short-0", "Bearer short-0", "Bearer short-1"]


def test_refused_credentials(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-secret-value-xyz"
    client = client_for(sandbox, client_secret=secret)
    with pytest.raises(CredentialsError) as info:
        client.price_and_availability(sandbox.catalog.part_numbers(1))
    error = info.value
    assert error.http_status == 401 and not error.retryable
    assert "INGRAM_CLIENT_ID" in str(error) and "INGRAM_CLIENT_SECRET" in str(error)
    for text in (str(error), repr(error), repr(client.settings), caplog.text):
        assert secret not in text
    assert sandbox.stats()["calls"]["token"] == 1
    assert sandbox.stats()["calls"]["price_and_availability"] == 0


def test_a_401_that_lasts_with_fresh_tokens_is_a_credentials_error(stub: Any) -> None:
    server = stub(lambda seen: Reply(401, b""))
    client = client_for(server, details_retry_waits=(0.0, 0.0))
    with pytest.raises(CredentialsError) as info:
        client.product_details("A1")
    assert info.value.http_status == 401
    # Each attempt: a 401, a fresh token, a 401 again; a gateway revoking tokens early
    # is survived, a 401 that lasts through the retries stops the run.
    assert len(server.tokens_issued) == 4 and len(server.api_requests()) == 6


def test_a_401_with_a_fresh_token_once_is_retried(stub: Any) -> None:
    answers = iter([Reply(401, b""), Reply(401, b"")])
    server = stub(lambda seen: next(answers, Reply(200, {"ingramPartNumber": "A1"})))
    client = client_for(server)
    assert client.product_details("A1").ingram_part_number == "A1"
    assert len(server.tokens_issued) == 2 and client.stats().retries == 1


def test_403_is_a_credentials_error(stub: Any) -> None:
    body = {"errors": [{"message": "Customer not entitled"}]}
    server = stub(lambda seen: Reply(403, body))
    client = client_for(server)
    with pytest.raises(CredentialsError) as info:
        client.price_and_availability(["A1"])
    assert info.value.http_status == 403 and "Customer not entitled" in str(info.value)
    assert len(server.api_requests()) == 1


def test_token_endpoint_5xx_is_retried(stub: Any) -> None:
    server = stub(lambda seen: Reply(200, [{"ingramPartNumber": "A1"}]))
    answers = iter([Reply(503, b"<html>down</html>"), Reply(500, {"fault": {"faultstring": "x"}})])

    def flaky(seen: Seen) -> Reply:
        return next(answers, None) or Reply(200, {"access_token": "ok", "expires_in": "100"})

    server.token_reply = flaky
    client = client_for(server)
    assert client.price_and_availability(["A1"])[0].found
    assert client.stats().token_requests == 3


# ---------------------------------------------------------------- faults


def with_fault_window(server: Any, fault: str, call: Any, **extra: Any) -> Any:
    """Inject ``fault`` on every call until the server has seen one, then stop injecting."""
    before = server.stats()["faults_injected"].get(fault, 0)
    server.reconfigure(faults=FaultRates(**{fault: 1.0}), **extra)
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(call()))
    thread.start()
    deadline = time.monotonic() + 5
    while server.stats()["faults_injected"].get(fault, 0) == before:
        assert time.monotonic() < deadline, "the fault was never injected"
        time.sleep(0.002)
    server.reconfigure(faults=FaultRates())
    thread.join(timeout=10)
    return outcome[0]


@pytest.mark.parametrize(
    ("fault", "extra"),
    [
        ("error_500", {}),
        ("error_503_html", {}),
        ("malformed", {}),
        ("truncated", {}),
        ("drop_connection", {}),
        ("rate_limit_429", {"rate_window": 0.1}),
        ("slow", {"slow_seconds": 0.4}),
    ],
)
def test_transient_faults_are_retried(sandbox: Any, fault: str, extra: dict[str, Any]) -> None:
    waits = (0.15, 0.15, 0.15)
    client = client_for(sandbox, timeout=0.2, pa_retry_waits=waits, details_retry_waits=waits)
    pns = sandbox.catalog.part_numbers(5)
    result = with_fault_window(sandbox, fault, lambda: client.price_and_availability(pns), **extra)
    assert [r.ingram_part_number for r in result] == pns
    assert client.stats().retries >= 1
    assert client.stats().pa_requests == client.stats().retries + 1


def test_persistent_500_gives_up_after_every_wait(sandbox: Any) -> None:
    pns = sandbox.catalog.part_numbers(3)
    sandbox.reconfigure(failing_part_numbers=frozenset({pns[1]}))
    client = client_for(sandbox)
    with pytest.raises(ApiError) as info:
        client.price_and_availability(pns)
    error = info.value
    assert (error.kind, error.http_status, error.attempts) == ("http_error", 500, 4)
    assert str(error).startswith("P&A request for 3 part numbers failed after 4 attempts: HTTP 500")
    assert "unexpected error" in str(error)  # the vendor's message is kept
    assert sandbox.stats()["calls"]["price_and_availability"] == 4
    assert client.stats().retries == 3


def test_persistent_malformed_is_classified(sandbox: Any) -> None:
    sandbox.reconfigure(faults=FaultRates(malformed=1.0))
    client = client_for(sandbox, details_retry_waits=(0.01,))
    with pytest.raises(MalformedResponse) as info:
        client.product_details(sandbox.catalog.part_numbers(1)[0])
    assert info.value.kind == "malformed" and info.value.attempts == 2


def test_slow_answer_past_the_timeout(sandbox: Any) -> None:
    sandbox.reconfigure(faults=FaultRates(slow=1.0), slow_seconds=0.5)
    client = client_for(sandbox, timeout=0.1, details_retry_waits=(0.01,))
    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        client.product_details(sandbox.catalog.part_numbers(1)[0])
    assert info.value.kind == "timeout" and info.value.attempts == 2
    assert time.monotonic() - started < 1.0


def test_bad_request_is_not_retried(sandbox: Any) -> None:
    client = client_for(sandbox, customer_number="12345678901")
    with pytest.raises(ApiError) as info:
        client.price_and_availability(sandbox.catalog.part_numbers(2))
    error = info.value
    # A 400 about the IM-* headers is no item's fault: the run stops on it (issue 10).
    assert (error.kind, error.http_status, error.attempts) == ("configuration", 400, 1)
    assert "IM-CustomerNumber" in str(error)
    assert sandbox.stats()["calls"]["price_and_availability"] == 1


def test_revoked_token_fault_means_a_new_token_or_a_clear_error(sandbox: Any) -> None:
    client = client_for(sandbox)
    pns = sandbox.catalog.part_numbers(20)
    sandbox.reconfigure(faults=FaultRates(revoke_token=0.3))
    outcomes = []
    for pn in pns:
        try:
            outcomes.append(client.product_details(pn).ingram_part_number)
        except CredentialsError:
            outcomes.append("credentials")
    stats = sandbox.stats()
    revoked = stats["faults_injected"].get("revoke_token", 0)
    assert revoked >= 1 and any(o != "credentials" for o in outcomes)
    # every revoked token is replaced on its next use (the last one maybe not yet)
    assert revoked <= client.stats().token_requests <= revoked + 1


def test_redirect_is_not_followed(stub: Any) -> None:
    server = stub(lambda seen: Reply(302, b"", {"Location": "http://example.invalid/x"}))
    client = client_for(server)
    with pytest.raises(ApiError) as info:
        client.product_details("A1")
    assert info.value.http_status == 302 and info.value.attempts == 1
    assert len(server.api_requests()) == 1


@pytest.mark.parametrize("reply", [Reply(404, b"<html>no such path</html>"), Reply(204)])
def test_details_204_or_404_without_the_vendor_body_is_no_records(stub: Any, reply: Any) -> None:
    server = stub(lambda seen: reply)
    client = client_for(server)
    details = client.product_details("A1")
    assert (details.found, details.bare) == (False, True)
    assert client.stats().details_requests == 1  # not retried as a malformed answer


def test_connection_refused_before_any_token_stops_at_once() -> None:
    settings = ClientSettings(
        client_id="x",
        client_secret=SECRET,
        customer_number="20-222222",
        base_url="http://127.0.0.1:9",
        pa_retry_waits=(5.0,),  # waited on, this test would take 5 s
        connect_timeout=0.5,
    )
    client = IngramClient(settings)
    started = time.monotonic()
    with pytest.raises(ApiUnavailable) as info:  # no token: the run stops, not N failures
        client.price_and_availability(["A1"])
    assert time.monotonic() - started < 2
    assert str(info.value).startswith("cannot connect to 127.0.0.1:9: connection refused")
    assert client.stats().token_requests == 1


def test_connection_refused_after_a_token_is_retried_then_classified(sandbox_factory) -> None:
    server = sandbox_factory()
    client = client_for(server, pa_retry_waits=(0.01,))
    client.price_and_availability(server.catalog.part_numbers(1))
    server.stop()  # the API answered before: a refusal now may be a restart, worth retries
    with pytest.raises(ApiError) as info:
        client.price_and_availability(server.catalog.part_numbers(1))
    assert info.value.kind == "connection" and info.value.attempts == 2
    assert "failed after 2 attempts: cannot connect to 127.0.0.1:" in str(info.value)


# ---------------------------------------------------------------- secrets


def test_no_secret_or_token_in_errors_or_logs(
    sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(sandbox, details_retry_waits=(0.01,))
    pns = sandbox.catalog.part_numbers(10)
    errors: list[Exception] = []
    client.price_and_availability(pns)
    sandbox.revoke_tokens()
    sandbox.reconfigure(faults=FaultRates(error_500=0.3, malformed=0.2, revoke_token=0.2))
    for pn in pns:
        try:
            client.product_details(pn)
        except ApiError as exc:
            errors.append(exc)
    sandbox.reconfigure(faults=FaultRates(), client_secret="rotated")
    with pytest.raises(CredentialsError) as info:
        client_for(sandbox).product_details(pns[0])
    errors.append(info.value)
    tokens = sandbox.tokens.issued()  # every token the sandbox gave out
    assert len(tokens) >= 2
    texts = [caplog.text] + [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(client.settings), repr(client.stats())]
    for text in texts:
        assert SECRET not in text
        assert not any(token in text for token in tokens)
    assert "ingram.api.client" in {r.name for r in caplog.records}
