"""The verdict logic (conformance/judge.py) on crafted records: each layer, the first departing field, what is
output, what the profile requires."""
from __future__ import annotations

import copy
import math

import pytest

from dredconf.conformance.feature_metric import FeatureScore, FeatureThresholds
from dredconf.conformance.judge import Rules, fields_in, judge_packet, judge_vector as _judge_vector
from dredconf.conformance.output_schema import MalformedOutput, parse_output, validate_output
from dredconf.conformance.profile import Profile
from dredconf.conformance.verdicts import LAYERS, Departure, Layer, Verdict

NO_PROFILE = Profile(())


def _features(n_latents: int, base: float = 0.0) -> list[list[float]]:
    rows = []
    for r in range(4 * n_latents):
        row = [base + 0.1 * r + 0.01 * c for c in range(20)]
        row[18] = 0.3 + 0.01 * r  # pitch
        row[19] = 0.5  # pitch correlation > 0.2: pitch counted
        rows.append(row)
    return rows


def record(index: int = 0, *, latents: int = 2, dred: bool = True) -> dict:
    rec = {
        "index": index, "length": 60, "toc": 75, "frame_count": 2, "padding_length": 20,
        "extensions": [{"id": 5, "frame": 0, "length": 1}, {"id": 126, "frame": 1, "length": 18}],
        "extension_error": None, "dred": None,
    }
    if dred:
        rec["dred"] = {
            "frame_offset": 8, "q0": 6, "dQ": 3, "extra_offset": 1, "offset": 4, "qmax": 15, "dred_offset": -12,
            "latent_count": latents, "levels": [6 + k for k in range(latents)],
            "state": [(i % 5) - 2 for i in range(50)],
            "latents": [[(i * (k + 1)) % 7 - 3 for i in range(25)] for k in range(latents)],
            "features": _features(latents),
        }
    return rec


def judge(actual: dict, expected: dict, rules: Rules = Rules()):
    return judge_packet(actual, expected, fields_in([actual]), set(LAYERS), rules)


class Judged:
    def __init__(self, layers, packets):
        self.layers, self.packets = layers, packets


def judge_vector(actual, expected, rules: Rules = Rules(), profile: Profile = NO_PROFILE) -> Judged:
    return Judged(*_judge_vector(actual, expected, profile, rules))


def test_identical_records_pass_every_layer():
    e = record(17)
    j = judge(copy.deepcopy(e), e)
    assert all(v is Verdict.PASS for v in j.verdicts.values())
    assert j.first_departure is None
    assert j.score is not None and j.score.tot == 0 and j.score.rows == 8


@pytest.mark.parametrize("edit, layer, text", [
    (lambda r: r.update(length=61), Layer.FRAMING, "packet 17: length = 61, expected 60"),
    (lambda r: r.update(toc=76), Layer.FRAMING, "packet 17: toc = 76, expected 75"),
    (lambda r: r["extensions"][1].update(frame=0), Layer.FRAMING, "packet 17: extensions[1].frame = 0, expected 1"),
    (lambda r: r["extensions"].pop(), Layer.FRAMING,
     "packet 17: extensions[1] = (missing), expected {id 126, frame 1, length 18} (1 entries, expected 2)"),
    (lambda r: r.update(extension_error="invalid packet"), Layer.FRAMING,
     "packet 17: extension_error = invalid packet, expected null"),
    (lambda r: r["dred"].update(extra_offset=0), Layer.HEADER, "packet 17: extra_offset = 0, expected 1"),
    (lambda r: r["dred"].update(frame_offset=0, dred_offset=-20), Layer.HEADER, "packet 17: frame_offset = 0, expected 8"),
    (lambda r: r["dred"]["state"].__setitem__(7, 9), Layer.LATENTS, "packet 17: state[7] = 9, expected 0"),
    (lambda r: r["dred"]["latents"][1].__setitem__(12, -2), Layer.LATENTS, "packet 17: latents[1][12] = -2, expected 0"),
    (lambda r: r["dred"]["levels"].__setitem__(1, 8), Layer.LATENTS, "packet 17: levels[1] = 8, expected 7"),
])
def test_first_departing_field_is_named(edit, layer, text):
    e = record(17)
    a = copy.deepcopy(e)
    edit(a)
    j = judge(a, e)
    assert j.verdicts[layer] is Verdict.FAIL
    assert str(j.departures[layer]) == text
    assert j.first_departure.layer is layer
    for other in set(LAYERS) - {layer, Layer.FEATURES}:
        assert j.verdicts[other] is Verdict.PASS, other


def test_extension_error_text_is_not_compared():
    e = record()
    e["extension_error"] = "invalid packet"
    a = copy.deepcopy(e)
    a["extension_error"] = "OPUS_INVALID_PACKET"
    assert judge(a, e).verdicts[Layer.FRAMING] is Verdict.PASS


def test_latents_compared_in_bitstream_order():
    """A desynchronised decoder: the first misread value is named, not the latent count it leads to."""
    e = record(3, latents=3)
    a = copy.deepcopy(e)
    d = a["dred"]
    d["latents"][1][4] += 1
    d["latents"] = d["latents"][:2]
    d["levels"] = d["levels"][:2]
    d["latent_count"] = 2
    assert str(judge(a, e).departures[Layer.LATENTS]) == "packet 3: latents[1][4] = -1, expected -2"


def test_one_latent_short_names_latent_count():
    e = record(3, latents=3)
    a = copy.deepcopy(e)
    d = a["dred"]
    d["latent_count"], d["levels"], d["latents"], d["features"] = 2, d["levels"][:2], d["latents"][:2], d["features"][:8]
    j = judge(a, e)
    assert str(j.departures[Layer.LATENTS]) == "packet 3: latent_count = 2, expected 3"
    assert str(j.departures[Layer.FEATURES]) == "packet 3: features: 8 rows, expected 12 (4 per latent)"


def test_dred_presence():
    e = record(4)
    a = copy.deepcopy(e)
    a["dred"] = None
    j = judge(a, e)
    assert str(j.departures[Layer.HEADER]).startswith("packet 4: dred: null, expected present {frame_offset 8, q0 6")
    # the latent and feature layers are claimed (by this record's expected shape, not the DUT's): only the header fails
    assert j.verdicts[Layer.LATENTS] is Verdict.NOT_TESTED
    # with a claim from another packet, the missing DRED fails the later layers too
    j = judge_packet(a, e, fields_in([a, record(5)]), set(LAYERS))
    assert j.verdicts[Layer.LATENTS] is Verdict.FAIL
    assert "missing (dred null), expected a DRED" in str(j.departures[Layer.LATENTS])
    assert j.first_departure.layer is Layer.HEADER
    # and the other way round
    e2, a2 = record(6, dred=False), record(6)
    j = judge_packet(a2, e2, fields_in([a2]), set(LAYERS))
    assert str(j.departures[Layer.HEADER]) == "packet 6: dred: present, expected null"


def test_absent_keys_are_not_tested_and_listed():
    e = [record(i) for i in range(3)]
    a = [{"index": i, "length": 60, "toc": 75} for i in range(3)]
    v = judge_vector(a, e)
    assert v.layers[Layer.FRAMING].verdict is Verdict.PASS
    assert v.layers[Layer.FRAMING].skipped == ["frame_count", "padding_length", "extensions", "extension_error"]
    for layer in (Layer.HEADER, Layer.LATENTS, Layer.FEATURES):
        assert v.layers[layer].verdict is Verdict.NOT_TESTED
        assert v.layers[layer].skipped


def test_claimed_field_missing_on_one_packet_fails():
    e = [record(i) for i in range(3)]
    a = copy.deepcopy(e)
    del a[2]["dred"]["q0"]
    v = judge_vector(a, e)
    assert str(v.layers[Layer.HEADER].first) == "packet 2: q0 = (missing), expected 6"


def test_features_only_dut():
    e = [record(0), record(1, dred=False), record(2, latents=1)]
    a = [{"index": 0, "dred": {"features": e[0]["dred"]["features"]}}, {"index": 1},
         {"index": 2, "dred": {"features": e[2]["dred"]["features"]}}]
    v = judge_vector(a, e)
    assert [v.layers[l].verdict for l in LAYERS] == [Verdict.NOT_TESTED] * 3 + [Verdict.PASS]
    assert v.layers[Layer.FEATURES].score.rows == 12


def _shifted(e: list[dict], col: int, delta: float) -> list[dict]:
    a = copy.deepcopy(e)
    for r in a:
        if r["dred"]:
            for row in r["dred"]["features"]:
                row[col] += delta
    return a


def test_feature_verdict_reports_metric_threshold_and_margin():
    e = [record(i) for i in range(4)]
    v = judge_vector(_shifted(e, 18, 0.05), e)  # pitch off by 0.05
    s = v.layers[Layer.FEATURES]
    assert s.verdict is Verdict.FAIL
    assert math.isclose(s.score.pitch, 0.05, rel_tol=1e-4)
    text = str(s.first)
    assert "pitch 0.0500 > 0.02 (margin -0.0300)" in text and "tot 0.0000 <= 0.5" in text
    # within tolerance: a small cepstral shift passes, with its margin
    v = judge_vector(_shifted(e, 0, 0.1), e)
    assert v.layers[Layer.FEATURES].verdict is Verdict.PASS
    assert math.isclose(v.layers[Layer.FEATURES].score.tot, 0.1, rel_tol=1e-4)
    # thresholds are options
    v = judge_vector(_shifted(e, 0, 0.1), e, Rules(FeatureThresholds(tot=0.05)))
    assert v.layers[Layer.FEATURES].verdict is Verdict.FAIL
    assert "tot 0.1000 > 0.05 (margin -0.0500)" in str(v.layers[Layer.FEATURES].first)


def test_feature_scope_packet_is_the_default():
    """One packet's features wrong where the stream-wide metric hides it: caught per packet, not per vector."""
    e = [record(i) for i in range(4)]
    a = copy.deepcopy(e)
    for row in a[2]["dred"]["features"]:
        row[0] += 0.2  # per packet: max 0.2 > 0.15; over the vector: sqrt(0.04/4) = 0.1
    v = judge_vector(a, e)
    assert v.layers[Layer.FEATURES].verdict is Verdict.FAIL
    assert str(v.layers[Layer.FEATURES].first).startswith("packet 2: features: tot 0.2000 <= 0.5")
    assert v.layers[Layer.FEATURES].score.passes(FeatureThresholds())  # the stream-wide figure still reported
    assert judge_vector(a, e, Rules(scope="vector")).layers[Layer.FEATURES].verdict is Verdict.PASS


def test_two_swapped_rows_of_one_packet_fail():
    e = [record(i, latents=3) for i in range(40)]
    for k, r in enumerate(e):
        for i, row in enumerate(r["dred"]["features"]):
            row[0] = ((k * 7 + i * 3) % 11) / 4.0
    a = copy.deepcopy(e)
    rows = a[17]["dred"]["features"]
    rows[0], rows[5] = rows[5], rows[0]
    assert judge_vector(a, e, Rules(scope="vector")).layers[Layer.FEATURES].verdict is Verdict.PASS
    v = judge_vector(a, e)
    assert v.layers[Layer.FEATURES].verdict is Verdict.FAIL and v.layers[Layer.FEATURES].failed == 1
    assert v.layers[Layer.FEATURES].first.packet == 17


def test_non_finite_features_fail():
    e = [record(0)]
    a = copy.deepcopy(e)
    a[0]["dred"]["features"][0][3] = float("nan")
    v = judge_vector(a, e)
    assert v.layers[Layer.FEATURES].verdict is Verdict.FAIL


def test_dut_reported_packet_error():
    e = [record(i) for i in range(3)]
    a = copy.deepcopy(e)
    a[1] = {"index": 1, "error": "cannot decode"}
    v = judge_vector(a, e)
    assert v.packets[1].verdicts[Layer.FRAMING] is Verdict.ERROR
    assert str(v.layers[Layer.FRAMING].first) == "packet 1: the decoder reported an error: cannot decode"
    assert v.layers[Layer.FRAMING].failed == 1


def test_departure_json_round_trip():
    for d in (Departure(Layer.LATENTS, "latents[3][12]", -2, -3, 17),
              Departure(Layer.FEATURES, "", packet=None, text="tot 0.6 > 0.5"),
              Departure(Layer.HEADER, "dred", packet=4, text="null, expected present")):
        assert str(Departure.from_json(d.to_json())) == str(d)
    s = FeatureScore(0.1, 0.05, float("nan"), 8, 0, (0.0,) * 20)
    back = FeatureScore.from_json(s.to_json())
    assert back.tot == 0.1 and math.isnan(back.pitch)


@pytest.mark.parametrize("text, message", [
    (b"not json", "not JSON"),
    (b"[]", 'the output is not an object {"packets": [...]}'),
    (b'{"packet": []}', 'the output is not an object {"packets": [...]}'),
    (b'{"packets": [{}]}', "1 packet records, expected 2"),
    (b'{"packets": [{"toc": 1.0}, {}]}', "packets[0].toc is a number, expected an integer"),
    (b'{"packets": [{}, {"dred": {"q0": true}}]}', "packets[1].dred.q0 is a boolean, expected an integer"),
    (b'{"packets": [{}, {"dred": {"latents": [[1, "2"]]}}]}', "packets[1].dred.latents[0][1] is a string"),
    (b'{"packets": [{}, {"extensions": [{"id": 5, "frame": 0}]}]}', "packets[1].extensions[0] has no 'length'"),
    (b'{"packets": [{"index": 1}, {}]}', "packets[0].index = 1, expected 0"),
    (b'{"packets": [{}, {"dred": {"features": [[1, null]]}}]}', "packets[1].dred.features[0][1] is null, expected a number"),
])
def test_malformed_output_is_named(text, message):
    with pytest.raises(MalformedOutput, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_output(text, 2)


def test_subset_output_is_well_formed():
    assert validate_output({"packets": [{}, {"length": 3, "dred": None, "error": "x", "extra": 1}]}, 2)


def test_unvoiced_packet_pitch_is_not_applicable():
    """No expected row with pitch correlation > 0.2: dred_compare would divide by zero; here pitch is n/a."""
    e = record(0)
    for row in e["dred"]["features"]:
        row[19] = 0.1
    a = copy.deepcopy(e)
    for row in a["dred"]["features"]:
        row[18] += 1.0  # the pitch is never looked at
    j = judge(a, e)
    assert j.verdicts[Layer.FEATURES] is Verdict.PASS
    assert j.score.pitch_for(True) == 0 and j.score.pitch_rows == 0 and math.isnan(j.score.pitch)
    assert "pitch n/a" in j.score.describe(FeatureThresholds())
    assert not j.score.passes(FeatureThresholds(), unvoiced_ok=False)  # dred_compare's own rule


def test_nothing_to_test_is_not_a_skip():
    """A vector without DRED: the DRED layers are n/a, not "not output" (the DUT is not told it skipped them)."""
    e = [record(i, dred=False) for i in range(3)]
    v = judge_vector(copy.deepcopy(e), e)
    assert v.layers[Layer.HEADER].verdict is Verdict.PASS  # presence: dred null, as expected
    for layer in (Layer.LATENTS, Layer.FEATURES):
        s = v.layers[layer]
        assert (s.verdict, s.reason, s.skipped) == (Verdict.NOT_TESTED, "nothing to test in this vector", [])
    # whereas a DUT without latents on a vector with DRED skipped them
    e = [record(i) for i in range(3)]
    a = copy.deepcopy(e)
    for r in a:
        r["dred"] = {k: v for k, v in r["dred"].items() if k not in ("state", "levels", "latents", "latent_count", "features")}
    v = judge_vector(a, e)
    assert v.layers[Layer.LATENTS].reason == "not output by the decoder"
    assert v.layers[Layer.LATENTS].skipped == ["state", "levels", "latents", "latent_count"]


# ------------------------------------------------------------------------------------------------ profiles


def test_profile_field_never_output_is_untested_not_passed():
    """A framing-only decoder that never writes extension_error is not tested on it: not conformance."""
    e = [record(i) for i in range(3)]
    e[1]["extension_error"] = "invalid packet"
    a = [{k: r[k] for k in ("index", "length", "toc", "frame_count", "padding_length", "extensions")} for r in e]
    v = judge_vector(a, e, profile=Profile.parse("framing"))
    s = v.layers[Layer.FRAMING]
    assert s.verdict is Verdict.PASS and s.untested == ["extension_error"] and not s.complete
    assert all(v.layers[l].complete for l in (Layer.HEADER, Layer.LATENTS, Layer.FEATURES))  # not claimed
    # without the profile claiming framing, the same output is complete
    assert judge_vector(a, e, profile=Profile.parse("dred")).layers[Layer.FRAMING].complete


def test_every_packet_an_error_record_is_an_error_in_every_profile_layer():
    e = [record(i) for i in range(3)]
    a = [{"index": i, "error": "cannot decode"} for i in range(3)]
    v = judge_vector(a, e, profile=Profile())
    for layer in LAYERS:
        s = v.layers[layer]
        assert (s.verdict, s.failed, s.tested) == (Verdict.ERROR, 3, 3), layer
    assert str(v.layers[Layer.LATENTS].first) == "packet 0: the decoder reported an error: cannot decode"
    # with no profile the same stream is not tested at all: the profile is what makes it an error
    assert all(s.verdict is Verdict.NOT_TESTED for s in judge_vector(a, e).layers.values())


def test_profile_layer_outside_what_the_vector_has_is_not_required():
    e = [record(i, dred=False) for i in range(3)]
    a = [{k: r[k] for k in ("index", "length", "toc", "frame_count", "padding_length", "extensions",
                            "extension_error", "dred")} for r in e]
    v = judge_vector(a, e, profile=Profile())
    assert all(s.complete for s in v.layers.values())
    assert v.layers[Layer.FEATURES].reason == "nothing to test in this vector"


def test_layers_outside_the_profile_are_still_judged():
    e = [record(i) for i in range(2)]
    a = copy.deepcopy(e)
    a[1]["toc"] = 1
    v = judge_vector(a, e, profile=Profile.parse("features"))
    assert v.layers[Layer.FRAMING].verdict is Verdict.FAIL and not v.layers[Layer.FRAMING].required


@pytest.mark.parametrize("text, layers", [("framing", ("framing",)), ("features, dred", ("dred", "features")),
                                          ("framing,dred,features", ("framing", "dred", "features"))])
def test_profile_parse(text, layers):
    assert Profile.parse(text).layers == layers


@pytest.mark.parametrize("text", ["", "header", "framing,vocoder2", ","])
def test_profile_parse_refuses(text):
    from dredconf.conformance.profile import ProfileError

    with pytest.raises(ProfileError, match="want a comma list of framing, dred, features"):
        Profile.parse(text)
