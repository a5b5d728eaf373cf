"""libopus's feature-comparison metric (``dnn/dred_compare.c -features``), its thresholds, and one score type.

For reference rows x and test rows y (20 features each: 18 cepstral coefficients,
pitch at column 18, pitch correlation at column 19), dred_compare computes

* per-feature MSE over all rows: ``mse[i] = mean((x[:, i] - y[:, i])**2)``;
* ``tot = sqrt(sum of mse[i] over the 19 columns other than pitch)`` (pitch
  correlation, column 19, is included);
* ``max = sqrt(max of mse[i] over the same 19 columns)``;
* ``pitch = mean |x[:, 18] - y[:, 18]|`` over the rows whose REFERENCE pitch
  correlation ``x[:, 19] > 0.2`` (the test file's correlation is not looked at).
  With no such row libopus divides 0 by 0: NaN, and its threshold test fails.

libopus's conformance script (``tests/dred_vectors.sh``) accepts ``tot <= 0.5``,
``max <= 0.15``, ``pitch <= 0.02``. libopus accumulates in float32; this module
in float64 (the difference is far below any threshold).

``dredconf check`` applies the metric to each packet's rows and to a whole
stream; there, a packet or stream with no voiced row has no pitch error
("n/a", counted as 0, where dred_compare would fail): ``passes(...,
unvoiced_ok=True)``. ``dredconf compare`` keeps dred_compare's rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dredconf.spec.record import NUM_FEATURES

PITCH = 18  # pitch column
PITCH_CORR = 19  # pitch-correlation column
PITCH_CORR_MIN = 0.2  # rows with reference correlation above this count for the pitch error
NON_PITCH = tuple(i for i in range(NUM_FEATURES) if i != PITCH)  # the 19 columns of tot and max
NAMES = ("tot", "max", "pitch")


@dataclass(frozen=True)
class FeatureThresholds:
    """Limits for tot, max and pitch; the defaults are libopus's (``dred_compare -features -thresholds .5 .15 .02``)."""

    tot: float = 0.5
    max: float = 0.15
    pitch: float = 0.02

    def replace(self, **changes: float | None) -> "FeatureThresholds":
        """A copy with the given limits changed; None keeps the current one."""
        return replace(self, **{k: float(v) for k, v in changes.items() if v is not None})

    def scaled(self, fraction: float) -> "FeatureThresholds":
        """Every limit times ``fraction`` (e.g. 0.1 for a tenth of libopus's)."""
        return FeatureThresholds(self.tot * fraction, self.max * fraction, self.pitch * fraction)


@dataclass(frozen=True)
class FeatureScore:
    """The metric for some rows (per-feature RMS kept for plots)."""

    tot: float
    max: float
    pitch: float  # NaN when no row is voiced (pitch_rows == 0), as in libopus
    rows: int
    pitch_rows: int
    per_feature_rms: tuple[float, ...] = ()

    def pitch_for(self, unvoiced_ok: bool) -> float:
        """The pitch error as judged: 0 for an unvoiced set of rows when ``unvoiced_ok``."""
        return 0.0 if unvoiced_ok and self.rows and not self.pitch_rows else self.pitch

    def passes(self, th: FeatureThresholds, *, unvoiced_ok: bool = True) -> bool:
        """Every error within its limit; a NaN fails (as in C)."""
        return bool(self.tot <= th.tot and self.max <= th.max and self.pitch_for(unvoiced_ok) <= th.pitch)

    def badness(self, th: FeatureThresholds) -> float:
        """The largest of error/limit (over 1 fails; inf for NaN)."""
        vals = (self.tot / th.tot, self.max / th.max, self.pitch_for(True) / th.pitch)
        return max(v if v == v else math.inf for v in vals)

    def describe(self, th: FeatureThresholds, *, unvoiced_ok: bool = True) -> str:
        """``tot 0.0810 <= 0.5 (margin +0.4190), max ... , pitch ...``"""
        parts = []
        for name in NAMES:
            if name == "pitch" and unvoiced_ok and self.rows and not self.pitch_rows:
                parts.append("pitch n/a (no row with pitch correlation > 0.2)")
                continue
            v, lim = getattr(self, name), getattr(th, name)
            parts.append(f"{name} {number(v)} {'<=' if v <= lim else '>'} {lim:g} (margin {signed(lim - v)})")
        return ", ".join(parts)

    def to_json(self) -> dict:
        j = lambda x: x if math.isfinite(x) else None  # noqa: E731
        return {"tot": j(self.tot), "max": j(self.max), "pitch": j(self.pitch), "rows": self.rows,
                "pitch_rows": self.pitch_rows, "per_feature_rms": [j(x) for x in self.per_feature_rms]}

    @classmethod
    def from_json(cls, d: dict) -> "FeatureScore":
        f = lambda x: math.nan if x is None else float(x)  # noqa: E731
        return cls(f(d["tot"]), f(d["max"]), f(d["pitch"]), int(d["rows"]), int(d["pitch_rows"]),
                   tuple(f(x) for x in d.get("per_feature_rms", ())))


def number(v: float) -> str:
    """A metric value in reports: 4 decimals, or 4 significant digits when tiny."""
    if v != v:
        return "nan"
    return f"{v:.4g}" if 0 < abs(v) < 1e-3 else f"{v:.4f}"


def signed(v: float) -> str:
    return "nan" if v != v else f"{v:+.4f}"


def as_rows(values) -> np.ndarray:
    """Feature values as a (n, 20) float32 array."""
    a = np.asarray(values, dtype=np.float32)
    return a.reshape(-1, NUM_FEATURES) if a.size else np.zeros((0, NUM_FEATURES), np.float32)


def feature_score(ref, test) -> FeatureScore:
    """Compare feature rows as ``dred_compare -features ref test`` does (ref first)."""
    x = np.asarray(ref, dtype=np.float64).reshape(-1, NUM_FEATURES)
    y = np.asarray(test, dtype=np.float64).reshape(-1, NUM_FEATURES)
    if x.shape != y.shape:
        raise ValueError(f"feature arrays differ in shape: {x.shape} and {y.shape}")
    if not len(x):  # libopus divides by a zero count: every error NaN
        return FeatureScore(math.nan, math.nan, math.nan, 0, 0, (math.nan,) * NUM_FEATURES)
    with np.errstate(all="ignore"):
        mse = ((x - y) ** 2).mean(axis=0)
    kept = mse[list(NON_PITCH)]
    voiced = x[:, PITCH_CORR] > PITCH_CORR_MIN
    count = int(voiced.sum())
    pitch = float(np.abs(x[voiced, PITCH] - y[voiced, PITCH]).mean()) if count else math.nan
    return FeatureScore(float(np.sqrt(kept.sum())), float(np.sqrt(kept.max())), pitch, len(x), count,
                        tuple(float(v) for v in np.sqrt(mse)))


def read_f32_features(path: str | Path) -> np.ndarray:
    """A raw feature file as dred_compare reads it: little-endian float32, rows of 20."""
    data = Path(path).read_bytes()
    if len(data) % (4 * NUM_FEATURES):
        raise ValueError(f"{path}: {len(data)} bytes, not a whole number of {NUM_FEATURES}-float rows "
                         f"({4 * NUM_FEATURES} bytes each)")
    return np.frombuffer(data, dtype="<f4").reshape(-1, NUM_FEATURES).astype(np.float32)
