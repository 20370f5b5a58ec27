"""Running the sandbox from a shell: ``python -m ingram.sandbox`` and ``ingram-sync sandbox``.

The argparse parser is the single place option meanings live; a click command
can call ``settings_from_options`` with the same names instead of re-deriving
them, and ``serve_forever`` handles signals the same way for both.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .fileserver import add_price_file_arguments, price_file_lines, start_price_files
from .pushes import StockPusher
from .server import SandboxServer
from .settings import WEBHOOK_QUIRKS, FaultRates, SandboxSettings

DEFAULT_PORT = 8765

# CLI option -> FaultRates field
FAULT_OPTIONS: dict[str, str] = {
    "fault_500": "error_500",
    "fault_503": "error_503_html",
    "fault_429": "rate_limit_429",
    "fault_slow": "slow",
    "fault_truncated": "truncated",
    "fault_malformed": "malformed",
    "fault_drop": "drop_connection",
    "fault_revoke_token": "revoke_token",
    "fault_quota_429": "quota_429",
    "fault_quota_4xx": "quota_4xx",
}

FAULT_HELP: dict[str, str] = {
    "fault_500": "answer HTTP 500",
    "fault_503": "answer an HTML 503 page, as a gateway does",
    "fault_429": "answer 429 too many requests",
    "fault_slow": "answer only after --slow-seconds",
    "fault_truncated": "cut their answer short",
    "fault_malformed": "answer JSON that breaks the schema",
    "fault_drop": "drop the connection",
    "fault_revoke_token": "revoke the token first (401)",
    "fault_quota_429": "answer the vendor's quota reply under 429",
    "fault_quota_4xx": "answer Europe's quota reply under a plain 403",
}

# Vendor behaviours, each a switch (see docs/real-api.md): option -> help.
REALISTIC_SWITCHES: dict[str, str] = {
    "single_token": "a new token invalidates the client's older ones (seen in production)",
    "short_pages": "search pages come back short and recordsFound changes (reported)",
    "maintenance": "every API and token call answers an HTML 503 (a maintenance window)",
    "search_ignores_filter": "catalog search ignores the vendorPartNumber filter",
    "placeholder_extras": 'P&A flags "boolean" and quantity breaks "decimal", as the spec shows',
    "negative_special_pricing": "P&A items carry a special price with a negative discount",
    "numeric_warehouse_ids": "warehouseId a number, as the spec's examples (not its schema)",
}
PART_NUMBER_OPTIONS: dict[str, str] = {
    "unnumbered_part_number": "P&A items of this part number come without ingramPartNumber",
    "misformatted_part_number": 'P&A items of this part number price as text ("1,234.56")',
    "refused_part_number": 'P&A answers "E": not authorized for the customer',
}


def build_arg_parser() -> argparse.ArgumentParser:
    """Options of ``python -m ingram.sandbox`` (defaults match ``SandboxSettings``)."""
    d = SandboxSettings()
    p = argparse.ArgumentParser(
        prog="python -m ingram.sandbox",
        description="Serve a fake Ingram Micro Reseller API v6 on loopback.",
    )
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--catalog-size", type=int, default=d.catalog_size)
    p.add_argument("--latency", type=float, default=d.latency, help="seconds per API answer")
    p.add_argument("--pa-rate-limit", type=int, default=None, help="calls per window")
    p.add_argument("--details-rate-limit", type=int, default=None, help="calls per window")
    p.add_argument("--search-rate-limit", type=int, default=None, help="calls per window")
    p.add_argument("--rate-window", type=float, default=d.rate_window, help="seconds")
    p.add_argument("--retry-after", action="store_true", help="send Retry-After on 429")
    p.add_argument("--realistic", action="store_true", help=REALISTIC_HELP)
    p.add_argument("--token-lifetime", type=float, default=d.token_lifetime, help="seconds")
    p.add_argument("--client-id", default=d.client_id)
    p.add_argument("--client-secret", default=d.client_secret)
    p.add_argument(
        "--not-found-details-ratio", type=float, default=d.not_found_details_ratio,
        help="share of products without details (404)",
    )  # fmt: skip
    p.add_argument(
        "--price-epoch", type=int, default=d.price_epoch,
        help="another number changes some prices and stock (then try `ingram-sync changes`)",
    )  # fmt: skip
    p.add_argument(
        "--failing-part-number",
        action="append",
        default=[],
        metavar="PN",
        help="P&A/details calls with this part number always answer 500 (repeatable)",
    )
    for option, what in FAULT_HELP.items():
        p.add_argument(
            as_typed(option),
            type=float,
            default=0.0,
            metavar="RATE",
            help=f"share 0..1 of API calls that {what}",
        )
    p.add_argument(
        "--failing-details-part-number",
        action="append",
        default=[],
        metavar="PN",
        help="details calls with this part number always answer 500; its P&A works (repeatable)",
    )
    p.add_argument(
        "--registered-customer-number",
        metavar="NUMBER",
        help="the customer number the credentials own: any other gets the gateway's"
        ' "Invalid customer number" fault, as Ingram answers',
    )
    p.add_argument(
        "--slow-seconds", type=float, default=d.slow_seconds, help="how slow --fault-slow is"
    )
    for option, what in REALISTIC_SWITCHES.items():
        p.add_argument(as_typed(option), action="store_true", help=what)
    for option, what in PART_NUMBER_OPTIONS.items():
        p.add_argument(
            as_typed(option), action="append", default=[], metavar="PN",
            help=f"{what} (repeatable)",
        )  # fmt: skip
    p.add_argument(
        "--clock-offset", type=float, default=d.clock_offset, metavar="SECONDS",
        help="the vendor's clock (Date, X-RateLimit-Reset) runs this far ahead of ours",
    )  # fmt: skip
    p.add_argument("--webhook-url", help="push signed Stock Update events to this URL")
    p.add_argument("--webhook-secret", default=d.webhook_secret, help="the events' secret key")
    p.add_argument(
        "--webhook-every", type=float, default=d.webhook_every, help="seconds between pushes"
    )
    p.add_argument(
        "--webhook-quirk",
        action="append",
        default=[],
        choices=WEBHOOK_QUIRKS,
        metavar="QUIRK",
        help="push as Ingram may (repeatable): hex signatures, offset (+08:30 times labelled"
        " UTC), topics (other topics too), unnumbered (a resource without a part number)",
    )
    p.add_argument(
        "--request-log", "--verbose", dest="verbose", action="store_true",
        help="log every request to stderr",
    )  # fmt: skip
    add_price_file_arguments(p)
    return p


REALISTIC_HELP = (
    "as strict as the vendor: fixed-window lockout, details only for US/IN/NL,"
    " found items with status messages, gateway answers for unknown paths,"
    " countries Ingram does not serve refused"
)

RENAMES = {
    "retry_after": "send_retry_after",
    "failing_part_number": "failing_part_numbers",
    "failing_details_part_number": "failing_details_part_numbers",
    "webhook_quirk": "webhook_quirks",
    **{option: f"{option}s" for option in PART_NUMBER_OPTIONS},
}


def settings_from_options(**options: Any) -> SandboxSettings:
    """Settings from option names as argparse/click spell them (fault_500, retry_after...).

    A bad value raises ValueError naming the option as typed (``--fault-500``).
    """
    for option in FAULT_OPTIONS:
        rate = float(options.get(option) or 0.0)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{as_typed(option)} {rate:g} is not a probability between 0 and 1")
    faults = FaultRates(**{f: float(options.pop(o, 0.0) or 0.0) for o, f in FAULT_OPTIONS.items()})
    fields = {RENAMES.get(k, k): v for k, v in options.items() if v is not None}
    try:
        return SandboxSettings(faults=faults, **fields)
    except ValueError as error:
        text = str(error)
        for option in options:
            text = text.replace(RENAMES.get(option, option), as_typed(option))
        raise ValueError(text) from None


def as_typed(option: str) -> str:
    """``fault_500`` -> ``--fault-500``: an option as the user typed it."""
    return "--" + option.replace("_", "-")


def environment_lines(url: str, settings: SandboxSettings) -> list[str]:
    """The shell lines that point ``ingram-sync`` at this sandbox."""
    return [
        "Point ingram-sync at it, in another terminal:",
        f"  export INGRAM_API_URL={url}",
        f"  export INGRAM_CLIENT_ID={settings.client_id}",
        f"  export INGRAM_CLIENT_SECRET={settings.client_secret}",
        "  export INGRAM_CUSTOMER_NUMBER=20-222222",
        "  export INGRAM_SYNC_DB=ingram_sync_sandbox.db   # keeps sandbox data apart",
        "Stop it with Ctrl-C.",
    ]


FAULT_HINT = (
    "Faults are on. Retries wait 30 s and more by default; to see failures within seconds:\n"
    "  ingram-sync sync --pa-retry-waits 1,2 --details-retry-waits 1,2"
)


def faulty(settings: SandboxSettings) -> bool:
    """Whether the sandbox answers some calls with errors (the fault hint is then worth it)."""
    rates = settings.faults.as_dict().values()
    failing = settings.failing_part_numbers | settings.failing_details_part_numbers
    return any(rate > 0 for rate in rates) or bool(failing)


def settings_from_args(args: argparse.Namespace) -> SandboxSettings:
    """Settings from parsed ``build_arg_parser`` arguments."""
    return settings_from_options(**vars(args))


def serve_forever(
    settings: SandboxSettings,
    announce: Callable[[str], Any] = print,
    stop_event: threading.Event | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop_event``); returns an exit code (0).

    An address that cannot be bound (port in use, no such host) raises ValueError
    with one line saying which and what to do.
    """
    stop = stop_event or threading.Event()
    server = SandboxServer(settings)
    try:
        server.start()
    except OSError as error:
        raise ValueError(
            f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error};"
            " choose another --port (0 picks a free one) or --host"
        ) from None
    previous = _install_signal_handlers(stop)
    folder = tempfile.TemporaryDirectory(prefix="ingram-sandbox-files-")
    files = None
    try:
        announce(f"Sandbox listening on {server.url}")
        for line in environment_lines(server.url, settings):
            announce(line)
        files = start_price_files(server.catalog, settings, Path(folder.name))
        for line in price_file_lines(files) if files else ():
            announce(line)
        if faulty(settings):
            announce(FAULT_HINT)
        pusher = StockPusher(server, announce) if settings.webhook_url else None
        if pusher:
            announce(f"Pushing stock to {settings.webhook_url} every {settings.webhook_every}s")
            pusher.start()
        _flush_stdout()
        while not stop.wait(0.5):
            pass
        if pusher:
            pusher.stop()
    finally:
        _restore_signal_handlers(previous)
        if files:
            files.stop()
        folder.cleanup()
        server.stop()
    return 0


def _install_signal_handlers(stop: threading.Event) -> dict[int, Any]:
    """Signals only work from the main thread; elsewhere the caller uses stop_event."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda *_: stop.set())
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _flush_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ingram.sandbox``."""
    args = build_arg_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        return serve_forever(settings, announce=lambda line: print(line, flush=True))
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
