"""The corpus generator: determinism, expectations, manifest, verify, runner and CLI."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.spec.stream import MAX_RECORD_LENGTH
from dredconf.vectors import generate as gen
from dredconf.vectors.expectations import GenerationError
from dredconf.vectors.groups import GROUPS
from dredconf.vectors.flags import FLAGS
from dredconf.vectors.sets import load_vector_set
from dredconf.vectors.manifest import (
    MANIFEST_NAME, ManifestError, load_manifest, validate_manifest, verify_corpus,
)
from tests.helpers.corpus import generated, stats_model


def _files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(corpus, tmp_path_factory, model_dir):
    again = generated(tmp_path_factory.getbasetemp(), model_dir, 1, "again")
    assert _files(corpus) == _files(again)


def test_different_seed_differs_but_ids_stay(corpus, tmp_path_factory, model_dir):
    other = generated(tmp_path_factory.getbasetemp(), model_dir, 2)
    a, b = _files(corpus), _files(other)
    assert a.keys() == b.keys()
    assert a["dred-header.bit"] != b["dred-header.bit"]
    ma, mb = load_manifest(corpus), load_manifest(other)
    assert mb["seed"] == 2
    assert [v["id"] for v in ma["vectors"]] == [v["id"] for v in mb["vectors"]]
    # the hand-written layouts do not depend on the seed (only the dummy audio frames do)
    va = {v["id"]: v["expected"] for v in ma["vectors"]}
    vb = {v["id"]: v["expected"] for v in mb["vectors"]}
    for k in ("extensions", "padding_length", "frame_count", "toc"):
        assert va["ext-repeat-libopus-13"][k] == vb["ext-repeat-libopus-13"][k]


def test_manifest_contents(corpus, model_dir):
    m = load_manifest(corpus)
    assert m["model"]["stats_sha256"] == stats_model(model_dir).files["dred_rdovae_stats_data.c"]
    assert m["dred"] == {"extension_id": 126, "prefix": "440c"}
    ids = [v["id"] for v in m["vectors"]]
    assert len(ids) == len(set(ids))
    results = {v["result"] for v in m["vectors"]}
    assert results == {"valid", "invalid", "acceptable"}
    for v in m["vectors"]:
        assert v["flags"] and all(f in FLAGS for f in v["flags"]), v["id"]
        if v["result"] == "invalid":
            assert v["expected"]["extension_error"] == "invalid packet"
        if v["result"] == "acceptable":
            assert v["alternatives"] and all(a["expected"] != v["expected"] for a in v["alternatives"])
    # the syntax the brief lists, by id
    must = ["dred-q0-00-dq-0", "dred-q0-15-dq-7", "dred-qmax-q0-00-qmax-01", "dred-qmax-q0-13-qmax-14",
            "dred-extra-offset-absent", "dred-extra-offset-001", "dred-extra-offset-255", "dred-offset-00",
            "dred-offset-31", "dred-frame-47-of-48", "dred-frame-00-of-01", "dred-latents-00", "dred-latents-26",
            "dred-latents-27-coded", "dred-bits-left-7", "dred-ends-mid-latent-0", "dred-minimum-payload-q0-00",
            "dred-magnitude-latent-p1000", "dred-second-same-frame", "dred-second-later-frame", "dred-version-011",
            "dred-no-prefix", "ext-long-length-510", "ext-separator-03-n0", "ext-repeat-libopus-13",
            "ext-libopus-rte-no-room-for-shorts", "dred-large-001001", "dred-large-065536-l1", "dred-large-largest",
            "dred-then-repeat-no-room-for-shorts"]
    assert not [i for i in must if i not in ids]
    # DRED payloads over 1,000 bytes, up to the largest a packet allows; a DRED kept before every extension error
    large = [v for v in m["vectors"] if "DredLargePayload" in v["flags"]]
    assert min(v["expected"]["extensions"][0]["length"] for v in large) == 1001
    assert max(v["expected"]["length"] for v in large) == MAX_RECORD_LENGTH
    kept = [v for v in m["vectors"] if v["stream"] == "dred-errors.bit"]
    assert all(v["result"] == "invalid" and v["expected"]["dred"] is not None for v in kept)


def test_inspect_json_on_a_stream(corpus, model_dir):
    m = load_manifest(corpus)
    want = [v["expected"] for v in m["vectors"] if v["stream"] == "dred-envelope.bit"]
    r = CliRunner().invoke(main, ["inspect", "--json", "--model", str(model_dir), str(corpus / "dred-envelope.bit")])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["packets"]
    assert got == want


def test_verify_detects_missing_extra_changed(corpus, tmp_path):
    d = tmp_path / "c"
    shutil.copytree(corpus, d)
    assert verify_corpus(d).ok
    (d / "ext-basic.bit").unlink()
    (d / "stray.bin").write_bytes(b"x")
    data = bytearray((d / "dred-latents.bit").read_bytes())
    data[100] ^= 1
    (d / "dred-latents.bit").write_bytes(bytes(data))
    rep = verify_corpus(d)
    assert rep.missing == ["ext-basic.bit"]
    assert rep.extra == ["stray.bin"]
    assert [c.split(" ")[0] for c in rep.changed] == ["dred-latents.bit"]
    r = CliRunner().invoke(main, ["vectors", "verify", str(d)])
    assert r.exit_code == 1
    assert "missing: ext-basic.bit" in r.output and "extra: stray.bin" in r.output and "changed: dred-latents.bit" in r.output


def test_verify_decode_detects_changed_expectation(corpus, tmp_path, model_dir):
    d = tmp_path / "c"
    shutil.copytree(corpus, d)
    m = json.loads((d / MANIFEST_NAME).read_text())
    v = next(v for v in m["vectors"] if v["id"] == "dred-offset-05")
    v["expected"]["dred"]["offset"] = 6
    v["expected"]["dred"]["dred_offset"] -= 1
    (d / MANIFEST_NAME).write_text(json.dumps(m))
    rep = verify_corpus(d, decode=True, model=stats_model(model_dir))
    assert any("dred-offset-05" in p and ".dred.offset" in p for p in rep.problems), rep.problems


def test_manifest_validation_rejects_bad_manifests(corpus):
    m = json.loads((corpus / MANIFEST_NAME).read_text())
    validate_manifest(m)

    def broken(mutate):
        x = json.loads(json.dumps(m))
        mutate(x)
        with pytest.raises(ManifestError):
            validate_manifest(x)

    broken(lambda x: x.update(schema="dredconf-vectors/0"))
    broken(lambda x: x["vectors"][0]["flags"].append("NoSuchFlag"))
    broken(lambda x: x["vectors"][0].update(result="maybe"))
    broken(lambda x: x["vectors"][1].update(id=x["vectors"][0]["id"]))
    broken(lambda x: x["vectors"][0]["expected"].pop("dred"))
    broken(lambda x: x["files"][0].update(path="../escape.bit"))
    broken(lambda x: x["files"][0].update(sha256="0" * 63))
    broken(lambda x: x["vectors"][0]["expected"]["dred"].update(dred_offset=999))
    acc = next(i for i, v in enumerate(m["vectors"]) if v["result"] == "acceptable")
    broken(lambda x: x["vectors"][acc].pop("alternatives"))


def test_generation_aborts_when_the_reference_disagrees(model_dir, monkeypatch, tmp_path):
    real = GROUPS["ext-malformed"]

    def lying(c):
        real(c)
        c.groups["ext-malformed"][0].expected["extensions"] = []

    monkeypatch.setitem(GROUPS, "ext-malformed", lying)
    with pytest.raises(GenerationError, match="ext-bad-separator-02-past-end"):
        gen.generate(tmp_path / "out", 1, stats_model(model_dir), groups=["ext-malformed"])
    assert not (tmp_path / "out").exists()


def test_cli_generate_list_and_groups(tmp_path, model_dir):
    r = CliRunner().invoke(main, ["vectors", "generate", str(tmp_path / "g"), "--seed", "5", "--model", str(model_dir),
                                  "--group", "ext-repeat", "--group", "ext-malformed", "--ogg"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "ext-malformed.bit", "ext-malformed.opus", "ext-repeat.bit", "ext-repeat.opus", "manifest.json"]
    r = CliRunner().invoke(main, ["vectors", "verify", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["vectors", "list", str(tmp_path / "g"), "--result", "invalid"])
    assert r.exit_code == 0 and "ext-libopus-increment-255" in r.output and "ext-repeat-libopus" not in r.output


def test_runner_consumes_the_corpus(corpus, model_dir):
    vs = load_vector_set(corpus)
    m = load_manifest(corpus)
    assert [v.name for v in vs.vectors] == [s["name"] for s in m["streams"]] + [v["id"] for v in m["vocoder"]]
    first = vs.vectors[0]
    assert list(first.records) == [v["expected"] for v in m["vectors"] if v["stream"] == first.input.name]
    assert "dredconf vectors" in first.source
    # a decoder that gets Repeat These Extensions wrong fails here, on the repeated extension's frame
    r = CliRunner().invoke(main, ["check", "--decoder", "mutant:rte-repeats-keep-frame", "--vectors",
                                  str(corpus), "--vector", "ext-repeat", "--model", str(model_dir)])
    assert r.exit_code == 1, r.output
    assert "ext-repeat-libopus-03" in r.output and "extensions[1].frame" in r.output, r.output


def test_flag_vocabulary_documented_and_used(corpus):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "VECTORS.md").read_text(encoding="utf-8")
    assert not [f for f in FLAGS if f"| `{f}` |" not in doc]
    m = load_manifest(corpus)
    used = {f for v in m["vectors"] + m.get("vocoder", []) for f in v["flags"]}
    assert used == set(FLAGS)  # no dead flag, no undocumented one
