"""What a sync would do, counted without doing it: P&A calls, details due, the floor time.

Used by ``sync --dry-run`` (nothing fetched, nothing written) and by the
progress bars, which need the details total before the first batch lands.

Example::

    plan = work_plan(store, DetailsPolicy(), batch_size=50)
    plan.floor_seconds(pa_rate=60, details_interval=1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingram.state.products import details_cutoff, tracked_part_numbers
from ingram.state.saving import DetailsPolicy
from ingram.state.store import TASK_CHUNK, Store, batched


@dataclass(frozen=True)
class WorkPlan:
    products: int
    batch_size: int
    pa_calls: int
    details_due: int

    def pa_floor(self, pa_rate: float) -> float:
        """Seconds the P&A limit alone makes the calls last (the first call goes at once)."""
        return max(0, self.pa_calls - 1) * 60.0 / pa_rate

    def details_floor(self, details_interval: float) -> float:
        return max(0, self.details_due - 1) * details_interval

    def floor_seconds(self, pa_rate: float, details_interval: float) -> float:
        """The shortest run the limits allow: details overlap P&A, so the slower stream."""
        return max(self.pa_floor(pa_rate), self.details_floor(details_interval))


def details_due_condition(policy: DetailsPolicy) -> tuple[str, list[str]]:
    """SQL over ``products`` for a product that will get a details call if P&A finds it."""
    if policy.refresh:
        return "status != 'not_found'", []
    return (
        "status != 'not_found' AND (details_synced_at IS NULL OR details_synced_at < ?)",
        [details_cutoff(policy.max_age)],
    )


def count_products(store: Store, where: str = "1", params: Sequence[str] = ()) -> int:
    return store.db.execute(f"SELECT COUNT(*) FROM products WHERE {where}", params).fetchone()[0]


def work_plan(
    store: Store, policy: DetailsPolicy, batch_size: int, skus: Sequence[str] = ()
) -> WorkPlan:
    """The calls a sync of every tracked product (or of ``skus``) would make, at most."""
    due_sql, params = details_due_condition(policy)
    if skus:
        products = len(set(skus))
        tracked = set(tracked_part_numbers(store, list(set(skus))))
        due = products - len(tracked)  # untracked part numbers have no details yet
        for chunk in batched(sorted(tracked), TASK_CHUNK):
            where = f"{due_sql} AND ingram_part_number IN ({','.join('?' * len(chunk))})"
            due += count_products(store, where, [*params, *chunk])
    else:
        products = count_products(store)
        due = count_products(store, due_sql, params)
    pa_calls = -(-products // batch_size)
    return WorkPlan(products, batch_size, pa_calls, due if policy.enabled else 0)
