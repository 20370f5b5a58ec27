"""IngramClient: token, headers, P&A, details and search, with retries and rate limits.

One client is shared by all worker threads of a run:

- the OAuth token is cached and refreshed by one thread at a time, a little
  before it expires and once more after a 401;
- each thread has its own ``Session`` (its connection pools), built by
  ``build_session``;
- each endpoint has one ``EndpointGate`` (``ingram.api.ratelimiting``): calls are
  evenly spaced, and a 429 makes every thread of that endpoint wait;
- failed calls are retried with ``tenacity`` on the configured waits; what is
  left after the last attempt is an ``ApiError`` naming the kind of failure.

Nothing here logs or raises a message holding the client secret or the token.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from ingram.api.auth import CREDENTIALS_HINT, TokenInfo, TokenSource
from ingram.api.http import (
    ApiRequest,
    Response,
    SessionPool,
    build_session,
    describe,
    exchange,
    status_error,
)
from ingram.api.lookup import match_keys, request_products
from ingram.api.maintenance import maintenance_note
from ingram.api.parsing import loads, parse_details, parse_price_availability, parse_search_page
from ingram.api.ratelimiting import EndpointGate, rate_limit_delay, vendor_window
from ingram.api.retrying import call_with_retries, nth_wait, wait_for
from ingram.api.vendorclock import VendorClock
from ingram.api.watch import Counters, OddFields, OutageWatch, Pacing, account_fault_error
from ingram.errors import ApiError, ApiOutage, CredentialsError, MalformedResponse
from ingram.models import (
    ClientSettings,
    ClientStats,
    KeyResolution,
    PriceAvailability,
    ProductDetails,
    ProductKey,
    RetryWait,
    SearchResult,
)
from ingram.policy import POLICY, Retry, status_trigger
from ingram.redact import forms_of, mask_secrets
from ingram.vocab import Endpoint

__all__ = ["MAX_BATCH", "ClientSettings", "IngramClient", "build_session"]

log = logging.getLogger("ingram.api.client")

MAX_BATCH = 50
MAX_PAGE_SIZE = 100
PA_PATH = "/resellers/v6/catalog/priceandavailability"
PA_QUERY = dict.fromkeys(
    ("includeAvailability", "includePricing", "includeProductAttributes"), "true"
)
DETAILS_PATH = "/resellers/v6/catalog/details/"
SEARCH_PATH = "/resellers/v6/catalog"

T = TypeVar("T")


@dataclass(frozen=True)
class _Endpoint:
    gate: EndpointGate
    waits: tuple[float, ...]
    counter: str  # ClientStats field counting requests sent


def _interval(calls_per_minute: float) -> float:
    return 60.0 / calls_per_minute if calls_per_minute > 0 else 0.0


class IngramClient:
    """Thread-safe client of Ingram Micro's Reseller API v6 (catalog endpoints)."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._cancel = threading.Event()
        self._local = threading.local()  # per thread: the attempts it has made
        self._stats = Counters()
        self._sessions = SessionPool(settings.user_agent)
        self._pacing = Pacing()
        self._outage = OutageWatch(settings.outage_limit)
        self._vendor_clock = VendorClock()
        self._odd = OddFields()
        self.token_url = settings.token_url or bare_host(settings.base_url) + settings.token_path
        self._tokens = TokenSource(
            settings, self.token_url, self._http, self._cancel, self._stats.add, self._redact
        )
        # The encoded forms of the secret and recent tokens, rebuilt only when a token is new.
        self._mask_forms: tuple[tuple[str, ...], list[str]] = ((), [])
        s = settings
        self._pa = self._endpoint(Endpoint.PA, _interval(s.pa_rate), s.pa_retry_waits)
        self._details = self._endpoint(Endpoint.DETAILS, s.details_interval, s.details_retry_waits)
        self._search = self._endpoint(Endpoint.SEARCH, _interval(s.search_rate), s.pa_retry_waits)
        # Told of each wait before a retry, in the waiting thread (the sync shows it).
        self.on_retry_wait: Callable[[RetryWait], None] | None = None

    def _endpoint(self, name: Endpoint, interval: float, waits: tuple[float, ...]) -> _Endpoint:
        counters = {Endpoint.PA: "pa_requests", Endpoint.DETAILS: "details_requests"}
        gate = EndpointGate(name, interval, self._cancel)
        return _Endpoint(gate, waits, counters.get(name, "search_requests"))

    # ------------------------------------------------------------ public API

    def price_and_availability(self, part_numbers: Sequence[str]) -> list[PriceAvailability]:
        """P&A for 1..50 part numbers; unknown ones come back ``found=False``, not as errors."""
        numbers = _check_part_numbers(part_numbers)
        products = [{"ingramPartNumber": pn} for pn in numbers]
        body = json.dumps({"showAvailableDiscounts": True, "products": products})
        what = f"P&A request for {len(numbers)} part number{'s' if len(numbers) != 1 else ''}"
        request = ApiRequest(Endpoint.PA, "POST", PA_PATH, what, PA_QUERY, body.encode())

        def handle(resp: Response) -> list[PriceAvailability]:
            if resp.status not in (200, 207):
                raise self._status_error(resp)
            items = parse_price_availability(loads(resp.body))
            self._odd.warn(items)
            return items

        return self._call(self._pa, request, handle)

    def lookup_keys(self, keys: Sequence[ProductKey]) -> list[KeyResolution]:
        """Which Ingram part numbers 1..50 reseller keys name: one P&A call, asked by those keys."""
        if not 1 <= len(keys) <= MAX_BATCH:
            raise ValueError(f"a P&A lookup holds 1..{MAX_BATCH} keys, not {len(keys)}")
        body = json.dumps({"products": request_products(keys)})
        what = f"P&A lookup of {len(keys)} key{'s' if len(keys) != 1 else ''}"
        request = ApiRequest(Endpoint.PA, "POST", PA_PATH, what, PA_QUERY, body.encode())

        def handle(resp: Response) -> list[KeyResolution]:
            if resp.status not in (200, 207):
                raise self._status_error(resp)
            return match_keys(keys, loads(resp.body))

        return self._call(self._pa, request, handle)

    def product_details(self, part_number: str) -> ProductDetails:
        """The details document; a vendor 404 gives ``ProductDetails(pn, found=False)``."""
        if not isinstance(part_number, str) or not part_number.strip():
            raise ValueError("product_details needs a non-empty part number")
        path = DETAILS_PATH + quote(part_number, safe="")
        request = ApiRequest(Endpoint.DETAILS, "GET", path, f"details request for {part_number}")

        def handle(resp: Response) -> ProductDetails:
            if resp.status == 404 and _is_vendor_not_found(resp):
                return ProductDetails(part_number, found=False)
            if resp.status in (204, 404):  # no records, said without the vendor's body
                return ProductDetails(part_number, found=False, bare=True)
            if resp.status != 200:
                raise self._status_error(resp)
            return parse_details(part_number, loads(resp.body))

        return self._call(self._details, request, handle)

    def search(
        self,
        *,
        vendor: str | None = None,
        keyword: str | None = None,
        category: str | None = None,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[SearchResult]:
        """Catalog search, page by page (``pageNumber``), until the last page or ``limit``."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        query = {"vendor": vendor, "keyword": keyword, "category": category}
        params = {k: v for k, v in query.items() if v is not None}
        return self._search_pages(params, page_size, limit)

    def search_vendor_part_numbers(self, vendor_part_numbers: Sequence[str]) -> list[SearchResult]:
        """One page of a catalog search for up to 100 vendor part numbers (the repeated
        ``vendorPartNumber`` array): a page holds every product they name, so no next page
        is followed (a search that ignores the filter would page through the catalog)."""
        if not 1 <= len(vendor_part_numbers) <= MAX_PAGE_SIZE:
            raise ValueError(f"search takes 1..{MAX_PAGE_SIZE} vendor part numbers")
        query = {"vendorPartNumber": list(vendor_part_numbers), "pageNumber": 1}
        request = ApiRequest(
            Endpoint.SEARCH, "GET", SEARCH_PATH, "search request", {**query, "pageSize": 100}
        )
        return self._call(self._search, request, self._handle_search)[0]

    def attempts_made(self) -> int:
        """API call attempts this thread has made (a worker subtracts two readings)."""
        return int(getattr(self._local, "attempts", 0))

    def stats(self) -> ClientStats:
        """A snapshot of the counters (requests sent, token requests, retries, 429s)."""
        return self._stats.snapshot()

    def authenticate(self) -> TokenInfo:
        """Have a token (the shared cache's, or a new one): where from, and when it expires."""
        self._tokens.current(self._pa.waits)
        return self._tokens.info()

    def answers(self) -> dict[str, dict[str, int]]:
        """Every answer so far, counted by endpoint and HTTP status: ``{"details": {"200": 9}}``."""
        return self._stats.answers()

    def pacing(self) -> dict[str, dict[str, Any]]:
        """Per endpoint: the lowest ``X-RateLimit-Limit`` seen, the waits its headers caused,
        the mean answer latency and the spacing of calls (configured or the vendor's)."""
        gates = (self._pa.gate, self._details.gate, self._search.gate)
        return self._pacing.snapshot({gate.name: gate.spacing() for gate in gates})

    def cancel(self) -> None:
        """Make every wait (limiter, 429 block, retry backoff) end now with ``Cancelled``."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def close(self) -> None:
        """Close every thread's session."""
        self._sessions.close()

    def __enter__(self) -> IngramClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ search paging

    def _search_pages(
        self, params: dict[str, Any], page_size: int, limit: int | None
    ) -> Iterator[SearchResult]:
        yielded, page = 0, 1
        while limit is None or yielded < limit:
            query = {**params, "pageNumber": page, "pageSize": page_size}
            request = ApiRequest(
                Endpoint.SEARCH, "GET", SEARCH_PATH, f"search request (page {page})", query
            )
            results, has_next = self._call(self._search, request, self._handle_search)
            for result in results:
                if limit is not None and yielded >= limit:
                    return
                yielded += 1
                yield result
            if not has_next:
                return
            page += 1

    def _handle_search(self, resp: Response) -> tuple[list[SearchResult], bool]:
        if resp.status == 204 or (resp.status == 404 and _is_vendor_not_found(resp)):
            return [], False
        if resp.status != 200:
            raise self._status_error(resp)
        return parse_search_page(loads(resp.body))

    # ------------------------------------------------------------ one call

    def _call(self, ep: _Endpoint, request: ApiRequest, handle: Callable[[Response], T]) -> T:
        """One logical call: attempts through the gate, retried as the policy says."""
        return call_with_retries(
            request.what,
            ep.waits,
            wait_for(ep.waits, self._outage.left),
            lambda attempt: self._attempt(ep, request, handle, attempt),
            cancel=self._cancel,
            on_retry=lambda: self._stats.add("retries"),
            redact=self._redact,
            on_wait=self.on_retry_wait,
        )

    def _attempt(
        self, ep: _Endpoint, request: ApiRequest, handle: Callable[[Response], T], attempt: int
    ) -> T:
        self._local.attempts = self.attempts_made() + 1
        try:
            resp = self._send_authorized(ep, request)
        except ApiError as exc:
            if exc.resolution.outage:
                self._check_outage(str(exc), None)
            raise
        fault = account_fault_error(resp, self._redact)
        error = fault or (self._status_error(resp) if _fails_at_once(resp.status) else None)
        if error is not None and error.resolution.retry is Retry.WINDOW:
            raise self._wait_for_window(ep, resp, error, attempt)
        ep.gate.answered()
        if fault is None and resp.status >= 300 and POLICY[status_trigger(resp.status)].outage:
            self._check_outage(describe(resp), resp.status)
        elif fault is None:
            self._outage.answered()
        if error is not None:
            raise error
        try:
            return handle(resp)
        except MalformedResponse as exc:
            raise MalformedResponse(self._redact(str(exc)), http_status=resp.status) from None

    def _check_outage(self, what: str, status: int | None) -> None:
        failing = self._outage.failed()
        if failing >= self._outage.limit:
            note = maintenance_note(self.settings.country_code)
            raise ApiOutage(
                f"the Ingram API has answered nothing but errors for {failing:.0f} s"
                f" (last: {self._redact(what)}){'; ' + note if note else ''};"
                " stopped, the next sync resumes",
                http_status=status,
            )

    def _status_error(self, resp: Response) -> ApiError:
        """The error of an answer that is not a success (what it means is the policy's)."""
        detail = self._redact(describe(resp))
        if resp.status in (401, 403):
            return CredentialsError(
                f"the Ingram API refused the credentials ({detail}): {CREDENTIALS_HINT}",
                trigger=status_trigger(resp.status),
                http_status=resp.status,
            )
        return status_error(resp.status, detail)

    def _wait_for_window(
        self, ep: _Endpoint, resp: Response, error: ApiError, attempt: int
    ) -> ApiError:
        """The one place that waits for the vendor's window (a 429, a quota reply): every
        thread of the endpoint waits until ``Retry-After`` or ``X-RateLimit-Reset`` (read
        on the vendor's clock), else the policy's window, else the next retry wait.

        Met the policy's ``windows`` in a row, the error comes back spent: no more waiting.
        """
        res = error.resolution
        self._stats.add("rate_limited")
        delay = rate_limit_delay(resp.headers, self._vendor_clock.now())
        if delay is None:
            delay = res.window or nth_wait(ep.waits, max(attempt, 1))
        in_a_row = ep.gate.window(delay)
        log.debug("%d on %s: every thread waits %.3f s", resp.status, ep.gate.name, delay)
        if not res.windows or in_a_row < res.windows:
            return error
        return type(error)(
            f"{error}; still so after {in_a_row} of the vendor's windows in a row: stopped,"
            " the next sync resumes",
            trigger=error.trigger,
            http_status=error.http_status,
            attempts=attempt,
            exhausted=True,
        )

    def _redact(self, text: str) -> str:
        """``text`` without the secret or a recent token, in any encoding they come back in."""
        secrets = (self.settings.client_secret, *self._tokens.seen)
        if self._mask_forms[0] != secrets:
            self._mask_forms = (secrets, forms_of(*secrets))
        return mask_secrets(text, self._mask_forms[1])

    def _send_authorized(self, ep: _Endpoint, request: ApiRequest) -> Response:
        """Send with the current token; after a 401, refresh it once and send again."""
        token = self._tokens.current(ep.waits)
        resp = self._send_api(ep, request, token)
        if resp.status != 401:
            return resp
        log.debug("401 on %s: refreshing the token", ep.gate.name)
        token = self._tokens.after_401(token, ep.waits)
        return self._send_api(ep, request, token)

    # ------------------------------------------------------------ HTTP

    def _send_api(self, ep: _Endpoint, request: ApiRequest, token: str) -> Response:
        """Wait for the endpoint's gate, then send one request (counted) with every header."""
        ep.gate.acquire()
        s = self.settings
        headers = {
            "Authorization": f"Bearer {token}",
            "IM-CustomerNumber": s.customer_number,
            "IM-CountryCode": s.country_code,
            "IM-CorrelationID": uuid.uuid4().hex,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": s.user_agent,
        }
        if s.sender_id:
            headers["IM-SenderID"] = s.sender_id
        self._stats.add(ep.counter)
        sent = time.monotonic()
        resp = self._http(request, headers, data=request.body)
        self._pacing.answer(ep.gate.name, time.monotonic() - sent)
        window = vendor_window(resp.headers, self._vendor_clock.now())
        if window is not None:
            waited = ep.gate.follow(window)
            self._pacing.headers(ep.gate.name, window, waited)
        return resp

    def _http(self, request: ApiRequest, headers: dict[str, str], data: Any = None) -> Response:
        """One HTTP exchange within the timeouts and the overall deadline."""
        s = self.settings
        started, sent = time.monotonic(), time.time()
        resp = exchange(
            self._sessions.get(),
            request.method,
            request.url or s.base_url.rstrip("/") + request.path,
            headers=headers,
            params=request.params,
            data=data,
            connect_timeout=s.connect_timeout,
            timeout=s.timeout,
            deadline=s.deadline,
        )
        self._vendor_clock.observe(resp.headers.get("Date"), sent, time.time())
        self._stats.answer(request.endpoint, resp.status)
        log.debug(
            "%s %s -> %d in %.3f s (correlation id %s)",
            request.method,
            request.path,
            resp.status,
            time.monotonic() - started,
            headers.get("IM-CorrelationID", "-"),
        )
        return resp


# ---------------------------------------------------------------- helpers


def _check_part_numbers(part_numbers: Sequence[str]) -> list[str]:
    if isinstance(part_numbers, (str, bytes)):
        raise ValueError("price_and_availability takes a sequence of part numbers, not one string")
    numbers = list(part_numbers)
    if not 1 <= len(numbers) <= MAX_BATCH:
        raise ValueError(f"a P&A batch holds 1..{MAX_BATCH} part numbers, not {len(numbers)}")
    if not all(isinstance(pn, str) and pn.strip() for pn in numbers):
        raise ValueError("part numbers must be non-empty strings")
    return numbers


def _fails_at_once(status: int) -> bool:
    """An answer no endpoint's handler reads: refused credentials, a rate limit, a 5xx."""
    return status in (401, 403, 429) or status >= 500


def bare_host(url: str) -> str:
    """``https://api.ingrammicro.com:443/sandbox`` -> ``https://api.ingrammicro.com:443``:
    the portal issues tokens on the bare host, Ingram's sandbox included."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_vendor_not_found(resp: Response) -> bool:
    """A 404 in the vendor's ``{"errors": [...]}`` shape (not a gateway's page for a wrong URL)."""
    try:
        payload = loads(resp.body)
    except MalformedResponse:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("errors"), list)
