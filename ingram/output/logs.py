"""Log lines: tqdm-friendly on a terminal, plain timestamped lines for cron and log files.

On a terminal, log lines are written above the progress bars so they do not
tear them. When stderr is not a terminal (cron, a pipe) lines are plain text with a
UTC timestamp and no control characters. ``--log-file`` (or the ``log_file``
config key) appends the same lines, at INFO or more even with ``--quiet``, to
a file; known secrets are masked in it.

Example::

    setup_logging(verbose=False, quiet=True, log_file="/var/log/ingram-sync.log")
    log.info("summary", extra=FILE_ONLY)   # the log file gets it, stderr does not
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence

from ingram.output.terminal import TERMINAL, draws_in_place
from ingram.redact import mask_secrets, secret_forms

FILE_ONLY = {"file_only": True}


class TerminalHandler(logging.Handler):
    """Log lines that do not tear the progress bars apart: printed above them."""

    def emit(self, record: logging.LogRecord) -> None:
        TERMINAL.write_line(self.format(record))


class SkipFileOnly(logging.Filter):
    """Drop records meant for the log file only (the CLI prints those itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False)


class MaskSecrets(logging.Filter):
    """Replace every known secret in a record's message with ``***``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        # Every encoding too: a gateway may echo the token form URL-encoded, or as JSON.
        forms = {form for secret in secrets if len(secret) >= 4 for form in secret_forms(secret)}
        self.forms = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.forms:
            record.msg, record.args = mask_secrets(record.getMessage(), self.forms), None
        return True


def utc_formatter(with_pid: bool = False, profile: str | None = None) -> logging.Formatter:
    """``2026-05-01T04:15:02Z WARNING message``; for files with ``ingram-sync[pid]`` and the
    profile (``profile ca``), so that profiles sharing one log file tell their lines apart."""
    named = f"profile {profile} " if profile else ""
    prefix = f"%(asctime)s ingram-sync[{os.getpid()}] {named}" if with_pid else "%(asctime)s "
    formatter = logging.Formatter(prefix + "%(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    return formatter


class LogFile(logging.FileHandler):
    """Appends to the log file; the first write that fails warns once on stderr, then it stops.

    A full disk or a revoked permission must not print logging's traceback on
    every line, nor stop the command the log is only a record of.
    """

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self.failed:
            self.failed = True
            warn_log_file(self.baseFilename, sys.exc_info()[1])


def warn_log_file(path: str, error: BaseException | None) -> None:
    reason = getattr(error, "strerror", None) or str(error)
    sys.stderr.write(f"warning: cannot write log file {path}: {reason}; logging to stderr only\n")


def open_log_file(path: str) -> logging.FileHandler | None:
    """A handler appending to ``path``, or None after a warning saying why it cannot be opened."""
    try:
        return LogFile(os.path.expanduser(path), "a", encoding="utf-8")
    except OSError as error:
        warn_log_file(path, error)
        return None


def setup_logging(
    verbose: bool,
    quiet: bool,
    log_file: str | None = None,
    secrets: Sequence[str] = (),
    profile: str | None = None,
) -> None:
    """Route the ``ingram`` loggers to stderr (and ``log_file``), replacing earlier handlers."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    console: logging.Handler
    if draws_in_place(sys.stderr):
        console = TerminalHandler()
    else:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(utc_formatter())
    console.setLevel(level)
    console.addFilter(SkipFileOnly())
    masking = MaskSecrets(secrets)
    console.addFilter(masking)
    handlers: list[logging.Handler] = [console]
    file_handler = open_log_file(log_file) if log_file else None
    if file_handler:
        file_handler.setFormatter(utc_formatter(with_pid=True, profile=profile))
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        file_handler.addFilter(masking)
        handlers.append(file_handler)
    root = logging.getLogger("ingram")
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers[:] = handlers
    root.setLevel(min(handler.level for handler in handlers))
    root.propagate = False
