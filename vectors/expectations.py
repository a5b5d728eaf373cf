"""Expectations checked against the reference decoder: before a corpus is written (``cross_check``), and
when a written corpus is verified (``check_expectations``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dredconf.errors import StreamError
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.reference.fargan import FarganSynthesizer
from dredconf.reference.model import load_model
from dredconf.spec import read_stream

from .corpus import Corpus


class GenerationError(RuntimeError):
    """The reference decoder disagrees with what the generator encoded (nothing is written)."""


def first_difference(expected: Any, got: Any, path: str = "") -> str | None:
    """The first path where two JSON values differ, with both values, or None."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in list(expected) + [k for k in got if k not in expected]:
            if k not in got:
                return f"{path}.{k}: missing (expected {expected[k]!r})"
            if k not in expected:
                return f"{path}.{k}: unexpected {got[k]!r}"
            d = first_difference(expected[k], got[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(expected, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(expected, got)):
            d = first_difference(a, b, f"{path}[{i}]")
            if d:
                return d
        if len(expected) != len(got):
            return f"{path}: {len(got)} items, expected {len(expected)}"
        return None
    if expected != got or type(expected) is not type(got):
        return f"{path or 'record'}: {got!r}, expected {expected!r}"
    return None


def cross_check(corpus: Corpus, model) -> None:
    """Decode every vector with the reference decoder; raise GenerationError on the first disagreement."""
    dec = ReferenceDecoder(model)
    problems = []
    for group, vectors in corpus.groups.items():
        for i, v in enumerate(vectors):
            got = dec.decode_packet(v.packet, i).to_json(with_features=False)
            d = first_difference(v.record(i), got)
            if d:
                problems.append(f"{v.id} ({group}.bit packet {i}): {d}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GenerationError("the reference decoder disagrees with the generator: " + problems[0] + more
                              + "\n" + "\n".join(problems[1:20]))


def _check_vocoder(root: Path, manifest: dict, model) -> list[str]:
    m = load_model(model if not hasattr(model, "path") else model.path, parts=("fargan",))
    synth, problems = FarganSynthesizer(m), []
    for v in manifest["vocoder"]:
        features = np.frombuffer((root / v["features"]).read_bytes(), dtype="<f4").reshape(-1, 20)
        pcm = synth.synthesize(features).astype("<i2").tobytes()
        if pcm != (root / v["expected"]).read_bytes():
            problems.append(f"{v['id']} ({v['expected']}): the reference synthesises other samples")
    return problems


def check_expectations(root: Path, manifest: dict, model=None) -> list[str]:
    """Decode the corpus's streams with the reference decoder and compare with the manifest's records; synthesise
    its vocoder items again and compare with their expected PCM, byte for byte."""
    dec = ReferenceDecoder(model)
    problems = _check_vocoder(root, manifest, model) if manifest.get("vocoder") else []
    by_stream: dict[str, list[dict]] = {}
    for v in manifest["vectors"]:
        by_stream.setdefault(v["stream"], []).append(v)
    for path, vs in by_stream.items():
        recs = list(read_stream((root / path).read_bytes()))
        packets = [r for r in recs if not isinstance(r, StreamError)]
        if len(packets) != len(recs) or len(packets) != len(vs):
            problems.append(f"{path}: {len(packets)} packets, manifest lists {len(vs)}")
            continue
        for v, r in zip(vs, packets):
            got = dec.decode_packet(r.packet, r.index).to_json(with_features=False)
            d = first_difference(v["expected"], got)
            if d:
                problems.append(f"{v['id']} ({path} packet {r.index}): {d}")
    return problems
