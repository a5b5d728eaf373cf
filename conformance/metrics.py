"""libopus's feature-comparison metric (``dnn/dred_compare.c -features``) and its thresholds.

For a reference feature file x and a test file y (rows of 20 features: 18 cepstral
coefficients, pitch at column 18, pitch correlation at column 19), dred_compare computes

* per-feature MSE over all rows: ``mse[i] = mean((x[:, i] - y[:, i])**2)``;
* ``tot = sqrt(sum of mse[i] over the 19 columns other than pitch)`` (pitch correlation,
  column 19, is included);
* ``max = sqrt(max of mse[i] over the same 19 columns)``;
* ``pitch = mean |x[:, 18] - y[:, 18]|`` over the rows whose REFERENCE pitch correlation
  ``x[:, 19] > 0.2`` (the test file's correlation is not looked at; no scaling).  With no
  such row libopus divides 0 by 0: NaN, and its threshold test fails; so does ours (and
  with no rows at all every error is NaN).

libopus's conformance script (``tests/dred_vectors.sh``) accepts ``tot <= 0.5``,
``max <= 0.15``, ``pitch <= 0.02``.  libopus accumulates in float32; this module
accumulates in float64 (the difference is far below any threshold).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace as _replace
from pathlib import Path

import numpy as np

NUM_FEATURES = 20
PITCH = 18                 # pitch column
PITCH_CORR = 19            # pitch-correlation column
PITCH_CORR_MIN = 0.2       # rows with reference correlation above this count for the pitch error
NON_PITCH = tuple(i for i in range(NUM_FEATURES) if i != PITCH)   # the 19 columns of tot and max

# libopus tests/dred_vectors.sh: dred_compare -features -thresholds .5 .15 .02
TOT_THRESHOLD = 0.5
MAX_THRESHOLD = 0.15
PITCH_THRESHOLD = 0.02


@dataclass(frozen=True)
class Thresholds:
    """Limits for tot, max and pitch; ``judge`` is libopus's test (every error <= its limit, NaN fails)."""
    tot: float = TOT_THRESHOLD
    max: float = MAX_THRESHOLD
    pitch: float = PITCH_THRESHOLD

    @classmethod
    def libopus(cls) -> "Thresholds":
        """The thresholds of libopus's tests/dred_vectors.sh: 0.5, 0.15, 0.02."""
        return cls(TOT_THRESHOLD, MAX_THRESHOLD, PITCH_THRESHOLD)

    def replace(self, **changes: float | None) -> "Thresholds":
        """A copy with the given limits changed; None keeps the current one."""
        return _replace(self, **{k: float(v) for k, v in changes.items() if v is not None})

    def scaled(self, fraction: float) -> "Thresholds":
        """Every limit times ``fraction`` (e.g. 0.1 for a tenth of libopus's)."""
        return Thresholds(self.tot * fraction, self.max * fraction, self.pitch * fraction)

    def judge(self, err: "FeatureErrors") -> bool:
        return bool(err.tot <= self.tot and err.max <= self.max and err.pitch <= self.pitch)


@dataclass(frozen=True)
class FeatureErrors:
    """dred_compare -features results for one comparison."""
    tot: float
    max: float
    pitch: float                  # NaN when pitch_count == 0 (as in libopus)
    per_feature_mse: np.ndarray   # (20,) float64, pitch column included for information
    rows: int
    pitch_count: int              # rows with reference pitch correlation > 0.2

    def passes(self, limits: Thresholds | None = None) -> bool:
        """libopus's test against ``limits`` (default: libopus's own); a NaN fails, as in C."""
        return (limits or Thresholds.libopus()).judge(self)

    def __str__(self) -> str:
        return f"total = {self.tot:f}, max = {self.max:f}, pitch = {self.pitch:f}"


def feature_errors(ref: np.ndarray, test: np.ndarray) -> FeatureErrors:
    """Compare feature rows as ``dred_compare -features ref test`` does (ref first)."""
    x = np.asarray(ref, dtype=np.float64)
    y = np.asarray(test, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(-1, NUM_FEATURES)
    if y.ndim == 1:
        y = y.reshape(-1, NUM_FEATURES)
    if x.ndim != 2 or x.shape[1] != NUM_FEATURES or x.shape != y.shape:
        raise ValueError(f"feature arrays must both be (n, {NUM_FEATURES}); got {x.shape} and {y.shape}")
    rows = x.shape[0]
    if rows == 0:  # libopus divides by a zero count: every error NaN
        nan = np.full(NUM_FEATURES, math.nan)
        return FeatureErrors(math.nan, math.nan, math.nan, nan, 0, 0)
    mse = ((x - y) ** 2).mean(axis=0)
    kept = mse[list(NON_PITCH)]
    voiced = x[:, PITCH_CORR] > PITCH_CORR_MIN
    count = int(voiced.sum())
    pitch = float(np.abs(x[voiced, PITCH] - y[voiced, PITCH]).mean()) if count else math.nan
    return FeatureErrors(tot=float(np.sqrt(kept.sum())), max=float(np.sqrt(kept.max())), pitch=pitch,
                         per_feature_mse=mse, rows=rows, pitch_count=count)


def read_f32_features(path: str | Path) -> np.ndarray:
    """A raw feature file as dred_compare reads it: little-endian float32, rows of 20."""
    data = Path(path).read_bytes()
    if len(data) % (4 * NUM_FEATURES):
        raise ValueError(f"{path}: {len(data)} bytes, not a whole number of {NUM_FEATURES}-float rows")
    return np.frombuffer(data, dtype="<f4").reshape(-1, NUM_FEATURES).astype(np.float32)
