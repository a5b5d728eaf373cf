"""Vector sets: what ``check --vectors`` and ``vectors verify`` take, recognised by layout and validated before use.

A set is a directory (or one file) whose vectors are recognised by their file
names, one kind per vector:

==============  ==========================================================  ==========================
kind            files (per vector X)                                        judged on
==============  ==========================================================  ==========================
packets         ``X.bit`` (libopus test-tool stream) and ``X.expected.json  framing, dred, features
                [.gz]`` (libopus's records), or the corpus ``manifest.json``
                (expectations inline), or ``X.bit`` alone (the reference
                decoder's output is expected)
standalone      ``X_dred.bit`` (libopus's feature-decoder records) and      features
                ``X_dred_dec.f32[.gz]`` (what fargan_demo -dred-decoding
                writes), as libopus's ``tests/dred_vectors.sh`` lays them out
vocoder         ``X.features.f32`` (20 float32 per 10 ms) and               vocoder
                ``X.expected.sw`` (16 kHz s16le synthesis), ``X.orig.sw``
                optional (the speech the features came from)
integration     ``X.bit``, ``X.loss`` (opus_demo's -lossfile: one 0/1 per   integration
                packet) and ``X.expected.sw`` (16 kHz s16le decode)
==============  ==========================================================  ==========================

PCM (``X.expected.sw``, ``X.orig.sw``) may be FLAC instead, ``X.expected.flac``
(16-bit mono, 16 kHz; it decodes to the same samples), and an expectation file
may come in parts, ``X.expected.json.gz.00``, ``.01``, … (the bytes of the
whole file cut in order, as ``split -d`` cuts them: ``cat X.expected.json.gz.??``
rebuilds it): the forms the vectors distribution ships (``dredconf_vectors``),
read as they are.

Before any decoder runs, every vector is read end to end: a stream that
breaks, an expectation file that is missing, unreadable or not the schema, a
feature file of the wrong size, a file whose SHA-256 differs from the set's
``SHA256SUMS`` or manifest, or a directory with nothing recognisable is a
:class:`VectorSetError` naming the file and the rule (``check`` exits 2).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dredconf.errors import DredconfError, StreamError
from dredconf.spec import parse_packet, read_stream
from dredconf.spec.record import NUM_FEATURES, RecordError, validate_record
from dredconf.vectors.manifest import MANIFEST_NAME, ManifestError, load_manifest, sha256
from dredconf.spec.standalone import read_standalone
from dredconf.sums import SUMS_NAME, SumsCheck, SumsError, check_sums, sha256_file
from dredconf.vectors.setfiles import (VectorSetError, broken, file_parts, first_of, pcm_file, read_expected_json,
                                       read_f32, read_loss, read_pcm, whole_name)

PACKETS, STANDALONE, VOCODER, INTEGRATION = "packets", "standalone", "vocoder", "integration"
KINDS = (PACKETS, STANDALONE, VOCODER, INTEGRATION)
#: The conformance layers each kind of vector can test.
KIND_LAYERS = {PACKETS: ("framing", "dred", "features"), STANDALONE: ("features",), VOCODER: ("vocoder",),
               INTEGRATION: ("integration",)}
#: How reports count vectors of a kind (one, many) and what is in them (one, many).
KIND_NOUNS = {PACKETS: ("stream", "streams", "packet", "packets"),
              STANDALONE: ("record file", "record files", "record", "records"),
              VOCODER: ("feature file", "feature files", "frame", "frames"),
              INTEGRATION: ("stream with losses", "streams with losses", "packet", "packets")}


def counted(n: int, kind: str, *, units: bool = False) -> str:
    """``4 streams``, ``1,241 packets``, ``1 record file``."""
    one, many = KIND_NOUNS[kind][2:] if units else KIND_NOUNS[kind][:2]
    return f"{n:,} {one if n == 1 else many}"
#: What ``dredconf vectors capture`` writes beside a captured set (vectors/capture.py).
CAPTURE_NAME, CAPTURE_SCHEMA = "capture.json", "dredconf-capture/1"
#: Expectations computed by the reference decoder rather than read from the set.
FROM_REFERENCE = "reference decoder"
#: Wycheproof result classes of corpus vectors.
VALID, INVALID, ACCEPTABLE = "valid", "invalid", "acceptable"
FEATURE_ROW_BYTES = 4 * NUM_FEATURES


# ------------------------------------------------------------------------------------------------ vectors


@dataclass(frozen=True)
class Alternative:
    """Another record a conforming decoder may output for an ``acceptable`` packet."""

    label: str  # the manifest's ``behaviour`` text ("" when it has none)
    record: dict = field(compare=False, hash=False)


@dataclass(frozen=True)
class PacketRule:
    """What a corpus says about one packet beyond its expected record: its id, result class and alternatives."""

    id: str | None
    result: str = VALID
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True)
class Vector:
    """One vector of a set: the file a decoder reads (``input``) and where its expectations are."""

    name: str
    kind: str
    input: Path
    #: The expectation file (None: inline in the manifest, or computed by the reference decoder).
    expected: Path | None = None
    #: Where the expectations come from, for reports ("S1.expected.json.gz", "reference decoder", ...).
    source: str = FROM_REFERENCE
    #: Corpus vectors: the expected records inline, and one rule per packet (empty: all valid, no ids).
    records: tuple = field(default=(), compare=False, hash=False)
    rules: tuple[PacketRule, ...] = field(default=(), compare=False, hash=False)
    #: Integration: the loss pattern; vocoder: the original speech (optional).
    loss: Path | None = None
    original: Path | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return KIND_LAYERS[self.kind]

    def read_input(self) -> bytes:
        return self.input.read_bytes()


@dataclass
class VectorSet:
    root: Path
    layout: str  # "corpus" | "directory" | "file"
    vectors: list[Vector] = field(default_factory=list)
    description: str = ""
    #: The set's SHA256SUMS check (None when it has none; the corpus manifest carries its own hashes).
    sums: SumsCheck | None = None
    #: A captured set's capture.json (its decoder, version, thresholds, file hashes), checked against its files.
    capture: dict | None = None

    def select(self, names: list[str] | tuple[str, ...]) -> "VectorSet":
        """Only the named vectors (in the set's order); an unknown name is a :class:`VectorSetError`."""
        if not names:
            return self
        known = {v.name for v in self.vectors}
        missing = [n for n in names if n not in known]
        if missing:
            raise VectorSetError(f"no vector {', '.join(missing)} in {self.root} (have {', '.join(sorted(known))})",
                                 rule="set-no-such-vector")
        return dataclasses.replace(self, vectors=[v for v in self.vectors if v.name in names])

    def kinds(self) -> list[str]:
        return [k for k in KINDS if any(v.kind == k for v in self.vectors)]


# ------------------------------------------------------------------------------------------------ loading


def _stem(path: Path, suffix: str) -> str:
    return path.name[: -len(suffix)]


def _standalone_for(records: Path) -> Vector | None:
    """``X_dred.bit`` with its ``X_dred_dec.f32[.gz]`` (libopus's kit naming)."""
    if not records.name.endswith("_dred.bit"):
        return None
    stem = _stem(records, ".bit")
    dec = first_of(records.with_name(f"{stem}_dec.f32"), records.with_name(f"{stem}_dec.f32.gz"))
    if dec is None:
        return None
    return Vector(_stem(records, "_dred.bit") or stem, STANDALONE, records, dec, f"set: {whole_name(dec)}")


def _packets_for(stream: Path) -> Vector:
    stem = _stem(stream, ".bit")
    exp = first_of(stream.with_name(f"{stem}.expected.json.gz"), stream.with_name(f"{stem}.expected.json"))
    return Vector(stem, PACKETS, stream, exp, f"set: {whole_name(exp)}" if exp else FROM_REFERENCE)


def _integration_for(stream: Path) -> Vector | None:
    stem = _stem(stream, ".bit")
    loss, pcm = stream.with_name(f"{stem}.loss"), pcm_file(stream.with_name(f"{stem}.expected"))
    if not (loss.is_file() and pcm is not None):
        return None
    return Vector(stem, INTEGRATION, stream, pcm, f"set: {pcm.name}", loss=loss)


def _vocoder_for(features: Path) -> Vector | None:
    stem = _stem(features, ".features.f32")
    pcm = pcm_file(features.with_name(f"{stem}.expected"))
    if pcm is None:
        return None
    orig = pcm_file(features.with_name(f"{stem}.orig"))
    return Vector(stem, VOCODER, features, pcm, f"set: {pcm.name}", original=orig)


def _vector_for(path: Path) -> Vector:
    if path.name.endswith(".features.f32"):
        return _vocoder_for(path) or Vector(_stem(path, ".features.f32"), VOCODER, path, None)
    return _standalone_for(path) or _integration_for(path) or _packets_for(path)


def _corpus(root: Path) -> VectorSet:
    """A ``dredconf vectors generate`` corpus: expectations and per-packet rules inside its manifest."""
    try:
        m = load_manifest(root)
    except ManifestError as e:
        raise VectorSetError(str(e), rule="set-manifest") from None
    _check_manifest_files(root, m)
    records: dict[str, list[dict]] = {s["path"]: [] for s in m["streams"]}
    rules: dict[str, list[PacketRule]] = {s["path"]: [] for s in m["streams"]}
    for v in m["vectors"]:
        alts = tuple(Alternative(str(a.get("behaviour") or ""), a["expected"]) for a in v.get("alternatives", ()))
        records[v["stream"]].append(v["expected"])
        rules[v["stream"]].append(PacketRule(v["id"], v["result"], alts))
    label = f"dredconf vectors {m['generator']['version']} seed {m['seed']}: {MANIFEST_NAME}"
    vectors = [Vector(s["name"], PACKETS, root / s["path"], None, label, tuple(records[s["path"]]),
                      tuple(rules[s["path"]])) for s in m["streams"]]
    vectors += [Vector(v["id"], VOCODER, root / v["features"], root / v["expected"], label,
                       rules=(PacketRule(v["id"], v["result"]),)) for v in m.get("vocoder", ())]
    return VectorSet(root, "corpus", vectors, f"dredconf vectors corpus, seed {m['seed']}")


def _check_manifest_files(root: Path, m: dict) -> None:
    for f in m["files"]:
        p = root / f["path"]
        if not p.is_file():
            raise VectorSetError(f"{p}: listed in {MANIFEST_NAME} but missing", rule="set-file-missing")
        data = p.read_bytes()
        if len(data) != f["bytes"] or sha256(data) != f["sha256"]:
            raise VectorSetError(f"{p}: sha256 {sha256(data)[:16]}..., {len(data)} bytes; {MANIFEST_NAME} says "
                                 f"{f['sha256'][:16]}..., {f['bytes']} bytes", rule="set-hash-mismatch")


def _directory(root: Path) -> VectorSet:
    vectors = [_vector_for(p) for p in sorted(root.glob("*.bit"))]
    vectors += [v for v in map(_vocoder_for, sorted(root.glob("*.features.f32"))) if v is not None]
    if not vectors:
        found = sorted(p.name for p in root.iterdir())[:8]
        raise VectorSetError(f"{root}: no vectors recognised (want X.bit with X.expected.json[.gz], a manifest.json, "
                             "libopus's X_dred.bit with X_dred_dec.f32, X.features.f32 with X.expected.sw|flac, or "
                             f"X.bit with X.loss and X.expected.sw|flac); found {', '.join(found) or 'nothing'}",
                             rule="set-nothing-recognised")
    return VectorSet(root, "directory", vectors)


def load_vector_set(path: str | Path, *, validate: bool = True) -> VectorSet:
    """The set at ``path`` (a directory or one file), validated unless ``validate`` is false."""
    p = Path(path)
    if not p.exists():
        raise VectorSetError(f"{p}: no such file or directory", rule="set-missing")
    try:
        if p.is_dir() and (p / MANIFEST_NAME).is_file():
            vset = _corpus(p)
        elif p.is_dir():
            vset = _directory(p)
            vset.sums = _sums(p)
            vset.capture = read_capture(p)
        else:
            vset = VectorSet(p.parent, "file", [_vector_for(p)])
            vset.sums = _sums(p.parent, only={f.name for f in _files(vset.vectors[0])})
        if validate:
            for v in vset.vectors:
                validate_vector(v)
    except OSError as e:
        raise VectorSetError(f"{e.filename or p}: {e.strerror or e}", rule="set-unreadable") from None
    return vset


def read_capture(directory: Path) -> dict | None:
    """A captured set's capture.json, every file it lists checked by size and SHA-256; None when it has none."""
    path = directory / CAPTURE_NAME
    if not path.is_file():
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
        listed = {f["path"]: (f["sha256"], f["bytes"]) for f in m["files"]}
        th = m["thresholds"]
        if m.get("schema") != CAPTURE_SCHEMA or sorted(th) != ["err16", "err4", "pitch"]:
            raise ValueError(f"schema {m.get('schema')!r}, thresholds {th!r}")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise VectorSetError(f"{path}: not a {CAPTURE_SCHEMA} manifest ({e})", rule="set-manifest") from None
    for name, (sha, size) in listed.items():
        p = directory / name
        if not p.is_file():
            raise VectorSetError(f"{p}: listed in {CAPTURE_NAME} but missing", rule="set-file-missing")
        got = sha256_file(p)
        if p.stat().st_size != size or got != sha:
            raise VectorSetError(f"{p}: sha256 {got[:16]}..., {CAPTURE_NAME} says {sha[:16]}...",
                                 rule="set-hash-mismatch")
    return m


def _sums(directory: Path, only: set[str] | None = None) -> SumsCheck | None:
    try:
        result = check_sums(directory, only=only)
    except SumsError as e:
        raise VectorSetError(str(e), rule="sums-syntax") from None
    if result is not None and not result.ok:
        raise VectorSetError(f"{directory}: {'; '.join(result.problems())}", rule="set-hash-mismatch")
    return result


# ------------------------------------------------------------------------------------------------ validation

_cache: dict[tuple, Any] = {}


def _files(v: Vector) -> list[Path]:
    """Every file a vector reads (each part of a file that comes in parts)."""
    return [p for f in (v.input, v.expected, v.loss, v.original) if f is not None for p in file_parts(f)]


def _key(v: Vector) -> tuple:
    return (v.kind, v.name, *((str(f), os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in _files(v)))


def packet_bytes(v: Vector) -> list[bytes]:
    """The packets (or standalone records' bytes, or feature frames) of a vector's input, in order; a broken file
    raises."""
    data = v.read_input()
    if v.kind == VOCODER:
        if not data or len(data) % FEATURE_ROW_BYTES:
            raise broken(v.input, f"{len(data)} bytes, not a whole number of {NUM_FEATURES}-float32 frames "
                          f"({FEATURE_ROW_BYTES} bytes each), or empty", rule="features-size")
        return [data[i:i + FEATURE_ROW_BYTES] for i in range(0, len(data), FEATURE_ROW_BYTES)]
    if v.kind == STANDALONE:
        try:
            return [r.to_bytes() for r in read_standalone(data)]
        except StreamError as e:
            raise VectorSetError(f"{v.input}: {e}", rule=e.rule) from None
    out = []
    for rec in read_stream(data):
        if isinstance(rec, StreamError):
            raise VectorSetError(f"{v.input}: not a readable stream: {rec}", rule=rec.rule)
        out.append(rec.packet)
    if not out:
        raise broken(v.input, "an empty stream (no packet records)", rule="stream-empty")
    return out


def validate_vector(v: Vector) -> Any:
    """Read a vector's files end to end and return its expectations (cached per file state), or raise."""
    key = _key(v)
    if key in _cache:
        return _cache[key]
    units = packet_bytes(v)
    if v.kind == STANDALONE:
        expected = _validate_standalone(v, units)
    elif v.kind == VOCODER:
        expected = _validate_pcm(v.expected, 160 * len(units), f"160 per 10 ms frame of {v.input.name}")
        if v.original is not None:
            read_pcm(v.original)
    elif v.kind == INTEGRATION:
        read_loss(v.loss, len(units))
        expected = _validate_pcm(v.expected, stream_samples(v.input, units), f"the duration of {v.input.name} at 16 kHz")
    else:
        expected = _validate_packets(v, len(units))
    _cache[key] = expected
    return expected


def _validate_packets(v: Vector, count: int) -> list[dict] | None:
    if v.records:
        records, where = [dict(r) for r in v.records], v.source
    elif v.expected is not None:
        records, where = read_expected_json(v.expected), str(v.expected)
    else:
        return None
    if len(records) != count:
        raise VectorSetError(f"{where}: {len(records)} expected records for the {count} packets of {v.input.name}",
                             rule="expected-count")
    for i, rec in enumerate(records):
        try:
            validate_record(rec, f"packets[{i}]", complete=True)
        except RecordError as e:
            raise VectorSetError(f"{where}: {e}", rule="expected-schema") from None
        if rec["index"] != i:
            raise VectorSetError(f"{where}: packets[{i}].index = {rec['index']}, expected {i}", rule="expected-schema")
    return records


def standalone_row_counts(records: list[bytes]) -> list[int]:
    """Feature rows fargan_demo writes per record: 2 per chunk (4 per latent)."""
    return [2 * int.from_bytes(r[4:8], "big") for r in records]


def _validate_standalone(v: Vector, records: list[bytes]) -> bytes:
    data = read_f32(v.expected)
    want = sum(standalone_row_counts(records))
    if len(data) != want * FEATURE_ROW_BYTES:
        raise broken(v.expected, f"{len(data)} bytes, expected {want} rows of {NUM_FEATURES} float32 "
                      f"({want * FEATURE_ROW_BYTES} bytes) for the {len(records)} records of {v.input.name}",
                      rule="expected-size")
    return data


def _validate_pcm(path: Path, want: int, what: str) -> bytes:
    data = read_pcm(path)
    if len(data) != 2 * want:
        raise broken(path, f"{len(data) // 2} samples, expected {want} ({what})", rule="pcm-size")
    return data


def packet_samples(packets: list[bytes], stream: Path | None = None) -> list[int]:
    """Each packet's duration in 16 kHz samples (RFC 6716 §3.1: the TOC's frame size times the frame count)."""
    out = []
    for i, p in enumerate(packets):
        try:
            out.append(parse_packet(p).duration_samples // 3)  # 48 kHz samples to 16 kHz
        except DredconfError as e:
            raise VectorSetError(f"{stream}: {e.at(packet=i)}", rule=e.rule) from None
    return out


def stream_samples(stream: Path, packets: list[bytes]) -> int:
    """16 kHz samples a stream decodes to."""
    return sum(packet_samples(packets, stream))


__all__ = ["ACCEPTABLE", "Alternative", "counted", "FROM_REFERENCE", "INTEGRATION", "INVALID", "KIND_LAYERS",
           "KIND_NOUNS", "KINDS", "load_vector_set", "packet_bytes", "packet_samples", "PacketRule", "PACKETS",
           "STANDALONE", "standalone_row_counts", "stream_samples", "SUMS_NAME", "VALID", "validate_vector", "Vector",
           "VectorSet", "VOCODER"]
