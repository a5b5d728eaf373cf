"""The per-packet record schema (spec/record.py): libopus's own records are complete, broken ones are named."""
from __future__ import annotations

import copy

import pytest

from dredconf.spec.record import RecordError, dred_offset, validate_record


def test_every_libopus_record_is_complete(ground_truth):
    n = 0
    for name, (_, records) in ground_truth.items():
        for i, rec in enumerate(records):
            validate_record(rec, f"{name}[{i}]", complete=True)
            n += 1
    assert n == 1241


def test_dred_offset_formula_matches_libopus(ground_truth):
    seen = set()
    for _, records in ground_truth.values():
        for rec in records:
            d = rec["dred"]
            if d:
                assert d["dred_offset"] == dred_offset(d["offset"], d["extra_offset"], d["frame_offset"])
                seen.add((d["extra_offset"] > 0, d["frame_offset"] > 0))
    assert seen == {(False, False), (True, False), (False, True), (True, True)}


def _first_dred(ground_truth) -> dict:
    return next(r for r in ground_truth["S1"][1] if r["dred"] and r["dred"]["latent_count"] > 1)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r["dred"].__setitem__("q0", 16), "record.dred.q0 = 16, expected 0..15"),
    (lambda r: r["dred"].__setitem__("dred_offset", 0), "record.dred.dred_offset = 0, expected"),
    (lambda r: r["dred"]["state"].pop(), "record.dred.state has 49 entries, expected 50"),
    (lambda r: r["dred"]["latents"][1].append(0), "record.dred.latents[1] has 26 entries, expected 25"),
    (lambda r: r["dred"]["levels"].__setitem__(0, True), "record.dred.levels[0] is a boolean, expected an integer"),
    (lambda r: r.__setitem__("extension_error", "bad"), "record.extension_error is a string"),
    (lambda r: r["extensions"][0].__setitem__("frame", 48), "record.extensions[0].frame = 48, expected 0..47"),
    (lambda r: r.pop("toc"), "needs exactly index, length, toc"),
    (lambda r: r["dred"].__setitem__("latent_count", 1), "record.dred.levels has"),
])
def test_complete_record_errors_name_the_place(ground_truth, edit, message):
    rec = copy.deepcopy(_first_dred(ground_truth))
    rec["dred"].pop("features")
    validate_record(rec, complete=True)
    edit(rec)
    with pytest.raises(RecordError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        validate_record(rec, complete=True)


def test_partial_record_takes_any_subset_but_checks_types():
    validate_record({"index": 0, "dred": {"q0": 3}})
    validate_record({"index": 0, "error": "could not decode", "surplus": [1]})
    with pytest.raises(RecordError, match=r"record\.dred\.features\[0\] has 19 values, expected 20"):
        validate_record({"dred": {"features": [[0.0] * 19]}})
    with pytest.raises(RecordError, match=r"record\.error is an integer, expected a string"):
        validate_record({"error": 3})
