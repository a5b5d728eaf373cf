"""The per-packet record: what a decoder reports for one packet.

This is the decode JSON of ``../shared/vectors/libopus-1.6.1/README.md``, the
schema every producer writes (the reference decoder, the vector generator)
and every reader checks (the corpus manifest, a decoder's output, the
verdicts, the mutants). Its keys, their types, the dimensions and value
ranges, and the one derived value, ``dred_offset``, live here and nowhere
else.

A record::

    {"index", "length", "toc", "frame_count", "padding_length",
     "extensions": [{"id", "frame", "length"}], "extension_error": null | "invalid packet",
     "dred": null | {"frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset",
                     "latent_count", "levels", "state", "latents", ["features"]}}

:func:`validate_record` checks one, either *complete* (every key, every value
in range and consistent: an expectation) or *partial* (any subset of the keys,
types only: what a decoder under test may write).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

# Dimensions (draft-ietf-mlcodec-opus-dred; libopus dnn/dred_rdovae_constants.h).
STATE_DIM = 50  # initial-state values
LATENT_DIM = 25  # values per latent
NUM_FEATURES = 20  # per 10 ms frame: 18 cepstrum, pitch, pitch correlation
FRAMES_PER_LATENT = 4  # each latent decodes to 4 feature frames (40 ms)
MAX_LATENTS = 26  # libopus decodes at most 26 latents
LEVELS = 16  # quantizer levels 0..15

#: ``extension_error`` for malformed padding, as libopus reports it (only null-or-not is normative).
INVALID_PACKET = "invalid packet"

#: Keys of the top-level record that describe the packet's framing (RFC 6716 §3, the extension draft).
FRAMING_KEYS = ("length", "toc", "frame_count", "padding_length", "extensions", "extension_error")
#: The DRED header fields, in coding order (``frame_offset`` and ``dred_offset`` are derived).
HEADER_KEYS = ("frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset")
#: The integers that follow the header.
LATENT_KEYS = ("state", "levels", "latents", "latent_count")
#: The RDOVAE decoder's output.
FEATURE_KEYS = ("features",)
#: Every key of a complete ``dred`` object without features, in the order producers write them.
DRED_KEYS = ("frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset", "latent_count",
             "levels", "state", "latents")
#: Every key of a complete top-level record.
RECORD_KEYS = ("index",) + FRAMING_KEYS + ("dred",)
EXTENSION_KEYS = ("id", "frame", "length")

#: Inclusive value ranges of the header integers (dred_offset: any integer, checked by its formula).
HEADER_RANGES = {"q0": (0, 15), "dQ": (0, 7), "extra_offset": (0, 255), "offset": (0, 31), "qmax": (0, 15),
                 "latent_count": (0, MAX_LATENTS)}


def dred_offset(offset: int, extra_offset: int, frame_offset: int) -> int:
    """Where the newest DRED frame sits, in 2.5 ms units (may be negative): 16 - offset - 32*extra + frame_offset."""
    return 16 - offset - 32 * extra_offset + frame_offset


def _ints(values: Sequence[int]) -> list[int]:
    """A JSON-ready list: an array's tolist(), a list copied as it is (decoders hand lists of ints; this runs for
    every value of every packet), anything else converted value by value."""
    if hasattr(values, "tolist"):
        return values.tolist()
    return list(values) if type(values) is list else list(map(int, values))


def dred_object(*, frame_offset: int, q0: int, dQ: int, extra_offset: int, offset: int, qmax: int,
                levels: Sequence[int], state: Sequence[int], latents: Sequence[Sequence[int]],
                features: Any = None) -> dict:
    """The ``dred`` object of a record, from the decoded integers (``features``: rows, or None to leave out)."""
    if features is not None:
        features = features.tolist() if hasattr(features, "tolist") else [list(r) for r in features]
    return dred_object_of_lists(int(frame_offset), int(q0), int(dQ), int(extra_offset), int(offset), int(qmax),
                                _ints(levels), _ints(state), [_ints(x) for x in latents], features)


def dred_object_of_lists(frame_offset: int, q0: int, dQ: int, extra_offset: int, offset: int, qmax: int,
                         levels: list[int], state: list[int], latents: list[list[int]],
                         features: list[list[float]] | None = None) -> dict:
    """``dred_object`` from plain ints and lists that the record takes as they are (not copied or converted):
    for a producer that made them for this record, as the reference decoder's batches do."""
    d = {
        "frame_offset": frame_offset, "q0": q0, "dQ": dQ, "extra_offset": extra_offset, "offset": offset,
        "qmax": qmax, "dred_offset": dred_offset(offset, extra_offset, frame_offset), "latent_count": len(latents),
        "levels": levels, "state": state, "latents": latents,
    }
    if features is not None:
        d["features"] = features
    return d


def packet_record(*, index: int, length: int, toc: int, frame_count: int, padding_length: int,
                  extensions: Sequence[tuple[int, int, int]], extension_error: bool, dred: dict | None) -> dict:
    """A complete record (``extensions`` as (id, frame, length) triples)."""
    return {
        "index": index, "length": length, "toc": toc, "frame_count": frame_count, "padding_length": padding_length,
        "extensions": [{"id": i, "frame": f, "length": n} for i, f, n in extensions],
        "extension_error": INVALID_PACKET if extension_error else None, "dred": dred,
    }


# ---------------------------------------------------------------------------------------------------- checking


class RecordError(ValueError):
    """A record that does not follow the schema; the message names the first offending place."""


@dataclass(frozen=True)
class _Where:
    path: str

    def __truediv__(self, key: str | int) -> "_Where":
        return _Where(f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}")


def is_int(v: Any) -> bool:
    """An integer and not a boolean (JSON true is not 1 here)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(v), type(v).__name__)


def _need(cond: bool, where: _Where, v: Any, what: str) -> None:
    if not cond:
        raise RecordError(f"{where.path} is {_type_name(v)}, expected {what}")


def _range(v: int, lo: int, hi: int | None, where: _Where) -> None:
    if v < lo or (hi is not None and v > hi):
        raise RecordError(f"{where.path} = {v}, expected {lo}..{'' if hi is None else hi}")


def _int(v: Any, where: _Where, lo: int | None = None, hi: int | None = None) -> None:
    _need(is_int(v), where, v, "an integer")
    if lo is not None:
        _range(v, lo, hi, where)


def _int_list(v: Any, where: _Where, n: int | None = None) -> None:
    _need(isinstance(v, list), where, v, "a list of integers")
    if not all(type(x) is int for x in v):  # the common case at C speed; bool is not int here
        for i, x in enumerate(v):
            _int(x, where / i)
    if n is not None and len(v) != n:
        raise RecordError(f"{where.path} has {len(v)} entries, expected {n}")


def _rows(v: Any, where: _Where, width: int) -> None:
    _need(isinstance(v, list), where, v, "a list of rows of numbers")
    # The common case in one pass at C speed: every row a list of `width` JSON numbers (bool is not one here).
    if all(type(row) is list and len(row) == width for row in v) and \
            set(map(type, itertools.chain.from_iterable(v))) <= {int, float}:
        return
    for i, row in enumerate(v):
        _need(isinstance(row, list), where / i, row, "a list of numbers")
        if not all(type(x) in (int, float) for x in row):
            for j, x in enumerate(row):
                _need(is_number(x), where / i / j, x, "a number")
        if len(row) != width:
            raise RecordError(f"{(where / i).path} has {len(row)} values, expected {width}")


def _extensions(v: Any, where: _Where, complete: bool) -> None:
    _need(isinstance(v, list), where, v, "a list")
    for i, x in enumerate(v):
        w = where / i
        _need(isinstance(x, dict), w, x, "an object {id, frame, length}")
        for k in EXTENSION_KEYS:
            if k not in x:
                raise RecordError(f"{w.path} has no {k!r} (every extension has id, frame and length)")
            _int(x[k], w / k)
        if complete:
            _range(x["id"], 3, 127, w / "id")
            _range(x["frame"], 0, 47, w / "frame")
            _range(x["length"], 0, None, w / "length")


def _dred(d: dict, where: _Where, complete: bool) -> None:
    if complete:
        missing = [k for k in DRED_KEYS if k not in d]
        extra = sorted(set(d) - set(DRED_KEYS) - set(FEATURE_KEYS))
        if missing or extra:
            raise RecordError(f"{where.path} needs exactly {', '.join(DRED_KEYS)} (and optionally features): "
                              + (f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"))
    for k in HEADER_KEYS + ("latent_count",):
        if k in d:
            lo, hi = HEADER_RANGES.get(k, (None, None)) if complete else (None, None)
            _int(d[k], where / k, lo, hi)
    n = d.get("latent_count") if complete else None
    if "levels" in d:
        _int_list(d["levels"], where / "levels", n)
        if complete:
            for i, q in enumerate(d["levels"]):
                _range(q, 0, LEVELS - 1, where / "levels" / i)
    if "state" in d:
        _int_list(d["state"], where / "state", STATE_DIM if complete else None)
    if "latents" in d:
        v = d["latents"]
        _need(isinstance(v, list), where / "latents", v, "a list of lists of integers")
        for i, x in enumerate(v):
            _int_list(x, where / "latents" / i, LATENT_DIM if complete else None)
        if complete and len(v) != n:
            raise RecordError(f"{(where / 'latents').path} has {len(v)} latents, expected latent_count = {n}")
    if "features" in d:
        _rows(d["features"], where / "features", NUM_FEATURES)
        if complete and len(d["features"]) != FRAMES_PER_LATENT * n:
            raise RecordError(f"{(where / 'features').path} has {len(d['features'])} rows, expected "
                              f"{FRAMES_PER_LATENT} per latent ({FRAMES_PER_LATENT * n})")
    if complete:
        want = dred_offset(d["offset"], d["extra_offset"], d["frame_offset"])
        if d["dred_offset"] != want:
            raise RecordError(f"{(where / 'dred_offset').path} = {d['dred_offset']}, expected {want} "
                              "(16 - offset - 32*extra_offset + frame_offset)")


def validate_record(rec: Any, where: str = "record", *, complete: bool = False) -> dict:
    """One record, returned unchanged, or :class:`RecordError` naming the first offending place.

    ``complete``: every key present, nothing unknown, values in range and ``dred_offset`` by its
    formula (an expectation). Otherwise any subset of the keys with the schema's types (a
    decoder's output: unknown keys are ignored, ``error`` is a string saying why it could not
    decode the packet)."""
    w = _Where(where)
    _need(isinstance(rec, dict), w, rec, "an object")
    if complete:
        missing = [k for k in RECORD_KEYS if k not in rec]
        extra = sorted(set(rec) - set(RECORD_KEYS))
        if missing or extra:
            raise RecordError(f"{where} needs exactly {', '.join(RECORD_KEYS)}: "
                              + (f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"))
    elif "error" in rec:
        _need(isinstance(rec["error"], str), w / "error", rec["error"], "a string")
    for k in ("index", "length", "toc", "frame_count", "padding_length"):
        if k in rec:
            _int(rec[k], w / k, 0 if complete else None, {"toc": 255, "frame_count": 48}.get(k))
    if "extensions" in rec:
        _extensions(rec["extensions"], w / "extensions", complete)
    if "extension_error" in rec:
        v = rec["extension_error"]
        if complete:
            _need(v in (None, INVALID_PACKET), w / "extension_error", v, f"null or {INVALID_PACKET!r}")
        else:
            _need(v is None or isinstance(v, str), w / "extension_error", v, "null or a string")
    if "dred" in rec:
        d = rec["dred"]
        _need(d is None or isinstance(d, dict), w / "dred", d, "null or an object")
        if isinstance(d, dict):
            _dred(d, w / "dred", complete)
    return rec
