"""``dredconf spec examples DIR``: the curated set is the corpus's own vectors (ids, flags, expected records), one of
each kind the issue names, each with its worked example."""
from __future__ import annotations

import json

from click.testing import CliRunner

from dredconf.authoring.examples import CURATED
from dredconf.cli import main


def test_examples_are_the_corpus_vectors(tmp_path, corpus, model_dir):
    r = CliRunner().invoke(main, ["spec", "examples", str(tmp_path / "ex"), "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    manifest = {v["id"]: v for v in json.loads((corpus / "manifest.json").read_text())["vectors"]}
    for vid, group, _ in CURATED:
        entry = json.loads((tmp_path / "ex" / f"{vid}.json").read_text())
        assert entry == manifest[vid] and entry["stream"] == f"{group}.bit"
        text = (tmp_path / "ex" / f"{vid}.txt").read_text()
        assert max(map(len, text.splitlines())) <= 72 and "latent_count = " in text
        assert vid in (tmp_path / "ex" / "README.md").read_text()
    flags = {f for vid, _, _ in CURATED for f in manifest[vid]["flags"]}
    # one of each kind: single frame, a later frame, a repeat, a 255-continued length, malformed padding
    assert {"PacketCode3OneFrame", "DredFrameOffset", "DredViaRepeat", "LongLengthMultiByte",
            "ErrorKeepsPrefix"} <= flags
    assert [manifest[vid]["result"] for vid, _, _ in CURATED].count("invalid") == 1
    md = CliRunner().invoke(main, ["spec", "examples", str(tmp_path / "md"), "--format", "markdown"])
    assert md.exit_code == 0 and (tmp_path / "md" / f"{CURATED[0][0]}.md").read_text().startswith("## Example 1")


def test_examples_into_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    r = CliRunner().invoke(main, ["spec", "examples", str(tmp_path / "f")])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit) and "is a file" in r.output
