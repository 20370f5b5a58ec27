"""One sync run, split by who owns which state.

- ``run``: the one prologue of ``sync`` and ``retry-failed`` (lock, signals,
  plan, execute, retention) and the loop that ties the parts together.
- ``plan``: which part numbers a run asks for (tasks rows), keys resolved first.
- ``streams``: one ``Stream`` per kind of work (P&A, details): its pool, its
  bound of calls in flight, its cursor over the tasks table, its fetcher.
- ``writer``: the single writer: results held and committed in groups.
- ``outcome``: what the run's errors mean for it (``ingram.policy`` decides),
  its final status and exit code.
- ``options``, ``signals``: what a run is asked to do; Ctrl-C and SIGTERM.

Worker threads only call the client; the thread that calls ``run_sync`` alone
writes SQLite. May import ``api``, ``state``, ``models``, ``errors``,
``policy``, ``vocab``, ``clock``; never ``cli`` or ``output``.

Example::

    summary = run_sync(store, client, SyncOptions(), NoProgress())
"""

from ingram.sync.options import NoProgress, Progress, RunSummary, SyncOptions, WriterTiming
from ingram.sync.run import run_retry_failed, run_sync

__all__ = [
    "NoProgress",
    "Progress",
    "RunSummary",
    "SyncOptions",
    "WriterTiming",
    "run_retry_failed",
    "run_sync",
]
