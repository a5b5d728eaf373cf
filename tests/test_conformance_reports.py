"""Reports (JSON, JUnit XML, HTML, terminal) and the `dredconf check` command: they parse and say what they should;
-j 2 gives the same results as a serial run."""
from __future__ import annotations

import base64
import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from dredconf.cli import main
from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.report_html import render_html
from dredconf.conformance.report_json import dumps, read_json, write_json
from dredconf.conformance.report_junit import build_junit
from dredconf.conformance.report_terminal import print_report
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.conformance.verdicts import Layer, Verdict
from dredconf.vectors.sets import load_vector_set

DUT_DIR = Path(__file__).resolve().parent / "dut"
REPLAY = DUT_DIR / "replay.sh"
TAMPER = DUT_DIR / "tamper.py"

pytestmark = pytest.mark.shared



@pytest.fixture(scope="module")
def broken_dut(tmp_path_factory) -> str:
    """Crashes on S3; on SYN departs in the framing (packet 4), latents (packet 17) and feature (pitch) layers."""
    d = tmp_path_factory.mktemp("broken")
    script = d / "broken.sh"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in *S3.bit) echo "broken.sh: giving up on S3" >&2; exit 4 ;; esac\n'
        f'exec "{sys.executable}" "{TAMPER}" "$1" "$2" set:packets[4].toc=1 '
        "add:packets[17].dred.latents[3][12]=1 shift:18=0.05\n"
    )
    script.chmod(0o755)
    return f"cmd:{script} {{input}} {{output}}"


@pytest.fixture(scope="module")
def report(vectors_dir, broken_dut):
    vs = load_vector_set(vectors_dir).select(["S3", "SYN"])
    return run_check(parse_decoder(broken_dut), vs, CheckOptions(timeout=60))


def _expected(ground_truth, path):
    v = ground_truth["SYN"][1]
    return v[17]["dred"]["latents"][3][12] if path == "latent" else v[4]["toc"]


def test_report_model(report, ground_truth):
    s3, syn = report.results
    assert s3.verdict is Verdict.ERROR and s3.dut.failure_kind == "crash" and "giving up on S3" in s3.dut.stderr
    assert syn.verdict is Verdict.FAIL and syn.first_layer is Layer.FRAMING
    lat = _expected(ground_truth, "latent")
    assert str(syn.layers[Layer.LATENTS].first) == f"packet 17: latents[3][12] = {lat + 1}, expected {lat}"
    assert syn.departure_label(syn.layers[Layer.LATENTS].first) == f"SYN#17: latents[3][12] = {lat + 1}, expected {lat}"
    assert str(syn.layers[Layer.FRAMING].first) == f"packet 4: toc = 1, expected {_expected(ground_truth, 'toc')}"
    assert syn.layers[Layer.HEADER].verdict is Verdict.PASS
    assert "pitch 0.0500 > 0.02 (margin -0.0300)" in str(syn.layers[Layer.FEATURES].first)
    assert report.exit_status == 1


def test_json_report(report, tmp_path, ground_truth):
    path = tmp_path / "r.json"
    write_json(report, path)
    doc = json.loads(path.read_text())
    assert doc["conforms"] is False and doc["exit_status"] == 1 and doc["counts"]["error"] == 1
    assert doc["verdict"].startswith("DOES NOT CONFORM to profile framing,dred,features: 2 of 2 vectors fail")
    assert doc["environment"]["dredconf"] and doc["profile"] == "framing,dred,features"
    s3, syn = doc["results"]
    assert s3["dut"]["failure_kind"] == "crash" and s3["dut"]["exit_status"] == 4
    assert syn["first_departing_layer"] == "framing"
    lat = syn["layers"]["latents"]["first_departure"]
    assert (lat["packet"], lat["field"], lat["expected"]) == (17, "latents[3][12]", _expected(ground_truth, "latent"))
    assert syn["layers"]["features"]["metric"]["pitch"] == pytest.approx(0.05, rel=1e-4)
    assert len(syn["packets"]) == 120 and syn["packets"][17]["layers"]["latents"] == "fail"
    raw = bytes.fromhex(syn["packets"][17]["packet"]["hex"])
    assert raw[0] == ground_truth["SYN"][1][17]["toc"] and syn["packets"][17]["packet"]["bytes"] == \
        ground_truth["SYN"][1][17]["length"]
    assert syn["feature_traces"] and len(syn["feature_traces"][0]["expected"][0]) == 20
    assert doc["options"]["thresholds"] == {"tot": 0.5, "max": 0.15, "pitch": 0.02}
    assert doc["options"]["feature_scope"] == "packet"
    # it reads back into the same report
    assert dumps(read_json(path)) == dumps(report)


def test_junit_report(report):
    root = ET.fromstring(ET.tostring(build_junit(report)))
    suite = root.find("testsuite")
    cases = {(c.get("classname").removeprefix("dredconf."), c.get("name").split(".")[1]): c
             for c in suite.iter("testcase")}
    assert len(cases) == 8 and suite.get("tests") == "8"
    assert suite.get("errors") == "4" and suite.get("failures") == "3"
    for layer in ("framing", "header", "latents", "features"):
        err = cases[("S3", layer)].find("error")
        assert err is not None and err.get("type") == "crash" and "exited with status 4" in err.get("message")
    assert cases[("SYN", "header")].find("failure") is None and cases[("SYN", "header")].find("error") is None
    fail = cases[("SYN", "latents")].find("failure")
    assert fail.get("message").startswith("SYN#17: latents[3][12] = ") and "1 of 120 packets" in fail.text
    assert "reproduce: dredconf inspect" in fail.text and "--vector SYN --packet 17" in fail.text
    assert "pitch" in cases[("SYN", "features")].find("failure").get("message")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["decoder"].startswith("cmd:")


def test_html_report(report, tmp_path):
    text = render_html(report)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "SYN#17" in text and "latents[3][12]" in text and "giving up on S3" in text
    assert "--vector SYN --packet 17" in text and "profile" in text
    assert "pitch 0.0500 &gt; 0.02" in text
    # self-contained: no external references, images inline
    assert not re.search(r'(src|href)="(?!data:)', text)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) >= 3  # metric overview, per-feature bars, trajectories
    for b64 in images:
        assert base64.b64decode(b64).startswith(b"\x89PNG\r\n\x1a\n")
    tags = _Tags()
    tags.feed(text)
    assert tags.counts["table"] == tags.closed["table"] >= 2 and tags.counts["h2"] == 3
    (tmp_path / "r.html").write_text(text)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.counts, self.closed = Counter(), Counter()

    def handle_starttag(self, tag, attrs):
        self.counts[tag] += 1

    def handle_endtag(self, tag):
        self.closed[tag] += 1


def test_terminal_report(report):
    console = Console(record=True, width=200, color_system=None)
    print_report(report, console)
    out = console.export_text()
    assert "SYN#17: latents[3][12]" in out and "reproduce: dredconf inspect" in out
    assert "S3: crash: exited with status 4" in out and "giving up on S3" in out
    assert out.rstrip().splitlines()[-1].startswith("DOES NOT CONFORM to profile framing,dred,features: 2 of 2 vectors fail")
    table = out[:out.index("expectations:")]
    assert max(len(line.rstrip()) for line in table.splitlines()) <= 80


def _stable(doc: dict) -> dict:
    """A JSON report without what legitimately differs between runs: times, temporary paths, job count."""
    doc = json.loads(json.dumps(doc))
    for k in ("elapsed_s", "started"):
        doc.pop(k)
    doc["options"].pop("jobs")
    for r in doc["results"]:
        r["dut"].pop("elapsed_s")
        r["dut"]["argv"] = [a for a in r["dut"]["argv"] if "dredconf-check-" not in a]
    return doc


def test_parallel_equals_serial(vectors_dir, broken_dut):
    vs = load_vector_set(vectors_dir)
    adapter = parse_decoder(broken_dut)
    serial = run_check(adapter, vs, CheckOptions(jobs=1))
    parallel = run_check(adapter, vs, CheckOptions(jobs=2))
    assert [r.name for r in parallel.results] == ["S1", "S2", "S3", "SYN"]
    assert _stable(parallel.to_json()) == _stable(serial.to_json())


def test_cli_check(vectors_dir, tmp_path, broken_dut):
    runner = CliRunner()
    args = ["check", "--vectors", str(vectors_dir), "--vector", "SYN"]
    ok = runner.invoke(main, args + ["--decoder", f"cmd:{REPLAY} {{input}} {{output}}", "--json", str(tmp_path / "r.json"),
                                     "--junit", str(tmp_path / "r.xml"), "--html", str(tmp_path / "r.html")])
    assert ok.exit_code == 0, ok.output
    assert "CONFORMS to profile framing,dred,features on 1 stream (120 packets)" in ok.output
    assert json.loads((tmp_path / "r.json").read_text())["conforms"] is True
    assert ET.parse(tmp_path / "r.xml").getroot().find("testsuite").get("failures") == "0"
    assert "CONFORMS" in (tmp_path / "r.html").read_text()
    bad = runner.invoke(main, args + ["--decoder", broken_dut, "-q"])
    assert bad.exit_code == 1 and bad.output.strip().startswith("DOES NOT CONFORM to profile framing,dred,features: 1 of 1")
    # thresholds are options: a loose pitch threshold lets the feature layer pass (the others still fail)
    loose = runner.invoke(main, args + ["--decoder", broken_dut, "--pitch", "0.1", "--json", str(tmp_path / "l.json")])
    feats = json.loads((tmp_path / "l.json").read_text())["results"][0]["layers"]["features"]
    assert loose.exit_code == 1 and feats["verdict"] == "pass"
    assert runner.invoke(main, args + ["--decoder", "bogus"]).exit_code == 2
    assert runner.invoke(main, args + ["--decoder", "reference", "--vector", "NOPE"]).exit_code == 2
