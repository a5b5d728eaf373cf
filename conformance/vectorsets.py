"""Vector sets: which streams to check and what each is expected to decode to.

``--vectors PATH`` is handed to the first registered loader that accepts it:

* :class:`ManifestLoader`: a directory with ``manifest.json`` listing its
  streams and their expectations (see the class for the keys it reads);
* :class:`DirectoryLoader`: a plain directory of ``*.bit`` streams, each with
  an optional sibling ``NAME.expected.json.gz`` (or ``NAME.expected.json``),
  as ``../shared/vectors/libopus-1.6.1/`` is laid out;
* :class:`FileLoader`: one ``*.bit`` file, with the same sibling rule.

A vector without expectations is judged against the reference decoder's
output; every result says where its expectations came from. A set may also
give each packet a :class:`PacketRule` (``Vector.load_rules``): the corpus
manifest's vector id, Wycheproof result class and, for ``acceptable``
packets, the alternative records a conforming decoder may output instead
(the runner passes a layer that matches any of them). Plain directories and
files have none: every packet is judged against its expected record alone.

The interface is small on purpose, so another corpus layout plugs in without
touching the runner: a loader is any object with ``name``,
``accepts(path) -> bool`` and ``load(path) -> VectorSet``; add one with
:func:`register_loader` or through the ``dredconf.vector_sets`` entry-point
group (the entry point names a loader class or instance).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Expectations computed by the reference decoder rather than read from the set.
FROM_REFERENCE = "reference decoder"


@dataclass(frozen=True)
class Vector:
    """One stream of a set, with where its expectations are (``expected`` None: the reference decoder decides)."""

    name: str
    stream: Path
    expected: Path | None = None
    #: What the expectations are, for reports ("libopus 1.6.1: S1.expected.json.gz").
    expected_label: str | None = None

    @property
    def expected_source(self) -> str:
        if self.expected is None:
            return FROM_REFERENCE
        return self.expected_label or f"set: {self.expected.name}"

    def read_stream(self) -> bytes:
        return self.stream.read_bytes()

    def load_expected(self) -> list[dict] | None:
        """The expected records from the set, or None when the set has none for this stream."""
        if self.expected is None:
            return None
        return load_expected_file(self.expected)

    def load_rules(self) -> "list[PacketRule] | None":
        """Per packet: vector id, result class (valid, invalid, acceptable) and alternatives; None when the set has
        none (every packet is then judged against its expected record alone, as ``valid``)."""
        return None


# --- begin: dredconf vectors corpus (vectors/, docs/VECTORS.md) ----------------------------
#: Wycheproof result classes (``result`` of a corpus vector).
VALID, INVALID, ACCEPTABLE = "valid", "invalid", "acceptable"


@dataclass(frozen=True)
class Alternative:
    """Another record a conforming decoder may output for an ``acceptable`` packet."""

    label: str  # the manifest's ``behaviour`` text ("" when it has none)
    record: dict = field(compare=False, hash=False)


@dataclass(frozen=True)
class PacketRule:
    """What the set says about one packet beyond its expected record: its vector id, result class and alternatives."""

    id: str | None
    result: str = VALID
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True)
class InlineVector(Vector):
    """A stream whose expected records come inside its set's manifest (the ``dredconf vectors`` corpus)."""

    records: tuple = field(default=(), compare=False, hash=False)
    #: One per packet, in stream order (empty: every packet ``valid``, no ids).
    rules: tuple[PacketRule, ...] = field(default=(), compare=False, hash=False)

    def load_expected(self) -> list[dict] | None:
        return [dict(r) for r in self.records]

    def load_rules(self) -> list[PacketRule] | None:
        return list(self.rules) if self.rules else None


def _packet_rules(manifest: dict) -> dict[str, list[PacketRule]]:
    """Stream path -> the rule of each of its packets, from a validated ``dredconf-vectors/1`` manifest."""
    out: dict[str, list[PacketRule]] = {}
    for v in manifest["vectors"]:
        alts = tuple(Alternative(str(a.get("behaviour") or a.get("comment") or a.get("label") or ""), a["expected"])
                     for a in v.get("alternatives", ()))
        out.setdefault(v["stream"], []).append(PacketRule(v["id"], v["result"], alts))
    return out
# --- end: dredconf vectors corpus ------------------------------------------------------------


@dataclass
class VectorSet:
    root: Path
    kind: str  # the loader's name
    vectors: list[Vector] = field(default_factory=list)
    description: str = ""

    def select(self, names: list[str] | tuple[str, ...]) -> "VectorSet":
        """Only the named vectors (in the set's order); unknown names raise ``KeyError``."""
        if not names:
            return self
        known = {v.name for v in self.vectors}
        missing = [n for n in names if n not in known]
        if missing:
            raise KeyError(f"no vector {', '.join(missing)} in {self.root} (have {', '.join(sorted(known))})")
        return VectorSet(self.root, self.kind, [v for v in self.vectors if v.name in names], self.description)


def load_expected_file(path: Path) -> list[dict]:
    """``{"packets": [...]}`` (or a bare list) from a JSON file, gzip-compressed when it ends in ``.gz``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        obj = json.load(f)
    packets = obj["packets"] if isinstance(obj, dict) else obj
    if not isinstance(packets, list):
        raise ValueError(f"{path}: no packet list")
    return packets


@runtime_checkable
class VectorSetLoader(Protocol):
    name: str

    def accepts(self, path: Path) -> bool: ...

    def load(self, path: Path) -> VectorSet: ...


def _sibling_expectations(stream: Path) -> Path | None:
    stem = stream.name[: -len(".bit")] if stream.name.endswith(".bit") else stream.stem
    for suffix in (".expected.json.gz", ".expected.json"):
        p = stream.with_name(stem + suffix)
        if p.is_file():
            return p
    return None


def _vector_for(stream: Path) -> Vector:
    name = stream.name[: -len(".bit")] if stream.name.endswith(".bit") else stream.stem
    return Vector(name, stream, _sibling_expectations(stream))


class ManifestLoader:
    """A directory with ``manifest.json``.

    Provisional keys (the corpus manifest is being designed; this is the one
    method to adapt): ``{"streams": [{"name": ..., "path": "S1.bit",
    "expected": "S1.expected.json.gz" | null, "expected_from": "libopus
    1.6.1"}, ...], "description": ...}``; ``stream`` is accepted for
    ``path``, and ``vectors`` for ``streams``. Paths are relative to the
    manifest. An entry without ``expected`` is judged against the reference
    decoder.
    """

    name = "manifest"
    filename = "manifest.json"

    def accepts(self, path: Path) -> bool:
        return path.is_dir() and (path / self.filename).is_file()

    def entries(self, manifest: dict) -> list[dict[str, Any]]:
        entries = manifest.get("streams", manifest.get("vectors"))
        if not isinstance(entries, list):
            raise ValueError(f"{self.filename}: no \"streams\" list")
        return entries

    def load(self, path: Path) -> VectorSet:
        manifest = json.loads((path / self.filename).read_text(encoding="utf-8"))
        # --- begin: dredconf vectors corpus (schema dredconf-vectors/1): expectations inside the manifest
        if isinstance(manifest, dict) and manifest.get("schema") == "dredconf-vectors/1":
            from dredconf.vectors.manifest import stream_expectations  # validates the manifest

            streams = stream_expectations(path)
            rules = _packet_rules(manifest)  # validated just above
            corpus = [InlineVector(name, path / rel, path / self.filename, label, tuple(records), tuple(rules.get(rel, ())))
                      for name, rel, records, label in streams]
            return VectorSet(path, self.name, corpus, f"dredconf vectors corpus, seed {manifest.get('seed')}")
        # --- end: dredconf vectors corpus
        vectors = []
        for i, e in enumerate(self.entries(manifest)):
            rel = e.get("path", e.get("stream"))
            if not isinstance(rel, str):
                raise ValueError(f"{self.filename}: streams[{i}] has no path")
            stream = path / rel
            exp = e.get("expected")
            label = e.get("expected_from")
            vectors.append(Vector(
                e.get("name") or Path(rel).name.removesuffix(".bit"),
                stream,
                path / exp if exp else None,
                f"{label}: {exp}" if label and exp else None,
            ))
        return VectorSet(path, self.name, vectors, str(manifest.get("description", "")))


class DirectoryLoader:
    """A plain directory of ``*.bit`` streams with sibling ``*.expected.json.gz``."""

    name = "directory"

    def accepts(self, path: Path) -> bool:
        return path.is_dir()

    def load(self, path: Path) -> VectorSet:
        vectors = [_vector_for(p) for p in sorted(path.glob("*.bit"))]
        return VectorSet(path, self.name, vectors)


class FileLoader:
    """One stream file."""

    name = "file"

    def accepts(self, path: Path) -> bool:
        return path.is_file()

    def load(self, path: Path) -> VectorSet:
        return VectorSet(path.parent, self.name, [_vector_for(path)])


LOADERS: list[VectorSetLoader] = [ManifestLoader(), DirectoryLoader(), FileLoader()]
_entry_points_loaded = False


def register_loader(loader: VectorSetLoader, *, first: bool = True) -> None:
    """Add a loader; ``first`` puts it before the built-in ones so it wins on the paths it accepts."""
    if first:
        LOADERS.insert(0, loader)
    else:
        LOADERS.append(loader)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="dredconf.vector_sets"):
        obj = ep.load()
        register_loader(obj() if isinstance(obj, type) else obj)


def load_vector_set(path: str | Path) -> VectorSet:
    """The set at ``path``, read by the first loader that accepts it."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or directory")
    _load_entry_points()
    for loader in LOADERS:
        if loader.accepts(p):
            vs = loader.load(p)
            if not vs.vectors:
                raise ValueError(f"{p}: no streams found (want *.bit files or a manifest.json)")
            return vs
    raise ValueError(f"{p}: not a vector set")
