"""Deterministic randomness and part numbers for the sandbox's catalog.

``mix`` hashes integers (splitmix64), ``Draws`` is a cheap seeded stream, and
part numbers are an invertible permutation of a product's index, so the catalog
needs no table to know what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_MASK = (1 << 64) - 1
_PN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PN_LEN = 6
_PN_SPACE = 36**_PN_LEN
_PN_MULT = 1_234_567_891  # odd and not a multiple of 3: coprime with 36**6
_PN_OFFSET = 987_654_321
_PN_INVERSE = pow(_PN_MULT, -1, _PN_SPACE)


def mix(*parts: int) -> int:
    """splitmix64-style hash: cheap, stable across processes and Python versions."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = (h ^ (part & _MASK)) & _MASK
        h = (h * 0xBF58476D1CE4E5B9) & _MASK
        h ^= h >> 31
        h = (h * 0x94D049BB133111EB) & _MASK
        h ^= h >> 29
    return h


class Draws:
    """splitmix64 draws: several times cheaper to seed and use than ``random.Random``.

    Every product seeds its own stream, so seeding cost dominates; the draws
    only need to look random, not be cryptographically or statistically strong.
    """

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def bits(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self.bits() >> 11) / 9007199254740992.0

    def randrange(self, start: int, stop: int) -> int:
        return start + self.bits() % (stop - start)

    def randint(self, low: int, high: int) -> int:
        return low + self.bits() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[self.bits() % len(seq)]

    def sample(self, seq: Sequence[Any], k: int) -> list[Any]:
        pool = list(seq)
        for i in range(k):
            j = i + self.bits() % (len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def encode_part_number(index: int) -> str:
    """Index -> 6-char uppercase base-36 part number (a bijection below 36**6)."""
    n = (index * _PN_MULT + _PN_OFFSET) % _PN_SPACE
    chars = []
    for _ in range(_PN_LEN):
        n, digit = divmod(n, 36)
        chars.append(_PN_ALPHABET[digit])
    return "".join(reversed(chars))


def decode_part_number(pn: str) -> int | None:
    """Part number -> index, or None when it cannot be one of ours."""
    pn = pn.strip().upper()
    if len(pn) != _PN_LEN or any(c not in _PN_ALPHABET for c in pn):
        return None
    n = 0
    for c in pn:
        n = n * 36 + _PN_ALPHABET.index(c)
    return ((n - _PN_OFFSET) * _PN_INVERSE) % _PN_SPACE
