"""Fault soak, persistent failures, rate conformance and secrets, against a misbehaving sandbox.

The sandbox fails a fifth of all API calls with every fault it can inject. A
sync must still end with every product equal to the sandbox's catalog, count
what it went through, print no traceback, and keep the rate it was given.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from clirunner import Cli, cli_env
from reliability import assert_catalog_matches, assert_consistent, open_failures

from ingram.sandbox import FaultRates, SandboxServer
from ingram.sandbox.settings import FAULT_NAMES

# 20% of calls, every kind. Slow answers and 429s cost wall time, so they are the rarer ones.
SOAK_FAULTS = FaultRates(
    error_500=0.035,
    error_503_html=0.03,
    rate_limit_429=0.03,
    slow=0.01,
    truncated=0.025,
    malformed=0.025,
    drop_connection=0.025,
    revoke_token=0.02,
)
# Nine quick retries: an item fails for good only after ten faults in a row (0.2**10).
WAITS = "0.005,0.01,0.01,0.02,0.02,0.03,0.04,0.05,0.05"
SOAK_TIMINGS = (
    "--pa-retry-waits", WAITS,
    "--details-retry-waits", WAITS,
    "--timeout", "0.3",  # the sandbox's slow answers take 0.6 s: a timeout, then a retry
    "--max-concurrent", "4",
    "--details-workers", "3",
)  # fmt: skip


def faulty_sandbox(sandbox_factory, size: int, **overrides) -> SandboxServer:
    # A short window keeps the waits after injected 429s (Retry-After or Reset) short.
    settings = dict(catalog_size=size, faults=SOAK_FAULTS, slow_seconds=0.6, rate_window=0.05)
    return sandbox_factory(**(settings | overrides))


@contextmanager
def flipping_retry_after(sandbox: SandboxServer, every: float = 0.25) -> Iterator[None]:
    """429s alternately with and without ``Retry-After`` (only X-RateLimit-Reset) while it runs."""
    done = threading.Event()

    def flip() -> None:
        while not done.wait(every):
            sandbox.reconfigure(send_retry_after=not sandbox.settings.send_retry_after)

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        yield
    finally:
        done.set()
        flipper.join()


def injected(sandbox: SandboxServer) -> Counter[str]:
    faults = Counter(sandbox.stats()["faults_injected"])
    faults.pop("failing_part_number", None)
    return faults


def last_run(cli: Cli) -> dict:
    result = cli.run("runs", "--json", "--limit", "1")
    assert result.code == 0, result
    return json.loads(result.out)[0]


@pytest.mark.slow
def test_soak_2000_products_at_20_percent_faults_ends_right(sandbox_factory, tmp_path):
    sandbox = faulty_sandbox(sandbox_factory, 2000)
    pns = sandbox.catalog.part_numbers(2000)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    assert cli.run("products", "add", *pns).code == 0
    with flipping_retry_after(sandbox):
        result = cli.sync(*SOAK_TIMINGS)
    assert result.code == 0, result
    assert "Traceback" not in result.out + result.err
    faults = injected(sandbox)
    assert set(faults) == set(FAULT_NAMES), faults
    calls = sandbox.stats()["calls"]
    api_calls = calls["price_and_availability"] + calls["details"]
    assert sum(faults.values()) >= 0.15 * api_calls, (faults, api_calls)
    assert open_failures(cli.db) == {}
    assert_consistent(cli.db)
    assert_catalog_matches(sandbox, cli.export(), {})
    run = last_run(cli)
    # Every fault costs one retry, but a revoked token only when the fresh one is revoked too.
    other_faults = sum(faults.values()) - faults["revoke_token"]
    assert other_faults <= run["retries"] <= sum(faults.values()), (run, faults)
    assert run["rate_limited"] == faults["rate_limit_429"] > 0
    assert run["token_requests"] >= faults["revoke_token"]
