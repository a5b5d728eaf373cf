"""Python face of the C payload core: DRED payload bytes <-> integers, plus range-coder wrappers for tests.

The C core (``csrc/entdec.c``, ``entenc.c``, ``laplace.c``, ``dred_payload.c``)
does every bit; this module only moves arrays in and out and names things.

``stats`` everywhere is any object with these numpy-compatible uint8 attributes
(``reference.model``'s ``load_model(path).stats`` provides them)::

    latent_quant_scale, latent_dead_zone, latent_r, latent_p0   (16, 25)
    state_quant_scale,  state_dead_zone,  state_r,  state_p0    (16, 50)

The dead-zone tables are encoder-side quantisation only and are not read here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from dredconf.reference._core import ffi, lib

LEVELS = lib.DC_DRED_LEVELS
LATENT_DIM = lib.DC_DRED_LATENT_DIM
STATE_DIM = lib.DC_DRED_STATE_DIM
MAX_LATENTS = lib.DC_DRED_MAX_LATENTS
#: Names of ``DredPayload.fields``, indexed like the C ``field_start``/``field_end`` arrays.
FIELD_NAMES = ("q0", "dQ", "extra_flag", "extra_offset", "offset", "qmax", "state") + tuple(
    f"latent{k}" for k in range(MAX_LATENTS)
)
#: The stats tables the core reads, with their (levels, dims) shapes.
STATS_TABLES = {
    "latent_quant_scale": (LEVELS, LATENT_DIM),
    "latent_r": (LEVELS, LATENT_DIM),
    "latent_p0": (LEVELS, LATENT_DIM),
    "state_quant_scale": (LEVELS, STATE_DIM),
    "state_r": (LEVELS, STATE_DIM),
    "state_p0": (LEVELS, STATE_DIM),
}
_ENCODE_CAP = 4096  # first buffer tried by the encoders; doubled while too small
_ENCODE_CAP_MAX = 1 << 28


@dataclass(frozen=True)
class DredPayload:
    """The integers of one DRED payload (SPEC-NOTES section 3), exactly as libopus 1.6.1 decodes them.

    ``fields`` maps a field name (``FIELD_NAMES``) to its (start, end) position in
    whole bits as the range coder tells it (``ec_tell``); fields absent from the
    payload (``extra_offset`` without the flag, an uncoded ``qmax``, latents past
    ``latent_count``, the header of a standalone record) are not listed.
    ``extra_flag`` is the coded flag before ``extra_offset`` (libopus writes it
    exactly when ``extra_offset > 0``; a payload may also code 1 then 0).
    """

    q0: int
    dQ: int
    extra_offset: int
    offset: int
    qmax: int
    dred_offset: int
    frame_offset: int
    latent_count: int
    levels: list[int]
    state: list[int]
    latents: list[list[int]]
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)
    bits_total: int = 0
    extra_flag: bool = False


def _c_stats(stats: Any, core: Any = None):
    """A ``dc_dred_stats`` filled from the stats object's tables (shape and range checked)."""
    f = ffi if core is None else core.ffi
    if stats is None:
        raise ValueError("stats is required")
    c = f.new("dc_dred_stats *")
    for name, shape in STATS_TABLES.items():
        try:
            a = np.asarray(getattr(stats, name))
        except AttributeError:
            raise ValueError(f"stats has no table {name!r}") from None
        if a.size != shape[0] * shape[1]:
            raise ValueError(f"stats.{name} has {a.size} entries, expected {shape[0]}x{shape[1]}")
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError(f"stats.{name} is not 8-bit")
        data = np.ascontiguousarray(a.reshape(-1), dtype=np.uint8).tobytes()
        f.memmove(getattr(c, name), data, len(data))
    return c


_HEADER = ("q0", "dQ", "extra_flag", "extra_offset", "offset", "qmax", "dred_offset", "frame_offset", "latent_count",
           "bits_total")
_HEADER_FIELDS = 7   # FIELD_NAMES before latent0: present or not by the payload's header


def _rows(out, n: int, core: Any = None) -> list[DredPayload]:
    """The Python records of n filled ``dc_dred_payload`` structs (every member an int: read as int32
    rows, each array turned into lists at once by numpy)."""
    f = ffi if core is None else core.ffi
    rows = np.frombuffer(f.buffer(out), dtype=np.int32).reshape(-1, f.sizeof("dc_dred_payload") // 4)[:n]

    def block(member: str, width: int) -> np.ndarray:
        at = f.offsetof("dc_dred_payload", member) // 4
        return rows[:, at:at + width]

    header = rows[:, [f.offsetof("dc_dred_payload", k) // 4 for k in _HEADER]].tolist()
    levels, state = block("levels", MAX_LATENTS).tolist(), block("state", STATE_DIM).tolist()
    latents = block("latents", MAX_LATENTS * LATENT_DIM).reshape(n, MAX_LATENTS, LATENT_DIM).tolist()
    starts, ends = block("field_start", len(FIELD_NAMES)).tolist(), block("field_end", len(FIELD_NAMES)).tolist()
    result = []
    for h, lev, st, lat, a, b in zip(header, levels, state, latents, starts, ends):
        q0, dQ, extra_flag, extra_offset, offset, qmax, dred_offset, frame_offset, k, bits_total = h
        last = _HEADER_FIELDS + k   # latent fields: exactly the first k
        fields = {name: (a[i], b[i]) for i, name in enumerate(FIELD_NAMES[:_HEADER_FIELDS]) if a[i] >= 0}
        fields.update(zip(FIELD_NAMES[_HEADER_FIELDS:last], zip(a[_HEADER_FIELDS:last], b[_HEADER_FIELDS:last])))
        result.append(DredPayload(q0=q0, dQ=dQ, extra_offset=extra_offset, offset=offset, qmax=qmax,
                                  dred_offset=dred_offset, frame_offset=frame_offset, latent_count=k, levels=lev[:k],
                                  state=st, latents=lat[:k], fields=fields, bits_total=bits_total,
                                  extra_flag=bool(extra_flag)))
    return result


def _from_c(out) -> DredPayload:
    """The Python record of one filled ``dc_dred_payload``."""
    return _rows(out, 1)[0]


def _get(p: Any, name: str, default: Any = None) -> Any:
    """Attribute or mapping item: encoders take a DredPayload, any similar object, or a dict (e.g. expected JSON)."""
    if isinstance(p, Mapping):
        return p.get(name, default)
    return getattr(p, name, default)


def _int(v: Any, name: str) -> int:
    """A plain int that fits a C int (bools and numpy integers accepted)."""
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, not {v!r}") from None
    if i != v or not -(2**31) <= i < 2**31:
        raise ValueError(f"{name} = {v!r} does not fit a C int")
    return i


def _to_c(p: Any, *, header: bool):
    """A ``dc_dred_payload`` from a payload-like object; derived fields (levels, dred_offset, fields) are ignored."""
    c = ffi.new("dc_dred_payload *")
    c.q0 = _int(_get(p, "q0"), "q0")
    if header:
        c.dQ = _int(_get(p, "dQ"), "dQ")
        c.extra_offset = _int(_get(p, "extra_offset", 0), "extra_offset")
        c.extra_flag = _int(bool(_get(p, "extra_flag", False)), "extra_flag")
        c.offset = _int(_get(p, "offset"), "offset")
        c.qmax = _int(_get(p, "qmax", 15), "qmax")
    state = list(_get(p, "state"))
    latents = [list(x) for x in _get(p, "latents")]
    if len(state) != STATE_DIM:
        raise ValueError(f"state has {len(state)} values, expected {STATE_DIM}")
    if len(latents) > MAX_LATENTS or any(len(x) != LATENT_DIM for x in latents):
        raise ValueError(f"latents must be at most {MAX_LATENTS} lists of {LATENT_DIM} values")
    count = _get(p, "latent_count", len(latents))
    if count != len(latents):
        raise ValueError(f"latent_count {count} differs from the {len(latents)} latents given")
    c.latent_count = len(latents)
    for i, v in enumerate(state):
        c.state[i] = _int(v, f"state[{i}]")
    for k, x in enumerate(latents):
        for i, v in enumerate(x):
            c.latents[k][i] = _int(v, f"latents[{k}][{i}]")
    return c


_ERRORS = {
    lib.DC_DRED_ERR_ARG: "invalid argument",
    lib.DC_DRED_ERR_VALUE: "a value is out of range or cannot be coded at its level (uncoded dimensions must be 0)",
    lib.DC_DRED_ERR_BUFFER: "payload larger than the buffer",
    lib.DC_DRED_ERR_UNREPRESENTABLE: "a decoder would stop before the last latent (fewer than 8 bits left before it)",
}


def _encode(fn, c, cs) -> bytes:
    """Run a C encoder, growing the buffer while it is too small."""
    cap = _ENCODE_CAP
    while True:
        buf = ffi.new("unsigned char[]", cap)
        n = ffi.new("int *")
        ret = fn(c, cs, buf, cap, n)
        if ret == lib.DC_DRED_OK:
            return ffi.buffer(buf, n[0])[:]
        if ret != lib.DC_DRED_ERR_BUFFER or cap >= _ENCODE_CAP_MAX:
            raise ValueError(f"cannot encode DRED payload: {_ERRORS.get(ret, ret)}")
        cap *= 2


def decode_dred_payload(payload: bytes, frame_offset: int, stats: Any, max_latents: int = MAX_LATENTS) -> DredPayload:
    """Decode the DRED bits (after the ``'D'``, version bytes) as libopus 1.6.1 ``dred_ec_decode`` does.

    Every byte string decodes (reads past the end are zeros); ``max_latents`` is
    26 as ``opus_dred_parse`` calls it for a full second of redundancy.
    """
    data = bytes(payload)
    out = ffi.new("dc_dred_payload *")
    ret = lib.dc_dred_decode(data, len(data), _int(frame_offset, "frame_offset"), _int(max_latents, "max_latents"),
                             _c_stats(stats), out)
    if ret != lib.DC_DRED_OK:
        raise ValueError(f"cannot decode DRED payload: {_ERRORS.get(ret, ret)} "
                         f"(frame_offset 0..{lib.DC_DRED_MAX_FRAME_OFFSET}, max_latents 0..{MAX_LATENTS})")
    return _from_c(out)


def decode_dred_batch(payloads: Iterable[tuple[bytes, int]], stats: Any, max_latents: int = MAX_LATENTS, *,
                      rdovae: Any = None, arith: int = 0, core: Any = None) -> tuple[list[DredPayload], np.ndarray | None]:
    """Many DRED payloads (bytes after 'D' and the version, frame_offset) in one C call (``dc_dred_decode_many``).

    Returns their integers, as ``decode_dred_payload`` gives them, and, when ``rdovae`` is a checked
    ``dc_rdovae_model *`` (``RdovaeDecoder.decode_many`` passes its own, with ``arith``), their features:
    float32 (n, 26*80), payload i's first ``80*latent_count`` values.  ``core``: the C core (default the installed one).
    """
    f, c = (ffi, lib) if core is None else (core.ffi, core.lib)
    items = [(bytes(data), _int(fo, "frame_offset")) for data, fo in payloads]
    n = len(items)
    blob = b"".join(d for d, _ in items)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum([len(d) for d, _ in items])
    frames = np.array([fo for _, fo in items] or [0], np.int32)
    out = f.new("dc_dred_payload[]", max(n, 1))
    feats = np.zeros((n, MAX_LATENTS * 80) if rdovae is not None else (1,), np.float32)
    rc = c.dc_dred_decode_many(f.NULL if rdovae is None else rdovae, arith, _c_stats(stats, core), blob, len(blob),
                               f.from_buffer("int64_t[]", offsets), f.from_buffer("int32_t[]", frames), n,
                               _int(max_latents, "max_latents"), out, f.from_buffer("float[]", feats), feats.size)
    if rc != 0:
        raise ValueError(f"cannot decode DRED payloads: invalid argument (frame_offset 0..{lib.DC_DRED_MAX_FRAME_OFFSET}, "
                         f"max_latents 0..{MAX_LATENTS}) or model ({rc})")
    return _rows(out, n, core), (feats if rdovae is not None else None)


def decode_dred_payloads(payloads: Iterable[tuple[bytes, int]], stats: Any,
                         max_latents: int = MAX_LATENTS) -> list[DredPayload]:
    """``decode_dred_payload`` for many (bytes, frame_offset) pairs, in one C call."""
    return decode_dred_batch(payloads, stats, max_latents)[0]


def encode_dred_payload(p: Any, stats: Any) -> bytes:
    """The shortest payload libopus would write for these integers (q0, dQ, extra_flag/extra_offset, offset, qmax,
    state, latents); ``ValueError`` if one is out of range, uncodable at its level, or the latent count would
    not survive decoding."""
    return _encode(lib.dc_dred_encode, _to_c(p, header=True), _c_stats(stats))


def decode_dred_standalone(data: bytes, q0: int, nb_latents: int, stats: Any) -> DredPayload:
    """Decode a libopus standalone feature-decoder record: state then nb_latents latents, all at level q0."""
    data = bytes(data)
    out = ffi.new("dc_dred_payload *")
    ret = lib.dc_dred_decode_standalone(data, len(data), _int(q0, "q0"), _int(nb_latents, "nb_latents"),
                                        _c_stats(stats), out)
    if ret != lib.DC_DRED_OK:
        raise ValueError(f"cannot decode standalone record: {_ERRORS.get(ret, ret)} (q0 0..15, nb_latents 0..26)")
    return _from_c(out)


def encode_dred_standalone(p: Any, stats: Any) -> bytes:
    """A standalone record's bytes for p's q0, state and latents (all at level q0)."""
    return _encode(lib.dc_dred_encode_standalone, _to_c(p, header=False), _c_stats(stats))


def _icdf_array(table: Sequence[int], ftb: int, ctype: str, maxbits: int):
    """A C copy of an inverse CDF, checked so the C search stops inside it: non-increasing, <= 2^ftb, ending in 0."""
    t = [int(v) for v in table]
    if not 0 <= ftb <= maxbits:
        raise ValueError(f"ftb {ftb} out of range 0..{maxbits}")
    if not t or t[-1] != 0 or t[0] > 1 << ftb or any(a < b for a, b in zip(t, t[1:])):
        raise ValueError("icdf must be non-increasing, start <= 2^ftb and end with 0")
    return ffi.new(f"{ctype}[]", t)


class RangeDecoder:
    """Thin wrapper over the C range decoder (RFC 6716 section 4.1), for tests and tools."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self._buf = ffi.new("unsigned char[]", self.data or b"\0")  # keeps the bytes alive for the C side
        self._d = ffi.new("dc_dec *")
        lib.dc_dec_init(self._d, self._buf, len(self.data))

    def decode(self, ft: int) -> int:
        return lib.dc_decode(self._d, ft)

    def decode_bin(self, bits: int) -> int:
        return lib.dc_decode_bin(self._d, bits)

    def update(self, fl: int, fh: int, ft: int) -> None:
        lib.dc_dec_update(self._d, fl, fh, ft)

    def bit_logp(self, logp: int) -> int:
        return lib.dc_dec_bit_logp(self._d, logp)

    def icdf(self, table: Sequence[int], ftb: int) -> int:
        return lib.dc_dec_icdf(self._d, _icdf_array(table, ftb, "unsigned char", 8), ftb)

    def icdf16(self, table: Sequence[int], ftb: int) -> int:
        return lib.dc_dec_icdf16(self._d, _icdf_array(table, ftb, "uint16_t", 15), ftb)

    def uint(self, ft: int) -> int:
        return lib.dc_dec_uint(self._d, ft)

    def bits(self, n: int) -> int:
        return lib.dc_dec_bits(self._d, n)

    def laplace_p0(self, p0: int, decay: int) -> int:
        return lib.dc_laplace_decode_p0(self._d, p0, decay)

    def tell(self) -> int:
        return lib.dc_dec_tell(self._d)

    def tell_frac(self) -> int:
        return lib.dc_dec_tell_frac(self._d)

    @property
    def error(self) -> int:
        return self._d.error

    @property
    def rng(self) -> int:
        """The size of the current range (RFC 6716 §4.1: rng)."""
        return self._d.rng

    @property
    def val(self) -> int:
        """The top of the range minus the coded value, minus one (RFC 6716 §4.1: val)."""
        return self._d.val


class RangeEncoder:
    """Thin wrapper over the C range encoder; ``finish()`` returns the bytes as libopus's DRED encoder cuts them."""

    def __init__(self, cap: int = 4096):
        self.cap = cap
        self._buf = ffi.new("unsigned char[]", max(cap, 1))
        self._e = ffi.new("dc_enc *")
        lib.dc_enc_init(self._e, self._buf, cap)

    def encode(self, fl: int, fh: int, ft: int) -> None:
        lib.dc_encode(self._e, fl, fh, ft)

    def encode_bin(self, fl: int, fh: int, bits: int) -> None:
        lib.dc_encode_bin(self._e, fl, fh, bits)

    def bit_logp(self, val: int, logp: int) -> None:
        lib.dc_enc_bit_logp(self._e, val, logp)

    def icdf(self, s: int, table: Sequence[int], ftb: int) -> None:
        if not 0 <= s < len(table):
            raise ValueError(f"symbol {s} outside the table")
        lib.dc_enc_icdf(self._e, s, _icdf_array(table, ftb, "unsigned char", 8), ftb)

    def icdf16(self, s: int, table: Sequence[int], ftb: int) -> None:
        if not 0 <= s < len(table):
            raise ValueError(f"symbol {s} outside the table")
        lib.dc_enc_icdf16(self._e, s, _icdf_array(table, ftb, "uint16_t", 15), ftb)

    def uint(self, value: int, ft: int) -> None:
        lib.dc_enc_uint(self._e, value, ft)

    def bits(self, value: int, n: int) -> None:
        lib.dc_enc_bits(self._e, value, n)

    def laplace_p0(self, value: int, p0: int, decay: int) -> None:
        if lib.dc_laplace_encode_p0(self._e, value, p0, decay) < 0:
            raise ValueError(f"value {value} cannot be coded with p0 {p0}, decay {decay}")

    def tell(self) -> int:
        return lib.dc_enc_tell(self._e)

    def tell_frac(self) -> int:
        return lib.dc_enc_tell_frac(self._e)

    @property
    def error(self) -> int:
        return self._e.error

    def finish(self) -> bytes:
        """Shrink to ceil(tell/8) bytes, flush, and return them; ``ValueError`` if the buffer overflowed."""
        lib.dc_enc_shrink(self._e, min((self.tell() + 7) // 8, self.cap))
        lib.dc_enc_done(self._e)
        if self._e.error:
            raise ValueError("range encoder buffer overflow")
        return ffi.buffer(self._buf, self._e.storage)[:]

