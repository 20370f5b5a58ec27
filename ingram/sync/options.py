"""What one run is asked to do (``SyncOptions``), what it tells (``Progress``), what it ends
with (``RunSummary``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingram.models import Waiting
from ingram.state.saving import DetailsPolicy
from ingram.vocab import ErrorKind, ExitStatus, RunStatus


@dataclass(frozen=True)
class WriterTiming:
    """When the writer commits what it holds (``writer.HeldResults``).

    Each commit rewrites a page of every table it touches, so results wait for
    company. Details wait for a group of ``details_group`` at least
    ``details_age`` old (``details_hold`` at most: at the vendor's one a second,
    a group takes 50 s); P&A results wait ``commit_every``, or, while details are
    being fetched, for a group of ``pa_group`` (``pa_hold`` at most, at the
    vendor's 50 products a second). Never more than ``ready_max`` products are
    held. The client's counters reach the run row every ``stats_every`` at least.
    """

    commit_every: float = 1.0
    details_group: int = 50
    details_age: float = 5.0
    details_hold: float = 60.0
    pa_group: int = 250
    pa_hold: float = 5.0
    ready_max: int = 500
    stats_every: float = 0.5

    def scaled(self, factor: float) -> WriterTiming:
        """Every duration times ``factor`` (a benchmark compressing the vendor's pace)."""
        return WriterTiming(
            self.commit_every * factor,
            self.details_group,
            self.details_age * factor,
            self.details_hold * factor,
            self.pa_group,
            self.pa_hold * factor,
            self.ready_max,
            self.stats_every * factor,
        )


@dataclass(frozen=True)
class SyncOptions:
    """What one sync does; the CLI builds it from options, environment and config."""

    batch_size: int = 50
    max_concurrent: int = 5
    details_workers: int = 1  # 0: auto, sized from the measured details latency
    details: DetailsPolicy = field(default_factory=DetailsPolicy)
    skus: tuple[str, ...] = ()
    min_interval: float = 0.0
    force: bool = False
    grace_period: float = 3.0
    profile: str | None = None  # recorded with the run, so runs and monitor can name it
    # The client's settings as the user typed them ("60/min", "30,60,120"), for ``runs show``.
    client_options: tuple[tuple[str, str], ...] = ()
    keep_days: float = 90.0  # history pruned after each run; 0 keeps everything
    timing: WriterTiming = field(default_factory=WriterTiming)
    # A sync waits this long for another program's write lock (results kept in hand).
    busy_wait: float = 3600.0


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None
    status: RunStatus
    exit_status: ExitStatus
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    calls_left_running: int = 0
    stopped_by: ErrorKind | None = None  # the kind of the error that stopped the run early
    failed: dict[str, int] = field(default_factory=dict)  # failed items per kind


class Progress(Protocol):
    """What the sync tells whoever shows progress (tqdm bars, log lines, nothing).

    ``waiting``: the retry waits under way, told again when they change (none: over).
    """

    def start(self, pa_total: int, details_total: int) -> None: ...
    def pa_advance(self, products: int) -> None: ...
    def details_total(self, total: int) -> None: ...
    def details_advance(self, count: int) -> None: ...
    def waiting(self, waits: Sequence[Waiting]) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, pa_total: int, details_total: int) -> None: ...
    def pa_advance(self, products: int) -> None: ...
    def details_total(self, total: int) -> None: ...
    def details_advance(self, count: int) -> None: ...
    def waiting(self, waits: Sequence[Waiting]) -> None: ...
    def close(self) -> None: ...
