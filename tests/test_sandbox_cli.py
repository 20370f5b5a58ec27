"""``python -m ingram.sandbox`` as a process, the option helpers, and import isolation."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from support.processes import Started, start

from ingram.sandbox import FaultRates, build_arg_parser, serve_forever, settings_from_args

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def start_module(module: str, *args: str) -> Started:
    """``python -m MODULE ARGS`` from the checkout, its output readable as text."""
    return start([sys.executable, "-m", module, *args], text=True, env=_env(), cwd=ROOT)


def test_module_prints_url_serves_and_stops_on_sigterm() -> None:
    proc = start_module("ingram.sandbox", "--port", "0", "--catalog-size", "20")
    try:
        line = next(proc.lines()).strip()
        assert line.startswith("Sandbox listening on http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[1]
        token = requests.post(
            url + "/oauth/oauth20/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
            },
            timeout=5,
        )
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        assert len(requests.get(url + "/_sandbox/catalog", timeout=5).json()) == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert "Traceback" not in proc.communicate(timeout=5)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sandbox_never_imports_the_client() -> None:
    code = (
        "import sys, ingram.sandbox, ingram.sandbox.__main__\n"
        "assert 'ingram.api.client' not in sys.modules, 'sandbox imported the client'\n"
        "assert 'requests' not in sys.modules, 'sandbox imported requests'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_arguments_map_to_settings() -> None:
    args = build_arg_parser().parse_args(
        [
            "--port=0",
            "--seed=4",
            "--catalog-size=50",
            "--pa-rate-limit=60",
            "--details-rate-limit=30",
            "--rate-window=2.5",
            "--retry-after",
            "--token-lifetime=100",
            "--fault-500=0.1",
            "--fault-503=0.02",
            "--fault-drop=0.03",
            "--fault-revoke-token=0.04",
            "--slow-seconds=0.5",
            "--failing-part-number=abc123",
        ]
    )
    settings = settings_from_args(args)
    assert (settings.port, settings.seed, settings.catalog_size) == (0, 4, 50)
    assert (settings.pa_rate_limit, settings.details_rate_limit) == (60, 30)
    assert settings.search_rate_limit is None
    assert settings.rate_window == 2.5 and settings.send_retry_after is True
    assert settings.token_lifetime == 100.0 and settings.slow_seconds == 0.5
    assert settings.faults == FaultRates(
        error_500=0.1, error_503_html=0.02, drop_connection=0.03, revoke_token=0.04
    )
    assert settings.failing_part_numbers == frozenset({"ABC123"})
    assert build_arg_parser().parse_args([]).port == 8765


def test_realistic_flag_maps_to_the_setting() -> None:
    assert settings_from_args(build_arg_parser().parse_args(["--realistic"])).realistic
    assert not settings_from_args(build_arg_parser().parse_args([])).realistic


def test_serve_forever_in_a_thread_stops_on_event() -> None:
    stop = threading.Event()
    lines: list[str] = []
    announced = threading.Event()

    def announce(line: str) -> None:
        lines.append(line)
        announced.set()

    settings = settings_from_args(build_arg_parser().parse_args(["--port", "0"]))
    thread = threading.Thread(target=serve_forever, args=(settings, announce, stop))
    thread.start()
    try:
        assert announced.wait(5)
        url = lines[0].rsplit(" ", 1)[1]
        assert requests.get(url + "/_sandbox/stats", timeout=5).status_code == 200
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_verbose_request_lines_hide_the_secret(sandbox_factory, capsys) -> None:
    server = sandbox_factory(verbose=True)
    params = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
    assert requests.get(server.url + "/oauth/oauth20/token", params=params).status_code == 200
    err = capsys.readouterr().err
    assert "/oauth/oauth20/token" in err
    assert "sandbox-secret" not in err


# ---------------------------------------------------------------- ingram-sync sandbox


def ingram_sync(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingram", *args],
        env=_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_ingram_sync_sandbox_offers_every_option_of_the_module() -> None:
    help_text = ingram_sync("sandbox", "--help").stdout
    for action in build_arg_parser()._actions:
        wanted = [flag for flag in action.option_strings if flag != "--verbose"]
        assert all(flag in help_text for flag in wanted), wanted
    assert "error_500" not in help_text and "rate_limit_429" not in help_text


@pytest.mark.slow
def test_ingram_sync_sandbox_prints_the_lines_that_point_the_cli_at_it(tmp_path) -> None:
    proc = start_module("ingram", "sandbox", "--port", "0", "--price-epoch", "0")
    try:
        lines = [line.strip() for line in itertools.islice(proc.lines(), 7)]
        exports = dict(
            line.split("#")[0].split(" ", 1)[1].strip().split("=", 1)
            for line in lines
            if "export" in line
        )
        assert set(exports) == {
            "INGRAM_API_URL",
            "INGRAM_CLIENT_ID",
            "INGRAM_CLIENT_SECRET",
            "INGRAM_CUSTOMER_NUMBER",
            "INGRAM_SYNC_DB",
        }
        env = {k: v for k, v in _env().items() if not k.startswith("INGRAM_")} | exports
        db = str(tmp_path / "c.db")
        run = [sys.executable, "-m", "ingram", "--db", db]
        csv_file = str(ROOT / "examples" / "products.csv")
        subprocess.run([*run, "products", "import", csv_file], env=env, check=True, timeout=20)
        synced = subprocess.run([*run, "sync"], env=env, capture_output=True, text=True, timeout=60)
        assert synced.returncode == 0, synced.stderr
        assert ": 3 priced, 0 not found, 3 details" in synced.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


@pytest.mark.slow
def test_port_in_use_bad_host_and_bad_rates_are_one_line_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = {
            ("--port", str(port)): f"cannot listen on 127.0.0.1:{port}: Address already in use",
            ("--host", "no-such-host.invalid"): "cannot listen on no-such-host.invalid:",
            ("--fault-500", "2"): "--fault-500 2 is not a probability between 0 and 1",
            ("--catalog-size", "-1"): "--catalog-size must be >= 0",
        }
        for args, message in cases.items():
            result = ingram_sync("sandbox", *args)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.splitlines() == [f"Error: {result.stderr[7:].strip()}"]
            assert message in result.stderr, result.stderr
            module = subprocess.run(
                [sys.executable, "-m", "ingram.sandbox", *args],
                env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=20,
            )  # fmt: skip
            assert module.returncode == 2 and message in module.stderr
            assert "Traceback" not in module.stderr
