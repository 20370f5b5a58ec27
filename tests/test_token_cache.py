"""Issue 10 §6: the token URL, and one token shared by the processes of one API app."""

from __future__ import annotations

import json
import stat
import time

import pytest
from support.client_support import SECRET, client_for
from support.clirunner import Cli, cli_env

from ingram.api.client import bare_host
from ingram.api.tokencache import TokenCache


def token_calls(server) -> int:
    return server.stats()["calls"]["token"]


def test_processes_sharing_a_client_id_share_one_token(sandbox_factory, tmp_path):
    server = sandbox_factory(realistic=True, single_token=True)
    first = client_for(server, token_cache=str(tmp_path))
    second = client_for(server, token_cache=str(tmp_path))  # another process, same app
    pns = server.catalog.part_numbers(4)
    for pn in pns:
        assert first.price_and_availability([pn])[0].ingram_part_number == pn
        assert second.price_and_availability([pn])[0].ingram_part_number == pn
    assert token_calls(server) == 1
    (path,) = (tmp_path / "ingram-sync" / "tokens").glob("*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert SECRET not in text and "sandbox-client" not in path.name
    assert json.loads(text)["access_token"] in server.tokens.issued()


def test_without_the_cache_they_knock_each_other_out(sandbox_factory):
    server = sandbox_factory(realistic=True, single_token=True)
    first, second = client_for(server), client_for(server)
    for pn in server.catalog.part_numbers(4):
        first.price_and_availability([pn])
        second.price_and_availability([pn])
    assert token_calls(server) >= 6  # a new token per call: what the cache prevents


def test_a_401_rereads_the_cache_before_asking(sandbox_factory, tmp_path):
    server = sandbox_factory(realistic=True, single_token=True)
    client = client_for(server, token_cache=str(tmp_path))
    pn = server.catalog.part_numbers(1)
    client.price_and_availability(pn)
    cache = TokenCache.for_client(tmp_path, "sandbox-client", client.token_url, SECRET)
    newer = server.issue_token()  # another process got a new one: ours is dead now
    cache.write(newer, time.time() + 3600)
    client.price_and_availability(pn)
    assert token_calls(server) == 1
    assert client.stats().token_requests == 1


def test_token_url_of_its_own(sandbox_factory):
    server = sandbox_factory(realistic=True)
    client = client_for(server, token_url=f"{server.url}/oauth/oauth30/token")
    client.price_and_availability(server.catalog.part_numbers(1))
    paths = [entry["path"] for entry in server.request_log() if entry["endpoint"] == "token"]
    assert paths == ["/oauth/oauth30/token"]


def test_ingram_sandbox_takes_its_token_from_the_bare_host():
    assert bare_host("https://api.ingrammicro.com:443/sandbox") == "https://api.ingrammicro.com:443"
    assert bare_host("http://127.0.0.1:8765/some/prefix") == "http://127.0.0.1:8765"


@pytest.mark.slow
def test_the_cli_shares_the_token_unless_told_off(sandbox_factory, tmp_path):
    server = sandbox_factory(realistic=True, single_token=True)
    cli = Cli(cli_env(server.url, tmp_path / "a.db"), tmp_path / "a.db")
    other = Cli(cli_env(server.url, tmp_path / "b.db"), tmp_path / "b.db")  # another database
    pns = server.catalog.part_numbers(3)
    for runner in (cli, other):
        assert runner.run("products", "add", *pns).code == 0
        assert runner.sync("--no-details").code == 0
    assert token_calls(server) == 1
    assert list((tmp_path / "token-cache" / "ingram-sync" / "tokens").glob("*.json"))
    off = Cli(cli_env(server.url, tmp_path / "c.db", INGRAM_TOKEN_CACHE="off"), tmp_path / "c.db")
    assert off.run("products", "add", *pns).code == 0
    assert off.sync("--no-details").code == 0
    assert token_calls(server) == 2


def test_an_unusable_cache_folder_costs_the_sharing_not_the_run(sandbox, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    client = client_for(sandbox, token_cache=str(blocker))
    for pn in sandbox.catalog.part_numbers(2):
        assert client.price_and_availability([pn])[0].ingram_part_number == pn
    warnings = [r for r in caplog.records if "token cache" in r.getMessage()]
    assert len(warnings) == 1 and "INGRAM_TOKEN_CACHE" in warnings[0].getMessage()
    assert client.stats().token_requests == 1
