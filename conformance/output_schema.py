"""Checks that a DUT's output has the decode JSON's shape before anything is compared.

A decoder under test writes ``{"packets": [record, ...]}``, one record per
packet of the stream, each a subset of the ground-truth schema
(``../shared/vectors/libopus-1.6.1/README.md``). Keys it leaves out are not
tested; keys it writes must have the schema's types. Anything else (not
JSON, not an object, the wrong number of packets, a string where an integer
belongs) is *malformed output*: :func:`validate_output` raises
:class:`MalformedOutput` naming the first offending place, and the runner
gives the whole vector that verdict.

Two keys beyond the schema are accepted in a record: ``"error"`` (a string:
the DUT could not decode this packet; the packet gets the verdict *error*)
and any key the schema does not know (ignored, e.g. the reference decoder's
``packet_error``).
"""
from __future__ import annotations

import json
from typing import Any


class MalformedOutput(Exception):
    """The DUT's output does not have the decode JSON's shape."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool))


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def _need(cond: bool, where: str, v: Any, what: str) -> None:
    if not cond:
        raise MalformedOutput(f"{where} is {_type_name(v)}, expected {what}")


def _int_list(v: Any, where: str) -> None:
    _need(isinstance(v, list), where, v, "a list of integers")
    if all(type(x) is int for x in v):  # fast path (bool is not int here)
        return
    for i, x in enumerate(v):
        _need(_is_int(x), f"{where}[{i}]", x, "an integer")


_NUMBER_TYPES = (int, float)


def validate_record(rec: Any, where: str) -> dict:
    """One packet record; returns it unchanged or raises :class:`MalformedOutput`."""
    _need(isinstance(rec, dict), where, rec, "an object")
    if "error" in rec:
        _need(isinstance(rec["error"], str), f"{where}.error", rec["error"], "a string")
    for k in ("index", "length", "toc", "frame_count", "padding_length"):
        if k in rec:
            _need(_is_int(rec[k]), f"{where}.{k}", rec[k], "an integer")
    if "extensions" in rec:
        exts = rec["extensions"]
        _need(isinstance(exts, list), f"{where}.extensions", exts, "a list")
        for i, x in enumerate(exts):
            w = f"{where}.extensions[{i}]"
            _need(isinstance(x, dict), w, x, "an object {id, frame, length}")
            for k in ("id", "frame", "length"):
                if k not in x:
                    raise MalformedOutput(f"{w} has no {k!r} (every extension needs id, frame and length)")
                _need(_is_int(x[k]), f"{w}.{k}", x[k], "an integer")
    if "extension_error" in rec:
        v = rec["extension_error"]
        _need(v is None or isinstance(v, str), f"{where}.extension_error", v, "null or a string")
    if "dred" in rec:
        d = rec["dred"]
        _need(d is None or isinstance(d, dict), f"{where}.dred", d, "null or an object")
        if isinstance(d, dict):
            _validate_dred(d, f"{where}.dred")
    return rec


def _validate_dred(d: dict, where: str) -> None:
    for k in ("frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset", "latent_count"):
        if k in d:
            _need(_is_int(d[k]), f"{where}.{k}", d[k], "an integer")
    for k in ("levels", "state"):
        if k in d:
            _int_list(d[k], f"{where}.{k}")
    if "latents" in d:
        v = d["latents"]
        _need(isinstance(v, list), f"{where}.latents", v, "a list of lists of integers")
        for i, x in enumerate(v):
            _int_list(x, f"{where}.latents[{i}]")
    if "features" in d:
        v = d["features"]
        _need(isinstance(v, list), f"{where}.features", v, "a list of rows of numbers")
        for i, row in enumerate(v):
            _need(isinstance(row, list), f"{where}.features[{i}]", row, "a list of numbers")
            if all(type(x) in _NUMBER_TYPES for x in row):  # fast path
                continue
            for j, x in enumerate(row):
                _need(_is_num(x), f"{where}.features[{i}][{j}]", x, "a number")


def validate_output(obj: Any, packet_count: int) -> list[dict]:
    """The records of a decoded stream, checked: ``{"packets": [...]}`` with ``packet_count`` records."""
    _need(isinstance(obj, dict), "the output", obj, 'an object {"packets": [...]}')
    if "packets" not in obj:
        raise MalformedOutput('the output has no "packets" list')
    packets = obj["packets"]
    _need(isinstance(packets, list), "packets", packets, "a list")
    if len(packets) != packet_count:
        raise MalformedOutput(f"{len(packets)} packet records, expected {packet_count} (one per packet of the stream)")
    for i, rec in enumerate(packets):
        validate_record(rec, f"packets[{i}]")
        if "index" in rec and rec["index"] != i:
            raise MalformedOutput(f"packets[{i}].index = {rec['index']}, expected {i} (records in stream order)")
    return packets


def parse_output(text: bytes | str, packet_count: int) -> list[dict]:
    """Parse and validate a DUT's JSON output (NaN and Infinity are accepted, and then fail the feature layer)."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedOutput(f"not JSON: {e}") from None
    return validate_output(obj, packet_count)
