"""The fixed-point RDOVAE decoder (``arith="fixed"``) against libopus 1.6.1's float features, plus
its edges (the exact mode: tests/test_rdovae_exact.py).

Accuracy: on every shared vector (and libopus's standalone vectors) the libopus
dred_compare metric between libopus's generic-C float features and ours must be within
ONE TENTH of libopus's own conformance thresholds (tot 0.05, max 0.015, pitch 0.002)
over all packets together, and within a third for the worst single packet (a tenth
there is an expected failure, see WORST_PACKET).  What remains is libopus's float32
rounding: our activations are within a few 1e-7 of libopus's, and now and then (about
1 packet in 40) an int8 input quantisation, floor(0.5 + 127 x), lands on the other side
of a rounding boundary than libopus's and the difference then runs through the
recurrent state; every other packet matches libopus to about 2e-6 (Q20 output plus
float noise).
"""
from __future__ import annotations

import copy
import dataclasses
import gzip
import math
import struct
from types import SimpleNamespace

import numpy as np
import pytest

from dredconf.conformance.metrics import Thresholds, feature_errors
from dredconf.errors import ModelError
from dredconf.reference import payload, rdovae as R
from dredconf.reference._core import ffi, lib
from tests.helpers.libopus_vec import q8, sigmoid_approx, tanh_approx
from tests.helpers.rdovae_model_checks import reject_int8_layer_corruptions
from tests.helpers.shared import STREAMS

TENTH = Thresholds.libopus().scaled(0.1)
Q30 = 1 << 30
Q32 = 1 << 32


@pytest.fixture(scope="module")
def decoder(model):
    return R.RdovaeDecoder(model, arith="fixed")


def _dred_packets(records):
    return [p["dred"] for p in records if p["dred"] is not None and p["dred"]["latent_count"] > 0]


def _worst(errors):
    pitches = [e.pitch for e in errors if not math.isnan(e.pitch)]
    return max(e.tot for e in errors), max(e.max for e in errors), max(pitches) if pitches else 0.0


# ------------------------------------------------------------------ libopus ground truth

# The worst single packet (or standalone record) must stay within a third of libopus's
# thresholds.  A tenth is what the design aims at, but it cannot be guaranteed per packet
# by any decoder that does not reproduce libopus's float32 rounding bit for bit: one int8
# quantisation flip in a 1-latent packet already costs about a tenth (see
# test_worst_packet_within_a_tenth, an expected failure that records the gap).
WORST_PACKET = Thresholds.libopus().scaled(1 / 3)
FLIP_REASON = ("fixed point cannot follow libopus's float32 roundings: in about 1 packet in 40 an int8 "
               "input quantisation lands on the other side of its rounding boundary (activations differ by "
               "~1e-7), which alone moves a short packet's metric to 1/10..1/5 of libopus's thresholds")


class StreamResult:
    def __init__(self, refs, ours, per_packet, close):
        self.overall = feature_errors(np.concatenate(refs), np.concatenate(ours))
        self.per_packet = per_packet
        self.worst = _worst(per_packet)
        self.close = close

    def summary(self, name, unit="packets"):
        o, (wt, wm, wp) = self.overall, self.worst
        return (f"{name}: all {len(self.per_packet)} {unit} tot {o.tot:.6f} max {o.max:.6f} pitch {o.pitch:.6f}; "
                f"worst tot {wt:.6f} max {wm:.6f} pitch {wp:.6f}; {self.close} within 1e-5 of libopus")

    def worst_within(self, t: Thresholds) -> bool:
        wt, wm, wp = self.worst
        return wt <= t.tot and wm <= t.max and wp <= t.pitch


@pytest.fixture(scope="module")
def stream_results(decoder, ground_truth):
    cache = {}

    def get(stream):
        if stream not in cache:
            refs, ours, per_packet, close = [], [], [], 0
            for d in _dred_packets(ground_truth[stream][1]):
                f = decoder.decode_integers(d["q0"], d["state"], d["latents"], d["levels"])
                ref = np.asarray(d["features"], dtype=np.float32).reshape(-1, 20)
                assert f.shape == ref.shape == (4 * d["latent_count"], 20)
                refs.append(ref)
                ours.append(f)
                per_packet.append(feature_errors(ref, f))
                close += float(np.abs(f - ref).max()) <= 1e-5
            cache[stream] = StreamResult(refs, ours, per_packet, close)
        return cache[stream]
    return get


@pytest.mark.shared
@pytest.mark.parametrize("stream", STREAMS)
def test_features_within_a_tenth_of_libopus_thresholds(stream_results, stream, record_property):
    r = stream_results(stream)
    summary = r.summary(stream)
    print(summary)
    record_property("rdovae_vs_libopus", summary)
    assert TENTH.judge(r.overall), summary
    assert r.worst_within(WORST_PACKET), summary
    # The int8 arithmetic is exact: most packets have no quantisation flip at all.
    assert r.close >= 0.9 * len(r.per_packet), summary


@pytest.mark.shared
@pytest.mark.xfail(strict=True, reason=FLIP_REASON)
@pytest.mark.parametrize("stream", STREAMS)
def test_worst_packet_within_a_tenth(stream_results, stream):
    r = stream_results(stream)
    assert r.worst_within(TENTH), r.summary(stream)


@pytest.mark.shared
def test_decode_takes_any_payload_like_object(decoder, ground_truth):
    d = next(d for d in _dred_packets(ground_truth["S2"][1]) if d["latent_count"] >= 3)
    obj = SimpleNamespace(q0=d["q0"], levels=d["levels"], state=d["state"], latents=d["latents"],
                          latent_count=d["latent_count"])
    f = decoder.decode(obj)
    assert f.dtype == np.float32 and f.shape == (4 * d["latent_count"], 20)
    assert np.array_equal(f, decoder.decode_integers(d["q0"], d["state"], d["latents"], d["levels"]))
    # libopus's fec_features order: latent k gives rows 4k..4k+3; a latent's frames do not
    # depend on the latents after it (older ones), so a prefix decodes to a prefix
    short = SimpleNamespace(q0=d["q0"], levels=d["levels"][:2], state=d["state"], latents=d["latents"][:2],
                            latent_count=2)
    assert np.array_equal(decoder.decode(short), f[:8])
    empty = SimpleNamespace(q0=d["q0"], levels=[], state=d["state"], latents=[], latent_count=0)
    assert decoder.decode(empty).shape == (0, 20)


@pytest.mark.shared
def test_decode_real_payload_objects(decoder, model, ground_truth):
    d = next(d for d in _dred_packets(ground_truth["S1"][1]) if d["latent_count"] >= 2)
    p = payload.DredPayload(q0=d["q0"], dQ=d["dQ"], extra_offset=d["extra_offset"], offset=d["offset"],
                            qmax=d["qmax"], dred_offset=d["dred_offset"], frame_offset=d["frame_offset"],
                            latent_count=d["latent_count"], levels=d["levels"], state=d["state"],
                            latents=d["latents"])
    ref = np.asarray(d["features"], dtype=np.float32).reshape(-1, 20)
    assert feature_errors(ref, decoder.decode(p)).tot < 1e-3


def _standalone_records(data: bytes):
    pos = 0
    while pos < len(data):
        q0, nb_chunks, nb_bytes = struct.unpack(">iii", data[pos:pos + 12])
        yield q0, nb_chunks, data[pos + 12:pos + 12 + nb_bytes]
        pos += 12 + nb_bytes


@pytest.mark.shared
def test_standalone_vectors(decoder, model, standalone_dir, record_property):
    """libopus's own conformance input (fargan_demo -dred-decoding records), libopus's output."""
    d = standalone_dir
    ref = np.frombuffer(gzip.decompress((d / "vector_dred_dec.f32.gz").read_bytes()), dtype="<f4").reshape(-1, 20)
    rows, per_record, start, close = [], [], 0, 0
    for q0, nb_chunks, data in _standalone_records((d / "vector_dred.bit").read_bytes()):
        assert nb_chunks % 2 == 0
        p = payload.decode_dred_standalone(data, q0, nb_chunks // 2, model.stats)
        f = decoder.decode_standalone(q0, p.state, p.latents)
        assert f.shape == (2 * nb_chunks, 20)
        rows.append(f)
        per_record.append(feature_errors(ref[start:start + len(f)], f))
        close += float(np.abs(ref[start:start + len(f)] - f).max()) <= 1e-5
        start += len(f)
    assert start == len(ref) and len(rows) == 174
    ours = np.concatenate(rows)
    r = StreamResult([ref], [ours], per_record, close)
    summary = r.summary("standalone", unit="records")
    print(summary)
    record_property("rdovae_standalone", summary)
    assert TENTH.judge(r.overall), summary
    assert r.worst_within(WORST_PACKET), summary


@pytest.mark.shared
def test_standalone_order_is_fec_order_reversed(decoder, ground_truth):
    d = next(d for d in _dred_packets(ground_truth["S3"][1]) if d["latent_count"] >= 3)
    q0, n = d["q0"], d["latent_count"]
    fec = decoder.decode_integers(q0, d["state"], d["latents"], [q0] * n)
    assert np.array_equal(decoder.decode_standalone(q0, d["state"], d["latents"]), fec[::-1])


# ------------------------------------------------------------------ activations and quantisation

TANH_BOUND = 4e-9     # |dc_rdovae_tanh_q30 - tanh_approx|, stated in csrc/rdovae.h
SIGMOID_BOUND = 2.5e-9
LIBOPUS_FORMULA_BOUND = 1e-4   # |tanh_approx - tanh|: the approximation libopus chose (measured 6.0e-5)


def _grid():
    rng = np.random.default_rng(20250101)
    dense = np.arange(-9 * 4096, 9 * 4096 + 1) / 4096.0           # step 2^-12 over [-9, 9]
    return np.concatenate([dense, rng.uniform(-7, 7, 20000), rng.normal(0, 1, 20000)])


def _c_act(fn, xq):
    return np.array([fn(int(v)) for v in xq], dtype=np.float64) / Q30


def test_tanh_error_bound():
    xq = np.rint(_grid() * Q32).astype(np.int64)
    x = xq / Q32
    t = _c_act(lib.dc_rdovae_tanh_q30, xq)
    err = np.abs(t - tanh_approx(x)).max()
    print(f"tanh: max |fixed - tanh_approx| = {err:.3g} (bound {TANH_BOUND:g})")
    assert err <= TANH_BOUND
    assert np.abs(tanh_approx(x) - np.tanh(x)).max() <= LIBOPUS_FORMULA_BOUND
    assert np.array_equal(_c_act(lib.dc_rdovae_tanh_q30, -xq), -t)      # odd, exactly


def test_sigmoid_error_bound():
    xq = np.rint(2 * _grid() * Q32).astype(np.int64)
    x = xq / Q32
    s = _c_act(lib.dc_rdovae_sigmoid_q30, xq)
    err = np.abs(s - sigmoid_approx(x)).max()
    print(f"sigmoid: max |fixed - sigmoid_approx| = {err:.3g} (bound {SIGMOID_BOUND:g})")
    assert err <= SIGMOID_BOUND
    assert np.abs(sigmoid_approx(x) - 1 / (1 + np.exp(-x))).max() <= LIBOPUS_FORMULA_BOUND
    assert s.min() >= 0.0 and s.max() <= 1.0


def test_activation_saturation_and_extremes():
    i64 = np.iinfo(np.int64)
    for x in (6 * Q32, 7 * Q32, 1 << 44, 1 << 62, i64.max):
        assert lib.dc_rdovae_tanh_q30(x) == Q30 and lib.dc_rdovae_tanh_q30(-x) == -Q30
        assert lib.dc_rdovae_sigmoid_q30(2 * min(x, 1 << 61)) == Q30
    assert lib.dc_rdovae_tanh_q30(i64.min) == -Q30
    assert lib.dc_rdovae_sigmoid_q30(i64.min) == 0 and lib.dc_rdovae_sigmoid_q30(i64.max) == Q30
    assert lib.dc_rdovae_tanh_q30(0) == 0 and lib.dc_rdovae_sigmoid_q30(0) == Q30 // 2
    # tanh_approx exceeds 1 from x = 5.2053 on: the clamp gives exactly 1 there
    assert lib.dc_rdovae_tanh_q30(int(5.21 * Q32)) == Q30


def test_int8_quantisation_mirrors_libopus_rounding():
    rng = np.random.default_rng(7)
    k = np.arange(-127, 127)
    boundaries = (k + 0.5) / 127.0                                           # where floor(.5 + 127x) steps
    near = np.concatenate([np.rint(boundaries * Q30) + d for d in range(-40, 41)]
                          + [np.rint(boundaries * Q30) + d for d in (-5000, -4097, -4096, -4095, 4095, 4096, 4097)])
    xs = np.concatenate([near, rng.integers(-Q30, Q30 + 1, 50000), [-Q30, Q30, 0, 1, -1]])
    xs = np.clip(xs, -Q30, Q30).astype(np.int64)
    ours = np.array([lib.dc_rdovae_quantize_q30(int(v)) for v in xs])
    assert np.array_equal(ours, q8(xs / Q30))
    # the float32 rounding of 127*x does matter somewhere near the boundaries
    exact = np.floor(0.5 + 127.0 * (xs / Q30)).astype(np.int64)
    assert np.any(exact != ours)


# ------------------------------------------------------------------ extremes and bad arguments

def _c_decode(dec, state, q0, latents, levels, n, out_len=None):
    st = np.ascontiguousarray(state, dtype=np.int32)
    lat = np.ascontiguousarray(np.asarray(latents, dtype=np.int32).reshape(-1))
    lev = np.ascontiguousarray(levels, dtype=np.int32)
    out = np.full(max(out_len if out_len is not None else 80 * max(n, 0), 1), 12345, dtype=np.int32)
    rc = lib.dc_rdovae_decode(dec.c_model, ffi.from_buffer("int32_t[]", st), q0,
                              ffi.from_buffer("int32_t[]", lat) if lat.size else ffi.NULL,
                              ffi.from_buffer("int32_t[]", lev) if lev.size else ffi.NULL, n,
                              ffi.from_buffer("int32_t[]", out),
                              out_len if out_len is not None else 80 * max(n, 0))
    return rc, out


@pytest.mark.shared
def test_extreme_latents_saturate_cleanly(decoder):
    """Any int32 value is accepted: the float layers' sums are exact in two 64-bit halves and
    their pre-activations saturate at +-4096 (tanh_approx is 1 from 5.2 on), so nothing wraps."""
    i32 = np.iinfo(np.int32)
    n = 26
    for big in (32767, -32767, i32.max, i32.min):
        lat = np.full((n, 25), big, dtype=np.int64)
        lat[::2] *= -1 if big != i32.min else 1
        state = np.full(50, big, dtype=np.int64)
        for q0 in (0, 15):
            f = decoder.decode_fixed(q0, state, lat, [q0] * n)
            assert f.shape == (4 * n, 20)
            assert np.abs(f).max() < 1024 << 20            # the output layer's checked bound
            assert np.array_equal(f, decoder.decode_fixed(q0, state, lat, [q0] * n))
    # 32767 and 2^31 - 1 both saturate every dec_dense1 unit that sees them: same features
    a = decoder.decode_fixed(3, [0] * 50, np.full((2, 25), 32767), [3, 3])
    b = decoder.decode_fixed(3, [0] * 50, np.full((2, 25), i32.max), [3, 3])
    assert np.abs(a - b).max() < 1 << 20


@pytest.mark.shared
def test_bad_counts_and_levels_are_rejected(decoder):
    state = [0] * 50
    with pytest.raises(ValueError, match="at most 26"):
        decoder.decode_fixed(0, state, np.zeros((27, 25), np.int32), [0] * 27)
    with pytest.raises(ValueError, match="outside 0..15"):
        decoder.decode_fixed(0, state, np.zeros((2, 25), np.int32), [0, 16])
    with pytest.raises(ValueError, match="outside 0..15"):
        decoder.decode_fixed(-1, state, np.zeros((1, 25), np.int32), [0])
    with pytest.raises(ValueError, match="outside 0..15"):
        decoder.decode_fixed(16, state, np.zeros((0, 25), np.int32), [])
    with pytest.raises(ValueError, match="levels for"):
        decoder.decode_fixed(0, state, np.zeros((2, 25), np.int32), [0])
    with pytest.raises(ValueError, match="shape"):
        decoder.decode_fixed(0, state[:49], np.zeros((1, 25), np.int32), [0])
    with pytest.raises(ValueError, match="shape"):
        decoder.decode_fixed(0, state, np.zeros((1, 24), np.int32), [0])
    with pytest.raises(ValueError, match="int32"):
        decoder.decode_fixed(0, state, np.full((1, 25), 1 << 31), [0])
    with pytest.raises(ValueError, match="integers"):
        decoder.decode_fixed(0, state, np.zeros((1, 25)), [0])
    with pytest.raises(ValueError, match="latent_count"):
        decoder.decode(SimpleNamespace(q0=0, levels=[0], state=state, latents=[[0] * 25], latent_count=2))
    # The C core checks the same things itself and then writes nothing.
    lat = np.zeros((27, 25), np.int32)
    for args, code in (((state, 0, lat, [0] * 27, 27), lib.DC_RDOVAE_ERR_COUNT),
                       ((state, 0, lat[:1], [0], -1), lib.DC_RDOVAE_ERR_COUNT),
                       ((state, 0, lat[:2], [0, 16], 2), lib.DC_RDOVAE_ERR_LEVEL),
                       ((state, 0, lat[:2], [-1, 0], 2), lib.DC_RDOVAE_ERR_LEVEL),
                       ((state, 16, lat[:1], [0], 1), lib.DC_RDOVAE_ERR_LEVEL)):
        rc, out = _c_decode(decoder, *args)
        assert rc == code
        assert np.all(out == 12345)
    rc, out = _c_decode(decoder, state, 0, lat[:2], [0, 0], 2, out_len=159)
    assert rc == lib.DC_RDOVAE_ERR_ARG and np.all(out == 12345)
    unchecked = ffi.new("dc_rdovae_model *")
    assert lib.dc_rdovae_decode(unchecked, ffi.new("int32_t[50]"), 0, ffi.NULL, ffi.NULL, 0, ffi.NULL, 0) \
        == lib.DC_RDOVAE_ERR_MODEL
    assert lib.dc_rdovae_model_check(unchecked) == lib.DC_RDOVAE_ERR_MODEL     # all NULL: rejected


# ------------------------------------------------------------------ bad models

def _model_copy(model):
    m = copy.copy(model)
    m.decoder_arrays = dict(model.decoder_arrays)
    m.decoder_layers = {k: dict(v) for k, v in model.decoder_layers.items()}
    return m


def _expect_shape_error(m, *words):
    with pytest.raises(ModelError) as info:
        R.RdovaeDecoder(m, arith="fixed")
    assert info.value.rule == "model-shape"
    for w in words:
        assert w in str(info.value)


@pytest.mark.shared
def test_bad_model_shapes_give_clear_errors(model):
    m = _model_copy(model)
    m.decoder_arrays["dec_glu1_weights_int8"] = model.decoder_arrays["dec_glu1_weights_int8"][:-1]
    _expect_shape_error(m, "dec_glu1", "4095")

    m = _model_copy(model)
    m.decoder_arrays["dec_gru3_input_weights_int8"] = np.concatenate(
        [model.decoder_arrays["dec_gru3_input_weights_int8"], np.zeros(32, np.int8)])
    _expect_shape_error(m, "dec_gru3_input", "sparse index")

    m = _model_copy(model)
    idx = model.decoder_arrays["dec_output_weights_idx"].copy()
    idx[1] = 576                                   # a column block past the 576 inputs
    m.decoder_arrays["dec_output_weights_idx"] = idx
    _expect_shape_error(m, "dec_output", "sparse index")

    m = _model_copy(model)
    m.decoder_arrays["dec_dense1_weights_float"] = model.decoder_arrays["dec_dense1_weights_float"][:-26]
    _expect_shape_error(m, "dec_dense1", "float weights")

    m = _model_copy(model)
    m.decoder_arrays["dec_conv3_scale"] = model.decoder_arrays["dec_conv3_scale"][:31]
    _expect_shape_error(m, "dec_conv3", "scales")

    m = _model_copy(model)
    m.decoder_arrays["dec_gru_init_bias"] = model.decoder_arrays["dec_gru_init_bias"][:300]
    _expect_shape_error(m, "dec_gru_init", "biases")

    m = _model_copy(model)
    m.decoder_layers["dec_glu2"]["nb_inputs"] = 32
    _expect_shape_error(m, "dec_glu2", "needs 64x64")

    m = _model_copy(model)
    del m.decoder_layers["dec_conv_dense4"]
    _expect_shape_error(m, "dec_conv_dense4", "missing")

    m = _model_copy(model)
    m.stats = dataclasses.replace(model.stats, latent_quant_scale=model.stats.latent_quant_scale[:15])
    _expect_shape_error(m, "quant scale")

    m = _model_copy(model)
    scale = model.decoder_arrays["dec_glu4_scale"].copy()
    scale[3] = 1e30                                # would overflow the fixed-point headroom
    m.decoder_arrays["dec_glu4_scale"] = scale
    _expect_shape_error(m, "dec_glu4")


@pytest.mark.shared
def test_c_model_check_is_a_safety_net(model):
    """The C core re-checks the struct it is given: sizes, index tables, ranges."""
    dec = R.RdovaeDecoder(model, arith="fixed")
    m = dec.c_model
    assert lib.dc_rdovae_model_check(m) == lib.DC_RDOVAE_OK

    def rejected(slot, reason):
        assert lib.dc_rdovae_model_check(m) == lib.DC_RDOVAE_ERR_MODEL
        assert (m.check_slot, m.check_reason) == (slot, reason), dec.check_error()
        rc = lib.dc_rdovae_decode(m, ffi.new("int32_t[50]"), 0, ffi.new("int32_t[25]"), ffi.new("int32_t[1]"), 1,
                                  ffi.new("int32_t[80]"), 80)
        assert rc == lib.DC_RDOVAE_ERR_MODEL

    reject_int8_layer_corruptions(m, rejected)
    old = m.gru_recurrent[4].scale_shift
    shifts = ffi.new("int32_t[192]", [63] * 192)
    m.gru_recurrent[4].scale_shift = shifts
    rejected(lib.DC_RDOVAE_SLOT_GRU_RECURRENT + 4, lib.DC_RDOVAE_BAD_SCALE)
    m.gru_recurrent[4].scale_shift = old
    m.dense1.frac = 49
    rejected(lib.DC_RDOVAE_SLOT_DENSE1, lib.DC_RDOVAE_BAD_FRAC)
    m.dense1.frac = dec.fracs["dec_dense1"]
    big = ffi.new("int64_t[]", [1 << 45] * (16 * 128 * 50))
    old_w = m.hidden_init.w
    m.hidden_init.w = big
    rejected(lib.DC_RDOVAE_SLOT_HIDDEN_INIT, lib.DC_RDOVAE_BAD_RANGE)
    m.hidden_init.w = old_w
    m.gru_init.idx = ffi.NULL
    rejected(lib.DC_RDOVAE_SLOT_GRU_INIT, lib.DC_RDOVAE_BAD_POINTER)
    with pytest.raises(ModelError, match="dec_gru_init"):
        raise dec.check_error()


def test_scale_conversion_is_exact():
    vals = np.array([4.6501456381520256e-05, 2.0622350348276086e-05, 0.0023, 1.0, 3.5, 7.067e-06, 0.0,
                     -2.5e-4, 1e-30, 1e5], dtype=np.float32)
    mant, shift = R.scale_to_fixed(vals)
    assert np.all((shift >= 0) & (shift <= 62))
    for v, mv, sv in zip(vals.tolist(), mant.tolist(), shift.tolist()):
        if v != 0 and abs(v) > 2.0 ** -90:
            assert math.ldexp(mv, -(32 + sv)) == v      # exact
    with pytest.raises(ValueError):
        R.scale_to_fixed(np.array([np.inf], np.float32))
