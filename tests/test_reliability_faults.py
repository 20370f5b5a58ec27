"""Fault soak, persistent failures, rate conformance and secrets, against a misbehaving sandbox.

The sandbox fails a fifth of all API calls with every fault it can inject. A
sync must still end with every product equal to the sandbox's catalog, count
what it went through, print no traceback, and keep the rate it was given.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.reliability import assert_catalog_matches, assert_consistent, open_failures

from ingram.api import ratelimiting
from ingram.sandbox import FaultRates, SandboxServer
from ingram.sandbox.settings import FAULT_NAMES

# 20% of calls, every kind. Slow answers and 429s cost wall time, so they are the rarer ones.
SOAK_FAULTS = FaultRates(
    error_500=0.025,
    error_503_html=0.02,
    rate_limit_429=0.03,
    quota_429=0.01,  # the vendor's quota replies: waits for the window, like a 429
    quota_4xx=0.01,
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
    # Every fault costs one retry, but a revoked token only when the fresh one is revoked too
    # (and a loaded machine may time out an answer that was not slow on purpose).
    other_faults = sum(faults.values()) - faults["revoke_token"]
    assert other_faults <= run["retries"] <= 1.5 * sum(faults.values()), (run, faults)
    throttled = faults["rate_limit_429"] + faults["quota_429"] + faults["quota_4xx"]
    assert run["rate_limited"] == throttled and faults["quota_4xx"] > 0
    assert run["token_requests"] >= faults["revoke_token"]


@pytest.mark.slow
def test_persistent_failures_under_faults_are_exactly_those_items(sandbox_factory, tmp_path):
    sandbox = faulty_sandbox(sandbox_factory, 300)
    pns = sandbox.catalog.part_numbers(300)
    ordered = sorted(pns)
    pa_broken = {ordered[15], ordered[200]}
    details_broken = {ordered[50], ordered[51], ordered[299]}
    sandbox.reconfigure(failing_part_numbers=pa_broken, failing_details_part_numbers=details_broken)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync(*SOAK_TIMINGS, "--batch-size", "10")
    expected_pa = pa_broken  # their batches fail, then each part number alone: only they fail
    assert result.code == 1, result
    assert f"{len(expected_pa) + len(details_broken)} items failed" in result.err
    assert "Traceback" not in result.out + result.err
    failed = open_failures(cli.db)
    assert failed == {"price_availability": expected_pa, "details": details_broken}
    rows = json.loads(cli.run("failed", "--json").out)
    # Every retry spent; a row keeps the last attempt's error: a 500, or an injected fault.
    assert {r["attempts"] for r in rows} == {10}
    assert_consistent(cli.db)
    assert_catalog_matches(sandbox, cli.export(), failed)


@pytest.mark.slow
def test_rate_limits_hold_under_faults_with_several_pa_threads(sandbox_factory, tmp_path):
    window, pa_limit, details_limit = 0.5, 10, 50
    # The sandbox counts calls in a window 4% (20 ms) shorter than the client's: thread
    # scheduling on a loaded machine shifts a call by several ms between the client's
    # limiter and the sandbox's clock. An eleventh call in the window is a violation.
    sandbox = faulty_sandbox(
        sandbox_factory, 200, rate_window=window * 0.96, latency=0.05
    )  # latency: calls overlap, several threads wait on one limiter
    pns = sandbox.catalog.part_numbers(200)
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    assert cli.run("products", "add", *pns).code == 0
    with flipping_retry_after(sandbox):
        result = cli.sync(
            *SOAK_TIMINGS,
            "--batch-size", "5",
            "--pa-rate", str(pa_limit * 60 / window),
            "--details-interval", str(window / details_limit),
            "--details-workers", "6",
        )  # fmt: skip
    assert result.code == 0, result
    stats = sandbox.stats()
    assert stats["max_in_flight"]["price_and_availability"] > 1
    assert stats["max_in_flight"]["details"] > 1
    assert stats["max_calls_in_window"]["price_and_availability"] <= pa_limit, stats
    assert stats["max_calls_in_window"]["details"] <= details_limit, stats
    faults = injected(sandbox)
    assert faults["rate_limit_429"] > 0 and faults["revoke_token"] > 0, faults
    assert_catalog_matches(sandbox, cli.export(), {})


def test_a_late_wake_up_never_bunches_two_calls(monkeypatch):
    """On a loaded machine a thread wakes late for its slot; the next one must still wait."""
    interval, calls = 0.02, 40
    real_sleep = ratelimiting.cancellable_sleep
    naps = iter(range(10**6))

    def oversleeping(cancel: threading.Event, seconds: float) -> None:
        late = 0.015 if seconds > 0 and next(naps) % 3 == 0 else 0.0
        real_sleep(cancel, seconds + late)

    monkeypatch.setattr(ratelimiting, "cancellable_sleep", oversleeping)
    gate = ratelimiting.EndpointGate("price_and_availability", interval, threading.Event())
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(calls // 4):
            gate.acquire()
            ratelimiting.claim_send()  # as the connection does when it writes the request
            with lock:
                sent.append(time.monotonic())
            time.sleep(0.03)  # the call itself

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= interval * 0.7, sorted(gaps)[:3]  # bunched: 5 ms


SENTINEL = "SENTINEL-s3cr3t-7f3a9c1e5b"


@pytest.mark.slow
def test_secret_and_tokens_stay_out_of_output_logs_and_database(sandbox_factory, tmp_path):
    sandbox = faulty_sandbox(sandbox_factory, 300, client_secret=SENTINEL, token_lifetime=0.4)
    db = tmp_path / "c.db"
    log_file = tmp_path / "sync.log"
    cli = Cli(cli_env(sandbox.url, db) | {"INGRAM_CLIENT_SECRET": SENTINEL}, db)
    cli.run("products", "add", *sandbox.catalog.part_numbers(300))
    # -v writes far more than a pipe holds: read as it comes (start does), or the sync blocks
    verbose = ("-v", "--log-file", str(log_file), "sync", *FAST_TIMINGS, *SOAK_TIMINGS)
    sync = cli.start(*verbose, text=False)
    snapshots = []
    try:  # the write-ahead log is checkpointed away at the end: read it while the run writes
        while sync.poll() is None:
            for path in tmp_path.glob("c.db*"):
                with contextlib.suppress(FileNotFoundError):
                    snapshots.append(path.read_bytes())
            time.sleep(0.2)
    finally:
        out, err = sync.communicate(timeout=60)
    assert sync.returncode == 0, err.decode()
    wal_magic = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
    assert any(snapshot[:4] in wal_magic for snapshot in snapshots)  # a write-ahead log seen
    tokens = sandbox.tokens.issued()
    assert len(tokens) >= 3 and injected(sandbox)["revoke_token"] > 0  # expired and revoked
    reports = [cli.run(*args) for args in (["runs", "--json"], ["failed", "--json"])]
    texts = [out, err, log_file.read_bytes(), *snapshots, *(r.out.encode() for r in reports)]
    texts += [path.read_bytes() for path in tmp_path.glob("c.db*")]
    assert b"DEBUG" in err and b"DEBUG" in log_file.read_bytes()  # -v really was verbose
    for secret in [SENTINEL, *tokens]:
        assert not any(secret.encode() in text for text in texts), secret
