"""The cron and systemd examples are what the README says, and the CLI accepts their lines."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from ingram.cli import cli
from ingram.sandbox import Catalog

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def crontab_jobs() -> list[str]:
    lines = (ROOT / "examples" / "crontab").read_text(encoding="utf-8").splitlines()
    return [
        line
        for line in lines
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]


def parses(argv: list[str]) -> bool:
    """Whether ``ingram-sync`` accepts ``argv`` (``--help`` at the end: nothing runs)."""
    result = CliRunner().invoke(cli, [*argv, "--help"])
    return result.exit_code == 0 and "Usage: cli sync" in result.output


def test_crontab_is_a_user_crontab_and_agrees_with_the_readme(tmp_path):
    jobs = crontab_jobs()
    assert len(jobs) == 1
    fields = jobs[0].split()
    assert fields[5].startswith("/") and fields[5].endswith("/ingram-sync"), "no user field"
    assert jobs[0] in README
    text = (ROOT / "examples" / "crontab").read_text(encoding="utf-8")
    for setting in [line for line in text.splitlines() if line.startswith(("MAILTO", "INGRAM_"))]:
        assert setting in README
    argv = shlex.split(jobs[0])[6:]
    argv[argv.index("--log-file") + 1] = str(tmp_path / "sync.log")  # /var/log is not ours
    assert parses(argv)


def test_readme_says_cron_mails_on_output_not_exit_codes():
    assert "cron mails whatever a job prints and ignores its exit code" in README
    assert "cron sends mail only when something needs a look (exit" not in README


def test_systemd_service_treats_130_as_success_and_readme_has_the_setup():
    service = (ROOT / "examples" / "ingram-sync.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in service.splitlines() if "=" in line and line[0] != "#"
    )
    assert "130" in settings["SuccessExitStatus"].split()
    assert "Exit 1:" in service
    exec_start = shlex.split(settings["ExecStart"])
    assert exec_start[0].endswith("/ingram-sync")
    assert parses(exec_start[1:])
    for step in ("useradd", "install -d -o ingram", "systemctl enable --now ingram-sync.timer"):
        assert step in README


def test_parses_refuses_a_bad_line():
    assert not parses(["-q", "sync", "--no-such-option"])


def test_the_sandbox_catalog_holds_every_part_number_the_readme_and_examples_use():
    used = set()
    for match in re.finditer(r"ingram-sync[^\n`]* (?:products add|--sku) ([A-Z0-9 ]+)", README):
        used.update(match[1].split())
    with (ROOT / "examples" / "products.csv").open(encoding="utf-8") as rows:
        used.update(row["ingramPartNumber"] for row in csv.DictReader(rows))
    assert {"6YE881", "4A0036", "123512"} <= used
    for catalog in (Catalog(size=1000), Catalog(size=10), Catalog(seed=7, size=0)):
        assert all(pn in catalog for pn in used), sorted(pn for pn in used if pn not in catalog)
    assert "ZZZZZ9" not in Catalog(size=10)
