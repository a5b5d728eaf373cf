"""The installed vector sets: the ``opus-dred-conformance-vectors`` distribution (``dredconf_vectors``), by name.

The distribution (built from ../shared by ``vectors/distribution/build_sets.py``) holds one directory per set
and an ``index.json`` (schema ``dredconf-vector-sets/1``) naming each with its kind, its source and the SHA-256 of
its ``SHA256SUMS``. ``dredconf vectors list`` shows them, ``vectors verify NAME`` checks one, and ``check
--vectors`` takes a name wherever it takes a path. An installed set is held to more than a directory: its
SHA256SUMS must be the one the index names, it must list every file of the set, every file must match it, and
every vector is read end to end (:func:`load_installed`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dredconf.vectors.sets import (
    INTEGRATION, PACKETS, STANDALONE, SUMS_NAME, VOCODER, VectorSet, counted, load_vector_set, packet_bytes, stream_samples, validate_vector,
)
from dredconf.vectors.setfiles import SAMPLE_RATE, VectorSetError
from dredconf.sums import read_sums, sha256_file

DISTRIBUTION = "opus-dred-conformance-vectors"
INSTALL = f"pip install {DISTRIBUTION}"
INDEX_NAME, INDEX_SCHEMA = "index.json", "dredconf-vector-sets/1"
#: What ``vectors list`` calls a set, by the kind of its vectors.
SET_KINDS = {PACKETS: "features", STANDALONE: "standalone", VOCODER: "vocoder", INTEGRATION: "integration"}


@dataclass(frozen=True)
class InstalledSet:
    """A set as the index names it."""

    name: str
    kind: str
    source: str
    sha256sums: str
    path: Path


def sets_dir() -> Path | None:
    """Where the installed distribution keeps its sets; None when it is not installed."""
    try:
        import dredconf_vectors
    except ImportError:
        return None
    return Path(dredconf_vectors.SETS_DIR)


def installed_sets(root: Path | None = None) -> list[InstalledSet]:
    """The sets ``root/index.json`` names (default: the installed distribution's; [] when it is not installed)."""
    root = sets_dir() if root is None else root
    if root is None:
        return []
    index = root / INDEX_NAME
    try:
        m = json.loads(index.read_text(encoding="utf-8"))
        if m.get("schema") != INDEX_SCHEMA:
            raise ValueError(f"schema {m.get('schema')!r}")
        sets = [InstalledSet(e["name"], e["kind"], e["source"], e["sha256sums"], root / e["name"]) for e in m["sets"]]
        if any(not s.name or "/" in s.name or s.name.startswith(".") for s in sets):
            raise ValueError("a set name that is not a directory name")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise VectorSetError(f"{index}: not a {INDEX_SCHEMA} index ({e})", rule="set-index") from None
    return sets


def installed_names() -> list[str]:
    return [s.name for s in installed_sets()]


def find_installed(name: str) -> InstalledSet | None:
    return next((s for s in installed_sets() if s.name == name), None)


def resolve_vectors(arg: str) -> tuple[Path, InstalledSet | None]:
    """A ``--vectors`` argument: an existing path as it is, else the installed set of that name (its directory).
    Neither is a :class:`VectorSetError` that lists what is installed."""
    path = Path(arg)
    if path.exists():
        return path, None
    found = find_installed(arg)
    if found is not None:
        return found.path, found
    names = installed_names()
    have = f"installed sets: {', '.join(names)}" if names else f"no set is installed ({INSTALL})"
    raise VectorSetError(f"{arg}: no such file or directory, nor an installed vector set ({have})", rule="set-missing")


def load_vectors(arg: str, *, validate: bool = True) -> VectorSet:
    """The set a ``--vectors`` argument names: a path (:func:`load_vector_set`) or an installed set
    (:func:`load_installed`)."""
    path, installed = resolve_vectors(arg)
    return load_installed(installed, validate=validate) if installed else load_vector_set(path, validate=validate)


def load_installed(s: InstalledSet, *, validate: bool = True) -> VectorSet:
    """An installed set checked against the index, its SHA256SUMS (which must list every file of the set) and,
    when ``validate``, every vector read end to end."""
    sums = s.path / SUMS_NAME
    if not s.path.is_dir():
        raise VectorSetError(f"{s.path}: listed in {INDEX_NAME} but not installed", rule="set-file-missing")
    if not sums.is_file():
        raise VectorSetError(f"{sums}: the set's {SUMS_NAME}, missing", rule="set-file-missing")
    got = sha256_file(sums)
    if got != s.sha256sums:
        raise VectorSetError(f"{sums}: sha256 {got[:16]}..., {INDEX_NAME} says {s.sha256sums[:16]}...",
                             rule="set-hash-mismatch")
    listed = set(read_sums(sums))
    stray = sorted(p.relative_to(s.path).as_posix() for p in s.path.rglob("*")
                   if p.is_file() and p.name != SUMS_NAME and p.relative_to(s.path).as_posix() not in listed)
    if stray:
        raise VectorSetError(f"{s.path / stray[0]}: not listed in the installed set's {SUMS_NAME}"
                             + (f" (nor {len(stray) - 1} more)" if len(stray) > 1 else ""), rule="set-unlisted")
    vset = load_vector_set(s.path, validate=validate)
    kinds = [SET_KINDS[k] for k in vset.kinds()]
    if kinds != [s.kind]:
        raise VectorSetError(f"{s.path}: {', '.join(kinds)} vectors, {INDEX_NAME} says {s.kind}", rule="set-index")
    vset.description = s.name
    return vset


def validate_all(vset: VectorSet) -> VectorSet:
    """Every vector of a set loaded without validation, read end to end now."""
    for v in vset.vectors:
        validate_vector(v)
    return vset


def size(vset: VectorSet) -> str:
    """What a set holds: ``4 streams, 1,241 packets``; audio sets add their duration (``13.4 s``)."""
    parts = []
    for kind in vset.kinds():
        vs = [v for v in vset.vectors if v.kind == kind]
        units = [packet_bytes(v) for v in vs]
        text = f"{counted(len(vs), kind)}, {counted(sum(map(len, units)), kind, units=True)}"
        if kind == VOCODER:
            text += f", {sum(map(len, units)) / 100:.1f} s"
        elif kind == INTEGRATION:
            text += f", {sum(stream_samples(v.input, u) for v, u in zip(vs, units)) / SAMPLE_RATE:.1f} s"
        parts.append(text)
    return "; ".join(parts)


__all__ = ["DISTRIBUTION", "INDEX_NAME", "INSTALL", "InstalledSet", "SET_KINDS", "find_installed", "installed_names",
           "installed_sets", "load_installed", "load_vectors", "resolve_vectors", "sets_dir", "size", "validate_all"]
