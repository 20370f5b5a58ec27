"""The mirror when things go wrong: killed mid-batch, the server stopped mid-mirror or down,
two mirrors at once. Real PostgreSQL (and MariaDB where it says), real processes."""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.dbservers import PASSWORD, PostgresServer, TargetDb, free_port
from support.mirror_support import Shop, assert_mirror_equals_catalog, catalog
from support.processes import start
from support.webhook_support import wait_for

BATCH = 100


@pytest.fixture
def big_sandbox(sandbox_factory):
    return sandbox_factory(catalog_size=1000)


@pytest.fixture
def shop(big_sandbox, tmp_path: Path, postgres_db: TargetDb) -> Shop:
    db = tmp_path / "catalog.db"
    return Shop(Cli(cli_env(big_sandbox.url, db, INGRAM_MIRROR_PASSWORD=PASSWORD), db), postgres_db)


def sync_products(shop: Shop, big_sandbox, count: int) -> list[str]:
    pns = big_sandbox.catalog.part_numbers(count)
    assert shop.cli.run("products", "add", *pns).code == 0
    result = shop.cli.sync("--no-details")
    assert result.code == 0, result
    return pns


def move_every_price(db: Path) -> list[str]:
    """Every product a new price, as a sync would write it; the part numbers in the order a
    mirror writes them (by change version)."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE products SET customer_price = printf('%.2f', customer_price + 1)")
    order = conn.execute("SELECT ingram_part_number FROM products ORDER BY change_version")
    return [row[0] for row in order]


@contextmanager
def row_locked(target: TargetDb, pn: str) -> Iterator[Connection]:
    """Another session of the shop holds the product's row: a mirror writing it waits."""
    engine = target.server.engine(target.name)
    conn = engine.connect()
    try:
        conn.execute(
            text("SELECT 1 FROM ingram_products WHERE ingram_part_number = :pn FOR UPDATE"),
            {"pn": pn},
        )
        yield conn
    finally:
        try:
            conn.rollback()
            conn.close()
        except DBAPIError:  # the server was stopped under it
            conn.invalidate()
        finally:
            engine.dispose()


def mirror_waits_for_a_lock(target: TargetDb) -> bool:
    rows = target.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'ingram-sync mirror'"
        " AND wait_event_type = 'Lock'"
    )
    return rows[0][0] > 0


def test_a_mirror_killed_mid_batch_leaves_whole_batches_and_the_next_one_catches_up(
    shop, big_sandbox
):
    sync_products(shop, big_sandbox, 600)
    assert shop.mirror().code == 0
    order = move_every_price(shop.cli.db)
    new_prices = {pn: row["customer_price"] for pn, row in catalog(shop.cli.db).items()}
    with row_locked(shop.target, order[2 * BATCH + 50]):  # in the third batch
        process = shop.cli.start("mirror", "--to", shop.target.url, "--batch-size", str(BATCH))
        wait_for(lambda: mirror_waits_for_a_lock(shop.target), timeout=60, what="mirror blocked")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    mirrored = shop.mirrored()
    assert len(mirrored) == 600
    written = [pn for pn in order if mirrored[pn]["customer_price"] == new_prices[pn]]
    assert written == order[: 2 * BATCH]  # two whole batches, nothing of the third
    rows = shop.target.rows("ingram_warehouses", "ingram_part_number, warehouse_id")
    assert {row["ingram_part_number"] for row in rows} == set(catalog_with_warehouses(shop))

    again = shop.mirror("--batch-size", str(BATCH))
    assert again.code == 0, again
    assert "(full)" not in again.out and f"{600 - 2 * BATCH} products written" in again.out
    assert_mirror_equals_catalog(shop)
    assert "nothing to write" in shop.mirror().out


def catalog_with_warehouses(shop: Shop) -> list[str]:
    conn = sqlite3.connect(shop.cli.db)
    return [
        row[0] for row in conn.execute("SELECT DISTINCT ingram_part_number FROM product_warehouses")
    ]


def test_the_server_stopped_mid_mirror_fails_the_mirror_in_one_line_not_the_sync(
    big_sandbox, tmp_path
):
    with PostgresServer() as server:
        target = TargetDb(server, server.new_database())
        db = tmp_path / "catalog.db"
        env = cli_env(
            big_sandbox.url, db, INGRAM_MIRROR_PASSWORD=PASSWORD, INGRAM_MIRROR_URL=target.url
        )
        shop = Shop(Cli(env, db), target)
        pns = sync_products(shop, big_sandbox, 100)  # its mirror ran after it
        assert len(shop.mirrored()) == 100
        big_sandbox.reconfigure(price_epoch=1)
        moving = next(pn for i, pn in enumerate(pns) if big_sandbox.catalog.stock_changed(i))
        with row_locked(target, moving):
            process = shop.cli.start("sync", "--no-details", "--pa-rate", "6000")
            wait_for(lambda: mirror_waits_for_a_lock(target), timeout=60, what="mirror blocked")
            stopper = threading.Thread(target=server.stop)  # terminates every session
            stopper.start()
            out, err = process.communicate(timeout=120)
            stopper.join(60)
        assert process.returncode == 1, err
        assert "100 priced" in out  # the sync's own summary
        mirror_lines = [line for line in err.splitlines() if "mirror" in line]
        assert len(mirror_lines) == 1, err
        assert "the run's results stand" in mirror_lines[0] and "Traceback" not in err
        assert PASSWORD not in out + err
        price = big_sandbox.catalog.price_availability_item(moving)
        sent = (price.get("pricing") or price["availability"]["pricing"])["customerPrice"]
        assert catalog(db)[moving]["customer_price"] == Decimal(str(sent))  # the sync stands

        server.launch()
        caught_up = shop.mirror()
        assert caught_up.code == 0, caught_up
        assert "(full)" not in caught_up.out
        assert_mirror_equals_catalog(shop, times=False)
        assert shop.mirrored()[moving] == catalog(db)[moving]


def test_a_target_that_is_down_gives_one_line_and_exit_1_after_a_good_sync(big_sandbox, tmp_path):
    db = tmp_path / "catalog.db"
    url = f"postgresql://ingram@127.0.0.1:{free_port()}/shop"  # nothing listens there
    cli = Cli(
        cli_env(big_sandbox.url, db, INGRAM_MIRROR_URL=url, INGRAM_MIRROR_PASSWORD=PASSWORD), db
    )
    assert cli.run("products", "add", *big_sandbox.catalog.part_numbers(20)).code == 0
    result = cli.sync("--no-details")
    assert result.code == 1, result
    assert "20 priced" in result.out
    [line] = [line for line in result.err.splitlines() if "mirror" in line]
    assert line.startswith(f"mirror to {url} failed:")
    assert len(catalog(db)) == 20 and all(row["status"] == "active" for row in catalog(db).values())
    recorded = sqlite3.connect(db).execute("SELECT last_error FROM mirror_targets").fetchone()
    assert recorded[0].startswith(f"mirror to {url} failed")


def test_a_failed_run_keeps_its_own_exit_code_and_is_mirrored(shop, big_sandbox):
    shop.cli.env["INGRAM_MIRROR_URL"] = shop.target.url
    pns = big_sandbox.catalog.part_numbers(10)
    big_sandbox.reconfigure(failing_part_numbers=pns)
    assert shop.cli.run("products", "add", *pns).code == 0
    result = shop.cli.sync("--no-details", "--pa-retry-waits", "")
    assert result.code == 1, result
    assert "10 products written" in result.out  # never-synced rows, with their last error
    assert_mirror_equals_catalog(shop)
    big_sandbox.reconfigure(failing_part_numbers=[])
    retried = shop.cli.run("retry-failed", "--all", *FAST_TIMINGS, "--no-details")
    assert retried.code == 0, retried
    assert "10 products written" in retried.out  # retry-failed mirrors after its run too
    assert_mirror_equals_catalog(shop)


def test_two_mirrors_at_once_take_turns_and_leave_the_catalog_whole(shop, big_sandbox):
    sync_products(shop, big_sandbox, 500)
    assert shop.mirror().code == 0
    move_every_price(shop.cli.db)
    args = ("mirror", "--to", shop.target.url, "--batch-size", "40")
    both = [shop.cli.start(*args), shop.cli.start(*args)]
    results = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], results
    assert_mirror_equals_catalog(shop)
    assert "nothing to write" in shop.mirror().out


def test_a_target_killed_before_its_tables_were_whole_is_finished_by_the_next_mirror(shop):
    """MariaDB commits each CREATE TABLE by itself: only ingram_mirror may exist."""
    assert shop.cli.run("products", "add", "ABC123").code == 0
    shop.target.execute(
        "CREATE TABLE ingram_mirror (id INTEGER PRIMARY KEY, schema_version INTEGER NOT NULL,"
        " catalog_id VARCHAR(64), catalog_label TEXT, change_cursor BIGINT NOT NULL,"
        " mirrored_at TIMESTAMP WITH TIME ZONE)"
    )
    result = shop.mirror()
    assert result.code == 0, result
    assert list(shop.mirrored()) == ["ABC123"]


def test_mirror_needs_its_process_alone_never_the_sync_lock(shop, big_sandbox):
    sync_products(shop, big_sandbox, 30)
    holder = start(
        ["python3", "-c", "import fcntl,sys,time; f=open(sys.argv[1],'a');"
         " fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         f"{shop.cli.db}.lock"],
        text=True,
    )  # fmt: skip
    try:
        assert next(iter(holder.lines())).strip() == "locked"
        assert shop.mirror().code == 0
    finally:
        holder.kill()
        holder.wait()
