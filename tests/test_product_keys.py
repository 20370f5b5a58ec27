"""Tracking products by the keys resellers have: vendor part numbers, UPCs, customer part numbers.

The CLI in a subprocess against the sandbox, which answers P&A by any of the keys.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from support.clirunner import Cli, cli_env
from support.sandbox_calls import pa_call
from support.vendor_examples import PA_207_EXAMPLE

from ingram.api.lookup import match_keys
from ingram.api.parsing import loads
from ingram.inputs import read_part_numbers
from ingram.models import KeyResolution, ProductKey
from ingram.sandbox.identifiers import shares_vendor_part_number


def test_answers_are_matched_to_the_keys_they_echo() -> None:
    keys = [
        ProductKey("customerPartNumber", "a5-8963test"),
        ProductKey("vendorPartNumber", "NOPE"),
        ProductKey("upc", "718908728116"),  # the answer's UPC has a leading zero
    ]
    assert match_keys(keys, loads(PA_207_EXAMPLE)) == [
        KeyResolution("customerPartNumber", "a5-8963test", "resolved", ("123512",)),
        KeyResolution(
            "vendorPartNumber",
            "NOPE",
            "not_found",
            (),
            "the vendor's answer named no product for this key",
        ),
        KeyResolution("upc", "718908728116", "resolved", ("123512",)),
    ]
    two = [
        {"ingramPartNumber": "A1", "vendorPartNumber": "X-1"},
        {"ingramPartNumber": "B2", "vendorPartNumber": "x-1"},
        {
            "productStatusCode": "E",
            "productStatusMessage": "Product not found for VendorPartNumber:  Y",
            "vendorPartNumber": "Y",
        },
    ]
    ambiguous, missing = match_keys(
        [ProductKey("vendorPartNumber", "X-1"), ProductKey("vendorPartNumber", "Y")], two
    )
    assert (ambiguous.status, ambiguous.candidates) == ("ambiguous", ("A1", "B2"))
    assert (missing.status, missing.message) == (
        "not_found",
        "Product not found for VendorPartNumber:  Y",
    )


@pytest.mark.slow
def test_import_by_keys_sync_resolves_and_export_carries_them(sandbox, cli, tmp_path) -> None:
    catalog = sandbox.catalog
    shared_index = next(i for i in range(1, 200) if shares_vendor_part_number(i))
    by_vpn = [catalog.identity(i) for i in (1, 2, 3)]
    by_upc = catalog.identity(6)
    both = catalog.identity(7)
    rows = [
        ["ingramPartNumber", "vendorPartNumber", "upc", "customerPartNumber"],
        *[["", identity[1].lower(), "", ""] for identity in by_vpn],
        ["", "", by_upc[3], ""],
        ["", "", "", f"CP-{catalog.part_numbers(9)[8]}"],
        [both[0], both[1], "", ""],
        ["", catalog.identity(shared_index)[1], "", ""],
        ["", "NO-SUCH-PART", "", ""],
        ["", "", "12ab", ""],
        ["", "", "", ""],
    ]
    path = tmp_path / "shop.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    imported = cli.run("products", "import", str(path))
    assert imported.code == 1, imported  # rejected lines: cron hears of them
    assert "added 8, already tracked 0, rejected 2" in imported.out
    assert "line 10" in imported.err and "6 to 14 digits" in imported.err
    assert "line 11" in imported.err and "no part number or key" in imported.err

    synced = cli.sync()
    assert synced.code == 0, synced
    assert "1 keys name several" in synced.err and "1 keys name no Ingram product" in synced.err
    exported = cli.export()
    expected = {
        **{identity[0]: ("vendorPartNumber", identity[1].upper()) for identity in by_vpn},
        by_upc[0]: ("upc", by_upc[3]),
        catalog.part_numbers(9)[8]: ("customerPartNumber", f"CP-{catalog.part_numbers(9)[8]}"),
        both[0]: ("vendorPartNumber", both[1].upper()),
    }
    assert {pn: (r["user_key_type"], r["user_key"]) for pn, r in exported.items()} == expected
    assert all(row["status"] == "active" for row in exported.values())

    listed = cli.run("products", "list", "--ambiguous", "--json")
    [ambiguous] = json.loads(listed.out)
    candidates = [catalog.part_numbers(shared_index + 1)[i] for i in (-2, -1)]
    assert ambiguous["key_value"] == catalog.identity(shared_index)[1]
    assert sorted(ambiguous["candidates"]) == sorted(candidates)

    unmatched = cli.run("products", "list", "--unmatched")
    header, line = unmatched.out.splitlines()
    assert header.split()[:3] == ["key", "type", "key"]
    assert line.split(None, 2) == [
        "vendorPartNumber",
        "NO-SUCH-PART",
        "Product not found for VendorPartNumber:  NO-SUCH-PART",
    ]
    chosen = cli.run("products", "add", candidates[1])
    assert "1 ambiguous keys now name the part number you chose" in chosen.out
    assert cli.run("products", "list", "--ambiguous").err.strip() == "no ambiguous keys"
    again = cli.sync()
    assert again.code == 0 and "keys name" not in again.err
    flat = list(csv.DictReader(io.StringIO(cli.run("export").out)))
    assert {row["ingram_part_number"]: row["user_key"] for row in flat}[candidates[1]] == (
        catalog.identity(shared_index)[1]
    )


def test_products_add_by_key_and_bad_keys(sandbox, cli) -> None:
    catalog = sandbox.catalog
    bad = cli.run("products", "add", "--upc", "12ab")
    assert bad.code == 2 and "not a UPC" in bad.err and "Traceback" not in bad.err
    empty = cli.run("products", "add")
    assert empty.code == 2 and "--vpn" in empty.err
    added = cli.run(
        "products", "add", "--vpn", catalog.identity(11)[1], "--upc", catalog.identity(12)[3]
    )
    assert added.code == 0 and "added 2" in added.out
    assert cli.sync().code == 0
    exported = cli.export()
    assert set(exported) == {catalog.identity(11)[0], catalog.identity(12)[0]}
    removed = cli.run("products", "remove", catalog.identity(11)[0])
    assert "removed 1" in removed.out
    readded = cli.run("products", "add", "--vpn", catalog.identity(11)[1])
    assert "added 1" in readded.out  # the key went with its product


def test_sandbox_answers_mixed_keys_as_strictly_as_the_spec(sandbox) -> None:
    catalog = sandbox.catalog
    pn, vpn, _, upc = catalog.identity(20)
    mixed = pa_call(
        sandbox,
        {
            "products": [
                {"ingramPartNumber": pn},
                {"vendorPartNumber": vpn},
                {"upc": upc},
                {"customerPartNumber": f"CP-{pn}"},
                {"customerPartNumber": f"CP-{catalog.part_numbers(22)[21]}"},  # index 21: none
            ]
        },
    )
    assert mixed.status_code == 207
    items = mixed.json()
    assert [item.get("ingramPartNumber") for item in items[:4]] == [pn] * 4
    assert items[3]["customerPartNumber"] == f"CP-{pn}"
    assert items[4]["productStatusCode"] == "E"
    assert pa_call(sandbox, {"products": [{"upc": int(upc)}]}).status_code == 400
    assert pa_call(sandbox, {"products": [{"quantityRequested": "1"}]}).status_code == 400


def test_unreachable_api_leaves_keys_for_the_next_sync(tmp_path) -> None:
    db = tmp_path / "catalog.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)  # the discard port: nothing listens
    assert cli.run("products", "add", "--vpn", "E2016HV").code == 0
    result = cli.sync("--timeout", "2")
    assert result.code == 1 and "Traceback" not in result.err, result
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT status FROM product_keys").fetchall() == [("unresolved",)]


def test_key_columns_go_by_their_usual_names() -> None:
    text = "SKU,MPN,UPC\n,e2016hv,\n6ye881,,0884116186519\n,,\n9Z,,12ab\n"
    result = read_part_numbers(io.BytesIO(text.encode()), "shop.csv")
    assert result.keys == [
        ProductKey("vendorPartNumber", "E2016HV"),
        ProductKey("upc", "0884116186519", "6YE881"),
    ]
    assert result.part_numbers == []
    assert [(line, reason) for line, _, reason in result.rejected] == [
        (4, "no part number or key"),
        (5, "a UPC is 6 to 14 digits"),
    ]
