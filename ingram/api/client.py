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
from typing import Any, TypeVar
from urllib.parse import quote

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ingram.api.http import Response as _Response
from ingram.api.http import SessionPool, build_session, describe, exchange, status_error
from ingram.api.parsing import (
    loads,
    parse_details,
    parse_price_availability,
    parse_search_page,
    parse_token,
)
from ingram.api.ratelimiting import EndpointGate, cancellable_sleep, rate_limit_delay
from ingram.errors import (
    ApiError,
    ApiUnavailable,
    Cancelled,
    CredentialsError,
    MalformedResponse,
    mask_secrets,
    secret_forms,
)
from ingram.models import (
    ClientSettings,
    ClientStats,
    PriceAvailability,
    ProductDetails,
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
        self._token_lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic time to refresh)
        self._tokens_seen: list[str] = []
        self._secret_forms = forms_of(settings.client_secret)
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
        body = json.dumps({"products": [{"ingramPartNumber": pn} for pn in numbers]})
        what = f"P&A request for {len(numbers)} part number{'s' if len(numbers) != 1 else ''}"
        request = _Request("POST", PA_PATH, what, PA_QUERY, body.encode())

        def handle(resp: _Response) -> list[PriceAvailability]:
            if resp.status not in (200, 207):
                raise self._status_error(self._pa, resp, 0)
            return parse_price_availability(loads(resp.body))

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

    def stats(self) -> ClientStats:
        """A snapshot of the counters (requests sent, token requests, retries, 429s)."""
        return self._stats.snapshot()

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
        if resp.status == 404 and _is_vendor_not_found(resp):
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
        except (CredentialsError, ApiUnavailable, Cancelled):
            raise
        except ApiError as exc:
            if getattr(exc, "final", False):  # the token request gave up: say so as it is
                raise
            raise self._final_error(what, exc, attempts[0]) from exc

    def _attempt(
        self, ep: _Endpoint, request: _Request, handle: Callable[[_Response], T], attempt: int
    ) -> T:
        resp = self._send_authorized(ep, request)
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
            return _nth_wait(ep.waits, state.attempt_number)

        return wait

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
        return mask_secrets(text, self._secret_forms)

    # ------------------------------------------------------------ token

    def _send_authorized(self, ep: _Endpoint, request: _Request) -> _Response:
        """Send with the current token; after a 401, refresh it once and send again."""
        token = self._current_token(ep)
        resp = self._send_api(ep, request, token)
        if resp.status != 401:
            return resp
        log.debug("401 on %s: refreshing the token", ep.gate.name)
        token = self._refresh_after_401(ep, token)
        return self._send_api(ep, request, token)

    def _current_token(self, ep: _Endpoint) -> str:
        state = self._token
        if state is not None and time.monotonic() < state[1]:
            return state[0]
        with self._token_lock:
            state = self._token
            if state is None or time.monotonic() >= state[1]:
                state = self._fetch_token(ep)
            return state[0]

    def _refresh_after_401(self, ep: _Endpoint, failed: str) -> str:
        with self._token_lock:
            state = self._token
            if state is None or state[0] == failed:  # nobody has refreshed it yet
                state = self._fetch_token(ep)
            return state[0]

    def _fetch_token(self, ep: _Endpoint) -> tuple[str, float]:
        """Ask for a new token (token lock held), retried like any call of ``ep``."""
        request = _Request("POST", self.settings.token_path, "token request")
        try:
            state = self._retrying(
                request.what,
                ep.waits,
                lambda retry: _nth_wait(ep.waits, retry.attempt_number),
                self._token_attempt,
                request,
            )
        except (CredentialsError, Cancelled):
            raise
        except ApiError as exc:
            raise ApiUnavailable(
                f"cannot get a token from {self.settings.base_url}: {exc}; check INGRAM_API_URL"
                " and the network, then sync again (it resumes)",
                http_status=exc.http_status,
                attempts=exc.attempts,
            ) from exc
        self._token = state
        self._tokens_seen = [*self._tokens_seen[-4:], state[0]]
        self._secret_forms = forms_of(self.settings.client_secret, *self._tokens_seen)
        return state

    def _token_attempt(self, request: _Request, attempt: int) -> tuple[str, float]:
        cancellable_sleep(self._cancel, 0.0)
        s = self.settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id}
        form["client_secret"] = s.client_secret
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self._stats.add("token_requests")
        started = time.monotonic()
        resp = self._http(request, headers, data=form)
        if resp.status == 200:
            try:
                token, lifetime = parse_token(loads(resp.body))
            except MalformedResponse as exc:
                raise MalformedResponse(str(exc), http_status=200) from None
            margin = min(s.token_refresh_margin, lifetime / 10)
            return token, started + lifetime - margin
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
        return self._http(request, headers, data=request.body)

    def _http(self, request: _Request, headers: dict[str, str], data: Any = None) -> _Response:
        """One HTTP exchange within the timeouts and the overall deadline."""
        s = self.settings
        started = time.monotonic()
        resp = exchange(
            self._sessions.get(),
            request.method,
            s.base_url.rstrip("/") + request.path,
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


def _is_vendor_not_found(resp: _Response) -> bool:
    """A 404 in the vendor's ``{"errors": [...]}`` shape (not a gateway's page for a wrong URL)."""
    try:
        payload = loads(resp.body)
    except MalformedResponse:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("errors"), list)
