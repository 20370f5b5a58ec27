"""Stock Update webhook pushes, the way Ingram sends them: signed availability deltas.

Each push moves the catalog to its next ``price_epoch`` (about 10% of products
get new stock and prices, so a later P&A agrees with what was pushed) and POSTs
the new stock of those products, at most 4,000 resources an event, with
``x-hub-signature`` = base64(HMAC-SHA512(secret, eventId)). Prices are never
pushed: the vendor's event carries none.

The signature is computed here, not imported from the receiver: the sandbox and
ingram-sync agree only through the wire, as the vendor and the tool do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SandboxServer

MAX_RESOURCES = 4000  # Ingram splits larger deltas into several events
PUSH_TIMEOUT = 10.0


def sign(secret: str, event_id: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


def stock_resource(item: dict[str, Any]) -> dict[str, Any]:
    """A P&A item of the sandbox as a webhook ``resource[]`` entry (stock only)."""
    availability = item["availability"]
    backordered = any(
        row.get("quantityBackordered") for row in availability["availabilityByWarehouse"]
    )
    pn = item["ingramPartNumber"]
    return {
        "eventType": "IM::STOCK_UPDATE",
        "ingramPartNumber": pn,
        "vendorPartNumber": item["vendorPartNumber"],
        "vendorName": item["vendorName"],
        "upcCode": item.get("upc"),
        "skuStatus": "Active",
        "backOrderFlag": "Y" if backordered else "N",
        "totalAvailability": str(availability["totalAvailability"]),
        "links": [{"topic": "orders", "href": f"/resellers/v5/catalog/{pn}", "type": "GET"}],
    }


def stock_events(resources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Events of at most ``MAX_RESOURCES`` resources each, stamped now."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for start in range(0, len(resources), MAX_RESOURCES):
        yield {
            "topic": "resellers/catalog",
            "event": "im::updated",
            "eventTimeStamp": now,
            "eventId": secrets.token_hex(9).upper(),
            "resource": resources[start : start + MAX_RESOURCES],
        }


def post_event(url: str, secret: str, event: dict[str, Any]) -> int:
    """POST one signed event; the HTTP status, or 0 when the receiver cannot be reached."""
    request = urllib.request.Request(
        url,
        data=json.dumps(event).encode("utf-8"),
        headers={
            "Content-Type": "application/json",
            "x-hub-signature": sign(secret, event["eventId"]),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


def push_stock(server: SandboxServer, url: str, secret: str) -> list[tuple[str, int, int]]:
    """Move to the next epoch and push its stock changes: (event id, resources, HTTP status)."""
    server.reconfigure(price_epoch=server.settings.price_epoch + 1)
    catalog = server.catalog
    changed = [
        stock_resource(catalog.price_availability_item(pn))
        for index, pn in enumerate(catalog.part_numbers())
        if catalog.stock_changed(index)
    ]
    return [
        (event["eventId"], len(event["resource"]), post_event(url, secret, event))
        for event in stock_events(changed)
    ]


class StockPusher:
    """Pushes every ``every`` seconds in a daemon thread until ``stop``."""

    def __init__(
        self,
        server: SandboxServer,
        announce: Callable[[str], Any] | None = None,
    ) -> None:
        self.server = server
        self.announce = announce or (lambda line: None)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="sandbox-pushes", daemon=True)

    def start(self) -> StockPusher:
        self.thread.start()
        return self

    def loop(self) -> None:
        settings = self.server.settings
        while not self.stopped.wait(settings.webhook_every):
            for event_id, count, status in push_stock(
                self.server, str(settings.webhook_url), settings.webhook_secret
            ):
                self.announce(f"pushed stock event {event_id}: {count} resources, HTTP {status}")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=PUSH_TIMEOUT + 1)
