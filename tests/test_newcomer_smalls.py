"""Issue 24's smaller findings, each as a newcomer met it: webhook serve on a missing file, a
real workbook for .xlsx, changes newest first, an unknown --sku said once, what remove did
not find, money with two decimals, no None, durations as typed, no empty file before a
refusal, profiles named in a shared log file, the wrong customer number from the sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support.clirunner import Cli, cli_env
from support.docs_pages import CRON_PAGE, ROOT, start_sandbox, stop

from ingram.sandbox import SandboxServer

PNS = ("6YE881", "4A0036", "123512")


def test_webhook_serve_refuses_a_database_that_does_not_exist(make_cli, sandbox, tmp_path):
    cli = make_cli(sandbox, db="missing.db", INGRAM_WEBHOOK_SECRET="s3cret-key")
    result = cli.run("webhook", "serve", "--port", "0", timeout=30)
    assert result.code == 2, result
    assert "missing.db" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "missing.db").exists()


def test_sync_without_a_database_refuses_before_creating_one(make_cli, sandbox, tmp_path):
    cli = make_cli(sandbox, db="nothing-here.db")
    result = cli.sync()
    assert result.code == 2 and "tracks no products" not in result.err, result
    assert "nothing-here.db" in result.err and "products add" in result.err
    assert not (tmp_path / "nothing-here.db").exists()


def test_an_unknown_sku_is_said_on_stderr_once_even_quiet(cli):
    result = cli.run("-q", "sync", "--sku", "ZZZZZ9", "--pa-retry-waits", "0.01")
    assert result.out == ""
    assert result.err.count("ZZZZZ9") == 1, result.err
    assert "not known to Ingram" in result.err


@pytest.mark.slow
def test_products_remove_names_what_it_did_not_find(cli):
    assert cli.run("products", "add", "6YE881").code == 0
    result = cli.run("products", "remove", "6YE881", "NOPE1", "NOPE2")
    assert result.code == 0
    assert "removed 1" in result.out
    assert "not tracked, so not removed: NOPE1, NOPE2" in result.err


@pytest.mark.slow
def test_changes_are_newest_first_and_money_has_two_decimals(cli, sandbox: SandboxServer):
    assert cli.run("products", "add", *PNS).code == 0
    assert cli.sync().code == 0
    sandbox.reconfigure(price_epoch=1)
    assert cli.sync().code == 0
    sandbox.reconfigure(price_epoch=2)
    assert cli.sync().code == 0
    lines = cli.run("changes").out.splitlines()[1:]
    times = [line.split()[0] for line in lines]
    assert times == sorted(times, reverse=True) and len(set(times)) >= 2
    assert [row["id"] for row in _json(cli, "changes", "--json")] == sorted(
        [row["id"] for row in _json(cli, "changes", "--json")], reverse=True
    )
    prices = [line for line in lines if "_price" in line]
    assert prices and all(re.search(r"\d+\.\d\d -> \d+\.\d\d$", line) for line in prices), prices
    listed = cli.run("products", "list").out.splitlines()[1:]
    assert all(re.search(r" \d+\.\d\d USD ", line) for line in listed), listed


def _json(cli, *args):
    result = cli.run(*args)
    assert result.code == 0, result
    return json.loads(result.out)


@pytest.mark.slow
def test_none_is_never_printed(cli, sandbox: SandboxServer):
    assert cli.run("products", "add", *PNS, "ZZZZZ9").code == 0
    assert cli.sync().code == 0
    sandbox.reconfigure(price_epoch=1)
    assert cli.sync().code == 0
    for args in (
        ("changes",),
        ("products", "list"),
        ("runs",),
        ("runs", "show", "1"),
        ("failed",),
        ("monitor",),
        *[("products", "show", pn) for pn in (*PNS, "ZZZZZ9")],
    ):
        result = cli.run(*args)
        assert result.code == 0, (args, result)
        assert "None" not in result.out + result.err, (args, result.out)


def test_config_show_prints_durations_as_typed(make_cli, sandbox):
    cli = make_cli(sandbox)
    shown = dict(
        line.split()[:2] for line in cli.run("config", "show").out.splitlines()[2:] if line.split()
    )
    assert shown["outage_limit"] == "2m"
    assert shown["details_max_age"] == "7d" and shown["min_interval"] == "0s"
    assert shown["timeout"] == "30s" and shown["deadline"] == "2m"
    assert shown["details_interval"] == "1s"
    assert shown["keep_days"] == "90"


@pytest.mark.slow
def test_two_profiles_sharing_a_log_file_name_their_profile_in_each_line(
    make_cli, sandbox, tmp_path
):
    config = tmp_path / "config.toml"
    config.write_text("[profiles.us]\ncountry_code = 'US'\n[profiles.ca]\ncountry_code = 'CA'\n")
    log = tmp_path / "shared.log"
    cli = make_cli(sandbox, INGRAM_SYNC_CONFIG=str(config))
    for profile in ("us", "ca"):
        assert cli.run("--profile", profile, "products", "add", "6YE881").code == 0
        result = cli.run("--profile", profile, "--log-file", str(log), "sync", "--no-details")
        assert result.code == 0, result
    lines = log.read_text().splitlines()
    assert lines and all(re.search(r"ingram-sync\[\d+\] profile (us|ca) ", line) for line in lines)
    assert {re.search(r"profile (\w+)", line)[1] for line in lines} == {"us", "ca"}


def test_the_webhook_units_environment_file_is_made_in_the_setup_steps():
    unit = (ROOT / "examples" / "ingram-sync-webhook.service").read_text(encoding="utf-8")
    [env_file] = re.findall(r"^EnvironmentFile=(\S+)$", unit, flags=re.M)
    setup = "\n".join(line for block in CRON_PAGE.split("```")[1::2] for line in block.splitlines())
    made = [line for line in setup.splitlines() if env_file in line and "install" in line]
    assert made and "-m 600" in made[0], setup
    assert "INGRAM_WEBHOOK_SECRET=" in setup
    assert "systemctl enable --now ingram-sync-webhook" in setup


@pytest.mark.slow
def test_the_sandbox_can_play_a_customer_number_the_credentials_do_not_own(tmp_path):
    proc, exports = start_sandbox(
        tmp_path, "--port", "0", "--registered-customer-number", "20-999999"
    )
    try:
        cli = Cli(cli_env(exports["INGRAM_API_URL"], tmp_path / "c.db"), tmp_path / "c.db")
        assert cli.run("products", "add", "6YE881").code == 0
        result = cli.sync()
    finally:
        stop(proc)
    assert result.code == 2, result
    assert "Invalid customer number" in result.err


@pytest.mark.slow
def test_export_to_xlsx_writes_a_real_workbook(cli, tmp_path):
    assert cli.run("products", "add", *PNS).code == 0
    assert cli.sync().code == 0
    result = cli.run("export", "-o", "catalog.xlsx")
    assert result.code == 0, result
    book = load_workbook(tmp_path / "catalog.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "ingram_part_number"
    assert {row[0] for row in rows[1:]} == set(PNS)
    price = rows[0].index("customer_price")
    assert all(isinstance(row[price], float) for row in rows[1:])


@pytest.mark.slow
def test_export_to_xlsx_without_openpyxl_refuses_and_writes_nothing(cli, tmp_path):
    assert cli.run("products", "add", "6YE881").code == 0
    blocked = "import sys; sys.modules['openpyxl'] = None; from ingram.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "export", "-o", "catalog.xlsx"],
        env=cli.env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "pip install 'ingram-sync[xlsx]'" in done.stderr
    assert not (tmp_path / "catalog.xlsx").exists()
    assert not [p for p in os.listdir(tmp_path) if "catalog.xlsx" in p]


@pytest.mark.parametrize("name", ["catalog.xls", "catalog.ods"])
def test_export_refuses_a_spreadsheet_name_it_would_fill_with_csv(cli, tmp_path, name):
    assert cli.run("products", "add", "6YE881").code == 0
    result = cli.run("export", "-o", name)
    assert result.code == 2 and ".xlsx" in result.err, result
    assert not (tmp_path / name).exists()


def test_vendor_text_is_never_a_formula_in_a_workbook(tmp_path):
    from ingram.output.exports import write_workbook

    target = Path(tmp_path / "x.xlsx")
    write_workbook([{"ingram_part_number": "A1", "description": "=HYPERLINK(1)"}], target,
                   ("ingram_part_number", "description"))  # fmt: skip
    cell = load_workbook(target).active["B2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
