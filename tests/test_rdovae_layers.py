"""Each layer of the fixed-point RDOVAE decoder, alone, on the real weights, against a plain
numpy float64 implementation of the same layer written here from libopus's definitions
(dnn/nnet.c, dnn/nnet_arch.h, dnn/vec.h generic path), so that a wrong wiring, layout or
format is caught at the layer it is in.

Error bounds (C fixed point vs the float64 layer on the same inputs):
  int8 linear outputs            2.5e-10  (Q32 rounding of scale*sum and of the bias)
  tanh / sigmoid                 4e-9 / 2.5e-9 (tests/test_rdovae.py) plus the above
  float-weight layers (pre)      sum|q| * 2^-(frac+1) + 2^-32 (per-level weights in Q(frac))
  GRU                            per element, from the sigmoid/tanh bounds and |recurrent h part|
  output features (Q20)          2^-21 + 2.5e-10
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from dredconf.reference import rdovae as R
from dredconf.reference._core import ffi, lib

from tests.helpers.libopus_vec import q8, sigmoid_approx, tanh_approx

pytestmark = pytest.mark.shared

Q30 = 1 << 30
Q32 = 1 << 32
TANH_B = 4e-9
SIG_B = 2.5e-9
LIN_B = 2.5e-10

def int8_layer(model, name):
    """(W (out x in, float64 of the int8 values), scale, bias) from libopus's arrays and layout."""
    spec = model.decoder_layers[name]
    a = model.decoder_arrays
    nout, nin = spec["nb_outputs"], spec["nb_inputs"]
    w = a[spec["weights"]].astype(np.float64)
    W = np.zeros((nout, nin))
    b = 0
    if spec["weights_idx"] is not None:           # sparse_cgemv8x4: per 8 rows, count + column starts
        idx = a[spec["weights_idx"]].tolist()
        p = 0
        for g in range(nout // 8):
            count = idx[p]
            p += 1
            for _ in range(count):
                col = idx[p]
                p += 1
                W[8 * g:8 * g + 8, col:col + 4] = w[32 * b:32 * b + 32].reshape(8, 4)
                b += 1
        assert p == len(idx)
    else:                                         # cgemv8x4: rows in 8s, columns in 4s
        for g in range(nout // 8):
            for c in range(nin // 4):
                W[8 * g:8 * g + 8, 4 * c:4 * c + 4] = w[32 * b:32 * b + 32].reshape(8, 4)
                b += 1
    assert 32 * b == w.size
    bias = a[spec["bias"]].astype(np.float64) if spec["bias"] else np.zeros(nout)
    return W, a[spec["scale"]].astype(np.float64), bias


def lin(model, name, x):
    W, scale, bias = int8_layer(model, name)
    return (W @ q8(x)) * scale + bias


INT8_LAYERS = (["dec_gru_init", "dec_output"]
               + [f"dec_{kind}{k}{suffix}" for k in range(1, 6)
                  for kind, suffix in (("gru", "_input"), ("gru", "_recurrent"), ("glu", ""),
                                       ("conv_dense", ""), ("conv", ""))])
SLOT = {"dec_hidden_init": lib.DC_RDOVAE_SLOT_HIDDEN_INIT, "dec_dense1": lib.DC_RDOVAE_SLOT_DENSE1,
        "dec_gru_init": lib.DC_RDOVAE_SLOT_GRU_INIT, "dec_output": lib.DC_RDOVAE_SLOT_OUTPUT}
for _k in range(5):
    SLOT[f"dec_gru{_k + 1}_input"] = lib.DC_RDOVAE_SLOT_GRU_INPUT + _k
    SLOT[f"dec_gru{_k + 1}_recurrent"] = lib.DC_RDOVAE_SLOT_GRU_RECURRENT + _k
    SLOT[f"dec_glu{_k + 1}"] = lib.DC_RDOVAE_SLOT_GLU + _k
    SLOT[f"dec_conv_dense{_k + 1}"] = lib.DC_RDOVAE_SLOT_CONV_DENSE + _k
    SLOT[f"dec_conv{_k + 1}"] = lib.DC_RDOVAE_SLOT_CONV + _k


@pytest.fixture(scope="module")
def dec(model):
    return R.RdovaeDecoder(model, arith="fixed")


def _p(a):
    return ffi.from_buffer({np.dtype(np.int32): "int32_t[]", np.dtype(np.int64): "int64_t[]"}[a.dtype], a)


def _acts(rng, n):
    """Q30 activations in [-1, 1], with the ends and zero among them."""
    x = rng.integers(-Q30, Q30 + 1, n).astype(np.int32)
    x[rng.integers(0, n, 3)] = [Q30, -Q30, 0]
    return x


def _f(x_q30):
    return x_q30.astype(np.float64) / Q30


@pytest.mark.parametrize("name", INT8_LAYERS)
def test_int8_linear(model, dec, name):
    nout, nin = model.decoder_layers[name]["nb_outputs"], model.decoder_layers[name]["nb_inputs"]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for _ in range(3):
        x = _acts(rng, nin)
        out = np.zeros(nout, np.int64)
        assert lib.dc_rdovae_layer_qlinear(dec.c_model, SLOT[name], _p(x), nin, _p(out), nout) == 0
        err = np.abs(out / Q32 - lin(model, name, _f(x))).max()
        assert err <= LIN_B, f"{name}: {err}"
    assert lib.dc_rdovae_layer_qlinear(dec.c_model, SLOT[name], _p(x), nin - 1, _p(out), nout) == lib.DC_RDOVAE_ERR_ARG


@pytest.mark.parametrize("name", ["dec_gru_init"] + [f"dec_conv_dense{k}" for k in range(1, 6)])
def test_dense_tanh(model, dec, name):
    nout, nin = model.decoder_layers[name]["nb_outputs"], model.decoder_layers[name]["nb_inputs"]
    rng = np.random.default_rng(len(name))
    x = _acts(rng, nin)
    out = np.zeros(nout, np.int32)
    assert lib.dc_rdovae_layer_dense_tanh(dec.c_model, SLOT[name], _p(x), nin, _p(out), nout) == 0
    assert np.abs(_f(out) - tanh_approx(lin(model, name, _f(x)))).max() <= TANH_B + LIN_B


def _float_layer(model, name, level):
    """W (out x in), bias, and the dequantisation scales of level (libopus dred_decode_latents)."""
    spec = model.decoder_layers[name]
    nout, nin = spec["nb_outputs"], spec["nb_inputs"]
    W = model.decoder_arrays[spec["float_weights"]].astype(np.float64).reshape(nin, nout).T  # sgemv: w[j*nout+i]
    b = model.decoder_arrays[spec["bias"]].astype(np.float64)
    table = model.stats.state_quant_scale if name == "dec_hidden_init" else model.stats.latent_quant_scale
    s = table[level].astype(np.float64)
    return W, b, np.where(s == 0, 1.0, s)


def _float_pre(model, name, q, level):
    W, b, s = _float_layer(model, name, level)
    x = np.asarray(q, dtype=np.float64) * 256.0 / s
    if name == "dec_dense1":
        x = np.concatenate([x, [level / 8.0 - 1.0]])   # the level input, libopus q_level*.125 - 1
    return W @ x + b


@pytest.mark.parametrize("name", ["dec_hidden_init", "dec_dense1"])
def test_float_weight_layer(model, dec, name):
    nq = 50 if name == "dec_hidden_init" else 25
    nout = model.decoder_layers[name]["nb_outputs"]
    frac = dec.fracs[name]
    rng = np.random.default_rng(nq)
    for level in range(16):
        for scale in (3, 60):
            q = rng.integers(-scale, scale + 1, nq).astype(np.int32)
            pre = np.zeros(nout, np.int64)
            out = np.zeros(nout, np.int32)
            assert lib.dc_rdovae_layer_flayer(dec.c_model, SLOT[name], _p(q), nq, level, _p(pre), _p(out), nout) == 0
            ref = _float_pre(model, name, q, level)
            bound = np.abs(q).sum() * 2.0 ** -(frac + 1) + 2.0 ** -32 + 1e-12
            assert np.abs(pre / Q32 - ref).max() <= bound
            assert np.abs(_f(out) - tanh_approx(ref)).max() <= TANH_B + bound


@pytest.mark.parametrize("name", ["dec_hidden_init", "dec_dense1"])
def test_float_weight_layer_any_int32(model, dec, name):
    """Huge q values: the sums stay exact up to the weight rounding and saturate at +-4096."""
    nq = 50 if name == "dec_hidden_init" else 25
    nout = model.decoder_layers[name]["nb_outputs"]
    frac = dec.fracs[name]
    rng = np.random.default_rng(99)
    i32 = np.iinfo(np.int32)
    for q in (rng.integers(i32.min, i32.max, nq, endpoint=True).astype(np.int32),
              np.full(nq, i32.min, np.int32), np.full(nq, i32.max, np.int32),
              rng.integers(-40000, 40001, nq).astype(np.int32)):
        level = int(rng.integers(0, 16))
        pre = np.zeros(nout, np.int64)
        out = np.zeros(nout, np.int32)
        assert lib.dc_rdovae_layer_flayer(dec.c_model, SLOT[name], _p(q), nq, level, _p(pre), _p(out), nout) == 0
        ref = np.clip(_float_pre(model, name, q, level), -4096.0, 4096.0)
        bound = np.abs(q.astype(np.float64)).sum() * 2.0 ** -(frac + 1) + 2.0 ** -32 + np.abs(ref) * 1e-15
        assert np.all(np.abs(pre / Q32 - ref) <= bound)
        assert np.all(np.abs(pre) <= 4096 * Q32)
    # a single huge value on the input with the smallest weight: not saturated, still exact
    W, b, s = _float_layer(model, name, 0)
    Wq = np.abs(W[:, :nq]) / s
    i, j = np.unravel_index(np.argmin(np.where(Wq > 0, Wq, np.inf)), Wq.shape)
    q = np.zeros(nq, np.int32)
    q[j] = i32.max
    pre = np.zeros(nout, np.int64)
    assert lib.dc_rdovae_layer_flayer(dec.c_model, SLOT[name], _p(q), nq, 0, _p(pre), _p(out), nout) == 0
    ref = _float_pre(model, name, q, 0)[i]
    assert abs(ref) < 4096
    assert abs(pre[i] / Q32 - ref) <= i32.max * 2.0 ** -(frac + 1) + 2.0 ** -32


def _gru_ref(model, k, x, state):
    zrh = lin(model, f"dec_gru{k}_input", x)
    rec = lin(model, f"dec_gru{k}_recurrent", state)
    n = 64
    z = sigmoid_approx(zrh[:n] + rec[:n])
    r = sigmoid_approx(zrh[n:2 * n] + rec[n:2 * n])
    hpre = zrh[2 * n:] + rec[2 * n:] * r
    h = tanh_approx(hpre)
    new = z * state + (1 - z) * h
    # the fixed-point bound, element by element: sigmoid/tanh errors carried through
    dh = TANH_B + np.abs(rec[2 * n:]) * (SIG_B + 1e-12) + 2 * LIN_B
    bound = np.abs(state - h) * (SIG_B + LIN_B) + (1 - z) * dh + 2 ** -30
    return new, bound


@pytest.mark.parametrize("stage", range(5))
def test_gru(model, dec, stage):
    k = stage + 1
    nin = model.decoder_layers[f"dec_gru{k}_input"]["nb_inputs"]
    rng = np.random.default_rng(100 + stage)
    state = _acts(rng, 64)
    ref_state = _f(state)
    for step in range(3):                          # the state carries from call to call
        x = _acts(rng, nin)
        before = state.copy()
        assert lib.dc_rdovae_layer_gru(dec.c_model, stage, _p(x), nin, _p(state), 64) == 0
        new, bound = _gru_ref(model, k, _f(x), _f(before))
        assert np.all(np.abs(_f(state) - new) <= bound), f"stage {k} step {step}"
        ref_state = new
    assert np.abs(_f(state) - ref_state).max() < 1e-6
    assert lib.dc_rdovae_layer_gru(dec.c_model, stage, _p(x), nin + 4, _p(state), 64) == lib.DC_RDOVAE_ERR_ARG
    assert lib.dc_rdovae_layer_gru(dec.c_model, 5, _p(x), nin, _p(state), 64) == lib.DC_RDOVAE_ERR_ARG


@pytest.mark.parametrize("stage", range(5))
def test_glu(model, dec, stage):
    rng = np.random.default_rng(200 + stage)
    x = _acts(rng, 64)
    out = np.zeros(64, np.int32)
    assert lib.dc_rdovae_layer_glu(dec.c_model, stage, _p(x), _p(out), 64) == 0
    ref = _f(x) * sigmoid_approx(lin(model, f"dec_glu{stage + 1}", _f(x)))
    assert np.all(np.abs(_f(out) - ref) <= np.abs(_f(x)) * (SIG_B + LIN_B) + 2 ** -30)


@pytest.mark.parametrize("stage", range(5))
def test_conv1d(model, dec, stage):
    """compute_generic_conv1d, kernel 2: input [memory, new], then memory = new."""
    rng = np.random.default_rng(300 + stage)
    mem = np.zeros(32, np.int32)                   # libopus clears it on the first frame
    ref_mem = np.zeros(32)
    for _ in range(3):
        t = _acts(rng, 32)
        out = np.zeros(32, np.int32)
        assert lib.dc_rdovae_layer_conv(dec.c_model, stage, _p(t), _p(mem), _p(out), 32) == 0
        ref = tanh_approx(lin(model, f"dec_conv{stage + 1}", np.concatenate([ref_mem, _f(t)])))
        assert np.abs(_f(out) - ref).max() <= TANH_B + LIN_B
        assert np.array_equal(mem, t)
        ref_mem = _f(t)


def test_output_layer(model, dec):
    rng = np.random.default_rng(400)
    for _ in range(3):
        x = _acts(rng, 576)
        out = np.zeros(80, np.int32)
        assert lib.dc_rdovae_layer_output(dec.c_model, _p(x), 576, _p(out), 80) == 0
        ref = lin(model, "dec_output", _f(x))
        assert np.abs(out / float(1 << 20) - ref).max() <= 2.0 ** -21 + LIN_B


@pytest.mark.parametrize("q0", range(16))
def test_hidden_init(model, dec, q0):
    """dred_rdovae_dec_init_states: tanh(dec_hidden_init(state)), then tanh(dec_gru_init(.)) -> 5 GRU states."""
    rng = np.random.default_rng(500 + q0)
    state = rng.integers(-40, 41, 50).astype(np.int32)
    gru = np.zeros(320, np.int32)
    assert lib.dc_rdovae_layer_init_states(dec.c_model, _p(state), q0, _p(gru), 320) == 0
    hidden = tanh_approx(_float_pre(model, "dec_hidden_init", state, q0))
    ref = tanh_approx(lin(model, "dec_gru_init", hidden))
    assert np.abs(_f(gru) - ref).max() <= 2 * TANH_B + 2 * LIN_B
    assert lib.dc_rdovae_layer_init_states(dec.c_model, _p(state), 16, _p(gru), 320) == lib.DC_RDOVAE_ERR_LEVEL


def test_network_wiring(model, dec):
    """dc_rdovae_decode equals the layers above chained as libopus's dred_rdovae_decode_qframe
    chains them: the buffer grows 96 | 64 32 | 64 32 | ... to 576, each stage reads all of it,
    GRU states and conv memories carry from latent to latent, features newest first."""
    rng = np.random.default_rng(600)
    n, q0 = 4, 5
    state = rng.integers(-30, 31, 50).astype(np.int32)
    latents = rng.integers(-12, 13, (n, 25)).astype(np.int32)
    levels = np.array([5, 6, 8, 9], np.int32)
    gru = np.zeros(320, np.int32)
    assert lib.dc_rdovae_layer_init_states(dec.c_model, _p(state), q0, _p(gru), 320) == 0
    g = [gru[64 * k:64 * k + 64].copy() for k in range(5)]
    mem = [np.zeros(32, np.int32) for _ in range(5)]
    feats = []
    for lat, lev in zip(latents, levels):
        lat = np.ascontiguousarray(lat)
        x = np.zeros(96, np.int32)
        assert lib.dc_rdovae_layer_flayer(dec.c_model, SLOT["dec_dense1"], _p(lat), 25, int(lev), ffi.NULL,
                                          _p(x), 96) == 0
        buf = [x]
        for k in range(5):
            b = np.concatenate(buf)
            assert lib.dc_rdovae_layer_gru(dec.c_model, k, _p(b), b.size, _p(g[k]), 64) == 0
            y = np.zeros(64, np.int32)
            assert lib.dc_rdovae_layer_glu(dec.c_model, k, _p(g[k]), _p(y), 64) == 0
            buf.append(y)
            b = np.concatenate(buf)
            t = np.zeros(32, np.int32)
            assert lib.dc_rdovae_layer_dense_tanh(dec.c_model, SLOT[f"dec_conv_dense{k + 1}"], _p(b), b.size,
                                                  _p(t), 32) == 0
            c = np.zeros(32, np.int32)
            assert lib.dc_rdovae_layer_conv(dec.c_model, k, _p(t), _p(mem[k]), _p(c), 32) == 0
            buf.append(c)
        b = np.concatenate(buf)
        assert b.size == 576
        f = np.zeros(80, np.int32)
        assert lib.dc_rdovae_layer_output(dec.c_model, _p(b), 576, _p(f), 80) == 0
        feats.append(f)
    expected = np.concatenate(feats).reshape(4 * n, 20)
    assert np.array_equal(dec.decode_fixed(q0, state, latents, levels), expected)
