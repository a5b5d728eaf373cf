"""The coverage table: computed by decoding the corpus; no empty cell; docs/COVERAGE.md is current."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dredconf.cli import main
from dredconf.vectors.coverage import REQUIRED, compute_coverage
from dredconf.vectors.generate import generate
from tests.helpers.corpus import generated, stats_model

DOC = Path(__file__).resolve().parent.parent / "docs" / "COVERAGE.md"


def test_no_empty_cell(corpus, model_dir):
    table = compute_coverage(corpus, stats_model(model_dir))
    assert table.empty_cells() == []
    assert table.vectors > 700
    # every required class appears in the markdown with its count
    text = table.markdown()
    for el, classes in REQUIRED.items():
        for cls in classes:
            assert f"| {el} | {cls} | {table.counts[(el, cls)]} |" in text


def test_coverage_counts_what_is_decoded_not_intended(tmp_path, model_dir):
    # a corpus of only the malformed group: no DRED classes, the error classes present

    generate(tmp_path / "m", 1, stats_model(model_dir), groups=["ext-malformed"])
    table = compute_coverage(tmp_path / "m", stats_model(model_dir))
    assert table.counts[("ext.error", "ext-rte-trailing-shorts-missing")] == 1
    assert table.counts[("dred.locate", "found")] == 0
    assert "dred.q0: 0" in table.empty_cells()


def test_cli_and_doc_are_current(corpus, model_dir):
    r = CliRunner().invoke(main, ["vectors", "coverage", "--strict", "--model", str(model_dir), str(corpus)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("# Corpus coverage (seed 1")
    assert DOC.read_text(encoding="utf-8") == r.stdout, \
        "docs/COVERAGE.md is stale: regenerate it with 'dredconf vectors generate OUT && dredconf vectors coverage OUT -o docs/COVERAGE.md'"


def test_other_seeds_cover_everything_too(tmp_path_factory, model_dir):
    for seed in (2, 3):
        corpus = generated(tmp_path_factory.getbasetemp(), model_dir, seed)
        assert compute_coverage(corpus, stats_model(model_dir)).empty_cells() == [], seed
