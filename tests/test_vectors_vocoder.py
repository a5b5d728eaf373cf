"""The corpus's vocoder group (vectors/vocoder.py): reproducible, synthesised identically by both arithmetics,
verified against its manifest, and judged as its results say."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.reference.fargan import FarganSynthesizer
from dredconf.reference.model import load_model
from dredconf.vectors.generate import generate
from dredconf.vectors.vocoder import LEGAL_MAX, LEGAL_MIN, build_items

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def vocoder_corpus(tmp_path_factory, model_dir):
    out = tmp_path_factory.mktemp("vocoder") / "corpus"
    generate(out, 1, load_model(model_dir, parts=("stats", "fargan")), groups=["vocoder"])
    return out


def test_items_cover_what_the_issue_lists():
    items = {i.id: i for i in build_items(1)}
    sweep = items["vocoder-pitch-sweep-full"].features[:, 18]
    assert sweep.min() == -1.5 and sweep.max() == 1.5  # periods 256 and 32: the whole range
    clamped = items["vocoder-pitch-sweep-clamped"].features[:, 18]
    assert clamped.min() < -1.5 and clamped.max() > 1.5
    corr = items["vocoder-voicing-switches"].features[:, 19]
    assert np.count_nonzero(np.diff(np.sign(corr))) >= 10  # voiced and unvoiced in turn
    assert len(items["vocoder-shortest"].features) == 2 and len(items["vocoder-long"].features) == 1000
    extreme = items["vocoder-extreme-cepstra"].features[:, :18]
    assert np.all((extreme == LEGAL_MIN[:18]) | (extreme == LEGAL_MAX[:18]))
    for i in items.values():  # inside the legal ranges, but for the pitch sweeps that test clamping
        if "VocoderPitchClamped" not in i.flags:
            assert np.all(i.features >= LEGAL_MIN) and np.all(i.features <= LEGAL_MAX), i.id
    assert {i.id for i in items.values() if i.result == "valid"} == {"vocoder-silence", "vocoder-extreme-cepstra"}


def test_same_seed_same_bytes_other_seed_other_trajectories():
    a, b, c = build_items(1), build_items(1), build_items(2)
    assert all(np.array_equal(x.features, y.features) for x, y in zip(a, b))
    assert not np.array_equal(a[2].features, c[2].features)  # the voicing switches are drawn from the seed


def test_both_arithmetics_synthesise_the_same_samples(model_dir):
    """Hardware float and integer soft-float are independent implementations of libopus's arithmetic."""
    m = load_model(model_dir, parts=("fargan",))
    exact, soft = FarganSynthesizer(m, arith="exact"), FarganSynthesizer(m, arith="softfloat")
    for item in build_items(1):
        f = item.features[:300]
        assert np.array_equal(exact.synthesize(f), soft.synthesize(f)), item.id


def test_manifest_and_verify(vocoder_corpus):
    m = json.loads((vocoder_corpus / "manifest.json").read_text())
    assert [v["id"] for v in m["vocoder"]] == [i.id for i in build_items(1)]
    assert all((v["result"] == "acceptable") == ("behaviour" in v) for v in m["vocoder"])
    r = CliRunner().invoke(main, ["vectors", "verify", str(vocoder_corpus)])
    assert r.exit_code == 0 and "expectations re-decoded" in r.output, r.output


def test_verify_resynthesises_and_refuses_a_changed_expectation(vocoder_corpus, tmp_path):
    import shutil

    copy = tmp_path / "c"
    shutil.copytree(vocoder_corpus, copy)
    path = copy / "vocoder" / "vocoder-silence.expected.sw"
    data = bytearray(path.read_bytes())
    data[400] ^= 1
    path.write_bytes(bytes(data))
    m = json.loads((copy / "manifest.json").read_text())
    import hashlib

    for f in m["files"]:  # the manifest updated too: only re-synthesis can tell
        if f["path"] == "vocoder/vocoder-silence.expected.sw":
            f["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(m))
    r = CliRunner().invoke(main, ["vectors", "verify", str(copy)])
    assert r.exit_code == 1 and "vocoder-silence (vocoder/vocoder-silence.expected.sw): the reference synthesises" \
        in r.output


def test_check_reference_conforms_and_mutants_fail(vocoder_corpus):
    r = CliRunner().invoke(main, ["check", "-d", "reference", "-V", str(vocoder_corpus), "--profile", "vocoder", "-q"])
    assert r.exit_code == 0 and r.output.strip() == "CONFORMS to profile vocoder on 8 feature files (2,602 frames)"
    for mutant in ("vocoder-pitch-off", "vocoder-flat-envelope"):
        r = CliRunner().invoke(main, ["check", "-d", f"mutant:{mutant}", "-V", str(vocoder_corpus), "--profile",
                                      "vocoder", "-q"])
        assert r.exit_code == 1 and "vocoder-extreme-cepstra" in r.output, (mutant, r.output)
