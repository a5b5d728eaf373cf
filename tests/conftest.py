"""Shared fixtures: where ../shared is, the libopus ground truth, the loaded model."""
from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ("S1", "S2", "S3", "SYN")


def shared_dir() -> Path | None:
    """``$DREDCONF_SHARED`` or ``../shared`` beside the checkout; None when absent."""
    p = Path(os.environ.get("DREDCONF_SHARED", ROOT.parent / "shared"))
    return p if p.is_dir() else None


def _require(path: Path | None, what: str) -> Path:
    # In CI the ground truth must be there: a skip would hide a failure.
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing in CI: {path}")
        pytest.skip(f"{what} not available: {path}")
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return _require(shared_dir(), "../shared")


@pytest.fixture(scope="session")
def vectors_dir(shared) -> Path:
    return _require(shared / "vectors" / "libopus-1.6.1", "libopus ground-truth vectors")


@pytest.fixture(scope="session")
def model_dir(shared) -> Path:
    return _require(shared / "model" / "opus-1.6.1", "model directory")


@lru_cache(maxsize=None)
def _expected(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return json.load(f)["packets"]


@pytest.fixture(scope="session")
def ground_truth(vectors_dir):
    """name -> (stream bytes, expected packet records) for S1, S2, S3, SYN."""
    return {s: ((vectors_dir / f"{s}.bit").read_bytes(), _expected(vectors_dir / f"{s}.expected.json.gz")) for s in STREAMS}


@pytest.fixture(scope="session")
def model(model_dir):
    from dredconf.reference.model import load_model

    return load_model(model_dir, parts=("stats", "decoder"))


@pytest.fixture(scope="session")
def fargan_model(model_dir):
    """The shared model with the FARGAN vocoder's weights only."""
    from dredconf.reference.model import load_model

    return load_model(model_dir, parts=("fargan",))


@pytest.fixture(scope="session")
def vocoder_dir(shared) -> Path:
    return _require(shared / "vectors" / "libopus-1.6.1-vocoder", "libopus vocoder vectors")


@pytest.fixture(scope="session")
def stats(model_dir):
    """The quantizer tables (16 levels × dimension) of the shared model."""
    from dredconf.reference.model import load_model

    return load_model(model_dir, parts=("stats",)).stats


@pytest.fixture
def benchmarks_enabled(request):
    """Skips a measurement that only means something timed (run with --benchmark-enable)."""
    opt = request.config.getoption
    if opt("benchmark_disable", default=True) and not opt("benchmark_enable", default=False):
        pytest.skip("benchmarks disabled (run with --benchmark-enable)")


#: (arithmetic, hardware kernel level) pairs to run a kernel test in: the soft-float (its integer
#: sums from the best level), and the hardware at every level (tests skip those the machine lacks).
ARITH_CASES = [("softfloat", "auto"), ("exact", "off"), ("exact", "sse2"), ("exact", "avx2")]


def select_arith(name: str, level: str):
    """Selects the kernel level for a test in arithmetic `name`; skips what this machine cannot run."""
    from dredconf.reference import rdovae as R
    from dredconf.reference._core import lib

    if name == "exact" and not lib.dc_nn_hw_exact():
        pytest.skip("the hardware failed the self-check: exact runs the soft-float here")
    if R.set_simd(level) != level and level != "auto":
        R.set_simd("auto")
        pytest.skip(f"no {level} kernels on this machine")


def in_arith(request, make):
    """For a fixture over ARITH_CASES: the network ``make(arithmetic)`` builds, in the case's arithmetic and
    kernel level (the hardware's levels restored after)."""
    from dredconf.reference import rdovae as R

    name, level = request.param
    select_arith(name, level)
    network = make(name)
    assert network.runs.startswith(name)
    yield network
    R.set_simd("auto")


@pytest.fixture(params=ARITH_CASES, ids=[f"{a}-{k}" for a, k in ARITH_CASES])
def arith(request):
    """Each arithmetic's C code (DC_ARITH_*), the hardware at each kernel level this machine has."""
    from dredconf.reference import rdovae as R
    from dredconf.reference._core import lib

    select_arith(*request.param)
    yield lib.DC_ARITH_EXACT if request.param[0] == "exact" else lib.DC_ARITH_SOFTFLOAT
    R.set_simd("auto")


EDGE_STREAMS = ("BIGP", "DERR")


@pytest.fixture(scope="session")
def edge_truth(shared):
    """name -> (stream bytes, expected packet records) for the edge set (libopus-1.6.1-edge)."""
    d = _require(shared / "vectors" / "libopus-1.6.1-edge", "libopus edge vectors")
    return {s: ((d / f"{s}.bit").read_bytes(), _expected(d / f"{s}.expected.json.gz")) for s in EDGE_STREAMS}


@pytest.fixture(scope="session")
def standalone_dir(shared) -> Path:
    """libopus's standalone feature-decoder records with libopus's output (libopus-1.6.1-standalone)."""
    d = _require(shared / "vectors" / "libopus-1.6.1-standalone", "libopus standalone vectors")
    return _require(d / "vector_dred.bit", "vector_dred.bit").parent
