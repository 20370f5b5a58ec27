"""Issue 19 §3 and §11: an odd extra field costs its flag or its discount line, never the item's
price and stock; a negative stock count is unknown.

Before, ``"productAuthorized": "boolean"`` (the spec's own example), a quantity break
``"amount": "decimal"`` or a negative ``specialPricingDiscount`` turned a priced,
stocked product into a failure row.
"""

from __future__ import annotations

import sqlite3

from support.client_support import Reply


def discount_rows(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, amount FROM product_discounts").fetchall()


def test_placeholder_flags_and_discounts_cost_only_themselves(sandbox_factory, make_cli):
    server = sandbox_factory(placeholder_extras=True, negative_special_pricing=True)
    cli = make_cli(server)
    pns = server.catalog.part_numbers(30)
    assert cli.run("products", "add", *pns).code == 0
    result = cli.sync("--no-details")
    assert result.code == 0, result
    exported = cli.export()
    for pn in pns:
        row = exported[pn]
        assert row["status"] == "active" and row["customer_price"] is not None, row
        assert row["total_availability"] is not None
    kinds = {kind for kind, _ in discount_rows(cli.db)}
    assert not kinds & {"quantity_break", "special_pricing"}, kinds  # the odd lines, dropped
    assert all(amount is None or float(amount) >= 0 for _, amount in discount_rows(cli.db))
    for field in ("productAuthorized", "bundlePartIndicator", "quantityDiscounts line"):
        said = [line for line in result.err.splitlines() if field in line]
        assert len(said) == 1, (field, result.err)  # once a run, not once an item
    assert "specialPricing line" in result.err


def test_a_negative_stock_count_is_unknown_not_a_failure(stub, make_cli):
    def answer(seen):
        item = {
            "ingramPartNumber": "NEG1",
            "pricing": {"customerPrice": 10.5, "currencyCode": "USD"},
            "availability": {
                "available": True,
                "totalAvailability": -5,
                "availabilityByWarehouse": [
                    {"warehouseId": "10", "quantityAvailable": -3},
                    {"warehouseId": "20", "quantityAvailable": 7},
                ],
            },
        }
        return Reply(200, [item])

    cli = make_cli(stub(answer))
    assert cli.run("products", "add", "NEG1").code == 0
    result = cli.sync("--no-details")
    assert result.code == 0, result
    row = cli.export()["NEG1"]
    assert row["customer_price"] == 10.5 and row["total_availability"] is None, row
    with sqlite3.connect(cli.db) as conn:
        stock = dict(
            conn.execute("SELECT warehouse_id, quantity_available FROM product_warehouses")
        )
    assert stock == {"10": None, "20": 7}
    assert "totalAvailability, quantityAvailable" in result.err
