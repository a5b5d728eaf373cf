"""A whole ``dredconf check`` run and its conformance verdict: which vectors fail, which were not fully tested,
what ``--expect-fail`` accounts for, and the verdict line the terminal report ends with."""
from __future__ import annotations

from dataclasses import dataclass, field

from dredconf.conformance.results import NOT_OUTPUT_WHY, VectorResult
from dredconf.conformance.verdicts import BAD, Verdict
from dredconf.vectors.sets import KINDS, counted


def beyond_allowance(r: VectorResult) -> bool:
    """An ``acceptable`` audio vector that failed: libopus's own builds differ beyond the allowance on it, so its
    verdict is reported and does not decide conformance (vectors/vocoder.py)."""
    return r.failed and not r.dut.failure_kind and r.kind in ("vocoder", "integration") \
        and bool(r.result_counts.get("acceptable"))


def _accounted(r: VectorResult) -> bool:
    """``--expect-fail`` lists the vector, or every failing packet of every failing layer (a decoder failure or a
    vector-wide metric failure can only be listed by the vector)."""
    if r.expected_failure is not None:
        return True
    if r.dut.failure_kind:
        return False
    for s_layer, s in r.layers.items():
        if s.verdict in BAD:
            bad = r.failing_packets(s_layer)
            if not bad or any(p.expected_failure is None for p in bad) or len(bad) < s.failed:
                return False
    return True


@dataclass
class CheckReport:
    """A whole ``dredconf check`` run and its conformance verdict."""

    decoder: str
    vectors: str
    layout: str
    profile: str
    options: dict
    results: list[VectorResult] = field(default_factory=list)
    elapsed: float = 0.0
    started: str = ""
    #: dredconf version, host, platform, model hashes, arithmetic self-check: what produced the verdict.
    environment: dict = field(default_factory=dict)
    allow_not_tested: bool = False
    #: ``--expect-fail FILE``: its path, and the ids it lists that did not fail (now passing, or not run).
    expect_fail: str | None = None
    expect_fail_passing: list[str] = field(default_factory=list)

    def unresolved(self) -> list[VectorResult]:
        """Vectors that failed where ``--expect-fail`` does not account for every failure (acceptable audio vectors
        beyond the allowance are reported, not counted)."""
        return [r for r in self.results if r.failed and not _accounted(r) and not beyond_allowance(r)]

    def beyond(self) -> list[VectorResult]:
        return [r for r in self.results if beyond_allowance(r)]

    def incomplete(self) -> list[VectorResult]:
        return [r for r in self.results if not r.failed and not r.complete]

    @property
    def tested_anything(self) -> bool:
        return any(r.tested or r.failed for r in self.results)

    @property
    def conforms(self) -> bool:
        return (self.tested_anything and not self.unresolved()
                and not any(r.failed and not beyond_allowance(r) for r in self.results)
                and (self.allow_not_tested or not self.incomplete()))

    @property
    def exit_status(self) -> int:
        ok = self.tested_anything and not self.unresolved() and (self.allow_not_tested or not self.incomplete())
        return 0 if ok else 1

    def scope(self) -> str:
        """``4 streams (1,241 packets)``, ``1 record file (174 records)``."""
        parts = []
        for kind in KINDS:
            rs = [r for r in self.results if r.kind == kind]
            if rs:
                parts.append(f"{counted(len(rs), kind)} ({counted(sum(r.count for r in rs), kind, units=True)})")
        return ", ".join(parts) or "no vectors"

    def verdict_line(self) -> str:
        """The last line of the terminal report."""
        unresolved, incomplete, beyond = self.unresolved(), self.incomplete(), self.beyond()
        expected = [r for r in self.results if r.failed and r not in unresolved and r not in beyond]
        if not self.tested_anything:
            return f"DOES NOT CONFORM to profile {self.profile}: nothing was tested on {self.scope()}"
        if not unresolved and (self.allow_not_tested or not incomplete):
            if expected:
                return (f"KNOWN FAILURES ONLY: does not conform to profile {self.profile}; every failure "
                        f"({', '.join(r.name for r in expected)}) is listed in {self.expect_fail}")
            line = f"CONFORMS to profile {self.profile} on {self.scope()}"
            if incomplete:
                names = sorted({u for r in incomplete for u in r.untested()})
                line += f"; NOT TESTED, allowed by --allow-not-tested: {', '.join(names)}"
            if beyond:
                line += (f"; {len(beyond)} acceptable item{'s' if len(beyond) > 1 else ''} beyond the allowance, "
                         f"reported ({', '.join(r.name for r in beyond)})")
            return line
        why = []
        if unresolved:
            why.append(f"{len(unresolved)} of {len(self.results)} vectors fail ("
                       + "; ".join(f"{r.name}: {r.headline()}" for r in unresolved[:3])
                       + ("; …" if len(unresolved) > 3 else "") + ")")
        if incomplete and not self.allow_not_tested:
            why.append(f"{len(incomplete)} not fully tested ("
                       + "; ".join(f"{r.name}: {', '.join(r.untested())}" for r in incomplete[:3])
                       + ("; …" if len(incomplete) > 3 else "") + f": {NOT_OUTPUT_WHY})")
        return f"DOES NOT CONFORM to profile {self.profile}: " + ", ".join(why)

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for r in self.results:
            out[r.verdict.value] += 1
        return out

    def to_json(self) -> dict:
        return {
            "tool": "dredconf check", "started": self.started, "elapsed_s": round(self.elapsed, 3),
            "decoder": self.decoder, "vectors": self.vectors, "layout": self.layout, "profile": self.profile,
            "options": self.options, "environment": self.environment, "allow_not_tested": self.allow_not_tested,
            "expect_fail": self.expect_fail, "expect_fail_passing": self.expect_fail_passing,
            "conforms": self.conforms, "verdict": self.verdict_line(),
            "beyond_allowance": [r.name for r in self.beyond()], "exit_status": self.exit_status,
            "counts": self.counts(), "results": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_json(cls, d: dict) -> "CheckReport":
        return cls(d["decoder"], d["vectors"], d["layout"], d["profile"], d["options"],
                   [VectorResult.from_json(r) for r in d["results"]], d["elapsed_s"], d["started"],
                   d.get("environment", {}), d.get("allow_not_tested", False), d.get("expect_fail"),
                   list(d.get("expect_fail_passing", [])))
