"""The fuzz targets: one function per input surface, each checking the contract.

The contract (docs/ERRORS.md): on any bytes, a target's code under test either
returns a result that satisfies its invariants or raises one of the documented
error types (``DredconfError`` kinds; the manifest reader's ``ManifestError``).
Anything else (another exception, a broken invariant: ``ContractViolation``, a
disagreement between two implementations of the same rule, a hang, a crash of
the C core) is a bug. ``run`` applies the contract; the targets raise
``ContractViolation`` themselves for invariants and differential checks.

Each target is cheap to set up a second time (module-level caches) and takes
its choices from the front of the input (:class:`common.Input`), so atheris
and the random driver mutate the same bytes.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.conformance.judge import Rules, judge_vector
from dredconf.conformance.output_schema import MalformedOutput, packet_feature_records, parse_output
from dredconf.conformance.profile import Profile
from dredconf.conformance.results import LayerSummary, PacketResult
from dredconf.errors import DredconfError, ModelError, StreamError
from dredconf.reference import model as M
from dredconf.spec import read_stream
from tests.helpers.shared import expected_records, model_dir, shared_dir, vector_sets_dir

from .registry import (  # noqa: F401 - the registry and the checks, for the drivers and the tests
    TARGETS, ContractViolation, Input, Target, Unavailable, _cache, _dredconf_errors, _stats_model, check,
    check_error, check_extensions, check_location, check_packet, roundtrip_extensions, roundtrip_packet, target,
)
from .targets_bitstream import check_dred_payload, envelope  # noqa: F401 - registers the bitstream targets first

# ----------------------------------------------------------------------- files

@target("stream")
def t_stream(data: bytes) -> None:
    """The stream-file reader (spec.read_stream) and the reference decoder over every record."""
    from dredconf.reference.decoder import ReferenceDecoder

    recs = list(read_stream(data))
    at = 0
    for i, r in enumerate(recs):
        if isinstance(r, StreamError):
            check(i == len(recs) - 1, "records after a stream error")
            check_error(r, len(data))
            check(r.packet == i and r.offset == at, f"stream error at packet {r.packet} byte {r.offset}, "
                                                    f"expected {i}, {at}")
            continue
        check(r.index == i and r.offset == at and r.packet_offset == at + 8, "record position")
        check(data[r.packet_offset:r.packet_offset + len(r.packet)] == r.packet, "record bytes")
        at = r.packet_offset + len(r.packet)
    if not recs or not isinstance(recs[-1], StreamError):
        check(at == len(data), "records do not cover the file")
    dec = _cache.get("dec_ints") or _cache.setdefault("dec_ints", ReferenceDecoder(_stats_model()))
    out = dec.decode_stream(data)
    check(len(out["packets"]) == sum(1 for r in recs if not isinstance(r, StreamError)), "decode_stream count")
    # differential: the batched records (built from the C core's arrays) against each payload decoded alone
    check(out["packets"] == [_alone(dec, r.packet, r.index) for r in recs if not isinstance(r, StreamError)],
          "decode_stream's records differ from the one-payload path's")
    json.dumps(out)
    return tuple(sorted({e.rsplit("[", 1)[-1] for e in out["errors"]}))


def _alone(dec, packet: bytes, index: int) -> dict:
    """A packet's record with its DRED payload decoded alone (``decode_dred_payload``, then ``dred_object``)."""
    from dredconf.reference.payload import decode_dred_payload

    res = dec._parse(packet, index)
    if res.location is not None:
        res.payload = decode_dred_payload(res.location.payload, res.location.frame_offset, dec.model.stats)
    return res.to_json(with_features=False)


@target("ogg", max_len=32768)
def t_ogg(data: bytes) -> None:
    """The Ogg Opus reader (spec.ogg.parse_ogg_opus): pages, CRCs, lacing, headers."""
    try:
        from dredconf.spec.ogg import parse_ogg_opus
    except ImportError as e:
        raise Unavailable(str(e)) from None
    s = parse_ogg_opus(data)
    for p in getattr(s, "packets", []):
        check(isinstance(p, (bytes, bytearray)) and len(p) <= len(data), "Ogg packet")


@target("inspect_cli", max_len=8192)
def t_inspect_cli(data: bytes) -> None:
    """``dredconf inspect`` on a stream file (text, --json, --packet 0): exit 0/1, one-line errors naming
    their rule, valid JSON, every error's rule visible in the text view."""

    d = _cache.get("cli_dir")
    if d is None:
        d = _cache["cli_dir"] = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-cli-"))
    f = d / "s.bit"
    f.write_bytes(data)
    model = str(model_dir())
    runner = CliRunner()
    seen = []
    for args in (["--json"], [], ["--packet", "0"]):
        r = runner.invoke(main, ["inspect", *args, "--model", model, str(f)], catch_exceptions=True)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        check(r.exit_code in (0, 1), f"inspect {args} exit {r.exit_code}: {r.output[-300:]}")
        errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
        for line in errors:
            check(re.match(r"^error: (packet \d+, )?(byte \d+: )?.+ \[[a-z0-9.-]+\]$", line) is not None,
                  f"error line {line!r}")
        if not r.stdout.strip():  # nothing shown: the file is refused (an Ogg file that breaks, no packet N)
            # or it holds no packet at all
            check(r.exit_code == 1 and ("Error: " in r.stderr or "error: packet 0, byte 0: " in r.stderr)
                  or r.exit_code == 0 and not data and args == [], f"inspect {args}: no output, {r.output[-300:]!r}")
        elif args == ["--json"]:
            json.loads(r.stdout)
        elif args == []:
            for line in errors:  # the text view shows every packet's error as the stderr line does
                if not re.search(r"\[stream-[a-z0-9.-]+\]$", line):
                    check(line[len("error: "):] in r.stdout, f"text view does not show {line!r}")
        seen.append((r.exit_code, tuple(sorted({l.rsplit("[", 1)[-1] for l in errors}))))
    return tuple(seen)


@target("standalone_file", max_len=16384, c_core=True)
def t_standalone_file(data: bytes) -> None:
    """libopus's standalone record files (spec.standalone.read_standalone), then every record
    decoded by the C core as in the standalone target."""
    try:
        from dredconf.spec.standalone import read_standalone
    except ImportError as e:
        raise Unavailable(str(e)) from None
    from dredconf.reference.payload import decode_dred_standalone

    stats = _stats_model().stats
    recs = read_standalone(data)
    check(sum(12 + len(r.data) for r in recs) == len(data), "records do not cover the file")
    for r in recs:
        check(0 <= r.q0 <= 15 and r.nb_chunks % 2 == 0 and r.nb_latents <= 26, f"record {r}")
        s = decode_dred_standalone(r.data, r.q0, r.nb_latents, stats)
        check(s.latent_count == r.nb_latents, "latent count")
    return len(recs)


# ----------------------------------------------------------------------- manifest

def _manifest_mod():
    try:
        from dredconf.vectors import manifest
    except ImportError as e:
        raise Unavailable(f"dredconf.vectors.manifest: {e}") from None
    return manifest


def _allowed_manifest() -> tuple:
    m = _manifest_mod()
    return (m.ManifestError, DredconfError)


@target("manifest", max_len=65536)
def t_manifest(data: bytes) -> None:
    """The corpus manifest reader (vectors.manifest.load_manifest, verify_corpus) on manifest.json bytes;
    documented error: ManifestError."""
    m = _manifest_mod()
    d = _cache.get("manifest_dir")
    if d is None:
        d = _cache["manifest_dir"] = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-manifest-"))
        (d / "a.bit").write_bytes(b"\x00\x00\x00\x01\x00\x00\x00\x00\x48")
    (d / m.MANIFEST_NAME).write_bytes(data)
    try:
        got = m.load_manifest(d)
    except m.ManifestError as e:
        check_error(e)
        rep = m.verify_corpus(d)
        check(not rep.ok and rep.problems, "verify_corpus accepted a manifest load_manifest rejects")
        return
    check(isinstance(got, dict), "manifest is not an object")
    m.validate_manifest(json.loads(m.dumps(got)))  # what the writer writes validates again
    rep = m.verify_corpus(d)
    rep.lines()


_DUT_PACKETS = 3  # the decoder output judged: records for the first packets of S3


def _dut_expected() -> list[dict]:
    """The expected records the decoder output is judged against (S3's first packets, libopus's own)."""
    if "dut_expected" not in _cache:
        d = vector_sets_dir() or (shared_dir() / "vectors" if shared_dir() else None)
        if d is None:
            raise Unavailable("no vector sets: the decoder output is judged against libopus's S3 records")
        _cache["dut_expected"] = expected_records(d / "libopus-1.6.1" / "S3.expected.json.gz")[:_DUT_PACKETS]
    return _cache["dut_expected"]


@target("dut_output", max_len=65536, allowed=(MalformedOutput,))
def t_dut_output(data: bytes) -> None:
    """A decoder's output, the least trusted input there is: its JSON checked for shape
    (conformance.output_schema), then judged in every layer under the default profile and without one;
    documented error: MalformedOutput. The verdicts must serialize and read back."""
    expected = _dut_expected()
    records = parse_output(data, len(expected))
    for profile in (Profile(), Profile(())):
        layers, packets = judge_vector(records, expected, profile, Rules())
        for s in layers.values():
            check(LayerSummary.from_json(json.loads(json.dumps(s.to_json(), allow_nan=False))).verdict is s.verdict,
                  "a layer summary does not read back")
        for p in packets:
            back = PacketResult.from_json(json.loads(json.dumps(p.to_json(), allow_nan=False)))
            check(back.verdicts == p.verdicts, "a packet's verdicts do not read back")
    # the same bytes as a libopus-features file: whole rows, or malformed
    if len(data) % 80 == 0:
        try:
            packet_feature_records(data, expected)
        except MalformedOutput:
            pass


_JSON_VALUES = [None, True, False, 0, -1, 1, 255, 256, 2 ** 31, 2 ** 64, -(2 ** 63), 1.5, 1e308, "", "x",
                "valid", "invalid", "acceptable", "a.bit", "../a.bit", "/etc/passwd", "a\\b", "0" * 64, "f" * 64,
                [], {}, [[]], [{}], {"a": []}, "invalid packet", 126, "440c", "dredconf-vectors/1"]


def mutate_json(data: bytes, max_size: int, rng: random.Random) -> bytes:
    """Structure-aware mutation of a JSON document: replace, delete, duplicate or retype one node."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return bytes(data)
    nodes = []

    def walk(v, parent, key, depth):
        nodes.append((parent, key, v))
        if depth > 6:
            return
        if isinstance(v, dict):
            for k in list(v)[:64]:
                walk(v[k], v, k, depth + 1)
        elif isinstance(v, list):
            for i in range(min(len(v), 64)):
                walk(v[i], v, i, depth + 1)

    walk(doc, None, None, 0)
    for _ in range(1 + rng.randrange(3)):
        parent, key, v = rng.choice(nodes)
        op = rng.randrange(6)
        new = rng.choice(_JSON_VALUES)
        if parent is None:
            continue
        if op == 0 and isinstance(parent, dict):
            parent.pop(key, None)
        elif op == 0 and isinstance(parent, list) and key < len(parent):
            del parent[key]
        elif op == 1 and isinstance(v, list) and v:
            v.append(json.loads(json.dumps(rng.choice(v))))
        elif op == 2 and isinstance(v, dict):
            v[rng.choice(["extra", "alternatives", "packets", "frame", "id"])] = new
        elif op == 3 and isinstance(v, int) and not isinstance(v, bool):
            try:
                parent[key] = v + rng.choice([-1, 1, 2 ** 32, -v - 1])
            except (IndexError, KeyError):
                pass
        else:
            try:
                parent[key] = json.loads(json.dumps(new))
            except (IndexError, KeyError):
                pass
    out = json.dumps(doc, separators=(",", ":")).encode()
    return out[:max_size] if rng.randrange(16) else out[:rng.randrange(len(out) + 1)]


TARGETS["manifest"].mutator = mutate_json
TARGETS["dut_output"].mutator = mutate_json


# ----------------------------------------------------------------------- model directory

_MODEL_TOKENS = [b"}", b"};", b"{", b",", b";", b"[", b"]", b"[0]", b"[99999999]", b"-", b"0x10", b"1e999", b"nan",
                 b"inf", b"-1", b"256", b"-129", b"99999999999999999999", b"1.5", b"#ifdef WEIGHTS_x_DEFINED\n",
                 b"#endif\n", b"#else\n", b"#define WEIGHTS_dred_state_r_q8_TYPE WEIGHT_TYPE_float\n",
                 b"static const float x[2] = {1, 2};\n", b"NULL", b"\"dec_dense1_bias\"", b"/*", b"*/", b"\xff\xfe",
                 b"#define DRED_LATENT_DIM 24\n", b"#define X (1<<63)\n#define Y X*X*X*X\n",
                 b"-" * 3000, b"1+" * 3000 + b"1", b"(" * 300, b"\n", b"\x00", b"opus_int8", b"opus_uint8", b"float"]
_MODEL_NUMBERS = [b"0", b"-0", b"127", b"-128", b"128", b"-129", b"255", b"256", b"-1", b"3.4e38", b"-3.4e38",
                  b"1e-45", b"1e30", b"-1e30", b"2147483647", b"-2147483648", b"65535", b"4096", b"0.0", b"1e-30"]
_NUMBER = re.compile(rb"-?[0-9][0-9.eE+-]*")
_ANCHOR = re.compile(rb"#|\bconst\b|\{|\}|\[|\]|init_|linear_init|WEIGHTS_|NULL|\"|\n\}")


def _model_texts():
    if "model_texts" not in _cache:
        src = model_dir()
        if src is None or not src.is_dir():
            raise Unavailable("no model directory")
        names = [M.CONSTANTS_H, M.STATS_C, M.STATS_H, M.DEC_C, M.DEC_H, M.FARGAN_C]
        texts = {n: (src / n).read_bytes() for n in names}
        anchors = {n: [m.start() for m in _ANCHOR.finditer(t)][:200000] for n, t in texts.items()}
        work = Path(tempfile.mkdtemp(prefix="dredconf-fuzz-model-"))
        for n, t in texts.items():
            (work / n).write_bytes(t)
        _cache["model_texts"] = (texts, anchors, work, (src / M.SUMS_NAME).read_bytes())
    return _cache["model_texts"]


@target("model", max_len=256, c_core=True)
def t_model(data: bytes) -> None:
    """The model-directory loader on corrupted C-array text: edits of the real files (in a tmp dir)
    steered by the input, then load_model and, if it loads, the RDOVAE decoder on one payload (the FARGAN
    vocoder on two frames, for fargan_data.c); documented error: ModelError."""
    texts, anchors, work, sums = _model_texts()
    inp = Input(data)
    names = [M.STATS_C, M.STATS_C, M.CONSTANTS_H, M.DEC_C, M.DEC_C, M.DEC_H, M.STATS_C, M.DEC_C, M.FARGAN_C]
    name = names[inp.int(len(names))]
    text = bytearray(texts[name])
    for _ in range(1 + inp.int(3)):
        if inp.bool():
            a = anchors[name]
            pos = a[inp.int(len(a))] + inp.int(8) if a else 0
        else:
            pos = (inp.byte() << 16 | inp.byte() << 8 | inp.byte()) % (len(text) + 1)
        op = inp.int(9)
        if op >= 6:  # the number at or after pos becomes an extreme one (the values the decoder's checks bound)
            m = _NUMBER.search(text, pos)
            if m:
                text[m.start():m.end()] = _MODEL_NUMBERS[inp.int(len(_MODEL_NUMBERS))]
        elif op == 0:
            del text[pos:pos + 1 + inp.int(64)]
        elif op == 1:
            text[pos:pos] = _MODEL_TOKENS[inp.int(len(_MODEL_TOKENS))]
        elif op == 2:
            text[pos:pos + 1 + inp.int(8)] = _MODEL_TOKENS[inp.int(len(_MODEL_TOKENS))]
        elif op == 3:
            del text[pos:]
        elif op == 4:
            text[pos:pos] = inp.take(1 + inp.int(16))
        else:
            end = text.find(b"\n", pos)
            line = text[text.rfind(b"\n", 0, pos) + 1:end + 1 if end >= 0 else len(text)]
            text[pos:pos] = line
    with_sums = inp.byte() == 0x5A  # rarely: the SHA256SUMS check is one line, the parsers are the rest
    parts = ("stats",) if name in (M.STATS_C, M.CONSTANTS_H) and inp.byte() & 1 else ("stats", "decoder")
    parts = ("stats", "fargan") if name == M.FARGAN_C else parts
    target_file = work / name
    target_file.write_bytes(bytes(text))
    if with_sums:
        (work / M.SUMS_NAME).write_bytes(sums)
    try:
        model = M.load_model(work, parts=parts)
        check(model.stats.latent_r.shape == (16, 25) and model.stats.state_p0.shape == (16, 50), "stats shapes")
        if "decoder" in parts:
            _model_decode(model)
        if "fargan" in parts:
            _model_synth(model)
        return ("loaded", name, parts)
    except ModelError as e:
        check_error(e)
        return ("error", name, e.rule, " ".join(re.sub(r"[0-9]+", "N", e.message).split()[1:4]))
    finally:
        target_file.write_bytes(texts[name])
        if with_sums:
            (work / M.SUMS_NAME).unlink()


def _model_decode(model) -> None:
    """A (possibly corrupted, but accepted) model must decode a payload without crashing."""
    from dredconf.reference.payload import decode_dred_payload
    from dredconf.reference.rdovae import RdovaeDecoder

    dec = RdovaeDecoder(model)
    payload = bytes(range(7, 250, 3))
    p = decode_dred_payload(payload, 0, model.stats)
    f = dec.decode(p)
    check(f.shape == (4 * p.latent_count, 20), "features shape")
    check(bool(np.all(np.isfinite(f))), "features not finite with an accepted model")


def _model_synth(model) -> None:
    """A (possibly corrupted, but accepted) FARGAN model must synthesise without crashing."""
    import numpy as np

    from dredconf.reference.fargan import FarganSynthesizer

    pcm = FarganSynthesizer(model).synthesize(np.linspace(-1, 1, 40, dtype=np.float32))
    check(pcm.shape == (320,), "synthesis length")


def allowed_for(t: Target) -> tuple:
    if t.name == "manifest":
        return _allowed_manifest()
    return t.allowed or _dredconf_errors()


def run(t: Target, data: bytes):
    """Run a target on one input under the contract: its documented errors pass (after their own
    checks), anything else propagates. Returns the outcome: what the target returned (a small
    signature of the path taken) or the rule of the documented error."""
    try:
        return ("ok", t.fn(data))
    except allowed_for(t) as e:
        check_error(e)
        return ("error", type(e).__name__, getattr(e, "rule", None))


def available(t: Target) -> str | None:
    """None if the target can run here, else why not."""
    try:
        if t.name in ("dred_payload", "standalone", "standalone_file", "decode_full", "stream", "inspect_cli"):
            _stats_model()
        if t.name == "model":
            _model_texts()
        if t.name == "manifest":
            _manifest_mod()
        if t.name == "dut_output":
            _dut_expected()
        if t.name == "decode_full":
            from dredconf.reference.decoder import ReferenceDecoder  # noqa: F401
            import dredconf.reference.rdovae  # noqa: F401
        if t.name == "ogg":
            import dredconf.spec.ogg  # noqa: F401
        if t.name == "standalone_file":
            import dredconf.spec.standalone  # noqa: F401
    except (Unavailable, ImportError) as e:
        return str(e)
    return None


def cleanup() -> None:
    for key in ("cli_dir", "manifest_dir"):
        if key in _cache:
            shutil.rmtree(_cache.pop(key), ignore_errors=True)
    if "model_texts" in _cache:
        shutil.rmtree(_cache.pop("model_texts")[2], ignore_errors=True)


if os.environ.get("DREDCONF_FUZZ_SELFTEST") == "1":
    @target("selftest")
    def t_selftest(data: bytes) -> None:
        """Driver self-test (only with DREDCONF_FUZZ_SELFTEST=1): crashes on inputs starting with "CRASH",
        hangs on "HANG" and, in a sanitized campaign, overflows a C heap buffer on "ASAN", so a test can
        check that campaigns catch all three."""
        if data.startswith(b"CRASH"):
            raise KeyError("selftest crash")
        if data.startswith(b"ASAN"):
            import importlib
            import sys

            from .sanitizer import build_selftest_module

            sys.path.insert(0, str(build_selftest_module()))
            importlib.import_module("_dredconf_san_selftest").lib.overflow(16)
        if data.startswith(b"HANG"):
            while True:
                pass
        return len(data) % 3
