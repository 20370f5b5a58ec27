"""Migration 17: the mirror watches the columns migrations 11 and 13 added (shipped
migrations are history: never edit one)."""

from __future__ import annotations

import sqlite3

from ingram.state.migrations.m012_change_versions import BUMP
from ingram.state.migrations.m012_change_versions import WATCHED_COLUMNS as WATCHED_BEFORE
from ingram.state.migrations.registry import migration

# Since when a product is gone and what replaces it (11), where its price and stock came
# from (13). When they came (``price_as_of``, ``stock_as_of``) move with every sync, like
# ``pa_synced_at``: not watched, or every routine sync would rewrite every mirrored row.
WATCHED_COLUMNS = (
    *WATCHED_BEFORE,
    "discontinued_since",
    "replacement_part_number",
    "price_source",
    "stock_source",
)


@migration(17)
def mirror_watches_sources(db: sqlite3.Connection) -> None:
    """``products_changed`` made again over every mirrored column."""
    db.execute("DROP TRIGGER products_changed")
    changed = " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in WATCHED_COLUMNS)
    db.execute(
        f"CREATE TRIGGER products_changed AFTER UPDATE OF {', '.join(WATCHED_COLUMNS)}"
        f" ON products WHEN {changed} BEGIN {BUMP.format(seq='NEW.seq')} END"
    )
