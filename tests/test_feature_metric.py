"""libopus's dred_compare -features metric (conformance/feature_metric.py) on small arrays computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dredconf.conformance import feature_metric as M
from dredconf.conformance.feature_metric import FeatureThresholds


def _rows(n: int, corr: float = 0.5) -> np.ndarray:
    x = np.zeros((n, 20))
    x[:, M.PITCH_CORR] = corr
    return x


def test_defaults_are_libopus_thresholds():
    t = FeatureThresholds()
    assert (t.tot, t.max, t.pitch) == (0.5, 0.15, 0.02)
    assert M.NON_PITCH == tuple(range(18)) + (19,)


def test_hand_computed_example():
    ref = _rows(4)
    ref[3, M.PITCH_CORR] = 0.2          # exactly 0.2 is not > 0.2: row 3 is unvoiced
    test = ref.copy()
    # column 0: errors 1, 1, 1, 1 -> mse 1;  column 5: errors 2, 0, 0, 0 -> mse 1
    test[:, 0] += 1.0
    test[0, 5] += 2.0
    # pitch correlation column: errors 0.2 on two rows -> mse 0.02 (counts in tot and max)
    test[1, M.PITCH_CORR] += 0.2
    test[2, M.PITCH_CORR] -= 0.2
    # pitch: errors 0.1, 0.3, 0 on the three voiced rows, 5.0 on the unvoiced row (not counted)
    test[0, M.PITCH] += 0.1
    test[1, M.PITCH] -= 0.3
    test[3, M.PITCH] += 5.0
    e = M.feature_score(ref, test)
    assert e.rows == 4 and e.pitch_rows == 3
    assert e.per_feature_rms[0] == pytest.approx(1.0)
    assert e.per_feature_rms[5] == pytest.approx(1.0)
    assert e.per_feature_rms[M.PITCH_CORR] ** 2 == pytest.approx(0.02)
    assert e.per_feature_rms[M.PITCH] ** 2 == pytest.approx((0.01 + 0.09 + 25.0) / 4)  # reported, not used
    assert e.tot == pytest.approx(math.sqrt(1.0 + 1.0 + 0.02))
    assert e.max == pytest.approx(1.0)
    assert e.pitch == pytest.approx((0.1 + 0.3 + 0.0) / 3)


def test_pitch_column_excluded_from_tot_and_max():
    ref = _rows(3)
    test = ref.copy()
    test[:, M.PITCH] += 10.0
    e = M.feature_score(ref, test)
    assert e.tot == 0.0 and e.max == 0.0
    assert e.pitch == pytest.approx(10.0)


def test_pitch_uses_reference_correlation_only():
    ref = _rows(2, corr=0.1)           # unvoiced in the reference
    test = ref.copy()
    test[:, M.PITCH_CORR] = 0.9        # voiced in the test: ignored
    test[:, M.PITCH] = 1.0
    e = M.feature_score(ref, test)
    assert e.pitch_rows == 0 and math.isnan(e.pitch)
    assert not e.passes(FeatureThresholds(), unvoiced_ok=False)  # NaN fails, as libopus's comparison does
    assert e.pitch_for(True) == 0.0  # check's rule: no voiced row, no pitch error


def test_thresholds_judge_and_replace():
    ref = _rows(2)
    test = ref.copy()
    test[:, 3] += 0.1                  # mse 0.01: tot = max = 0.1
    e = M.feature_score(ref, test)
    assert e.tot == pytest.approx(0.1) and e.max == pytest.approx(0.1) and e.pitch == 0.0
    assert e.passes(FeatureThresholds())
    assert not e.passes(FeatureThresholds().replace(max=0.05, tot=None))
    assert FeatureThresholds().replace(max=None).max == 0.15
    assert not e.passes(FeatureThresholds().scaled(0.1))
    assert FeatureThresholds().scaled(0.1).tot == pytest.approx(0.05)
    assert e.describe(FeatureThresholds()) == ("tot 0.1000 <= 0.5 (margin +0.4000), max 0.1000 <= 0.15 (margin "
                                               "+0.0500), pitch 0.0000 <= 0.02 (margin +0.0200)")


def test_shapes_and_empty():
    with pytest.raises(ValueError):
        M.feature_score(np.zeros((2, 20)), np.zeros((3, 20)))
    with pytest.raises(ValueError):
        M.feature_score(np.zeros((2, 19)), np.zeros((2, 19)))
    e = M.feature_score(np.zeros((0, 20)), np.zeros((0, 20)))
    assert math.isnan(e.tot) and not e.passes(FeatureThresholds())
    flat = M.feature_score(np.zeros(40), np.ones(40))  # flat arrays are read as rows of 20
    assert flat.rows == 2


def test_read_f32_features(tmp_path):
    a = np.arange(60, dtype="<f4").reshape(3, 20)
    p = tmp_path / "f.f32"
    p.write_bytes(a.tobytes())
    assert np.array_equal(M.read_f32_features(p), a)
    p.write_bytes(a.tobytes()[:-4])
    with pytest.raises(ValueError):
        M.read_f32_features(p)
