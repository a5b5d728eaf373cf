"""The RDOVAE decoder: DRED integers (state, latents, levels) -> libopus 1.6.1's float32 features, bit for bit.

The per-packet computation is the C core (``csrc/rdovae_exact.c``): libopus's generic-C float32
arithmetic in libopus's order of operations, every float32 operation an integer soft-float
(``csrc/softfloat32.h``).  Its model arrays are the float32 numbers as bit patterns
(``.view(np.uint32)``, no conversion at all), the int8 weights and sparse index in the C kernel's
layout (libopus's blocks of 8 outputs x 4 inputs, reordered by input pairs, widened to int16),
and the quantizer scale tables.

Output: ``decode`` gives libopus's ``fec_features`` order (row 0 = newest 10 ms frame);
``decode_standalone`` gives libopus ``fargan_demo -dred-decoding`` order (oldest first).

``ARITHMETIC`` names the arithmetics ``RdovaeDecoder(model, arith=...)`` takes: ``"exact"`` (the
default) and ``"softfloat"`` (integer-only, the same bits); both run the soft-float core here.
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from dredconf.errors import ModelError
from dredconf.reference._core import ffi, lib

LEVELS = lib.DC_RDOVAE_LEVELS
STATE_DIM = lib.DC_RDOVAE_STATE_DIM
LATENT_DIM = lib.DC_RDOVAE_LATENT_DIM
NUM_FEATURES = lib.DC_RDOVAE_NUM_FEATURES
FRAMES_PER_LATENT = lib.DC_RDOVAE_FRAMES_PER_LATENT
MAX_LATENTS = lib.DC_RDOVAE_MAX_LATENTS
STAGES = lib.DC_RDOVAE_STAGES

#: libopus layer name -> (C slot, nb_inputs, nb_outputs) of the architecture
#: (dnn/dred_rdovae_dec.c; SPEC-NOTES section 4).
ARCHITECTURE: dict[str, tuple[int, int, int]] = {
    "dec_hidden_init": (lib.DC_RDOVAE_SLOT_HIDDEN_INIT, STATE_DIM, lib.DC_RDOVAE_HIDDEN),
    "dec_dense1": (lib.DC_RDOVAE_SLOT_DENSE1, LATENT_DIM + 1, lib.DC_RDOVAE_DENSE1),
    "dec_gru_init": (lib.DC_RDOVAE_SLOT_GRU_INIT, lib.DC_RDOVAE_HIDDEN, lib.DC_RDOVAE_GRU_INIT),
    "dec_output": (lib.DC_RDOVAE_SLOT_OUTPUT, lib.DC_RDOVAE_BUFFER, lib.DC_RDOVAE_OUT_PER_LATENT),
}
for _k in range(STAGES):
    _in = lib.DC_RDOVAE_DENSE1 + _k * (lib.DC_RDOVAE_GRU + lib.DC_RDOVAE_CONV)
    ARCHITECTURE[f"dec_gru{_k + 1}_input"] = (lib.DC_RDOVAE_SLOT_GRU_INPUT + _k, _in, 3 * lib.DC_RDOVAE_GRU)
    ARCHITECTURE[f"dec_gru{_k + 1}_recurrent"] = (lib.DC_RDOVAE_SLOT_GRU_RECURRENT + _k, lib.DC_RDOVAE_GRU,
                                                  3 * lib.DC_RDOVAE_GRU)
    ARCHITECTURE[f"dec_glu{_k + 1}"] = (lib.DC_RDOVAE_SLOT_GLU + _k, lib.DC_RDOVAE_GRU, lib.DC_RDOVAE_GRU)
    ARCHITECTURE[f"dec_conv_dense{_k + 1}"] = (lib.DC_RDOVAE_SLOT_CONV_DENSE + _k, _in + lib.DC_RDOVAE_GRU,
                                               lib.DC_RDOVAE_CONV)
    ARCHITECTURE[f"dec_conv{_k + 1}"] = (lib.DC_RDOVAE_SLOT_CONV + _k, 2 * lib.DC_RDOVAE_CONV, lib.DC_RDOVAE_CONV)
SLOT_NAMES = {slot: name for name, (slot, _, _) in ARCHITECTURE.items()}
FLOAT_LAYERS = ("dec_hidden_init", "dec_dense1")
ARITHMETIC = ("exact", "softfloat")
#: The reference's features are libopus's bit for bit in either arithmetic.
DEFAULT_ARITH = "exact"

_EXACT_SLOT_NAMES = {**SLOT_NAMES, lib.DC_RDOVAE_EXACT_SLOT_SCALES: "quantizer scale tables"}
_REASONS = {
    lib.DC_RDOVAE_BAD_DIMS: "dimensions are not the architecture's",
    lib.DC_RDOVAE_BAD_POINTER: "a required array is missing",
    lib.DC_RDOVAE_BAD_WEIGHTS: "weight count does not match the shape or sparse index",
    lib.DC_RDOVAE_BAD_INDEX: "sparse index table malformed or outside the inputs",
    lib.DC_RDOVAE_BAD_SCALE: "quantizer scale outside 0..255",
    lib.DC_RDOVAE_BAD_RANGE: "a float not finite, or an int8 row past the exactness bound (128 * sum|w| < 2^24)",
}
_ERRORS = {
    lib.DC_RDOVAE_ERR_MODEL: "model not checked",
    lib.DC_RDOVAE_ERR_COUNT: f"latent count outside 0..{MAX_LATENTS}",
    lib.DC_RDOVAE_ERR_LEVEL: f"quantizer level outside 0..{LEVELS - 1}",
    lib.DC_RDOVAE_ERR_ARG: "bad argument",
}


class DredLatents(Protocol):
    """What the decoder reads from a decoded DRED payload (``payload.DredPayload`` has it)."""
    q0: int
    levels: Sequence[int]
    state: Sequence[int]
    latents: Sequence[Sequence[int]]
    latent_count: int


def _shape_error(layer: str, msg: str) -> ModelError:
    return ModelError(f"RDOVAE decoder layer {layer}: {msg}", rule="model-shape")


# ---------------------------------------------------------------- load-time conversions

def _array(model: Any, layer: str, spec: dict, key: str) -> np.ndarray | None:
    name = spec.get(key)
    if name is None:
        return None
    return model.decoder_arrays.get(name)


def _sparse_blocks(idx: np.ndarray, nin: int, nout: int, layer: str) -> int:
    pos, total, rows = 0, 0, 0
    values = idx.tolist()
    while pos < len(values):
        n = values[pos]
        starts = values[pos + 1:pos + 1 + n]
        if n < 0 or len(starts) != n or any(s < 0 or s + 3 >= nin or s % 4 for s in starts):
            raise _shape_error(layer, f"sparse index element {pos}: not a count followed by that many "
                                      f"input positions (multiples of 4 below {nin - 3})")
        pos += n + 1
        total += n
        rows += 8
    if rows != nout:
        raise _shape_error(layer, f"sparse index covers {rows} outputs, the layer has {nout}")
    return total


def _qlayer_arrays(model: Any, layer: str) -> dict[str, np.ndarray]:
    """The integer arrays of an int8 layer, shape-checked against the architecture."""
    spec = model.decoder_layers.get(layer)
    if spec is None:
        raise _shape_error(layer, "missing from the model")
    _, nin, nout = ARCHITECTURE[layer]
    if (spec.get("nb_inputs"), spec.get("nb_outputs")) != (nin, nout):
        raise _shape_error(layer, f"declared {spec.get('nb_inputs')}x{spec.get('nb_outputs')}, "
                                  f"the decoder needs {nin}x{nout}")
    if _array(model, layer, spec, "float_weights") is not None:
        raise _shape_error(layer, "has float weights (libopus would use them instead of its int8 ones); "
                                  "not supported")
    if _array(model, layer, spec, "diag") is not None:
        raise _shape_error(layer, "has a diag array; not supported")
    w = _array(model, layer, spec, "weights")
    scale = _array(model, layer, spec, "scale")
    bias = _array(model, layer, spec, "bias")
    if w is None or scale is None:
        raise _shape_error(layer, "int8 weights or their scale missing")
    w = np.asarray(w)
    if w.dtype != np.int8:
        raise _shape_error(layer, f"weights are {w.dtype}, expected int8")
    w = w.ravel()
    idx = _array(model, layer, spec, "weights_idx")
    if nout % 8 or nin % 4:
        raise _shape_error(layer, f"{nin}x{nout} does not fit libopus's blocks of 8 outputs x 4 inputs")
    if idx is not None:
        idx = np.ascontiguousarray(np.asarray(idx).ravel(), dtype=np.int32)
        blocks = _sparse_blocks(idx, nin, nout, layer)
        if w.size != 32 * blocks:
            raise _shape_error(layer, f"{w.size} int8 weights, its sparse index needs {32 * blocks}")
    else:
        if w.size != nin * nout:
            raise _shape_error(layer, f"{w.size} int8 weights, expected {nin * nout}")
        # libopus cgemv8x4 stores a dense layer as [out/8][in/4][8][4] blocks: the sparse
        # form with every column block present
        per_group = [nin // 4] + list(range(0, nin, 4))
        idx = np.array(per_group * (nout // 8), dtype=np.int32)
    # each block [8 outputs k][4 inputs 2p+t] -> [p][k][t], widened to int16 (the C kernel's layout)
    weights = np.ascontiguousarray(w.reshape(-1, 8, 2, 2).transpose(0, 2, 1, 3).reshape(-1).astype(np.int16))
    scale = np.asarray(scale).ravel()
    if scale.size != nout:
        raise _shape_error(layer, f"{scale.size} scales, expected {nout}")
    if bias is None:
        bias = np.zeros(nout, np.float32)
    bias = np.asarray(bias).ravel()
    if bias.size != nout:
        raise _shape_error(layer, f"{bias.size} biases, expected {nout}")
    return {"weights": weights, "idx": idx, "nb_inputs": nin, "nb_outputs": nout}


def _float_layer(model: Any, layer: str) -> tuple[dict, int, int, np.ndarray]:
    """A float-weight layer's spec, shape and dense float32 weights, checked against the architecture."""
    spec = model.decoder_layers.get(layer)
    if spec is None:
        raise _shape_error(layer, "missing from the model")
    _, nin, nout = ARCHITECTURE[layer]
    if (spec.get("nb_inputs"), spec.get("nb_outputs")) != (nin, nout):
        raise _shape_error(layer, f"declared {spec.get('nb_inputs')}x{spec.get('nb_outputs')}, "
                                  f"the decoder needs {nin}x{nout}")
    if _array(model, layer, spec, "diag") is not None:
        raise _shape_error(layer, "has a diag array; not supported")
    fw = _array(model, layer, spec, "float_weights")
    if fw is None:
        raise _shape_error(layer, "float weights missing (an int8 version is not supported)")
    fw = np.asarray(fw).ravel()
    if fw.dtype != np.float32 or fw.size != nin * nout or _array(model, layer, spec, "weights_idx") is not None:
        raise _shape_error(layer, f"float weights: {fw.size} {fw.dtype} values, expected {nin * nout} float32, dense")
    return spec, nin, nout, fw


def _f32_bits(values: np.ndarray) -> np.ndarray:
    """float32 values -> their bit patterns (uint32), unchanged."""
    a = np.asarray(values)
    if a.dtype != np.float32:
        raise ValueError(f"{a.dtype} values, expected float32")
    return np.ascontiguousarray(a.ravel()).view(np.uint32)


def _exact_flayer_arrays(model: Any, layer: str) -> dict[str, Any]:
    """A float layer for the exact core: libopus's float32 weights and bias, as bits."""
    spec, nin, nout, fw = _float_layer(model, layer)   # dec_dense1: 25 latents + the level input
    bias = _array(model, layer, spec, "bias")
    if bias is not None and (np.asarray(bias).size != nout or np.asarray(bias).dtype != np.float32):
        raise _shape_error(layer, f"{np.asarray(bias).size} biases, expected {nout} float32")
    return {"weights": _f32_bits(fw), "bias": None if bias is None else _f32_bits(bias),
            "nb_inputs": nin, "nb_outputs": nout}


def _exact_qlayer_arrays(model: Any, layer: str) -> dict[str, Any]:
    """An int8 layer for the C core: weights and index in its layout, scale and bias as bits."""
    arrays = _qlayer_arrays(model, layer)
    spec = model.decoder_layers[layer]
    scale = np.asarray(_array(model, layer, spec, "scale"))
    bias = _array(model, layer, spec, "bias")
    if scale.dtype != np.float32 or (bias is not None and np.asarray(bias).dtype != np.float32):
        raise _shape_error(layer, "scale or bias not float32")
    return {"weights": arrays["weights"], "idx": arrays["idx"], "scale": _f32_bits(scale),
            "bias": None if bias is None else _f32_bits(bias),
            "nb_inputs": arrays["nb_inputs"], "nb_outputs": arrays["nb_outputs"]}


# ---------------------------------------------------------------- the decoder

class RdovaeDecoder:
    """RDOVAE decoder for one model (``reference.model.load_model()`` by default).

    ``arith``: one of ``ARITHMETIC`` (see the module doc); the features are libopus's bit for bit.
    ``core`` is the compiled C core to use (any module with ``ffi`` and ``lib`` built from
    ``csrc/``, e.g. by ``build_core.make_builder`` with other compiler flags); default: the
    installed ``dredconf.reference._core``.
    """

    def __init__(self, model: Any = None, *, core: Any = None, arith: str = DEFAULT_ARITH):
        if arith not in ARITHMETIC:
            raise ValueError(f"arith must be one of {ARITHMETIC}, got {arith!r}")
        self.arith = arith
        self._ffi, self._lib = (ffi, lib) if core is None else (core.ffi, core.lib)
        if model is None:
            from dredconf.reference.model import load_model
            model = load_model()
        stats = getattr(model, "stats", None)
        if stats is None or not getattr(model, "decoder_layers", None):
            raise ModelError("RDOVAE decoder needs a model loaded with its stats and decoder parts",
                             rule="model-shape")
        latent_scale = np.asarray(stats.latent_quant_scale)
        state_scale = np.asarray(stats.state_quant_scale)
        if latent_scale.shape != (LEVELS, LATENT_DIM) or state_scale.shape != (LEVELS, STATE_DIM):
            raise ModelError(f"quant scale tables are {latent_scale.shape} and {state_scale.shape}, "
                             f"expected ({LEVELS}, {LATENT_DIM}) and ({LEVELS}, {STATE_DIM})", rule="model-shape")
        self.model = model
        self._keep: list[Any] = []
        self._init_exact(latent_scale, state_scale)

    # -- building the C struct
    def _init_exact(self, latent_scale: np.ndarray, state_scale: np.ndarray) -> None:
        self._x = x = self._ffi.new("dc_rdovae_exact_model *")
        scales = {}
        for key, table in (("state_scale", state_scale), ("latent_scale", latent_scale)):
            t = np.asarray(table)
            if not np.issubdtype(t.dtype, np.integer) or t.min() < 0 or t.max() > 255:
                raise ModelError(f"quantizer {key} table: values outside 0..255", rule="model-shape")
            scales[key] = self._ptr("int32_t[]", t.astype(np.int32).reshape(-1))
        x.state_scale, x.latent_scale = scales["state_scale"], scales["latent_scale"]
        for name, (slot, _, _) in ARCHITECTURE.items():
            target = self._slot_struct(slot, x)
            try:
                if name in FLOAT_LAYERS:
                    a = _exact_flayer_arrays(self.model, name)
                else:
                    a = _exact_qlayer_arrays(self.model, name)
            except ValueError as e:
                raise _shape_error(name, str(e)) from None
            target.nb_inputs = a["nb_inputs"]
            target.nb_outputs = a["nb_outputs"]
            target.weights = self._ptr("uint32_t[]" if name in FLOAT_LAYERS else "int16_t[]", a["weights"])
            target.nb_weights = a["weights"].size
            target.bias = self._ffi.NULL if a["bias"] is None else self._ptr("uint32_t[]", a["bias"])
            if name not in FLOAT_LAYERS:
                target.idx = self._ptr("int32_t[]", a["idx"])
                target.nb_idx = a["idx"].size
                target.scale = self._ptr("uint32_t[]", a["scale"])
        if self._lib.dc_rdovae_exact_check(x) != lib.DC_RDOVAE_OK:
            raise self.check_error()

    def _slot_struct(self, slot: int, m: Any):
        named = {lib.DC_RDOVAE_SLOT_HIDDEN_INIT: m.hidden_init, lib.DC_RDOVAE_SLOT_DENSE1: m.dense1,
                 lib.DC_RDOVAE_SLOT_GRU_INIT: m.gru_init, lib.DC_RDOVAE_SLOT_OUTPUT: m.output}
        if slot in named:
            return named[slot]
        for base, arr in ((lib.DC_RDOVAE_SLOT_GRU_INPUT, m.gru_input), (lib.DC_RDOVAE_SLOT_GRU_RECURRENT, m.gru_recurrent),
                          (lib.DC_RDOVAE_SLOT_GLU, m.glu), (lib.DC_RDOVAE_SLOT_CONV_DENSE, m.conv_dense),
                          (lib.DC_RDOVAE_SLOT_CONV, m.conv)):
            if base <= slot < base + STAGES:
                return arr[slot - base]
        raise KeyError(slot)

    def _ptr(self, ctype: str, a: np.ndarray):
        a = np.ascontiguousarray(a)
        p = self._ffi.from_buffer(ctype, a)
        self._keep.append((a, p))
        return p

    def check_error(self) -> ModelError:
        m = self._x
        name = _EXACT_SLOT_NAMES.get(m.check_slot, f"slot {m.check_slot}")
        row = f", row {m.check_row}" if m.check_row >= 0 else ""
        reason = _REASONS.get(m.check_reason, f"reason {m.check_reason}")
        return ModelError(f"RDOVAE decoder layer {name}{row}: {reason}", rule="model-shape")

    @property
    def c_exact_model(self):
        """The checked ``dc_rdovae_exact_model *`` (for the per-layer entry points in tests)."""
        return self._x

    # -- decoding
    @staticmethod
    def _arguments(q0: int, state: Sequence[int], latents: Any, levels: Sequence[int]):
        """Validated int32 arrays (state, latents flat, levels) and n."""
        st = _int32_array(state, "state")
        if st.shape != (STATE_DIM,):
            raise ValueError(f"state has shape {st.shape}, expected ({STATE_DIM},)")
        lat = _int32_array(latents, "latents")
        if lat.size == 0:
            lat = lat.reshape(0, LATENT_DIM)
        if lat.ndim != 2 or lat.shape[1] != LATENT_DIM:
            raise ValueError(f"latents have shape {lat.shape}, expected (n, {LATENT_DIM})")
        n = lat.shape[0]
        lev = _int32_array(levels, "levels").reshape(-1)
        if lev.size != n:
            raise ValueError(f"{lev.size} levels for {n} latents")
        if n > MAX_LATENTS:
            raise ValueError(f"{n} latents: at most {MAX_LATENTS}")
        if not 0 <= int(q0) < LEVELS or (n and not (lev.min() >= 0 and lev.max() < LEVELS)):
            raise ValueError(f"q0 {q0} or a level in {lev.tolist()} outside 0..{LEVELS - 1}")
        return st, np.ascontiguousarray(lat.reshape(-1)), lev, n

    def decode_exact(self, q0: int, state: Sequence[int], latents: Any, levels: Sequence[int]) -> np.ndarray:
        """Features as float32 bit patterns (uint32), shape (4n, 20), fec_features order;
        ``.view(np.float32)`` gives libopus's features."""
        st, lat, lev, n = self._arguments(q0, state, latents, levels)
        out = np.zeros(n * lib.DC_RDOVAE_OUT_PER_LATENT, dtype=np.uint32)
        buf = self._ffi.from_buffer
        rc = self._lib.dc_rdovae_exact_decode(self.c_exact_model, buf("int32_t[]", st), int(q0), buf("int32_t[]", lat),
                                              buf("int32_t[]", lev), n, buf("uint32_t[]", out), out.size)
        if rc != lib.DC_RDOVAE_OK:
            raise ValueError(f"RDOVAE decode: {_ERRORS.get(rc, rc)}")
        return out.reshape(n * FRAMES_PER_LATENT, NUM_FEATURES)

    def decode_integers(self, q0: int, state: Sequence[int], latents: Any, levels: Sequence[int]) -> np.ndarray:
        """Features as float32, shape (4n, 20), libopus fec_features order (row 0 newest)."""
        return self.decode_exact(q0, state, latents, levels).view(np.float32)

    def decode(self, payload: DredLatents) -> np.ndarray:
        """Features of a decoded DRED payload: float32 (4*latent_count, 20), newest frame first."""
        n = int(payload.latent_count)
        latents = list(payload.latents)[:n] if n else []
        if len(latents) != n or len(payload.levels) < n:
            raise ValueError(f"payload has latent_count {n} but {len(payload.latents)} latents "
                             f"and {len(payload.levels)} levels")
        return self.decode_integers(payload.q0, payload.state, latents, list(payload.levels)[:n])

    def decode_standalone(self, q0: int, state: Sequence[int], latents: Any) -> np.ndarray:
        """libopus's standalone feature decoder (fargan_demo -dred-decoding): every latent at
        level q0 (dequantisation and level input q0/8 - 1); float32 rows in time order, oldest first."""
        lat = _int32_array(latents, "latents")
        n = 0 if lat.size == 0 else lat.shape[0]
        return self.decode_integers(q0, state, lat, [int(q0)] * n)[::-1].copy()


def _int32_array(values: Any, what: str) -> np.ndarray:
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros(a.shape, dtype=np.int32)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {a.dtype}")
    if a.min() < -(1 << 31) or a.max() >= 1 << 31:
        raise ValueError(f"{what}: values outside the int32 range")
    return np.ascontiguousarray(a, dtype=np.int32)
