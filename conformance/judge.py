"""The verdict logic: how a decoder's records for one vector are judged against the expected ones.

A packet is judged in four layers, in decoding order; each compares only the
fields it owns (:data:`~dredconf.conformance.profile.LAYER_FIELDS`):

==========  ==================================================================  ===========
layer       fields (compared in this order)                                     rule
==========  ==================================================================  ===========
framing     length, toc, frame_count, padding_length, extensions,               exact
            extension_error (null or not: the error text is not compared)
header      DRED presence (``dred`` null or not), frame_offset, q0, dQ,         exact
            extra_offset, offset, qmax, dred_offset
latents     state, then for each latent k (newest first) levels[k] and          exact
            latents[k], then latent_count
features    row count exactly; values by libopus's ``dred_compare -features``   thresholds
            metric on each packet's rows (``scope="packet"``, the default) and
            over the whole vector
==========  ==================================================================  ===========

What is compared is what the decoder outputs: a field is *output* for a
vector when any of its records carries it, and then a record that leaves it
out where the expected record has it fails. What must be tested is what the
profile claims: a required field the decoder never outputs is *untested*,
which is not conformance (:class:`~dredconf.conformance.results.LayerSummary`).
A record ``{"index": i, "error": "..."}`` gets the verdict *error* in every
layer that is output or required, so a stream of error records never passes.

Acceptable packets (the set lists *alternatives*: other records a conforming
decoder may output): a layer departing from the expected record passes when
it matches an alternative on that layer; features are judged against the
record the latents (else the header) matched.

Where no expected row has pitch correlation > 0.2 the pitch error is n/a and
counts as 0 (``dred_compare`` would divide by zero and fail).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from dredconf.conformance.exact import COMPARE, dred_mismatch, get
from dredconf.conformance.feature_metric import FeatureScore, FeatureThresholds, as_rows, feature_score
from dredconf.conformance.profile import LAYER_FIELDS, Profile
from dredconf.conformance.results import LayerSummary, PacketResult
from dredconf.conformance.verdicts import BAD, LAYERS, MISSING, NOT_OUTPUT, NOTHING_TO_TEST, Departure, Layer, Verdict
from dredconf.spec.record import DRED_KEYS, FEATURE_KEYS, FRAMING_KEYS, HEADER_KEYS, NUM_FEATURES

_DRED_FIELDS = frozenset(DRED_KEYS + FEATURE_KEYS)


@dataclass(frozen=True)
class Rules:
    """How features are judged: thresholds, and whether each packet's metric must pass (``scope="packet"``)."""

    thresholds: FeatureThresholds = FeatureThresholds()
    scope: str = "packet"


def fields_in(records: Iterable[dict]) -> dict[Layer, frozenset[str]]:
    """Per layer, the fields any of ``records`` carries (error records carry none; ``dred: null`` is presence)."""
    seen: set[str] = set()
    for r in records:
        if not isinstance(r, dict) or "error" in r:
            continue
        seen.update(k for k in FRAMING_KEYS if k in r)
        d = r.get("dred", MISSING)
        if d is None:
            seen.add("dred")
        elif isinstance(d, dict):
            seen.update(k for k in _DRED_FIELDS if k in d)
    if seen & set(HEADER_KEYS):
        seen.add("dred")
    return {layer: frozenset(f for f in LAYER_FIELDS[layer] if f in seen) for layer in LAYERS}


# ------------------------------------------------------------------------------------------------ one packet


def _compare_features(a: dict, e: dict, rules: Rules) -> tuple[Departure | None, FeatureScore | None]:
    L = Layer.FEATURES
    ad, ed = get(a, "dred"), get(e, "dred")
    if ed is MISSING:
        return None, None
    af = get(ad, "features")
    ef = get(ed, "features") if isinstance(ed, dict) else MISSING
    if ed is None:
        if af is not MISSING and af:
            return Departure(L, "features", text=f"{len(af)} rows, expected no DRED (dred null)"), None
        return None, None
    if ef is MISSING:  # the expectations carry no features for this packet
        return None, None
    if af is MISSING:
        if not isinstance(ad, dict):
            return dred_mismatch(L, "features", ad, ed), None
        return Departure(L, "features", text=f"(missing), expected {len(ef)} rows"), None
    if len(af) != len(ef):
        return Departure(L, "features", text=f"{len(af)} rows, expected {len(ef)} (4 per latent)"), None
    if not ef:
        return None, None
    rows = as_rows(af)
    bad = np.argwhere(~np.isfinite(rows))
    if len(bad):
        i, j = (int(x) for x in bad[0])
        return Departure(L, f"features[{i}][{j}]", float(rows[i, j]), float(ef[i][j]), note="not a finite number"), None
    score = feature_score(as_rows(ef), rows)
    if rules.scope == "packet" and not score.passes(rules.thresholds):
        return Departure(L, "features", text=score.describe(rules.thresholds)), score
    return None, score


def _against(actual: dict, expected: dict, compared: dict[Layer, frozenset[str]], judged: set[Layer],
             rules: Rules) -> PacketResult:
    index = expected.get("index", actual.get("index"))
    res = PacketResult(index, {})
    if "error" in actual:
        for layer in LAYERS:
            if layer in judged:
                res.verdicts[layer] = Verdict.ERROR
                res.departures[layer] = Departure(layer, "", packet=index,
                                                  text=f"the decoder reported an error: {actual['error']}")
            else:
                res.verdicts[layer] = Verdict.NOT_TESTED
        return res
    for layer in LAYERS:
        if not compared[layer]:
            res.verdicts[layer] = Verdict.NOT_TESTED
            continue
        if layer is Layer.FEATURES:
            dep, res.score = _compare_features(actual, expected, rules)
        else:
            dep = next(COMPARE[layer](actual, expected, compared[layer]), None)
        res.verdicts[layer] = Verdict.PASS if dep is None else Verdict.FAIL
        if dep is not None:
            dep.packet = index
            res.departures[layer] = dep
    return res


def _none_matches(dep: Departure, alt_deps: Sequence[Departure | None]) -> Departure:
    n = len(alt_deps)
    extra = ("acceptable packet; its alternative does not match either" if n == 1
             else f"acceptable packet; none of its {n} alternatives matches either")
    parts = "; ".join(f"alternative {k}: {d.what()}" for k, d in enumerate(alt_deps, 1) if d is not None)
    return dep.annotate(f"{extra} ({parts})" if parts else extra)


def judge_packet(actual: dict, expected: dict, compared: dict[Layer, frozenset[str]], judged: set[Layer],
                 rules: Rules = Rules(), alternatives: Sequence[dict] = ()) -> PacketResult:
    """Judge one record against the expected one (``compared``: fields per layer; ``judged``: layers an error
    record is an error in); an acceptable packet's failing layer passes on a matching alternative."""
    j = _against(actual, expected, compared, judged, rules)
    failing = [l for l in LAYERS if j.verdicts[l] is Verdict.FAIL]
    if not alternatives or "error" in actual or not failing:
        return j
    alts = [_against(actual, a, compared, judged, rules) for a in alternatives]
    for layer in failing:
        k = next((n for n, a in enumerate(alts, 1) if a.verdicts[layer] is Verdict.PASS), None)
        if k is None:
            j.departures[layer] = _none_matches(j.departures[layer], [a.departures.get(layer) for a in alts])
            continue
        j.verdicts[layer] = Verdict.PASS
        del j.departures[layer]
        j.matched[layer] = k
        if layer is Layer.FEATURES:
            j.score = alts[k - 1].score
    # Features come from the latents: they are judged against the record the latents (else the header) matched.
    by = Layer.LATENTS if compared[Layer.LATENTS] else Layer.HEADER
    anchor = j.matched.get(by)
    if anchor and compared[Layer.FEATURES]:
        a = alts[anchor - 1]
        j.verdicts[Layer.FEATURES], j.score = a.verdicts[Layer.FEATURES], a.score
        j.departures.pop(Layer.FEATURES, None)
        j.matched[Layer.FEATURES] = anchor
        if Layer.FEATURES in a.departures:
            j.departures[Layer.FEATURES] = a.departures[Layer.FEATURES].annotate(
                f"against alternative {anchor}, the record the {by.value} match")
    if j.ok:
        tested = [l for l in LAYERS if j.verdicts[l] is not Verdict.NOT_TESTED]
        j.mixed = not any(all(a.verdicts[l] is Verdict.PASS for l in tested) for a in alts)
    return j


# ------------------------------------------------------------------------------------------------ one vector


def matched_record(p: PacketResult, layer: Layer, expected: dict, alternatives: Sequence[dict]) -> dict:
    """The record ``p`` was judged against in ``layer``: the expected one, or the alternative it matched."""
    k = p.matched.get(layer)
    return alternatives[k - 1] if k else expected


def _vector_score(actual: Sequence[dict], against: Sequence[dict], packets: Sequence[PacketResult]) -> FeatureScore | None:
    """The metric over every packet whose rows line up (what dred_compare computes on the concatenated files)."""
    pairs = [(as_rows(e["dred"]["features"]), as_rows(a["dred"]["features"]))
             for a, e, p in zip(actual, against, packets) if p.score is not None]
    if not pairs:
        return None
    return feature_score(np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs]))


def _summary(layer: Layer, packets: list[PacketResult], output: frozenset[str], required: frozenset[str],
             available: frozenset[str]) -> LayerSummary:
    skipped = sorted(available - output - required, key=LAYER_FIELDS[layer].index)
    untested = sorted(required - output, key=LAYER_FIELDS[layer].index)
    tested = [p for p in packets if p.verdicts[layer] is not Verdict.NOT_TESTED]
    if not tested:
        reason = NOT_OUTPUT if available else NOTHING_TO_TEST
        return LayerSummary(Verdict.NOT_TESTED, untested=untested, skipped=skipped, reason=reason,
                            required=bool(required))
    bad = [p for p in tested if p.verdicts[layer] in BAD]
    verdict = Verdict.PASS
    if bad:
        verdict = Verdict.ERROR if all(p.verdicts[layer] is Verdict.ERROR for p in bad) else Verdict.FAIL
    return LayerSummary(verdict, len(tested), len(bad), bad[0].departures[layer] if bad else None, untested, skipped,
                        required=bool(required))


def judge_vector(actual: Sequence[dict], expected: Sequence[dict], profile: Profile, rules: Rules = Rules(),
                 alternatives: Sequence[Sequence[dict]] | None = None) -> tuple[dict[Layer, LayerSummary], list[PacketResult]]:
    """Judge every packet of one vector (``actual`` has one record per expected record) and sum up each layer."""
    output = fields_in(actual)
    available = fields_in(expected)
    required = {l: frozenset(profile.required_fields(l)) & available[l] for l in LAYERS}
    judged = {l for l in LAYERS if output[l] or required[l]}
    alts = list(alternatives or []) + [()] * (len(expected) - len(alternatives or []))
    packets = [judge_packet(a, e, output, judged, rules, alt) for a, e, alt in zip(actual, expected, alts)]
    layers = {l: _summary(l, packets, output[l], required[l], available[l]) for l in LAYERS}
    feat = layers[Layer.FEATURES]
    if feat.verdict is not Verdict.NOT_TESTED:
        against = [matched_record(p, Layer.FEATURES, e, alt) for p, e, alt in zip(packets, expected, alts)]
        feat.score = _vector_score(actual, against, packets)
        if feat.score is None and not feat.failed:
            feat.verdict, feat.reason = Verdict.NOT_TESTED, NOTHING_TO_TEST  # no packet had rows to compare
        elif feat.score is not None and not feat.score.passes(rules.thresholds) and feat.verdict is Verdict.PASS:
            worst = max((p for p in packets if p.score is not None), key=lambda p: p.score.badness(rules.thresholds))
            feat.verdict = Verdict.FAIL
            feat.first = Departure(Layer.FEATURES, "", text=f"{feat.score.describe(rules.thresholds)} over "
                                                            f"{feat.score.rows} rows; worst packet {worst.index}")
    return layers, packets


def worst_packets(packets: Sequence[PacketResult], rules: Rules, n: int) -> list[PacketResult]:
    """The ``n`` packets whose feature metric is closest to (or furthest past) its thresholds."""
    scored = [p for p in packets if p.score is not None and p.score.rows]
    scored.sort(key=lambda p: (-min(p.score.badness(rules.thresholds), 1e300), p.index))
    return scored[:n]


def standalone_records(rows: np.ndarray, counts: Sequence[int]) -> list[dict]:
    """Records ``{"index", "dred": {"features": rows}}`` for a standalone file's rows cut by record (oldest first)."""
    out, pos = [], 0
    for i, n in enumerate(counts):
        out.append({"index": i, "dred": {"features": rows[pos:pos + n].reshape(-1, NUM_FEATURES).tolist()}})
        pos += n
    return out
