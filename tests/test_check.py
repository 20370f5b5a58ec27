"""Issue 19: ``ingram-sync check``, the first contact with an account, against the sandbox."""

from __future__ import annotations

import socket

import pytest


def lines(out: str) -> dict[str, str]:
    return {line.split(maxsplit=1)[0]: line for line in out.splitlines() if line.strip()}


def test_check_says_what_the_account_and_the_vendor_said(sandbox_factory, make_cli) -> None:
    server = sandbox_factory(pa_rate_limit=60, details_rate_limit=60)
    cli = make_cli(server)
    pns = [pn for pn in server.catalog.part_numbers(50) if server.catalog.details_document(pn)]
    assert cli.run("products", "add", *pns[:3]).code == 0
    result = cli.run("check")
    assert result.code == 0, result
    said = lines(result.out)
    assert f"{server.url}/oauth/oauth20/token: issued, expires in 23 h" in said["token"]
    assert "customer number 20-222222 and country US accepted (HTTP 200 in" in said["account"]
    assert (
        said["product"].startswith(f"product      {pns[0]}: price ") and " USD" in said["product"]
    )
    assert f"offered: {pns[0]} has details (HTTP 200" in said["details"]
    limits = said["rate"]
    assert "P&A: limit 60 a window, 59 left" in limits and "details: limit 60 a window" in limits
    calls = server.stats()["calls"]
    assert (calls["token"], calls["price_and_availability"], calls["details"]) == (1, 1, 1)
    again = cli.run("check", "--sku", pns[1].lower())
    assert "read from the shared cache" in lines(again.out)["token"], again
    assert lines(again.out)["product"].startswith(f"product      {pns[1]}:")
    assert server.stats()["calls"]["token"] == 1  # a running sync's token is not knocked out


def test_check_outside_the_details_countries_says_so(sandbox, make_cli) -> None:
    cli = make_cli(sandbox, INGRAM_COUNTRY_CODE="DE")
    result = cli.run("check", "--sku", sandbox.catalog.part_numbers(1)[0])
    assert result.code == 0, result
    said = lines(result.out)
    assert "country DE accepted" in said["account"] and " EUR" in said["product"]
    assert "not offered in DE" in said["details"]
    assert sandbox.stats()["calls"]["details"] == 0


def test_check_without_products_or_a_database_gets_a_token_only(sandbox, make_cli) -> None:
    cli = make_cli(sandbox, db="nowhere/none.db")
    result = cli.run("check")
    assert result.code == 0, result
    assert "give --sku PN" in lines(result.out)["product"]
    assert not cli.db.exists()  # check creates no database


@pytest.mark.parametrize(
    ("setting", "code", "words"),
    [
        ({"client_secret": "rotated"}, 4, "refused the token request"),
        ({"registered_customer_number": "20-999999"}, 2, "Invalid customer number"),
        ({"maintenance": True}, 1, "HTTP 503"),
    ],
)
def test_check_exits_with_the_policys_code_and_the_vendors_words(
    sandbox_factory, make_cli, setting, code, words
) -> None:
    server = sandbox_factory(**setting)
    result = make_cli(server).run("check", "--sku", server.catalog.part_numbers(1)[0])
    assert result.code == code, result
    assert words in result.err and "Traceback" not in result.err
    assert "rotated" not in result.err + result.out


def test_check_against_nothing_exits_1(make_cli) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = make_cli(f"http://127.0.0.1:{port}").run("check", "--sku", "6YE881")
    assert result.code == 1, result
    assert "connection refused" in result.err and "Traceback" not in result.err
