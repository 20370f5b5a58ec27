"""Each shop's import columns, in its own names, and the fields a custom target can use.

Sources (cited in docs/shop.md; the tests pin the same names):

- WooCommerce: the built-in product CSV exporter's column names
  (``WC_Product_CSV_Exporter::get_default_column_names``), which its importer
  maps automatically; ``Published`` is 1 (published) or -1 (draft), ``In stock?``
  1 or 0. Rows are matched on ``SKU`` with "Update existing products".
- Shopify: the product CSV template's current column names (help page "Using CSV
  files to import and export products"); ``Status`` active or draft. The inventory
  CSV (help page "Exporting or importing inventory with a CSV file"): all 19
  columns of its template, one row per product at the configured location, the
  quantity in ``On hand (new)``.
- Magento 2 (Adobe Commerce): the standard ``catalog_product`` import columns
  (the admin's sample file); ``product_online`` 1 enabled or 2 disabled,
  ``is_in_stock`` 1 or 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from ingram.output.exports import safe_cell
from ingram.publish.pricing import Published
from ingram.state.products import EXPORT_COLUMNS


class ShopRow(NamedTuple):
    """One product as a shop file gets it."""

    sku: str
    product: Mapping[str, Any]  # the products row (see ``PRODUCT_FIELDS``)
    price: Decimal
    price_text: str
    stock: int
    listed: bool  # False: unpublished, draft or disabled
    published: Published
    changed: bool  # differs from what the target last published of it


Render = Callable[[ShopRow], object]


class BuiltinTarget(StrEnum):
    WOOCOMMERCE = "woocommerce"
    SHOPIFY = "shopify"
    SHOPIFY_INVENTORY = "shopify-inventory"
    MAGENTO = "magento"


@dataclass(frozen=True)
class Target:
    """A shop file: its name (the publish state's key), its columns, and the products
    columns they read (an export selects no more: fetching is a third of its time)."""

    name: str
    columns: tuple[tuple[str, Render], ...]
    fields: tuple[str, ...] = ("description",)

    @property
    def header(self) -> list[str]:
        return [name for name, _ in self.columns]


# products columns a custom target may name: every column of ``export``, as stored
# (money as decimal text, flags 1/0)
PRODUCT_FIELDS = EXPORT_COLUMNS
HANDLE_CHARACTERS = re.compile(r"[^a-z0-9]+")


def handle(row: ShopRow) -> str:
    """Shopify's URL handle, made from the SKU so that it never changes (letters, digits
    and dashes only: never a formula)."""
    return HANDLE_CHARACTERS.sub("-", row.sku.lower()).strip("-")


def constant(value: object) -> Render:
    return lambda row: value


def product_field(name: str) -> Render:
    """A products column as stored; vendor text neutralised for spreadsheets."""
    return lambda row: safe_cell(row.product[name])


def cost(row: ShopRow) -> object:
    return row.published.cost if row.published.cost is not None else ""


def margin(row: ShopRow) -> object:
    return row.published.margin if row.published.margin is not None else ""


# computed fields of a custom target; the rest of FIELDS are the products columns
COMPUTED: dict[str, Render] = {
    "sku": lambda row: safe_cell(row.sku),
    "price": lambda row: row.price_text,
    "cost": cost,
    "margin": margin,
    "stock": lambda row: row.stock,
    "in_stock": lambda row: int(row.stock > 0),
    "published": lambda row: int(row.listed),
}
FIELDS: dict[str, Render] = {**COMPUTED, **{name: product_field(name) for name in PRODUCT_FIELDS}}

description = product_field("description")
SHOPIFY_INVENTORY_COLUMNS = (
    "Handle",
    "Title",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "SKU",
    "HS Code",
    "COO",
    "Location",
    "Bin name",
    "Incoming (not editable)",
    "Unavailable (not editable)",
    "Committed (not editable)",
    "Available (not editable)",
    "On hand (current)",
    "On hand (new)",
)


WOOCOMMERCE_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("SKU", FIELDS["sku"]),
    ("Name", description),
    ("Published", lambda row: 1 if row.listed else -1),
    ("In stock?", FIELDS["in_stock"]),
    ("Stock", FIELDS["stock"]),
    ("Regular price", FIELDS["price"]),
)
SHOPIFY_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("Title", description),
    ("URL handle", handle),
    ("Vendor", product_field("vendor_name")),
    ("Published on online store", lambda row: "TRUE" if row.listed else "FALSE"),
    ("Status", lambda row: "active" if row.listed else "draft"),
    ("SKU", FIELDS["sku"]),
    ("Barcode", product_field("upc")),
    ("Option1 name", constant("Title")),
    ("Option1 value", constant("Default Title")),
    ("Price", FIELDS["price"]),
    ("Cost per item", cost),
    ("Inventory tracker", constant("shopify")),
    ("Inventory quantity", FIELDS["stock"]),
)
MAGENTO_COLUMNS: tuple[tuple[str, Render], ...] = (
    ("sku", FIELDS["sku"]),
    ("attribute_set_code", constant("Default")),
    ("product_type", constant("simple")),
    ("product_websites", constant("base")),
    ("name", description),
    ("product_online", lambda row: 1 if row.listed else 2),
    ("price", FIELDS["price"]),
    ("qty", FIELDS["stock"]),
    ("is_in_stock", FIELDS["in_stock"]),
)


def builtin_target(kind: BuiltinTarget, location: str) -> Target:
    """The columns of a built-in target (``location``: Shopify's inventory location)."""
    if kind is BuiltinTarget.SHOPIFY:
        return Target(kind.value, SHOPIFY_COLUMNS, ("description", "vendor_name", "upc"))
    if kind is BuiltinTarget.SHOPIFY_INVENTORY:
        filled: dict[str, Render] = {
            "Handle": handle,
            "Title": description,
            "Option1 Name": constant("Title"),
            "Option1 Value": constant("Default Title"),
            "SKU": FIELDS["sku"],
            "Location": constant(location),
            "On hand (new)": FIELDS["stock"],
        }
        columns = tuple(
            (name, filled.get(name, constant(""))) for name in SHOPIFY_INVENTORY_COLUMNS
        )
        return Target(kind.value, columns)
    if kind is BuiltinTarget.WOOCOMMERCE:
        return Target(kind.value, WOOCOMMERCE_COLUMNS)
    return Target(kind.value, MAGENTO_COLUMNS)


def custom_target(name: str, mapping: tuple[tuple[str, str], ...]) -> Target:
    """A ``[targets.NAME]`` of ``"Column" = "field"`` pairs."""
    fields = tuple(dict.fromkeys(field for _, field in mapping if field in PRODUCT_FIELDS))
    return Target(name, tuple((column, FIELDS[field]) for column, field in mapping), fields)
