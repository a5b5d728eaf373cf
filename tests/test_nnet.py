"""The generic layer kernels (csrc/nnet.h) on their own: the one layer check and the linear
kernels, on layers of any shape, FARGAN's among them (dnn/fargan.c builds on the same layers).

1. Every FARGAN linear layer of the shared model passes the check; its int8 rows' exactness
   figures (128 * sum|w| < 2^24) are printed.
2. FARGAN's layers, odd output counts included (1, 4), compute libopus's float32 results in
   every arithmetic and kernel level (numpy float32 in libopus's order as the reference).
3. The check's rejections, and the sparse index walk the model loader shares.
"""
from __future__ import annotations

import numpy as np
import pytest

from dredconf.reference._core import ffi, lib
from dredconf.reference.carray import parse_arrays, parse_defines, parse_init
from tests.helpers.libopus_vec import q8

F32 = np.float32


class Layer:
    """A dc_linear over numpy arrays (kept alive with it)."""

    def __init__(self, nin, nout, *, weights=None, float_weights=None, idx=None, scale=None, bias=None):
        self.c = ffi.new("dc_linear *")
        self._keep = []
        self.c.nb_inputs, self.c.nb_outputs = nin, nout
        for field, n, a, ctype in (("weights", "nb_weights", weights, "int8_t[]"),
                                   ("float_weights", "nb_float_weights", float_weights, "float[]"),
                                   ("weights_idx", "nb_idx", idx, "int32_t[]"), ("scale", "nb_scale", scale, "float[]"),
                                   ("bias", "nb_bias", bias, "float[]")):
            if a is not None:
                a = np.ascontiguousarray(a)
                self._keep.append(a)
                setattr(self.c, field, ffi.from_buffer(ctype, a))
                setattr(self.c, n, a.size)

    def check(self, nin=None, nout=None):
        row, bound = ffi.new("int32_t *"), ffi.new("int32_t *")
        reason = lib.dc_linear_check(self.c, nin or self.c.nb_inputs, nout or self.c.nb_outputs, row, bound)
        return reason, row[0], bound[0]

    def run(self, arith, x):
        out = np.zeros(self.c.nb_outputs, F32)
        x = np.ascontiguousarray(x, F32)
        assert lib.dc_nn_linear(arith, self.c, ffi.from_buffer("float[]", x), ffi.from_buffer("float[]", out)) == 0
        return out


def dense_int8(blocks, idx, nin, nout):
    """[out][in] int64 from libopus's 8x4 blocks and sparse index (None: dense)."""
    W = np.zeros((nout, nin), np.int64)
    w = np.asarray(blocks, np.int64).reshape(-1, 8, 4)
    p = b = 0
    for g in range(nout // 8):
        count = idx[p] if idx is not None else nin // 4
        for c in range(count):
            pos = idx[p + 1 + c] if idx is not None else 4 * c
            W[8 * g:8 * g + 8, pos:pos + 4] += w[b]
            b += 1
        p += count + 1
    return W


def reference(layer: dict, x: np.ndarray) -> np.ndarray:
    """libopus's compute_linear in numpy float32, its order of operations (vec.h generic path)."""
    nin, nout = layer["nb_inputs"], layer["nb_outputs"]
    if layer.get("float_weights") is not None:
        w = layer["float_weights"].reshape(nin, nout)
        y = np.zeros(nout, F32)
        for j in range(nin):
            y = (y + w[j] * x[j]).astype(F32)
    else:
        W = dense_int8(layer["weights"], layer.get("weights_idx"), nin, nout)
        x8 = (q8(x) + 128) % 256 - 128           # libopus stores the int in an opus_int8: its low byte
        y = ((W @ x8).astype(F32) * layer["scale"]).astype(F32)
    if layer.get("bias") is not None:
        y = (y + layer["bias"]).astype(F32)
    return y


@pytest.fixture(scope="module")
def fargan(model_dir):
    """FARGAN's linear layers from the shared model: name -> arrays and shape."""
    text = (model_dir / "fargan_data.c").read_text()
    arrays = parse_arrays(text)
    _, specs = parse_init(text, parse_defines((model_dir / "fargan_data.h").read_text()))
    layers = {}
    for name, spec in specs.items():
        if spec["kind"] == "linear":
            layers[name] = {k: (arrays.get(spec[k]) if spec.get(k) else None)
                            for k in ("weights", "float_weights", "weights_idx", "scale", "bias")}
            layers[name].update(nb_inputs=spec["nb_inputs"], nb_outputs=spec["nb_outputs"])
    return layers


def _layer(d: dict) -> Layer:
    return Layer(d["nb_inputs"], d["nb_outputs"], weights=d["weights"] if d["float_weights"] is None else None,
                 float_weights=d["float_weights"], idx=d["weights_idx"], scale=d["scale"], bias=d["bias"])


# ------------------------------------------------------------------ 1. FARGAN's layers pass the check

@pytest.mark.shared
def test_fargan_layers_pass_the_check(fargan):
    figures = {}
    for name, d in fargan.items():
        reason, row, bound = _layer(d).check()
        assert reason == 0, (name, reason, row)
        if d["float_weights"] is None:
            figures[name] = bound
    print({n: f"{b} ({b / 2 ** 24:.4f} of 2^24)" for n, b in figures.items()})
    assert len(figures) == 16 and max(figures.values()) < 1 << 24
    assert figures["sig_net_skip_dense"] == max(figures.values()) == 128 * 11711   # 688 inputs


# ------------------------------------------------------------------ 2. they compute libopus's results

@pytest.mark.shared
@pytest.mark.parametrize("name", ["sig_net_cond_gain_dense", "sig_net_gain_dense_out", "cond_net_fdense1",
                                  "sig_net_skip_dense", "sig_net_gru1_input", "sig_net_sig_dense_out"])
def test_fargan_layers_compute_like_libopus(fargan, arith, name):
    d = fargan[name]
    layer = _layer(d)
    rng = np.random.default_rng(len(name))
    for scale in (1, 4, 1e-3):
        x = (rng.normal(0, scale, d["nb_inputs"])).astype(F32)
        x[rng.random(x.size) < .2] = 0
        assert np.array_equal(layer.run(arith, x).view(np.uint32), reference(d, x).view(np.uint32)), (name, scale)


def test_odd_float_layers_and_int8_tails(arith):
    """Every output count 1..19 of a float layer (each kernel's tail) and a sparse int8 layer with an
    empty group and a repeated block, against the numpy reference."""
    rng = np.random.default_rng(5)
    for nout in range(1, 20):
        nin = 3 + nout
        d = {"nb_inputs": nin, "nb_outputs": nout, "float_weights": rng.normal(0, 1, nin * nout).astype(F32),
             "bias": rng.normal(0, 1, nout).astype(F32)}
        x = rng.normal(0, 2, nin).astype(F32)
        assert np.array_equal(Layer(nin, nout, float_weights=d["float_weights"], bias=d["bias"]).run(arith, x),
                              reference(d, x)), nout
    idx = np.array([2, 8, 4, 0, 3, 0, 0, 12], np.int32)
    d = {"nb_inputs": 16, "nb_outputs": 24, "weights": rng.integers(-128, 128, 32 * 5).astype(np.int8),
         "weights_idx": idx, "scale": rng.uniform(0, 1e-2, 24).astype(F32), "bias": None, "float_weights": None}
    x = rng.uniform(-1.2, 1.2, 16).astype(F32)
    got = Layer(16, 24, weights=d["weights"], idx=idx, scale=d["scale"]).run(arith, x)
    assert np.array_equal(got, reference(d, x))


# ------------------------------------------------------------------ 3. the check

def test_check_rejections():
    ok = dict(weights=np.ones(8 * 8, np.int8), scale=np.ones(8, F32), bias=np.zeros(8, F32))
    assert Layer(8, 8, **ok).check()[0] == 0
    assert Layer(8, 8, **ok).check(8, 16)[0] == lib.DC_NN_BAD_DIMS                    # not the shape asked for
    assert Layer(2048, 8, **ok).check()[0] == lib.DC_NN_BAD_DIMS                      # past the kernels' limits
    assert Layer(8, 8, **{**ok, "scale": None}).check()[0] == lib.DC_NN_BAD_POINTER
    assert Layer(8, 8, **{**ok, "weights": np.ones(63, np.int8)}).check()[0] == lib.DC_NN_BAD_WEIGHTS
    assert Layer(8, 8, **{**ok, "bias": np.zeros(7, F32)}).check()[0] == lib.DC_NN_BAD_SIZE
    assert Layer(8, 8, **{**ok, "scale": np.array([1] * 7 + [np.inf], F32)}).check()[:2] == (lib.DC_NN_BAD_RANGE, 7)
    assert Layer(6, 8, **{**ok, "weights": np.ones(48, np.int8)}).check()[0] == lib.DC_NN_BAD_LAYOUT   # not 4 | nin
    assert Layer(8, 8, **ok, idx=np.array([3, 0, 4, 4], np.int32)).check()[0] == lib.DC_NN_BAD_WEIGHTS
    assert Layer(8, 8, **ok, idx=np.array([2, 0, 6], np.int32)).check()[0] == lib.DC_NN_BAD_INDEX
    f = np.ones(4 * 3, F32)
    assert Layer(4, 3, float_weights=f).check()[0] == 0                              # float layers: any shape
    assert Layer(4, 3, float_weights=f, idx=np.array([1, 0], np.int32)).check()[0] == lib.DC_NN_BAD_LAYOUT
    f[5] = np.nan
    assert Layer(4, 3, float_weights=f).check()[:2] == (lib.DC_NN_BAD_RANGE, 2)
    assert lib.dc_nn_linear(0, Layer(4, 3, float_weights=f).c, ffi.new("float[4]"), ffi.new("float[3]")) == -1


def test_exactness_bound():
    """A row reaching 128 * sum|w| >= 2^24 is refused: only a 1024-input row of -128s can, at the
    kernels' input limit (cols * 128 * 128 < 2^24 below it)."""
    assert lib.DC_NN_MAX_INPUTS == 1024
    worst = Layer(1024, 8, weights=np.full(1024 * 8, -128, np.int8), scale=np.ones(8, F32))
    assert worst.check()[:2] == (lib.DC_NN_BAD_RANGE, 0)
    almost = Layer(1024, 8, weights=np.full(1024 * 8, 127, np.int8), scale=np.ones(8, F32))
    assert almost.check() == (0, -1, 128 * 127 * 1024)


def test_sparse_index_walk():
    bad = ffi.new("int32_t *")

    def blocks(idx, nin, nout):
        a = np.ascontiguousarray(idx, np.int32)
        return lib.dc_sparse_blocks(ffi.from_buffer("int32_t[]", a) if a.size else ffi.NULL, a.size, nin, nout, bad)

    assert blocks([2, 0, 4, 1, 4], 8, 16) == 3
    assert blocks([2, 4, 4], 8, 8) == 2                    # a block twice: libopus allows it
    assert blocks([0, 0], 8, 16) == 0
    assert blocks([2, 0, 4], 8, 16) == -1 and bad[0] == 3  # the second group's count is missing
    assert blocks([1, 5], 8, 8) == -1 and bad[0] == 1      # not a multiple of 4
    assert blocks([1, 8], 8, 8) == -1                      # past the inputs
    assert blocks([1, 0, 0], 8, 8) == -1                   # left over
    assert blocks([-1], 8, 8) == -1 and blocks([], 8, 8) == -1
