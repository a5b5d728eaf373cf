"""What a check found: per vector, per layer, per packet; and the whole run. Plain data, JSON both ways."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dredconf.conformance.layers import LAYERS, Departure, FeatureScore, Layer, LayerSummary, PacketJudgement, Verdict


@dataclass
class DutInfo:
    """How the DUT's invocation on one vector went."""

    argv: list[str] = field(default_factory=list)
    exit_status: int | None = None
    elapsed: float = 0.0
    stderr: str = ""
    failure_kind: str | None = None  # "launch" | "crash" | "timeout" | "malformed" | "expectations"
    failure: str | None = None

    def to_json(self) -> dict:
        return {"argv": self.argv, "exit_status": self.exit_status, "elapsed_s": round(self.elapsed, 3),
                "stderr_tail": self.stderr, "failure_kind": self.failure_kind, "failure": self.failure}

    @classmethod
    def from_json(cls, d: dict) -> "DutInfo":
        return cls(d["argv"], d["exit_status"], d["elapsed_s"], d["stderr_tail"], d["failure_kind"], d["failure"])


@dataclass
class FeatureTrace:
    """Expected and DUT feature rows of one packet (kept for the worst packets, for plots)."""

    packet: int
    score: FeatureScore
    expected: list[list[float]]
    actual: list[list[float]]

    def to_json(self) -> dict:
        r = lambda rows: [[round(float(x), 6) for x in row] for row in rows]  # noqa: E731
        return {"packet": self.packet, "metric": self.score.to_json(), "expected": r(self.expected), "actual": r(self.actual)}

    @classmethod
    def from_json(cls, d: dict) -> "FeatureTrace":
        return cls(d["packet"], FeatureScore.from_json(d["metric"]), d["expected"], d["actual"])


@dataclass
class PacketRecord:
    """One packet's verdicts, compactly: what the reports list."""

    index: int
    verdicts: dict[Layer, Verdict]
    departures: list[Departure] = field(default_factory=list)
    score: FeatureScore | None = None
    #: The set's vector id for this packet and its result class (valid, invalid, acceptable), when the set has them.
    id: str | None = None
    result: str | None = None
    #: Acceptable packets: the alternatives' labels (``behaviour`` in the manifest; "" when unlabelled).
    alternatives: list[str] = field(default_factory=list)
    #: Layers that pass by matching an alternative: layer -> alternative number (1-based).
    matched: dict[Layer, int] = field(default_factory=dict)
    #: Every layer passes, but on different records (no single behaviour matches every layer).
    mixed: bool = False

    @classmethod
    def of(cls, p: PacketJudgement, id: str | None = None, result: str | None = None,
           alternatives: list[str] | None = None) -> "PacketRecord":
        return cls(p.index, dict(p.verdicts), [p.departures[l] for l in LAYERS if l in p.departures], p.score,
                   id, result, list(alternatives or []), dict(p.matched), p.mixed)

    @property
    def tag(self) -> str:
        """``dred-second-same-frame, acceptable`` (id, and the result class when not valid); "" when unknown."""
        return ", ".join(x for x in (self.id, self.result if self.result not in (None, "valid") else None) if x)

    def label(self) -> str:
        """``packet 3 (dred-second-same-frame, acceptable)``"""
        return f"packet {self.index}" + (f" ({self.tag})" if self.tag else "")

    def alternative_name(self, k: int) -> str:
        """``alternative 1: the packet's DRED is ignored ...`` (its label when it has one, else its number)."""
        text = self.alternatives[k - 1] if 0 < k <= len(self.alternatives) else ""
        return f"alternative {k}: {text}" if text else f"alternative {k}"

    @property
    def behaviour(self) -> str | None:
        """For a packet with alternatives that passes: which allowed behaviour it matched
        (``matched alternative 1: ignores both DREDs``, ``matched expected``); None otherwise."""
        if not self.alternatives or not self.ok:
            return None
        ks = sorted(set(self.matched.values()))
        if not ks:
            return "matched expected"
        if len(ks) == 1:
            text = f"matched {self.alternative_name(ks[0])}"
        else:
            text = "matched " + "; ".join(
                f"{self.alternative_name(k)} ({', '.join(l.value for l, n in self.matched.items() if n == k)})" for k in ks)
        if self.mixed:
            text += " (other layers match only the expected record: no single behaviour matches every layer)"
        return text

    @property
    def first_departure(self) -> Departure | None:
        return self.departures[0] if self.departures else None

    @property
    def ok(self) -> bool:
        return all(v in (Verdict.PASS, Verdict.NOT_TESTED) for v in self.verdicts.values())

    def to_json(self) -> dict:
        d: dict[str, Any] = {"index": self.index}
        if self.id is not None:
            d["id"] = self.id
        if self.result not in (None, "valid"):
            d["result"] = self.result
        d["layers"] = {l.value: v.value for l, v in self.verdicts.items()}
        if self.alternatives:
            d["alternatives"] = self.alternatives
            d["behaviour"] = self.behaviour
        if self.matched:
            d["matched"] = {l.value: k for l, k in self.matched.items()}
        if self.mixed:
            d["mixed"] = True
        if self.departures:
            d["departures"] = [x.to_json() for x in self.departures]
        if self.score is not None:
            d["metric"] = {k: v for k, v in self.score.to_json().items() if k != "per_feature_rms"}
        return d

    @classmethod
    def from_json(cls, d: dict) -> "PacketRecord":
        score = FeatureScore.from_json(d["metric"]) if "metric" in d else None
        return cls(d["index"], {Layer(k): Verdict(v) for k, v in d["layers"].items()},
                   [Departure.from_json(x) for x in d.get("departures", [])], score, d.get("id"),
                   d.get("result", "valid" if "id" in d else None),
                   list(d.get("alternatives", [])), {Layer(k): int(v) for k, v in d.get("matched", {}).items()},
                   bool(d.get("mixed", False)))


@dataclass
class VectorResult:
    name: str
    stream: str
    expected_source: str
    packet_count: int
    dut: DutInfo
    layers: dict[Layer, LayerSummary]
    packets: list[PacketRecord] = field(default_factory=list)
    traces: list[FeatureTrace] = field(default_factory=list)
    #: Packets per result class (valid, invalid, acceptable) when the set gives them; empty otherwise.
    result_counts: dict[str, int] = field(default_factory=dict)

    def packet(self, index: int | None) -> PacketRecord | None:
        if index is not None and 0 <= index < len(self.packets) and self.packets[index].index == index:
            return self.packets[index]
        return next((p for p in self.packets if p.index == index), None)

    def departure_label(self, d: Departure) -> str:
        """A departure as the reports print it: ``packet 3 (dred-..., acceptable): field = ...``."""
        p = self.packet(d.packet)
        return f"{p.label()}: {d.what()}" if p is not None and p.tag else str(d)

    def classes(self) -> str:
        """``21 invalid, 3 acceptable`` (the packets that are not ``valid``); "" when none or unknown."""
        return ", ".join(f"{self.result_counts[k]} {k}" for k in ("invalid", "acceptable") if self.result_counts.get(k))

    def alternative_matches(self) -> list[PacketRecord]:
        """Acceptable packets that pass by matching an alternative rather than the expected record."""
        return [p for p in self.packets if p.matched and p.ok]

    @property
    def verdict(self) -> Verdict:
        if self.dut.failure_kind:
            return Verdict.ERROR
        vs = [s.verdict for s in self.layers.values()]
        if Verdict.ERROR in vs or Verdict.FAIL in vs:
            return Verdict.FAIL
        if Verdict.PASS in vs:
            return Verdict.PASS
        return Verdict.NOT_TESTED

    @property
    def first_layer(self) -> Layer | None:
        """The earliest layer that departs (None when nothing departs, or the DUT gave nothing to judge)."""
        if self.dut.failure_kind:
            return None
        for layer in LAYERS:
            if self.layers[layer].verdict in (Verdict.FAIL, Verdict.ERROR):
                return layer
        return None

    @property
    def first_departure(self) -> Departure | None:
        layer = self.first_layer
        return self.layers[layer].first if layer else None

    def headline(self) -> str:
        """One line: what went wrong first (or "pass")."""
        if self.dut.failure_kind:
            return f"{self.dut.failure_kind}: {self.dut.failure}"
        d = self.first_departure
        if d is not None:
            return f"{d.layer.value}: {self.departure_label(d)}"
        return self.verdict.value

    def to_json(self) -> dict:
        return {
            "name": self.name, "stream": self.stream, "expected_source": self.expected_source,
            "packet_count": self.packet_count, "verdict": self.verdict.value,
            "first_departing_layer": self.first_layer.value if self.first_layer else None,
            "headline": self.headline(), "dut": self.dut.to_json(),
            "layers": {l.value: s.to_json() for l, s in self.layers.items()},
            "packets": [p.to_json() for p in self.packets],
            "feature_traces": [t.to_json() for t in self.traces],
            "result_counts": self.result_counts,
        }

    @classmethod
    def from_json(cls, d: dict) -> "VectorResult":
        return cls(d["name"], d["stream"], d["expected_source"], d["packet_count"], DutInfo.from_json(d["dut"]),
                   {Layer(k): LayerSummary.from_json(v) for k, v in d["layers"].items()},
                   [PacketRecord.from_json(p) for p in d["packets"]],
                   [FeatureTrace.from_json(t) for t in d.get("feature_traces", [])], dict(d.get("result_counts", {})))


@dataclass
class CheckReport:
    decoder: str
    vectors: str
    vector_set_kind: str
    options: dict
    results: list[VectorResult] = field(default_factory=list)
    elapsed: float = 0.0
    started: str = ""
    version: str = ""

    @property
    def ok(self) -> bool:
        """Everything tested passed (and something was tested)."""
        return self.tested_anything and all(r.verdict in (Verdict.PASS, Verdict.NOT_TESTED) for r in self.results)

    @property
    def tested_anything(self) -> bool:
        return any(r.verdict is not Verdict.NOT_TESTED for r in self.results)

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for r in self.results:
            out[r.verdict.value] += 1
        return out

    def to_json(self) -> dict:
        return {
            "tool": "dredconf check", "version": self.version, "started": self.started,
            "elapsed_s": round(self.elapsed, 3), "decoder": self.decoder, "vectors": self.vectors,
            "vector_set_kind": self.vector_set_kind, "options": self.options,
            "verdict": "pass" if self.ok else "fail", "exit_status": self.exit_status, "counts": self.counts(),
            "results": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_json(cls, d: dict) -> "CheckReport":
        return cls(d["decoder"], d["vectors"], d["vector_set_kind"], d["options"],
                   [VectorResult.from_json(r) for r in d["results"]], d["elapsed_s"], d["started"], d["version"])
