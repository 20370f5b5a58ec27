"""The OAuth token: asked with the client credentials, shared, renewed early and after a 401.

``TokenSource`` asks the token URL (form fields ``grant_type``, ``client_id``,
``client_secret``) on the waits of the endpoint that needs it, keeps the token
through ``TokenKeeper`` (one thread renews; processes share it through the
0600 cache file), and says why none could be had: refused credentials (exit 4),
a token URL that is not one (exit 2), or nothing answering (exit 1).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ingram.api.http import ApiRequest, Response, describe, status_error
from ingram.api.parsing import loads, parse_token
from ingram.api.ratelimiting import cancellable_sleep
from ingram.api.retrying import call_with_retries, nth_wait
from ingram.api.tokencache import TokenCache, TokenKeeper
from ingram.errors import (
    ApiError,
    ApiUnavailable,
    CredentialsError,
    MalformedResponse,
    TokenUrlNotFound,
    Unreachable,
)
from ingram.models import ClientSettings
from ingram.vocab import Endpoint

CREDENTIALS_HINT = "check INGRAM_CLIENT_ID and INGRAM_CLIENT_SECRET"
Send = Callable[[ApiRequest, dict[str, str], Any], Response]


class TokenInfo(NamedTuple):
    url: str
    expires_at: float | None  # Unix time; None before the first token
    from_cache: bool  # another process's token, read from the shared cache


class TokenSource:
    """The current token for every thread of one client."""

    def __init__(
        self,
        settings: ClientSettings,
        token_url: str,
        send: Send,
        cancel: threading.Event,
        count: Callable[[str], None],
        redact: Callable[[str], str],
    ) -> None:
        self.settings = settings
        self.token_url = token_url
        self._send = send
        self._cancel = cancel
        self._count = count
        self._redact = redact
        cache = (
            TokenCache.for_client(
                Path(settings.token_cache), settings.client_id, token_url, settings.client_secret
            )
            if settings.token_cache
            else None
        )
        self._keeper = TokenKeeper(cache, settings.token_refresh_margin)

    def info(self) -> TokenInfo:
        """Where the current token came from and when it expires (``ingram-sync check``)."""
        return TokenInfo(self.token_url, self._keeper.expires_at, self._keeper.from_cache)

    @property
    def seen(self) -> list[str]:
        """The last tokens issued or read from the cache (to mask them in messages)."""
        return self._keeper.seen

    def current(self, waits: tuple[float, ...]) -> str:
        return self._keeper.current(lambda: self._ask(waits))

    def after_401(self, failed: str, waits: tuple[float, ...]) -> str:
        """A token other than ``failed``: the cache's when another process renewed it."""
        return self._keeper.after_401(failed, lambda: self._ask(waits))

    def _ask(self, waits: tuple[float, ...]) -> tuple[str, float]:
        """(token, Unix time it expires) from the token URL, on ``waits``."""
        try:
            return call_with_retries(
                "token request",
                waits,
                lambda retry: nth_wait(waits, retry.attempt_number),
                self._attempt,
                cancel=self._cancel,
                on_retry=lambda: self._count("retries"),
                redact=self._redact,
            )
        except ApiError as exc:
            if exc.resolution.then.ends_run:
                raise
            raise ApiUnavailable(
                f"cannot get a token from {self.token_url}: {exc}; check INGRAM_API_URL,"
                " INGRAM_TOKEN_URL and the network, then sync again (it resumes)",
                http_status=exc.http_status,
                attempts=exc.attempts,
                exhausted=True,
            ) from exc

    def _attempt(self, attempt: int) -> tuple[str, float]:
        cancellable_sleep(self._cancel, 0.0)
        s = self.settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id}
        form["client_secret"] = s.client_secret
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self._count("token_requests")
        started = time.time()
        request = ApiRequest(Endpoint.TOKEN, "POST", "", "token request", url=self.token_url)
        try:
            resp = self._send(request, headers, form)
        except Unreachable as exc:
            if self.seen:
                raise  # it answered before: a restart or a blip, worth the retries
            raise ApiUnavailable(f"{exc}; check INGRAM_API_URL and the network") from None
        if resp.status == 200:
            try:
                token, lifetime = parse_token(loads(resp.body))
            except MalformedResponse as exc:
                raise MalformedResponse(str(exc), http_status=200) from None
            return token, started + lifetime
        raise self._refusal(resp)

    def _refusal(self, resp: Response) -> ApiError:
        if resp.status == 404:
            return TokenUrlNotFound(
                f"the token URL {self.token_url} answered HTTP 404: check INGRAM_API_URL,"
                " INGRAM_TOKEN_URL and INGRAM_TOKEN_PATH (not a credentials problem)",
                http_status=404,
            )
        detail = self._redact(describe(resp))
        if 400 <= resp.status < 500 and resp.status not in (408, 429):
            return CredentialsError(
                f"the Ingram API refused the token request ({detail}): {CREDENTIALS_HINT}",
                http_status=resp.status,
            )
        return status_error(resp.status, detail)
