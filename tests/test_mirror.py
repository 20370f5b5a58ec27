"""The database mirror end to end: the CLI in a subprocess, the sandbox over real sockets, the
catalog in SQLite on disk, and real PostgreSQL and MariaDB servers (each test runs on both)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from support.clirunner import Cli, Result, cli_env
from support.dbservers import PASSWORD, TargetDb
from support.mirror_support import (
    SYNC_TIMES,
    Shop,
    assert_mirror_equals_catalog,
    catalog,
    children,
    mirrored_children,
)

from ingram.clock import format_time
from ingram.publish.mirror.schema import PRODUCT_COLUMNS, SCHEMA_VERSION, products
from ingram.state.migrations.m017_mirror_watches_sources import WATCHED_COLUMNS
from ingram.state.products import EXPORT_COLUMNS
from ingram.state.runs import last_full_sync
from ingram.state.store import Store


def no_secret(result: Result) -> None:
    assert PASSWORD not in result.out + result.err


@pytest.fixture
def shop(sandbox, tmp_path: Path, target_db: TargetDb) -> Shop:
    db = tmp_path / "catalog.db"
    env = cli_env(sandbox.url, db, INGRAM_MIRROR_PASSWORD=PASSWORD)
    return Shop(Cli(env, db), target_db)


def synced(shop: Shop, sandbox, count: int = 120) -> list[str]:
    pns = sandbox.catalog.part_numbers(count)
    assert shop.cli.run("products", "add", *pns, "ZZNOTREAL1").code == 0
    result = shop.cli.sync()
    assert result.code == 0, result
    return pns


def test_a_mirror_equals_the_catalog_row_for_row_and_a_second_writes_nothing(shop, sandbox):
    synced(shop, sandbox)
    first = shop.mirror()
    assert first.code == 0, first
    assert "121 products written, 0 removed" in first.out
    no_secret(first)
    assert_mirror_equals_catalog(shop)
    assert shop.state()["schema_version"] == SCHEMA_VERSION
    written_at = shop.mirrored_at()

    second = shop.mirror()
    assert second.code == 0, second
    assert "nothing to write" in second.out
    assert shop.mirrored_at() == written_at  # not one row rewritten
    assert_mirror_equals_catalog(shop)


def test_products_added_and_not_yet_synced_are_mirrored_too(shop, sandbox):
    assert shop.cli.run("products", "add", "ABC123", "--vpn", "E2016HV").code == 0
    assert shop.mirror().code == 0
    assert shop.mirrored()["ABC123"]["status"] == "never_synced"
    assert_mirror_equals_catalog(shop)


def test_a_removed_product_leaves_the_mirror_with_its_rows(shop, sandbox):
    pns = synced(shop, sandbox, 40)
    assert shop.mirror().code == 0
    gone = next(pn for pn in pns if any(key[0] == pn for key in children(shop.cli.db)[0]))
    assert shop.cli.run("products", "remove", gone).code == 0
    result = shop.mirror()
    assert result.code == 0, result
    assert "0 products written, 1 removed" in result.out
    assert gone not in shop.mirrored()
    assert not [key for key in mirrored_children(shop.target)[0] if key[0] == gone]
    assert_mirror_equals_catalog(shop)
    assert "nothing to write" in shop.mirror().out


def changed_products(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> set:
    """Products whose mirrored values moved, times apart."""

    def values(row: dict[str, Any]) -> dict[str, Any]:
        return {name: row[name] for name in WATCHED_COLUMNS}

    return {pn for pn in after if values(after[pn]) != values(before[pn])}


def rows_by_product(rows: dict[tuple[Any, ...], dict[str, Any]]) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for key, row in sorted(rows.items(), key=repr):
        grouped.setdefault(key[0], []).append(row)
    return grouped


def test_every_sync_mirrors_after_its_run_exactly_what_moved(shop, sandbox):
    shop.cli.env["INGRAM_MIRROR_URL"] = shop.target.url
    pns = sandbox.catalog.part_numbers(150)
    assert shop.cli.run("products", "add", *pns).code == 0
    first = shop.cli.sync()
    assert first.code == 0, first
    assert "150 products written" in first.out
    assert_mirror_equals_catalog(shop)
    before, kids_before = catalog(shop.cli.db), children(shop.cli.db)
    written_at = shop.mirrored_at()

    sandbox.reconfigure(price_epoch=1)  # about a tenth of the products get a new price and stock
    second = shop.cli.sync("--no-details")
    assert second.code == 0, second
    after, kids_after = catalog(shop.cli.db), children(shop.cli.db)
    moved = changed_products(before, after) | {
        pn
        for old, new in zip(kids_before, kids_after, strict=True)
        for pn in set(rows_by_product(old)) | set(rows_by_product(new))
        if rows_by_product(old).get(pn) != rows_by_product(new).get(pn)
    }
    assert 0 < len(moved) < 60
    assert f"{len(moved)} products written, 0 removed" in second.out
    rewritten = {pn for pn, when in shop.mirrored_at().items() if when != written_at[pn]}
    assert rewritten == moved
    mirrored = shop.mirrored()
    for pn in moved:  # the moved products are as the catalog has them now
        assert mirrored[pn] == after[pn]
    assert_mirror_equals_catalog(shop, times=False)  # the others' P&A time moved only
    store = Store.open(shop.cli.db, readonly=True)
    last_sync = last_full_sync(store)["finished_at"]
    assert format_time(shop.state()["catalog_synced_at"].replace(tzinfo=UTC)) == last_sync


def test_a_target_with_tables_ingram_sync_did_not_make_is_refused(shop, sandbox):
    shop.target.execute("CREATE TABLE ingram_products (sku VARCHAR(20))")
    shop.cli.run("products", "add", "ABC123")
    result = shop.mirror()
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and "did not make" in result.err
    assert "Traceback" not in result.err
    assert [row["sku"] for row in shop.target.rows("ingram_products", "sku")] == []


def test_a_target_made_by_a_newer_ingram_sync_is_refused(shop, sandbox):
    shop.cli.run("products", "add", "ABC123")
    assert shop.mirror().code == 0
    shop.target.execute("UPDATE ingram_mirror SET schema_version = 99")
    result = shop.mirror()
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and "newer ingram-sync" in result.err
    assert f"schema 99, this one knows {SCHEMA_VERSION}" in result.err


def test_a_wrong_password_is_one_line_exit_1_and_never_printed(shop, sandbox):
    shop.cli.run("products", "add", "ABC123")
    shop.cli.env["INGRAM_MIRROR_PASSWORD"] = "Wrong-pw-" + PASSWORD[::-1]
    result = shop.cli.run("-v", "mirror", "--to", shop.target.url)
    assert result.code == 1, result
    assert result.err.count("\n") == 1, result.err
    assert "mirror to " in result.err and "ingram" in result.err
    assert shop.cli.env["INGRAM_MIRROR_PASSWORD"] not in result.out + result.err
    status = sqlite3.connect(shop.cli.db).execute("SELECT last_error FROM mirror_targets")
    assert shop.cli.env["INGRAM_MIRROR_PASSWORD"] not in status.fetchone()[0]


def test_a_password_in_the_url_is_used_and_shown_nowhere(shop, sandbox):
    shop.cli.run("products", "add", "ABC123")
    del shop.cli.env["INGRAM_MIRROR_PASSWORD"]
    url = shop.target.url.replace("ingram@", f"ingram:{PASSWORD}@")
    result = shop.cli.run("mirror", "--to", url)
    assert result.code == 0, result
    no_secret(result)
    labels = sqlite3.connect(shop.cli.db).execute("SELECT target FROM mirror_targets").fetchall()
    assert PASSWORD not in repr(labels)


def test_another_catalog_is_refused_until_it_takes_the_target_over(shop, sandbox, tmp_path):
    synced(shop, sandbox, 30)
    assert shop.mirror().code == 0
    other = Cli(
        {**shop.cli.env, "INGRAM_SYNC_DB": str(tmp_path / "other.db")}, tmp_path / "other.db"
    )
    assert other.run("products", "add", "ABC123").code == 0
    refused = other.run("mirror", "--to", shop.target.url)
    assert refused.code == 2, refused
    assert "another catalog" in refused.err and str(shop.cli.db) in refused.err
    assert len(shop.mirrored()) == 31
    taken = other.run("mirror", "--to", shop.target.url, "--full")
    assert taken.code == 0, taken
    assert "1 products written, 31 removed" in taken.out
    assert list(shop.mirrored()) == ["ABC123"]


def test_a_catalog_restored_from_a_backup_is_mirrored_whole_again(shop, sandbox, tmp_path):
    pns = synced(shop, sandbox, 60)
    assert shop.mirror().code == 0
    backup = tmp_path / "backup.db"
    assert shop.cli.run("db", "backup", str(backup)).code == 0
    assert shop.cli.run("products", "remove", *pns[:5]).code == 0
    assert shop.cli.run("products", "add", "NEW001", "NEW002").code == 0
    assert shop.mirror().code == 0
    for suffix in ("-wal", "-shm"):
        Path(f"{shop.cli.db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, shop.cli.db)  # the catalog is back where it was; the target is not

    result = shop.mirror()
    assert result.code == 0, result
    assert "(full)" in result.out and "2 removed" in result.out
    assert_mirror_equals_catalog(shop)


def test_bad_urls_are_one_line_exit_2(shop):
    for url, words in (
        ("sqlite:///x.db", "not a database ingram-sync mirrors to"),
        ("postgresql://user:secret-in-url@host:5432/", "names no database"),
        ("not a url", "is not a URL"),
    ):
        result = shop.cli.run("mirror", "--to", url)
        assert result.code == 2, result
        assert result.err.count("\n") == 1 and words in result.err
        assert "secret-in-url" not in result.err
    none = shop.cli.run("mirror")
    assert none.code == 2 and "INGRAM_MIRROR_URL" in none.err


def test_the_trigger_watches_every_mirrored_column_but_the_key_and_the_times():
    """A column added to the export must be watched (a new migration) and mirrored (a new
    SCHEMA_VERSION): until both are done, this fails."""
    assert set(WATCHED_COLUMNS) == set(EXPORT_COLUMNS) - {"ingram_part_number", *SYNC_TIMES}
    assert [c.name for c in products.columns] == [*PRODUCT_COLUMNS, "mirrored_at"]
    assert SCHEMA_VERSION == 2 and len(PRODUCT_COLUMNS) == 50
