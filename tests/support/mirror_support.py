"""What the mirror's and the change feed's tests share: a catalog with its target, a receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import ssl
import threading
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ingram.clock import format_time
from ingram.state.products import EXPORT_COLUMNS, export_products
from ingram.state.shop import DISCOUNT_COLUMNS, WAREHOUSE_COLUMNS
from ingram.state.store import Store
from support.clirunner import Cli, Result
from support.dbservers import TargetDb

# Times the mirror holds as timestamps; the sync's own times (SYNC_TIMES) move with every sync
# and are not rewritten for them (see docs/database.md).
TIMES = ("pa_synced_at", "details_synced_at", "stock_pushed_at", "discontinued_since")
SYNC_TIMES = ("pa_synced_at", "details_synced_at", "stock_pushed_at", "price_as_of", "stock_as_of")


class Shop:
    """A catalog, the CLI bound to it and the sandbox, and the target database."""

    def __init__(self, cli: Cli, target: TargetDb) -> None:
        self.cli = cli
        self.target = target

    def mirror(self, *args: str) -> Result:
        return self.cli.run("mirror", "--to", self.target.url, *args)

    def mirrored(self) -> dict[str, dict[str, Any]]:
        """ingram_products as the catalog would hold them (times as its text)."""
        rows = self.target.rows("ingram_products")
        return {row["ingram_part_number"]: as_catalog(row) for row in rows}

    def mirrored_at(self) -> dict[str, datetime]:
        return {
            r["ingram_part_number"]: r["mirrored_at"] for r in self.target.rows("ingram_products")
        }

    def state(self) -> dict[str, Any]:
        return self.target.rows("ingram_mirror", "id")[0]


def as_catalog(row: dict[str, Any]) -> dict[str, Any]:
    product = {name: row[name] for name in EXPORT_COLUMNS}
    for name in TIMES:
        if product[name] is not None:
            product[name] = format_time(product[name].replace(tzinfo=product[name].tzinfo or UTC))
    return product


def catalog(db: Path) -> dict[str, dict[str, Any]]:
    store = Store.open(db, readonly=True)
    try:
        return {row["ingram_part_number"]: row for row in export_products(store)}
    finally:
        store.close()


def children(db: Path) -> tuple[dict[tuple[Any, ...], dict[str, Any]], ...]:
    """The catalog's warehouse and discount rows, keyed as the mirror keys them."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        found = []
        for table, columns, key in (
            ("product_warehouses", WAREHOUSE_COLUMNS, "warehouse_id"),
            ("product_discounts", ("position", *DISCOUNT_COLUMNS), "position"),
        ):
            sql = f"SELECT ingram_part_number, {', '.join(columns)} FROM {table}"
            rows = [dict(row) for row in conn.execute(sql)]
            for row in rows:
                if row.get("amount") is not None:  # money is text in SQLite
                    row["amount"] = Decimal(row["amount"])
            found.append({(row["ingram_part_number"], row[key]): row for row in rows})
        return tuple(found)
    finally:
        conn.close()


def mirrored_children(target: TargetDb) -> tuple[dict[tuple[Any, ...], dict[str, Any]], ...]:
    warehouses = target.rows("ingram_warehouses", "ingram_part_number, warehouse_id")
    discounts = target.rows("ingram_discounts", "ingram_part_number, position")
    return (
        {(row["ingram_part_number"], row["warehouse_id"]): row for row in warehouses},
        {(row["ingram_part_number"], row["position"]): row for row in discounts},
    )


def without_times(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {pn: {k: v for k, v in row.items() if k not in SYNC_TIMES} for pn, row in rows.items()}


def assert_mirror_equals_catalog(shop: Shop, times: bool = True) -> None:
    """Row for row; with ``times=False`` the sync times apart (a sync that only confirmed a
    product's values moved its pa_synced_at, which the mirror does not write)."""
    if times:
        assert shop.mirrored() == catalog(shop.cli.db)
    else:
        assert without_times(shop.mirrored()) == without_times(catalog(shop.cli.db))
    for mirrored, kept in zip(mirrored_children(shop.target), children(shop.cli.db), strict=True):
        assert mirrored.keys() == kept.keys()
        for key, row in kept.items():
            # Decimal("6.74") == Decimal("6.7400000000"): MySQL pads to its scale
            assert {name: mirrored[key][name] for name in row} == row, key


NOTIFY_SECRET = "notify-Secret-42x"


class Receiver:
    """An endpoint of the user's: checks each body's signature, fails the first ``fail``
    requests with 500, and keeps the events of the requests it took."""

    def __init__(self, secret: str = NOTIFY_SECRET, fail: int = 0, tls: Path | None = None):
        self.secret = secret
        self.fail = fail
        self.requests: list[dict[str, Any]] = []
        self.taken: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hooks/ingram"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(handler.headers.get("X-Ingram-Sync-Signature", ""), expected)
        with self.lock:
            status = 500 if len(self.requests) < self.fail else (200 if signed else 401)
            self.requests.append({"status": status, "signed": signed, "body": json.loads(body)})
            if status == 200:
                self.taken.extend(json.loads(body)["events"])
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path
