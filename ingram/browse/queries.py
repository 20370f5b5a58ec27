"""The canned queries and the sync-health dashboard of ``browse``: SQL over the catalog.

The charts are Vega-Lite specs drawn by datasette-dashboards (it bundles Vega, so nothing is
fetched from a CDN), rendered as SVG so their words are in the page.

Example: ``CANNED_QUERIES["out_of_stock"]["sql"]``
"""

from __future__ import annotations

from typing import Any

WEEK_AGO = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')"
# A run's floor: the time the rate limits alone allow it (P&A calls at pa_rate, details at
# details_interval; they overlap, so the slower one), from the options it recorded.
TOOK = "(julianday(finished_at) - julianday(started_at)) * 86400"
# (The first call of each goes at once, as ``state.planning.WorkPlan`` counts it.)
FLOOR = (
    "MAX(0, COALESCE((pa_batches - 1) * 60.0 / NULLIF(CAST(REPLACE(json_extract(options,"
    " '$.pa_rate'), '/min', '') AS REAL), 0), 0), COALESCE((details_total - 1)"
    " * CAST(RTRIM(json_extract(options, '$.details_interval'), 's') AS REAL), 0))"
)

CANNED_QUERIES: dict[str, dict[str, Any]] = {
    "out_of_stock": {
        "title": "Out of stock",
        "description": "Active products no warehouse has, with when backordered stock is due.",
        "sql": "SELECT ingram_part_number, vendor_name, description, backorder_eta,"
        " pa_synced_at FROM products WHERE status = 'active' AND total_availability = 0"
        " ORDER BY backorder_eta IS NULL, backorder_eta, ingram_part_number",
    },
    "price_moves_this_week": {
        "title": "Price moves this week",
        "description": "Your price of each product that moved in the last 7 days, newest first.",
        "sql": "SELECT c.changed_at, c.ingram_part_number, p.description,"
        " c.old_value AS old_price, c.new_value AS new_price, p.currency,"
        " ROUND((CAST(c.new_value AS REAL) - CAST(c.old_value AS REAL)) * 100.0"
        " / NULLIF(CAST(c.old_value AS REAL), 0), 1) AS change_percent, c.source"
        " FROM changes c LEFT JOIN products p USING (ingram_part_number)"
        f" WHERE c.field = 'customer_price' AND c.changed_at >= {WEEK_AGO} ORDER BY c.id DESC",
    },
    "stale_details": {
        "title": "Stale details",
        "description": "Active products whose details are missing or older than 7 days: the"
        " next sync fetches them.",
        "sql": "SELECT ingram_part_number, vendor_name, description, details_status,"
        " details_synced_at FROM products WHERE status = 'active' AND (details_synced_at IS NULL"
        f" OR details_synced_at < {WEEK_AGO}) ORDER BY details_synced_at IS NOT NULL,"
        " details_synced_at, ingram_part_number",
    },
    "open_failures": {
        "title": "Open failures",
        "description": "Items whose retries were spent, not yet resolved: `ingram-sync"
        " retry-failed --all` retries them.",
        "sql": "SELECT id, run_id, kind, ingram_part_number, error_kind, http_status, attempts,"
        " failed_at, error FROM failures WHERE resolved_at IS NULL ORDER BY id DESC",
    },
    "discontinued": {
        "title": "Discontinued products",
        "description": "Products the vendor discontinued: look for their replacements (the"
        " vendor part number is what a catalog search takes).",
        "sql": "SELECT ingram_part_number, vendor_name, vendor_part_number, description,"
        " total_availability, details_synced_at FROM products WHERE discontinued = 1"
        " ORDER BY vendor_name, ingram_part_number",
    },
    "runs_against_their_floor": {
        "title": "Runs against their floor",
        "description": "How long each finished run took, and the least its rate limits allow"
        " (P&A and details overlap): a run far above its floor met retries, 429s or a slow API.",
        "sql": f"SELECT id, kind, status, started_at, ROUND({TOOK}, 1) AS took_seconds,"
        f" ROUND({FLOOR}, 1) AS floor_seconds, products, retries, rate_limited, failures"
        " FROM runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 200",
    },
}


def vega_lite(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart's display: ``spec`` drawn as SVG (its words are in the page, for people and
    tests alike)."""
    return {**spec, "usermeta": {"embedOptions": {"renderer": "svg", "actions": False}}}


Axis = tuple[str, str]  # a query's column, and its title on the chart


def bar_chart(db: str, title: str, sql: str, x: Axis, y: Axis, color: Axis) -> dict[str, Any]:
    """Bars of ``y`` by ``x``, stacked by ``color``."""
    encoding = {
        "x": {"field": x[0], "type": "nominal", "title": x[1]},
        "y": {"field": y[0], "type": "quantitative", "title": y[1]},
        "color": {"field": color[0], "type": "nominal", "title": color[1]},
    }
    display = vega_lite({"mark": "bar", "encoding": encoding})
    return {"title": title, "db": db, "query": sql, "library": "vega-lite", "display": display}


def metric(db: str, title: str, sql: str, suffix: str = "") -> dict[str, Any]:
    return {"title": title, "db": db, "query": sql, "library": "metric",
            "display": {"field": "value", "prefix": "", "suffix": suffix}}  # fmt: skip


def dashboards(db: str) -> dict[str, Any]:
    """The sync-health dashboard: counts, run durations against their floor, failures by
    kind, and price moves by day."""
    return {
        "sync-health": {
            "title": "Sync health",
            "description": "Are the syncs healthy? Run durations against the floor the rate"
            " limits set, what is failing, and how prices move.",
            "layout": [
                ["tracked", "out-of-stock", "open-failures"],
                ["run-durations", "run-durations", "run-durations"],
                ["failures-by-kind", "price-moves", "price-moves"],
            ],
            "charts": charts(db),
        }
    }


def charts(db: str) -> dict[str, Any]:
    """The dashboard's charts, by slug."""
    return {
        "tracked": metric(db, "Tracked products", "SELECT COUNT(*) AS value FROM products"),
        "out-of-stock": metric(
            db,
            "Out of stock",
            "SELECT COUNT(*) AS value FROM products"
            " WHERE status = 'active' AND total_availability = 0",
        ),
        "open-failures": metric(
            db, "Open failures", "SELECT COUNT(*) AS value FROM failures WHERE resolved_at IS NULL"
        ),
        "run-durations": {
            "title": "Run durations against their floor",
            "db": db,
            "query": f"SELECT id AS run, ROUND({TOOK}, 1) AS took, ROUND({FLOOR}, 1) AS floor"
            " FROM runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 100",
            "library": "vega-lite",
            "display": vega_lite(
                {
                    "transform": [{"fold": ["took", "floor"], "as": ["measure", "seconds"]}],
                    "mark": {"type": "line", "point": True},
                    "encoding": {
                        "x": {"field": "run", "type": "ordinal", "title": "run"},
                        "y": {"field": "seconds", "type": "quantitative", "title": "seconds"},
                        "color": {"field": "measure", "type": "nominal", "title": "took vs floor"},
                    },
                }
            ),
        },
        "failures-by-kind": bar_chart(
            db,
            "Open failures by kind",
            "SELECT error_kind, kind AS stream, COUNT(*) AS failures FROM failures"
            " WHERE resolved_at IS NULL GROUP BY error_kind, kind",
            ("error_kind", "error kind"),
            ("failures", "failures"),
            ("stream", "stream"),
        ),
        "price-moves": bar_chart(
            db,
            "Price moves by day",
            "SELECT substr(changed_at, 1, 10) AS day, CASE WHEN CAST(new_value AS REAL)"
            " > CAST(old_value AS REAL) THEN 'up' ELSE 'down' END AS direction, COUNT(*) AS moves"
            " FROM changes WHERE field = 'customer_price' AND old_value IS NOT NULL"
            " GROUP BY day, direction ORDER BY day",
            ("day", "day"),
            ("moves", "price moves"),
            ("direction", "direction"),
        ),
    }
