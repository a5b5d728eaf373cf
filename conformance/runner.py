"""Runs a DUT over a vector set: one invocation per vector, serially or in ``jobs`` worker processes.

Where the set gives per-packet rules (the corpus manifest: vector id, result
class, alternatives), an ``acceptable`` packet passes a layer that matches its
expected record or any alternative, and the report names the behaviour
matched; ``invalid`` and ``valid`` packets are judged against the expected
record alone (an invalid one expects the extension error).

Each vector is independent (its own DUT process, its own temporary
directory), so a parallel run gives the same results as a serial one, in the
set's order; only the timings differ.
"""
from __future__ import annotations

import math
import multiprocessing
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from dredconf.conformance.adapters import DEFAULT_TIMEOUT, Adapter, Invocation
from dredconf.conformance.layers import (
    LAYER_FIELDS, LAYERS, FeatureLimits, Layer, LayerSummary, Verdict, badness, feature_rows, judge_vector,
    matched_record,
)
from dredconf.conformance.results import CheckReport, DutInfo, FeatureTrace, PacketRecord, VectorResult
from dredconf.conformance.vectorsets import FROM_REFERENCE, PacketRule, Vector, VectorSet


@dataclass
class CheckOptions:
    limits: FeatureLimits = field(default_factory=FeatureLimits)
    timeout: float = DEFAULT_TIMEOUT
    jobs: int = 1
    #: Model for expectations computed by the reference decoder (None: the default location rules).
    model: str | None = None
    #: Feature traces kept per vector for plots (the packets furthest from the thresholds).
    traces: int = 3

    def to_json(self) -> dict:
        d = asdict(self)
        d["limits"] = asdict(self.limits)
        return d


def reference_expectations(vector: Vector, model: str | None) -> list[dict]:
    """What the reference decoder decodes from the vector (for sets without expectations)."""
    from dredconf.reference.decoder import ReferenceDecoder

    return ReferenceDecoder(model, features=True).decode_stream(vector.read_stream())["packets"]


def _lacks_features(expected: list[dict]) -> bool:
    return any(isinstance(r.get("dred"), dict) and "features" not in r["dred"] for r in expected)


def merge_reference_features(expected: list[dict], reference: list[dict]) -> tuple[list[dict], int]:
    """Expected records with the reference decoder's features added where they had none (and the reference
    agrees on the latent count); returns the records and how many packets got features."""
    out, merged = [], 0
    for i, e in enumerate(expected):
        d = e.get("dred")
        r = reference[i].get("dred") if i < len(reference) else None
        if (isinstance(d, dict) and "features" not in d and isinstance(r, dict) and "features" in r
                and r.get("latent_count") == d.get("latent_count")):
            e = {**e, "dred": {**d, "features": r["features"]}}
            merged += 1
        out.append(e)
    return out, merged


def _error_result(vector: Vector, source: str, packet_count: int, dut: DutInfo,
                  rules: list[PacketRule] | None = None) -> VectorResult:
    layers = {l: LayerSummary(Verdict.ERROR, skipped=[]) for l in LAYERS}
    return VectorResult(vector.name, str(vector.stream), source, packet_count, dut, layers,
                        result_counts=_result_counts(rules))


def _result_counts(rules: list[PacketRule] | None) -> dict[str, int]:
    return dict(Counter(r.result for r in rules)) if rules else {}


def check_vector(adapter: Adapter, vector: Vector, options: CheckOptions) -> VectorResult:
    """Run the DUT on one vector and judge every packet. Never raises for a DUT's fault."""
    source = vector.expected_source
    try:
        expected = vector.load_expected()
        if expected is None:
            expected = reference_expectations(vector, options.model)
        rules = vector.load_rules()
        if rules is not None and len(rules) != len(expected):
            raise ValueError(f"{len(rules)} packet rules for {len(expected)} expected records")
    except Exception as e:  # noqa: BLE001 - a broken set is reported, not raised
        return _error_result(vector, source, 0, DutInfo(failure_kind="expectations", failure=f"cannot load expectations: {e}"))
    if source != FROM_REFERENCE and _lacks_features(expected):
        # The set has the integers but no features: the feature layer is judged against the reference decoder.
        try:
            expected, merged = merge_reference_features(expected, reference_expectations(vector, options.model))
            if merged:
                source += f"; features: {FROM_REFERENCE}"
        except Exception as e:  # noqa: BLE001 - then the feature layer is simply not tested
            source += f"; features: none ({FROM_REFERENCE} unavailable: {e})"
    with tempfile.TemporaryDirectory(prefix=f"dredconf-check-{vector.name}-") as wd:
        run = adapter.run(Invocation(vector, len(expected), expected, Path(wd), options.timeout))
    dut = DutInfo(run.argv, run.exit_status, run.elapsed, run.stderr,
                  run.failure.kind if run.failure else None, run.failure.message if run.failure else None)
    if run.failure is not None or run.records is None:
        return _error_result(vector, source, len(expected), dut, rules)
    alternatives = [[a.record for a in r.alternatives] for r in rules] if rules else None
    judged = judge_vector(run.records, expected, options.limits, alternatives)
    if rules:
        packets = [PacketRecord.of(p, r.id, r.result, [a.label for a in r.alternatives]) for p, r in zip(judged.packets, rules)]
    else:
        packets = [PacketRecord.of(p) for p in judged.packets]
    traces = []
    if options.traces and judged.layers[Layer.FEATURES].verdict is not Verdict.NOT_TESTED:
        scored = [p for p in judged.packets if p.score is not None and p.score.rows]
        scored.sort(key=lambda p: (-_finite(badness(p.score, options.limits)), p.index))
        for p in scored[: options.traces]:
            ref = matched_record(p, Layer.FEATURES, expected[p.index], alternatives[p.index] if alternatives else ())
            traces.append(FeatureTrace(p.index, p.score, feature_rows(ref["dred"]["features"]).tolist(),
                                       feature_rows(run.records[p.index]["dred"]["features"]).tolist()))
    return VectorResult(vector.name, str(vector.stream), source, len(expected), dut, judged.layers, packets, traces,
                        _result_counts(rules))


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 1e300


def run_check(adapter: Adapter, vset: VectorSet, options: CheckOptions,
              on_result: Callable[[VectorResult], None] | None = None) -> CheckReport:
    """Check every vector of ``vset``; ``on_result`` is called as each vector finishes (in completion order)."""
    from dredconf import __version__

    start = time.monotonic()
    report = CheckReport(adapter.describe(), str(vset.root), vset.kind, options.to_json(),
                         started=datetime.now(timezone.utc).isoformat(timespec="seconds"), version=__version__)
    vectors = list(vset.vectors)
    results: list[VectorResult | None] = [None] * len(vectors)
    if options.jobs <= 1 or len(vectors) <= 1:
        for i, v in enumerate(vectors):
            results[i] = check_vector(adapter, v, options)
            if on_result:
                on_result(results[i])
    else:
        # spawn: the parent may run threads (the progress bar); forking those is unsafe.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(options.jobs, len(vectors)), mp_context=ctx) as pool:
            futures = {pool.submit(check_vector, adapter, v, options): i for i, v in enumerate(vectors)}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if on_result:
                    on_result(results[i])
    report.results = [r for r in results if r is not None]
    report.elapsed = time.monotonic() - start
    return report


def skipped_summary(result: VectorResult) -> dict[str, list[str]]:
    """Layer → fields the DUT did not output (what it was not tested on)."""
    return {l.value: s.skipped for l, s in result.layers.items() if s.skipped and s.verdict is not Verdict.ERROR}


__all__ = ["CheckOptions", "check_vector", "run_check", "reference_expectations", "FROM_REFERENCE", "LAYER_FIELDS"]
