"""Runs a decoder over a vector set: one invocation per vector, serially or in ``jobs`` worker processes.

The set was validated before (:func:`dredconf.vectors.sets.load_vector_set`);
here each vector's expectations are taken (from the set, else the reference
decoder), the decoder is run on it (:mod:`.adapters`), every packet is judged
(:mod:`.judge`), and the result carries what an implementer needs to
reproduce a failure: the packet's stable id and bytes. Each vector is
independent (its own process, its own temporary directory), so a parallel run
gives the same results as a serial one, in the set's order.
"""
from __future__ import annotations

import multiprocessing
import platform
import socket
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from dredconf.conformance.adapters import Adapter, Invocation
from dredconf.conformance.audio_metric import AudioThresholds
from dredconf.conformance.audio_stage import RATE_PER_MS, against_original, burst_scores, judge_audio, pcm
from dredconf.conformance.expect_fail import ExpectedFailures
from dredconf.conformance.feature_metric import as_rows
from dredconf.conformance.judge import Rules, judge_vector, matched_record, standalone_records, worst_packets
from dredconf.conformance.process import DEFAULT_TIMEOUT
from dredconf.conformance.profile import Profile
from dredconf.conformance.results import DutInfo, FeatureTrace, LayerSummary, PacketResult, VectorResult, packet_hex
from dredconf.conformance.run_report import CheckReport
from dredconf.conformance.verdicts import LAYERS, Layer, Verdict
from dredconf.spec import write_stream
from dredconf.spec.record import NUM_FEATURES
from dredconf.vectors.sets import (
    FROM_REFERENCE, INTEGRATION, PACKETS, STANDALONE, VOCODER, Vector, VectorSet, packet_bytes, packet_samples, standalone_row_counts, validate_vector,
)
from dredconf.vectors.setfiles import VectorSetError, read_loss, read_pcm


@dataclass
class CheckOptions:
    profile: Profile = field(default_factory=Profile)
    rules: Rules = field(default_factory=Rules)
    #: The audio stages' thresholds (libopus's dred_compare -audio: 0.25, 1.0, 0.15).
    audio: AudioThresholds = field(default_factory=AudioThresholds)
    timeout: float = DEFAULT_TIMEOUT
    jobs: int = 1
    #: Model for expectations the reference decoder computes (None: the default location rules).
    model: str | None = None
    #: Feature traces kept per vector for plots (the packets furthest towards the thresholds).
    traces: int = 1
    #: Run only this packet (or record) of each vector (``--packet``).
    packet: int | None = None

    def to_json(self) -> dict:
        return {"profile": str(self.profile), "thresholds": asdict(self.rules.thresholds),
                "feature_scope": self.rules.scope, "audio_thresholds": asdict(self.audio), "timeout": self.timeout,
                "jobs": self.jobs, "model": self.model, "packet": self.packet}


# ------------------------------------------------------------------------------------------------ expectations


def reference_records(vector: Vector, model: str | None) -> list[dict]:
    """What the reference decoder decodes from a stream (for vectors without expectations, or without features)."""
    from dredconf.reference.decoder import ReferenceDecoder

    return ReferenceDecoder(model, features=True).decode_stream(vector.read_input())["packets"]


def _with_reference_features(expected: list[dict], reference: list[dict]) -> list[dict]:
    """Expected records with the reference's features added where they have none (and the latent counts agree)."""
    out = []
    for e, r in zip(expected, reference):
        d, rd = e.get("dred"), r.get("dred")
        if (isinstance(d, dict) and "features" not in d and isinstance(rd, dict) and "features" in rd
                and rd["latent_count"] == d["latent_count"]):
            e = {**e, "dred": {**d, "features": rd["features"]}}
        out.append(e)
    return out


def _lacks_features(found: list[dict]) -> bool:
    """Expected records with DRED whose features the set does not give (the reference computes them)."""
    return any(isinstance(r["dred"], dict) and "features" not in r["dred"] for r in found)


def expectations(vector: Vector, model: str | None) -> tuple[list[dict], str]:
    """The expected records of a vector and where they come from (standalone: one record per standalone record)."""
    found = validate_vector(vector)
    if vector.kind == STANDALONE:
        counts = standalone_row_counts(packet_bytes(vector))
        return standalone_records(np.frombuffer(found, dtype="<f4").reshape(-1, NUM_FEATURES), counts), vector.source
    if found is None:
        return reference_records(vector, model), FROM_REFERENCE
    if _lacks_features(found):
        return _with_reference_features(found, reference_records(vector, model)), \
            f"{vector.source}; features: {FROM_REFERENCE}"
    return found, vector.source


# ------------------------------------------------------------------------------------------------ one vector


def _input_for(vector: Vector, units: list[bytes], only: int | None, workdir: Path) -> Path:
    """The file the decoder reads: the vector's own, or one holding only packet ``only``."""
    if only is None:
        return vector.input
    path = workdir / f"{vector.name}-{only}{vector.input.suffix}"
    path.write_bytes(units[only] if vector.kind == STANDALONE else write_stream([units[only]]))
    return path


def _error_result(vector: Vector, source: str, count: int, dut: DutInfo, profile: Profile) -> VectorResult:
    layers = {l: LayerSummary(Verdict.ERROR, required=profile.claims(l)) for l in _layers_of(vector)}
    return VectorResult(vector.name, vector.kind, str(vector.input), source, count, dut, layers)


def _layers_of(vector: Vector) -> tuple[Layer, ...]:
    return {VOCODER: (Layer.VOCODER,), INTEGRATION: (Layer.INTEGRATION,)}.get(vector.kind, LAYERS)


def _dut_info(run) -> DutInfo:
    return DutInfo(run.argv, run.exit_status, run.elapsed, run.stderr,
                   run.failure.kind if run.failure else None, run.failure.message if run.failure else None)


def check_audio_vector(adapter: Adapter, vector: Vector, options: CheckOptions) -> VectorResult:
    """A vocoder or integration vector: the decoder's PCM against libopus's, with the audio metric."""
    expected = pcm(validate_vector(vector))
    units = packet_bytes(vector)
    with tempfile.TemporaryDirectory(prefix=f"dredconf-check-{vector.name}-") as wd:
        inv = Invocation(vector, vector.input, len(units), [], Path(wd), options.timeout, samples=len(expected),
                         loss=vector.loss)
        run = adapter.run(inv)
    dut = _dut_info(run)
    if run.failure is not None or run.pcm is None:
        return _error_result(vector, vector.source, len(units), dut, options.profile)
    layer = _layers_of(vector)[0]
    actual = pcm(run.pcm)
    summary, frames = judge_audio(layer, actual, expected, options.audio)
    result = VectorResult(vector.name, vector.kind, str(vector.input), vector.source, len(units), dut,
                          {layer: summary}, result_counts={r.result: 1 for r in vector.rules})
    if vector.kind == VOCODER and vector.original is not None:
        result.against_original = against_original(actual, pcm(read_pcm(vector.original)))
    if vector.kind == INTEGRATION:
        durations = [d / RATE_PER_MS for d in packet_samples(units)]
        result.bursts = burst_scores(frames, durations, loss_bursts(vector, units, durations, options.model))
    return result


def loss_bursts(vector: Vector, units: list[bytes], durations_ms: list[float], model: str | None) -> list:
    """The vector's loss bursts with what each arriving packet's DRED reaches (no reach without a model)."""
    from dredconf.reference.decoder import ReferenceDecoder
    from dredconf.reference.loss import dred_reach
    from dredconf.errors import ModelError

    loss = read_loss(vector.loss, len(units))
    try:
        dec = ReferenceDecoder(model)
    except ModelError:
        return dred_reach(durations_ms, loss, [None] * len(units))
    dred = []
    for i, packet in enumerate(units):
        p = dec.decode_packet(packet, i).payload
        dred.append((p.dred_offset, p.latent_count) if p is not None else None)
    return dred_reach(durations_ms, loss, dred)


def check_vector(adapter: Adapter, vector: Vector, options: CheckOptions) -> VectorResult:
    """Run the decoder on one vector and judge every packet. Never raises for a decoder's fault."""
    if vector.kind in (VOCODER, INTEGRATION):
        return check_audio_vector(adapter, vector, options)
    expected, source = expectations(vector, options.model)
    units = packet_bytes(vector)
    only = options.packet
    picked = range(len(expected)) if only is None else [only]
    rules = list(vector.rules) or [None] * len(expected)
    with tempfile.TemporaryDirectory(prefix=f"dredconf-check-{vector.name}-") as wd:
        workdir = Path(wd)
        inv = Invocation(vector, _input_for(vector, units, only, workdir), len(picked),
                         [dict(expected[i], index=k) for k, i in enumerate(picked)], workdir, options.timeout,
                         row_counts=[len(expected[i]["dred"]["features"]) for i in picked]
                         if vector.kind == STANDALONE else [])
        run = adapter.run(inv)
    dut = _dut_info(run)
    if run.failure is not None or run.records is None:
        return _error_result(vector, source, len(picked), dut, options.profile)
    mine = [expected[i] for i in picked]
    alternatives = [[a.record for a in rules[i].alternatives] if rules[i] else [] for i in picked]
    layers, packets = judge_vector(run.records, mine, options.profile, options.rules, alternatives)
    for p, i in zip(packets, picked):
        _describe(p, i, rules[i], units[i])
    result = VectorResult(vector.name, vector.kind, str(vector.input), source, len(picked), dut, layers, packets,
                          result_counts=dict(Counter(rules[i].result for i in picked)) if rules[0] else {},
                          only_packet=only)
    if layers[Layer.FEATURES].verdict is not Verdict.NOT_TESTED:
        for p in worst_packets(packets, options.rules, options.traces):
            k = packets.index(p)
            ref = matched_record(p, Layer.FEATURES, mine[k], alternatives[k])
            result.traces.append(FeatureTrace(p.index, p.score, as_rows(ref["dred"]["features"]).tolist(),
                                              as_rows(run.records[k]["dred"]["features"]).tolist()))
    return result


def _describe(p: PacketResult, index: int, rule, data: bytes) -> None:
    """Puts the packet's own index, the set's id and class, and (when it fails) its bytes on a judged packet."""
    for d in p.departures.values():
        d.packet = index
    p.index = index
    if rule is not None:
        p.id, p.result, p.alternatives = rule.id, rule.result, [a.label for a in rule.alternatives]
    if not p.ok:
        p.data = packet_hex(data)


# ------------------------------------------------------------------------------------------------ the run


def _needs_reference(v: Vector) -> bool:
    """A packet vector whose expectations (or their features) come from the reference decoder."""
    if v.kind != PACKETS:
        return False
    found = validate_vector(v)
    return found is None or _lacks_features(found)


def plan(adapter: Adapter, vset: VectorSet, options: CheckOptions) -> list[Vector]:
    """The vectors to run: those with a layer the profile claims; a usage error when the decoder cannot take them
    or ``--packet`` is out of range."""
    vectors = [v for v in vset.vectors if options.profile.covers(v.layers)]
    if not vectors:
        kinds = ", ".join(sorted({v.kind for v in vset.vectors}))
        raise VectorSetError(f"{vset.root}: no vector here tests the profile {options.profile} (the set has {kinds} "
                             f"vectors)", rule="set-profile")
    adapter.check_kinds({v.kind for v in vectors})
    if any(_needs_reference(v) for v in vectors):
        from dredconf.reference.model import load_model

        load_model(options.model, parts=("stats", "decoder"))  # a ModelError here is the reason, before any run
    if options.packet is not None:
        if any(v.kind in (VOCODER, INTEGRATION) for v in vectors):
            raise VectorSetError("--packet reruns one packet of a stream or one standalone record; vocoder and "
                                 "integration vectors are judged whole", rule="set-no-such-packet")
        for v in vectors:
            n = len(packet_bytes(v))
            if not 0 <= options.packet < n:
                raise VectorSetError(f"--packet {options.packet}: {v.name} has {n} packets (0..{n - 1})",
                                     rule="set-no-such-packet")
    return vectors


def environment(adapter: Adapter, options: CheckOptions) -> dict:
    """What produced the verdict: dredconf, the host, the model's hashes when the reference was involved."""
    from dredconf import __version__

    env = {"dredconf": __version__, "host": socket.gethostname(), "platform": platform.platform(),
           "python": platform.python_version()}
    try:
        from dredconf.reference.model import load_model

        m = load_model(options.model, parts=())
        env["model"] = {"path": str(m.path), "model_id": m.model_id, "files": m.files}
    except Exception as e:  # noqa: BLE001 - the model is optional for decoders judged against a set's truth
        env["model"] = f"not loaded: {e}"
    return env


def apply_expected_failures(report: CheckReport, known: ExpectedFailures) -> None:
    """Marks listed failures as expected, and lists the ids that did not fail."""
    listed = set(known.reasons)
    failing: set[str] = set()
    for r in report.results:
        if r.failed:
            failing.add(r.name)
            r.expected_failure = known.reason(r.name)
        for p in r.failing_packets():
            failing.add(r.stable_id(p.index))
            p.expected_failure = known.reason(r.name, p.index)
    report.expect_fail = known.path
    report.expect_fail_passing = sorted(listed - failing)


def run_check(adapter: Adapter, vset: VectorSet, options: CheckOptions,
              on_result: Callable[[VectorResult], None] | None = None, *, allow_not_tested: bool = False,
              expected_failures: ExpectedFailures | None = None) -> CheckReport:
    """Check every planned vector of ``vset``; ``on_result`` is called as each finishes (in completion order)."""
    vectors = plan(adapter, vset, options)
    start = time.monotonic()
    report = CheckReport(adapter.describe(), str(vset.root), vset.layout, str(options.profile), options.to_json(),
                         started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         environment=environment(adapter, options), allow_not_tested=allow_not_tested)
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
    if expected_failures is not None:
        apply_expected_failures(report, expected_failures)
    report.elapsed = time.monotonic() - start
    return report


__all__ = ["CheckOptions", "check_vector", "expectations", "plan", "reference_records", "run_check"]
