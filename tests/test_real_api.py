"""Issue 10: the client against the sandbox in its realistic mode (the vendor's documented ways)."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

import pytest
import requests
from support.client_support import Reply
from support.clirunner import Cli

from ingram.api.maintenance import maintenance_note
from ingram.api.parsing import account_fault
from ingram.config import client_settings, load_settings
from ingram.policy import POLICY

CREDENTIALS = {
    "INGRAM_CLIENT_ID": "id",
    "INGRAM_CLIENT_SECRET": "secret",
    "INGRAM_CUSTOMER_NUMBER": "20-222222",
}


@pytest.fixture
def realistic(sandbox_factory):
    def start(**overrides):
        overrides.setdefault("realistic", True)
        return sandbox_factory(**overrides)

    return start


def run_json(cli: Cli, run_id: int) -> dict:
    shown = cli.run("runs", "show", str(run_id), "--json")
    assert shown.code == 0, shown
    [run] = json.loads(shown.out)
    return run


@pytest.mark.slow
def test_a_run_far_faster_than_the_vendor_allows_follows_its_headers(realistic, make_cli):
    limit, window, batches = 10, 0.5, 60
    server = realistic(pa_rate_limit=limit, rate_window=window, catalog_size=batches * 5)
    cli = make_cli(server)
    assert cli.run("products", "add", *server.catalog.part_numbers(batches * 5)).code == 0
    started = time.monotonic()
    result = cli.sync("--no-details", "--batch-size", "5", "--max-concurrent", "5")
    elapsed = time.monotonic() - started
    assert result.code == 0, result
    stats = server.stats()
    assert stats["calls"]["price_and_availability"] - batches <= 2  # at most 2 429s retried
    assert stats["rate_limited"]["price_and_availability"] <= 2
    floor = batches / limit * window  # the vendor's window floor: 3.0 s
    # The sync's process start-up (about a second under load) is not the pacing's doing.
    startup = run_json(cli, 1)["streams"]["price_availability"]["seconds"]
    assert startup is not None and startup <= 1.25 * floor, (startup, floor, elapsed)
    pacing = run_json(cli, 1)["pacing"]["price_and_availability"]
    assert pacing["limit"] == limit and pacing["waits"] >= 1
    shown = cli.run("runs", "show", "1")
    assert f"P&A: limit {limit} a window" in shown.out, shown


@pytest.mark.slow
def test_slow_details_say_how_many_workers_would_reach_the_limit(realistic, make_cli):
    server = realistic(latency=0.05, catalog_size=20)
    cli = make_cli(server)
    assert cli.run("products", "add", *server.catalog.part_numbers(8)).code == 0
    result = cli.sync("--details-interval", "0.01")
    assert result.code == 0, result
    assert "--details-workers" in result.err and "cannot reach the limit" in result.err, result
    shown = cli.run("runs", "show", "1")
    assert "advice     details answers took" in shown.out, shown
    again = cli.sync("--details-interval", "0.2", "--refresh-details")
    assert "--details-workers" not in again.err, again


def pending_tasks_and_failures(db) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        pending = conn.execute("SELECT COUNT(*) FROM tasks WHERE state = 'pending'").fetchone()[0]
        failures = conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
    return pending, failures


@pytest.mark.slow
def test_a_gateway_fault_stops_the_run_with_the_vendors_words(realistic, make_cli):
    server = realistic(registered_customer_number="20-999999", catalog_size=300)
    cli = make_cli(server)  # sends 20-222222, which these credentials do not own
    assert cli.run("products", "add", *server.catalog.part_numbers(300)).code == 0
    result = cli.sync("--pa-retry-waits", "1,1,1")
    assert result.code == 2, result
    assert "Invalid customer number" in result.err and "Traceback" not in result.err
    problem_lines = [line for line in result.err.splitlines() if "Invalid customer" in line]
    assert len(problem_lines) == 1, result.err
    assert pending_tasks_and_failures(cli.db) == (6, 0)
    assert server.stats()["calls"]["price_and_availability"] <= 5 + 2  # no retries
    server.reconfigure(registered_customer_number="20-222222")
    assert cli.sync("--no-details").code == 0
    assert pending_tasks_and_failures(cli.db) == (0, 0)


def test_key_lookups_meeting_the_same_gateway_fault_twice_stop_the_sync(realistic, make_cli):
    # Issue 18: key resolution reads the policy as the run does. Before, every batch of
    # keys logged the fault and was skipped, and the run then met it again.
    server = realistic(registered_customer_number="20-999999", catalog_size=10)
    cli = make_cli(server)
    keys = [arg for n in range(120) for arg in ("--vpn", f"VPN-{n}")]  # three lookup batches
    assert cli.run("products", "add", *keys).code == 0
    result = cli.sync("--pa-retry-waits", "1,1,1")
    assert result.code == 2, result
    assert "Invalid customer number" in result.err and "Traceback" not in result.err
    assert server.stats()["calls"]["price_and_availability"] == 2  # the second in a row stops
    with sqlite3.connect(cli.db) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0  # no run began
        unresolved = db.execute("SELECT COUNT(*) FROM product_keys WHERE status = 'unresolved'")
        assert unresolved.fetchone()[0] == 120


@pytest.mark.slow
def test_an_outage_ends_the_run_as_interrupted_within_the_limit(realistic, make_cli):
    server = realistic(catalog_size=100)
    cli = make_cli(server)
    assert cli.run("products", "add", *server.catalog.part_numbers(100)).code == 0
    server.reconfigure(faults={"error_500": 1.0})
    started = time.monotonic()
    result = cli.sync("--outage-limit", "1", "--pa-retry-waits", "30,60,120", "--batch-size", "10")
    elapsed = time.monotonic() - started
    assert result.code == 1, result
    assert "interrupted: the Ingram API has answered nothing but errors" in result.err, result
    assert elapsed < 8, elapsed  # not 3.5 minutes of retry waits
    assert run_json(cli, 1)["status"] == "interrupted"
    assert pending_tasks_and_failures(cli.db) == (10, 0)
    server.reconfigure(faults={})
    assert cli.sync("--no-details").code == 0
    assert pending_tasks_and_failures(cli.db) == (0, 0)


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (500, {"faultcode": "Server", "faultstring": "Invalid customer number."}, "configuration"),
        (429, {"errors": [{"message": "The quota limit exceeds for calls on your API app."}]},
         "rate_limited"),
        (500, {"message": "Quote limit violation - Number of request limit exceeded"},
         "rate_limited"),
        (400, {"errors": [{"message": "Validation failed",
                           "fields": [{"field": "IM-CountryCode", "message": "bad"}]}]},
         "configuration"),
        (401, {"fault": {"faultstring": "Invalid ApiKey for given resource",
                         "detail": {"errorcode": "oauth.v2.InvalidApiKeyForGivenResource"}}}, None),
        (403, {"fault": {"faultstring": "Invalid API call as no apiproduct match found"}},
         "credentials"),
        (400, {"errors": [{"message": "Validation failed",
                           "fields": [{"field": "products", "message": "bad"}]}]}, None),
        (404, {"errors": [{"message": "No Records Found"}]}, None),
        (404, {"fault": {"faultstring": "Unable to identify proxy for host: default"}},
         "configuration"),
        (429, {"errors": [{"field": None, "message": "too many requests"}]}, None),
    ],
)  # fmt: skip
def test_errors_no_item_caused_are_recognised(status, payload, expected):
    trigger = account_fault(status, payload)
    assert (trigger and POLICY[trigger].kind) == expected


def open_failures(db) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT ingram_part_number, error FROM failures WHERE resolved_at IS NULL"
        ).fetchall()
    return dict(rows)


def top_level_priced(server, count: int) -> list[str]:
    pns = server.catalog.part_numbers(200)
    return [pn for pn in pns if "pricing" in server.catalog.price_availability_item(pn)][:count]


@pytest.mark.slow
def test_one_bad_item_fails_that_item_only(realistic, make_cli):
    server = realistic(catalog_size=200)
    pns = top_level_priced(server, 50)
    bad, unnumbered = pns[3], pns[7]
    server.reconfigure(misformatted_part_numbers=[bad], unnumbered_part_numbers=[unnumbered])
    cli = make_cli(server)
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--no-details")
    assert result.code == 1, result
    failures = open_failures(cli.db)
    assert list(failures) == [bad], failures
    assert f"P&A item {bad}" in failures[bad] and "customerPrice" in failures[bad]
    exported = cli.export()
    assert exported[unnumbered]["pa_synced_at"] is not None  # matched by elimination
    synced = [pn for pn in pns if exported[pn]["pa_synced_at"] is not None]
    assert len(synced) == 49


@pytest.mark.slow
def test_items_without_part_number_match_by_vendor_part_number(realistic, make_cli):
    server = realistic(catalog_size=200)
    pns = server.catalog.part_numbers(20)
    cli = make_cli(server)
    assert cli.run("products", "add", *pns).code == 0
    server.reconfigure(unnumbered_part_numbers=pns[:2])
    first = cli.sync("--no-details")
    assert first.code == 1, first  # two unnumbered, nothing known about them yet
    assert set(open_failures(cli.db)) == set(pns[:2])
    before = cli.export()
    server.reconfigure(unnumbered_part_numbers=pns[2:6])  # now known by vendor part number
    assert cli.sync("--no-details").code == 0
    assert open_failures(cli.db) == {}
    after = cli.export()
    for pn in pns[2:6]:
        assert after[pn]["pa_synced_at"] > before[pn]["pa_synced_at"]


def test_item_status_is_kept(realistic, make_cli):
    server = realistic(catalog_size=200)
    pns = server.catalog.part_numbers(200)
    items = {pn: server.catalog.price_availability_item(pn) for pn in pns}
    flagged = {pn for pn in pns if items[pn]["productAuthorized"] is False}  # one form
    refused = {pns[0], pns[1]} - flagged  # the other: an "E" saying not authorized
    server.reconfigure(refused_part_numbers=refused)
    cli = make_cli(server)
    assert cli.run("products", "add", *pns, "ZZNOTREAL1").code == 0
    assert cli.sync("--no-details").code == 0
    exported = cli.export()
    assert flagged and refused
    for pn in pns:
        row = exported[pn]
        if pn in refused:
            assert row["status"] == "not_authorized", row
            assert "not authorized" in row["product_status_message"]
            assert row["product_status_code"] == "E" and row["customer_price"] is None
        elif pn in flagged:
            assert row["status"] == "not_authorized", row
            assert row["customer_price"] is not None  # what the vendor sent is kept
        else:
            assert row["status"] == "active", row
            assert row["product_status_message"].startswith("ACOPS ARE AVAILABLE")
    assert exported["ZZNOTREAL1"]["status"] == "not_found"
    assert exported["ZZNOTREAL1"]["product_status_code"] == "E"
    listed = cli.run("products", "list", "--status", "not_authorized", "--json")
    listed_pns = {row["ingram_part_number"] for row in json.loads(listed.out)}
    assert listed_pns == flagged | refused


def test_details_default_off_outside_us_in_nl(realistic, make_cli):
    server = realistic(catalog_size=50)
    cli = make_cli(server, INGRAM_COUNTRY_CODE="DE")
    assert cli.run("products", "add", *server.catalog.part_numbers(10)).code == 0
    result = cli.sync()
    assert result.code == 0, result
    assert result.err.count("details off: Ingram offers product details only in the US") == 1
    assert server.stats()["calls"]["details"] == 0


def test_details_refused_for_the_country_stop_the_stream_not_each_product(realistic, make_cli):
    server = realistic(catalog_size=50)
    cli = make_cli(server, INGRAM_COUNTRY_CODE="DE")
    assert cli.run("products", "add", *server.catalog.part_numbers(30)).code == 0
    result = cli.sync("--details")
    assert result.code == 0, result
    assert result.err.count("details stopped for this run: the details endpoint refused") == 1
    assert "not available for country code DE" in result.err
    assert open_failures(cli.db) == {}
    assert server.stats()["calls"]["details"] <= 2 * 1  # the calls in flight when it stopped


def test_bodiless_404s_first_stop_the_details_stream_and_are_not_believed(stub, make_cli):
    def answer(seen):
        if seen.path.startswith("/resellers/v6/catalog/priceandavailability"):
            asked = json.loads(seen.body)["products"]
            return Reply(200, [{"ingramPartNumber": p["ingramPartNumber"]} for p in asked])
        return Reply(404, b"<html>Not Found</html>")

    server = stub(answer)
    cli = make_cli(server)
    pns = [f"PN{i:03d}" for i in range(30)]
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--details-workers", "1")
    assert result.code == 0, result
    assert "the first 20 details calls to " + server.url in result.err, result
    assert "check INGRAM_API_URL" in result.err
    exported = cli.export()
    assert all(row["details_synced_at"] is None for row in exported.values())
    assert len([s for s in server.api_requests() if "/details/" in s.path]) <= 22


def test_discover_tolerates_short_pages_and_a_changing_records_found(realistic, make_cli):
    server = realistic(catalog_size=300, short_pages=True)
    vendor = server.catalog.search_row(0)["vendorName"]
    matches = len(list(server.catalog.search(vendors=[vendor], keywords=[], category=None)))
    assert matches >= 20  # enough for 10 even when every page comes back 3 short
    cli = make_cli(server)
    result = cli.run("products", "discover", "--vendor", vendor, "--limit", "10")
    assert result.code == 0, result
    pages = server.stats()["calls"]["search"]
    assert pages >= 2  # short pages are not the last page
    listed = json.loads(cli.run("products", "list", "--json").out)
    assert len(listed) == 10, (listed, pages)
    assert f"found {len(listed)}: added {len(listed)}" in result.out
    for pn, row in cli.export().items():  # productType comes from the search, where Ingram sends it
        index = server.catalog.index_of(pn)
        assert row["product_type"] == server.catalog.search_row(index)["productType"], row


@pytest.mark.slow
def test_discover_keeps_the_pages_before_a_failure(stub, tmp_path, make_cli):
    def answer(seen):
        if "pageNumber=1" in seen.path:
            rows = [{"ingramPartNumber": f"PN{i}", "vendorName": "X"} for i in range(3)]
            return Reply(
                200,
                {
                    "recordsFound": 9,
                    "pageSize": 3,
                    "pageNumber": 1,
                    "catalog": rows,
                    "nextPage": "/resellers/v6/catalog?pageNumber=2",
                },
            )
        return Reply(500, {"errors": [{"message": "Some unexpected error occurred"}]})

    server = stub(answer)
    config = tmp_path / "fast.toml"
    config.write_text('pa_retry_waits = "0.01"\n')
    cli = make_cli(server, INGRAM_SYNC_CONFIG=str(config))
    result = cli.run("products", "discover", "--vendor", "X", "--limit", "9")
    assert result.code == 1, result
    assert "the search stopped early, after 3 matches" in result.err and "HTTP 500" in result.err
    assert "Traceback" not in result.err
    listed = [
        row["ingram_part_number"] for row in json.loads(cli.run("products", "list", "--json").out)
    ]
    assert listed == ["PN0", "PN1", "PN2"]


def test_details_workers_auto_sizes_the_pool_from_latency(realistic, make_cli):
    server = realistic(latency=0.05, catalog_size=60)
    pns = server.catalog.part_numbers(60)
    cli = make_cli(server)
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--details-interval", "0.01", "--details-workers", "auto")
    assert result.code == 0, result
    assert "--details-workers" not in result.err  # no advice: auto took it
    details = run_json(cli, 1)["streams"]["details"]
    assert details["items"] >= 50
    one_thread_floor = details["items"] * 0.05  # one thread: one answer at a time
    assert details["seconds"] < one_thread_floor / 2, details
    assert server.stats()["max_in_flight"]["details"] >= 3


@pytest.mark.parametrize(
    ("country", "utc", "expected"),
    [
        ("US", "2026-11-24T08:30:00", True),  # Tuesday 00:30 GMT-8 (window began Monday 23:00)
        ("US", "2026-11-24T07:30:00", True),  # Monday 23:30 GMT-8
        ("US", "2026-11-24T12:30:00", False),  # Tuesday 04:30 GMT-8
        ("US", "2026-11-29T08:30:00", True),  # Sunday 00:30 GMT-8: Saturday's 18:00-05:00
        ("US", "2026-11-29T14:30:00", False),  # Sunday 06:30 GMT-8
        ("DE", "2026-11-24T08:30:00", False),  # no published window known for the region
    ],
)
def test_maintenance_window_note(country, utc, expected):
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert (maintenance_note(country, now) is not None) == expected


def test_a_maintenance_window_ends_the_run_as_interrupted(realistic, make_cli):
    server = realistic(catalog_size=40)
    cli = make_cli(server)
    assert cli.run("products", "add", *server.catalog.part_numbers(40)).code == 0
    assert cli.sync("--no-details").code == 0  # the token is now in the shared cache
    server.reconfigure(maintenance=True)
    result = cli.sync("--no-details", "--outage-limit", "1", "--pa-retry-waits", "30,60")
    assert result.code == 1, result
    assert "HTTP 503" in result.err and "the next sync resumes" in result.err
    assert run_json(cli, 2)["status"] == "interrupted"
    assert pending_tasks_and_failures(cli.db) == (1, 0)


def test_a_wrong_api_url_stops_the_run_with_the_gateways_words(realistic, make_cli):
    server = realistic(catalog_size=60)
    cli = make_cli(server, INGRAM_API_URL=server.url + "/wrong")
    assert cli.run("products", "add", *server.catalog.part_numbers(60)).code == 0
    result = cli.sync()
    assert result.code == 2, result
    assert "Unable to identify proxy" in result.err and "Traceback" not in result.err
    assert pending_tasks_and_failures(cli.db) == (2, 0)
    token_paths = {e["path"] for e in server.request_log() if e["endpoint"] == "token"}
    assert token_paths == {"/oauth/oauth20/token"}  # the bare host, as the portal says


def test_the_realistic_sandbox_issues_tokens_only_on_the_bare_host(realistic):
    server = realistic()
    form = {"grant_type": "client_credentials", "client_id": "sandbox-client",
            "client_secret": "sandbox-secret"}  # fmt: skip
    for path in ("/oauth/oauth20/token", "/oauth/oauth30/token"):
        assert requests.post(server.url + path, data=form, timeout=5).status_code == 200
    wrong = requests.post(server.url + "/sandbox/oauth/oauth20/token", data=form, timeout=5)
    assert wrong.status_code == 404 and "fault" in wrong.json()


def test_defaults_follow_the_vendors_limits(tmp_path):
    empty = tmp_path / "empty.toml"  # not the user's own config file
    empty.write_text("")
    settings = client_settings(load_settings({}, CREDENTIALS, str(empty)))
    assert settings.pa_rate == 60 and settings.details_interval == 1.0
    assert round(60 / settings.search_rate, 3) == 1.1
    assert settings.token_url is None and settings.outage_limit == 120
    older = client_settings(load_settings({"details_interval": "0.5"}, CREDENTIALS, str(empty)))
    assert older.details_interval == 0.5  # the original system's pace, by flag
