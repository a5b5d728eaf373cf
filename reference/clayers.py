"""A network's layers handed to the C core (``csrc/nnet.h``'s ``dc_linear``) as the model holds them, and the
core's check verdicts in words: what the RDOVAE decoder and the FARGAN vocoder share.

The arrays go over without copies or conversion (int8 weights in libopus's block order, float32 scales,
biases and weights, the sparse index); the C core checks them, once, before any kernel reads them.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from dredconf.errors import ModelError
from dredconf.reference._core import ffi, lib

#: The arithmetics (csrc/nnet.h): both give libopus's bits.
ARITHMETIC = ("exact", "softfloat")
#: The hardware kernel levels, by name.
KERNELS = {lib.DC_SIMD_NONE: "portable C", lib.DC_SIMD_SSE2: "SSE2", lib.DC_SIMD_AVX2: "AVX2"}

#: dc_linear_check's reasons.
REASONS = {
    lib.DC_NN_BAD_DIMS: "dimensions are not the architecture's",
    lib.DC_NN_BAD_POINTER: "weights or their scale missing",
    lib.DC_NN_BAD_WEIGHTS: "weight count does not match the shape or sparse index",
    lib.DC_NN_BAD_INDEX: "sparse index malformed or outside the inputs",
    lib.DC_NN_BAD_SIZE: "bias or scale count is not the output count",
    lib.DC_NN_BAD_RANGE: "a float not finite, or an int8 row past the exactness bound (128 * sum|w| < 2^24)",
    lib.DC_NN_BAD_LAYOUT: "not in libopus's blocks of 8 outputs x 4 inputs (or sparse float weights)",
}
_CTYPES = {np.dtype(np.uint8): "uint8_t[]", np.dtype(np.int8): "int8_t[]", np.dtype(np.int32): "int32_t[]",
           np.dtype(np.float32): "float[]"}


class CoreNetwork:
    """What a network of the C core shows in Python: its checked C model (``_m``) and what ``arith`` runs as;
    ``_exact_runs`` names the core's function that says it (``dc_rdovae_exact_runs``)."""

    _exact_runs = ""
    _m: Any

    def __init__(self, core: Any, arith: str):
        if arith not in ARITHMETIC:
            raise ValueError(f"arith must be one of {ARITHMETIC}, got {arith!r}")
        self.arith = arith
        self._core = core
        self._ffi, self._lib = (ffi, lib) if core is None else (core.ffi, core.lib)
        if self._lib.dc_nn_selfcheck() & lib.DC_CHECK_SOFTFLOAT:
            warnings.warn("the C core's soft-float does not give its recorded results: this build is broken "
                          "and its output cannot be trusted (rdovae.platform_check())", RuntimeWarning)

    @property
    def c_model(self):
        """The checked C model (for the per-layer entry points in tests)."""
        return self._m

    @property
    def runs(self) -> str:
        """What ``arith`` runs as now: "exact" on the hardware (with its kernels) or "softfloat"."""
        if self.arith == "exact" and getattr(self._lib, self._exact_runs)(self._m) == lib.DC_ARITH_EXACT:
            return f"exact (hardware float, {KERNELS[self._lib.dc_nn_simd()]} kernels)"
        return "softfloat"


class CArrays:
    """Model arrays lent to the C core (cffi ``ffi``), kept alive as long as this object; ``owner`` names the
    network in errors ("RDOVAE decoder")."""

    def __init__(self, ffi: Any, owner: str):
        self._ffi = ffi
        self.owner = owner
        self._keep: list[Any] = []

    def array(self, values: Any, dtype: Any, what: str):
        """(pointer, length) of a contiguous copy-free view, or (NULL, 0) for None."""
        if values is None:
            return self._ffi.NULL, 0
        a = np.ascontiguousarray(values).reshape(-1)
        if a.dtype != dtype:
            raise ModelError(f"{self.owner}: {what} are {a.dtype}, expected {np.dtype(dtype).name}", rule="model-shape")
        p = self._ffi.from_buffer(_CTYPES[a.dtype], a)
        self._keep.append((a, p))
        return p, a.size

    def set_layer(self, target: Any, name: str, layers: dict[str, dict], arrays: dict[str, np.ndarray]) -> None:
        """Fills the ``dc_linear`` ``target`` with layer ``name`` of a model's ``layers`` / ``arrays``."""
        spec = layers.get(name)
        if spec is None:
            raise self.layer_error(name, "missing from the model")

        def get(key: str, dtype: Any):
            return self.array(arrays.get(spec.get(key)) if spec.get(key) else None, dtype, f"{name} {key}")

        target.bias, target.nb_bias = get("bias", np.float32)
        target.weights, target.nb_weights = get("weights", np.int8)
        target.float_weights, target.nb_float_weights = get("float_weights", np.float32)
        target.weights_idx, target.nb_idx = get("weights_idx", np.int32)
        target.scale, target.nb_scale = get("scale", np.float32)
        target.nb_inputs, target.nb_outputs = spec.get("nb_inputs", 0), spec.get("nb_outputs", 0)

    def layer_error(self, layer: str, msg: str) -> ModelError:
        return ModelError(f"{self.owner} layer {layer}: {msg}", rule="model-shape")

    def check_error(self, m: Any, names: dict[int, str], shapes: dict[str, tuple[int, int]]) -> ModelError:
        """A C model check's verdict (``check_slot``, ``check_reason``, ``check_row`` of ``m``) as a ModelError
        naming the layer (``names``: slot -> name; ``shapes``: name -> the architecture's nin, nout) and the row."""
        name = names.get(m.check_slot, f"slot {m.check_slot}")
        reason = REASONS.get(m.check_reason, f"reason {m.check_reason}")
        if m.check_reason == lib.DC_NN_BAD_DIMS:
            layer, (nin, nout) = m.layer[m.check_slot], shapes[name]
            reason = f"declared {layer.nb_inputs}x{layer.nb_outputs}, the {self.owner.split()[-1]} needs {nin}x{nout}"
        row = f", row {m.check_row}" if m.check_row >= 0 else ""
        return self.layer_error(name, reason + row)
