"""Python face of the C payload core: DRED payload bytes <-> integers (the range coder alone: ``rangecoder.py``).

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
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np

from dredconf.reference._core import ffi, lib
from dredconf.spec.derived import maker
from dredconf.spec.record import FRAMES_PER_LATENT, NUM_FEATURES, dred_object_of_lists

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
_PER_LATENT = FRAMES_PER_LATENT * NUM_FEATURES  # feature values per latent (80)
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


class CStats:
    """A stats object's tables in the C core's form, made (shape and range checked) the first time a call needs
    them and kept: give one wherever ``stats`` is taken, and a decoder that decodes packet after packet does not
    convert the same tables for each (``ReferenceDecoder`` keeps one for its model's stats object; tables
    changed in place afterwards are not seen, a replaced stats object is)."""

    def __init__(self, stats: Any):
        self.stats = stats
        self._made: dict = {}  # per cffi instance (the installed core, or the sanitizer build)

    def cdata(self, core: Any = None):
        f = ffi if core is None else core.ffi
        made = self._made.get(f)
        if made is None:
            made = self._made[f] = _c_stats(self.stats, core)
        return made


def _c_stats(stats: Any, core: Any = None):
    """A ``dc_dred_stats`` filled from the stats object's tables (shape and range checked); a ``CStats``'s own."""
    if type(stats) is CStats:
        return stats.cdata(core)
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
_COUNT = _HEADER.index("latent_count")
_HEADER_FIELDS = 7   # FIELD_NAMES before latent0: present or not by the payload's header
_make_payload = maker(DredPayload)


@lru_cache(maxsize=None)
def _layout(f) -> tuple:
    """Where the members of ``dc_dred_payload`` lie, in int32 units: (row width, header columns, levels, state,
    latents, field_start, field_end), per cffi instance (the installed core, or the sanitizer build)."""
    def at(member: str) -> int:
        return f.offsetof("dc_dred_payload", member) // 4

    return (f.sizeof("dc_dred_payload") // 4, [at(k) for k in _HEADER], at("levels"), at("state"), at("latents"),
            at("field_start"), at("field_end"))


@lru_cache(maxsize=None)
def _field_names(header_present: int, latent_count: int) -> tuple[str, ...]:
    """The names of the fields a payload codes: the header fields whose bit is set in ``header_present``
    (bit i for FIELD_NAMES[i]), then the first ``latent_count`` latents."""
    return tuple(name for i, name in enumerate(FIELD_NAMES[:_HEADER_FIELDS]) if header_present >> i & 1) + \
        FIELD_NAMES[_HEADER_FIELDS:_HEADER_FIELDS + latent_count]


def _lists(rows: np.ndarray, layout: tuple) -> tuple[np.ndarray, np.ndarray, list, list, list]:
    """What n payloads' int32 rows code, selected by numpy and turned into lists at once: the header rows
    (``_HEADER``), which latents are coded (n, 26), the coded levels and latents of all payloads one after
    another (each payload's first ``latent_count``), and the state rows."""
    _, header_at, levels_at, state_at, latents_at, _, _ = layout
    header = rows[:, header_at]
    coded = np.arange(MAX_LATENTS) < header[:, _COUNT, None]  # latent k of payload i is coded
    levels = rows[:, levels_at:levels_at + MAX_LATENTS][coded].tolist()
    latents = rows[:, latents_at:latents_at + MAX_LATENTS * LATENT_DIM].reshape(-1, MAX_LATENTS, LATENT_DIM)[coded]
    return header, coded, levels, latents.tolist(), rows[:, state_at:state_at + STATE_DIM].tolist()


def _int32_rows(out, n: int, f) -> tuple[np.ndarray, tuple]:
    """n filled ``dc_dred_payload`` structs as int32 rows (every member is an int), and their layout."""
    layout = _layout(f)
    return np.frombuffer(f.buffer(out), dtype=np.int32).reshape(-1, layout[0])[:n], layout


def _payloads_of(rows: np.ndarray, layout: tuple) -> list[DredPayload]:
    """The Python records of filled ``dc_dred_payload`` structs as int32 rows (``_int32_rows``): ``_lists``, and
    the positions of the fields each codes."""
    header, coded, levels, latents, state = _lists(rows, layout)
    start_at, end_at = layout[5:]
    starts = rows[:, start_at:start_at + len(FIELD_NAMES)]
    present = np.concatenate([starts[:, :_HEADER_FIELDS] >= 0, coded], axis=1)  # the fields each payload codes
    spans = list(zip(starts[present].tolist(), rows[:, end_at:end_at + len(FIELD_NAMES)][present].tolist()))
    header_present = (present[:, :_HEADER_FIELDS] << np.arange(_HEADER_FIELDS)).sum(axis=1).tolist()
    result = []
    at = spans_at = 0
    for h, st, hp in zip(header.tolist(), state, header_present):
        q0, dQ, extra_flag, extra_offset, offset, qmax, dred_offset, frame_offset, k, bits_total = h
        names = _field_names(hp, k)
        fields = dict(zip(names, spans[spans_at:spans_at + len(names)]))
        spans_at += len(names)
        result.append(_make_payload(q0, dQ, extra_offset, offset, qmax, dred_offset, frame_offset, k,
                                    levels[at:at + k], st, latents[at:at + k], fields, bits_total, bool(extra_flag)))
        at += k
    return result


class DredBatch:
    """What the C core decoded from n payloads in one call (``dc_dred_decode_many``), kept as its arrays: the
    ``DredPayload`` objects are made when one is asked for (``payload(i)``); the ``dred`` object of a record
    (``dred_object(i)``) is made from lists numpy makes for the whole batch at once, when the first is asked for,
    so a stream's records cost no per-payload object on the way."""

    def __init__(self, out, n: int, features: np.ndarray | None, core: Any = None):
        self._out, self._f, self.n = out, ffi if core is None else core.ffi, n
        #: float32 (n, 26*80), payload i's first ``80*latent_count`` values; None without the RDOVAE
        self.features_array = features
        self._table = _int32_rows(out, n, self._f)  # (int32 rows, layout)
        header = self._table[0][:, self._table[1][1]]
        self._header = header.tolist()
        self._lists: tuple[list, list, list] | None = None  # levels, latents, state of the batch: made for records
        self._first = (np.cumsum(header[:, _COUNT]) - header[:, _COUNT]).tolist()  # payload i's first latent
        self._given = bytearray(n)  # payload i's lists went to a record: later records make their own
        self._payloads: list[DredPayload] | None = None

    def __len__(self) -> int:
        return self.n

    def payload(self, i: int) -> DredPayload:
        """Payload i's integers, as ``decode_dred_payload`` gives them (the first asked for makes the whole
        batch's: who reads one payload of a stream reads them all, the text view as the loss view)."""
        if not 0 <= i < self.n:
            raise IndexError(i)
        if self._payloads is None:
            self._payloads = self.payloads()
        return self._payloads[i]

    def payloads(self) -> list[DredPayload]:
        """Every payload's integers, in order."""
        return _payloads_of(*self._table)

    def features(self, i: int) -> np.ndarray | None:
        """Payload i's features, float32 (4*latent_count, 20), newest first (a view of ``features_array``)."""
        if self.features_array is None:
            return None
        return self.features_array[i, :_PER_LATENT * self._header[i][_COUNT]].reshape(-1, NUM_FEATURES)

    def dred_object(self, i: int, *, with_features: bool) -> dict:
        """The ``dred`` object of payload i's record (``spec.record.dred_object``), with its features or not."""
        q0, dQ, _, extra_offset, offset, qmax, _, frame_offset, k, _ = self._header[i]
        if self._given[i]:  # a record holds the batch's lists already: this one gets its own, from the struct
            _, _, levels, latents, (state,) = _lists(*_int32_rows(self._out + i, 1, self._f))
        else:
            if self._lists is None:  # the first record: the whole batch's lists at once (a text view needs none)
                self._lists = _lists(*self._table)[2:]
            all_levels, all_latents, all_state = self._lists
            at = self._first[i]
            levels, state, latents = all_levels[at:at + k], all_state[i], all_latents[at:at + k]
            self._given[i] = 1
        features = self.features(i) if with_features else None
        return dred_object_of_lists(frame_offset, q0, dQ, extra_offset, offset, qmax, levels, state, latents,
                                    None if features is None else features.tolist())


def _from_c(out) -> DredPayload:
    """The Python record of one filled ``dc_dred_payload``."""
    return _payloads_of(*_int32_rows(out, 1, ffi))[0]


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


def decode_dred_arrays(payloads: Iterable[tuple[bytes, int]], stats: Any, max_latents: int = MAX_LATENTS, *,
                       rdovae: Any = None, arith: int = 0, core: Any = None) -> DredBatch:
    """Many DRED payloads (bytes after 'D' and the version, frame_offset) in one C call (``dc_dred_decode_many``),
    kept as arrays (``DredBatch``): their integers, as ``decode_dred_payload`` gives them, and, when ``rdovae``
    is a checked ``dc_rdovae_model *`` (``RdovaeDecoder`` passes its own, with ``arith``), their features.
    ``stats``: the stats object, or a ``CStats`` of it; ``core``: the C core (default the installed one)."""
    f, c = (ffi, lib) if core is None else (core.ffi, core.lib)
    items = [(bytes(data), _int(fo, "frame_offset")) for data, fo in payloads]
    n = len(items)
    blob = b"".join(d for d, _ in items)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum([len(d) for d, _ in items])
    frames = np.array([fo for _, fo in items] or [0], np.int32)
    out = f.new("dc_dred_payload[]", max(n, 1))
    feats = np.zeros((n, MAX_LATENTS * _PER_LATENT) if rdovae is not None else (1,), np.float32)
    rc = c.dc_dred_decode_many(f.NULL if rdovae is None else rdovae, arith, _c_stats(stats, core), blob, len(blob),
                               f.from_buffer("int64_t[]", offsets), f.from_buffer("int32_t[]", frames), n,
                               _int(max_latents, "max_latents"), out, f.from_buffer("float[]", feats), feats.size)
    if rc != 0:
        raise ValueError(f"cannot decode DRED payloads: invalid argument (frame_offset 0..{lib.DC_DRED_MAX_FRAME_OFFSET}, "
                         f"max_latents 0..{MAX_LATENTS}) or model ({rc})")
    return DredBatch(out, n, feats if rdovae is not None else None, core)


def decode_dred_payloads(payloads: Iterable[tuple[bytes, int]], stats: Any,
                         max_latents: int = MAX_LATENTS) -> list[DredPayload]:
    """``decode_dred_payload`` for many (bytes, frame_offset) pairs, in one C call."""
    return decode_dred_arrays(payloads, stats, max_latents).payloads()


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
