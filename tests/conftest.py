"""Shared fixtures: the one way to the data (tests.helpers.shared), the ground truth, the loaded model, a corpus.

The ground truth is the installed vectors distribution (``dredconf_vectors``: what users install, rebuilt from
../shared by vectors/distribution/build_sets.py, and checked equal to it by tests/test_vectors_distribution.py); the
model comes from ../shared. A missing piece skips a test locally and fails it in CI (``CI`` set): a skip there would
hide one.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.arith import ARITH_CASES, select_arith
from tests.helpers.shared import EDGE_STREAMS, STREAMS, expected_records, require, shared_dir, vector_sets_dir


def _load_model(path: Path, parts: tuple[str, ...]):
    # imports the C core: not before the sanitizer plugin (tests/fuzz/sanitizer.py) installs its own
    from dredconf.reference.model import load_model

    return load_model(path, parts=parts)


@pytest.fixture(scope="session")
def shared() -> Path:
    return require(shared_dir(), "../shared")


@pytest.fixture(scope="session")
def vector_sets() -> Path:
    """The installed sets (dredconf_vectors), one directory per set."""
    return require(vector_sets_dir(), "the vectors distribution (pip install -e vectors/distribution)")


@pytest.fixture(scope="session")
def vectors_dir(vector_sets) -> Path:
    return require(vector_sets / "libopus-1.6.1", "libopus ground-truth vectors")


@pytest.fixture(scope="session")
def standalone_dir(vector_sets) -> Path:
    """libopus's standalone feature-decoder records (vector_dred.bit) and their features."""
    d = vector_sets / "libopus-1.6.1-standalone"
    require(d / "vector_dred.bit", "libopus standalone vectors")
    return d


@pytest.fixture(scope="session")
def edge_dir(vector_sets) -> Path:
    """libopus ground truth for the edge cases (BIGP: DRED payloads over 1,000 bytes; DERR: DRED before errors)."""
    return require(vector_sets / "libopus-1.6.1-edge", "libopus edge-case vectors")


@pytest.fixture(scope="session")
def vocoder_dir(vector_sets) -> Path:
    """libopus's FARGAN ground truth: X.features.f32, X.expected (its synthesis), X.orig (the speech)."""
    return require(vector_sets / "libopus-1.6.1-vocoder", "libopus vocoder vectors")


@pytest.fixture(scope="session")
def integration_dir(vector_sets) -> Path:
    """libopus's decode of streams with losses: X.bit, X.loss, X.expected (DRED on), X.plc-only (DRED ignored)."""
    return require(vector_sets / "libopus-1.6.1-integration", "libopus integration vectors")


@pytest.fixture(scope="session")
def model_dir(shared) -> Path:
    return require(shared / "model" / "opus-1.6.1", "model directory")


@pytest.fixture(scope="session")
def ground_truth(vectors_dir):
    """name -> (stream bytes, expected packet records) for S1, S2, S3, SYN."""
    return {s: ((vectors_dir / f"{s}.bit").read_bytes(), expected_records(vectors_dir / f"{s}.expected.json.gz"))
            for s in STREAMS}


@pytest.fixture(scope="session")
def model(model_dir):
    return _load_model(model_dir, parts=("stats", "decoder"))


@pytest.fixture(scope="session")
def fargan_model(model_dir):
    """The shared model with the FARGAN vocoder's weights only."""
    return _load_model(model_dir, parts=("fargan",))


@pytest.fixture(scope="session")
def stats(model_dir):
    """The quantizer tables (16 levels × dimension) of the shared model."""
    return _load_model(model_dir, parts=("stats",)).stats


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, model_dir) -> Path:
    """The default corpus (seed 1), generated once per session."""
    from tests.helpers.corpus import generated  # imports the C core: not before the sanitizer plugin installs its own

    return generated(tmp_path_factory.getbasetemp(), model_dir, 1)


@pytest.fixture
def benchmarks_enabled(request):
    """Skips a measurement that only means something timed (run with --benchmark-enable)."""
    opt = request.config.getoption
    if opt("benchmark_disable", default=True) and not opt("benchmark_enable", default=False):
        pytest.skip("benchmarks disabled (run with --benchmark-enable)")


@pytest.fixture(params=ARITH_CASES, ids=[f"{a}-{k}" for a, k in ARITH_CASES])
def arith(request):
    """Each arithmetic's C code (DC_ARITH_*), the hardware at each kernel level this machine has."""
    from dredconf.reference import rdovae as R
    from dredconf.reference._core import lib

    select_arith(*request.param)
    yield lib.DC_ARITH_EXACT if request.param[0] == "exact" else lib.DC_ARITH_SOFTFLOAT
    R.set_simd("auto")


@pytest.fixture(scope="session")
def edge_truth(edge_dir):
    """name -> (stream bytes, expected packet records) for the edge set (libopus-1.6.1-edge)."""
    return {s: ((edge_dir / f"{s}.bit").read_bytes(), expected_records(edge_dir / f"{s}.expected.json.gz"))
            for s in EDGE_STREAMS}
