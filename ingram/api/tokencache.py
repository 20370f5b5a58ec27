"""The token shared by every process of one API app and user: a 0600 file in the user's cache.

Ingram has been seen to invalidate a client's previous token when it issues a
new one. Two processes of this tool with one client id (a sync and a
``products discover``, or syncs of two databases) that each asked for their
own token would knock each other's out in a loop. So a token is kept in
``<cache>/ingram-sync/tokens/<key>.json``, read before asking for a new one,
and written (0600, atomically) after. An ``flock`` on a sibling lock file makes
one process at a time ask. Never in the database, never logged.

The key is derived (PBKDF2) from the client id, the token URL and the client
secret, never holding any of them: a token is only ever used with the
credentials that obtained it, so a wrong or rotated secret asks the token URL
(and is refused at once) instead of riding on an older token until it expires.

Only our own files are trusted: the folder must belong to the running user and
be writable by no one else, or the cache is not used (one warning); a token
file of another user, or one others may write, is ignored and replaced; one
others may read is made 0600 (one warning). Folder and files are reached
through the folder's descriptor, so a folder swapped in meanwhile is not used.
The reach is one user (the files are theirs) and one host, or several hosts
sharing a path whose filesystem honours ``flock`` across them.

Example::

    cache = TokenCache.for_client(Path("~/.cache").expanduser(), "id", token_url, secret)
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
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["TokenCache", "TokenKeeper", "UntrustedCache"]

log = logging.getLogger("ingram.api.tokencache")

Ask = Callable[[], tuple[str, float]]  # asks the token URL: (token, Unix time it expires)
KEY_ROUNDS = 20_000  # a file name must not let a weak secret be guessed cheaply
OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
OTHERS_READ = stat.S_IRGRP | stat.S_IROTH


class UntrustedCache(Exception):
    """The cache folder is another user's, or others may write in it: it is not used."""


def _not_ours(info: os.stat_result) -> str | None:
    """Why a file or folder is not to be trusted: another user's, or writable by others."""
    if info.st_uid != os.geteuid():
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & OTHERS_WRITE:
        return f"is writable by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


class TokenCache:
    """One API app's token file; every method is safe when the file is missing or junk."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self._lock_name = f"{Path(name).stem}.lock"
        self._warned: set[str] = set()

    @property
    def path(self) -> Path:
        return self.folder / self.name

    @classmethod
    def for_client(
        cls, folder: Path, client_id: str, token_url: str, client_secret: str
    ) -> TokenCache:
        salt = f"ingram-sync token cache\n{client_id}\n{token_url}".encode()
        key = hashlib.pbkdf2_hmac("sha256", client_secret.encode(), salt, KEY_ROUNDS)
        return cls(folder / "ingram-sync" / "tokens", f"{key.hex()[:32]}.json")

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the app's token lock: one process at a time reads, asks, writes."""
        with self._folder() as folder:
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
            fd = os.open(self._lock_name, flags, 0o600, dir_fd=folder)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def read(self) -> tuple[str, float] | None:
        """(token, Unix time it expires) when the file holds one we trust; None otherwise."""
        try:
            with self._folder() as folder:
                fd = os.open(self.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
                with os.fdopen(fd, encoding="utf-8") as handle:
                    if not self._trusted(handle.fileno()):
                        return None
                    data = json.load(handle)
            token, expires = data["access_token"], float(data["expires_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(token, str) or not token:
            return None
        return token, expires

    def write(self, token: str, expires_at: float) -> None:
        """Replace the file atomically, created 0600 (a token is a credential)."""
        with self._folder() as folder:
            temporary = f".{self.name}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            fd = os.open(temporary, flags, 0o600, dir_fd=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"access_token": token, "expires_at": expires_at}, handle)
            os.replace(temporary, self.name, src_dir_fd=folder, dst_dir_fd=folder)

    @contextlib.contextmanager
    def _folder(self) -> Iterator[int]:
        """The cache folder (made 0700 when missing), open; UntrustedCache unless it is ours."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            problem = _not_ours(os.fstat(fd))
            if problem:
                raise UntrustedCache(f"the token cache folder {self.folder} {problem}")
            yield fd
        finally:
            os.close(fd)

    def _trusted(self, fd: int) -> bool:
        """Whether the open token file is ours to use; a file others may read is made 0600."""
        info = os.fstat(fd)
        problem = _not_ours(info)
        if problem:
            self._warn(f"the token file {self.path} {problem}: ignored, a new token replaces it")
            return False
        if info.st_mode & OTHERS_READ:
            self._warn(
                f"the token file {self.path} was readable by other users"
                f" (mode {stat.S_IMODE(info.st_mode):04o}): made 0600"
            )
            os.fchmod(fd, 0o600)
        return True

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("warning: %s", message)


class TokenKeeper:
    """The client's token: in memory, shared through the cache file, renewed by one thread
    at a time a little before it expires, and after a 401 (re-reading the file first)."""

    def __init__(self, cache: TokenCache | None, refresh_margin: float) -> None:
        self._cache = cache
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic time to renew)
        self.seen: list[str] = []  # the latest tokens, for redacting messages
        self.expires_at: float | None = None  # Unix time the current token expires
        self.from_cache = False  # the current token was another process's, from the cache

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
            except UntrustedCache as exc:
                log.warning(
                    "warning: %s: it is not used, tokens are not shared between processes;"
                    " make it yours (chmod 700), or set INGRAM_TOKEN_CACHE to a folder of"
                    " yours, or to off",
                    exc,
                )
                self._cache = None
            except OSError as exc:
                log.warning(
                    "the token cache in %s cannot be used (%s): tokens are not shared between"
                    " processes; set INGRAM_TOKEN_CACHE to a writable folder, or to off",
                    self._cache.folder,
                    exc.strerror or type(exc).__name__,
                )
                self._cache = None
        self.from_cache = False
        return self._keep(*ask())

    def _shared(self, cache: TokenCache, ask: Ask, failed: str | None) -> tuple[str, float]:
        with cache.exclusive():
            cached = cache.read()
            fresh = cached is not None and cached[1] - time.time() > self._margin
            self.from_cache = cached is not None and fresh and cached[0] != failed
            if cached is not None and self.from_cache:
                return cached
            token, expires_at = ask()
            cache.write(token, expires_at)
            return token, expires_at

    def _keep(self, token: str, expires_at: float) -> tuple[str, float]:
        lifetime = expires_at - time.time()
        state = (token, time.monotonic() + lifetime - min(self._margin, lifetime / 10))
        self._token, self.expires_at = state, expires_at
        self.seen = [*self.seen[-4:], token]
        return state
