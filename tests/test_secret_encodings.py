"""The secret never comes back in any encoding: not in stderr, the log file or the database."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from support.client_support import Reply
from support.clirunner import Cli, cli_env

from ingram.redact import mask_secrets, secret_forms

SECRET = 's3cr+t/=x y&z"q\\u'  # every character some encoding changes

ECHOES: dict[str, Callable[[bytes], str]] = {
    "form as sent": lambda body: body.decode(),
    "percent-quoted": lambda body: quote(SECRET),
    "plus-quoted": lambda body: quote_plus(SECRET),
    "lower-case hex": lambda body: quote(SECRET, safe="").lower(),
    "base64 of the form": lambda body: base64.b64encode(body).decode(),
    "basic auth": lambda body: base64.b64encode(f"sandbox-client:{SECRET}".encode()).decode(),
    "url-safe base64": lambda body: base64.urlsafe_b64encode(SECRET.encode()).decode(),
}


def every_form_of_the_secret() -> list[str]:
    plain = [SECRET, quote(SECRET), quote(SECRET, safe=""), quote_plus(SECRET)]
    plain += [json.dumps(SECRET)[1:-1], base64.b64encode(SECRET.encode()).decode()]
    return plain


@pytest.mark.parametrize("echo", ECHOES)
def test_a_gateway_echoing_the_token_form_leaks_nothing(stub, tmp_path, echo):
    def echoing(seen) -> Reply:  # the gateway's error quotes what it was sent
        return Reply(500, {"errors": [{"message": f"bad request: {ECHOES[echo](seen.body)}"}]})

    server = stub(lambda seen: Reply(500))
    server.token_reply = echoing
    db = tmp_path / "c.db"
    log_file = tmp_path / "sync.log"
    env = cli_env(server.url, db) | {"INGRAM_CLIENT_SECRET": SECRET}
    cli = Cli(env, db)
    assert cli.run("products", "add", "6YE881").code == 0
    result = cli.run(
        "-v", "--log-file", str(log_file), "sync", "--pa-retry-waits", "0.01", "--timeout", "2"
    )
    assert result.code == 1, result
    assert "bad request: " in result.err  # the vendor's words are still shown, masked
    places = {"stderr": result.err, "stdout": result.out, "log": log_file.read_text()}
    places["database"] = db.read_bytes().decode("latin-1")
    for place, text in places.items():
        for form in [*every_form_of_the_secret(), ECHOES[echo](form_body())]:
            assert form not in text, (place, form)


def form_body() -> bytes:
    from urllib.parse import urlencode

    fields = {"grant_type": "client_credentials", "client_id": "sandbox-client"}
    return urlencode(fields | {"client_secret": SECRET}).encode()


def test_json_escaped_secret_is_masked():
    text = json.dumps({"echo": {"client_secret": SECRET}})
    assert SECRET not in json.loads(mask_secrets(text, secret_forms(SECRET)))["echo"].values()
