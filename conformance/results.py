"""What a check found, as plain data: per packet, per layer, per vector, and the run's conformance verdict.

Everything here round-trips through JSON (``to_json`` / ``from_json``), so a
report read back from ``--json`` prints as the original did.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from dredconf.conformance.audio_metric import AudioErrors, AudioThresholds
from dredconf.conformance.feature_metric import FeatureScore, number, signed
from dredconf.conformance.verdicts import BAD, LAYERS, NOTHING_TO_TEST, Departure, Layer, Verdict
from dredconf.vectors.sets import KIND_NOUNS

#: Bytes of a packet shown in full in a failure (longer ones: their first bytes and their SHA-256).
HEX_BYTES = 64


def packet_hex(data: bytes) -> dict:
    """``{"hex": ..., "bytes": n}``, plus ``"sha256"`` when the hex shows only the first 64 bytes."""
    d: dict[str, Any] = {"hex": data[:HEX_BYTES].hex(), "bytes": len(data)}
    if len(data) > HEX_BYTES:
        d["sha256"] = hashlib.sha256(data).hexdigest()
    return d


@dataclass(frozen=True)
class AudioScore:
    """libopus's audio metric (``dred_compare -audio``) over some frames, as reports keep it."""

    err4: float
    err16: float
    pitch: float  # NaN when no frame is voiced (dred_compare's rule: it fails)
    frames: int
    pitch_frames: int

    @classmethod
    def of(cls, e: AudioErrors) -> "AudioScore":
        return cls(e.err4, e.err16, e.pitch, e.frames, e.pitch_count)

    def pitch_for(self, unvoiced_ok: bool) -> float:
        """The pitch error as judged: with no voiced frame it is n/a and counts as 0 when ``unvoiced_ok`` (check's
        rule, as for features), NaN otherwise (dred_compare's: it fails)."""
        return 0.0 if unvoiced_ok and not self.pitch_frames else self.pitch

    def passes(self, th: AudioThresholds, *, unvoiced_ok: bool = True) -> bool:
        pitch = self.pitch_for(unvoiced_ok)
        return bool(self.err4 <= th.err4 and self.err16 <= th.err16 and pitch <= th.pitch)

    def badness(self, th: AudioThresholds, *, unvoiced_ok: bool = True) -> float:
        """The largest of error/limit (over 1 fails; a NaN counts as infinite)."""
        vals = (self.err4 / th.err4, self.err16 / th.err16, self.pitch_for(unvoiced_ok) / th.pitch)
        return max(v if v == v else float("inf") for v in vals)

    def describe(self, th: AudioThresholds, *, unvoiced_ok: bool = True) -> str:
        """``err4 0.0654 <= 0.25 (margin +0.1846), err16 ..., pitch ...`` (``pitch n/a`` with no voiced frame)."""
        parts = []
        for n, v, lim in (("err4", self.err4, th.err4), ("err16", self.err16, th.err16), ("pitch", self.pitch, th.pitch)):
            if n == "pitch" and unvoiced_ok and not self.pitch_frames:
                parts.append("pitch n/a (no voiced frame)")
                continue
            parts.append(f"{n} {number(v)} {'<=' if v <= lim else '>'} {lim:g} (margin {signed(lim - v)})")
        return ", ".join(parts)

    def short(self) -> str:
        """``0.0654 / 0.2045 / 0.0015`` (``n/a`` for a pitch error with no voiced frame)."""
        return " / ".join("n/a" if v != v else f"{v:.4f}" for v in (self.err4, self.err16, self.pitch))

    def to_json(self) -> dict:
        j = lambda x: x if x == x and abs(x) != float("inf") else None  # noqa: E731
        return {"err4": j(self.err4), "err16": j(self.err16), "pitch": j(self.pitch), "frames": self.frames,
                "pitch_frames": self.pitch_frames}

    @classmethod
    def from_json(cls, d: dict) -> "AudioScore":
        f = lambda x: float("nan") if x is None else float(x)  # noqa: E731
        return cls(f(d["err4"]), f(d["err16"]), f(d["pitch"]), int(d["frames"]), int(d["pitch_frames"]))


@dataclass(frozen=True)
class BurstScore:
    """One loss burst of an integration vector: its lost packets and the metric over their span (the lost
    packets and the first one received after them), next to what the arriving packet's DRED reaches."""

    first: int  # the first lost packet
    lost: int  # packets lost in a row
    start_ms: float  # the span, from the start of the stream
    stop_ms: float
    score: AudioScore
    gap_ms: float = 0.0
    #: How far back the arriving packet's DRED reaches (latents x 40 ms - dred_offset x 2.5 ms), None: no DRED.
    reach_ms: float | None = None
    #: The span's err4 and err16 as the whole stream would score if every frame were like the span's: comparable
    #: with the stream's thresholds (the metric's normaliser sums over frames, so a raw span scores higher).
    stream_equivalent: AudioScore | None = None

    @property
    def beyond_reach_ms(self) -> float:
        """Milliseconds of the gap no DRED covers."""
        return max(0.0, self.gap_ms - (self.reach_ms or 0.0))

    def to_json(self) -> dict:
        return {"first": self.first, "lost": self.lost, "start_ms": self.start_ms, "stop_ms": self.stop_ms,
                "gap_ms": self.gap_ms, "reach_ms": self.reach_ms, "metric": self.score.to_json(),
                "stream_equivalent": self.stream_equivalent.to_json() if self.stream_equivalent else None}

    @classmethod
    def from_json(cls, d: dict) -> "BurstScore":
        eq = d.get("stream_equivalent")
        return cls(d["first"], d["lost"], d["start_ms"], d["stop_ms"], AudioScore.from_json(d["metric"]),
                   d.get("gap_ms", 0.0), d.get("reach_ms"), AudioScore.from_json(eq) if eq else None)


@dataclass
class DutInfo:
    """How the decoder's invocation on one vector went."""

    argv: list[str] = field(default_factory=list)
    exit_status: int | None = None
    elapsed: float = 0.0
    stderr: str = ""
    failure_kind: str | None = None  # "launch" | "crash" | "timeout" | "output-limit" | "malformed"
    failure: str | None = None

    def to_json(self) -> dict:
        return {"argv": self.argv, "exit_status": self.exit_status, "elapsed_s": round(self.elapsed, 3),
                "stderr_tail": self.stderr, "failure_kind": self.failure_kind, "failure": self.failure}

    @classmethod
    def from_json(cls, d: dict) -> "DutInfo":
        return cls(d["argv"], d["exit_status"], d["elapsed_s"], d["stderr_tail"], d["failure_kind"], d["failure"])


@dataclass
class PacketResult:
    """One packet's (or standalone record's) verdicts per layer, and where it departs."""

    index: int
    verdicts: dict[Layer, Verdict]
    departures: dict[Layer, Departure] = field(default_factory=dict)
    score: FeatureScore | None = None
    #: The set's vector id and result class (valid, invalid, acceptable), when it gives them.
    id: str | None = None
    result: str | None = None
    #: Acceptable packets: the alternatives' labels; the layers that passed on one (layer -> 1-based number).
    alternatives: list[str] = field(default_factory=list)
    matched: dict[Layer, int] = field(default_factory=dict)
    #: Every layer passes, but on different records (no single allowed behaviour matches every layer).
    mixed: bool = False
    #: The failing packet's bytes (``packet_hex``), to reproduce it.
    data: dict | None = None
    #: Listed in ``--expect-fail``: the reason given there.
    expected_failure: str | None = None

    @property
    def ok(self) -> bool:
        return not any(v in BAD for v in self.verdicts.values())

    @property
    def first_departure(self) -> Departure | None:
        return next((self.departures[l] for l in LAYERS if l in self.departures and self.verdicts[l] in BAD), None)

    @property
    def tag(self) -> str:
        """``dred-second-same-frame, acceptable`` (id, and the result class when not valid); "" when unknown."""
        return ", ".join(x for x in (self.id, self.result if self.result not in (None, "valid") else None) if x)

    def label(self) -> str:
        return f"packet {self.index}" + (f" ({self.tag})" if self.tag else "")

    def alternative_name(self, k: int) -> str:
        text = self.alternatives[k - 1] if 0 < k <= len(self.alternatives) else ""
        return f"alternative {k}: {text}" if text else f"alternative {k}"

    @property
    def behaviour(self) -> str | None:
        """For a packet with alternatives that passes: which allowed behaviour it matched."""
        if not self.alternatives or not self.ok:
            return None
        ks = sorted(set(self.matched.values()))
        if not ks:
            return "matched expected"
        if len(ks) == 1:
            text = f"matched {self.alternative_name(ks[0])}"
        else:
            text = "matched " + "; ".join(
                f"{self.alternative_name(k)} ({', '.join(l.value for l, n in self.matched.items() if n == k)})"
                for k in ks)
        if self.mixed:
            text += " (other layers match only the expected record: no single behaviour matches every layer)"
        return text

    def to_json(self) -> dict:
        d: dict[str, Any] = {"index": self.index}
        if self.id is not None:
            d["id"] = self.id
        if self.result not in (None, "valid"):
            d["result"] = self.result
        d["layers"] = {l.value: v.value for l, v in self.verdicts.items()}
        if self.alternatives:
            d["alternatives"], d["behaviour"] = self.alternatives, self.behaviour
        if self.matched:
            d["matched"] = {l.value: k for l, k in self.matched.items()}
        if self.mixed:
            d["mixed"] = True
        if self.departures:
            d["departures"] = [self.departures[l].to_json() for l in LAYERS if l in self.departures]
        if self.score is not None:
            d["metric"] = {k: v for k, v in self.score.to_json().items() if k != "per_feature_rms"}
        if self.data is not None:
            d["packet"] = self.data
        if self.expected_failure is not None:
            d["expected_failure"] = self.expected_failure
        return d

    @classmethod
    def from_json(cls, d: dict) -> "PacketResult":
        deps = [Departure.from_json(x) for x in d.get("departures", [])]
        return cls(d["index"], {Layer(k): Verdict(v) for k, v in d["layers"].items()}, {x.layer: x for x in deps},
                   FeatureScore.from_json({**d["metric"], "per_feature_rms": []}) if "metric" in d else None,
                   d.get("id"), d.get("result", "valid" if "id" in d else None), list(d.get("alternatives", [])),
                   {Layer(k): int(v) for k, v in d.get("matched", {}).items()}, bool(d.get("mixed", False)),
                   d.get("packet"), d.get("expected_failure"))


@dataclass
class LayerSummary:
    """One layer of one vector."""

    verdict: Verdict
    tested: int = 0  # packets judged in this layer
    failed: int = 0  # packets failing (or in error) in this layer
    first: Departure | None = None
    #: Fields the profile requires here that the decoder never output: not tested, and so not conforming.
    untested: list[str] = field(default_factory=list)
    #: Fields the vector has and the decoder does not output, outside the profile (information only).
    skipped: list[str] = field(default_factory=list)
    score: FeatureScore | None = None  # features: the metric over the whole vector
    reason: str | None = None  # why not tested: NOT_OUTPUT or NOTHING_TO_TEST
    #: The profile claims this layer.
    required: bool = False
    #: Audio stages: libopus's audio metric against the expected PCM.
    audio: AudioScore | None = None

    @property
    def complete(self) -> bool:
        """Everything the profile needs of this layer was tested (or there was nothing to test)."""
        if not self.required or self.reason == NOTHING_TO_TEST:
            return True
        return self.verdict is not Verdict.NOT_TESTED and not self.untested

    def to_json(self) -> dict:
        return {"verdict": self.verdict.value, "tested_packets": self.tested, "failed_packets": self.failed,
                "first_departure": self.first.to_json() if self.first else None, "untested_fields": self.untested,
                "skipped_fields": self.skipped, "metric": self.score.to_json() if self.score else None,
                "reason": self.reason, "required": self.required,
                "audio_metric": self.audio.to_json() if self.audio else None}

    @classmethod
    def from_json(cls, d: dict) -> "LayerSummary":
        return cls(Verdict(d["verdict"]), d["tested_packets"], d["failed_packets"],
                   Departure.from_json(d["first_departure"]) if d["first_departure"] else None,
                   list(d["untested_fields"]), list(d["skipped_fields"]),
                   FeatureScore.from_json(d["metric"]) if d["metric"] else None, d.get("reason"), d["required"],
                   AudioScore.from_json(d["audio_metric"]) if d.get("audio_metric") else None)


@dataclass
class VectorResult:
    name: str
    kind: str  # "packets" | "standalone"
    input: str  # the file the decoder read
    expected_source: str
    count: int  # packets (or records)
    dut: DutInfo
    layers: dict[Layer, LayerSummary]
    packets: list[PacketResult] = field(default_factory=list)
    traces: list["FeatureTrace"] = field(default_factory=list)
    #: Packets per result class (valid, invalid, acceptable) when the set gives them.
    result_counts: dict[str, int] = field(default_factory=dict)
    #: ``--expect-fail`` lists the whole vector: the reason.
    expected_failure: str | None = None
    #: Only these packets were run (``--packet``); None: all.
    only_packet: int | None = None
    #: Integration: the metric over each loss burst's span.
    bursts: list[BurstScore] = field(default_factory=list)
    #: Vocoder: the same metric of the output against the original speech, with libopus's own verdict on it
    #: (information: libopus's generic C build itself fails it on recorded speech).
    against_original: AudioScore | None = None
    @property
    def unit(self) -> str:
        return KIND_NOUNS[self.kind][2]

    def packet(self, index: int | None) -> PacketResult | None:
        return next((p for p in self.packets if p.index == index), None)

    def stable_id(self, index: int | None = None) -> str:
        """``S1#17`` for a packet, ``S1`` for the vector: what ``--expect-fail`` lists."""
        return self.name if index is None else f"{self.name}#{index}"

    def departure_label(self, d: Departure) -> str:
        """A departure as the reports print it: ``S1#17 (id, acceptable): field = ...``."""
        if d.packet is None:
            return d.what()
        p = self.packet(d.packet)
        tag = f" ({p.tag})" if p is not None and p.tag else ""
        return f"{self.stable_id(d.packet)}{tag}: {d.what()}"

    def classes(self) -> str:
        """``21 invalid, 3 acceptable`` (the packets that are not ``valid``); "" when none or unknown."""
        return ", ".join(f"{self.result_counts[k]} {k}" for k in ("invalid", "acceptable") if self.result_counts.get(k))

    def alternative_matches(self) -> list[PacketResult]:
        return [p for p in self.packets if p.matched and p.ok]

    def failing_packets(self, layer: Layer | None = None) -> list[PacketResult]:
        return [p for p in self.packets
                if (p.verdicts.get(layer) in BAD if layer else not p.ok)]

    @property
    def failed(self) -> bool:
        """A comparison failed or the decoder gave nothing judgeable (expected failures included)."""
        return bool(self.dut.failure_kind) or any(s.verdict in BAD for s in self.layers.values())

    @property
    def complete(self) -> bool:
        return all(s.complete for s in self.layers.values())

    @property
    def tested(self) -> bool:
        return any(s.verdict is not Verdict.NOT_TESTED for s in self.layers.values())

    @property
    def verdict(self) -> Verdict:
        if self.dut.failure_kind:
            return Verdict.ERROR
        if self.failed:
            return Verdict.FAIL
        return Verdict.PASS if self.tested and self.complete else Verdict.NOT_TESTED

    def untested(self) -> list[str]:
        """``framing.extension_error`` and ``features`` style names of what the profile needed and did not get."""
        out = []
        for l, s in self.layers.items():
            if s.complete:
                continue
            out += [f"{l.value}.{f}" for f in s.untested] or [l.value]
        return out

    @property
    def first_layer(self) -> Layer | None:
        if self.dut.failure_kind:
            return None
        return next((l for l in self.layers if self.layers[l].verdict in BAD), None)

    def headline(self) -> str:
        """One line: what went wrong first, what was not tested, or "pass"."""
        if self.dut.failure_kind:
            return f"{self.dut.failure_kind}: {self.dut.failure}"
        layer = self.first_layer
        if layer is not None:
            s = self.layers[layer]
            first = self.departure_label(s.first) if s.first else s.verdict.value
            return f"{layer.value}: {first}"
        if not self.complete:
            return f"not tested: {', '.join(self.untested())} ({NOT_OUTPUT_WHY})"
        return self.verdict.value

    def to_json(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "input": self.input, "expected_source": self.expected_source,
            "count": self.count, "verdict": self.verdict.value,
            "first_departing_layer": self.first_layer.value if self.first_layer else None,
            "headline": self.headline(), "untested": self.untested(), "dut": self.dut.to_json(),
            "layers": {l.value: s.to_json() for l, s in self.layers.items()},
            "packets": [p.to_json() for p in self.packets],
            "feature_traces": [t.to_json() for t in self.traces],
            "result_counts": self.result_counts, "expected_failure": self.expected_failure,
            "only_packet": self.only_packet, "bursts": [b.to_json() for b in self.bursts],
            "against_original": self.against_original.to_json() if self.against_original else None,
        }

    @classmethod
    def from_json(cls, d: dict) -> "VectorResult":
        return cls(d["name"], d["kind"], d["input"], d["expected_source"], d["count"], DutInfo.from_json(d["dut"]),
                   {Layer(k): LayerSummary.from_json(v) for k, v in d["layers"].items()},
                   [PacketResult.from_json(p) for p in d["packets"]],
                   [FeatureTrace.from_json(t) for t in d.get("feature_traces", [])], dict(d.get("result_counts", {})),
                   d.get("expected_failure"), d.get("only_packet"), [BurstScore.from_json(b) for b in d.get("bursts", [])],
                   AudioScore.from_json(d["against_original"]) if d.get("against_original") else None)


NOT_OUTPUT_WHY = "not output by the decoder; the profile requires it"


@dataclass
class FeatureTrace:
    """Expected and decoder feature rows of one packet (kept for the worst packets, for plots)."""

    packet: int
    score: FeatureScore
    expected: list[list[float]]
    actual: list[list[float]]

    def to_json(self) -> dict:
        r = lambda rows: [[round(float(x), 6) for x in row] for row in rows]  # noqa: E731
        return {"packet": self.packet, "metric": self.score.to_json(), "expected": r(self.expected),
                "actual": r(self.actual)}

    @classmethod
    def from_json(cls, d: dict) -> "FeatureTrace":
        return cls(d["packet"], FeatureScore.from_json(d["metric"]), d["expected"], d["actual"])


__all__ = ["DutInfo", "FeatureTrace", "LayerSummary", "PacketResult", "VectorResult", "packet_hex"]
