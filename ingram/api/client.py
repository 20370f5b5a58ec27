"""IngramClient: token, headers, P&A, details and search, with retries and rate limits.

One client is shared by all worker threads of a run:

- the OAuth token is cached and refreshed by one thread at a time, a little
  before it expires and once more after a 401;
- each thread has its own ``requests.Session`` (a Session is not promised to be
  thread-safe), built by ``build_session``;
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ingram.api.http import Response as _Response
from ingram.api.http import SessionPool, build_session, describe, exchange, status_error
from ingram.api.lookup import match_keys, request_products
from ingram.api.parsing import (
    loads,
    parse_details,
    parse_price_availability,
    parse_search_page,
    parse_token,
)
from ingram.api.ratelimiting import (
    EndpointGate,
    cancellable_sleep,
    rate_limit_delay,
    vendor_window,
)
from ingram.api.tokencache import TokenCache, TokenKeeper
from ingram.api.watch import OutageWatch, Pacing, account_fault_error, maintenance_note
from ingram.errors import (
    AccountFault,
    ApiError,
    ApiOutage,
    ApiUnavailable,
    Cancelled,
    CredentialsError,
    MalformedResponse,
    TokenUrlNotFound,
    Unreachable,
    mask_secrets,
    secret_forms,
)
from ingram.models import (
    ClientSettings,
    ClientStats,
    KeyResolution,
    PriceAvailability,
    ProductDetails,
    ProductKey,
    SearchResult,
)

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
CREDENTIALS_HINT = "check INGRAM_CLIENT_ID and INGRAM_CLIENT_SECRET"

T = TypeVar("T")


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    what: str  # for messages: "P&A request for 50 part numbers"
    params: Mapping[str, Any] | None = None
    body: bytes | None = None
    url: str | None = None  # a full URL instead of the API base + path (the token's)


@dataclass(frozen=True)
class _Endpoint:
    gate: EndpointGate
    waits: tuple[float, ...]
    counter: str  # ClientStats field counting requests sent


class _Stats:
    """Thread-safe counters behind ``IngramClient.stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(ClientStats.__dataclass_fields__, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> ClientStats:
        with self._lock:
            return ClientStats(**self._counts)


def _interval(calls_per_minute: float) -> float:
    return 60.0 / calls_per_minute if calls_per_minute > 0 else 0.0


def _retryable(exc: BaseException) -> bool:
    """Worth another attempt: a transient failure that no retry loop has given up on yet."""
    if not isinstance(exc, ApiError) or isinstance(exc, Cancelled):
        return False
    return exc.retryable and not getattr(exc, "final", False)


class IngramClient:
    """Thread-safe client of Ingram Micro's Reseller API v6 (catalog endpoints)."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._cancel = threading.Event()
        self._stats = _Stats()
        self._sessions = SessionPool(settings.user_agent)
        self._pacing = Pacing()
        self._outage = OutageWatch(settings.outage_limit)
        self.token_url = settings.token_url or bare_host(settings.base_url) + settings.token_path
        cache = (
            TokenCache.for_client(Path(settings.token_cache), settings.client_id, self.token_url)
            if settings.token_cache
            else None
        )
        self._tokens = TokenKeeper(cache, settings.token_refresh_margin)
        # The encoded forms of the secret and recent tokens, rebuilt only when a token is new.
        self._mask_forms: tuple[tuple[str, ...], list[str]] = ((), [])
        s = settings
        self._pa = self._endpoint("price_and_availability", _interval(s.pa_rate), s.pa_retry_waits)
        self._details = self._endpoint("details", s.details_interval, s.details_retry_waits)
        self._search = self._endpoint("search", _interval(s.search_rate), s.pa_retry_waits)

    def _endpoint(self, name: str, interval: float, waits: tuple[float, ...]) -> _Endpoint:
        counters = {"price_and_availability": "pa_requests", "details": "details_requests"}
        gate = EndpointGate(name, interval, self._cancel)
        return _Endpoint(gate, waits, counters.get(name, "search_requests"))

    # ------------------------------------------------------------ public API

    def price_and_availability(self, part_numbers: Sequence[str]) -> list[PriceAvailability]:
        """P&A for 1..50 part numbers; unknown ones come back ``found=False``, not as errors."""
        numbers = _check_part_numbers(part_numbers)
        products = [{"ingramPartNumber": pn} for pn in numbers]
        body = json.dumps({"showAvailableDiscounts": True, "products": products})
        what = f"P&A request for {len(numbers)} part number{'s' if len(numbers) != 1 else ''}"
        request = _Request("POST", PA_PATH, what, PA_QUERY, body.encode())

        def handle(resp: _Response) -> list[PriceAvailability]:
            if resp.status not in (200, 207):
                raise self._status_error(self._pa, resp, 0)
            return parse_price_availability(loads(resp.body))

        return self._call(self._pa, request, handle)

    def lookup_keys(self, keys: Sequence[ProductKey]) -> list[KeyResolution]:
        """Which Ingram part numbers 1..50 reseller keys name: one P&A call, asked by those keys."""
        if not 1 <= len(keys) <= MAX_BATCH:
            raise ValueError(f"a P&A lookup holds 1..{MAX_BATCH} keys, not {len(keys)}")
        body = json.dumps({"products": request_products(keys)})
        what = f"P&A lookup of {len(keys)} key{'s' if len(keys) != 1 else ''}"
        request = _Request("POST", PA_PATH, what, PA_QUERY, body.encode())

        def handle(resp: _Response) -> list[KeyResolution]:
            if resp.status not in (200, 207):
                raise self._status_error(self._pa, resp, 0)
            return match_keys(keys, loads(resp.body))

        return self._call(self._pa, request, handle)

    def product_details(self, part_number: str) -> ProductDetails:
        """The details document; a vendor 404 gives ``ProductDetails(pn, found=False)``."""
        if not isinstance(part_number, str) or not part_number.strip():
            raise ValueError("product_details needs a non-empty part number")
        path = DETAILS_PATH + quote(part_number, safe="")
        request = _Request("GET", path, f"details request for {part_number}")

        def handle(resp: _Response) -> ProductDetails:
            if resp.status == 404 and _is_vendor_not_found(resp):
                return ProductDetails(part_number, found=False)
            if resp.status in (204, 404):  # no records, said without the vendor's body
                return ProductDetails(part_number, found=False, bare=True)
            if resp.status != 200:
                raise self._status_error(self._details, resp, 0)
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
        """Catalog search for up to 100 vendor part numbers (the ``vendorPartNumber`` array)."""
        if not 1 <= len(vendor_part_numbers) <= MAX_PAGE_SIZE:
            raise ValueError(f"search takes 1..{MAX_PAGE_SIZE} vendor part numbers")
        params = {"vendorPartNumber": list(vendor_part_numbers)}
        return list(self._search_pages(params, MAX_PAGE_SIZE, None))

    def stats(self) -> ClientStats:
        """A snapshot of the counters (requests sent, token requests, retries, 429s)."""
        return self._stats.snapshot()

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
            request = _Request("GET", SEARCH_PATH, f"search request (page {page})", query)
            results, has_next = self._call(self._search, request, self._handle_search)
            for result in results:
                if limit is not None and yielded >= limit:
                    return
                yielded += 1
                yield result
            if not has_next:
                return
            page += 1

    def _handle_search(self, resp: _Response) -> tuple[list[SearchResult], bool]:
        if resp.status == 204 or (resp.status == 404 and _is_vendor_not_found(resp)):
            return [], False
        if resp.status != 200:
            raise self._status_error(self._search, resp, 0)
        return parse_search_page(loads(resp.body))

    # ------------------------------------------------------------ retries

    def _call(self, ep: _Endpoint, request: _Request, handle: Callable[[_Response], T]) -> T:
        """One logical call: attempts through the gate, retried on the endpoint's waits."""
        return self._retrying(
            request.what, ep.waits, self._wait_strategy(ep), self._attempt, ep, request, handle
        )

    def _retrying(
        self,
        what: str,
        waits: tuple[float, ...],
        wait: Callable[[RetryCallState], float],
        attempt: Callable[..., T],
        *args: Any,
    ) -> T:
        """Run ``attempt(*args)`` until it succeeds, fails for good, or the waits are spent."""
        attempts = [0]

        def counted() -> T:
            attempts[0] += 1
            if attempts[0] > 1:
                self._stats.add("retries")
                log.debug("%s: attempt %d", what, attempts[0])
            return attempt(*args, attempts[0])

        retrying = Retrying(
            stop=stop_after_attempt(len(waits) + 1),
            wait=wait,
            retry=retry_if_exception(_retryable),
            sleep=lambda seconds: cancellable_sleep(self._cancel, seconds),
            reraise=True,
        )
        try:
            return retrying(counted)
        except (CredentialsError, ApiUnavailable, AccountFault, ApiOutage, Cancelled):
            raise
        except ApiError as exc:
            if getattr(exc, "final", False):  # the token request gave up: say so as it is
                raise
            raise self._final_error(what, exc, attempts[0]) from exc

    def _attempt(
        self, ep: _Endpoint, request: _Request, handle: Callable[[_Response], T], attempt: int
    ) -> T:
        try:
            resp = self._send_authorized(ep, request)
        except ApiError as exc:
            if exc.retryable and exc.kind in ("connection", "timeout"):
                self._check_outage(str(exc), None)
            raise
        fault = account_fault_error(resp, self._redact)
        if fault is not None:
            raise fault
        if resp.status >= 500:
            self._check_outage(describe(resp), resp.status)
        else:
            self._outage.answered()
        if resp.status in (401, 403, 429) or resp.status >= 500:
            raise self._status_error(ep, resp, attempt)
        try:
            return handle(resp)
        except MalformedResponse as exc:
            raise MalformedResponse(self._redact(str(exc)), http_status=resp.status) from None

    def _wait_strategy(self, ep: _Endpoint) -> Callable[[RetryCallState], float]:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ApiError) and exc.kind == "rate_limited":
                return 0.0  # the gate holds every thread of the endpoint until the reset
            # No retry wait outlasts the outage limit: the attempt after it decides.
            return min(_nth_wait(ep.waits, state.attempt_number), max(self._outage.left(), 0.0))

        return wait

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

    def _final_error(self, what: str, exc: ApiError, attempts: int) -> ApiError:
        plural = "s" if attempts != 1 else ""
        message = self._redact(f"{what} failed after {attempts} attempt{plural}: {exc}")
        final: ApiError
        if isinstance(exc, MalformedResponse):
            final = MalformedResponse(message, http_status=exc.http_status)
            final.attempts = attempts
        else:
            final = ApiError(
                message,
                kind=exc.kind,
                http_status=exc.http_status,
                attempts=attempts,
                retryable=exc.retryable,
            )
        final.final = True  # type: ignore[attr-defined]  # retries already spent
        return final

    def _status_error(self, ep: _Endpoint, resp: _Response, attempt: int) -> ApiError:
        """Classify an HTTP answer that is not a success; a 429 blocks the whole endpoint."""
        detail = self._redact(describe(resp))
        if resp.status in (401, 403):
            error = CredentialsError(
                f"the Ingram API refused the credentials ({detail}): {CREDENTIALS_HINT}",
                http_status=resp.status,
            )
            # A 401 even with a token just issued is most often a gateway revoking tokens
            # early (the token endpoint has just accepted the credentials): retry it on the
            # endpoint's waits, each attempt with a fresh token, and stop the run only if it
            # lasts. A 403 is final.
            error.retryable = resp.status == 401
            return error
        if resp.status == 429:
            self._stats.add("rate_limited")
            delay = rate_limit_delay(resp.headers)
            if delay is None:
                delay = _nth_wait(ep.waits, max(attempt, 1))
            ep.gate.block(delay)
            log.debug("429 on %s: every thread waits %.3f s", ep.gate.name, delay)
        return status_error(resp.status, detail)

    def _redact(self, text: str) -> str:
        """``text`` without the secret or a recent token, in any encoding they come back in."""
        secrets = (self.settings.client_secret, *self._tokens.seen)
        if self._mask_forms[0] != secrets:
            self._mask_forms = (secrets, forms_of(*secrets))
        return mask_secrets(text, self._mask_forms[1])

    # ------------------------------------------------------------ token

    def _send_authorized(self, ep: _Endpoint, request: _Request) -> _Response:
        """Send with the current token; after a 401, refresh it once and send again."""
        token = self._tokens.current(lambda: self._ask_for_token(ep))
        resp = self._send_api(ep, request, token)
        if resp.status != 401:
            return resp
        log.debug("401 on %s: refreshing the token", ep.gate.name)
        token = self._tokens.after_401(token, lambda: self._ask_for_token(ep))
        return self._send_api(ep, request, token)

    def _ask_for_token(self, ep: _Endpoint) -> tuple[str, float]:
        """(token, Unix time it expires) from the token URL."""
        request = _Request("POST", "", "token request", url=self.token_url)
        try:
            return self._retrying(
                request.what,
                ep.waits,
                lambda retry: _nth_wait(ep.waits, retry.attempt_number),
                self._token_attempt,
                request,
            )
        except (CredentialsError, ApiUnavailable, Cancelled):
            raise
        except ApiError as exc:
            raise ApiUnavailable(
                f"cannot get a token from {self.token_url}: {exc}; check INGRAM_API_URL,"
                " INGRAM_TOKEN_URL and the network, then sync again (it resumes)",
                http_status=exc.http_status,
                attempts=exc.attempts,
            ) from exc

    def _token_attempt(self, request: _Request, attempt: int) -> tuple[str, float]:
        cancellable_sleep(self._cancel, 0.0)
        s = self.settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id}
        form["client_secret"] = s.client_secret
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self._stats.add("token_requests")
        started = time.time()
        try:
            resp = self._http(request, headers, data=form)
        except Unreachable as exc:
            if self._tokens.seen:
                raise  # it answered before: a restart or a blip, worth the retries
            raise ApiUnavailable(f"{exc}; check INGRAM_API_URL and the network") from None
        if resp.status == 404:
            raise TokenUrlNotFound(
                f"the token URL {self.token_url} answered HTTP 404: check INGRAM_API_URL,"
                " INGRAM_TOKEN_URL and INGRAM_TOKEN_PATH (not a credentials problem)"
            )
        if resp.status == 200:
            try:
                token, lifetime = parse_token(loads(resp.body))
            except MalformedResponse as exc:
                raise MalformedResponse(str(exc), http_status=200) from None
            return token, started + lifetime
        detail = self._redact(describe(resp))
        if 400 <= resp.status < 500 and resp.status not in (408, 429):
            raise CredentialsError(
                f"the Ingram API refused the token request ({detail}): {CREDENTIALS_HINT}",
                http_status=resp.status,
            )
        raise status_error(resp.status, detail)

    # ------------------------------------------------------------ HTTP

    def _send_api(self, ep: _Endpoint, request: _Request, token: str) -> _Response:
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
        window = vendor_window(resp.headers)
        if window is not None:
            waited = ep.gate.follow(window)
            self._pacing.headers(ep.gate.name, window.limit, waited)
        return resp

    def _http(self, request: _Request, headers: dict[str, str], data: Any = None) -> _Response:
        """One HTTP exchange within the timeouts and the overall deadline."""
        s = self.settings
        started = time.monotonic()
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


def forms_of(*secrets: str) -> list[str]:
    """Every encoded form of ``secrets``, longest first (see ``secret_forms``)."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    return sorted(forms, key=len, reverse=True)


def _check_part_numbers(part_numbers: Sequence[str]) -> list[str]:
    if isinstance(part_numbers, (str, bytes)):
        raise ValueError("price_and_availability takes a sequence of part numbers, not one string")
    numbers = list(part_numbers)
    if not 1 <= len(numbers) <= MAX_BATCH:
        raise ValueError(f"a P&A batch holds 1..{MAX_BATCH} part numbers, not {len(numbers)}")
    if not all(isinstance(pn, str) and pn.strip() for pn in numbers):
        raise ValueError("part numbers must be non-empty strings")
    return numbers


def _nth_wait(waits: tuple[float, ...], attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (1-based)."""
    if not waits:
        return 0.0
    return waits[min(attempt, len(waits)) - 1]


def bare_host(url: str) -> str:
    """``https://api.ingrammicro.com:443/sandbox`` -> ``https://api.ingrammicro.com:443``:
    the portal issues tokens on the bare host, Ingram's sandbox included."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_vendor_not_found(resp: _Response) -> bool:
    """A 404 in the vendor's ``{"errors": [...]}`` shape (not a gateway's page for a wrong URL)."""
    try:
        payload = loads(resp.body)
    except MalformedResponse:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("errors"), list)
