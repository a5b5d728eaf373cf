"""The RDOVAE decoder: libopus 1.6.1's generic-C float32 features, bit for bit, in every arithmetic.

1. (The integer soft-float against numpy's float32: tests/test_softfloat.py.)
2. The activations and the int8 quantisation against libopus's formulas in numpy float32,
   in the soft-float and on the hardware at each kernel level (``arith_case``).
3. One float layer and one int8 layer against numpy float32 in libopus's order, likewise.
4. The API: arith selection, payload-like objects, output order, argument and model checks,
   any int32 input.
libopus's features on every shared vector, the property test and the batch call are in
tests/test_rdovae_exact.py.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from dredconf.errors import ModelError
from dredconf.reference import rdovae as R
from dredconf.reference._core import ffi, lib
from tests.helpers.libopus_vec import bits, floats, q8, sigmoid_f32, tanh_f32

F32 = np.float32
U32 = np.uint32


# ------------------------------------------------------------------ 2. activations, quantisation

def _vec(fn, arith_code, x_bits, out_dtype=F32):
    x = np.ascontiguousarray(floats(x_bits))
    y = np.zeros(x.size, out_dtype)
    ctype = "float[]" if out_dtype == F32 else "int8_t[]"
    fn(arith_code, ffi.from_buffer(ctype, y), ffi.from_buffer("float[]", x), x.size)
    return bits(y) if out_dtype == F32 else y.astype(np.int64)


def _activation_inputs():
    rng = np.random.default_rng(11)
    return np.concatenate([
        bits(rng.normal(0, 2, 20000).astype(F32)),
        bits(rng.uniform(-8, 8, 20000).astype(F32)),
        bits(np.ldexp(rng.uniform(-1, 1, 5000), rng.integers(-149, -100, 5000)).astype(F32)),   # tiny
        bits(np.float32([0, -0.0, 5.2, -5.2, 6, 1e4, -1e4, 5e7, 3e9, -3e9, 1e30, np.inf, -np.inf])),
    ])


def test_tanh_and_sigmoid_are_libopus_bit_for_bit(arith):
    x = _activation_inputs()
    with np.errstate(all="ignore"):
        t_ref, s_ref = bits(tanh_f32(floats(x))), bits(sigmoid_f32(floats(x)))
    t, s = _vec(lib.dc_nn_tanh, arith, x), _vec(lib.dc_nn_sigmoid, arith, x)
    fin = ~np.isnan(floats(t_ref))
    assert np.array_equal(np.isnan(floats(t)), ~fin)             # |x| past ~2.3e9: inf/inf, as libopus
    assert np.array_equal(t[fin], t_ref[fin])
    assert np.all(t[~fin] == 0xffc00000)                         # x86's default NaN, on any platform
    fin = ~np.isnan(floats(s_ref))
    assert np.array_equal(s[fin], s_ref[fin])
    assert _vec(lib.dc_nn_tanh, arith, np.array([0x80000000], U32))[0] == 0x80000000    # tanh(-0) = -0


def test_tanh_fast_path_equals_general_form():
    """The soft-float's tanh on |x| in [2^-40, 2^21) takes a shorter path (unpacked
    intermediates); it must give the general soft-float form's bits.  Checked for every such
    float32 when it was written (about a billion); here a dense sample, the range's edges and
    every binade's ends."""
    rng = np.random.default_rng(23)
    edges = [e << 23 for e in range(84, 151)]
    x = np.concatenate([rng.integers(0x2b800000, 0x4a000000, 100000, dtype=np.uint64).astype(U32),
                        np.array([v + d for v in edges for d in (-2, -1, 0, 1, 2)], U32)])
    x = np.concatenate([x, x | U32(0x80000000)])
    general = np.zeros(x.size, F32)
    lib.dc_nn_tanh_general(ffi.from_buffer("float[]", general), ffi.from_buffer("float[]", floats(x).copy()), x.size)
    assert np.array_equal(_vec(lib.dc_nn_tanh, lib.DC_ARITH_SOFTFLOAT, x), bits(general))


def test_quantisation_is_libopus_bit_for_bit(arith):
    rng = np.random.default_rng(13)
    x = np.concatenate([bits(rng.uniform(-1, 1, 30000).astype(F32)),
                        bits((np.arange(-127, 128) + .5) / 127),          # near the ties
                        np.array([0, 0x80000000, 0x3f800000, 0xbf800000], U32)])
    near = np.concatenate([x, x + U32(1), x - U32(1)])
    near = near[np.isfinite(floats(near))]
    ref = q8(floats(near))
    ref = (ref + 128) % 256 - 128             # libopus stores it in an opus_int8: 128 (x just above 1) wraps
    assert np.array_equal(_vec(lib.dc_nn_quantize, arith, near, np.int8), ref)
    # libopus's int8 store of a NaN or of a value past int32 (x86: INT32_MIN) keeps the low byte: 0
    big = np.array([0x7fc00000, 0xffc00000, 0x7f800000, 0x4f000000, 0xcf000000, 0x7f7fffff], U32)
    assert np.array_equal(_vec(lib.dc_nn_quantize, arith, big, np.int8), np.zeros(big.size))
    # below 2^31: the int's low byte
    assert _vec(lib.dc_nn_quantize, arith, bits([F32(2 ** 30 + 2 ** 7) / F32(127)]), np.int8)[0] == \
        np.int8(np.int64(np.floor(.5 + np.float64(F32(127) * (F32(2 ** 30 + 2 ** 7) / F32(127))))) & 0xff)


# ------------------------------------------------------------------ 3. layers

@pytest.fixture(scope="module")
def exact(model):
    return R.RdovaeDecoder(model, arith="exact")


def _layer(dec, arith_code, slot, x_bits):
    nout = R.ARCHITECTURE[R.SLOT_NAMES[slot]][2]
    out = np.zeros(nout, F32)
    x = np.ascontiguousarray(floats(x_bits))
    rc = lib.dc_rdovae_layer_linear(dec.c_model, arith_code, slot, ffi.from_buffer("float[]", x), x.size,
                                    ffi.from_buffer("float[]", out), nout)
    assert rc == lib.DC_RDOVAE_OK
    return bits(out)


@pytest.mark.shared
def test_float_layer_in_libopus_order(exact, model, arith):
    """dec_dense1: y = 0; y += w[j]*x[j] for j in order; y += bias (sgemv, then compute_linear)."""
    rng = np.random.default_rng(17)
    w = model.decoder_arrays["dec_dense1_weights_float"].reshape(26, 96)
    b = model.decoder_arrays["dec_dense1_bias"]
    for _ in range(20):
        x = (rng.integers(-20, 21, 26) * F32(256) / rng.integers(1, 256, 26).astype(F32)).astype(F32)
        x[rng.random(26) < .3] = 0
        y = np.zeros(96, F32)
        for j in range(26):
            y = (y + w[j] * x[j]).astype(F32)
        y = (y + b).astype(F32)
        assert np.array_equal(_layer(exact, arith, lib.DC_RDOVAE_SLOT_DENSE1, bits(x)), bits(y))


@pytest.mark.shared
@pytest.mark.parametrize("name", ["dec_glu1", "dec_output"])
def test_int8_layer_in_libopus_order(exact, model, arith, name):
    """dec_glu1 (dense cgemv8x4), dec_output (sparse): y = (float)(int8 dot product) * scale + bias."""
    rng = np.random.default_rng(19)
    spec = model.decoder_layers[name]
    nin, nout = spec["nb_inputs"], spec["nb_outputs"]
    a = model.decoder_arrays
    W = np.zeros((nout, nin), np.int64)                            # [out][in] from libopus's 8x4 blocks
    w = a[spec["weights"]].astype(np.int64).reshape(-1, 8, 4)
    idx = a[spec["weights_idx"]].tolist() if spec["weights_idx"] else None
    p = b = 0
    for g in range(nout // 8):
        count = idx[p] if idx else nin // 4
        for c in range(count):
            pos = idx[p + 1 + c] if idx else 4 * c
            W[8 * g:8 * g + 8, pos:pos + 4] += w[b]
            b += 1
        p += count + 1
    scale, bias = a[spec["scale"]], a[spec["bias"]]
    for _ in range(20):
        x = rng.uniform(-1, 1, nin).astype(F32)
        y = ((W @ q8(x)).astype(F32) * scale).astype(F32)
        y = (y + bias).astype(F32)
        assert np.array_equal(_layer(exact, arith, R.SLOTS[name], bits(x)), bits(y))


# ------------------------------------------------------------------ 4. API and safety

def _dred(records):
    return [p for p in records if p["dred"] is not None]


@pytest.mark.shared
def test_arith_selection(model, exact):
    assert R.RdovaeDecoder(model).arith == R.DEFAULT_ARITH == "exact"
    assert R.ARITHMETIC == ("exact", "softfloat")
    for bad in ("float", "fixed"):
        with pytest.raises(ValueError, match="arith"):
            R.RdovaeDecoder(model, arith=bad)
    assert exact.decode_integers(3, [0] * 50, np.zeros((0, 25), np.int32), []).shape == (0, 20)
    assert R.RdovaeDecoder(model, arith="softfloat").runs == "softfloat"
    assert exact.runs.startswith("exact (hardware float") == bool(lib.dc_nn_hw_exact())


@pytest.mark.shared
def test_decode_takes_any_payload_like_object(exact, ground_truth):
    d = next(p["dred"] for p in _dred(ground_truth["S2"][1]) if p["dred"]["latent_count"] >= 3)
    obj = SimpleNamespace(q0=d["q0"], levels=d["levels"], state=d["state"], latents=d["latents"],
                          latent_count=d["latent_count"])
    f = exact.decode(obj)
    assert f.dtype == F32 and f.shape == (4 * d["latent_count"], 20)
    assert np.array_equal(bits(f), bits(np.asarray(d["features"], np.float64).reshape(-1, 20)))
    # libopus's fec_features order: latent k gives rows 4k..4k+3; a latent's frames do not
    # depend on the latents after it (older ones), so a prefix decodes to a prefix
    short = SimpleNamespace(q0=d["q0"], levels=d["levels"][:2], state=d["state"], latents=d["latents"][:2],
                            latent_count=2)
    assert np.array_equal(bits(exact.decode(short)), bits(f[:8]))
    empty = SimpleNamespace(q0=d["q0"], levels=[], state=d["state"], latents=[], latent_count=0)
    assert exact.decode(empty).shape == (0, 20)


@pytest.mark.shared
def test_decode_real_payload_objects(exact, ground_truth):
    from dredconf.reference import payload
    d = next(p["dred"] for p in _dred(ground_truth["S1"][1]) if p["dred"]["latent_count"] >= 2)
    p = payload.DredPayload(q0=d["q0"], dQ=d["dQ"], extra_offset=d["extra_offset"], offset=d["offset"],
                            qmax=d["qmax"], dred_offset=d["dred_offset"], frame_offset=d["frame_offset"],
                            latent_count=d["latent_count"], levels=d["levels"], state=d["state"],
                            latents=d["latents"])
    assert np.array_equal(bits(exact.decode(p)), bits(np.asarray(d["features"], np.float64).reshape(-1, 20)))


@pytest.mark.shared
def test_standalone_order_is_fec_order_reversed(exact, ground_truth):
    d = next(p["dred"] for p in _dred(ground_truth["S3"][1]) if p["dred"]["latent_count"] >= 3)
    q0, n = d["q0"], d["latent_count"]
    fec = exact.decode_integers(q0, d["state"], d["latents"], [q0] * n)
    assert np.array_equal(bits(exact.decode_standalone(q0, d["state"], d["latents"])), bits(fec[::-1]))


@pytest.mark.shared
def test_bad_arguments_are_rejected(exact):
    state = [0] * 50
    with pytest.raises(ValueError, match="at most 26"):
        exact.decode_bits(0, state, np.zeros((27, 25), np.int32), [0] * 27)
    with pytest.raises(ValueError, match="outside 0..15"):
        exact.decode_bits(0, state, np.zeros((2, 25), np.int32), [0, 16])
    with pytest.raises(ValueError, match="outside 0..15"):
        exact.decode_bits(16, state, np.zeros((1, 25), np.int32), [0])
    with pytest.raises(ValueError, match="levels for"):
        exact.decode_bits(0, state, np.zeros((2, 25), np.int32), [0])
    with pytest.raises(ValueError, match="int32"):
        exact.decode_bits(0, state, np.full((1, 25), 1 << 31), [0])
    with pytest.raises(ValueError, match="shape"):
        exact.decode_bits(0, state[:49], np.zeros((1, 25), np.int32), [0])
    with pytest.raises(ValueError, match="shape"):
        exact.decode_bits(0, state, np.zeros((1, 24), np.int32), [0])
    with pytest.raises(ValueError, match="integers"):
        exact.decode_bits(0, state, np.zeros((1, 25)), [0])
    with pytest.raises(ValueError, match="latent_count"):
        exact.decode(SimpleNamespace(q0=0, levels=[0], state=state, latents=[[0] * 25], latent_count=2))
    # The C core checks the same things itself and then writes nothing.
    m = exact.c_model
    st, lat = ffi.new("int32_t[50]"), ffi.new("int32_t[]", 27 * 25)
    out = np.full(27 * 80, 12345, F32)
    o = ffi.from_buffer("float[]", out)
    for arith_code, args, code in (
            (0, (0, lat, ffi.new("int32_t[27]"), 27, o, out.size), lib.DC_RDOVAE_ERR_COUNT),
            (0, (0, lat, ffi.new("int32_t[]", [0, 16]), 2, o, out.size), lib.DC_RDOVAE_ERR_LEVEL),
            (0, (-1, lat, ffi.new("int32_t[1]"), 1, o, out.size), lib.DC_RDOVAE_ERR_LEVEL),
            (0, (0, lat, ffi.new("int32_t[2]"), 2, o, 159), lib.DC_RDOVAE_ERR_ARG),
            (0, (0, ffi.NULL, ffi.new("int32_t[1]"), 1, o, out.size), lib.DC_RDOVAE_ERR_ARG),
            (7, (0, lat, ffi.new("int32_t[1]"), 1, o, out.size), lib.DC_RDOVAE_ERR_ARG)):
        assert lib.dc_rdovae_decode(m, arith_code, st, *args) == code
        assert np.all(out == 12345)
    unchecked = ffi.new("dc_rdovae_model *")
    assert lib.dc_rdovae_decode(unchecked, 0, st, 0, ffi.NULL, ffi.NULL, 0, ffi.NULL, 0) == lib.DC_RDOVAE_ERR_MODEL
    assert lib.dc_rdovae_check(unchecked) == lib.DC_RDOVAE_ERR_MODEL
    assert lib.dc_rdovae_exact_runs(unchecked) == lib.DC_ARITH_SOFTFLOAT


@pytest.mark.shared
def test_any_int32_input_runs_deterministically(exact):
    """Nothing is assumed about the integers: huge ones run as libopus would (tanh_approx of a
    pre-activation past ~2.3e9 is inf/inf = NaN in libopus too), and always the same bits."""
    i32 = np.iinfo(np.int32)
    soft = R.RdovaeDecoder(exact.model, arith="softfloat")
    for big in (32767, i32.max, i32.min):
        lat = np.full((26, 25), big, dtype=np.int64)
        a = exact.decode_bits(15, np.full(50, big), lat, [15] * 26)
        assert a.shape == (104, 20)
        assert np.array_equal(a, exact.decode_bits(15, np.full(50, big), lat, [15] * 26))
        assert np.array_equal(a, soft.decode_bits(15, np.full(50, big), lat, [15] * 26))


def _model_copy(model):
    import copy
    m = copy.copy(model)
    m.decoder_arrays = dict(model.decoder_arrays)
    m.decoder_layers = {k: dict(v) for k, v in model.decoder_layers.items()}
    return m


def _replaced(model, name, edit):
    a = model.decoder_arrays[name].copy()
    return {name: edit(a)}


def _set(a, i, v):
    a[i] = v
    return a


# (what is broken, the layer the error must name, the change): each a model that loads but does not fit the decoder
BAD_MODELS = [
    ("int8 weights short", "dec_glu1", lambda m: _replaced(m, "dec_glu1_weights_int8", lambda a: a[:-1])),
    ("int8 weights long", "dec_gru3_input",
     lambda m: _replaced(m, "dec_gru3_input_weights_int8", lambda a: np.concatenate([a, np.zeros(32, np.int8)]))),
    ("sparse block past the inputs", "dec_output", lambda m: _replaced(m, "dec_output_weights_idx", lambda a: _set(a, 1, 576))),
    ("float weights short", "dec_dense1", lambda m: _replaced(m, "dec_dense1_weights_float", lambda a: a[:-26])),
    ("float weight not finite", "dec_hidden_init",
     lambda m: _replaced(m, "dec_hidden_init_weights_float", lambda a: _set(a, 7, np.inf))),
    ("scale not finite", "dec_glu4", lambda m: _replaced(m, "dec_glu4_scale", lambda a: _set(a, 3, np.nan))),
    ("scales short", "dec_conv3", lambda m: _replaced(m, "dec_conv3_scale", lambda a: a[:31])),
    ("biases short", "dec_gru_init", lambda m: _replaced(m, "dec_gru_init_bias", lambda a: a[:300])),
]


@pytest.mark.shared
@pytest.mark.parametrize("what,layer,edit", BAD_MODELS, ids=[b[0] for b in BAD_MODELS])
def test_bad_models_are_rejected(model, what, layer, edit):
    m = _model_copy(model)
    m.decoder_arrays.update(edit(model))
    with pytest.raises(ModelError, match=layer) as e:
        R.RdovaeDecoder(m)
    assert e.value.rule == "model-shape"


@pytest.mark.shared
def test_bad_model_shapes_are_rejected(model):
    for layer, change, words in (("dec_dense1", {"nb_inputs": 25}, "declared 25x96, the decoder needs 26x96"),
                                 ("dec_glu2", {"nb_inputs": 32}, "declared 32x64, the decoder needs 64x64")):
        m = _model_copy(model)
        m.decoder_layers[layer].update(change)
        with pytest.raises(ModelError, match=f"{layer}: {words}"):
            R.RdovaeDecoder(m)
    m = _model_copy(model)
    del m.decoder_layers["dec_conv_dense4"]
    with pytest.raises(ModelError, match="dec_conv_dense4: missing"):
        R.RdovaeDecoder(m)
    m = _model_copy(model)
    m.stats = dataclasses.replace(model.stats, latent_quant_scale=model.stats.latent_quant_scale[:15])
    with pytest.raises(ModelError, match="quantizer scale tables"):
        R.RdovaeDecoder(m)


@pytest.mark.shared
def test_c_check_is_the_safety_boundary(model):
    """The C core checks the struct it is given (sizes, index, ranges, bound) and refuses to decode until it passes."""
    dec = R.RdovaeDecoder(model)
    m = dec.c_model
    assert lib.dc_rdovae_check(m) == lib.DC_RDOVAE_OK

    def rejected(slot, reason):
        assert lib.dc_rdovae_check(m) == lib.DC_RDOVAE_ERR_MODEL
        assert (m.check_slot, m.check_reason) == (slot, reason), dec.check_error()
        out = ffi.new("float[80]")
        for arith_code in (lib.DC_ARITH_EXACT, lib.DC_ARITH_SOFTFLOAT):
            assert lib.dc_rdovae_decode(m, arith_code, ffi.new("int32_t[50]"), 0, ffi.new("int32_t[25]"),
                                        ffi.new("int32_t[1]"), 1, out, 80) == lib.DC_RDOVAE_ERR_MODEL

    glu, conv_dense, output = (m.layer[R.SLOTS[n]] for n in ("dec_glu1", "dec_conv_dense3", "dec_output"))
    for layer, field, delta, slot, reason in (
            (glu, "nb_inputs", 1, R.SLOTS["dec_glu1"], lib.DC_NN_BAD_DIMS),
            (conv_dense, "nb_idx", -1, R.SLOTS["dec_conv_dense3"], lib.DC_NN_BAD_INDEX),
            (output, "nb_weights", -32, R.SLOTS["dec_output"], lib.DC_NN_BAD_WEIGHTS),
            (output, "nb_scale", -1, R.SLOTS["dec_output"], lib.DC_NN_BAD_SIZE),
            (m.layer[lib.DC_RDOVAE_SLOT_DENSE1], "nb_float_weights", -1, lib.DC_RDOVAE_SLOT_DENSE1, lib.DC_NN_BAD_WEIGHTS),
            (m, "nb_latent_scale", -1, lib.DC_RDOVAE_SLOT_SCALES, lib.DC_RDOVAE_BAD_SCALE)):
        setattr(layer, field, getattr(layer, field) + delta)
        rejected(slot, reason)
        setattr(layer, field, getattr(layer, field) - delta)
    assert lib.dc_rdovae_check(m) == lib.DC_RDOVAE_OK
    m.layer[lib.DC_RDOVAE_SLOT_GRU_INIT].weights_idx = ffi.NULL        # read as dense: more weights than there are
    rejected(lib.DC_RDOVAE_SLOT_GRU_INIT, lib.DC_NN_BAD_WEIGHTS)
    m.layer[lib.DC_RDOVAE_SLOT_GRU_INIT].scale = ffi.NULL
    rejected(lib.DC_RDOVAE_SLOT_GRU_INIT, lib.DC_NN_BAD_POINTER)
    with pytest.raises(ModelError, match="dec_gru_init"):
        raise dec.check_error()


@pytest.mark.shared
def test_exactness_bound_per_int8_layer(exact):
    """Every int8 row's 128 * sum|w| (the largest partial sum libopus's float accumulation can
    reach) is below 2^24, so the int32 sums are libopus's float sums exactly; the figures
    (tests/test_nnet.py has a layer the check rejects)."""
    bounds = exact.row_bounds
    assert set(bounds) == {n for n in R.SLOTS if n not in ("dec_hidden_init", "dec_dense1")}
    assert max(bounds.values()) < 1 << 24
    print({n: f"{b} ({b / 2 ** 24:.4f} of 2^24)" for n, b in bounds.items()})
    assert bounds["dec_output"] == 1151104          # the largest: 8993 * 128
