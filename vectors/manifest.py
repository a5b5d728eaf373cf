"""The corpus manifest (``manifest.json``): schema, validation on load, and ``verify``.

Schema ``dredconf-vectors/1`` (docs/VECTORS.md is the prose version)::

    {
      "schema": "dredconf-vectors/1",
      "generator": {"name": "dredconf.vectors", "version": "1.1.0"},
      "seed": 1,
      "model": {"name": "opus-1.6.1", "model_id": "<sha256>",
                "stats_file": "dred_rdovae_stats_data.c", "stats_sha256": "<sha256>"},
      "dred": {"extension_id": 126, "prefix": "440c"},
      "stream_format": "libopus test-tool: 4-byte BE length, 4-byte BE final range (0: not checked), packet",
      "results": {"valid": "...", "invalid": "...", "acceptable": "..."},
      "flags": {"FlagName": "what rule it exercises", ...},
      "files": [{"path": "dred-header.bit", "sha256": "<sha256>", "bytes": 1234, "kind": "stream", "packets": 300}],
      "streams": [{"name": "dred-header", "path": "dred-header.bit", "comment": "...", "vectors": 300}],
      "vectors": [{"id": "dred-q0-03-dq-5", "stream": "dred-header.bit", "packet": 0, "comment": "...",
                   "flags": [...], "result": "valid" | "invalid" | "acceptable",
                   "expected": {per-packet record, no features},
                   "alternatives": [{"behaviour": "...", "expected": {...}}]}]   # acceptable only
    }

Every path is relative to the manifest, POSIX separators, no ``..``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from dredconf.spec.record import RecordError, is_int, validate_record as validate_packet_record

from .flags import RESULTS

SCHEMA = "dredconf-vectors/1"
MANIFEST_NAME = "manifest.json"
FILE_KINDS = ("stream", "ogg", "standalone", "features", "pcm")


class ManifestError(ValueError):
    """A manifest that does not follow the schema (the message names the first offending place)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- validation ----------------------------------------------------------------------------------

def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ManifestError(f"{MANIFEST_NAME}: {where}: {what}")


def _rel_path(p: Any, where: str) -> str:
    _need(isinstance(p, str) and p != "", where, "a relative path string")
    pp = PurePosixPath(p)
    _need(not pp.is_absolute() and ".." not in pp.parts and "\\" not in p, where, f"{p!r} is not a plain relative path")
    return p


def _sha(v: Any, where: str) -> None:
    _need(isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v), where,
          "a lowercase hex SHA-256")


def validate_record(rec: Any, where: str) -> None:
    """One expected per-packet record: complete by the record's schema (spec/record.py), without features."""
    try:
        validate_packet_record(rec, where, complete=True)
    except RecordError as e:
        raise ManifestError(f"{MANIFEST_NAME}: {e}") from None
    _need(rec["dred"] is None or "features" not in rec["dred"], f"{where}.dred", "no features in an expectation")


def _among(x: Any, choices) -> bool:
    """``x`` is a string and one of ``choices`` (JSON lists and objects are unhashable: test the type first)."""
    return isinstance(x, str) and x in choices


def validate_manifest(m: Any) -> None:
    """Raise :class:`ManifestError` unless ``m`` follows schema ``dredconf-vectors/1``."""
    _need(isinstance(m, dict), "top level", "an object")
    _need(m.get("schema") == SCHEMA, "schema", f"{SCHEMA!r} expected, found {m.get('schema')!r}")
    g = m.get("generator")
    _need(isinstance(g, dict) and isinstance(g.get("name"), str) and isinstance(g.get("version"), str),
          "generator", "an object with name and version strings")
    _need(is_int(m.get("seed")) and m["seed"] >= 0, "seed", "a non-negative integer")
    mo = m.get("model")
    _need(isinstance(mo, dict), "model", "an object")
    _sha(mo.get("stats_sha256"), "model.stats_sha256")
    _need(isinstance(mo.get("stats_file"), str), "model.stats_file", "a file name")
    if mo.get("model_id") is not None:
        _sha(mo["model_id"], "model.model_id")
    dr = m.get("dred")
    _need(isinstance(dr, dict) and is_int(dr.get("extension_id")) and isinstance(dr.get("prefix"), str),
          "dred", "an object with extension_id and prefix (hex)")
    flags = m.get("flags")
    _need(isinstance(flags, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in flags.items()),
          "flags", "an object: flag -> description")
    files = m.get("files")
    paths = _files(files)
    vocoder = m.get("vocoder", [])
    _need(isinstance(vocoder, list), "vocoder", "a list")
    stream_paths = _streams(m.get("streams"), paths, empty_ok=bool(vocoder))
    vectors = m.get("vectors")
    _need(isinstance(vectors, list) and (vectors or vocoder), "vectors", "a non-empty list")
    ids: set[str] = set()
    for i, v in enumerate(vectors):
        _vector(v, i, ids, flags, stream_paths)
    kinds = {f["path"]: f["kind"] for f in files}
    for i, v in enumerate(vocoder):
        _vocoder_item(v, i, ids, flags, kinds)
    for f in files:
        if f["kind"] == "stream" and f["path"] in stream_paths:
            _need(f.get("packets") == stream_paths[f["path"]], f"files ({f['path']}).packets",
                  f"{stream_paths[f['path']]} vectors use it")


def _files(files: Any) -> set[str]:
    """The ``files`` list; their paths."""
    _need(isinstance(files, list) and files, "files", "a non-empty list")
    paths: set[str] = set()
    for i, f in enumerate(files):
        w = f"files[{i}]"
        _need(isinstance(f, dict), w, "an object")
        p = _rel_path(f.get("path"), f"{w}.path")
        _need(p not in paths and p != MANIFEST_NAME, f"{w}.path", f"{p!r} listed twice or the manifest itself")
        paths.add(p)
        _sha(f.get("sha256"), f"{w}.sha256")
        _need(is_int(f.get("bytes")) and f["bytes"] >= 0, f"{w}.bytes", "a non-negative integer")
        _need(_among(f.get("kind"), FILE_KINDS), f"{w}.kind", f"one of {', '.join(FILE_KINDS)}")
    return paths


def _streams(streams: Any, paths: set[str], empty_ok: bool = False) -> dict[str, int]:
    """The ``streams`` list; {stream path: 0}, counted up by the vectors."""
    _need(isinstance(streams, list) and (streams or empty_ok), "streams", "a non-empty list")
    stream_paths = {}
    for i, s in enumerate(streams):
        w = f"streams[{i}]"
        _need(isinstance(s, dict) and isinstance(s.get("name"), str), w, "an object with a name")
        p = _rel_path(s.get("path"), f"{w}.path")
        _need(p in paths, f"{w}.path", f"{p!r} is not in files")
        stream_paths[p] = 0
    return stream_paths


def _entry(v: Any, where: str, ids: set[str], flags: dict) -> str:
    """What every entry has: a unique id, a comment, flags from the table; returns its name for messages."""
    _need(isinstance(v, dict), where, "an object")
    vid = v.get("id")
    _need(isinstance(vid, str) and vid and vid not in ids, f"{where}.id", "a unique non-empty string")
    ids.add(vid)
    w = f"{where} ({vid})"
    _need(isinstance(v.get("comment"), str) and v["comment"], f"{w}.comment", "a non-empty string")
    _need(isinstance(v.get("flags"), list) and all(_among(f, flags) for f in v["flags"]), f"{w}.flags",
          "a list of flags from the manifest's flag table")
    return w


def _vector(v: Any, i: int, ids: set[str], flags: dict, stream_paths: dict[str, int]) -> None:
    """One entry of ``vectors`` (the next packet of its stream)."""
    w = _entry(v, f"vectors[{i}]", ids, flags)
    _need(_among(v.get("result"), RESULTS), f"{w}.result", f"one of {', '.join(RESULTS)}")
    _need(_among(v.get("stream"), stream_paths), f"{w}.stream", "a path listed in streams")
    _need(is_int(v.get("packet")) and v["packet"] == stream_paths[v["stream"]], f"{w}.packet",
          f"the next packet index of its stream ({stream_paths[v['stream']]})")
    stream_paths[v["stream"]] += 1
    validate_record(v.get("expected"), f"{w}.expected")
    _need(v["expected"]["index"] == v["packet"], f"{w}.expected.index", "equal to packet")
    alts = v.get("alternatives", [])
    _need(isinstance(alts, list), f"{w}.alternatives", "a list")
    _need((v["result"] == "acceptable") == bool(alts), f"{w}.alternatives", "present exactly for acceptable vectors")
    for j, a in enumerate(alts):
        _need(isinstance(a, dict) and isinstance(a.get("behaviour"), str), f"{w}.alternatives[{j}]",
              "an object with a behaviour string")
        validate_record(a.get("expected"), f"{w}.alternatives[{j}].expected")
    if v["result"] == "invalid":
        _need(v["expected"]["extension_error"] is not None, f"{w}.expected.extension_error",
              "an invalid vector expects the error")


def _vocoder_item(v: Any, i: int, ids: set[str], flags: dict, kinds: dict[str, str]) -> None:
    """One entry of ``vocoder``: a features file, the PCM the reference synthesises from it, its frame count."""
    w = _entry(v, f"vocoder[{i}]", ids, flags)
    _need(v.get("result") in ("valid", "acceptable"), f"{w}.result", "'valid' or 'acceptable'")
    if v["result"] == "acceptable":
        _need(isinstance(v.get("behaviour"), str) and v["behaviour"], f"{w}.behaviour",
              "why the item is acceptable rather than valid")
    for key, kind in (("features", "features"), ("expected", "pcm")):
        _need(kinds.get(v.get(key)) == kind, f"{w}.{key}", f"a path listed in files with kind {kind!r}")
    _need(is_int(v.get("frames")) and v["frames"] >= 1, f"{w}.frames", "a positive integer")


def load_manifest(directory: str | Path) -> dict:
    """Read and validate ``DIR/manifest.json``."""
    p = Path(directory) / MANIFEST_NAME
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{p}: no manifest") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{p}: not readable JSON ({e})") from None
    validate_manifest(m)
    return m


def dumps(m: dict) -> str:
    """The manifest as written: deterministic, one vector per line (diffable), UTF-8, final newline."""
    head = {k: v for k, v in m.items() if k != "vectors"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    lines = text[:text.rindex("}")].rstrip()
    body = ",\n".join("  " + json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in m["vectors"])
    return f"{lines},\n \"vectors\": [\n{body}\n ]\n}}\n"


# --- verify --------------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed or self.problems)

    def lines(self) -> list[str]:
        out = [f"missing: {p}" for p in self.missing]
        out += [f"extra: {p}" for p in self.extra]
        out += [f"changed: {p}" for p in self.changed]
        out += [f"error: {p}" for p in self.problems]
        return out


def verify_corpus(directory: str | Path, *, decode: bool = False, model=None) -> VerifyReport:
    """Check a corpus against its manifest: missing, extra and changed files (by SHA-256 and size).

    ``decode`` also decodes every stream with the reference decoder and
    compares each packet with its expected record (a changed expectation).
    """
    root = Path(directory)
    rep = VerifyReport()
    try:
        m = load_manifest(root)
    except ManifestError as e:
        rep.problems.append(str(e))
        return rep
    listed = {f["path"]: f for f in m["files"]}
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    rep.missing = sorted(set(listed) - present)
    rep.extra = sorted(present - set(listed))
    for path in sorted(set(listed) & present):
        data = (root / path).read_bytes()
        f = listed[path]
        if len(data) != f["bytes"] or sha256(data) != f["sha256"]:
            rep.changed.append(f"{path} (sha256 {sha256(data)[:16]}..., {len(data)} bytes; manifest "
                               f"{f['sha256'][:16]}..., {f['bytes']} bytes)")
    if decode and not (rep.missing or rep.changed):
        from .expectations import check_expectations  # the reference and its C core, only when decoding

        rep.problems += check_expectations(root, m, model)
    return rep
