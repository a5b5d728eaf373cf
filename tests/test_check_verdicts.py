"""A PASS means tested and right: every false pass found in `dredconf check` (issue 9) stays closed.

Each case runs the command line as a user would and asserts the exit status and the one-line reason; the
reference and a replay of libopus's own results still conform on every shared set.
"""
from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dredconf.cli import main

DUT_DIR = Path(__file__).resolve().parent / "dut"
TAMPER = DUT_DIR / "tamper.py"
REPLAY = DUT_DIR / "replay.sh"

pytestmark = pytest.mark.shared


def check(*args: str, env: dict | None = None):
    r = CliRunner().invoke(main, ["check", *args], env=env)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r


def last_line(r) -> str:
    return r.output.strip().splitlines()[-1]


def tamper(*edits: str) -> str:
    return f"cmd:{sys.executable} {TAMPER} {{input}} {{output}} {' '.join(edits)}"


# ------------------------------------------------------------------------------------------------ the false passes


@pytest.fixture
def s3_copy(vectors_dir, tmp_path) -> Path:
    d = tmp_path / "s3"
    d.mkdir()
    for name in ("S3.bit", "S3.expected.json.gz"):
        shutil.copy(vectors_dir / name, d / name)
    return d


def _all_errors(vectors_dir, tmp_path):
    return check("-d", tamper("errors"), "-V", str(vectors_dir), "--vector", "S3", "-q"), 1, \
        "DOES NOT CONFORM to profile framing,dred,features: 1 of 1 vectors fail (S3: framing: S3#0: the decoder " \
        "reported an error: not decoded)"


def _truncated_file(vectors_dir, tmp_path):
    shutil.copy(vectors_dir / "S3.expected.json.gz", tmp_path)
    (tmp_path / "S3.bit").write_bytes((vectors_dir / "S3.bit").read_bytes()[:-10])
    return check("-d", "reference", "-V", str(tmp_path)), 2, "[stream-length-past-end]"


def _random_file(vectors_dir, tmp_path):
    (tmp_path / "noise.bit").write_bytes(random.Random(9).randbytes(4000))
    return check("-d", "reference", "-V", str(tmp_path / "noise.bit")), 2, "noise.bit: not a readable stream"


def _nothing_recognisable(vectors_dir, tmp_path):
    (tmp_path / "README.md").write_text("no vectors here")
    return check("-d", "reference", "-V", str(tmp_path)), 2, "[set-nothing-recognised]"


def _truncated_standalone(vectors_dir, tmp_path):
    src = vectors_dir.parent / "libopus-1.6.1-standalone"
    (tmp_path / "vector_dred.bit").write_bytes((src / "vector_dred.bit").read_bytes()[:-7])
    shutil.copy(src / "vector_dred_dec.f32.gz", tmp_path)
    return check("-d", "reference", "-V", str(tmp_path)), 2, "[standalone-length-past-end]"


def _framing_only_on_invalid(vectors_dir, tmp_path):
    r = CliRunner().invoke(main, ["vectors", "generate", str(tmp_path / "c"), "--group", "ext-malformed"])
    assert r.exit_code == 0, r.output
    return check("-d", "python:pydut:framing_without_error", "-V", str(tmp_path / "c"), "--profile", "framing",
                 "-q", env={"PYTHONPATH": str(DUT_DIR)}), 1, \
        "DOES NOT CONFORM to profile framing: 1 not fully tested (ext-malformed: framing.extension_error"


def _missing_model(vectors_dir, tmp_path):
    return check("-d", "reference", "-V", str(vectors_dir), env={"DREDCONF_MODEL": str(tmp_path / "nonexistent")}), \
        2, "(from $DREDCONF_MODEL): no such file or directory [model-missing]"


def _one_packet_rows_swapped(vectors_dir, tmp_path):
    return check("-d", tamper("swap:197=0,5"), "-V", str(vectors_dir), "--vector", "S1", "-q"), 1, \
        "S1: features: S1#197: features: tot"


FALSE_PASSES = {
    "all-error-stream": _all_errors,
    "truncated-file": _truncated_file,
    "random-file": _random_file,
    "folder-with-nothing-recognisable": _nothing_recognisable,
    "truncated-standalone-records": _truncated_standalone,
    "framing-only-decoder-on-invalid-vectors": _framing_only_on_invalid,
    "missing-model": _missing_model,
    "one-packet-rows-swapped": _one_packet_rows_swapped,
}


@pytest.mark.parametrize("case", list(FALSE_PASSES))
def test_false_pass_closed(case, vectors_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r, status, reason = FALSE_PASSES[case](vectors_dir, tmp_path)
    assert r.exit_code == status, r.output
    assert reason in r.output, r.output
    assert "Traceback" not in r.output
    if status == 2:
        assert last_line(r).startswith("Error: ")  # one line, said before any decoder ran


def test_swapped_rows_pass_only_under_the_stream_scope(vectors_dir):
    """Why packet scope is the default: averaged over the stream, the swap hides."""
    r = check("-d", tamper("swap:197=0,5"), "-V", str(vectors_dir), "--vector", "S1", "-q", "--feature-scope", "vector")
    assert r.exit_code == 0 and last_line(r).startswith("CONFORMS")


def test_allow_not_tested_is_explicit_and_said(vectors_dir, tmp_path):
    r = check("-d", tamper("strip:extension_error"), "-V", str(vectors_dir), "--vector", "S3", "-q")
    assert r.exit_code == 1 and "S3: framing.extension_error" in last_line(r)
    r = check("-d", tamper("strip:extension_error"), "-V", str(vectors_dir), "--vector", "S3", "-q",
              "--allow-not-tested")
    assert r.exit_code == 0
    assert last_line(r) == ("CONFORMS to profile framing,dred,features on 1 stream (73 packets); NOT TESTED, allowed by "
                            "--allow-not-tested: framing.extension_error")


def test_a_profile_without_framing_does_not_need_the_extension_list(vectors_dir):
    r = check("-d", tamper("strip:extensions", "strip:extension_error"), "-V", str(vectors_dir), "--vector", "SYN",
              "--profile", "dred,features", "-q")
    assert r.exit_code == 0 and last_line(r) == "CONFORMS to profile dred,features on 1 stream (120 packets)"


# ------------------------------------------------------------------------------------------------ honest decoders


def _replay_standalone(tmp_path) -> str:
    script = tmp_path / "replay_standalone.py"
    script.write_text("import gzip, sys\n"
                      "open(sys.argv[2], 'wb').write(gzip.open(sys.argv[1][:-4] + '_dec.f32.gz').read())\n")
    return f"libopus-features:{sys.executable} {script} {{input}} {{output}}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["libopus-1.6.1", "libopus-1.6.1-edge", "libopus-1.6.1-standalone"])
def test_reference_and_replay_conform_on_every_shared_set(vector_sets, name, tmp_path):
    vectors = vector_sets / name
    r = check("-d", "reference", "-V", name, "-q")  # an installed set, by name
    assert r.exit_code == 0 and last_line(r).startswith("CONFORMS to profile framing,dred,features on"), r.output
    replay = _replay_standalone(tmp_path) if name.endswith("standalone") else f"cmd:{REPLAY} {{input}} {{output}}"
    r = check("-d", replay, "-V", str(vectors), "-q")
    assert r.exit_code == 0 and last_line(r).startswith("CONFORMS"), r.output


# ------------------------------------------------------------------------------------------------ reproducing


def test_one_failure_is_reproduced_alone(vectors_dir, tmp_path):
    """The failure's id, bytes and commands; then `--vector S1 --packet N` reruns exactly that packet."""
    from dredconf.spec import read_stream

    out = tmp_path / "r.json"
    r = check("-d", "mutant:quantizer-rounding", "-V", str(vectors_dir), "--vector", "S1", "--json", str(out))
    assert r.exit_code == 1
    doc = json.loads(out.read_text())
    bad = next(p for p in doc["results"][0]["packets"] if p["layers"]["latents"] == "fail")
    n = bad["index"]
    packet = [x.packet for x in read_stream((vectors_dir / "S1.bit").read_bytes())][n]
    assert bytes.fromhex(bad["packet"]["hex"]) == packet[:64] and bad["packet"]["bytes"] == len(packet)
    assert f"S1#{n}: levels[" in r.output and f"dredconf inspect {vectors_dir / 'S1.bit'} --packet {n}" in r.output
    one = check("-d", "mutant:quantizer-rounding", "-V", str(vectors_dir), "--vector", "S1", "--packet", str(n),
                "--json", str(out))
    assert one.exit_code == 1
    doc = json.loads(out.read_text())
    (res,) = doc["results"]
    assert res["count"] == 1 and res["only_packet"] == n and [p["index"] for p in res["packets"]] == [n]
    assert res["layers"]["latents"]["first_departure"]["packet"] == n
    # the honest reference passes that packet alone
    assert check("-d", "reference", "-V", str(vectors_dir), "--vector", "S1", "--packet", str(n)).exit_code == 0
    assert check("-d", "reference", "-V", str(vectors_dir), "--packet", str(n)).exit_code == 2  # which vector?


def test_expected_failures_are_tracked(vectors_dir, tmp_path):
    known = tmp_path / "known.txt"
    known.write_text("# known failures\nSYN#17  latents misread at a high dQ (issue 42)\n")
    args = ("-d", tamper("add:packets[17].dred.latents[3][12]=1"), "-V", str(vectors_dir), "--vector", "SYN")
    r = check(*args, "--expect-fail", str(known))
    assert r.exit_code == 0, r.output
    assert last_line(r).startswith("KNOWN FAILURES ONLY: does not conform to profile framing,dred,features")
    assert "[expected failure: latents misread at a high dQ (issue 42)]" in r.output
    # a second, unlisted failure fails the run
    r = check(*args[:1], tamper("add:packets[17].dred.latents[3][12]=1", "set:packets[4].toc=1"), *args[2:],
              "--expect-fail", str(known))
    assert r.exit_code == 1 and "DOES NOT CONFORM" in last_line(r)
    # a listed id that passes now is reported
    r = check("-d", f"cmd:{REPLAY} {{input}} {{output}}", "-V", str(vectors_dir), "--vector", "SYN",
              "--expect-fail", str(known))
    assert r.exit_code == 0 and "but not failing: SYN#17" in r.output


def test_verdict_table_names_tests_that_exist():
    """docs/VERDICTS.md: every test it names exists (file, function, and parametrize id where given)."""
    import ast
    import re

    root = Path(__file__).resolve().parent.parent
    refs = re.findall(r"`(tests/[\w/.-]+\.py)::(\w+)(?:\[([\w.-]+)\])?`", (root / "docs" / "VERDICTS.md").read_text())
    assert len(refs) > 30
    for path, func, param in refs:
        tree = ast.parse((root / path).read_text())
        assert func in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, (path, func)
        if param:
            assert param in FALSE_PASSES or param in ("libopus-1.6.1",), (path, func, param)
