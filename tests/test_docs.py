"""The README and the docs/ site: links that resolve, a nav that lists every page, a README
that fits on a page, and the README's first real setup working as written.

``mkdocs build --strict`` (run by .ci/run) checks the site's own links and anchors; these
tests check the same links as GitHub renders them (its heading slugs differ from
MkDocs' where punctuation runs together), the README's links into docs/ (which MkDocs
never sees), and that a link works under both slug rules.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from support.docs_pages import (
    GETTING_STARTED,
    README,
    ROOT,
    parses,
    section_blocks,
    start_sandbox,
    stop,
)

DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FIRST_SETUP = "First real setup"


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (their ``#`` lines are no headings)."""
    return "".join(text.split("```")[0::2])


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation gone, each space a hyphen."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def mkdocs_slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading: runs of '-' and spaces join."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path, slug: Callable[[str], str]) -> set[str]:
    """Every heading anchor of ``page`` under one slug rule (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match[1])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def internal_links(page: Path) -> list[str]:
    """The link targets of ``page`` that are not web addresses."""
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [target for target in targets if not re.match(r"[a-z]+:", target)]


def broken_links(page: Path) -> list[str]:
    """What is wrong with each relative link of ``page``, one line each."""
    broken = []
    for target in internal_links(page):
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif page.parent == DOCS and not linked.is_relative_to(DOCS):
            broken.append(f"{target}: outside docs/, so not in the site")
        elif anchor and linked.suffix == ".md":
            for rule in (github_slug, mkdocs_slug):
                if anchor not in anchors(linked, rule):
                    broken.append(f"{target}: no such heading ({rule.__name__})")
    return broken


def test_the_slug_rules_are_those_of_github_and_mkdocs():
    heading = "Fewer details calls: `--details-source search` (an experiment)"
    assert github_slug(heading) == "fewer-details-calls---details-source-search-an-experiment"
    assert mkdocs_slug(heading) == "fewer-details-calls-details-source-search-an-experiment"
    assert github_slug("`ingram-sync db backup`") == mkdocs_slug("`ingram-sync db backup`")


def test_the_link_checker_finds_a_missing_page_and_a_missing_heading(tmp_path):
    page = tmp_path / "a.md"
    (tmp_path / "b.md").write_text("# B\n\n## Exit codes\n\n```\n# not a heading\n```\n")
    page.write_text(
        "[ok](b.md#exit-codes) [gone](c.md) [no](b.md#not-a-heading) [web](https://x.org/a.md)\n"
        "```\n[in code](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "c.md: no such file",
        "b.md#not-a-heading: no such heading (github_slug)",
        "b.md#not-a-heading: no such heading (mkdocs_slug)",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path):
    assert broken_links(page) == []


def test_the_readme_links_to_every_page_of_the_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in internal_links(PAGES[0])}
    assert PAGES[0] == ROOT / "README.md"
    assert {page.resolve() for page in DOCS.glob("*.md")} <= linked


def test_the_nav_lists_every_page_once_and_only_pages_that_exist():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.findall(r"^\s*- [^:#]+: (\S+\.md)$", config, flags=re.M)
    assert nav[0] == "index.md" and len(nav) == len(set(nav))
    assert sorted(nav) == sorted(page.name for page in DOCS.glob("*.md"))
    assert "theme:\n  name: material" in config
    assert "anchors: warn" in config  # with --strict, a broken anchor fails the build


def test_the_readme_fits_on_a_page_and_the_reference_lives_in_the_docs():
    assert len(README.splitlines()) <= 250
    assert "<!-- commands:start -->" not in README
    assert "<!-- commands:start -->" in (DOCS / "commands.md").read_text(encoding="utf-8")
    assert "pip install -e '.[docs]' && mkdocs serve" in README
    assert "mkdocs build --strict" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def shim(folder: Path, name: str, script: str) -> None:
    """An executable ``folder/name`` running ``script`` with /bin/sh."""
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    (folder / name).chmod(0o755)


def test_the_first_real_setup_works_as_written(tmp_path):
    """The README's first real setup, against the sandbox: the same blocks as the
    getting-started page, each line run by a shell as a user would type it."""
    credentials, sync, cron = section_blocks(README, FIRST_SETUP)
    assert section_blocks(GETTING_STARTED, FIRST_SETUP) == [credentials, sync, cron]
    checkout, home, bin_dir = tmp_path / "checkout", tmp_path / "home", tmp_path / "bin"
    (checkout / "examples").mkdir(parents=True)
    for name in ("config.toml", "products.csv"):
        (checkout / "examples" / name).write_bytes((ROOT / "examples" / name).read_bytes())
    (checkout / "products.csv").write_bytes((ROOT / "examples" / "products.csv").read_bytes())
    proc, exports = start_sandbox(tmp_path, "--port", "0")
    # The person's editor: credentials, a database they can write, the sandbox's address.
    edits = {
        "your-client-id": exports["INGRAM_CLIENT_ID"],
        "your-client-secret": exports["INGRAM_CLIENT_SECRET"],
        "/var/lib/ingram-sync/catalog.db": str(tmp_path / "catalog.db"),
    }
    sed = " ".join(f"-e 's|{old}|{new}|'" for old, new in edits.items())
    api = f'api_url = "{exports["INGRAM_API_URL"]}"'
    shim(bin_dir, "editor", f"""sed -i {sed} "$1" && echo '{api}' >> "$1\"""")
    shim(bin_dir, "ingram-sync", f'exec {shlex.quote(sys.executable)} -m ingram "$@"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGRAM_")}
    env |= {"HOME": str(home), "EDITOR": str(bin_dir / "editor")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def run(line: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        return done

    try:
        shown = [run(line) for line in credentials + sync]
        job = cron[-1].split()
        quiet = run(shlex.join(["ingram-sync", *job[6:]]))  # the cron job, by its own name
    finally:
        stop(proc)
    config = home / ".config" / "ingram-sync" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    settings = shown[2].stdout + shown[2].stderr
    assert str(config) in settings and exports["INGRAM_CLIENT_ID"] in settings
    assert exports["INGRAM_CLIENT_SECRET"] not in settings and "chmod 600" not in settings
    assert "customer number 20-222222 and country US accepted" in shown[3].stdout
    assert ": 3 priced, 0 not found, 3 details" in shown[5].stdout
    assert "no failures" in shown[6].stderr and shown[6].stdout == ""
    assert (quiet.stdout, quiet.stderr) == ("", "")  # -q and --min-interval: nothing to mail
    assert cron[0].startswith("MAILTO=") and job[5].endswith("/ingram-sync")
    assert parses(job[6:])
