"""The examples and walkthroughs are what the README and docs/ say, and they work as written."""

from __future__ import annotations

import csv
import re
import shlex

from support.docs_pages import (
    CRON_PAGE,
    GETTING_STARTED,
    README,
    ROOT,
    parses,
    section_blocks,
)

from ingram.sandbox import Catalog


def crontab_jobs() -> list[str]:
    lines = (ROOT / "examples" / "crontab").read_text(encoding="utf-8").splitlines()
    return [
        line
        for line in lines
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]


def test_crontab_is_a_user_crontab_and_agrees_with_the_cron_page(tmp_path):
    jobs = crontab_jobs()
    assert len(jobs) == 1
    fields = jobs[0].split()
    assert fields[5].startswith("/") and fields[5].endswith("/ingram-sync"), "no user field"
    assert jobs[0] in CRON_PAGE
    text = (ROOT / "examples" / "crontab").read_text(encoding="utf-8")
    for setting in [line for line in text.splitlines() if line.startswith(("MAILTO", "INGRAM_"))]:
        assert setting in CRON_PAGE
    argv = shlex.split(jobs[0])[6:]
    argv[argv.index("--log-file") + 1] = str(tmp_path / "sync.log")  # /var/log is not ours
    assert parses(argv)


def test_the_docs_say_cron_mails_on_output_not_exit_codes():
    assert "cron mails whatever a job prints and ignores its exit code" in CRON_PAGE
    for text in (README, GETTING_STARTED, CRON_PAGE):
        words = " ".join(text.split())
        assert "cron mails whatever a job prints" in words
        assert "cron sends mail only when something needs a look (exit" not in words


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
        assert step in CRON_PAGE


def test_parses_refuses_a_bad_line():
    assert not parses(["-q", "sync", "--no-such-option"])


def test_the_sandbox_catalog_holds_every_part_number_the_docs_and_examples_use():
    used = set()
    pages = [README] + [page.read_text(encoding="utf-8") for page in (ROOT / "docs").glob("*.md")]
    for text in pages:
        for match in re.finditer(r"ingram-sync[^\n`]* (?:products add|--sku) ([A-Z0-9 ]+)", text):
            used.update(match[1].split())
    with (ROOT / "examples" / "products.csv").open(encoding="utf-8") as rows:
        used.update(row["ingramPartNumber"] for row in csv.DictReader(rows))
    assert {"6YE881", "4A0036", "123512"} <= used
    for catalog in (Catalog(size=1000), Catalog(size=10), Catalog(seed=7, size=0)):
        assert all(pn in catalog for pn in used), sorted(pn for pn in used if pn not in catalog)
    assert "ZZZZZ9" not in Catalog(size=10)


def test_quick_start_gives_the_debian_steps_then_two_commands():
    for text in (README, GETTING_STARTED):
        setup, install, tests = section_blocks(text, "Quick start")
        assert any(line.startswith("git clone ") for line in setup)
        assert "python3 -m venv .venv && . .venv/bin/activate" in setup
        assert install == ["pip install . && ingram-sync demo"]
        assert tests == ["pip install -e '.[test]' && python -m pytest -q -n auto"]
        assert "externally-managed-environment" in text and "pipx install ." in text
    assert section_blocks(README, "Quick start") == section_blocks(GETTING_STARTED, "Quick start")
