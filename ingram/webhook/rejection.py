"""``EventRejected``: a request the receiver refuses, with its HTTP status and a reason."""

from __future__ import annotations


class EventRejected(Exception):
    """A request the receiver refuses: ``status`` (400, 401, 413...) and a reason for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
