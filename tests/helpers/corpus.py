"""One generated corpus per seed and session, for the tests that read a corpus."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dredconf.reference.model import load_model
from dredconf.vectors.generate import generate


@lru_cache(maxsize=None)
def stats_model(model_dir: Path):
    return load_model(model_dir, parts=("stats",))


@lru_cache(maxsize=None)
def generated(base: Path, model_dir: Path, seed: int, name: str = "corpus") -> Path:
    """A corpus for ``seed`` under ``base`` (generated once per session, then reused read-only)."""
    out = base / f"{name}-seed{seed}"
    generate(out, seed, stats_model(model_dir))
    return out
