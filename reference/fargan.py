"""The FARGAN vocoder: float32 features -> libopus 1.6.1's 16 kHz speech, bit for bit.

``FarganSynthesizer(model).synthesize(features)`` is ``fargan_demo -fargan-synthesis``: 20 float32
features per 10 ms frame (18 cepstra, pitch, pitch correlation), oldest first, in; 160 int16 samples
per frame at 16 kHz out, libopus's generic-C output exactly (``csrc/fargan.h`` says what it computes
and how fargan_demo frames it).  The arithmetics are the RDOVAE's (``rdovae.ARITHMETIC``): ``exact``
(hardware binary32, SIMD kernels where the CPU has them and the self-checks pass) and ``softfloat``
(integers only); the same bits.  FARGAN's exp and pow are integer code shared by both
(``csrc/fargan_libm.h``, docs/FARGAN.md).

The weights come from ``fargan_data.c`` through the model loader (``load_model(parts=("fargan",))``);
the C core checks every layer before use (``dc_fargan_check``), and a model it rejects is a
``ModelError`` naming the layer.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from dredconf.errors import ModelError
from dredconf.reference._core import ffi, lib
from dredconf.reference.clayers import CArrays, CoreNetwork
from dredconf.reference.rdovae import _ARITH, DEFAULT_ARITH

NUM_FEATURES = lib.DC_FARGAN_NUM_FEATURES
FRAME = lib.DC_FARGAN_FRAME  # samples per 10 ms frame
RATE = 16000
PITCH_FEATURE = lib.DC_FARGAN_PITCH_FEATURE
#: libopus layer name (fargan_data.c) -> C slot, in libopus's FARGAN struct order.
SLOTS: dict[str, int] = {name: i for i, name in enumerate((
    "cond_net_pembed", "cond_net_fdense1", "cond_net_fconv1", "cond_net_fdense2", "sig_net_cond_gain_dense",
    "sig_net_fwc0_conv", "sig_net_fwc0_glu_gate", "sig_net_gru1_input", "sig_net_gru1_recurrent",
    "sig_net_gru2_input", "sig_net_gru2_recurrent", "sig_net_gru3_input", "sig_net_gru3_recurrent",
    "sig_net_gru1_glu_gate", "sig_net_gru2_glu_gate", "sig_net_gru3_glu_gate", "sig_net_skip_glu_gate",
    "sig_net_skip_dense", "sig_net_sig_dense_out", "sig_net_gain_dense_out"))}
SLOT_NAMES = {slot: name for name, slot in SLOTS.items()}
_ERRORS = {lib.DC_FARGAN_ERR_MODEL: "model not checked", lib.DC_FARGAN_ERR_COUNT: "no frame",
           lib.DC_FARGAN_ERR_ARG: "bad argument"}


def _shape(slot: int) -> tuple[int, int]:
    nin, nout = ffi.new("int32_t *"), ffi.new("int32_t *")
    lib.dc_fargan_layer_shape(slot, nin, nout)
    return nin[0], nout[0]


#: libopus layer name -> (nb_inputs, nb_outputs) of the architecture, as the C core has it.
ARCHITECTURE: dict[str, tuple[int, int]] = {name: _shape(slot) for name, slot in SLOTS.items()}


class FeatureError(ValueError):
    """Features that are not frames of 20 float32 values."""


def as_features(features: Any) -> np.ndarray:
    """Features as a contiguous float32 (n, 20) array (n >= 1); a flat sequence is cut into rows of 20."""
    a = np.ascontiguousarray(features, dtype=np.float32)
    if a.ndim == 1:
        if a.size % NUM_FEATURES:
            raise FeatureError(f"{a.size} values are not whole frames of {NUM_FEATURES}")
        a = a.reshape(-1, NUM_FEATURES)
    if a.ndim != 2 or a.shape[1] != NUM_FEATURES:
        raise FeatureError(f"features have shape {a.shape}, expected (frames, {NUM_FEATURES})")
    if not len(a):
        raise FeatureError("no frame of features")
    return a


class FarganSynthesizer(CoreNetwork):
    """libopus's FARGAN vocoder as ``fargan_demo -fargan-synthesis`` runs it, for one model.

    ``model``: a ``reference.model.Model`` loaded with the ``fargan`` part, a model path, or None (the
    default location rules); ``arith``: one of ``rdovae.ARITHMETIC``; ``core``: another build of the C
    core (as ``RdovaeDecoder`` takes it).
    """

    _exact_runs = "dc_fargan_exact_runs"

    def __init__(self, model: Any = None, *, core: Any = None, arith: str = DEFAULT_ARITH):
        super().__init__(core, arith)
        if model is None or not hasattr(model, "fargan_layers"):
            from dredconf.reference.model import load_model
            model = load_model(model, parts=("fargan",))
        if not model.fargan_layers:
            raise ModelError("FARGAN vocoder needs a model loaded with its fargan part", rule="model-shape")
        self.model = model
        self._arrays = c = CArrays(self._ffi, "FARGAN vocoder")
        self._m = m = self._ffi.new("dc_fargan_model *")
        for name, slot in SLOTS.items():
            c.set_layer(m.layer[slot], name, model.fargan_layers, model.fargan_arrays)
        if self._lib.dc_fargan_check(m) != lib.DC_FARGAN_OK:
            raise c.check_error(m, SLOT_NAMES, ARCHITECTURE)

    def synthesize(self, features: Any) -> np.ndarray:
        """fargan_demo's output for ``features`` ((n, 20) float32, oldest frame first): 160 n int16 samples."""
        return self._run(as_features(features), None)

    def synthesize_traced(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        """As ``synthesize``, with the argument of every exp call (float32, 4 per synthesised frame: 4 (n + 2))."""
        f = as_features(features)
        gains = np.zeros(lib.DC_FARGAN_GAINS_PER_FRAME * (len(f) + 2), np.float32)
        return self._run(f, gains), gains

    def _run(self, f: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
        pcm = np.zeros(FRAME * len(f), np.int16)
        buf = self._ffi.from_buffer
        rc = self._lib.dc_fargan_synthesize(self._m, _ARITH[self.arith], buf("float[]", f), len(f),
                                            buf("int16_t[]", pcm), pcm.size,
                                            self._ffi.NULL if gains is None else buf("float[]", gains),
                                            0 if gains is None else gains.size)
        if rc != lib.DC_FARGAN_OK:
            raise ValueError(f"FARGAN synthesis: {_ERRORS.get(rc, rc)}")
        return pcm
