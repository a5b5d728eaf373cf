"""Where the data is, found one way for tests and fuzz targets: the libopus 1.6.1 ground truth from the installed
vectors distribution (``dredconf_vectors``, built from ``../shared``: the copy users get), the model from ``../shared``
(or ``$DREDCONF_MODEL``)."""
from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The libopus 1.6.1 ground-truth streams of the set ``libopus-1.6.1``.
STREAMS = ("S1", "S2", "S3", "SYN")
#: The edge cases of the set ``libopus-1.6.1-edge``.
EDGE_STREAMS = ("BIGP", "DERR")


def shared_dir() -> Path | None:
    """``$DREDCONF_SHARED`` or ``../shared`` beside the checkout; None when absent."""
    p = Path(os.environ.get("DREDCONF_SHARED", ROOT.parent / "shared"))
    return p if p.is_dir() else None


def vector_sets_dir() -> Path | None:
    """The installed vectors distribution's sets (``pip install -e vectors/distribution``); None when it is not
    installed."""
    from dredconf.vectors.installed import sets_dir

    return sets_dir()


def model_dir() -> Path | None:
    """The model the fuzz targets load: ``$DREDCONF_MODEL``, else ``../shared/model/opus-1.6.1``; None when absent."""
    env = os.environ.get("DREDCONF_MODEL")
    if env and Path(env).exists():
        return Path(env)
    s = shared_dir()
    p = s / "model" / "opus-1.6.1" if s else None
    return p if p is not None and p.is_dir() else None


def require(path: Path | None, what: str) -> Path:
    """``path`` if it exists; else a failure in CI (a skip there would hide one) and a skip elsewhere."""
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing in CI: {path}")
        pytest.skip(f"{what} not available: {path}")
    return path


@lru_cache(maxsize=None)
def expected_records(path: Path) -> list[dict]:
    """The ``packets`` of a ground-truth ``*.expected.json.gz`` (shipped whole or in parts)."""
    from dredconf.vectors.setfiles import located, read_whole

    return json.loads(gzip.decompress(read_whole(located(path) or path)))["packets"]


def pcm(base: Path) -> Path:
    """``base.sw`` or ``base.flac``: a set's PCM in the form it has (e.g. ``pcm(d / "S1.expected")``)."""
    from dredconf.vectors.setfiles import pcm_file

    return pcm_file(base) or base.with_name(base.name + ".sw")
