"""What DRED can cover of a loss: each burst of lost packets against the DRED of the packet that arrives next.

libopus's ``opus_demo`` (src/opus_demo.c, decode loop) is the reference behaviour:
when a packet arrives after k lost ones, it asks ``opus_dred_parse`` for at most
``min(1 s, k x d)`` of history (d: the duration of the last packet decoded),
which returns ``max(0, latents x 40 ms - dred_offset x 2.5 ms)`` (src/opus_decoder.c
``opus_dred_parse``): how far back from the start of the arriving packet its DRED
reaches. Lost packets inside that reach are concealed from DRED features;
libopus conceals the rest (at its default complexity) with the classical PLC. A
burst at the very end of a stream is not concealed at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

#: opus_demo asks for at most one second of DRED (``IMIN(sampling_rate, ...)``).
MAX_REQUEST_MS = 1000.0
LATENT_MS = 40.0  # one latent: 4 feature frames of 10 ms
OFFSET_UNIT_MS = 2.5  # dred_offset counts 2.5 ms units


@dataclass(frozen=True)
class Burst:
    """A run of lost packets and what the next arriving packet's DRED covers of it."""

    first: int  # first lost packet
    lost: int  # packets lost in a row
    packet_ms: float  # duration of each lost packet (opus_demo: the last decoded packet's)
    arriving: int | None  # the packet that arrives after the burst; None: the stream ends lost
    dred_offset: int | None = None  # of the arriving packet's DRED (2.5 ms units); None: it has none
    latent_count: int = 0

    @property
    def gap_ms(self) -> float:
        return self.lost * self.packet_ms

    @property
    def reach_ms(self) -> float:
        """How far back from the arriving packet its DRED reaches (0 without DRED)."""
        if self.dred_offset is None:
            return 0.0
        return max(0.0, LATENT_MS * self.latent_count - OFFSET_UNIT_MS * self.dred_offset)

    @property
    def covered_ms(self) -> float:
        """How much of the gap DRED fills: the reach, within the gap and the one second opus_demo asks for."""
        return min(self.reach_ms, self.gap_ms, MAX_REQUEST_MS) if self.arriving is not None else 0.0

    def reached(self) -> tuple[list[int], list[int], list[int]]:
        """The lost packets DRED reaches fully, in part, and not at all (by packet index)."""
        full, part, none = [], [], []
        for k in range(self.lost):
            start_back = (self.lost - k) * self.packet_ms  # its start, measured back from the arriving packet
            end_back = start_back - self.packet_ms
            (full if start_back <= self.covered_ms else part if end_back < self.covered_ms else none).append(
                self.first + k)
        return full, part, none


def bursts(loss: Sequence[int]) -> list[tuple[int, int]]:
    """(first, count) of each run of 1s in a loss pattern."""
    out, start = [], None
    for i, lost in enumerate(list(loss) + [0]):
        if lost and start is None:
            start = i
        elif not lost and start is not None:
            out.append((start, i - start))
            start = None
    return out


def dred_reach(durations_ms: Sequence[float], loss: Sequence[int], dred: Sequence[tuple[int, int] | None]) -> list[Burst]:
    """Each burst of ``loss`` against the DRED (dred_offset, latent_count) of the packet arriving after it.

    ``durations_ms``: each packet's duration; ``dred``: per packet its DRED's (dred_offset, latent_count), or None."""
    out = []
    for first, count in bursts(loss):
        packet_ms = durations_ms[first - 1] if first > 0 else durations_ms[first]
        arriving = first + count if first + count < len(loss) else None
        d = dred[arriving] if arriving is not None else None
        out.append(Burst(first, count, packet_ms, arriving, d[0] if d else None, d[1] if d else 0))
    return out
