"""The error catalogue (docs/ERRORS.md) is complete and every error in it is triggered by a test.

``TRIGGERS`` holds, for every rule the code can report, the smallest input that
reports it through the public API; ``test_trigger[RULE]`` checks each. The
catalogue test reads docs/ERRORS.md and checks: every rule in the code (every
``rule="..."`` literal, and the ``{prefix}-...`` rules of spec/extensions.py
for both of their prefixes) has a row; every row's rule exists in the code;
every test a row names exists (file, function, and for ``test_trigger[...]``
the rule in ``TRIGGERS``).
"""
from __future__ import annotations

import ast
import re
import shutil
import struct
from pathlib import Path

import pytest

from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.profile import Profile
from dredconf.conformance.runner import CheckOptions, plan
from dredconf.errors import DredconfError, ExtensionError, LimitError, ModelError, PacketError, StreamError
from dredconf.reference.model import fetch_model, load_model
from dredconf.spec import parse_extensions, parse_packet, read_stream, write_stream
from dredconf.spec.ogg import ogg_crc, parse_ogg_opus, write_ogg_opus
from dredconf.spec.standalone import read_standalone
from dredconf.vectors.sets import load_vector_set
from dredconf.vectors.setfiles import VectorSetError
from tests.helpers.shared import require, shared_dir

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "docs" / "ERRORS.md"
CODE_DIRS = ("spec", "reference", "dredconf", "conformance", "vectors")


# ------------------------------------------------------------------ the rules in the code

# Rules the code spells out but no input can raise, with the reason (docs/ERRORS.md lists them apart).
UNREACHABLE = {
    # _payload gets tail = 0 outside Repeat These Extensions, and cur.left < 0 never holds
    "ext-trailing-shorts-missing": "spec/extensions.py",
}


def code_rules() -> dict[str, str]:
    """rule -> the file that raises it, from the source text (UNREACHABLE ones left out)."""
    found: dict[str, str] = {}
    for d in CODE_DIRS:
        for f in sorted((ROOT / d).rglob("*.py")):
            text = f.read_text()
            rel = f.relative_to(ROOT).as_posix()
            for m in re.finditer(r"""rule\s*=\s*["']([a-z0-9][a-z0-9.-]*)["']""", text):
                found.setdefault(m.group(1), rel)
            # spec/packet.py passes the rule to its reader as the 5th argument of _read(...)
            for m in re.finditer(r"""_read\([^)]*?,\s*["'](rfc6716-r\d)["']""", text):
                found.setdefault(m.group(1), rel)
            # spec/extensions.py: _fail(message, "rule", at) and _fail(message, f"{prefix}-rule", at)
            for m in re.finditer(r"""_fail\((?:[^()]|\([^()]*\))*?,\s*(f?)["']([^"']+)["']\s*,\s*at\)""", text, re.S):
                rule = m.group(2)
                if m.group(1) and "{prefix}" in rule:
                    prefixes = set(re.findall(r"""_payload\([^)]*["'](ext[a-z-]*)["']\)""", text))
                    assert prefixes, f"{rel}: no prefixes found for {rule}"
                    for p in prefixes:
                        found.setdefault(rule.replace("{prefix}", p), rel)
                else:
                    found.setdefault(rule, rel)
    for rule in UNREACHABLE:
        found.pop(rule, None)
    return found


def catalogue_rows() -> dict[str, dict]:
    """rule -> {kind, tests} from the catalogue's tables (rows ``| `rule` | Kind | message | where | tests |``)."""
    rows = {}
    for line in CATALOGUE.read_text().splitlines():
        m = re.match(r"^\|\s*`([a-z0-9][a-z0-9.-]*)`\s*\|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        tests = re.findall(r"`(tests/[\w/.-]+\.py::[\w\[\].-]+)`", cells[-1])
        rows[m.group(1)] = {"kind": cells[0], "tests": tests}
    return rows


def test_every_rule_in_the_code_is_catalogued():
    code, rows = code_rules(), catalogue_rows()
    assert len(code) > 30, code  # the scan works
    missing = sorted(set(code) - set(rows))
    assert not missing, f"rules in the code but not in docs/ERRORS.md: {missing} ({[code[r] for r in missing]})"


def test_every_catalogued_rule_is_in_the_code():
    stale = sorted(set(catalogue_rows()) - set(code_rules()))
    assert not stale, f"docs/ERRORS.md lists rules no code raises: {stale}"


def _test_exists(ref: str) -> bool:
    path, _, name = ref.partition("::")
    func, _, param = name.partition("[")
    f = ROOT / path
    if not f.is_file():
        return False
    names = {n.name for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if func not in names:
        return False
    if param and path.endswith("test_hardening_errors.py") and func == "test_trigger":
        return param.rstrip("]") in TRIGGERS
    return True


def test_every_catalogued_rule_names_triggering_tests_that_exist():
    rows = catalogue_rows()
    for rule, row in rows.items():
        assert row["tests"], f"{rule}: no triggering test named in docs/ERRORS.md"
        for ref in row["tests"]:
            assert _test_exists(ref), f"{rule}: docs/ERRORS.md names {ref}, which does not exist"
        assert f"tests/test_hardening_errors.py::test_trigger[{rule}]" in row["tests"], \
            f"{rule}: its row should name test_trigger[{rule}]"


def test_every_rule_has_a_trigger():
    assert sorted(set(code_rules()) - set(TRIGGERS)) == []


# ------------------------------------------------------------------ the triggers

def _packet(data: bytes):
    parse_packet(data)


def _padding(padding: bytes, frames: int = 1):
    err = parse_extensions(padding, frames).error
    if err is not None:
        raise err


def _stream(data: bytes):
    for r in read_stream(data):
        if isinstance(r, StreamError):
            raise r


def _standalone(data: bytes):
    read_standalone(data)


def _ogg_pages(data: bytes) -> list[int]:
    """Offsets of the pages of an Ogg file."""
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        nseg = data[pos + 26]
        pos += 27 + nseg + sum(data[pos + 27:pos + 27 + nseg])
    return out


def _ogg(edit=None, cut_pages: int | None = None):
    """A valid 3-page-plus Ogg Opus file, one page edited (CRC fixed) or cut after some pages, then parsed."""
    data = bytearray(write_ogg_opus([bytes([0xFC]) + bytes(300)] * 40, page_bytes=1000))
    pages = _ogg_pages(bytes(data))
    if cut_pages is not None:
        data = data[:pages[cut_pages]]
    if edit is not None:
        index, fn = edit
        start = pages[index]
        end = pages[index + 1] if index + 1 < len(pages) else len(data)
        page = bytearray(data[start:end])
        fn(page)
        page[22:26] = b"\0\0\0\0"
        page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
        data[start:end] = page
    parse_ogg_opus(bytes(data))


def _set(offset: int, value: int):
    def fn(page: bytearray) -> None:
        page[offset] = value
    return fn


def _granule(value: int):
    def fn(page: bytearray) -> None:
        page[6:14] = struct.pack("<q", value)
    return fn


def _model_source() -> Path:
    return require((shared_dir() or Path("/nonexistent")) / "model" / "opus-1.6.1", "model directory")


def _model(tmp_path: Path, edit=None, name: str = "dred_rdovae_stats_data.c", parts=("stats",), sums=False):
    src = _model_source()
    d = tmp_path / "model"
    d.mkdir()
    for f in ("dred_rdovae_constants.h", "dred_rdovae_stats_data.c", "dred_rdovae_stats_data.h",
              "dred_rdovae_dec_data.c", "dred_rdovae_dec_data.h", "SHA256SUMS"):
        if f != "SHA256SUMS" or sums:
            shutil.copy(src / f, d / f)
    if edit is not None:
        p = d / name
        p.write_bytes(edit(p.read_bytes()))
    load_model(d, parts=parts)


def _model_fetch(tmp_path: Path):
    fetch_model(f"file://{tmp_path}/no-such-model.tar.gz", tmp_path / "cache")


def _rdovae(tmp_path: Path):
    # dec_dense1 declared with 25 inputs: a well-formed file whose layer does not fit the decoder
    _model(tmp_path, lambda b: b.replace(b'"dec_dense1_weights_float",NULL,NULL,NULL,26,96',
                                         b'"dec_dense1_weights_float",NULL,NULL,NULL,25,96'),
           "dred_rdovae_dec_data.c", parts=("stats", "decoder"))


def _vector_set(t: Path, files: dict[str, bytes], *, select: str | None = None, packet: int | None = None,
                profile: str | None = None):
    """A vector set of ``files`` in ``t``, loaded (and planned for a check when asked)."""
    for name, data in files.items():
        (t / name).parent.mkdir(parents=True, exist_ok=True)
        (t / name).write_bytes(data)
    vset = load_vector_set(t).select([select] if select else [])
    if packet is not None or profile is not None:
        options = CheckOptions(Profile.parse(profile) if profile else Profile(), packet=packet)
        plan(parse_decoder("cmd:x {input}"), vset, options)


def _installed(t: Path, *, index: bytes | None = None, stray: str | None = None):
    """An installed-sets directory holding one set X (one stream, its SHA256SUMS), loaded through the index."""
    import hashlib
    import json

    from dredconf.vectors.installed import installed_sets, load_installed

    (t / "X").mkdir()
    (t / "X" / "X.bit").write_bytes(_one_packet())
    sums = f"{hashlib.sha256(_one_packet()).hexdigest()}  X.bit\n".encode()
    (t / "X" / "SHA256SUMS").write_bytes(sums)
    if stray:
        (t / "X" / stray).write_text("not in SHA256SUMS")
    entry = {"name": "X", "kind": "features", "source": "a test", "sha256sums": hashlib.sha256(sums).hexdigest()}
    (t / "index.json").write_bytes(index or json.dumps({"schema": "dredconf-vector-sets/1", "sets": [entry]}).encode())
    for s in installed_sets(t):
        load_installed(s)


def _one_packet() -> bytes:
    return write_stream([b"\x48\x00"])


def _corpus_missing_file(t: Path):
    from dredconf.vectors.generate import generate  # the generator loads the C core: not at import time

    generate(t, 1, load_model(_model_source(), parts=("stats",)), groups=["dred-envelope"])
    (t / "dred-envelope.bit").unlink()
    load_vector_set(t)


_SUM = "0" * 64
_STANDALONE_ONE = struct.pack(">III", 3, 2, 1) + b"\x00"
# rule -> (error kind, function of tmp_path raising it)
TRIGGERS = {
    "set-missing": (VectorSetError, lambda t: _vector_set(t / "no-such-set", {})),
    "set-nothing-recognised": (VectorSetError, lambda t: _vector_set(t, {"notes.txt": b"hi"})),
    "set-unreadable": (VectorSetError, lambda t: _vector_set(t, {"X.bit/inside": b""})),
    "set-manifest": (VectorSetError, lambda t: _vector_set(t, {"manifest.json": b"{"})),
    "set-file-missing": (VectorSetError, _corpus_missing_file),
    "set-hash-mismatch": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(),
                                                                    "SHA256SUMS": f"{_SUM}  X.bit\n".encode()})),
    "sums-syntax": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(), "SHA256SUMS": b"nonsense\n"})),
    "set-no-such-vector": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet()}, select="Y")),
    "set-no-such-packet": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet()}, select="X", packet=1)),
    "set-profile": (VectorSetError, lambda t: _vector_set(t, {"X.features.f32": bytes(80), "X.expected.sw": bytes(320)},
                                                          profile="features")),
    "stream-empty": (VectorSetError, lambda t: _vector_set(t, {"X.bit": b""})),
    "expected-unreadable": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(),
                                                                      "X.expected.json": b"{"})),
    "expected-schema": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(),
                                                                  "X.expected.json": b'{"nope": 1}'})),
    "expected-count": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(),
                                                                 "X.expected.json": b'{"packets": []}'})),
    "expected-size": (VectorSetError, lambda t: _vector_set(t, {"X_dred.bit": _STANDALONE_ONE,
                                                                "X_dred_dec.f32": bytes(80)})),
    "features-size": (VectorSetError, lambda t: _vector_set(t, {"X.features.f32": bytes(81), "X.expected.sw": b""})),
    "pcm-size": (VectorSetError, lambda t: _vector_set(t, {"X.features.f32": bytes(80), "X.expected.sw": bytes(318)})),
    "pcm-format": (VectorSetError, lambda t: _vector_set(t, {"X.features.f32": bytes(80), "X.expected.flac": b"fLaC"})),
    "set-duplicate": (VectorSetError, lambda t: _vector_set(t, {"X.features.f32": bytes(80), "X.expected.sw": bytes(320),
                                                                "X.expected.flac": b""})),
    "set-parts": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(), "X.expected.json.00": b"{",
                                                            "X.expected.json.02": b"}"})),
    "set-index": (VectorSetError, lambda t: _installed(t, index=b'{"schema": "dredconf-vector-sets/0", "sets": []}')),
    "set-unlisted": (VectorSetError, lambda t: _installed(t, stray="notes.txt")),
    "loss-syntax": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(), "X.loss": b"2\n",
                                                              "X.expected.sw": bytes(640)})),
    "loss-count": (VectorSetError, lambda t: _vector_set(t, {"X.bit": _one_packet(), "X.loss": b"0\n0\n",
                                                             "X.expected.sw": bytes(640)})),
    "rfc6716-r1": (PacketError, lambda t: _packet(b"")),
    "rfc6716-r2": (PacketError, lambda t: _packet(b"\x48" + bytes(1276))),
    "rfc6716-r3": (PacketError, lambda t: _packet(b"\x49\x00\x00\x00")),
    "rfc6716-r4": (PacketError, lambda t: _packet(b"\x4a\x05\x00")),
    "rfc6716-r5": (PacketError, lambda t: _packet(b"\x4b\x00")),
    "rfc6716-r6": (PacketError, lambda t: _packet(b"\x4b\x02\x00\x00\x00")),
    "rfc6716-r7": (PacketError, lambda t: _packet(b"\x4b\x82\x05\x00")),
    "stream-header-truncated": (StreamError, lambda t: _stream(b"\x00\x00\x00")),
    "stream-length-absurd": (StreamError, lambda t: _stream(b"\x7f\xff\xff\xff\x00\x00\x00\x00")),
    "stream-length-past-end": (StreamError, lambda t: _stream(b"\x00\x00\x00\x05\x00\x00\x00\x00\x48")),
    "ext-separator-increment-missing": (ExtensionError, lambda t: _padding(b"\x03", 2)),
    "ext-separator-past-last-frame": (ExtensionError, lambda t: _padding(b"\x02", 1)),
    "ext-short-payload-missing": (ExtensionError, lambda t: _padding(b"\x07")),
    "ext-rte-short-payload-missing": (ExtensionError, lambda t: _padding(b"\x07\x01\x05", 2)),
    "ext-rte-trailing-shorts-missing": (ExtensionError, lambda t: _padding(b"\x41\x00\x07\x01\x04", 2)),
    "ext-long-length-truncated": (ExtensionError, lambda t: _padding(b"\x41\xff")),
    "ext-rte-long-length-truncated": (ExtensionError, lambda t: _padding(b"\x41\x00\x05", 2)),
    "ext-long-length-past-end": (ExtensionError, lambda t: _padding(b"\x41\x05\x00")),
    "ext-rte-long-length-past-end": (ExtensionError, lambda t: _padding(b"\x41\x00\x05\x09", 2)),
    "limit-extensions": (LimitError, lambda t: _padding((b"\x06" * 100 + b"\x05") * 20, 48)),
    "model-missing": (ModelError, lambda t: _model_missing(t)),
    "model-file-missing": (ModelError, lambda t: _model_file_missing(t)),
    "model-hash-mismatch": (ModelError, lambda t: _model(t, lambda b: b + b"\n", sums=True)),
    "model-parse": (ModelError, lambda t: _model(t, lambda b: b.replace(b"255,", b"99999999999999999999,", 1))),
    "model-shape": (ModelError, _rdovae),
    "model-fetch": (ModelError, _model_fetch),
    "ogg-page": (StreamError, lambda t: _ogg_raw(b"OggS\x00")),
    "ogg-capture": (StreamError, lambda t: _ogg_raw(b"OggX" + bytes(40))),
    "ogg-version": (StreamError, lambda t: _ogg((0, _set(4, 1)))),
    "ogg-crc": (StreamError, lambda t: _ogg_crc()),
    "ogg-bos": (StreamError, lambda t: _ogg((0, _set(5, 0)))),
    "ogg-sequence": (StreamError, lambda t: _ogg((2, _set(18, 7)))),
    "ogg-lacing": (StreamError, lambda t: _ogg((2, _set(5, 1)))),
    "ogg-granule": (StreamError, lambda t: _ogg((3, _granule(1)))),
    "opus-head": (StreamError, lambda t: _ogg((0, _set(28 + 8, 0x10)))),
    "opus-tags": (StreamError, lambda t: _ogg(cut_pages=1)),
    "standalone-header-truncated": (StreamError, lambda t: _standalone(b"\x00\x00\x00\x01")),
    "standalone-q0": (StreamError, lambda t: _standalone(struct.pack(">III", 16, 2, 0))),
    "standalone-chunks": (StreamError, lambda t: _standalone(struct.pack(">III", 1, 3, 0))),
    "standalone-length-past-end": (StreamError, lambda t: _standalone(struct.pack(">III", 1, 2, 9) + b"\x00")),
}


def _model_missing(t: Path):
    load_model(t / "no-such-model")


def _model_file_missing(t: Path):
    src = _model_source()
    d = t / "model"
    d.mkdir()
    shutil.copy(src / "dred_rdovae_constants.h", d)
    load_model(d, parts=("stats",))


def _ogg_raw(data: bytes):
    parse_ogg_opus(data)


def _ogg_crc():
    data = bytearray(write_ogg_opus([b"\xfc\x00"] * 3))
    data[-1] ^= 1
    parse_ogg_opus(bytes(data))


@pytest.mark.parametrize("rule", sorted(TRIGGERS))
def test_trigger(rule, tmp_path):
    kind, fn = TRIGGERS[rule]
    with pytest.raises(DredconfError) as e:
        fn(tmp_path)
    assert e.value.rule == rule, str(e.value)
    assert type(e.value) is kind, f"{rule} raised as {type(e.value).__name__}, catalogued as {kind.__name__}"
    assert "\n" not in str(e.value) and str(e.value).endswith(f"[{rule}]")
    row = catalogue_rows().get(rule)
    assert row is not None and row["kind"].strip("`") == kind.__name__, f"docs/ERRORS.md kind for {rule}: {row}"
