"""The RDOVAE decoder: DRED integers (state, latents, levels) -> libopus 1.6.1's float32 features, bit for bit.

The computation is the C core (``csrc/rdovae.h``, on the layers of ``csrc/nnet.h``): libopus's
generic-C float32 operations in libopus's order, in one of two arithmetics (``ARITHMETIC``):

* ``"exact"`` (default): hardware binary32, with SIMD kernels (SSE2, AVX2) where the CPU has
  them; used while the core's self-check (``platform_check()``) finds the hardware gives the
  soft-float's bits, else the soft-float runs in its place;
* ``"softfloat"``: every float operation an integer soft-float, no float arithmetic at all.

Both give the same bits.  The model's arrays go to the C core as they are (``clayers``: int8
weights in libopus's block order, float32 scales, biases and weights, the sparse index, the
quantizer scale tables); the core checks them (one check: ``dc_rdovae_check``) and this module
turns its verdict into a ``ModelError``.

Output: ``decode`` gives libopus's ``fec_features`` order (row 0 = newest 10 ms frame);
``decode_standalone`` gives libopus ``fargan_demo -dred-decoding`` order (oldest first);
``decode_many`` decodes many DRED payloads, integers and features, in one C call.

``$DREDCONF_SIMD`` (``off``, ``sse2``, ``avx2`` or ``auto``, read at import) or ``set_simd``
chooses the hardware kernels; ``off`` forces the portable C ones.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

from dredconf.errors import ModelError
from dredconf.reference._core import ffi, lib
from dredconf.reference.clayers import ARITHMETIC, CArrays, CoreNetwork
from dredconf.reference.payload import DredPayload, decode_dred_batch

LEVELS = lib.DC_RDOVAE_LEVELS
STATE_DIM = lib.DC_RDOVAE_STATE_DIM
LATENT_DIM = lib.DC_RDOVAE_LATENT_DIM
NUM_FEATURES = lib.DC_RDOVAE_NUM_FEATURES
FRAMES_PER_LATENT = lib.DC_RDOVAE_FRAMES_PER_LATENT
MAX_LATENTS = lib.DC_RDOVAE_MAX_LATENTS
STAGES = lib.DC_RDOVAE_STAGES

_SLOT_GROUPS = {"dec_gru{}_input": lib.DC_RDOVAE_SLOT_GRU_INPUT, "dec_gru{}_recurrent": lib.DC_RDOVAE_SLOT_GRU_RECURRENT,
                "dec_glu{}": lib.DC_RDOVAE_SLOT_GLU, "dec_conv_dense{}": lib.DC_RDOVAE_SLOT_CONV_DENSE,
                "dec_conv{}": lib.DC_RDOVAE_SLOT_CONV}
#: libopus layer name -> C slot (dnn/dred_rdovae_dec.c; SPEC-NOTES section 4).
SLOTS: dict[str, int] = {"dec_hidden_init": lib.DC_RDOVAE_SLOT_HIDDEN_INIT, "dec_dense1": lib.DC_RDOVAE_SLOT_DENSE1,
                         "dec_gru_init": lib.DC_RDOVAE_SLOT_GRU_INIT, "dec_output": lib.DC_RDOVAE_SLOT_OUTPUT,
                         **{name.format(k + 1): base + k for name, base in _SLOT_GROUPS.items() for k in range(STAGES)}}
SLOT_NAMES = {slot: name for name, slot in SLOTS.items()}


def _shape(slot: int) -> tuple[int, int]:
    nin, nout = ffi.new("int32_t *"), ffi.new("int32_t *")
    lib.dc_rdovae_layer_shape(slot, nin, nout)
    return nin[0], nout[0]


#: libopus layer name -> (C slot, nb_inputs, nb_outputs) of the architecture, as the C core has it.
ARCHITECTURE: dict[str, tuple[int, int, int]] = {name: (slot, *_shape(slot)) for name, slot in SLOTS.items()}
#: The reference's features are libopus's bit for bit in either arithmetic.
DEFAULT_ARITH = "exact"
_ARITH = {"exact": lib.DC_ARITH_EXACT, "softfloat": lib.DC_ARITH_SOFTFLOAT}
#: Hardware kernel levels, by the names ``set_simd`` and ``$DREDCONF_SIMD`` take.
SIMD_LEVELS = {"off": lib.DC_SIMD_NONE, "sse2": lib.DC_SIMD_SSE2, "avx2": lib.DC_SIMD_AVX2}
_CHECKS = {lib.DC_CHECK_EVAL_METHOD: "built with excess float precision (FLT_EVAL_METHOD != 0)",
           lib.DC_CHECK_SCALAR: "hardware float differs from the soft-float",
           lib.DC_CHECK_SSE2: "SSE2 kernels differ from the soft-float",
           lib.DC_CHECK_AVX2: "AVX2 kernels differ from the soft-float",
           lib.DC_CHECK_SOFTFLOAT: "the soft-float's results are not the recorded ones"}

_BAD_SCALE = "quantizer scale tables missing or of the wrong size"
_ERRORS = {
    lib.DC_RDOVAE_ERR_MODEL: "model not checked",
    lib.DC_RDOVAE_ERR_COUNT: f"latent count outside 0..{MAX_LATENTS}",
    lib.DC_RDOVAE_ERR_LEVEL: f"quantizer level outside 0..{LEVELS - 1}",
    lib.DC_RDOVAE_ERR_ARG: "bad argument",
}


def set_simd(level: str = "auto", core: Any = None) -> str:
    """Chooses the hardware kernels (``SIMD_LEVELS`` or ``"auto"``: the best that passed the
    self-check); returns the level in effect (a lower one when the CPU lacks the asked one)."""
    c = lib if core is None else core.lib
    if level != "auto" and level not in SIMD_LEVELS:
        raise ValueError(f"SIMD level must be auto or one of {', '.join(SIMD_LEVELS)}, got {level!r}")
    got = c.dc_nn_simd_select(-1 if level == "auto" else SIMD_LEVELS[level])
    return next(name for name, v in SIMD_LEVELS.items() if v == got)


def platform_check(core: Any = None) -> dict:
    """The core's start-up self-check: whether ``exact`` runs on the hardware, and its kernels."""
    c = lib if core is None else core.lib
    bits = c.dc_nn_selfcheck()
    names = {v: k for k, v in SIMD_LEVELS.items()}
    return {"hardware_float": bool(c.dc_nn_hw_exact()), "simd": names[c.dc_nn_simd()],
            "simd_available": names[c.dc_nn_simd_available()],
            "failures": [msg for bit, msg in _CHECKS.items() if bits & bit]}


def _simd_from_env() -> None:
    level = os.environ.get("DREDCONF_SIMD", "").strip().lower()
    if level:
        set_simd(level)


_simd_from_env()


class DredLatents(Protocol):
    """What the decoder reads from a decoded DRED payload (``payload.DredPayload`` has it)."""
    q0: int
    levels: Sequence[int]
    state: Sequence[int]
    latents: Sequence[Sequence[int]]
    latent_count: int


class RdovaeDecoder(CoreNetwork):
    """RDOVAE decoder for one model (``reference.model.load_model()`` by default).

    ``arith``: one of ``ARITHMETIC`` (see the module doc); the features are libopus's bit for bit.
    ``core`` is the compiled C core to use (any module with ``ffi`` and ``lib`` built from
    ``csrc/``, e.g. by ``build_core.make_builder`` with other compiler flags); default: the
    installed ``dredconf.reference._core``.
    """

    _exact_runs = "dc_rdovae_exact_runs"

    def __init__(self, model: Any = None, *, core: Any = None, arith: str = DEFAULT_ARITH):
        super().__init__(core, arith)
        if model is None:
            from dredconf.reference.model import load_model
            model = load_model()
        stats = getattr(model, "stats", None)
        if stats is None or not getattr(model, "decoder_layers", None):
            raise ModelError("RDOVAE decoder needs a model loaded with its stats and decoder parts",
                             rule="model-shape")
        self.model = model
        self._arrays = c = CArrays(self._ffi, "RDOVAE decoder")
        self._m = m = self._ffi.new("dc_rdovae_model *")
        m.state_scale, m.nb_state_scale = c.array(stats.state_quant_scale, np.uint8, "quantizer state scales")
        m.latent_scale, m.nb_latent_scale = c.array(stats.latent_quant_scale, np.uint8, "quantizer latent scales")
        for name, slot in SLOTS.items():
            c.set_layer(m.layer[slot], name, model.decoder_layers, model.decoder_arrays)
        if self._lib.dc_rdovae_check(m) != lib.DC_RDOVAE_OK:
            raise self.check_error()

    def check_error(self) -> ModelError:
        """The C check's verdict as a ModelError naming the layer and the row."""
        if self._m.check_slot == lib.DC_RDOVAE_SLOT_SCALES:
            return ModelError(f"RDOVAE decoder: {_BAD_SCALE}", rule="model-shape")
        return self._arrays.check_error(self._m, SLOT_NAMES, {n: a[1:] for n, a in ARCHITECTURE.items()})

    @property
    def row_bounds(self) -> dict[str, int]:
        """Per int8 layer, the largest 128 * sum|w| of a row: the exactness bound requires < 2^24."""
        return {name: self._m.row_bound[slot] for name, slot in SLOTS.items() if self._m.row_bound[slot]}

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

    def decode_integers(self, q0: int, state: Sequence[int], latents: Any, levels: Sequence[int]) -> np.ndarray:
        """Features as float32, shape (4n, 20), libopus fec_features order (row 0 newest)."""
        st, lat, lev, n = self._arguments(q0, state, latents, levels)
        out = np.zeros(n * lib.DC_RDOVAE_OUT_PER_LATENT, dtype=np.float32)
        buf = self._ffi.from_buffer
        rc = self._lib.dc_rdovae_decode(self._m, _ARITH[self.arith], buf("int32_t[]", st), int(q0),
                                        buf("int32_t[]", lat), buf("int32_t[]", lev), n, buf("float[]", out), out.size)
        if rc != lib.DC_RDOVAE_OK:
            raise ValueError(f"RDOVAE decode: {_ERRORS.get(rc, rc)}")
        return out.reshape(n * FRAMES_PER_LATENT, NUM_FEATURES)

    def decode_bits(self, q0: int, state: Sequence[int], latents: Any, levels: Sequence[int]) -> np.ndarray:
        """As ``decode_integers``, the float32 features as their bit patterns (uint32)."""
        return self.decode_integers(q0, state, latents, levels).view(np.uint32)

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

    def decode_many(self, payloads: Iterable[tuple[bytes, int]],
                    max_latents: int = MAX_LATENTS) -> list[tuple[DredPayload, np.ndarray]]:
        """Many DRED payloads (the bytes after 'D' and the version, with their frame_offset) in one
        C call: for each, its integers (as ``payload.decode_dred_payload``) and features (as ``decode``)."""
        found, feats = decode_dred_batch(payloads, self.model.stats, max_latents, rdovae=self._m,
                                         arith=_ARITH[self.arith], core=self._core)
        per = lib.DC_RDOVAE_OUT_PER_LATENT
        return [(p, feats[i, :per * p.latent_count].reshape(-1, NUM_FEATURES)) for i, p in enumerate(found)]


def _int32_array(values: Any, what: str) -> np.ndarray:
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros(a.shape, dtype=np.int32)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {a.dtype}")
    if a.min() < -(1 << 31) or a.max() >= 1 << 31:
        raise ValueError(f"{what}: values outside the int32 range")
    return np.ascontiguousarray(a, dtype=np.int32)
