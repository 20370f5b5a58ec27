"""Bearer tokens the sandbox has issued, and when each stops working."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque


class TokenStore:
    """Issued bearer tokens and when they stop working (monotonic clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._issued: deque[str] = deque(maxlen=10_000)  # for tests hunting leaked tokens

    def issue(self, lifetime: float) -> str:
        """A fresh random token valid for ``lifetime`` seconds."""
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            if len(self._expiry) > 1000:  # long demos: forget expired ones
                self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + lifetime
            self._issued.append(token)
        return token

    def issued(self) -> list[str]:
        """Every token issued (the latest 10,000), revoked and expired ones included."""
        with self._lock:
            return list(self._issued)

    def is_valid(self, token: str | None) -> bool:
        """Known and not expired."""
        if not token:
            return False
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and expiry > time.monotonic()

    def revoke(self, token: str | None) -> None:
        """Make one token fail from now on."""
        with self._lock:
            self._expiry.pop(token or "", None)

    def revoke_all(self) -> None:
        """Make every issued token fail from now on."""
        with self._lock:
            self._expiry.clear()
