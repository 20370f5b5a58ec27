"""Numbers that add up: the run summary counts failed items as failed, within 100 columns."""

from __future__ import annotations

from clirunner import Cli, cli_env


def test_summary_counts_failed_details_as_failed_and_fits_100_columns(sandbox_factory, tmp_path):
    probe = sandbox_factory(catalog_size=40)
    pns = sorted(probe.catalog.part_numbers(40))  # the order batches are planned in
    sandbox = sandbox_factory(
        catalog_size=40,
        failing_part_numbers=[pns[0]],  # its batch of 10 fails
        failing_details_part_numbers=pns[20:23],
    )
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *pns)
    result = cli.sync("--batch-size", "10")
    assert result.code == 1, result
    first, failed, second = result.out.splitlines()
    assert first.startswith("run 1 completed_with_failures in ")
    assert first.endswith(": 30 priced, 0 not found, 27 details")  # 30 asked for, 3 failed
    assert failed == "  failed: 10 P&A, 3 details"
    # the failed batch and each failed details item: 1 attempt and 3 retries
    assert second == "  requests: 7 P&A, 39 details; 12 retries, 0 rate-limited (429)"
    assert all(len(line) <= 100 for line in result.out.splitlines()), result.out
