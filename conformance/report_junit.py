"""``--junit FILE``: JUnit XML, one testcase per vector and layer, for CI dashboards.

``<testcase classname="dredconf.VECTOR" name="VECTOR.LAYER">`` per vector and
layer: a ``<failure>`` whose message is the first departure with its stable id
(``S1#17: latents[3][12] = -2, expected -3``) and whose text lists the failing
packets with their bytes and the commands that reproduce them; an ``<error>``
when the decoder crashed, hung or wrote malformed output; a ``<failure
type="untested">`` when the profile requires the layer and the decoder does not
output it; a ``<skipped>`` for a layer outside the profile the decoder does not
output, or that the vector has nothing for. A failure listed in
``--expect-fail`` is a ``<skipped>`` naming its reason.
"""
from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

from dredconf.conformance.report_terminal import reproduce
from dredconf.conformance.results import VectorResult
from dredconf.conformance.run_report import CheckReport
from dredconf.conformance.verdicts import BAD, LAYERS, NOT_OUTPUT, Layer, Verdict

LISTED_PACKETS = 50
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters (a decoder's stderr may hold any byte)."""
    return _ILLEGAL.sub("\ufffd", text)


def _failure_text(report: CheckReport, r: VectorResult, layer: Layer) -> str:
    s = r.layers[layer]
    lines = [f"{s.failed} of {s.tested} {r.unit}s depart in the {layer.value} layer (expected: {r.expected_source})"
             if s.failed else f"the {layer.value} metric over the whole vector departs (expected: {r.expected_source})"]
    bad = r.failing_packets(layer)
    for p in bad[:LISTED_PACKETS]:
        d = p.departures.get(layer)
        lines.append(r.departure_label(d) if d else r.stable_id(p.index))
        if p.data:
            lines.append(f"  bytes: {p.data['hex']} ({p.data['bytes']} bytes"
                         + (f", sha256 {p.data['sha256']})" if "sha256" in p.data else ")"))
            lines += [f"  reproduce: {c}" for c in reproduce(report, r, p.index)]
    if len(bad) > LISTED_PACKETS:
        lines.append(f"... {len(bad) - LISTED_PACKETS} more")
    if s.score is not None:
        lines.append(f"vector metric: tot {s.score.tot:.6f} max {s.score.max:.6f} pitch {s.score.pitch:.6f} "
                     f"over {s.score.rows} rows")
    lines += _audio_lines(r)
    return "\n".join(lines)


def _audio_lines(r: VectorResult) -> list[str]:
    from dredconf.conformance.report_terminal import burst_line

    out = []
    if r.against_original is not None:
        out.append(f"against the original speech (information, not judged): {r.against_original.short()}")
    out += [f"burst {burst_line(b)}" for b in r.bursts]
    return out


def _expected_why(r: VectorResult, layer: Layer) -> str | None:
    """Why ``--expect-fail`` expects this layer's failures (the vector listed, or every failing packet), or None."""
    if r.expected_failure:
        return r.expected_failure
    bad = r.failing_packets(layer)
    return "; ".join(sorted({p.expected_failure for p in bad})) if bad and all(p.expected_failure for p in bad) else None


def _case(suite: ET.Element, report: CheckReport, r: VectorResult, layer: Layer, counts: dict) -> None:
    s = r.layers[layer]
    counts["tests"] += 1
    case = ET.SubElement(suite, "testcase", classname=f"dredconf.{r.name}", name=f"{r.name}.{layer.value}",
                         time=f"{r.dut.elapsed / len(r.layers):.3f}")
    if r.dut.failure_kind:
        counts["errors"] += 1
        el = ET.SubElement(case, "error", type=r.dut.failure_kind, message=_clean(f"{r.dut.failure_kind}: {r.dut.failure}"))
        el.text = _clean(f"command: {shlex.join(r.dut.argv)}\nexit status: {r.dut.exit_status}\n"
                         f"stderr (end):\n{r.dut.stderr}")
    elif s.verdict in BAD and _expected_why(r, layer):
        counts["skipped"] += 1
        why = _expected_why(r, layer)
        ET.SubElement(case, "skipped", message=_clean(f"expected failure ({report.expect_fail}): {why}"))
    elif s.verdict in BAD:
        counts["failures"] += 1
        el = ET.SubElement(case, "failure", type=layer.value,
                           message=_clean(r.departure_label(s.first) if s.first else s.verdict.value))
        el.text = _clean(_failure_text(report, r, layer))
    elif not s.complete:
        counts["failures"] += 1
        fields = ", ".join(f"{layer.value}.{f}" for f in s.untested) or layer.value
        ET.SubElement(case, "failure", type="untested",
                      message=f"not tested: {fields} (not output by the decoder; the profile {report.profile} requires it)")
    elif s.verdict is Verdict.NOT_TESTED:
        counts["skipped"] += 1
        why = (f"the decoder does not output {', '.join(s.skipped) or layer.value}" if s.reason == NOT_OUTPUT
               else "the vector has nothing for this layer")
        ET.SubElement(case, "skipped", message=f"not tested: {why}")
    out = [f"packets not valid: {r.classes()}"] if r.classes() and layer is LAYERS[0] else []
    if s.audio is not None and s.verdict not in BAD:
        out += [f"metric: {s.audio.short()} over {s.audio.frames} frames"] + _audio_lines(r)
    out += [f"{p.label()}: {p.behaviour}" for p in r.alternative_matches() if layer in p.matched]
    if s.skipped and s.verdict is not Verdict.NOT_TESTED:
        out.append(f"fields not output (outside the profile, not tested): {', '.join(s.skipped)}")
    if out:
        ET.SubElement(case, "system-out").text = _clean("\n".join(out))


def build_junit(report: CheckReport) -> ET.Element:
    root = ET.Element("testsuites", name="dredconf check")
    suite = ET.SubElement(root, "testsuite", name="dredconf check", timestamp=report.started)
    props = ET.SubElement(suite, "properties")
    th = report.options["thresholds"]
    for k, v in (("decoder", report.decoder), ("vectors", report.vectors), ("profile", report.profile),
                 ("verdict", report.verdict_line()), ("dredconf", report.environment.get("dredconf", "")),
                 ("thresholds", f"tot {th['tot']} max {th['max']} pitch {th['pitch']} scope "
                                f"{report.options['feature_scope']}")):
        ET.SubElement(props, "property", name=k, value=_clean(str(v)))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in report.results:
        for layer in r.layers:
            _case(suite, report, r, layer, counts)
    for el in (root, suite):
        for k, n in counts.items():
            el.set(k, str(n))
        el.set("time", f"{report.elapsed:.3f}")
    return root


def write_junit(report: CheckReport, path: str | Path) -> None:
    tree = ET.ElementTree(build_junit(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
