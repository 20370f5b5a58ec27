"""The getting-started walkthroughs run as written, in order, as a newcomer types them: the
sandbox in one terminal (restarted where a page says so), the commands in another; the
newcomer sees products, their own keys resolved, changes, and failures within seconds."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from support.browser import page_dom
from support.clirunner import isolated_env
from support.docs_pages import GETTING_STARTED, ROOT, section_blocks, start_sandbox, stop
from support.processes import start

from ingram.sandbox import Catalog

WALKTHROUGHS = (
    "Try it against the local sandbox",
    "Your own keys in the sandbox",
    "Changes in the sandbox",
    "Failures and retries in the sandbox",
)
# The lines whose exit status is not 0, and why.
EXPECTED_CODES = {"ingram-sync sync --pa-retry-waits 1,2 --details-retry-waits 1,2": 1}


class Terminals:
    """The sandbox's terminal and the user's, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc, self.exports = start_sandbox(folder, "--port", "0")
        self.port = self.exports["INGRAM_API_URL"].rsplit(":", 1)[1]
        self.env = isolated_env(folder) | self.exports

    def restart(self, line: str) -> None:
        """Ctrl-C, then the page's sandbox line (on the same port, as the exports say)."""
        stop(self.proc)
        self.proc, _ = start_sandbox(self.folder, *shlex.split(line)[2:], "--port", self.port)

    def type(self, line: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "ingram", *shlex.split(line)[1:]]
        done = subprocess.run(
            argv, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == EXPECTED_CODES.get(line, 0), (line, done.stdout, done.stderr)
        return done


def walk(terminals: Terminals, heading: str) -> dict[str, list[subprocess.CompletedProcess[str]]]:
    """Every line of a section's blocks, and what each time it was typed gave: a block that is
    one ``ingram-sync sandbox`` line is typed in the sandbox's terminal (the first section's
    is already running)."""
    seen: dict[str, list[subprocess.CompletedProcess[str]]] = {}
    for block in section_blocks(GETTING_STARTED, heading):
        if block[0].startswith("$ ingram-sync sandbox"):
            continue  # started by Terminals, as the block shows it
        if len(block) == 1 and block[0].startswith("ingram-sync sandbox"):
            terminals.restart(block[0])
            continue
        for line in block:
            seen.setdefault(line, []).append(terminals.type(line))
    return seen


@pytest.mark.slow
def test_the_sandbox_walkthroughs_work_as_written(tmp_path, chromium):
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "products.csv").write_bytes(
        (ROOT / "examples" / "products.csv").read_bytes()
    )
    terminals = Terminals(tmp_path)
    try:
        first, keys, changes, failures = (walk(terminals, heading) for heading in WALKTHROUGHS)
    finally:
        stop(terminals.proc)
    assert (tmp_path / "ingram_sync_sandbox.db").exists()

    [listed] = first["ingram-sync products list"]
    assert len(listed.stdout.splitlines()) == 1 + 3 and "not_found" not in listed.stdout
    assert "6YE881         not_authorized" in listed.stdout
    assert "ask your Ingram rep" in listed.stderr  # explained where it first appears
    assert ": 3 priced, 0 not found, 3 details" in first["ingram-sync sync"][0].stdout

    unmatched = keys["ingram-sync products list --unmatched"][0].stdout
    assert "NO-SUCH-SKU" in unmatched and "MY-SKU-1" not in unmatched
    assert "products list --unmatched" in keys["ingram-sync sync"][0].stderr
    shown = keys["ingram-sync products show 3LK902"][0].stdout
    assert "LOGITECH" in shown and "your key    customerPartNumber MY-SKU-1" in shown

    moved = changes["ingram-sync changes"][0].stdout.splitlines()[1:]
    assert {line.split()[1] for line in moved} >= {"6YE881", "4A0036", "123512"}

    [failed_sync] = failures["ingram-sync sync --pa-retry-waits 1,2 --details-retry-waits 1,2"]
    assert "failed: 1 P&A" in failed_sync.stdout, failed_sync.stdout
    listed_failures, after_retry = failures["ingram-sync failed"]
    rows = listed_failures.stdout.splitlines()
    assert len(rows) == 2 and "6YE881" in rows[1] and "HTTP 500" in rows[1]
    assert after_retry.stdout == "" and "no failures" in after_retry.stderr
    exported = json.loads(terminals.type("ingram-sync export --format json").stdout)
    assert all(row["customer_price"] is not None for row in exported if row["status"] == "active")
    look_at_the_browse_page(terminals, chromium)


def look_at_the_browse_page(terminals: Terminals, chromium: str) -> None:
    """The last walkthrough's ``ingram-sync browse`` (Datasette is installed with the test
    extra, so its pip line is not typed), on a port of the OS's choosing, looked at in
    headless Chromium: the newcomer's catalog and its syncs' health."""
    [install, line] = section_blocks(GETTING_STARTED, "Browse the catalog")[0]
    assert install == "pip install '.[browse]'" and line == "ingram-sync browse"
    argv = [sys.executable, "-m", "ingram", *shlex.split(line)[1:], "--port", "0"]
    proc = start(argv, cwd=terminals.folder, env=terminals.env, text=True)
    try:
        url = next(
            match[1]
            for text in proc.lines("err", timeout=60)
            if (match := re.search(r"at (http://127\.0\.0\.1:\d+/)", text))
        )
        dashboard = page_dom(chromium, f"{url}-/dashboards/sync-health")
        products = page_dom(chromium, f"{url}ingram_sync_sandbox/products")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert "Sync health" in dashboard and "took vs floor" in dashboard
    assert "LENOVO" in products and "USD" in products


KEY_OPTIONS = {"--vpn": "vendorPartNumber", "--upc": "upc", "--cpn": "customerPartNumber"}


def test_every_key_the_docs_use_names_one_sandbox_product_but_the_one_meant_to_fail():
    pages = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "ingram" / "cli" / "products.py",
    ]
    used = set()
    key = re.compile(r"(--vpn|--upc|--cpn) ([A-Z0-9-]*[0-9-][A-Z0-9-]*)")  # not the metavar VPN
    for page in pages:
        for option, value in key.findall(page.read_text()):
            used.add((KEY_OPTIONS[option], value))
    catalog_md = (ROOT / "docs" / "catalog.md").read_text()
    shop_csv = catalog_md.split("$ cat shop.csv\n", 1)[1].split("\n$", 1)[0]
    for row in csv.DictReader(io.StringIO(shop_csv)):
        used.update((kind, value) for kind, value in row.items() if value)
    assert ("vendorPartNumber", "E2016HV") in used and ("customerPartNumber", "MY-SKU-1") in used
    for catalog in (Catalog(size=1000), Catalog(seed=7, size=10)):
        for kind, value in used:
            expected = 0 if value == "NO-SUCH-SKU" else 1
            assert len(catalog.find_key(kind, value)) == expected, (kind, value)


def test_the_example_products_notes_say_what_the_sandbox_answers():
    catalog = Catalog(size=10)
    with (ROOT / "examples" / "products.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            item = catalog.price_availability_item(row["ingramPartNumber"])
            vendor = item["vendorName"].split(".")[0].lower()  # STARTECH.COM
            assert vendor in row["note"].lower(), (vendor, row)
            authorized = item["productAuthorized"]
            assert ("not authorized" in row["note"]) == (not authorized), row


@pytest.mark.slow
def test_a_catalog_of_nothing_but_unmatched_keys_points_at_them(cli):
    assert cli.run("products", "add", "--vpn", "NO-SUCH-SKU", "--upc", "0000000000001").code == 0
    first = cli.sync()
    assert "products list --unmatched" in first.err, first
    again = cli.sync()
    assert again.code == 2
    assert "the 2 keys added name no Ingram product" in again.err
    assert "ingram-sync products list --unmatched" in again.err
