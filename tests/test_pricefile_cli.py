"""``catalog load`` as a user runs it, against the sandbox's price file over real FTP and SFTP.

Each test writes the sandbox catalog's price file into its own folder and serves it
on free loopback ports (pyftpdlib, paramiko's server side); the CLI runs as a
subprocess with its own HOME (the SFTP host key goes into its known_hosts).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.clirunner import Cli, cli_env
from support.processes import start
from support.shop_support import read_csv, write_config

from ingram.sandbox import SandboxServer
from ingram.sandbox.catalog import Catalog
from ingram.sandbox.fileserver import PriceFileServer
from ingram.sandbox.pricefile import PriceFileOptions, us_fields, write_price_file

USER, PASSWORD = "reseller", "ftp-pass-7Qx!v"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., PriceFileServer]]:
    """Serve a price file of a ``size`` catalog, written with ``options``, on FTP and SFTP."""
    started: list[PriceFileServer] = []

    def start(
        size: int = 300, epoch: int = 0, drop_after: int | None = None, **options: bool
    ) -> PriceFileServer:
        folder = tmp_path / f"served-{len(started)}"
        catalog = Catalog(size=size, price_epoch=epoch)
        write_price_file(catalog, folder, PriceFileOptions(**options))  # type: ignore[arg-type]
        files = PriceFileServer(folder, user=USER, password=PASSWORD, drop_after=drop_after)
        started.append(files.start())
        ssh = tmp_path / ".ssh"
        ssh.mkdir(exist_ok=True)
        with (ssh / "known_hosts").open("a") as known:
            known.write(files.known_hosts_line + "\n")
        return files

    yield start
    for files in started:
        files.stop()


@pytest.fixture
def loader(tmp_path: Path) -> Cli:
    """The CLI with the price file server's login, and no API that answers."""
    db = tmp_path / "catalog.db"
    env = cli_env("http://127.0.0.1:9", db, INGRAM_FTP_USER=USER, INGRAM_FTP_PASSWORD=PASSWORD)
    return Cli(env, db)


def last_line(text: str) -> str:
    """The error line (a progress line, "fetching ...", may come before it)."""
    lines = text.splitlines()
    assert lines and sum(line.startswith("Error:") for line in lines) == 1, text
    return lines[-1]


def catalog_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM catalog").fetchone()[0])


@pytest.mark.parametrize("scheme", ["ftp", "sftp"])
def test_a_full_load_over_the_wire_then_search_stats_and_tracking(serve, loader, scheme):
    files = serve()
    url = files.ftp_url("PRICE.ZIP") if scheme == "ftp" else files.sftp_url("PRICE.ZIP")
    done = loader.run("catalog", "load", url)
    assert done.code == 0, done
    assert "300 products" in done.out and PASSWORD not in done.out + done.err
    stats = json.loads(loader.run("catalog", "stats", "--json").out)
    assert stats["products"] == 300 and stats["source"].startswith(f"{scheme}://127.0.0.1:")
    vendor = stats["vendors"][0]["name"]
    dry = loader.run("products", "add", "--from-catalog", "--vendor", vendor.lower(), "--dry-run")
    assert dry.code == 0 and "would add" in dry.out, dry
    added = loader.run("products", "add", "--from-catalog", "--vendor", vendor.lower())
    again = loader.run("products", "add", "--from-catalog", "--vendor", vendor)
    count = int(added.out.split()[1].rstrip(","))
    assert count > 0 and again.out.strip() == f"added 0, already tracked {count}"
    found = json.loads(loader.run("catalog", "search", "--vendor", vendor, "--json").out)
    assert found and all(row["tracked"] for row in found)


def test_a_changes_file_applies_and_tracked_discontinued_ones_show_in_changes(serve, loader):
    assert loader.run("catalog", "load", serve(size=200).ftp_url("PRICE.ZIP")).code == 0
    gone = Catalog(size=200).part_numbers(50)[49]
    assert loader.run("products", "add", gone).code == 0
    done = loader.run(
        "catalog", "load", serve(size=200, epoch=1, changes_only=True).ftp_url("PRICE.ZIP")
    )
    assert done.code == 0, done
    assert "changes file" in done.out and catalog_count(loader.db) == 196
    listed = json.loads(loader.run("changes", "--source", "pricefile", "--json").out)
    assert [(c["ingram_part_number"], c["field"], c["new_value"]) for c in listed] == [
        (gone, "discontinued", True)
    ]


def price_file(path: Path, catalog: Catalog, count: int, **changed: tuple[str, str]) -> Path:
    """PRICE.TXT of the catalog's first ``count`` products; ``changed`` gives a part number
    another (status code, substitute part number)."""
    lines = []
    for index in range(count):
        fields = us_fields(catalog, index, "A", False)
        if fields[1] in changed:
            fields[17], fields[22] = changed[fields[1]]
        lines.append(",".join(f'"{field}"' for field in fields))
    path.parent.mkdir()
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def woocommerce_stock(cli: Cli, out: Path) -> dict[str, str]:
    done = cli.run("export", "--target", "woocommerce", "--full", "-o", str(out))
    assert done.code == 0, done
    _, rows = read_csv(out.read_text(encoding="utf-8"))
    return {row["SKU"]: row["Stock"] for row in rows}


def test_a_file_that_discontinues_a_tracked_product_reaches_its_lifecycle_and_the_shop(
    make_cli: Callable[..., Cli], sandbox: SandboxServer, tmp_path: Path
) -> None:
    text = "track_replacements = true\n[pricing]\nmarkup = 20\n"  # what export --target needs
    config = write_config(tmp_path / "shop.toml", text)
    cli = make_cli(sandbox, INGRAM_SYNC_CONFIG=str(config))
    count = 20
    tracked = sandbox.catalog.part_numbers(count)
    substitute = sandbox.catalog.part_numbers(101)[100]  # no tracked product's neighbour
    assert cli.run("products", "add", *tracked).code == 0 and cli.sync().code == 0
    before = woocommerce_stock(cli, tmp_path / "before.csv")
    product = next(pn for pn in tracked if int(before.get(pn) or 0) > 0)  # on sale, in stock
    yesterday = datetime.now(UTC) - timedelta(days=1)  # older than the sync's P&A prices
    days = [(yesterday - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M") for hours in (1, 0)]
    first = price_file(tmp_path / "a" / "PRICE.TXT", sandbox.catalog, count)
    assert cli.run("catalog", "load", str(first), "--date", days[0]).code == 0
    second = price_file(
        tmp_path / "b" / "PRICE.TXT", sandbox.catalog, count, **{product: ("*", substitute)}
    )
    done = cli.run("catalog", "load", str(second), "--date", days[1])
    assert done.code == 0, done
    assert "2 changes of tracked products" in done.out
    assert f"tracking 1 replacement: {substitute} (for {product}); the next sync" in done.out
    replaced = json.loads(cli.run("products", "list", "--replaced", "--json").out)
    (row,) = [row for row in replaced if row["ingram_part_number"] == product]
    assert (row["discontinued"], row["replacement_part_number"], row["replacement_tracked"]) == (
        True,
        substitute,
        True,
    )
    assert row["discontinued_since"].startswith(days[1])
    assert woocommerce_stock(cli, tmp_path / "after.csv")[product] == "0"
    listed = json.loads(cli.run("changes", "--source", "pricefile", "--json").out)
    assert [  # newest first
        (c["ingram_part_number"], c["field"], c["old_value"], c["new_value"])
        for c in listed
        if c["changed_at"].startswith(days[1])
    ] == [(product, "replacement", None, substitute), (product, "discontinued", False, True)]
    assert cli.run("catalog", "load", str(second), "--date", days[1]).out.count("tracking") == 0
    assert cli.sync().code == 0  # the substitute is priced as any tracked product
    assert cli.export()[substitute]["status"] in {"active", "not_authorized"}


def test_a_download_cut_mid_file_resumes_and_loads_whole(serve, loader, tmp_path):
    probe = serve()
    size = (probe.folder / "PRICE.ZIP").stat().st_size
    for scheme in ("ftp", "sftp"):
        files = serve(drop_after=size // 2)
        url = files.ftp_url("PRICE.ZIP") if scheme == "ftp" else files.sftp_url("PRICE.ZIP")
        done = loader.run("catalog", "load", url)
        assert done.code == 0, done
        assert files.dropped.is_set() and catalog_count(loader.db) == 300


def test_a_truncated_zip_and_a_foreign_layout_are_refused_and_the_old_catalog_stays(serve, loader):
    assert loader.run("catalog", "load", serve(size=120).ftp_url("PRICE.ZIP")).code == 0
    for options, said in (
        ({"truncated": True}, "not a whole ZIP file"),
        ({"foreign": True}, "does not fit the US PRICE.TXT"),
    ):
        done = loader.run("catalog", "load", serve(**options).sftp_url("PRICE.ZIP"))
        assert done.code == 2, done
        assert said in last_line(done.err) and "Traceback" not in done.err
        assert catalog_count(loader.db) == 120


@pytest.mark.parametrize("scheme", ["ftp", "sftp"])
def test_wrong_credentials_say_so_in_one_line_and_exit_4(serve, loader, scheme):
    files = serve(size=20)
    url = files.ftp_url("PRICE.ZIP") if scheme == "ftp" else files.sftp_url("PRICE.ZIP")
    loader.env["INGRAM_FTP_PASSWORD"] = "not-the-password-x9"
    done = loader.run("catalog", "load", url)
    assert done.code == 4, done
    assert "refused the login" in last_line(done.err) and "Traceback" not in done.err
    assert "not-the-password-x9" not in done.err + done.out


def test_an_unknown_host_key_and_a_password_in_the_url_are_refused(serve, loader, tmp_path):
    files = serve(size=20)
    (tmp_path / ".ssh" / "known_hosts").write_text("")
    done = loader.run("catalog", "load", files.sftp_url("PRICE.ZIP"))
    assert done.code == 2 and "host key is not in" in done.err, done
    url = files.ftp_url("PRICE.ZIP").replace("ftp://", f"ftp://{USER}:{PASSWORD}@")
    done = loader.run("catalog", "load", url)
    assert done.code == 2 and "INGRAM_FTP_PASSWORD" in done.err and PASSWORD not in done.err


def test_a_load_killed_mid_way_leaves_the_old_catalog_and_the_next_one_works(
    serve, loader, tmp_path
):
    assert loader.run("catalog", "load", serve(size=100).ftp_url("PRICE.ZIP")).code == 0
    big = tmp_path / "big"
    write_price_file(Catalog(size=40_000), big, PriceFileOptions())
    process = loader.start("catalog", "load", str(big / "PRICE.ZIP"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with sqlite3.connect(loader.db, timeout=10) as conn:
            staged = conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'catalog_staging'"
            ).fetchone()[0]
            if staged and conn.execute("SELECT COUNT(*) FROM catalog_staging").fetchone()[0]:
                break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert catalog_count(loader.db) == 100
    done = loader.run("catalog", "load", str(big / "PRICE.ZIP"))
    assert done.code == 0, done
    assert catalog_count(loader.db) == 40_000


def test_export_uses_file_prices_only_when_asked(serve, loader):
    assert loader.run("catalog", "load", serve(size=30).ftp_url("PRICE.ZIP")).code == 0
    pn = Catalog(size=30).part_numbers(1)[0]
    assert loader.run("products", "add", pn).code == 0
    plain = json.loads(loader.run("export", "--format", "json").out)
    asked = json.loads(loader.run("export", "--format", "json", "--allow-file-prices").out)
    assert plain[0]["customer_price"] is None and plain[0]["price_source"] is None
    assert asked[0]["customer_price"] > 0 and asked[0]["price_source"] == "pricefile"


def self_signed(folder: Path) -> Path:
    """A certificate (and its key) for 127.0.0.1, in one PEM file."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "sandbox-cert.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_ftps_checks_the_certificate_and_loads(loader, tmp_path):
    folder = tmp_path / "tls"
    write_price_file(Catalog(size=40), folder, PriceFileOptions())
    cert = self_signed(tmp_path)
    with PriceFileServer(
        folder, user=USER, password=PASSWORD, tls_cert=cert, sftp_port=None
    ) as files:
        url = files.ftp_url("PRICE.ZIP")
        assert url.startswith("ftps://")
        untrusted = loader.run("catalog", "load", url)
        assert untrusted.code == 1 and "certificate" in last_line(untrusted.err).lower(), untrusted
        loader.env["SSL_CERT_FILE"] = str(cert)  # the client trusts the sandbox's certificate
        done = loader.run("catalog", "load", url)
    assert done.code == 0, done
    assert catalog_count(loader.db) == 40


def test_the_password_is_masked_in_config_show(loader):
    shown = loader.run("config", "show")
    assert shown.code == 0 and PASSWORD not in shown.out
    assert any(
        line.startswith("ftp_password") and "****" in line for line in shown.out.splitlines()
    )


def test_the_sandbox_command_serves_its_price_file(tmp_path):
    command = [sys.executable, "-m", "ingram", "sandbox", "--port", "0", "--ftp-port", "0",
               "--sftp-port", "0", "--catalog-size", "25"]  # fmt: skip
    process = start(command, env={**cli_env("http://x", tmp_path / "x.db")}, text=True)
    try:
        lines = []
        for line in process.lines():
            lines.append(line)
            if "known_hosts" in line:  # the last line names known_hosts
                break
    finally:
        process.terminate()
        process.wait(10)
    text = "".join(lines)
    assert "Price file on ftp://127.0.0.1:" in text and "Price file on sftp://127.0.0.1:" in text
    assert "export INGRAM_FTP_PASSWORD=sandbox-ftp-secret" in text and "known_hosts" in text


def test_a_second_load_at_the_same_time_exits_3(loader, tmp_path):
    from ingram.pricefile.loading import catalog_lock

    path = tmp_path / "PRICE.ZIP"
    write_price_file(Catalog(size=10), tmp_path, PriceFileOptions())
    assert loader.run("products", "add", "6YE881").code == 0
    with catalog_lock(loader.db):
        done = loader.run("catalog", "load", str(path))
    assert done.code == 3 and "another `catalog load`" in last_line(done.err), done
    assert loader.run("catalog", "load", str(path)).code == 0
