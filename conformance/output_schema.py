"""A decoder's output checked for shape before anything is compared.

A decoder under test writes ``{"packets": [record, ...]}``, one record per
packet of the stream, each any subset of the record schema
(:mod:`dredconf.spec.record`, partial validation: keys it leaves out are not
tested, keys it writes must have the schema's types; ``"error"`` says it could
not decode that packet; unknown keys are ignored). A feature file holds raw
little-endian float32 rows of 20. Anything else is *malformed output*:
:class:`MalformedOutput` names the first offending place and the runner gives
the whole vector that verdict.
"""
from __future__ import annotations

import json

import numpy as np

from dredconf.spec.record import NUM_FEATURES, RecordError, validate_record

FEATURE_ROW_BYTES = 4 * NUM_FEATURES


class MalformedOutput(Exception):
    """The decoder's output does not have the expected shape."""


def validate_output(obj, packet_count: int) -> list[dict]:
    """The records of a decoded stream, checked: ``{"packets": [...]}`` with ``packet_count`` records in order."""
    if not isinstance(obj, dict) or "packets" not in obj:
        raise MalformedOutput('the output is not an object {"packets": [...]}')
    packets = obj["packets"]
    if not isinstance(packets, list):
        raise MalformedOutput('"packets" is not a list')
    if len(packets) != packet_count:
        raise MalformedOutput(f"{len(packets)} packet records, expected {packet_count} (one per packet of the stream)")
    for i, rec in enumerate(packets):
        try:
            validate_record(rec, f"packets[{i}]")
        except RecordError as e:
            raise MalformedOutput(str(e)) from None
        if "index" in rec and rec["index"] != i:
            raise MalformedOutput(f"packets[{i}].index = {rec['index']}, expected {i} (records in stream order)")
    return packets


def parse_output(text: bytes | str, packet_count: int) -> list[dict]:
    """Parse and validate a decoder's JSON output (NaN and Infinity are accepted, and then fail the feature layer)."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedOutput(f"not JSON: {e}") from None
    return validate_output(obj, packet_count)


def feature_rows(data: bytes, want: int, what: str) -> np.ndarray:
    """``want`` rows of 20 float32 from a feature file, or :class:`MalformedOutput` saying what was expected."""
    if len(data) % FEATURE_ROW_BYTES:
        raise MalformedOutput(f"{len(data)} bytes is not a whole number of {FEATURE_ROW_BYTES}-byte rows "
                              f"({NUM_FEATURES} float32 each)")
    got = len(data) // FEATURE_ROW_BYTES
    if got != want:
        raise MalformedOutput(f"{got} feature rows, expected {want} ({what})")
    return np.frombuffer(data, dtype="<f4").reshape(-1, NUM_FEATURES)


def packet_feature_records(data: bytes, expected: list[dict]) -> list[dict]:
    """Records ``{"index", "dred": {"features": rows}}`` from a ``libopus-features`` file: every DRED packet's
    ``4 * latent_count`` rows in stream order, newest row first (``fec_features`` order)."""
    counts = [len(r["dred"]["features"]) if isinstance(r.get("dred"), dict) and "features" in r["dred"]
              else 4 * r["dred"]["latent_count"] if isinstance(r.get("dred"), dict) else 0 for r in expected]
    n_dred = sum(1 for r in expected if isinstance(r.get("dred"), dict))
    rows = feature_rows(data, sum(counts), f"4 per latent of the {n_dred} DRED packets, in stream order")
    records, pos = [], 0
    for i, (rec, n) in enumerate(zip(expected, counts)):
        if isinstance(rec.get("dred"), dict):
            records.append({"index": i, "dred": {"features": rows[pos:pos + n].tolist()}})
        else:
            records.append({"index": i})
        pos += n
    return records
