"""The FARGAN vocoder (csrc/fargan.h): libopus 1.6.1's generic-C synthesis bit for bit, in every arithmetic.

1. The shared vocoder items (slt_16k, alsaA_16k): fargan_demo -fargan-synthesis's output, byte for byte, from
   the soft-float and from the hardware at every kernel level this machine has.
2. A property test: random feature trajectories (speech-like, then anything a float32 holds: huge, infinite,
   NaN), hardware == soft-float, SIMD on and forced off.
3. fargan_demo's framing: 160 samples per frame; appending a copy of the last frame only extends the output;
   four exp calls per synthesised frame; no state kept between calls.
4. The model: a checked FARGAN from fargan_data.c; every way a corrupted file fails is a ModelError with its
   rule, never a crash.
"""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dredconf.errors import ModelError
from dredconf.reference import fargan as F
from dredconf.reference import rdovae as R
from dredconf.reference._core import lib
from dredconf.reference.model import load_model
from dredconf.vectors.setfiles import read_pcm

from tests.helpers.arith import ARITH_CASES, in_arith
from tests.helpers.shared import pcm as pcm_path

pytestmark = pytest.mark.shared
ITEMS = ("slt_16k", "alsaA_16k")


def features_of(vocoder_dir, item: str) -> np.ndarray:
    return np.fromfile(vocoder_dir / f"{item}.features.f32", dtype="<f4").reshape(-1, 20)


@pytest.fixture(params=ARITH_CASES, ids=[f"{a}-{k}" for a, k in ARITH_CASES])
def vocoder(request, fargan_model):
    """A synthesizer in each arithmetic, the hardware at each kernel level this machine has."""
    yield from in_arith(request, lambda name: F.FarganSynthesizer(fargan_model, arith=name))


@pytest.fixture(scope="module")
def soft(fargan_model):
    return F.FarganSynthesizer(fargan_model, arith="softfloat")


@pytest.fixture(scope="module")
def hard(fargan_model):
    return F.FarganSynthesizer(fargan_model, arith="exact")


# ------------------------------------------------------------------ 1. libopus's output, bit for bit

@pytest.mark.parametrize("item", ITEMS)
def test_shared_items_bit_exact(vocoder, vocoder_dir, item):
    pcm = vocoder.synthesize(features_of(vocoder_dir, item))
    assert pcm.astype("<i2").tobytes() == read_pcm(pcm_path(vocoder_dir / f"{item}.expected")), vocoder.runs


def test_every_hardware_level_passed_the_model_probe(hard):
    levels = R.SIMD_LEVELS[R.platform_check()["simd_available"]]
    assert hard.c_model.hw_levels == (2 << levels) - 1
    assert lib.dc_fargan_exact_runs(hard.c_model) == lib.DC_ARITH_EXACT


# ------------------------------------------------------------------ 2. hardware == soft-float

_speech = st.floats(-4, 4, width=32)
_any = st.one_of(_speech, st.floats(width=32, allow_nan=True, allow_infinity=True),
                 st.sampled_from([0.0, -0.0, 1e30, -1e30, 88.7, -104.0, 7.5, -30.0]))


@st.composite
def _trajectories(draw):
    n = draw(st.integers(1, 4))
    wild = draw(st.booleans())
    values = draw(st.lists(_any if wild else _speech, min_size=20 * n, max_size=20 * n))
    return np.asarray(values, np.float32).reshape(n, 20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(features=_trajectories(), simd=st.sampled_from(["auto", "off"]))
def test_hardware_is_the_soft_float(hard, soft, features, simd):
    R.set_simd(simd)
    try:
        got = hard.synthesize(features)
    finally:
        R.set_simd("auto")
    assert np.array_equal(got, soft.synthesize(features))


# ------------------------------------------------------------------ 3. fargan_demo's framing

def test_framing(hard, vocoder_dir):
    f = features_of(vocoder_dir, "alsaA_16k")[:40]
    pcm = hard.synthesize(f)
    assert pcm.size == 160 * 40
    longer = hard.synthesize(np.vstack([f, f[-1:]]))   # fargan_demo repeats the last frame: nothing changes
    assert np.array_equal(longer[:pcm.size], pcm) and longer.size == 160 * 41
    assert hard.synthesize(f[:1]).size == 160 and np.array_equal(hard.synthesize(f), pcm)   # no state kept
    traced, gains = hard.synthesize_traced(f)
    assert np.array_equal(traced, pcm) and gains.size == 4 * (40 + 2) and np.all(np.isfinite(gains))
    assert np.array_equal(hard.synthesize(f.reshape(-1)), pcm)   # a flat sequence is cut into frames


def test_feature_shapes_refused(hard):
    for bad, words in ((np.zeros(30, np.float32), "30 values are not whole frames of 20"),
                       (np.zeros((2, 19), np.float32), "shape (2, 19)"), (np.zeros((0, 20), np.float32), "no frame")):
        with pytest.raises(F.FeatureError, match=re.escape(words)):
            hard.synthesize(bad)


def test_silence_and_extremes_stay_in_range(hard):
    """Zero features, huge ones and NaN ones give samples (a NaN sample is 0, as x86 libopus stores it)."""
    for fill in (0.0, 1e30, -1e30, np.nan, np.inf):
        pcm = hard.synthesize(np.full((3, 20), fill, np.float32))
        assert pcm.size == 480 and pcm.dtype == np.int16 and pcm.min() >= -32767


# ------------------------------------------------------------------ 4. the model and its check

def test_architecture_is_libopus(fargan_model):
    assert set(fargan_model.fargan_layers) == set(F.SLOTS)
    for name, (nin, nout) in F.ARCHITECTURE.items():
        spec = fargan_model.fargan_layers[name]
        assert (spec["nb_inputs"], spec["nb_outputs"]) == (nin, nout), name
    info = fargan_model.info()["fargan"]
    assert info["layers"]["sig_net_skip_dense"] == "688x128" and info["arrays"] == 66


def test_model_without_the_fargan_part(model):
    with pytest.raises(ModelError, match="needs a model loaded with its fargan part") as e:
        F.FarganSynthesizer(model)
    assert e.value.rule == "model-shape"


@pytest.fixture
def copy(model_dir, tmp_path):
    """A copy of the model (without SHA256SUMS) and an editor of its fargan_data.c."""
    d = tmp_path / "m"
    d.mkdir()
    for f in model_dir.iterdir():
        if f.name != "SHA256SUMS":
            shutil.copy(f, d)

    def edit(fn):
        p = d / "fargan_data.c"
        p.write_text(fn(p.read_text()))
        return d
    return d, edit


def _array_values(text: str, name: str) -> list[str]:
    m = re.search(rf"{name}\[(\d+)\] = {{(.*?)}};", text, re.S)
    return [v for v in m.group(2).split(",") if v.strip()]


def _set_array(text: str, name: str, values: list[str]) -> str:
    return re.sub(rf"({name})\[\d+\] = {{.*?}};", lambda m: f"{m.group(1)}[{len(values)}] = {{{','.join(values)}}};",
                  text, count=1, flags=re.S)


def _load(d):
    return F.FarganSynthesizer(load_model(d, parts=("fargan",)))


CORRUPTIONS = {
    # loader: the text itself
    "truncated": (lambda t: t[:len(t) // 2], "model-parse", "no closing"),
    "count_not_declared": (lambda t: re.sub(r"(sig_net_skip_dense_bias\[)128\]", r"\g<1>129]", t), "model-parse",
                           "128 values, declared [129]"),
    "not_a_number": (lambda t: t.replace("cond_net_pembed_bias[12] = {\n", "cond_net_pembed_bias[12] = {\nx,", 1),
                     "model-parse", "cond_net_pembed_bias"),
    # loader: a layer's arrays against its shape
    "short_array": (lambda t: _set_array(t, "sig_net_gru1_input_scale", _array_values(t, "sig_net_gru1_input_scale")[:-8]),
                    "model-shape", "layer sig_net_gru1_input: scale array sig_net_gru1_input_scale has 472"),
    # the C check: shapes, the int8 exactness bound, the table read as floats
    "wrong_shape": (lambda t: _set_array(t.replace('"sig_net_cond_gain_dense_weights_float",NULL,NULL,NULL,80,1)',
                                                   '"sig_net_cond_gain_dense_weights_float",NULL,NULL,NULL,40,2)'),
                                         "sig_net_cond_gain_dense_bias",
                                         _array_values(t, "sig_net_cond_gain_dense_bias") + ["0"]),
                    "model-shape", "layer sig_net_cond_gain_dense: declared 40x2, the vocoder needs 80x1"),
    "no_pembed_weights": (lambda t: t.replace('"cond_net_pembed_bias",NULL,NULL,"cond_net_pembed_weights_float"',
                                              '"cond_net_pembed_bias",NULL,NULL,NULL'),
                          "model-shape", "layer cond_net_pembed: no weights at all"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupted_fargan_data_is_a_model_error(copy, name):
    d, edit = copy
    fn, rule, words = CORRUPTIONS[name]
    edit(fn)
    with pytest.raises(ModelError) as e:
        _load(d)
    assert e.value.rule == rule and words in str(e.value), str(e.value)


def test_core_refuses_a_pitch_embedding_without_float_weights(hard):
    """libopus reads cond_net_pembed's float weights as a table: int8 ones (12 outputs, not in blocks of 8) and
    none at all are refused, and a refused model synthesises nothing."""
    from dredconf.reference._core import ffi

    m = ffi.new("dc_fargan_model *")
    for slot in range(lib.DC_FARGAN_NSLOTS):
        m.layer[slot] = hard.c_model.layer[slot]
    w, scale = np.ones(224 * 12, np.int8), np.ones(12, np.float32)   # 224 x 12 is not in blocks of 8 outputs
    m.layer[0].float_weights, m.layer[0].nb_float_weights = ffi.NULL, 0
    m.layer[0].weights, m.layer[0].nb_weights = ffi.from_buffer("int8_t[]", w), w.size
    m.layer[0].scale, m.layer[0].nb_scale = ffi.from_buffer("float[]", scale), 12
    assert lib.dc_fargan_check(m) == lib.DC_FARGAN_ERR_MODEL and (m.check_slot, m.check_reason) == (0, lib.DC_NN_BAD_LAYOUT)
    assert lib.dc_fargan_synthesize(m, 0, ffi.new("float[20]"), 1, ffi.new("int16_t[160]"), 160, ffi.NULL, 0) \
        == lib.DC_FARGAN_ERR_MODEL
    m.layer[0] = hard.c_model.layer[0]
    m.layer[0].float_weights = ffi.NULL   # no weights at all
    assert lib.dc_fargan_check(m) == lib.DC_FARGAN_ERR_MODEL and (m.check_slot, m.check_reason) == (0, lib.DC_NN_BAD_POINTER)


def test_synthesize_arguments(hard):
    from dredconf.reference._core import ffi

    m, f, pcm = hard.c_model, ffi.new("float[40]"), ffi.new("int16_t[320]")
    assert lib.dc_fargan_synthesize(m, 0, f, 2, pcm, 320, ffi.NULL, 0) == lib.DC_FARGAN_OK
    assert lib.dc_fargan_synthesize(m, 0, f, 0, pcm, 320, ffi.NULL, 0) == lib.DC_FARGAN_ERR_COUNT
    assert lib.dc_fargan_synthesize(m, 0, f, 2, pcm, 319, ffi.NULL, 0) == lib.DC_FARGAN_ERR_ARG
    assert lib.dc_fargan_synthesize(m, 7, f, 2, pcm, 320, ffi.NULL, 0) == lib.DC_FARGAN_ERR_ARG
    assert lib.dc_fargan_synthesize(m, 0, f, 2, pcm, 320, ffi.new("float[15]"), 15) == lib.DC_FARGAN_ERR_ARG
    assert lib.dc_fargan_synthesize(ffi.NULL, 0, f, 2, pcm, 320, ffi.NULL, 0) == lib.DC_FARGAN_ERR_MODEL


def test_no_fargan_layer_can_pass_the_exactness_bound(copy):
    """The widest int8 layer has 688 inputs: 688 * 128 * 128 < 2^24, so any int8 weights keep libopus's float sums
    exact integers (the check stands anyway, nnet.h)."""
    d, edit = copy
    edit(lambda t: _set_array(t, "sig_net_skip_dense_weights_int8",
                              ["-128"] * len(_array_values(t, "sig_net_skip_dense_weights_int8"))))
    v = _load(d)
    assert v.c_model.row_bound[F.SLOTS["sig_net_skip_dense"]] == 688 * 128 * 128 < 1 << 24
    assert max(nin for nin, _ in F.ARCHITECTURE.values()) == 688


def test_missing_fargan_data(copy):
    d, _ = copy
    (d / "fargan_data.c").unlink()
    with pytest.raises(ModelError, match="fargan_data.c: file missing") as e:
        _load(d)
    assert e.value.rule == "model-file-missing"
    assert load_model(d).decoder_layers   # the DRED parts do not need it


def test_non_finite_weights_are_refused_by_the_core(fargan_model):
    """A float the text cannot hold (the loader refuses nan literals) reaching the core: the check names it."""
    import copy as cp

    m = cp.copy(fargan_model)
    m.fargan_arrays = dict(fargan_model.fargan_arrays)
    w = m.fargan_arrays["sig_net_gain_dense_out_weights_float"].copy()
    w[7] = np.nan
    m.fargan_arrays["sig_net_gain_dense_out_weights_float"] = w
    with pytest.raises(ModelError, match="sig_net_gain_dense_out: a float not finite.*row 3") as e:
        F.FarganSynthesizer(m)
    assert e.value.rule == "model-shape"
