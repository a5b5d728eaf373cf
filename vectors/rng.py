"""The corpus's random numbers: stable across machines and library versions.

Only numpy's PCG64 *bit generator* is used (its output stream, seeded
through ``SeedSequence``, is fixed by design); every draw the corpus needs is
derived here from its raw 64-bit words with integer arithmetic and exact
float operations, so a numpy upgrade that changes how ``Generator`` methods
sample cannot change a corpus. No hashing, time, set order or platform
floating point (no log/exp) is involved.
"""
from __future__ import annotations

import zlib
from typing import Sequence, TypeVar

import numpy as np

T = TypeVar("T")
_TWO64 = 1 << 64


class Rng:
    def __init__(self, seed: int, stream: str = ""):
        ss = np.random.SeedSequence([int(seed), zlib.crc32(stream.encode("utf-8"))])
        self._bg = np.random.PCG64(ss)

    def raw(self) -> int:
        """The next 64-bit word of PCG64."""
        return int(self._bg.random_raw())

    def integers(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi) (rejection sampling, no modulo bias)."""
        span = int(hi) - int(lo)
        if span <= 0:
            raise ValueError(f"empty range [{lo}, {hi})")
        limit = _TWO64 - _TWO64 % span
        while True:
            r = self.raw()
            if r < limit:
                return int(lo) + r % span

    def random(self) -> float:
        """Uniform float in [0, 1) with 53 random bits."""
        return (self.raw() >> 11) / float(1 << 53)

    def geometric(self, p: float) -> int:
        """Trials up to and including the first success of probability p (>= 1)."""
        if not 0 < p <= 1:
            raise ValueError(f"p {p} outside (0, 1]")
        n = 1
        while self.random() >= p:
            n += 1
        return n

    def bytes(self, n: int) -> bytes:
        """``n`` bytes: the next ceil(n/8) words, little-endian, in one call (the same words as ``raw``)."""
        words = self._bg.random_raw(-(-n // 8)) if n > 0 else np.zeros(0, np.uint64)
        return words.astype("<u8").tobytes()[:n]

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integers(0, len(items))]
