"""Parts of a details document: indicators, the spec table, sizes and Cisco's fields.

Drawn from the product's own seeded stream (``Catalog.details_document`` passes it)
in the order they always were, so a catalog serves the same documents as before.
"""

from __future__ import annotations

from typing import Any

from .seeded import Draws
from .vocabulary import INDICATOR_FLAGS, SPEC_VALUES


def cisco_fields(vendor_name: str, subcategory: str) -> dict[str, str]:
    """An object, as the schema says (the spec's example sends null): filled for Cisco."""
    if vendor_name != "CISCO":
        return {}
    return {"productSubGroup": subcategory, "itemType": "Product", "globalListPrice": "0"}


def indicators(rng: Draws, discontinued: bool) -> dict[str, Any]:
    """Vendor flag block; real booleans here, unlike ``productAuthorized``."""
    out: dict[str, Any] = {name: rng.random() < 0.2 for name in INDICATOR_FLAGS}
    out["isDiscontinuedProduct"] = discontinued
    out["replacementType"] = None
    out["skuType"] = "M"
    return out


def tech_specs(rng: Draws, vendor_name: str, vendor_part_number: str) -> list[dict[str, str]]:
    rows = [("Basic", "Brand Name", vendor_name.title())]
    for name, values in rng.sample(SPEC_VALUES, rng.randint(2, len(SPEC_VALUES))):
        rows.append(("General Information", name, rng.choice(values)))
    rows.append(("General Information", "Manufacturer Part Number", vendor_part_number))
    return [
        {
            "headername": header,
            "attributename": name,
            "attributevalue": value,
            "attributedisplay": f"{header}|{name}|{value}",
        }
        for header, name, value in rows
    ]


def additional_information(rng: Draws) -> dict[str, Any]:
    weight = round(rng.uniform(0.1, 40.0), 2)
    return {
        "productWeight": [{"plantId": "NL01", "weight": weight, "weightUnit": "KG"}],
        "isBulkFreight": weight > 30,
        "height": str(rng.randint(2, 80)),
        "width": str(rng.randint(5, 90)),
        "length": str(rng.randint(5, 120)),
        "netWeight": None if rng.random() < 0.5 else str(round(weight * 0.9, 2)),
        "dimensionUnit": "CM",
    }
