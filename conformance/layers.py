"""The verdict logic: how a decoder's record for one packet is judged against the expected one.

Everything that decides *pass*, *fail* or *not-tested* lives in this module.
A packet is judged in four layers, in decoding order; each compares only the
fields it owns:

==========  ==================================================================  ===========
layer       fields (compared in this order)                                     rule
==========  ==================================================================  ===========
framing     length, toc, frame_count, padding_length, extensions,               exact
            extension_error (null or not: the error text is not compared)
header      DRED presence (``dred`` null or not), frame_offset, q0, dQ,         exact
            extra_offset, offset, qmax, dred_offset
latents     state, then for each latent k (newest first) levels[k] and          exact
            latents[k], then latent_count
features    features: row count exactly, values by libopus's                   thresholds
            ``dred_compare -features`` metric (tot, max, pitch)
==========  ==================================================================  ===========

Fields are compared in bitstream order, so the *first departing field* is
where a decoder first went wrong (a desynchronised range decoder shows up at
the first value it misread, not at a later count).

What is tested is what the decoder under test (DUT) outputs: a field is
*claimed* for a vector when any of the DUT's records carries it. A layer with
no claimed field is *not tested*, either because the DUT does not output it
(its fields are then listed as skipped) or because the vector has nothing for
it (no DRED, no expected features); a claimed field missing from one packet's
record where the expected record has it is a failure. DRED presence belongs to the header layer and is claimed
by any header field or any ``"dred": null``. The layers are judged independently, so a packet can
fail several; its *first departing layer* is the earliest of those.

Acceptable packets (a set may list, per packet, *alternatives*: other
records a conforming decoder may output, e.g. where the draft allows more than
one behaviour): a layer departing from the expected record passes when it
matches an alternative on that layer (``PacketJudgement.matched`` names it);
when none does, the departure from the expected record is reported and says
the alternatives do not match either. Features are computed from the latents,
so they are judged against the record the latents (else the header) matched.

Features: per packet, the row count must match and the metric is computed
(``--feature-scope packet`` makes every packet's metric normative). Per
vector, the metric over all rows of the vector (what ``dred_compare
-features`` computes on the concatenated files) decides, as in libopus's
``tests/dred_vectors.sh``. Non-finite values fail. One deliberate difference
from ``dred_compare``: where no expected row has pitch correlation > 0.2 (an
unvoiced packet) the pitch error is "n/a" and counts as 0, where
``dred_compare`` would divide by zero and fail.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Iterator, Sequence

import numpy as np


class Layer(str, Enum):
    FRAMING = "framing"
    HEADER = "header"
    LATENTS = "latents"
    FEATURES = "features"

    def __str__(self) -> str:
        return self.value


LAYERS: tuple[Layer, ...] = tuple(Layer)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_TESTED = "not-tested"
    #: The DUT produced nothing judgeable (crash, hang, malformed output, or it reported a packet error).
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


FRAMING_FIELDS = ("length", "toc", "frame_count", "padding_length", "extensions", "extension_error")
#: ``dred`` (presence) is claimed with any of these.
HEADER_FIELDS = ("frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset")
LATENT_FIELDS = ("state", "levels", "latents", "latent_count")
FEATURE_FIELDS = ("features",)
LAYER_FIELDS: dict[Layer, tuple[str, ...]] = {
    Layer.FRAMING: FRAMING_FIELDS,
    Layer.HEADER: ("dred",) + HEADER_FIELDS,
    Layer.LATENTS: LATENT_FIELDS,
    Layer.FEATURES: FEATURE_FIELDS,
}
#: Fields inside the ``dred`` object.
DRED_FIELDS = frozenset(HEADER_FIELDS + LATENT_FIELDS + FEATURE_FIELDS)
FEATURE_DIM = 20

_MISSING = object()


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING = _Missing()
"""Shown as the actual value of a claimed field the DUT left out of a record."""


class _Nothing:
    def __repr__(self) -> str:
        return "(nothing)"


NOTHING = _Nothing()
"""Shown as the expected value of a list entry the DUT added."""


# ---------------------------------------------------------------------------
# Thresholds and the feature metric


@dataclass(frozen=True)
class FeatureLimits:
    """libopus's ``dred_compare -features`` thresholds (``tests/dred_vectors.sh``)."""

    tot: float = 0.5
    max: float = 0.15
    pitch: float = 0.02
    #: "vector": the metric over a whole vector decides (libopus); "packet": every packet's metric must pass too.
    scope: str = "vector"

    @classmethod
    def from_metrics(cls, tot=None, max=None, pitch=None, scope: str = "vector") -> "FeatureLimits":
        """The defaults from :mod:`dredconf.conformance.metrics`, overridden where given."""
        base = cls()
        try:
            from dredconf.conformance import metrics

            t = metrics.Thresholds.libopus()
            base = cls(float(t.tot), float(t.max), float(t.pitch))
        except (ImportError, AttributeError):  # pragma: no cover - metrics.py not there yet
            pass
        return cls(
            base.tot if tot is None else float(tot),
            base.max if max is None else float(max),
            base.pitch if pitch is None else float(pitch),
            scope,
        )


@dataclass
class FeatureScore:
    """The metric for some rows: tot, max, pitch, and per-feature RMS error (``sqrt(mse)``, 20 values)."""

    tot: float
    max: float
    pitch: float
    rows: int
    per_feature: list[float] = field(default_factory=list)
    #: Rows whose expected pitch correlation is over 0.2: the ones the pitch error averages.
    #: With none (an unvoiced packet) the pitch error is undefined and counts as 0.
    pitch_rows: int | None = None

    def passes(self, limits: FeatureLimits) -> bool:
        # Written so that NaN fails.
        return self.tot <= limits.tot and self.max <= limits.max and self.pitch <= limits.pitch

    def describe(self, limits: FeatureLimits) -> str:
        """``tot 0.0810 <= 0.5 (margin +0.419), max ... , pitch ...``"""
        parts = []
        for name in ("tot", "max", "pitch"):
            v, lim = getattr(self, name), getattr(limits, name)
            if name == "pitch" and self.pitch_rows == 0:
                parts.append("pitch n/a (no row with pitch correlation > 0.2)")
                continue
            ok = v <= lim
            parts.append(f"{name} {_num(v)} {'<=' if ok else '>'} {lim:g} (margin {_signed(lim - v)})")
        return ", ".join(parts)

    def to_json(self) -> dict:
        return {"tot": _jnum(self.tot), "max": _jnum(self.max), "pitch": _jnum(self.pitch), "rows": self.rows,
                "pitch_rows": self.pitch_rows, "per_feature_rms": [_jnum(x) for x in self.per_feature]}

    @classmethod
    def from_json(cls, d: dict) -> "FeatureScore":
        f = lambda x: float("nan") if x is None else float(x)  # noqa: E731
        return cls(f(d["tot"]), f(d["max"]), f(d["pitch"]), int(d["rows"]), [f(x) for x in d.get("per_feature_rms", [])],
                   d.get("pitch_rows"))


def score_features(expected: np.ndarray, actual: np.ndarray) -> FeatureScore:
    """libopus's ``dred_compare -features`` on two (rows, 20) arrays (the expected one is the file it reads first)."""
    from dredconf.conformance.metrics import feature_errors

    ref = np.asarray(expected, dtype=np.float32).reshape(-1, FEATURE_DIM)
    dut = np.asarray(actual, dtype=np.float32).reshape(-1, FEATURE_DIM)
    err = feature_errors(ref, dut)
    with np.errstate(all="ignore"):
        per = np.sqrt(np.asarray(err.per_feature_mse, dtype=np.float64))
    voiced = int(err.pitch_count)
    # No voiced row: dred_compare divides 0 by 0 (NaN, a failure); here the pitch error is "n/a" and counts as 0,
    # so an unvoiced packet (or vector) is judged on tot and max alone.
    pitch = float(err.pitch) if voiced else 0.0
    return FeatureScore(float(err.tot), float(err.max), pitch, int(err.rows), [float(x) for x in per], voiced)


# ---------------------------------------------------------------------------
# Departures


@dataclass
class Departure:
    """Where a DUT's output first differs from the expected output in one layer of one packet (or vector)."""

    layer: Layer
    field: str  # e.g. "latents[3][12]", "dred", "features (tot)"
    actual: Any = None
    expected: Any = None
    packet: int | None = None
    #: Replaces the "= actual, expected expected" text when set (feature metrics, DUT errors).
    text: str | None = None
    #: Appended in parentheses (e.g. list lengths).
    note: str | None = None

    def what(self) -> str:
        if self.text is not None:
            return f"{self.field}: {self.text}" if self.field else self.text
        tail = f" ({self.note})" if self.note else ""
        return f"{self.field} = {_show(self.actual)}, expected {_show(self.expected)}{tail}"

    def __str__(self) -> str:
        return (f"packet {self.packet}: " if self.packet is not None else "") + self.what()

    def to_json(self) -> dict:
        d = {"layer": self.layer.value, "packet": self.packet, "field": self.field, "message": str(self)}
        if self.text is None:
            d["actual"], d["expected"] = _jsonable(self.actual), _jsonable(self.expected)
            if self.note:
                d["note"] = self.note
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Departure":
        if "actual" in d:
            return cls(Layer(d["layer"]), d["field"], _unjson(d["actual"]), _unjson(d["expected"]), d["packet"],
                       note=d.get("note"))
        msg = d["message"]
        prefix = f"packet {d['packet']}: " if d["packet"] is not None else ""
        body = msg[len(prefix):]
        text = body[len(d["field"]) + 2:] if d["field"] and body.startswith(d["field"] + ": ") else body
        return cls(Layer(d["layer"]), d["field"], packet=d["packet"], text=text)


def _show(v: Any) -> str:
    if v is MISSING:
        return "(missing)"
    if v is NOTHING:
        return "nothing"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} {_show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        if len(v) > 6:
            return "[" + ", ".join(_show(x) for x in v[:6]) + f", … ({len(v)} items)]"
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return str(v)


def _num(v: float) -> str:
    if v != v:
        return "nan"
    return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}"


def _signed(v: float) -> str:
    return "nan" if v != v else f"{v:+.4f}"


def _jnum(v: float):
    return None if not math.isfinite(v) else v


def _jsonable(v: Any) -> Any:
    if v is MISSING:
        return "(missing)"
    if v is NOTHING:
        return "(nothing)"
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _unjson(v: Any) -> Any:
    return MISSING if v == "(missing)" else NOTHING if v == "(nothing)" else v


# ---------------------------------------------------------------------------
# Claims: what the DUT outputs for a vector


@dataclass
class Claims:
    """The fields a DUT outputs for one vector, per layer."""

    fields: dict[Layer, frozenset[str]]

    @classmethod
    def of(cls, records: Iterable[dict]) -> "Claims":
        seen: set[str] = set()
        for r in records:
            if not isinstance(r, dict) or "error" in r:
                continue
            seen.update(k for k in FRAMING_FIELDS if k in r)
            d = r.get("dred", _MISSING)
            if d is None:
                seen.add("dred")  # an explicit null says "no DRED here": presence is claimed
            elif isinstance(d, dict):
                seen.update(k for k in DRED_FIELDS if k in d)
        if seen & set(HEADER_FIELDS):
            seen.add("dred")
        return cls({layer: frozenset(f for f in LAYER_FIELDS[layer] if f in seen) for layer in LAYERS})

    def tested(self, layer: Layer) -> bool:
        return bool(self.fields[layer])


# ---------------------------------------------------------------------------
# Per packet


@dataclass
class PacketJudgement:
    index: int
    verdicts: dict[Layer, Verdict]
    departures: dict[Layer, Departure] = field(default_factory=dict)
    score: FeatureScore | None = None
    #: Layers that pass only because they match an alternative record: layer -> its number (1-based).
    matched: dict[Layer, int] = field(default_factory=dict)
    #: How many alternatives the packet had (0: judged against the expected record alone).
    alternatives: int = 0
    #: Every tested layer passes, but no single record (expected or one alternative) matches them all.
    mixed: bool = False

    @property
    def first_departure(self) -> Departure | None:
        for layer in LAYERS:
            if layer in self.departures and self.verdicts[layer] in (Verdict.FAIL, Verdict.ERROR):
                return self.departures[layer]
        return None

    @property
    def ok(self) -> bool:
        return all(v in (Verdict.PASS, Verdict.NOT_TESTED) for v in self.verdicts.values())


def judge_packet(actual: dict, expected: dict, claims: Claims, limits: FeatureLimits = FeatureLimits(),
                 alternatives: Sequence[dict] = ()) -> PacketJudgement:
    """Judge one DUT record against the expected record, layer by layer.

    ``alternatives`` (an ``acceptable`` packet's other allowed records): a
    layer departing from ``expected`` passes when it matches one of them (the
    first that does is named in ``matched``); when none does, the departure
    from ``expected`` is kept and says that alternatives exist.
    """
    j = _judge_against(actual, expected, claims, limits)
    j.alternatives = len(alternatives)
    if not alternatives or "error" in actual:
        return j
    failing = [l for l in LAYERS if j.verdicts[l] is Verdict.FAIL]
    if not failing:
        return j
    alts = [_judge_against(actual, a, claims, limits) for a in alternatives]
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
    # Features are computed from the latents: they are judged against the record the latents (else header) matched.
    anchor = j.matched.get(Layer.LATENTS if claims.tested(Layer.LATENTS) else Layer.HEADER)
    if anchor and claims.tested(Layer.FEATURES):
        a = alts[anchor - 1]
        j.verdicts[Layer.FEATURES], j.score = a.verdicts[Layer.FEATURES], a.score
        j.departures.pop(Layer.FEATURES, None)
        j.matched[Layer.FEATURES] = anchor
        if Layer.FEATURES in a.departures:
            by = "latents" if claims.tested(Layer.LATENTS) else "header"
            j.departures[Layer.FEATURES] = _annotate(a.departures[Layer.FEATURES],
                                                     f"against alternative {anchor}, the record the {by} match")
    if j.ok:
        tested = [l for l in LAYERS if j.verdicts[l] is not Verdict.NOT_TESTED]
        candidates = [j_ for j_ in alts if all(j_.verdicts[l] is Verdict.PASS for l in tested)]
        j.mixed = not candidates
    return j


def _none_matches(dep: Departure, alt_deps: Sequence[Departure | None]) -> Departure:
    """The departure from the expected record, saying that the packet's alternatives do not match either."""
    n = len(alt_deps)
    extra = ("acceptable packet; its alternative does not match either" if n == 1
             else f"acceptable packet; none of its {n} alternatives matches either")
    parts = "; ".join(f"alternative {k}: {d.what()}" for k, d in enumerate(alt_deps, 1) if d is not None)
    if parts:
        extra += f" ({parts})"
    return _annotate(dep, extra)


def _annotate(dep: Departure, extra: str) -> Departure:
    """``dep`` with ``extra`` added in parentheses (to its text, or to its note so the JSON keeps actual/expected)."""
    if dep.text is not None:
        dep.text = f"{dep.text} ({extra})"
    else:
        dep.note = f"{dep.note}; {extra}" if dep.note else extra
    return dep


def _judge_against(actual: dict, expected: dict, claims: Claims, limits: FeatureLimits) -> PacketJudgement:
    index = expected.get("index", actual.get("index"))
    verdicts: dict[Layer, Verdict] = {}
    departures: dict[Layer, Departure] = {}
    if "error" in actual:
        for layer in LAYERS:
            if claims.tested(layer):
                verdicts[layer] = Verdict.ERROR
                departures[layer] = Departure(layer, "", packet=index, text=f"the decoder reported an error: {actual['error']}")
            else:
                verdicts[layer] = Verdict.NOT_TESTED
        return PacketJudgement(index, verdicts, departures)
    score = None
    for layer in LAYERS:
        if not claims.tested(layer):
            verdicts[layer] = Verdict.NOT_TESTED
            continue
        if layer is Layer.FEATURES:
            dep, score = _compare_features(actual, expected, limits)
        else:
            dep = next(_COMPARE[layer](actual, expected, claims.fields[layer]), None)
        if dep is not None:
            dep.packet = index
            departures[layer] = dep
            verdicts[layer] = Verdict.FAIL
        else:
            verdicts[layer] = Verdict.PASS
    return PacketJudgement(index, verdicts, departures, score)


def _get(d: Any, key: str) -> Any:
    return d.get(key, MISSING) if isinstance(d, dict) else MISSING


def _compare_value(name: str, a: Any, e: Any, layer: Layer) -> Iterator[Departure]:
    """Exact comparison of two JSON values, naming the first differing leaf (``name[3][12]``, ``name[1].frame``)."""
    if a is MISSING:
        yield Departure(layer, name, MISSING, e)
        return
    if type(a) is type(e) and a == e:  # the common case, at C speed (element types are checked on input)
        return
    if isinstance(e, list) and isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, e)):
            yield from _compare_value(f"{name}[{i}]", x, y, layer)
        if len(a) != len(e):
            note = f"{len(a)} entries, expected {len(e)}"
            if len(a) > len(e):
                yield Departure(layer, f"{name}[{len(e)}]", a[len(e)], NOTHING, note=note)
            else:
                yield Departure(layer, f"{name}[{len(a)}]", MISSING, e[len(a)], note=note)
        return
    if isinstance(e, dict) and isinstance(a, dict):
        for k in e:
            yield from _compare_value(f"{name}.{k}", a.get(k, MISSING), e[k], layer)
        return
    both_numbers = isinstance(a, (int, float)) and isinstance(e, (int, float))
    if a != e or (type(a) is not type(e) and not both_numbers):
        yield Departure(layer, name, a, e)


def _compare_framing(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    for f in FRAMING_FIELDS:
        if f not in claimed:
            continue
        av, ev = _get(a, f), _get(e, f)
        if f == "extension_error":
            # null or not; libopus has one error ("invalid packet") and the text is not normative.
            if av is MISSING or (av is None) != (ev is None):
                note = None
                if av is None and isinstance(ev, str):
                    note = "no extension error reported: the padding is malformed, a conforming decoder reports the error"
                yield Departure(Layer.FRAMING, f, av, ev, note=note)
            continue
        if ev is MISSING:  # the expected record does not know (e.g. broken framing)
            continue
        yield from _compare_value(f, av, ev, Layer.FRAMING)


def _presence(d: Any) -> str:
    return "(missing)" if d is MISSING else ("null" if d is None else "present")


def _compare_header(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    ad, ed = _get(a, "dred"), _get(e, "dred")
    if ed is MISSING:
        return
    if not isinstance(ad, dict) or ed is None:
        if (ad is None) != (ed is None) or ad is MISSING:
            shown = {k: ed[k] for k in HEADER_FIELDS if k in ed} if isinstance(ed, dict) else ed
            yield Departure(Layer.HEADER, "dred", None if ad is None else ad, ed,
                            text=f"{_presence(ad)}, expected {'null' if ed is None else 'present ' + _show(shown)}")
        return
    for f in HEADER_FIELDS:
        if f in claimed:
            yield from _compare_value(f, _get(ad, f), _get(ed, f), Layer.HEADER)


def _dred_mismatch(layer: Layer, field_: str, ad: Any, ed: Any) -> Departure:
    if ed is None:
        return Departure(layer, field_, text="present, expected no DRED (dred null)")
    return Departure(layer, field_, text=f"missing (dred {_presence(ad)}), expected a DRED")


def _compare_latents(a: dict, e: dict, claimed: frozenset[str]) -> Iterator[Departure]:
    ad, ed = _get(a, "dred"), _get(e, "dred")
    if ed is MISSING:
        return
    a_has = isinstance(ad, dict) and any(f in ad for f in LATENT_FIELDS)
    if ed is None:
        if a_has:
            yield _dred_mismatch(Layer.LATENTS, next(f for f in LATENT_FIELDS if f in ad), ad, ed)
        return
    if not isinstance(ad, dict):
        yield _dred_mismatch(Layer.LATENTS, next(f for f in LATENT_FIELDS if f in claimed), ad, ed)
        return
    L = Layer.LATENTS
    if "state" in claimed:
        yield from _compare_value("state", _get(ad, "state"), ed["state"], L)
    lev_a, lat_a = _get(ad, "levels"), _get(ad, "latents")
    lev_e, lat_e = ed["levels"], ed["latents"]
    for f, v in (("levels", lev_a), ("latents", lat_a)):
        if f in claimed and v is MISSING:
            yield Departure(L, f, MISSING, ed[f])
            return
    n = min(len(lev_e), len(lat_e))
    if "levels" in claimed and isinstance(lev_a, list):
        n = min(n, len(lev_a))
    if "latents" in claimed and isinstance(lat_a, list):
        n = min(n, len(lat_a))
    for k in range(n):
        if "levels" in claimed:
            yield from _compare_value(f"levels[{k}]", lev_a[k], lev_e[k], L)
        if "latents" in claimed:
            yield from _compare_value(f"latents[{k}]", lat_a[k], lat_e[k], L)
    if "latent_count" in claimed:
        yield from _compare_value("latent_count", _get(ad, "latent_count"), ed["latent_count"], L)
    for f in ("levels", "latents"):
        if f in claimed:
            yield from _compare_value(f, _get(ad, f), ed[f], L)


_COMPARE = {Layer.FRAMING: _compare_framing, Layer.HEADER: _compare_header, Layer.LATENTS: _compare_latents}


def feature_rows(rows: Any) -> np.ndarray:
    """A list of rows as a (n, 20) float32 array (rows already validated to have 20 numbers)."""
    if isinstance(rows, np.ndarray):
        return rows.astype(np.float32).reshape(-1, FEATURE_DIM)
    return np.asarray(rows, dtype=np.float32).reshape(-1, FEATURE_DIM) if rows else np.zeros((0, FEATURE_DIM), np.float32)


def _compare_features(a: dict, e: dict, limits: FeatureLimits) -> tuple[Departure | None, FeatureScore | None]:
    L = Layer.FEATURES
    ad, ed = _get(a, "dred"), _get(e, "dred")
    if ed is MISSING:
        return None, None
    af = _get(ad, "features")
    ef = _get(ed, "features") if isinstance(ed, dict) else MISSING
    if ed is None:
        if af is not MISSING and af:
            return Departure(L, "features", text=f"{len(af)} rows, expected no DRED (dred null)"), None
        return None, None
    if ef is MISSING:  # the expectations carry no features for this packet
        return None, None
    if af is MISSING:
        if not isinstance(ad, dict):
            return _dred_mismatch(L, "features", ad, ed), None
        return Departure(L, "features", text=f"(missing), expected {len(ef)} rows"), None
    if len(af) != len(ef):
        return Departure(L, "features", text=f"{len(af)} rows, expected {len(ef)} (4 per latent)"), None
    for i, row in enumerate(af):
        if len(row) != FEATURE_DIM:
            return Departure(L, f"features[{i}]", text=f"{len(row)} values, expected {FEATURE_DIM}"), None
    if not ef:
        return None, None
    rows = feature_rows(af)
    bad = np.argwhere(~np.isfinite(rows))
    if len(bad):
        i, j = (int(x) for x in bad[0])
        return Departure(L, f"features[{i}][{j}]", float(rows[i, j]), float(ef[i][j]), note="not a finite number"), None
    score = score_features(feature_rows(ef), rows)
    if limits.scope == "packet" and not score.passes(limits):
        return Departure(L, "features", text=score.describe(limits)), score
    return None, score


# ---------------------------------------------------------------------------
# Per vector


@dataclass
class LayerSummary:
    """One layer of one vector."""

    verdict: Verdict
    tested: int = 0  # packets judged in this layer
    failed: int = 0  # packets failing (or in error) in this layer
    first: Departure | None = None
    skipped: list[str] = field(default_factory=list)  # fields of this layer the DUT did not output
    score: FeatureScore | None = None  # features: the metric over the whole vector
    #: Why a layer is not tested: NOT_OUTPUT or NOTHING_TO_TEST.
    reason: str | None = None

    def to_json(self) -> dict:
        return {"verdict": self.verdict.value, "tested_packets": self.tested, "failed_packets": self.failed,
                "first_departure": self.first.to_json() if self.first else None, "skipped_fields": self.skipped,
                "metric": self.score.to_json() if self.score else None, "reason": self.reason}

    @classmethod
    def from_json(cls, d: dict) -> "LayerSummary":
        return cls(Verdict(d["verdict"]), d["tested_packets"], d["failed_packets"],
                   Departure.from_json(d["first_departure"]) if d["first_departure"] else None,
                   list(d["skipped_fields"]), FeatureScore.from_json(d["metric"]) if d["metric"] else None,
                   d.get("reason"))


#: A layer is not tested because the DUT does not output it (it could have been tested).
NOT_OUTPUT = "not output by the decoder"
#: A layer is not tested because the vector has nothing for it (e.g. no DRED, or expectations without features).
NOTHING_TO_TEST = "nothing to test in this vector"


@dataclass
class VectorJudgement:
    layers: dict[Layer, LayerSummary]
    packets: list[PacketJudgement]


def judge_vector(actual: Sequence[dict], expected: Sequence[dict], limits: FeatureLimits = FeatureLimits(),
                 alternatives: Sequence[Sequence[dict]] | None = None) -> VectorJudgement:
    """Judge all packets of one vector (``actual`` already validated to have one record per expected record);
    ``alternatives``, when given, holds per packet the other records it may match (empty unless ``acceptable``)."""
    claims = Claims.of(actual)
    available = Claims.of(expected)  # what the expectations can test
    alts = list(alternatives) if alternatives is not None else []
    alts += [()] * (len(expected) - len(alts))
    packets = [judge_packet(a, e, claims, limits, alt) for a, e, alt in zip(actual, expected, alts)]
    layers: dict[Layer, LayerSummary] = {}
    for layer in LAYERS:
        skipped = [f for f in LAYER_FIELDS[layer] if f in available.fields[layer] and f not in claims.fields[layer]]
        if not claims.tested(layer):
            reason = NOT_OUTPUT if available.tested(layer) else NOTHING_TO_TEST
            layers[layer] = LayerSummary(Verdict.NOT_TESTED, skipped=skipped, reason=reason)
            continue
        tested = [p for p in packets if p.verdicts[layer] is not Verdict.NOT_TESTED]
        bad = [p for p in tested if p.verdicts[layer] in (Verdict.FAIL, Verdict.ERROR)]
        first = bad[0].departures[layer] if bad else None
        verdict = Verdict.PASS
        if bad:
            verdict = Verdict.ERROR if all(p.verdicts[layer] is Verdict.ERROR for p in bad) else Verdict.FAIL
        summary = LayerSummary(verdict, len(tested), len(bad), first, skipped)
        if layer is Layer.FEATURES:
            summary.score = _vector_score(actual, [matched_record(p, layer, e, alt) for p, e, alt in zip(packets, expected, alts)],
                                          packets)
            if summary.score is not None and not summary.score.passes(limits) and verdict is Verdict.PASS:
                summary.verdict = Verdict.FAIL
                worst = max((p for p in packets if p.score is not None), key=lambda p: _badness(p.score, limits))
                summary.first = Departure(Layer.FEATURES, "", text=summary.score.describe(limits)
                                          + f" over {summary.score.rows} rows; worst packet {worst.index}")
            elif summary.score is None and not bad:
                summary.verdict = Verdict.NOT_TESTED  # no packet had feature rows to compare
                summary.reason = NOTHING_TO_TEST
        layers[layer] = summary
    return VectorJudgement(layers, packets)


def matched_record(p: PacketJudgement, layer: Layer, expected: dict, alternatives: Sequence[dict]) -> dict:
    """The record ``p`` was judged against in ``layer``: the expected one, or the alternative it matched."""
    k = p.matched.get(layer)
    return alternatives[k - 1] if k else expected


def _badness(score: FeatureScore, limits: FeatureLimits) -> float:
    """How far past (or how close to) its thresholds a score is: the largest of value/threshold."""
    vals = [score.tot / limits.tot, score.max / limits.max, score.pitch / limits.pitch]
    return max((v if v == v else math.inf) for v in vals)


def badness(score: FeatureScore, limits: FeatureLimits) -> float:
    return _badness(score, limits)


def _vector_score(actual: Sequence[dict], expected: Sequence[dict], packets: Sequence[PacketJudgement]) -> FeatureScore | None:
    """The metric over every packet whose feature rows line up (what dred_compare sees on whole files)."""
    refs, duts = [], []
    for a, e, p in zip(actual, expected, packets):
        if p.score is None:
            continue
        refs.append(feature_rows(e["dred"]["features"]))
        duts.append(feature_rows(a["dred"]["features"]))
    if not refs:
        return None
    return score_features(np.concatenate(refs), np.concatenate(duts))


def first_departing_layer(p: PacketJudgement) -> Layer | None:
    d = p.first_departure
    return d.layer if d else None
