"""``--junit FILE``: JUnit XML, one testcase per vector and layer, for CI dashboards.

``<testsuite name="dredconf check">`` holds a ``<testcase classname="VECTOR"
name="LAYER">`` for each vector and layer: a ``<failure>`` whose message is
the first departing field (``packet 17: latents[3][12] = -2, expected -3``)
and whose text lists the failing packets; an ``<error>`` when the DUT crashed,
hung or wrote malformed output (text: the end of its standard error); a
``<skipped>`` for a layer the DUT does not output. Departures name the
packet's vector id and result class when the set has them (``packet 0
(dred-second-same-frame, acceptable): ...``); ``<system-out>`` lists the
packets that are not ``valid`` and, per layer, the acceptable packets that
passed by matching an alternative (``matched alternative 1: ...``).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dredconf.conformance.layers import LAYERS, NOT_OUTPUT, Verdict
from dredconf.conformance.results import CheckReport

LISTED_PACKETS = 50
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters (a DUT's stderr may hold any byte)."""
    return _ILLEGAL.sub("\ufffd", text)


def build_junit(report: CheckReport) -> ET.Element:
    root = ET.Element("testsuites", name="dredconf check")
    suite = ET.SubElement(root, "testsuite", name="dredconf check", timestamp=report.started)
    props = ET.SubElement(suite, "properties")
    for k, v in (("decoder", report.decoder), ("vectors", report.vectors), ("version", report.version),
                 ("thresholds", "tot {tot} max {max} pitch {pitch} scope {scope}".format(**report.options["limits"]))):
        ET.SubElement(props, "property", name=k, value=str(v))
    tests = failures = errors = skipped = 0
    for r in report.results:
        per_layer_time = r.dut.elapsed / len(LAYERS)
        for layer in LAYERS:
            s = r.layers[layer]
            tests += 1
            case = ET.SubElement(suite, "testcase", classname=r.name, name=layer.value, time=f"{per_layer_time:.3f}")
            if r.dut.failure_kind:
                errors += 1
                el = ET.SubElement(case, "error", type=r.dut.failure_kind, message=_clean(f"{r.dut.failure_kind}: {r.dut.failure}"))
                el.text = _clean(f"command: {' '.join(r.dut.argv)}\nexit status: {r.dut.exit_status}\nstderr (end):\n{r.dut.stderr}")
            elif s.verdict is Verdict.NOT_TESTED:
                skipped += 1
                why = (f"the decoder does not output {', '.join(s.skipped)}" if s.reason == NOT_OUTPUT
                       else "the vector has nothing for this layer")
                ET.SubElement(case, "skipped", message=f"not tested: {why}")
            elif s.verdict in (Verdict.FAIL, Verdict.ERROR):
                failures += 1
                el = ET.SubElement(case, "failure", type=layer.value,
                                   message=_clean(r.departure_label(s.first) if s.first else s.verdict.value))
                lines = [f"{s.failed} of {s.tested} packets depart in the {layer.value} layer (expected: {r.expected_source})"
                         if s.failed else f"the {layer.value} metric over the whole vector departs (expected: {r.expected_source})"]
                bad = [p for p in r.packets if p.verdicts.get(layer) in (Verdict.FAIL, Verdict.ERROR)]
                for p in bad[:LISTED_PACKETS]:
                    d = next((x for x in p.departures if x.layer is layer), None)
                    if d is not None:
                        lines.append(r.departure_label(d))
                if len(bad) > LISTED_PACKETS:
                    lines.append(f"... {len(bad) - LISTED_PACKETS} more")
                if s.score is not None:
                    lines.append(f"vector metric: tot {s.score.tot:.6f} max {s.score.max:.6f} pitch {s.score.pitch:.6f} over {s.score.rows} rows")
                el.text = _clean("\n".join(lines))
            out = []
            if s.skipped and s.verdict is not Verdict.NOT_TESTED and not r.dut.failure_kind:
                out.append(f"fields not output (not tested): {', '.join(s.skipped)}")
            if r.classes() and layer is LAYERS[0]:
                out.append(f"packets not valid: {r.classes()}")
            out += [f"{p.label()}: {p.behaviour}" for p in r.alternative_matches() if layer in p.matched]
            if out:
                ET.SubElement(case, "system-out").text = _clean("\n".join(out))
    for el in (root, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
        el.set("skipped", str(skipped))
        el.set("time", f"{report.elapsed:.3f}")
    return root


def write_junit(report: CheckReport, path: str | Path) -> None:
    tree = ET.ElementTree(build_junit(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
