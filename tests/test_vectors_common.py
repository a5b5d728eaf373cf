"""Shared helpers for the test_vectors_* modules: one generated corpus per seed and session."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def stats_model(model_dir: Path):
    from dredconf.reference.model import load_model

    return load_model(model_dir, parts=("stats",))


@lru_cache(maxsize=None)
def generated(base: Path, model_dir: Path, seed: int, name: str = "corpus") -> Path:
    """A corpus for ``seed`` under ``base`` (generated once per session, then reused read-only)."""
    from dredconf.vectors.generate import generate

    out = base / f"{name}-seed{seed}"
    generate(out, seed, stats_model(model_dir))
    return out


def test_helpers_are_importable():
    assert callable(generated)
