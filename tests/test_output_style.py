"""One style of output: --json arrays, --jsonl lines, headers, stderr for nothing, --limit,
CSV booleans, export's format and output rules, --status checked."""

from __future__ import annotations

import csv
import io
import json

import pytest
from support.clirunner import Cli, cli_env

LISTINGS = (("products", "list"), ("failed",), ("changes",), ("runs",))


@pytest.fixture
def synced(sandbox_factory, tmp_path) -> Cli:
    sandbox = sandbox_factory(catalog_size=30, failing_details_part_numbers=["6YE881"])
    cli = Cli(cli_env(sandbox.url, tmp_path / "c.db"), tmp_path / "c.db")
    cli.run("products", "add", *sandbox.catalog.part_numbers(30), "6YE881", "NOSUCH1")
    assert cli.sync().code == 1  # 6YE881's details fail
    sandbox.reconfigure(price_epoch=1)
    assert cli.sync("--no-details").code == 0
    return cli


@pytest.mark.slow
def test_json_is_an_array_and_jsonl_lines_everywhere(synced):
    for listing in LISTINGS:
        as_json = synced.run(*listing, "--json")
        assert as_json.code == 0, (listing, as_json)
        array = json.loads(as_json.out)
        assert isinstance(array, list) and array, listing
        lines = synced.run(*listing, "--jsonl").out.splitlines()
        assert [json.loads(line) for line in lines] == array, listing
        limited = json.loads(synced.run(*listing, "--json", "--limit", "1").out)
        assert limited == array[:1], listing


@pytest.mark.slow
def test_every_table_has_a_header_and_nothing_to_show_goes_to_stderr(synced, cli):
    cli.run("products", "add", "X1")
    cli.run("products", "remove", "X1")  # an empty database
    headers = {
        ("products", "list"): "part number",
        ("failed",): "part number",
        ("changes",): "changed at (UTC)",
        ("runs",): "started (UTC)",
    }
    for listing, header in headers.items():
        table = synced.run(*listing).out.splitlines()
        assert header in table[0], (listing, table[:2])
        assert len(synced.run(*listing, "--limit", "1").out.splitlines()) == 2
        empty = cli.run(*listing)
        assert empty.code == 0 and empty.out == "" and empty.err.strip(), (listing, empty)
        assert cli.run(*listing, "--json").out.strip() == "[]"


def test_money_is_one_json_number_form(synced):
    product = next(
        row
        for row in json.loads(synced.run("products", "list", "--json").out)
        if row["customer_price"] is not None
    )
    exported = {row["ingram_part_number"]: row for row in synced.export().values()}
    assert exported[product["ingram_part_number"]]["customer_price"] == product["customer_price"]
    assert isinstance(product["customer_price"], float)
    price_changes = [
        row
        for row in json.loads(synced.run("changes", "--json").out)
        if row["field"] == "customer_price"
    ]
    assert price_changes and all(isinstance(row["new_value"], float) for row in price_changes)


def test_csv_booleans_are_true_and_false(synced):
    rows = list(csv.DictReader(io.StringIO(synced.run("export").out)))
    values = {row["available"] for row in rows}
    assert values <= {"true", "false", ""} and "true" in values


@pytest.mark.slow
def test_export_format_and_output_rules(synced, tmp_path):
    assert json.loads(synced.run("export", "--format", "JSON", "-o", "-").out)
    inferred = tmp_path / "catalog.jsonl"
    assert synced.run("export", "-o", str(inferred)).code == 0
    assert all(json.loads(line) for line in inferred.read_text().splitlines())
    clash = synced.run("export", "--format", "csv", "-o", str(tmp_path / "x.json"))
    assert clash.code == 2 and "--format csv but --output" in clash.err
    assert not (tmp_path / "x.json").exists()
    since = synced.run("export", "--since", "1d", "--format", "jsonl").out.splitlines()
    assert (
        since == synced.run("export", "--changed-since", "1d", "--format", "jsonl").out.splitlines()
    )


def test_unknown_status_is_refused_with_the_valid_ones(synced):
    for command in (("products", "list"), ("export",)):
        result = synced.run(*command, "--status", "activ")
        assert result.code == 2, result
        assert "unknown --status 'activ': use one of active, not_found, never_synced" in result.err
    assert "NOSUCH1" in synced.run("products", "list", "--status", "NOT_FOUND").out
