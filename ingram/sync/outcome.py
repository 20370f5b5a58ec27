"""What a run's errors mean for it, as ``ingram.policy`` says: the one judge of a sync.

``RunOutcome.judge`` turns an item's error into what the writer does with it
(fail the item, stop the details stream, stop or interrupt the run, try the
task again later). It keeps what that needs: the errors no item caused met in a
row, whether the details stream has had a real answer yet (before one, a
refusal stops the stream rather than failing each product), and the error that
ended the run, from which ``final_status`` and ``exit_status`` follow.
"""

from __future__ import annotations

from ingram.errors import ApiError
from ingram.models import ProductDetails, Record
from ingram.policy import Outcome
from ingram.sync.signals import StopSwitch
from ingram.sync.streams import InFlight
from ingram.vocab import ExitStatus, RunStatus, StreamKind

BARE_DETAILS_LIMIT = 20  # this many bodiless "no records" first: the URL is likely wrong

# The exit code of a run by its status, when no error ended it.
RUN_EXIT = {
    RunStatus.COMPLETED: ExitStatus.OK,
    RunStatus.SKIPPED: ExitStatus.OK,
    RunStatus.COMPLETED_WITH_FAILURES: ExitStatus.ITEMS_FAILED,
    RunStatus.INTERRUPTED: ExitStatus.INTERRUPTED,
    RunStatus.FAILED: ExitStatus.ITEMS_FAILED,
}


class InARow:
    """The same error met call after call: whether it now ends the run (``repeats`` in a row)."""

    def __init__(self) -> None:
        self.last: tuple[str, int] = ("", 0)  # the last such error's words, times in a row

    def ends_run(self, error: ApiError) -> bool:
        """Count ``error``; True when it ends the run (met its policy's ``repeats`` in a row)."""
        times = self.last[1] + 1 if str(error) == self.last[0] else 1
        self.last = (str(error), times)
        return error.resolution.then.ends_run and times >= error.resolution.repeats

    def reset(self) -> None:
        """A call succeeded: nothing is in a row any more."""
        self.last = ("", 0)


class RunOutcome:
    """The judge of one run's errors, and what they leave it with."""

    def __init__(self, stop: StopSwitch) -> None:
        self.stop = stop
        self.stopped_by: dict[Outcome, ApiError] = {}  # the first error of each ending kind
        self.in_a_row = InARow()  # errors no item caused
        self.details_answered = False  # a details document or the vendor's own 404 came back
        self.bare_details: list[str] = []  # bodiless "no records" before any real answer

    def judge(self, item: InFlight, error: ApiError) -> Outcome | None:
        """What ``error`` on ``item`` does; None: the task is tried again later."""
        resolution = error.resolution
        if resolution.then in (Outcome.STOP_RUN, Outcome.INTERRUPT_RUN):
            if not self.in_a_row.ends_run(error):
                return None
            self.stopped_by.setdefault(resolution.then, error)
            self.stop(signalled=False)
            return resolution.then
        if item.kind is StreamKind.DETAILS and not self.details_answered:
            return resolution.on_probation or resolution.then
        return resolution.then

    def answered(self) -> None:
        """A call succeeded: errors no item caused are no longer in a row."""
        self.in_a_row.reset()

    def bare_details_stop(self, details: ProductDetails) -> list[str]:
        """A wrong base URL also answers bodiless 404s: the part numbers of the first 20 in a
        row, when they stop the details stream (else none)."""
        if self.details_answered:
            return []
        if not details.bare:
            self.details_answered = True
            return []
        self.bare_details.append(details.ingram_part_number)
        return self.bare_details if len(self.bare_details) >= BARE_DETAILS_LIMIT else []

    @property
    def ending(self) -> ApiError | None:
        """The error that ended the run: one that stops it before one that interrupts it."""
        return self.stopped_by.get(Outcome.STOP_RUN) or self.stopped_by.get(Outcome.INTERRUPT_RUN)

    def final_status(self, run: Record, signalled: bool) -> tuple[RunStatus, str | None]:
        """The run's status and the error to record with it."""
        if Outcome.STOP_RUN in self.stopped_by:
            return RunStatus.FAILED, str(self.stopped_by[Outcome.STOP_RUN])
        if Outcome.INTERRUPT_RUN in self.stopped_by:
            return RunStatus.INTERRUPTED, str(self.stopped_by[Outcome.INTERRUPT_RUN])
        if signalled:
            return RunStatus.INTERRUPTED, "stopped by a signal"
        if run["failures"]:
            return RunStatus.COMPLETED_WITH_FAILURES, None
        return RunStatus.COMPLETED, None

    def exit_status(self, status: RunStatus) -> ExitStatus:
        """The policy's exit code of the error that ended the run, else the status's."""
        ending = self.ending
        return ending.exit_status if ending is not None else RUN_EXIT[status]
