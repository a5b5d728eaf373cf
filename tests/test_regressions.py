"""Every crash, hang, unbounded cost or broken contract that hardening found, kept from coming back.

Each test says how it was found (fuzz target, or the resource-limit review) and
what was wrong. Fuzz inputs are kept as the smallest bytes showing the bug, not
as corpus files, so they do not depend on the mutation engine.
"""
from __future__ import annotations

import json
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.errors import DredconfError, LimitError, ModelError
from dredconf.reference.carray import parse_defines
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.reference.model import load_model
from dredconf.spec import parse_extensions, write_stream
from dredconf.spec.extensions import MAX_EXTENSIONS
from dredconf.vectors.manifest import ManifestError, load_manifest

MODEL_FILES = ("dred_rdovae_constants.h", "dred_rdovae_stats_data.c", "dred_rdovae_stats_data.h",
               "dred_rdovae_dec_data.c", "dred_rdovae_dec_data.h")


@pytest.fixture
def model_copy(tmp_path, model_dir):
    """A writable copy of the model directory (no SHA256SUMS, so edits are parsed, not hash-rejected)."""
    d = tmp_path / "model"
    d.mkdir()
    for f in MODEL_FILES:
        shutil.copy(model_dir / f, d / f)
    return d


def _load(d: Path, parts=("stats", "decoder")):
    return load_model(d, parts=parts)


# ------------------------------------------------------------------ reference/carray.py (fuzz target: model)

def test_model_integer_literal_past_int64_is_a_model_error(model_copy):
    """fuzz target model, random engine, input 280 of the first campaign: an integer array holding
    99999999999999999999 raised OverflowError out of numpy (not a ValueError), crashing load_model."""
    p = model_copy / "dred_rdovae_stats_data.c"
    p.write_text(p.read_text().replace("255,", "99999999999999999999,", 1))
    with pytest.raises(ModelError) as e:
        _load(model_copy, ("stats",))
    assert e.value.rule == "model-parse" and "not a list of numbers" in str(e.value)


@pytest.mark.parametrize("expr", ["-" * 5000 + "1", "1+" * 5000 + "1", "(" * 300 + "1" + ")" * 300])
def test_model_define_bombs_are_bounded(model_copy, expr):
    """fuzz target model (dictionary tokens): a #define of thousands of unary minuses or terms made
    ast.parse / the evaluator raise RecursionError (or MemoryError) out of load_model. Now the
    expression is not an integer constant (over 200 characters), skipped like any other such define."""
    p = model_copy / "dred_rdovae_dec_data.h"
    p.write_text(p.read_text() + f"\n#define DREDCONF_BOMB {expr}\n")
    m = _load(model_copy)
    assert "DREDCONF_BOMB" not in m.constants


def test_model_define_values_stay_64_bit():
    """Review of the same evaluator: each define may use the earlier ones, so A1 = A0*A0, A2 = A1*A1, ...
    doubled the digits per line (22 lines: 33 MB and a second; 30: out of memory). Values past 64 bits
    are now not integer constants."""
    text = "#define A0 (1<<62)\n" + "".join(f"#define A{i + 1} A{i}*A{i}\n" for i in range(40))
    t = time.perf_counter()
    d = parse_defines(text)
    assert time.perf_counter() - t < 1.0
    assert d == {"A0": 1 << 62}


@pytest.mark.parametrize("literal", ["1e999", "nan", "1e39"])
def test_model_float_literal_outside_float32_is_a_parse_error(model_copy, literal):
    """Review with the model target: 1e999 / 1e39 became inf in a float32 array and nan was read as NaN;
    the RDOVAE loader then failed on them (model-shape, "not finite") or, for the stats, nothing checked
    them. A float32 literal that is not finite is not what the exporter writes: model-parse."""
    p = model_copy / "dred_rdovae_dec_data.c"
    text = p.read_text()
    at = text.index("dec_dense1_bias[")
    start = text.index("{", at) + 1
    end = text.index(",", start)
    p.write_text(text[:start] + literal + text[end:])
    with pytest.raises(ModelError) as e:
        _load(model_copy)
    assert e.value.rule == "model-parse" and "float range" in str(e.value)


def test_error_quoting_a_newline_stays_one_line(model_copy):
    """fuzz target model, random engine: a mutation put a newline inside a quoted array name of the init
    function; the ModelError quoting it printed on two lines, breaking the one-line error contract. Now
    every DredconfError escapes control characters in its message."""
    p = model_copy / "dred_rdovae_dec_data.c"
    text = p.read_text()
    at = text.rindex('"dec_conv5_scale"')  # in init_rdovaedec's linear_init call
    p.write_text(text[:at] + '"dec_conv5_sc\n|ale"' + text[at + len('"dec_conv5_scale"'):])
    with pytest.raises(ModelError) as e:
        _load(model_copy)
    assert "\n" not in str(e.value) and "\\n" in str(e.value)
    assert str(DredconfError("a\nb\x00", rule="r")) == "a\\nb\\x00 [r]"


# ------------------------------------------------------------------ spec/extensions.py (resource-limit review)

def test_repeat_amplification_is_bounded():
    """Resource review of the extension parser (then checked by the packet/extensions targets): Repeat
    These Extensions repeats zero-length extensions for every later frame without consuming bytes, so
    20 kB of padding in a 48-frame packet listed 960000 extensions (10 s, 200 MB); 1 MB would have been
    47 million. Listing now stops at MAX_EXTENSIONS with limit-extensions, the ones before kept."""
    t = time.perf_counter()
    found = parse_extensions((b"\x06" * 100 + b"\x05") * 200, 48)
    assert time.perf_counter() - t < 2.0
    assert isinstance(found.error, LimitError) and found.error.rule == "limit-extensions"
    assert len(found) == MAX_EXTENSIONS
    assert all(e.id == 3 for e in found)


@pytest.mark.parametrize("padding", [b"\x05" * 1_000_000, b"\x01" * 1_000_000, b"\x03\x00" * 500_000])
def test_no_op_runs_cost_no_loop_per_byte(padding):
    """Resource review: 1 MB of elements that change nothing (0x05, an RTE of an empty group, looped over
    the 47 later frames for each byte) took 12 s; 0x01 and 0x03 0x00 runs 2-16 s. Each run is now
    skipped in one step: well under a second, same result (nothing listed, no error)."""
    t = time.perf_counter()
    found = parse_extensions(padding, 48)
    assert time.perf_counter() - t < 1.0
    assert len(found) == 0 and found.error is None


def test_no_op_skipping_takes_no_memory_per_byte():
    """tests/test_hardening_limits.py measurement of the skip above: the regex `(?:\\x01|\\x03\\x00)*`
    kept a backtracking mark per repetition, 114 MB to skip 1 MB of 0x01. Possessive now: no growth."""

    tracemalloc.start()
    try:
        parse_extensions(b"\x01\x03\x00" * 300_000 + b"\x05" * 100_000, 48)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak  # the padding itself (1 MB) and its copy, nothing per byte


def test_no_op_skipping_keeps_the_repeat_group():
    """The no-op skip must not change meaning: 0x05 repeats a non-empty group even after no-op runs,
    and 0x03 0x00 keeps the group as libopus does."""
    found = parse_extensions(b"\x06\x01\x01\x03\x00\x05", 3)
    assert [(e.frame, e.id, e.repeated) for e in found] == [(0, 3, False), (1, 3, True), (2, 3, True)]
    found = parse_extensions(b"\x05\x05\x06\x05", 2)
    assert [(e.frame, e.id, e.repeated) for e in found] == [(0, 3, False), (1, 3, True)]


# ------------------------------------------------------------------ dredconf/view.py, dredconf/cli.py

def test_text_view_shows_the_rule_of_an_extension_error(model_dir):
    """fuzz target inspect_cli: the text view printed the extension error through rich markup, which
    took its "[ext-long-length-past-end]" for a style tag and dropped it; the rule was not shown."""

    r = CliRunner().invoke(main, ["inspect", "--model", str(model_dir), "--hex", "4b41040000fd050102"])
    assert "extension error:" in r.stdout
    assert "[ext-long-length-past-end]" in r.stdout


def test_inspect_output_is_streamed(tmp_path, model_dir):
    """Resource review: inspect/decode built every packet's result (and for --json the whole document)
    before printing: 10^5 packets took 2 GB and 57 s. Results are now printed as they are decoded, the
    JSON record by record, byte-identical (tests/test_hardening_limits.py measures the 10^5 case)."""

    packets = [bytes([0x4B, 0x41, 0x05, 0xAA, 0xFC, 0x03, 0x44, 0x0C, 0x77])] * 3 + [b"\x48\xaa"]
    f = tmp_path / "s.bit"
    f.write_bytes(write_stream(packets))
    r = CliRunner().invoke(main, ["inspect", "--json", "--model", str(model_dir), str(f)])
    dec = ReferenceDecoder(model_dir)
    want = json.dumps({"packets": [dec.decode_packet(p, i).to_json(with_features=False)
                                   for i, p in enumerate(packets)]}, separators=(",", ":")) + "\n"
    assert r.exit_code == 0 and r.stdout == want


# ------------------------------------------------------------------ vectors/manifest.py

@pytest.mark.parametrize("where", ["result", "flags", "stream"])
def test_manifest_unhashable_values_are_manifest_errors(tmp_path, where):
    """fuzz target manifest (atheris, 24 crash files in 120 s): `v.get("result") in RESULTS`,
    `f in flags` and `v.get("stream") in stream_paths` raise TypeError (unhashable) when the manifest
    holds a list or an object there, instead of ManifestError. Fixed: values are type-checked first."""
    vector = {"id": "v", "comment": "c", "flags": [], "result": "valid", "stream": "a.bit", "packet": 0}
    vector[where] = [["x"]] if where == "flags" else ["x"]
    m = {"schema": "dredconf-vectors/1", "generator": {"name": "g", "version": "1"}, "seed": 1,
         "model": {"stats_sha256": "0" * 64, "stats_file": "s.c"}, "dred": {"extension_id": 126, "prefix": "440c"},
         "flags": {}, "files": [{"path": "a.bit", "sha256": "0" * 64, "bytes": 0, "kind": "stream"}],
         "streams": [{"name": "a", "path": "a.bit"}], "vectors": [vector]}
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError):
        load_manifest(tmp_path)
