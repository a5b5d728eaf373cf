"""Shared pieces of the fuzz targets: a byte consumer, the contract's exception (the data: tests.helpers.shared)."""
from __future__ import annotations


class ContractViolation(AssertionError):
    """A result broke an invariant, or two implementations disagree: a bug, reported like a crash."""


def check(cond: bool, what: str) -> None:
    if not cond:
        raise ContractViolation(what)


class Input:
    """Deterministic choices taken from the front of a fuzz input (like atheris's FuzzedDataProvider,
    which is not available without atheris); the bytes not consumed are ``rest()``."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def int(self, n: int) -> int:
        """An integer in 0..n-1 from one or two bytes."""
        if n <= 1:
            return 0
        v = self.byte() if n <= 256 else self.byte() << 8 | self.byte()
        return v % n

    def bool(self) -> bool:
        return bool(self.byte() & 1)

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    @property
    def left(self) -> int:
        return len(self.data) - self.pos
