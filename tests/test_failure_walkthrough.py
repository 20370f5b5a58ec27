"""A part number the vendor always fails must not sink its healthy batch-mates, and the
sandbox says which retry waits show failures within seconds (finding 1 of issue 24)."""

from __future__ import annotations

import json

import pytest
from support.docs_pages import start_sandbox, stop

PNS = ("6YE881", "4A0036", "123512")


@pytest.mark.slow
def test_a_failing_part_number_fails_alone_and_its_batch_mates_are_priced(
    make_cli, sandbox_factory
):
    sandbox = sandbox_factory(failing_part_numbers=["6YE881"])
    cli = make_cli(sandbox)
    assert cli.run("products", "add", *PNS).code == 0
    result = cli.sync("--no-details")
    assert result.code == 1, result
    assert ": 2 priced, 0 not found" in result.out
    failed = json.loads(cli.run("failed", "--json").out)
    assert [(row["ingram_part_number"], row["http_status"]) for row in failed] == [("6YE881", 500)]
    exported = cli.export()
    assert exported["4A0036"]["customer_price"] and exported["123512"]["customer_price"]
    assert exported["6YE881"]["customer_price"] is None
    detail = json.loads(cli.run("runs", "show", "1", "--json").out)[0]
    assert detail["streams"]["price_availability"]["items"] == 3
    assert detail["pa_batches_done"] == detail["pa_batches"] == 4  # the batch, then each alone


def test_a_rate_limited_batch_is_not_split():
    from ingram.policy import POLICY, Trigger

    assert not POLICY[Trigger.HTTP_429].splits_batch
    assert POLICY[Trigger.HTTP_5XX].splits_batch and not POLICY[Trigger.OUTAGE].splits_batch


@pytest.mark.slow
def test_the_sandbox_with_faults_says_which_retry_waits_show_failures_in_seconds(tmp_path):
    proc, _ = start_sandbox(tmp_path, "--port", "0", "--failing-part-number", "6YE881")
    stop(proc)
    said = proc.text("out")
    assert "ingram-sync sync --pa-retry-waits 1,2 --details-retry-waits 1,2" in said
    quiet, _ = start_sandbox(tmp_path, "--port", "0")
    stop(quiet)
    assert "--pa-retry-waits" not in quiet.text("out")
