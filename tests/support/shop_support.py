"""What the shop-export tests share: each shop's documented columns (pinned, with their
sources), an independent computation of the price rules, and the sandbox's own facts.

The computation here uses ``fractions.Fraction`` and none of ``ingram.publish``: a
mistake in the package's Decimal steps cannot hide in the expectation.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

# WooCommerce's product CSV exporter, column names as it writes them: woocommerce/woocommerce,
# plugins/woocommerce/includes/export/class-wc-product-csv-exporter.php,
# WC_Product_CSV_Exporter::get_default_column_names() (weight and size units vary by shop).
WOOCOMMERCE_EXPORTER = (
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?",
    "Visibility in catalog", "Short description", "Description", "Date sale price starts",
    "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock", "Low stock amount",
    "Backorders allowed?", "Sold individually?", "Weight (kg)", "Length (cm)", "Width (cm)",
    "Height (cm)", "Allow customer reviews?", "Purchase note", "Sale price", "Regular price",
    "Categories", "Tags", "Shipping class", "Images", "Download limit", "Download expiry days",
    "Parent", "Grouped products", "Upsells", "Cross-sells", "External URL", "Button text",
    "Position",
)  # fmt: skip
# Shopify's current product CSV template (help.shopify.com, "Using CSV files to import and
# export products", its sample product_template.csv), up to the metafield columns.
SHOPIFY_PRODUCT_TEMPLATE = (
    "Title", "URL handle", "Description", "Vendor", "Product category", "Type", "Tags",
    "Published on online store", "Status", "SKU", "Barcode", "Option1 name", "Option1 value",
    "Option1 Linked To", "Option2 name", "Option2 value", "Option2 Linked To", "Option3 name",
    "Option3 value", "Option3 Linked To", "Price", "Compare-at price", "Cost per item",
    "Charge tax", "Tax code", "Unit price total measure", "Unit price total measure unit",
    "Unit price base measure", "Unit price base measure unit", "Inventory tracker",
    "Inventory quantity", "Continue selling when out of stock", "Weight value (grams)",
    "Weight unit for display", "Requires shipping", "Fulfillment service", "Product image URL",
    "Image position", "Image alt text", "Variant image URL", "Gift card", "SEO title",
    "SEO description",
)  # fmt: skip
# Shopify's inventory CSV (help.shopify.com, "Exporting or importing inventory with a CSV
# file"): the 19 columns of its export, which its import takes back.
SHOPIFY_INVENTORY_TEMPLATE = (
    "Handle", "Title", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Option3 Name", "Option3 Value", "SKU", "HS Code", "COO", "Location", "Bin name",
    "Incoming (not editable)", "Unavailable (not editable)", "Committed (not editable)",
    "Available (not editable)", "On hand (current)", "On hand (new)",
)  # fmt: skip
# Magento 2's catalog_product import, the admin's sample file, header row in full:
# magento/magento2, app/code/Magento/ImportExport/Files/Sample/catalog_product.csv
# (Adobe's "Product attributes" reference: product_online 1 enabled, 2 disabled).
MAGENTO_SAMPLE = (
    "sku", "store_view_code", "attribute_set_code", "product_type", "categories",
    "product_websites", "name", "description", "short_description", "weight", "product_online",
    "tax_class_name", "visibility", "price", "special_price", "special_price_from_date",
    "special_price_to_date", "url_key", "save_rewrites_history", "meta_title", "meta_keywords",
    "meta_description", "created_at", "updated_at", "new_from_date", "new_to_date",
    "display_product_options_in", "map_price", "msrp_price", "map_enabled",
    "gift_message_available", "custom_design", "custom_design_from", "custom_design_to",
    "custom_layout_update", "page_layout", "product_options_container",
    "msrp_display_actual_price_type", "country_of_manufacture", "additional_attributes", "qty",
    "out_of_stock_qty", "use_config_min_qty", "is_qty_decimal", "allow_backorders",
    "use_config_backorders", "min_cart_qty", "use_config_min_sale_qty", "max_cart_qty",
    "use_config_max_sale_qty", "is_in_stock", "notify_on_stock_below",
    "use_config_notify_stock_qty", "manage_stock", "use_config_manage_stock",
    "use_config_qty_increments", "qty_increments", "use_config_enable_qty_inc",
    "enable_qty_increments", "is_decimal_divided", "website_id", "deferred_stock_update",
    "use_config_deferred_stock_update", "related_skus", "crosssell_skus", "upsell_skus",
    "hide_from_product_page", "custom_options", "bundle_price_type", "bundle_sku_type",
    "bundle_price_view", "bundle_weight_type", "bundle_values", "associated_skus",
)  # fmt: skip


def ordered_subset(columns: list[str], template: tuple[str, ...]) -> bool:
    """Every column is the template's, in the template's order."""
    positions = [template.index(name) for name in columns if name in template]
    return len(positions) == len(columns) and positions == sorted(positions)


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def cents_up(value: Fraction) -> Fraction:
    return Fraction(math.ceil(value * 100), 100)


@dataclass(frozen=True)
class Rule:
    """One rule as the tests write it into the config."""

    markup: str | None = None
    margin: str | None = None
    ending: str | None = "0.99"
    cap_at_retail: bool = True
    map_floor: bool = True
    min_margin: str = "10"


def expected_price(cost: str, retail: str | None, map_price: str | None, rule: Rule) -> Fraction:
    """The rule's price for a cost, step by step in the documented order, in fractions."""
    c = Fraction(cost)
    if rule.margin is not None:
        price = cents_up(c / (1 - Fraction(rule.margin) / 100))
    else:
        price = cents_up(c * (1 + Fraction(rule.markup or "0") / 100))
    if rule.ending is not None:
        ending = Fraction(rule.ending)
        period = 1 if ending < 1 else 10 ** len(str(int(ending)))
        ended = price // period * period + ending
        price = ended if ended >= price else ended + period
    if rule.cap_at_retail and retail is not None and Fraction(retail) > 0:
        price = min(price, Fraction(retail))
    if rule.map_floor and map_price is not None and Fraction(map_price) > 0:
        price = max(price, Fraction(map_price))
    return price


def below_margin(price: Fraction, cost: str, rule: Rule) -> bool:
    return (price - Fraction(cost)) / price * 100 < Fraction(rule.min_margin)


def expected_stock(total: int, buffer: int, min_stock: int) -> int:
    left = max(0, total - buffer)
    return 0 if left < min_stock else left


def sandbox_facts(catalog: Any, pn: str) -> dict[str, Any]:
    """What the sandbox serves of ``pn``: P&A prices and stock, details' vendor, category,
    discontinued flag (None without a details document)."""
    item = catalog.price_availability_item(pn)
    pricing = item.get("pricing") or item["availability"]["pricing"]
    document = catalog.details_document(pn)
    return {
        "authorized": item["productAuthorized"],
        "vendor": item["vendorName"],
        "cost": str(pricing["customerPrice"]),
        "retail": str(pricing["retailPrice"]),
        "map": str(pricing["mapPrice"]),
        "stock": item["availability"]["totalAvailability"],
        "category": None if document is None else document["productCategory"],
        "discontinued": None
        if document is None
        else document["indicators"]["isDiscontinuedProduct"],
    }


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
