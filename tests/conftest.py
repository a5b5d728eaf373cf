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
