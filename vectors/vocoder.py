"""The vocoder group: feature trajectories the generator writes itself (no speech needed), each with libopus's
synthesis of it as the reference computes it (bit for bit libopus 1.6.1's generic C ``fargan_demo
-fargan-synthesis``, docs/FARGAN.md).

A feature frame is 20 float32 values per 10 ms: 18 cepstral coefficients, the pitch feature f (period
``256 / 2^(f + 1.5)`` samples: f = -1.5 is 256, f = 1.5 is 32, the range FARGAN's pitch embedding covers;
outside it the period is clamped) and the pitch correlation (voiced near +0.5, unvoiced near -0.5). "Legal"
values are those libopus's feature extraction produces: the ranges below are what it gave on the two shared
speech items (1,337 frames), rounded outwards. Every trajectory is drawn from the corpus's seeded generator
(:class:`~dredconf.vectors.rng.Rng`, stream ``vocoder``), so the same seed gives the same bytes.

The vocoder is not normative, and on synthetic features libopus's own builds can differ by more than the
allowance: measured on 2026-11-29 with libopus's audio metric, libopus 1.6.1's SSE2 and AVX2 builds against its
generic C build score err4 0.11-1.02 on these items (0.08-0.14 on the shared speech), the largest at long pitch
periods. So only the items both builds pass with a margin are ``valid`` (silence: err4 at most 0.47 of the
threshold; extreme cepstra: 0.64); the others are ``acceptable``: ``check`` judges them at the same thresholds
and reports the result, but one beyond the allowance does not make a run non-conforming. The mutants fail the
valid ones (a pitch offset of 0.08: err4 0.74 on the extreme cepstra; flattened cepstra: 1.20). The shortest item
has two frames: fargan_demo primes its state with the first frame and, given only one, synthesises from
uninitialised memory (docs/FARGAN.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dredconf.spec.record import NUM_FEATURES

from .rng import Rng

GROUP = "vocoder"
PITCH, CORR = 18, 19
#: Per dimension, the range of libopus's feature extraction on the shared speech (slt_16k, alsaA_16k), rounded out.
LEGAL_MIN = np.array([-12.0, -9.6, -2.6, -2.5, -3.2, -1.4, -3.4, -1.7, -1.5, -1.6, -1.9, -1.1, -1.0, -1.0,
                      -1.1, -0.9, -0.6, -0.7, -1.5, -0.5], dtype=np.float32)
LEGAL_MAX = np.array([13.9, 6.1, 6.8, 4.8, 2.7, 2.4, 1.2, 1.7, 1.8, 1.7, 0.9, 1.1, 1.1, 0.9, 0.6, 0.7, 0.7, 0.8,
                      1.5, 0.5], dtype=np.float32)
#: A voiced vowel: the median frame of the same speech.
TYPICAL = np.array([4.73, 1.65, 0.85, 0.91, -0.13, 0.23, -0.38, 0.06, -0.04, 0.04, -0.32, 0.05, -0.07, -0.04,
                    -0.19, -0.10, -0.01, -0.02, -0.01, 0.22], dtype=np.float32)
VOICED, UNVOICED = 0.45, -0.45


#: Why a generated vocoder item is acceptable rather than valid (the manifest's ``behaviour``).
ACCEPTABLE = ("synthetic features where libopus's own builds differ beyond the allowance: judged and reported, "
              "not decisive")


@dataclass(frozen=True)
class VocoderItem:
    """One vocoder vector: its id, what it exercises, its flags and its feature frames (float32, (n, 20))."""

    id: str
    comment: str
    flags: tuple[str, ...]
    features: np.ndarray
    #: ``valid`` where libopus's builds agree within the allowance with a margin, else ``acceptable``.
    result: str = "acceptable"


def _frames(n: int, base=TYPICAL) -> np.ndarray:
    return np.tile(np.asarray(base, dtype=np.float32), (n, 1))


def _uniform(rng: Rng, lo: float, hi: float) -> float:
    return lo + (hi - lo) * rng.random()


def pitch_sweep(n: int, f_from: float, f_to: float) -> np.ndarray:
    """Voiced frames whose pitch feature moves linearly from ``f_from`` to ``f_to``."""
    f = _frames(n)
    f[:, PITCH] = np.linspace(f_from, f_to, n, dtype=np.float64).astype(np.float32)
    f[:, CORR] = VOICED
    return f


def voicing_switches(rng: Rng, n: int) -> np.ndarray:
    """Blocks of 3..25 frames, voiced and unvoiced in turn, each at its own pitch and spectrum."""
    f, i, voiced = _frames(n), 0, True
    while i < n:
        k = min(n - i, rng.integers(3, 26))
        f[i:i + k, PITCH] = _uniform(rng, -1.2, 1.2)
        f[i:i + k, CORR] = VOICED if voiced else UNVOICED
        f[i:i + k, 1:6] += np.float32(_uniform(rng, -1.0, 1.0))
        i, voiced = i + k, not voiced
    return f


def silence(n: int) -> np.ndarray:
    """The lowest energy the extraction gives, a flat spectrum, no voicing."""
    f = np.zeros((n, NUM_FEATURES), dtype=np.float32)
    f[:, 0] = LEGAL_MIN[0]
    f[:, CORR] = LEGAL_MIN[CORR]
    return f


def extreme_cepstra(rng: Rng, n: int) -> np.ndarray:
    """Every cepstral coefficient at one end of its legal range or the other, changing every few frames."""
    f = _frames(n)
    i = 0
    while i < n:
        k = min(n - i, rng.integers(2, 9))
        ends = [LEGAL_MIN[d] if rng.random() < 0.5 else LEGAL_MAX[d] for d in range(18)]
        f[i:i + k, :18] = np.asarray(ends, dtype=np.float32)
        f[i:i + k, PITCH] = _uniform(rng, -1.5, 1.5)
        f[i:i + k, CORR] = VOICED if rng.random() < 0.5 else UNVOICED
        i += k
    return f


def random_walk(rng: Rng, n: int) -> np.ndarray:
    """A slow random walk inside the legal ranges: long, speech-like in its dynamics."""
    f = _frames(n)
    step = (LEGAL_MAX - LEGAL_MIN) / 40
    for i in range(1, n):
        move = np.array([_uniform(rng, -1.0, 1.0) for _ in range(NUM_FEATURES)], dtype=np.float32) * step
        f[i] = np.clip(f[i - 1] + move, LEGAL_MIN, LEGAL_MAX)
    return f


def build_items(seed: int) -> list[VocoderItem]:
    """The group's vectors, in order."""
    rng = Rng(seed, GROUP)
    onset = np.concatenate([silence(60), pitch_sweep(140, -0.4, 0.4)])
    return [
        VocoderItem("vocoder-pitch-sweep-full", "pitch swept over FARGAN's whole period range, 256 down to 32 "
                    "samples, voiced", ("VocoderPitchSweep",), pitch_sweep(400, -1.5, 1.5)),
        VocoderItem("vocoder-pitch-sweep-clamped", "pitch swept past both ends of the period range (clamped), "
                    "voiced", ("VocoderPitchSweep", "VocoderPitchClamped"), pitch_sweep(300, 1.9, -1.9)),
        VocoderItem("vocoder-voicing-switches", "voiced and unvoiced blocks of 3..25 frames in turn, each at its "
                    "own pitch and spectrum", ("VocoderVoicingSwitch",), voicing_switches(rng, 300)),
        VocoderItem("vocoder-silence", "the lowest energy of the extraction, flat spectrum, unvoiced",
                    ("VocoderSilence",), silence(200), "valid"),
        VocoderItem("vocoder-onset", "silence, then voiced speech: the synthesis starts from nothing",
                    ("VocoderSilence", "VocoderOnset"), onset),
        VocoderItem("vocoder-extreme-cepstra", "every cepstral coefficient at one end of its legal range, changing "
                    "every 2..8 frames", ("VocoderExtremeCepstra",), extreme_cepstra(rng, 200), "valid"),
        VocoderItem("vocoder-shortest", "the shortest input fargan_demo defines: one frame primes the state, one "
                    "is synthesised", ("VocoderShortest",), _frames(2)),
        VocoderItem("vocoder-long", "1,000 frames (10 s) of a slow random walk inside the legal ranges",
                    ("VocoderLong",), random_walk(rng, 1000)),
    ]


def features_bytes(item: VocoderItem) -> bytes:
    """The features file: little-endian float32, 20 per frame."""
    return np.ascontiguousarray(item.features, dtype="<f4").tobytes()
