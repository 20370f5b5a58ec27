"""An API that cannot be reached stops the run within seconds, naming host:port and why."""

from __future__ import annotations

import socket
import time

import pytest
from support.clirunner import Cli, cli_env


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli_for(url: str, tmp_path, **extra: str) -> Cli:
    cli = Cli(cli_env(url, tmp_path / "c.db", **extra), tmp_path / "c.db")
    assert cli.run("products", "add", "6YE881").code == 0
    return cli


def timed_sync(cli: Cli, *args: str):
    started = time.monotonic()
    # The production retry waits (30, 60, 120 s) stay on: failing fast must not depend on them.
    result = cli.run("sync", *args, timeout=60)
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    "url, cause",
    [
        ("http://127.0.0.1:{port}", "127.0.0.1:{port}: connection refused"),
        ("https://no-such-host.invalid", "no-such-host.invalid:443: no such host"),
        ("https://{sandbox}", "{sandbox}: TLS handshake failed"),
    ],
    ids=["refused", "dns", "tls-to-plain-port"],
)
def test_unreachable_api_fails_within_seconds_naming_host_and_cause(sandbox, tmp_path, url, cause):
    values = {"port": closed_port(), "sandbox": sandbox.url.split("://")[1]}
    cli = cli_for(url.format(**values), tmp_path)
    result, seconds = timed_sync(cli)
    assert result.code == 1, result
    assert seconds < 10, seconds
    assert f"cannot connect to {cause.format(**values)}" in result.err
    assert "check INGRAM_API_URL" in result.err
    assert "run it again: it resumes" in result.err
    assert "Traceback" not in result.err
    assert "failed" in cli.run("runs").out
    assert cli.run("failed", "--json").out.strip() == "[]"  # no item failed: nothing was asked


def test_verbose_shows_the_underlying_error(tmp_path):
    cli = cli_for(f"http://127.0.0.1:{closed_port()}", tmp_path)
    result, _ = timed_sync(cli, "-v")
    assert "Connection refused" in result.err and "Errno" in result.err, result.err
    quiet, _ = timed_sync(cli)
    assert "Errno" not in quiet.err


def test_token_url_404_points_at_the_url_settings_not_the_credentials(sandbox, tmp_path):
    cli = cli_for(sandbox.url, tmp_path, INGRAM_TOKEN_PATH="/oauth/wrong")
    result, seconds = timed_sync(cli)
    assert result.code == 2, result
    assert seconds < 10
    assert f"token URL {sandbox.url}/oauth/wrong answered HTTP 404" in result.err
    assert "INGRAM_API_URL" in result.err and "INGRAM_TOKEN_PATH" in result.err
    assert "INGRAM_CLIENT_SECRET" not in result.err


def test_a_token_url_404_outside_a_sync_is_a_configuration_error_too(sandbox, tmp_path):
    cli = cli_for(sandbox.url, tmp_path, INGRAM_TOKEN_PATH="/oauth/wrong")
    result = cli.run("products", "discover", "--vendor", "Cisco", timeout=60)
    assert result.code == 2, result  # as the README's exit codes say, not 1
    assert "answered HTTP 404" in result.err and "Traceback" not in result.err


def test_discover_advice_fits_discover(tmp_path):
    cli = cli_for(f"http://127.0.0.1:{closed_port()}", tmp_path)
    result = cli.run("products", "discover", "--vendor", "Cisco", timeout=60)
    assert result.code == 1, result
    assert "cannot connect to 127.0.0.1" in result.err
    assert "sync" not in result.err and "resumes" not in result.err
