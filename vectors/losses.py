"""Seeded loss patterns for the integration stage, in opus_demo's ``-lossfile`` format (one 0/1 per packet).

A Gilbert-Elliott channel: two states, *good* (no loss) and *bad* (every packet
lost); from good it turns bad with probability ``p``, from bad back to good with
probability ``r``. The mean burst is ``1/r`` packets and the loss rate
``p / (p + r)``, so ``r = 1/burst`` and ``p = rate / (burst (1 - rate))``. The
first and the last packet are never lost: opus_demo conceals a loss only when a
later packet arrives. Drawn with :class:`dredconf.vectors.rng.Rng`: the same
seed gives the same bytes on every machine.
"""
from __future__ import annotations

from dredconf.vectors.rng import Rng


def gilbert_elliott(packets: int, *, seed: int, rate: float, burst: float) -> list[int]:
    """``packets`` loss flags (1 = lost) with a long-run loss ``rate`` and mean burst length ``burst`` packets."""
    if packets < 2:
        raise ValueError("a loss pattern needs at least 2 packets (the first and last are never lost)")
    if not 0 <= rate < 1:
        raise ValueError(f"--rate {rate}: want 0 <= rate < 1")
    if burst < 1:
        raise ValueError(f"--burst {burst}: a mean burst is at least 1 packet")
    r = 1.0 / burst
    p = rate / (burst * (1.0 - rate)) if rate else 0.0
    if p > 1:
        raise ValueError(f"--rate {rate} with --burst {burst} needs p = {p:.3f} > 1: lower the rate or raise the burst")
    rng = Rng(seed, "losses")
    out, bad = [], False
    for i in range(packets):
        bad = (rng.random() >= r) if bad else (rng.random() < p)
        out.append(int(bad and 0 < i < packets - 1))
    return out


def loss_text(flags: list[int]) -> str:
    """The lossfile: one flag per line."""
    return "".join(f"{f}\n" for f in flags)
