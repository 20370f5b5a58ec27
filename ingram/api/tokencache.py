"""The token shared by every process of one API app: a 0600 file in the user's cache folder.

Ingram has been seen to invalidate a client's previous token when it issues a
new one. Two processes of this tool with one client id (a sync and a
``products discover``, or syncs of two databases) that each asked for their
own token would knock each other's out in a loop. So a token is kept in
``<cache>/ingram-sync/tokens/<hash>.json``, keyed by a hash of the client id
and the token URL (never the secret), read before asking for a new one, and
written (0600, atomically) after. An ``flock`` on a sibling lock file makes one
process at a time ask. Never in the database, never logged.

Example::

    cache = TokenCache.for_client(Path("~/.cache").expanduser(), "client-id", token_url)
    with cache.exclusive():
        token = cache.read() or ask_for_one()
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["TokenCache", "TokenKeeper"]

log = logging.getLogger("ingram.api.tokencache")

Ask = Callable[[], tuple[str, float]]  # asks the token URL: (token, Unix time it expires)


class TokenCache:
    """One API app's token file; every method is safe when the file is missing or junk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_suffix(".lock")

    @classmethod
    def for_client(cls, folder: Path, client_id: str, token_url: str) -> TokenCache:
        key = hashlib.sha256(f"{client_id}\n{token_url}".encode()).hexdigest()[:32]
        return cls(folder / "ingram-sync" / "tokens" / f"{key}.json")

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the app's token lock: one process at a time reads, asks, writes."""
        self._make_folder()
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def read(self) -> tuple[str, float] | None:
        """(token, Unix time it expires) when the file holds one; None otherwise."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, encoding="utf-8") as handle:
                data = json.load(handle)
            token, expires = data["access_token"], float(data["expires_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(token, str) or not token:
            return None
        return token, expires

    def write(self, token: str, expires_at: float) -> None:
        """Replace the file atomically, created 0600 (a token is a credential)."""
        self._make_folder()
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"access_token": token, "expires_at": expires_at}, handle)
        os.replace(temporary, self.path)

    def _make_folder(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


class TokenKeeper:
    """The client's token: in memory, shared through the cache file, renewed by one thread
    at a time a little before it expires, and after a 401 (re-reading the file first)."""

    def __init__(self, cache: TokenCache | None, refresh_margin: float) -> None:
        self._cache = cache
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic time to renew)
        self.seen: list[str] = []  # the latest tokens, for redacting messages

    def current(self, ask: Ask) -> str:
        state = self._token
        if state is not None and time.monotonic() < state[1]:
            return state[0]
        with self._lock:
            state = self._token
            if state is None or time.monotonic() >= state[1]:
                state = self._renew(ask)
            return state[0]

    def after_401(self, failed: str, ask: Ask) -> str:
        with self._lock:
            state = self._token
            if state is None or state[0] == failed:  # nobody has renewed it yet
                state = self._renew(ask, failed)
            return state[0]

    def _renew(self, ask: Ask, failed: str | None = None) -> tuple[str, float]:
        """The cache's token unless it is ``failed`` or expiring; else ``ask`` and share it.

        A cache folder that cannot be used (read-only, not a folder) costs the
        sharing, with one warning, never the run.
        """
        if self._cache is not None:
            try:
                return self._keep(*self._shared(self._cache, ask, failed))
            except OSError as exc:
                log.warning(
                    "the token cache in %s cannot be used (%s): tokens are not shared between"
                    " processes; set INGRAM_TOKEN_CACHE to a writable folder, or to off",
                    self._cache.path.parent,
                    exc.strerror or type(exc).__name__,
                )
                self._cache = None
        return self._keep(*ask())

    def _shared(self, cache: TokenCache, ask: Ask, failed: str | None) -> tuple[str, float]:
        with cache.exclusive():
            cached = cache.read()
            fresh = cached is not None and cached[1] - time.time() > self._margin
            if cached is not None and fresh and cached[0] != failed:
                return cached
            token, expires_at = ask()
            cache.write(token, expires_at)
            return token, expires_at

    def _keep(self, token: str, expires_at: float) -> tuple[str, float]:
        lifetime = expires_at - time.time()
        state = (token, time.monotonic() + lifetime - min(self._margin, lifetime / 10))
        self._token = state
        self.seen = [*self.seen[-4:], token]
        return state
