"""Issue 19 §10 and issue 23: the token cache is bound to the secret and trusts only our files.

A token obtained with one secret is never used with another: a wrong or rotated
secret asks the token URL and is refused at once (exit 4), instead of riding on a
cached token until it expires. A token file or folder of another user, or one
others may write, is not trusted (one warning); a file others may read is made 0600.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time

import pytest
from support.client_support import client_for

from ingram.api.tokencache import TokenCache

OTHER_UID = 65534  # nobody: the suite runs as root here, so files can be given away


def token_calls(server) -> int:
    return server.stats()["calls"]["token"]


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_wrong_secret_with_a_cached_token_exits_4_at_once(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(3)).code == 0
    assert cli.sync("--no-details").code == 0  # the token is in the cache now
    wrong = make_cli(sandbox, INGRAM_CLIENT_SECRET="not-the-secret")
    result = wrong.sync("--no-details")
    assert result.code == 4, result
    assert "refused the token request" in result.err and "not-the-secret" not in result.err
    assert token_calls(sandbox) == 2  # it asked, with its own secret, and was refused


def test_a_rotated_secret_gets_its_own_token(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(3)).code == 0
    assert cli.sync("--no-details").code == 0
    sandbox.reconfigure(client_secret="rotated-secret")
    sandbox.revoke_tokens()  # the portal's rotation ends the old secret's tokens
    rotated = make_cli(sandbox, INGRAM_CLIENT_SECRET="rotated-secret")
    assert rotated.sync("--no-details").code == 0
    assert cli.sync("--no-details").code == 4  # the old secret, refused at once
    folder = cli.db.parent / "token-cache" / "ingram-sync" / "tokens"
    names = sorted(path.name for path in folder.glob("*.json"))
    assert len(names) == 2 and not any("secret" in name for name in names)


def cached_file(server, folder):
    """The token file one client of ``server`` leaves in ``folder`` (whatever its name)."""
    client_for(server, token_cache=str(folder)).price_and_availability(
        server.catalog.part_numbers(1)
    )
    (path,) = (folder / "ingram-sync" / "tokens").glob("*.json")
    return path


def test_a_token_file_planted_by_another_user_is_not_used(sandbox, tmp_path, caplog):
    path = cached_file(sandbox, tmp_path)
    planted = sandbox.issue_token()  # valid: another account's token, say
    path.write_text(json.dumps({"access_token": planted, "expires_at": time.time() + 3600}))
    os.chown(path, OTHER_UID, OTHER_UID)
    client = client_for(sandbox, token_cache=str(tmp_path))
    assert client.price_and_availability(sandbox.catalog.part_numbers(1))[0].found
    assert client.stats().token_requests == 1  # ours, asked anew
    mine = json.loads(path.read_text())["access_token"]
    assert mine != planted and path.stat().st_uid == os.geteuid()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    said = [m for m in warnings(caplog) if "belongs to another user" in m]
    assert len(said) == 1 and planted not in said[0]


@pytest.mark.parametrize("problem", ["writable by others", "another user's"])
def test_a_folder_not_ours_alone_is_not_used(sandbox, tmp_path, caplog, problem):
    path = cached_file(sandbox, tmp_path)
    path.unlink()
    if problem == "writable by others":
        path.parent.chmod(0o777)
    else:
        os.chown(path.parent, OTHER_UID, OTHER_UID)
    client = client_for(sandbox, token_cache=str(tmp_path))
    for pn in sandbox.catalog.part_numbers(2):
        assert client.price_and_availability([pn])[0].found
    assert client.stats().token_requests == 1
    assert not path.exists()  # our token is not left where others could swap or read it
    said = [m for m in warnings(caplog) if "token cache folder" in m]
    assert len(said) == 1 and "INGRAM_TOKEN_CACHE" in said[0], warnings(caplog)


def test_a_cache_file_left_readable_is_warned_about_and_made_0600(sandbox, tmp_path, caplog):
    path = cached_file(sandbox, tmp_path)
    path.chmod(0o644)
    token = json.loads(path.read_text())["access_token"]
    client = client_for(sandbox, token_cache=str(tmp_path))
    assert client.price_and_availability(sandbox.catalog.part_numbers(1))[0].found
    assert client.stats().token_requests == 0  # ours: still used
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    said = [m for m in warnings(caplog) if "readable by other users" in m]
    assert len(said) == 1 and "made 0600" in said[0] and token not in said[0]


def test_the_cache_key_is_bound_to_the_secret_and_holds_none_of_it(tmp_path):
    url = "https://api.ingrammicro.com:443/oauth/oauth20/token"
    one = TokenCache.for_client(tmp_path, "client", url, "secret-one")
    two = TokenCache.for_client(tmp_path, "client", url, "secret-two")
    assert one.path != two.path and one.folder == two.folder
    for cache in (one, two):
        assert "secret" not in cache.name and "client" not in cache.name
