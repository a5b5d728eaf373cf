"""DUT adapters (conformance/adapters.py): a C program, a shell script, Python callables, feature files;
crashes, hangs, malformed output; the run goes on after a failing vector."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dredconf.conformance.adapters import AdapterError, CmdAdapter, LibopusFeaturesAdapter, PythonAdapter, parse_decoder
from dredconf.conformance.profile import Profile
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.conformance.verdicts import LAYERS, Layer, Verdict
from dredconf.vectors.sets import load_vector_set

DUT_DIR = Path(__file__).resolve().parent / "dut"
REPLAY = DUT_DIR / "replay.sh"
TAMPER = DUT_DIR / "tamper.py"

pytestmark = pytest.mark.shared



@pytest.fixture(scope="module")
def small_set(vectors_dir):
    """S3 and SYN: the two small streams (73 and 120 packets)."""
    return load_vector_set(vectors_dir).select(["S3", "SYN"])


@pytest.fixture(scope="module")
def framing_dut(tmp_path_factory) -> Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("dut") / "framing_dut"
    subprocess.run([gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(DUT_DIR / "framing_dut.c")],
                   check=True)
    return exe


def check(decoder, vset, timeout=60.0, profile: str | None = None, allow_not_tested: bool = False):
    adapter = parse_decoder(decoder) if isinstance(decoder, str) else decoder
    adapter.preflight()
    chosen = Profile.parse(profile) if profile else adapter.default_profile()
    return run_check(adapter, vset, CheckOptions(chosen, timeout=timeout), allow_not_tested=allow_not_tested)


def only(report, name="SYN"):
    return next(r for r in report.results if r.name == name)


# --- a C decoder -------------------------------------------------------------------


def test_c_dut_judged_on_what_it_outputs(framing_dut, small_set):
    rep = check(f"cmd:{framing_dut} {{input}} {{output}}", small_set, profile="framing", allow_not_tested=True)
    assert rep.conforms and rep.exit_status == 0
    assert rep.verdict_line() == ("CONFORMS to profile framing on 2 streams (193 packets); NOT TESTED, allowed by "
                                  "--allow-not-tested: framing.extension_error, framing.extensions, "
                                  "framing.padding_length")
    for r in rep.results:
        assert r.layers[Layer.FRAMING].verdict is Verdict.PASS
        assert r.layers[Layer.FRAMING].tested == r.count
        assert r.layers[Layer.FRAMING].untested == ["padding_length", "extensions", "extension_error"]
        for layer in (Layer.HEADER, Layer.LATENTS, Layer.FEATURES):
            assert r.layers[layer].verdict is Verdict.NOT_TESTED
        assert r.dut.exit_status == 0 and "framing_dut:" in r.dut.stderr
    # claiming framing, it does not conform: three framing fields were never tested
    rep = check(f"cmd:{framing_dut} {{input}} {{output}}", small_set, profile="framing")
    assert not rep.conforms and rep.exit_status == 1
    assert rep.verdict_line().startswith("DOES NOT CONFORM to profile framing: 2 not fully tested (S3: "
                                         "framing.padding_length, framing.extensions, framing.extension_error")


def test_c_dut_departure_named(framing_dut, small_set, ground_truth):
    rep = check(f"cmd:{framing_dut} {{input}} {{output}} badtoc=17", small_set, profile="framing", allow_not_tested=True)
    assert rep.exit_status == 1
    syn = only(rep)
    toc = ground_truth["SYN"][1][17]["toc"]
    assert syn.verdict is Verdict.FAIL and syn.first_layer is Layer.FRAMING
    assert str(syn.layers[Layer.FRAMING].first) == f"packet 17: toc = {toc + 1}, expected {toc}"
    assert syn.departure_label(syn.layers[Layer.FRAMING].first) == f"SYN#17: toc = {toc + 1}, expected {toc}"
    p = syn.packet(17)
    assert p.data["bytes"] == len(bytes.fromhex(p.data["hex"])) or "sha256" in p.data
    assert syn.layers[Layer.FRAMING].failed == 1


@pytest.mark.parametrize("mode, kind, text", [
    ("short", "malformed", "119 packet records, expected 120"),
    ("types", "malformed", "packets[0].length is a string, expected an integer"),
    ("segv", "crash", "killed by SIGSEGV"),
])
def test_c_dut_failures(framing_dut, small_set, mode, kind, text):
    rep = check(f"cmd:{framing_dut} {{input}} {{output}} {mode}", small_set.select(["SYN"]))
    r = only(rep)
    assert r.verdict is Verdict.ERROR and r.dut.failure_kind == kind
    assert text in r.dut.failure
    assert rep.exit_status == 1


# --- a shell script ----------------------------------------------------------------


def test_shell_replay_passes_everything(small_set):
    rep = check(f"cmd:{REPLAY} {{input}} {{output}}", small_set)
    assert rep.conforms
    for r in rep.results:
        assert all(s.verdict is Verdict.PASS for s in r.layers.values())
        assert r.expected_source == f"set: {r.name}.expected.json.gz"
        assert r.layers[Layer.FEATURES].score.tot == 0


def test_output_on_stdout(small_set):
    rep = check(f"cmd:{REPLAY} {{input}} /dev/null stdout", small_set.select(["S3"]))
    assert rep.conforms


@pytest.mark.parametrize("mode, kind, text", [
    ("crash", "crash", "killed by SIGSEGV (exit status -11)"),
    ("exit3", "crash", "exited with status 3"),
    ("notjson", "malformed", "not JSON"),
    ("nooutput", "malformed", "output.json was not written"),
    ("truncated", "malformed", "not JSON"),
])
def test_shell_failures(small_set, mode, kind, text):
    rep = check(f"cmd:{REPLAY} {{input}} {{output}} {mode}", small_set.select(["S3"]))
    r = only(rep, "S3")
    assert (r.dut.failure_kind, r.verdict) == (kind, Verdict.ERROR)
    assert text in r.dut.failure
    assert all(s.verdict is Verdict.ERROR for s in r.layers.values())


def _sleepers() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "cmdline").read_bytes() == b"sleep\x00987654\x00":
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def test_hang_is_killed_with_its_children(small_set):
    before = set(_sleepers())
    rep = check(f"cmd:{REPLAY} {{input}} {{output}} hang", small_set.select(["S3"]), timeout=1.0)
    r = only(rep, "S3")
    assert r.dut.failure_kind == "timeout" and "1 s" in r.dut.failure
    assert r.dut.elapsed < 10
    assert set(_sleepers()) <= before, "the DUT's child survived the time limit"


def test_launch_failure(small_set):
    rep = check("cmd:/nonexistent/decoder {input} {output}", small_set.select(["S3"]))
    assert only(rep, "S3").dut.failure_kind == "launch"


def test_no_shell_and_quoting(small_set, tmp_path):
    d = tmp_path / "dir with space; $(touch pwned)"
    d.mkdir()
    shutil.copy(REPLAY, d / "replay.sh")
    rep = check(CmdAdapter(f"'{d / 'replay.sh'}' {{input}} {{output}}"), small_set.select(["S3"]))
    assert rep.conforms
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert only(rep, "S3").dut.argv[0] == str(d / "replay.sh")


def test_run_continues_after_a_failing_vector(small_set, tmp_path):
    script = tmp_path / "crash_on_syn.sh"
    script.write_text(f'#!/bin/sh\ncase "$1" in *SYN.bit) kill -SEGV $$ ;; esac\nexec "{REPLAY}" "$@"\n')
    script.chmod(0o755)
    rep = check(f"cmd:{script} {{input}} {{output}}", small_set)
    assert [(r.name, r.verdict) for r in rep.results] == [("S3", Verdict.PASS), ("SYN", Verdict.ERROR)]
    assert rep.exit_status == 1


# --- feature files -----------------------------------------------------------------


def test_libopus_features_judged_on_features_only(small_set):
    rep = check(f"libopus-features:{sys.executable} {TAMPER} {{input}} {{output}} features", small_set)
    assert rep.conforms and rep.profile == "features"
    for r in rep.results:
        assert [r.layers[l].verdict for l in LAYERS] == [Verdict.NOT_TESTED] * 3 + [Verdict.PASS]


def test_libopus_features_wrong_size(small_set):
    rep = check(f"libopus-features:{sys.executable} {TAMPER} {{input}} {{output}} features del:packets[3].dred.features[0]",
                small_set.select(["SYN"]))
    r = only(rep)
    assert r.dut.failure_kind == "malformed"
    assert "8839 feature rows, expected 8840" in r.dut.failure


def test_libopus_features_departure(small_set):
    rep = check(f"libopus-features:{sys.executable} {TAMPER} {{input}} {{output}} features shift:18=0.05",
                small_set.select(["SYN"]))
    s = only(rep).layers[Layer.FEATURES]
    assert s.verdict is Verdict.FAIL and "pitch 0.0500 > 0.02" in str(s.first)


def test_libopus_features_needs_output_placeholder():
    with pytest.raises(AdapterError):
        parse_decoder("libopus-features")
    with pytest.raises(AdapterError, match=r"the command needs \{output\}"):
        parse_decoder("libopus-features:x {input}").preflight()
    a = parse_decoder("libopus-features:x {input} {output}")
    a.preflight()
    assert isinstance(a, LibopusFeaturesAdapter)


# --- Python callables --------------------------------------------------------------


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(DUT_DIR))


def test_python_callable(on_path, small_set):
    rep = check("python:pydut:framing_only", small_set, profile="dred", allow_not_tested=True)
    assert rep.conforms
    assert only(rep).layers[Layer.FRAMING].skipped == ["frame_count", "padding_length", "extensions", "extension_error"]
    rep = check("python:pydut:framing_only", small_set, profile="framing")
    assert not rep.conforms
    assert only(rep).layers[Layer.FRAMING].untested == ["frame_count", "padding_length", "extensions", "extension_error"]


def test_python_exception_is_a_packet_error(on_path, small_set):
    r = only(check("python:pydut:raises_on_3", small_set, profile="framing", allow_not_tested=True))
    assert r.dut.failure_kind is None
    assert r.packets[3].verdicts[Layer.FRAMING] is Verdict.ERROR
    assert str(r.layers[Layer.FRAMING].first) == "packet 3: the decoder reported an error: ValueError: cannot decode this one"
    assert "Traceback" in r.dut.stderr
    assert all(p.verdicts[Layer.FRAMING] is Verdict.PASS for p in r.packets if p.index != 3)


def test_python_process_exit(on_path, small_set):
    r = only(check("python:pydut:exits_on_2", small_set, profile="framing", allow_not_tested=True))
    assert (r.dut.failure_kind, r.dut.failure) == ("crash", "exited with status 7")


def test_python_class_instantiated_once(on_path, small_set):
    r = only(check("python:pydut:Counter", small_set, profile="framing", allow_not_tested=True))
    assert str(r.layers[Layer.FRAMING].first).startswith("packet 9: toc = 0, expected")


def test_python_module_missing_is_a_usage_error(small_set):
    with pytest.raises(AdapterError, match="cannot load no_such_module_here:f: ModuleNotFoundError"):
        check("python:no_such_module_here:f", small_set)
    with pytest.raises(AdapterError, match="AttributeError"):
        check("python:json:no_such_function", small_set)


def test_python_module_from_the_current_directory(small_set, monkeypatch):
    monkeypatch.chdir(DUT_DIR)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert check(PythonAdapter(target="pydut:framing_only"), small_set.select(["S3"]), profile="framing",
                 allow_not_tested=True).conforms


@pytest.mark.parametrize("spec", ["", "nope", "cmd:", "python:mod", "foo:bar", "mutant:no-such"])
def test_bad_decoder_specs(spec):
    with pytest.raises(AdapterError):
        parse_decoder(spec).preflight()


def test_reference_spec(model_dir):
    a = parse_decoder("reference", model=str(model_dir))
    a.preflight()
    env = a._env()
    assert a.describe() == "reference" and env["DREDCONF_MODEL"] == str(model_dir)
    assert os.getcwd() in env["PYTHONPATH"].split(os.pathsep)


def test_reference_without_a_model_is_a_usage_error(tmp_path):
    with pytest.raises(AdapterError, match=r"model-missing"):
        parse_decoder("reference", model=str(tmp_path / "nonexistent")).preflight()
