"""Options where people type them: global options after the subcommand, -V, config show,
sync --dry-run, and a sync of a database that tracks nothing."""

from __future__ import annotations

import json

import pytest
from support.clirunner import Cli

from ingram import __version__


def test_global_options_work_after_the_subcommand(cli, sandbox, tmp_path):
    other = tmp_path / "other.db"
    added = cli.run("products", "add", "-q", "6YE881", "--db", str(other))
    assert added.code == 0, added
    listed = cli.run("products", "list", f"--db={other}", "--jsonl")
    assert [json.loads(line)["ingram_part_number"] for line in listed.out.splitlines()] == [
        "6YE881"
    ]
    assert not cli.db.exists()  # INGRAM_SYNC_DB was overridden, not used
    log = tmp_path / "sync.log"
    pn = sandbox.catalog.part_numbers(1)[0]
    cli.run("products", "add", pn)
    synced = cli.sync("-q", "--log-file", str(log))
    assert synced.code == 0, synced
    assert synced.out == "" and synced.err == ""
    assert "completed" in log.read_text()


def test_values_after_double_dash_are_not_taken_as_global_options(cli):
    result = cli.run("products", "import", "--", "-q")
    assert result.code == 2, result
    assert "'-q'" in result.err  # taken as the file name, not as --quiet


@pytest.mark.parametrize("args", [("-V",), ("--version",), ("runs", "-V")])
def test_version(cli, args):
    result = cli.run(*args)
    assert result.code == 0
    assert result.out.strip() == f"ingram-sync, version {__version__}"


def test_config_show_names_each_source_and_masks_the_secret(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('pa_rate = 30\ndetails_max_age = "3d"\nclient_secret = "file-secret"\n')
    config.chmod(0o600)
    env = dict(cli.env, INGRAM_CLIENT_SECRET="env-secret-value", INGRAM_COUNTRY_CODE="NL")
    shown = Cli(env, cli.db).run("config", "show", "--config", str(config), "--db", "x.db")
    assert shown.code == 0, shown
    assert "secret-value" not in shown.out + shown.err
    assert "file-secret" not in shown.out + shown.err
    rows = {line.split()[0]: line.split()[1:] for line in shown.out.splitlines()[2:]}
    assert rows["db"] == ["x.db", "flag", "--db"]
    assert rows["client_secret"] == ["********", "env", "INGRAM_CLIENT_SECRET"]
    assert rows["country_code"] == ["NL", "env", "INGRAM_COUNTRY_CODE"]
    assert rows["pa_rate"] == ["30", "config", str(config)]
    assert rows["details_max_age"] == ["3d", "config", str(config)]
    assert rows["details_interval"][1:] == ["default"]
    assert shown.out.splitlines()[0] == f"config file: {config} (from --config)"
    log = tmp_path / "s.log"
    as_json = json.loads(
        Cli(env, cli.db).run("config", "show", "--json", "--log-file", str(log)).out
    )
    assert {"setting": "log_file", "value": str(log), "source": "flag --log-file"} in as_json
    assert {"setting": "db", "value": str(cli.db), "source": "env INGRAM_SYNC_DB"} in as_json


def test_config_show_names_the_profile_section_chosen_by_flag(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('pa_rate = 30\n[profiles.ca]\ncountry_code = "CA"\n')
    config.chmod(0o600)
    env = {k: v for k, v in cli.env.items() if k != "INGRAM_SYNC_DB"}
    shown = Cli(env, cli.db).run(
        "config", "show", "--json", "--config", str(config), "--profile", "ca"
    )
    assert shown.code == 0, shown
    rows = {row["setting"]: row for row in json.loads(shown.out)}
    section = f"config {config} [profiles.ca]"
    assert (rows["country_code"]["value"], rows["country_code"]["source"]) == ("CA", section)
    assert (rows["db"]["value"], rows["db"]["source"]) == ("ingram_sync_ca.db", section)
    assert rows["pa_rate"]["source"] == f"config {config}"


def test_sync_dry_run_counts_calls_and_the_floor_without_calling(cli, sandbox):
    cli.run("products", "add", *sandbox.catalog.part_numbers(120))
    result = cli.run("sync", "--dry-run", "--pa-rate", "30", "--details-interval", "2")
    assert result.code == 0, result
    assert "would sync 120 products: 3 P&A calls (up to 50 part numbers each)" in result.out
    assert "up to 120 details calls" in result.out
    # 3 calls at 30 a minute: the last one 4 s after the first; 119 gaps of 2 s = 3:58
    assert "P&A 4.0s at 30 calls/min, details 3:58 at one call every 2s" in result.out
    assert "the run takes at least 3:58" in result.out
    assert not any(sandbox.stats()["calls"].values())  # not even a token
    assert cli.run("runs", "--json").out.strip() == "[]"


def test_dry_run_after_a_sync_counts_only_stale_details(cli, sandbox):
    cli.run("products", "add", *sandbox.catalog.part_numbers(10))
    assert cli.sync().code == 0
    result = cli.run(
        "sync", "--dry-run", "--sku", "NEW1", "--sku", sandbox.catalog.part_numbers(1)[0]
    )
    assert "would sync 2 products: 1 P&A call " in result.out
    assert "up to 1 details calls" in result.out  # the new one; the synced one is fresh
    again = cli.run("sync", "--dry-run", "--refresh-details")
    assert "up to 10 details calls" in again.out


def test_sync_of_a_database_tracking_nothing_warns_and_exits_2(cli):
    missing = cli.sync()  # no file at all: refused before one is made
    assert missing.code == 2, missing
    assert "no database at" in missing.err and not cli.db.exists()
    assert cli.run("products", "add", "6YE881").code == 0
    assert cli.run("products", "remove", "6YE881").code == 0
    result = cli.sync()
    assert result.code == 2, result
    assert "tracks no products" in result.err
    assert "Traceback" not in result.err
    assert cli.run("runs", "--json").out.strip() == "[]"


@pytest.mark.slow
def test_quiet_prints_nothing_that_needs_no_look(cli, sandbox):
    for args in (
        ("products", "add", "6YE882"),
        ("retry-failed", "--all"),
        ("failed",),
        ("changes",),
        ("failed", "flush"),
    ):
        result = cli.run(*args, "-q")
        assert (result.code, result.out, result.err) == (0, "", ""), (args, result)
    loud = cli.run("retry-failed", "--all")
    assert loud.err.strip() == "nothing to retry: no unresolved failures" and loud.out == ""
    assert cli.run("failed").err.strip() == "no failures"
    assert cli.run("changes").err.strip() == "no changes"
    bad = cli.run("products", "add", "-q", "not a part number!")
    assert bad.code == 2 and "not a part number" in bad.err  # problems still show
