"""Result classes in ``dredconf check``: acceptable packets pass on an alternative, invalid ones need the error.

The corpus is generated (two groups: ``dred-envelope`` holds the three acceptable vectors and three invalid ones,
``ext-malformed`` is all invalid); the DUTs are in tests/dut/altdut.py.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from dredconf.cli import main
from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.judge import fields_in, judge_packet
from dredconf.conformance.report_html import render_html
from dredconf.conformance.report_json import dumps, read_json, write_json
from dredconf.conformance.report_junit import build_junit
from dredconf.conformance.report_terminal import print_report
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.conformance.verdicts import LAYERS, Layer, Verdict
from dredconf.vectors.sets import load_vector_set

DUT_DIR = Path(__file__).resolve().parent / "dut"
GROUPS = ("dred-envelope", "ext-malformed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, model_dir) -> Path:
    out = tmp_path_factory.mktemp("acceptable") / "corpus"
    args = ["vectors", "generate", str(out), "--seed", "1", "--model", str(model_dir)]
    for g in GROUPS:
        args += ["--group", g]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def manifest(corpus) -> dict:
    return json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))


def _ids(manifest: dict, result: str) -> set[str]:
    return {v["id"] for v in manifest["vectors"] if v["result"] == result}


def _check(corpus: Path, model_dir: Path, decoder: str, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(DUT_DIR))
    vs = load_vector_set(corpus)
    adapter = parse_decoder(decoder, model=str(model_dir))
    adapter.preflight()
    return run_check(adapter, vs, CheckOptions(timeout=120, model=str(model_dir)))


def _packets(report) -> dict[str, tuple]:
    """vector id -> (stream result, packet record)."""
    return {p.id: (r, p) for r in report.results for p in r.packets}


def _text(report) -> str:
    console = Console(record=True, width=400, highlight=False)
    print_report(report, console)
    return console.export_text()


# --- the vector set ---------------------------------------------------------------------------------------------------

@pytest.mark.shared
def test_manifest_rules_reach_the_vectors(corpus, manifest):
    vs = load_vector_set(corpus)
    rules = {r.id: r for v in vs.vectors for r in v.rules}
    assert set(rules) == {v["id"] for v in manifest["vectors"]}
    for v in manifest["vectors"]:
        r = rules[v["id"]]
        assert r.result == v["result"]
        assert [(a.label, a.record) for a in r.alternatives] == [(a["behaviour"], a["expected"]) for a in v.get("alternatives", [])]
    assert len(_ids(manifest, "acceptable")) == 3 and _ids(manifest, "invalid")


def test_plain_directory_has_no_rules(vectors_dir):
    assert load_vector_set(vectors_dir / "S3.bit").vectors[0].rules == ()


# --- (1) the reference passes, matching expected ---------------------------------------------------------------------

@pytest.mark.shared
def test_reference_passes_everything(corpus, manifest, model_dir, tmp_path):
    out = tmp_path / "report.json"
    r = CliRunner().invoke(main, ["check", "--decoder", "reference", "--vectors", str(corpus), "--model", str(model_dir),
                                  "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert "not valid" in r.output and "3 acceptable" in r.output
    rep = json.loads(out.read_text(encoding="utf-8"))
    assert rep["conforms"] is True and rep["verdict"].startswith("CONFORMS to profile framing,dred,features")
    by_id = {p["id"]: p for v in rep["results"] for p in v["packets"]}
    assert set(by_id) == {v["id"] for v in manifest["vectors"]}
    for v in manifest["vectors"]:
        p = by_id[v["id"]]
        assert p.get("result", "valid") == v["result"]
        assert ("result" in p) == (v["result"] != "valid")  # shown where it is not valid
        if v["result"] == "acceptable":
            assert p["behaviour"] == "matched expected" and "matched" not in p
            assert p["alternatives"] == [a["behaviour"] for a in v["alternatives"]]
    counts = {v["name"]: v["result_counts"] for v in rep["results"]}
    assert counts["dred-envelope"]["acceptable"] == 3 and counts["ext-malformed"] == {"invalid": 18}


# --- (2) a decoder choosing the allowed alternatives passes too --------------------------------------------------------

@pytest.mark.shared
def test_alternative_behaviour_passes(corpus, manifest, model_dir, monkeypatch, tmp_path):
    report = _check(corpus, model_dir, "python:altdut:StrictDraft", monkeypatch)
    assert report.conforms, [r.headline() for r in report.results]
    packets = _packets(report)
    for v in manifest["vectors"]:
        if v["result"] != "acceptable":
            continue
        _, p = packets[v["id"]]
        label = v["alternatives"][0]["behaviour"]
        assert p.ok and p.behaviour == f"matched alternative 1: {label}", (v["id"], p.behaviour)
        assert p.matched[Layer.HEADER] == 1 and p.matched[Layer.LATENTS] == 1 and not p.mixed
    assert "ignored" in packets["dred-second-same-frame"][1].behaviour
    assert "frame order" in packets["dred-first-in-bitstream-on-later-frame"][1].behaviour
    # every report says so
    text = _text(report)
    assert "dred-envelope packet 0 (dred-second-same-frame, acceptable): matched alternative 1: the packet's DRED is " \
           "ignored" in text
    junit = ET.tostring(build_junit(report), encoding="unicode")
    assert "matched alternative 1: the DRED of the earliest frame is used" in junit
    assert "packets not valid: 3 invalid, 3 acceptable" in junit
    html = render_html(report)
    assert "Acceptable packets" in html and "matched alternative 1: the packet&#x27;s DRED is ignored" in html
    write_json(report, tmp_path / "r.json")
    assert dumps(read_json(tmp_path / "r.json")) == dumps(report)
    d = json.loads(dumps(report))
    p = next(p for v in d["results"] for p in v["packets"] if p["id"] == "dred-second-same-frame")
    assert p["result"] == "acceptable" and p["matched"]["header"] == 1 and p["behaviour"].startswith("matched alternative 1:")


# --- (3) neither expected nor an alternative: fails, against expected, at the right layer ----------------------------

@pytest.mark.shared
def test_neither_expected_nor_alternative_fails(corpus, manifest, model_dir, monkeypatch):
    report = _check(corpus, model_dir, "python:altdut:LastOfTwo", monkeypatch)
    assert not report.conforms and report.exit_status == 1
    env = next(r for r in report.results if r.name == "dred-envelope")
    assert env.first_layer is Layer.HEADER and env.layers[Layer.FRAMING].verdict is Verdict.PASS
    bad = [p for p in env.packets if not p.ok]
    assert {p.id for p in bad} == {"dred-second-same-frame", "dred-second-same-frame-1"}
    for p in bad:
        assert p.result == "acceptable" and p.behaviour is None and not p.matched
        d = p.first_departure
        assert d.layer is Layer.HEADER and d.field in ("q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset")
        assert d.expected == next(v for v in manifest["vectors"] if v["id"] == p.id)["expected"]["dred"][d.field]
        assert "its alternative does not match either (alternative 1: dred: present, expected null)" in str(d)
    assert env.headline().startswith("header: dred-envelope#0 (dred-second-same-frame, acceptable): ")
    # the frame-order packet is not touched by this DUT: it matches expected
    assert _packets(report)["dred-first-in-bitstream-on-later-frame"][1].behaviour == "matched expected"
    assert next(r for r in report.results if r.name == "ext-malformed").verdict is Verdict.PASS


def test_departure_names_every_alternative():
    e = {"index": 0, "length": 5, "toc": 1, "dred": None}
    alts = [{**e, "length": 6}, {**e, "length": 7}]
    a = {"index": 0, "length": 9, "toc": 1}
    j = judge_packet(a, e, fields_in([a]), set(LAYERS), alternatives=alts)
    assert j.verdicts[Layer.FRAMING] is Verdict.FAIL and not j.matched
    msg = str(j.departures[Layer.FRAMING])
    assert msg.startswith("packet 0: length = 9, expected 5 (acceptable packet; none of its 2 alternatives matches either")
    assert "alternative 1: length = 9, expected 6; alternative 2: length = 9, expected 7" in msg
    a = {"index": 0, "length": 7, "toc": 1}
    j = judge_packet(a, e, fields_in([a]), set(LAYERS), alternatives=alts)
    assert j.ok and j.matched == {Layer.FRAMING: 2} and not j.mixed


def test_mixed_behaviours_are_flagged():
    """Each layer matches some record, but no single record matches every layer: passes, and says so."""
    e = {"index": 0, "length": 5, "toc": 1, "dred": None}
    alt = {"index": 0, "length": 6, "toc": 1, "dred": {"frame_offset": 0, "q0": 3}}
    a = {"index": 0, "length": 6, "toc": 1, "dred": None}
    j = judge_packet(a, e, fields_in([a]), set(LAYERS), alternatives=[alt])
    assert j.ok and j.matched == {Layer.FRAMING: 1} and j.mixed


# --- (4) an invalid vector without the error fails at the framing layer ----------------------------------------------

@pytest.mark.shared
def test_invalid_without_the_error_fails_framing(corpus, manifest, model_dir, monkeypatch):
    report = _check(corpus, model_dir, "python:altdut:NoExtensionError", monkeypatch)
    assert not report.conforms and report.exit_status == 1
    failing = {p.id for r in report.results for p in r.packets if not p.ok}
    assert failing == _ids(manifest, "invalid")
    for r in report.results:
        assert r.first_layer is Layer.FRAMING
        assert all(r.layers[l].verdict is not Verdict.FAIL for l in (Layer.HEADER, Layer.LATENTS, Layer.FEATURES))
        for p in r.packets:
            if not p.ok:
                (d,) = p.departures.values()
                assert (d.layer, d.field, d.actual, d.expected) == (Layer.FRAMING, "extension_error", None, "invalid packet")
                assert "no extension error reported" in str(d) and p.result == "invalid"
    text = _text(report)
    assert "ext-malformed#0 (ext-bad-separator-02-past-end, invalid): extension_error = null, expected invalid " \
           "packet" in text
