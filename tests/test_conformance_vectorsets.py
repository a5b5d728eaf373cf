"""Vector sets (conformance/vectorsets.py): plain directories, manifests, single files, pluggable loaders,
and expectations from the reference decoder when a set has none."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dredconf.conformance import vectorsets
from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.layers import Layer, Verdict
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.conformance.vectorsets import FROM_REFERENCE, Vector, VectorSet, load_vector_set, register_loader
from dredconf.vectors.generate import generate

REPLAY = Path(__file__).resolve().parent / "dut" / "replay.sh"


def test_plain_directory(tmp_path):
    for name in ("b", "a"):
        (tmp_path / f"{name}.bit").write_bytes(b"")
    (tmp_path / "a.expected.json.gz").write_bytes(b"")
    vs = load_vector_set(tmp_path)
    assert vs.kind == "directory"
    assert [(v.name, v.expected.name if v.expected else None) for v in vs.vectors] == [("a", "a.expected.json.gz"), ("b", None)]
    assert vs.vectors[1].expected_source == FROM_REFERENCE
    assert [v.name for v in vs.select(["b"]).vectors] == ["b"]
    with pytest.raises(KeyError, match="no vector c"):
        vs.select(["c"])


def test_single_file_and_errors(tmp_path):
    (tmp_path / "x.bit").write_bytes(b"")
    vs = load_vector_set(tmp_path / "x.bit")
    assert vs.kind == "file" and vs.vectors[0].name == "x"
    with pytest.raises(FileNotFoundError):
        load_vector_set(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no streams"):
        load_vector_set(tmp_path / "empty")


def test_manifest(tmp_path):
    (tmp_path / "streams").mkdir()
    (tmp_path / "streams" / "one.bit").write_bytes(b"")
    (tmp_path / "one.json").write_text('{"packets": []}')
    (tmp_path / "manifest.json").write_text(json.dumps({
        "description": "test corpus",
        "streams": [{"name": "first", "path": "streams/one.bit", "expected": "one.json", "expected_from": "libopus 1.6.1"},
                    {"path": "streams/one.bit"}],
    }))
    vs = load_vector_set(tmp_path)
    assert vs.kind == "manifest" and vs.description == "test corpus"
    first, second = vs.vectors
    assert (first.name, first.expected_source, first.load_expected()) == ("first", "libopus 1.6.1: one.json", [])
    assert (second.name, second.expected, second.expected_source) == ("one", None, FROM_REFERENCE)


def test_pluggable_loader(tmp_path, monkeypatch):
    monkeypatch.setattr(vectorsets, "LOADERS", list(vectorsets.LOADERS))

    class Listing:
        name = "listing"

        def accepts(self, path: Path) -> bool:
            return path.suffix == ".list"

        def load(self, path: Path) -> VectorSet:
            return VectorSet(path.parent, self.name, [Vector(l, path.parent / l) for l in path.read_text().split()])

    (tmp_path / "set.list").write_text("a.bit b.bit")
    register_loader(Listing())
    vs = load_vector_set(tmp_path / "set.list")
    assert vs.kind == "listing" and [v.name for v in vs.vectors] == ["a.bit", "b.bit"]


@pytest.mark.shared
def test_expectations_from_the_reference(vectors_dir, model_dir, tmp_path):
    """A set without expectations is judged against the reference decoder, and the report says so."""
    (tmp_path / "SYN.bit").symlink_to(vectors_dir / "SYN.bit")
    # replay.sh reads the expectations next to the *resolved* stream path (the shared set's)
    rep = run_check(parse_decoder(f"cmd:{REPLAY} {{input}} {{output}}"), load_vector_set(tmp_path),
                    CheckOptions(model=str(model_dir)))
    r = rep.results[0]
    assert r.expected_source == FROM_REFERENCE
    # libopus's own results against the reference (exact arithmetic): bit-exact on every layer, features included
    for layer in (Layer.FRAMING, Layer.HEADER, Layer.LATENTS, Layer.FEATURES):
        assert r.layers[layer].verdict is Verdict.PASS, (layer, r.layers[layer].first)
    score = r.layers[Layer.FEATURES].score
    assert score.rows > 0 and (score.tot, score.max, score.pitch) == (0.0, 0.0, 0.0)


@pytest.mark.shared
def test_generated_corpus_manifest(tmp_path, model):
    """The corpus `dredconf vectors generate` writes: expectations from its manifest, features from the reference."""
    generate(tmp_path, 1, model)
    vs = load_vector_set(tmp_path)
    assert vs.kind == "manifest" and "seed 1" in vs.description
    assert all(v.records is not None for v in vs.vectors)
    rep = run_check(parse_decoder("reference", model=str(model.path)), vs, CheckOptions(model=str(model.path)))
    assert rep.ok, [r.headline() for r in rep.results if r.verdict is not Verdict.PASS]
    by_name = {r.name: r for r in rep.results}
    with_dred = [r for r in rep.results if r.layers[Layer.LATENTS].verdict is Verdict.PASS]
    assert with_dred and all(r.expected_source.endswith("features: reference decoder") for r in with_dred)
    # a stream without DRED: the DRED layers are "nothing to test", not "not output"
    no_dred = [r for r in rep.results if r.layers[Layer.LATENTS].verdict is Verdict.NOT_TESTED]
    for r in no_dred:
        assert r.layers[Layer.LATENTS].reason == "nothing to test in this vector" and not r.layers[Layer.LATENTS].skipped
    assert "ext-repeat" in by_name
