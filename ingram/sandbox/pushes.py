"""Stock Update webhook pushes, the way Ingram sends them: signed availability deltas.

Each push moves the catalog to its next ``price_epoch`` (about 10% of products
get new stock and prices, so a later P&A agrees with what was pushed) and POSTs
the new stock of those products, at most 4,000 resources an event, with
``x-hub-signature`` = base64(HMAC-SHA512(secret, eventId)). Prices are never
pushed: the vendor's event carries none. ``webhook_quirks`` make the pushes as Ingram may
send them (hex signatures, ``+08:30`` times, other topics, resources without part numbers).

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


def sign(secret: str, event_id: str, hex_form: bool = False) -> str:
    """base64(HMAC-SHA512), or hex: the portal's sample "can either base64 encode or put it
    right into hex"."""
    digest = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512).digest()
    return digest.hex() if hex_form else base64.b64encode(digest).decode("ascii")


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


def stock_events(
    resources: list[dict[str, Any]], quirks: frozenset[str] = frozenset()
) -> Iterator[dict[str, Any]]:
    """Events of at most ``MAX_RESOURCES`` resources each, stamped now, as ``quirks`` say.

    ``offset``: the time carries ``+08:30`` over UTC's digits, as the portal's sample labels
    it UTC; ``unnumbered``: each event holds one resource without ``ingramPartNumber``;
    ``topics``: each push also brings an event of another topic.
    """
    moment = datetime.now(UTC)
    now = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if "offset" in quirks:
        now = now.replace("Z", "+08:30")
    for start in range(0, len(resources), MAX_RESOURCES):
        chunk = resources[start : start + MAX_RESOURCES]
        if "unnumbered" in quirks and chunk:
            chunk = [{k: v for k, v in chunk[0].items() if k != "ingramPartNumber"}, *chunk[1:]]
        yield event_of("resellers/catalog", now, chunk)
    if "topics" in quirks:
        yield event_of("resellers/orders", now, [{"eventType": "IM::ORDER_SHIPPED"}])


def event_of(topic: str, stamp: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "topic": topic,
        "event": "im::updated",
        "eventTimeStamp": stamp,
        "eventId": secrets.token_hex(9).upper(),
        "resource": resources,
    }


def post_event(url: str, secret: str, event: dict[str, Any], hex_form: bool = False) -> int:
    """POST one signed event; the HTTP status, or 0 when the receiver cannot be reached."""
    request = urllib.request.Request(
        url,
        data=json.dumps(event).encode("utf-8"),
        headers={
            "Content-Type": "application/json",
            "x-hub-signature": sign(secret, event["eventId"], hex_form),
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
    quirks = server.settings.webhook_quirks
    return [
        (event["eventId"], len(event["resource"]), post_event(url, secret, event, "hex" in quirks))
        for event in stock_events(changed, quirks)
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
