"""The audio stages of `dredconf check` (vocoder, integration) on libopus's ground truth, with replay decoders.

libopus's own figures are in the README.md of the sets libopus-1.6.1-{vocoder,integration}; the metric's
agreement with dred_compare is tests/test_audio_metric.py's.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.reference.loss import Burst, bursts, dred_reach
from dredconf.vectors.setfiles import read_pcm
from tests.helpers.shared import pcm

DUT = Path(__file__).resolve().parent / "dut" / "replay_audio.py"
STREAMS = ("S1", "S1L", "S2", "S3", "S4")
# libopus-1.6.1-integration/README.md: plc-only vs expected (err4 / err16 / pitch)
PLC_ONLY = {"S1": (1.1071, 3.1411, 0.0854), "S2": (2.0631, 4.2705, 0.3235), "S3": (1.1019, 2.6622, 0.0001),
            "S1L": (1.0292, 3.4533, 0.0179), "S4": (1.8187, 5.2556, 0.0522)}

pytestmark = pytest.mark.shared


def replay(mode: str = "expected", loss: bool = True) -> str:
    return f"cmd:{sys.executable} {DUT} {{input}} {{output}} {mode}" + (" {loss}" if loss else "")


def check(*args: str):
    r = CliRunner().invoke(main, ["check", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r


@pytest.fixture(scope="module")
def integration(integration_dir) -> Path:
    return integration_dir


@pytest.fixture(scope="module")
def vocoder(vocoder_dir) -> Path:
    return vocoder_dir


def _report(r, path: Path) -> dict:
    return {v["name"]: v for v in json.loads(path.read_text())["results"]}


# ------------------------------------------------------------------------------------------------ integration


def test_expected_replay_passes_and_plc_only_fails_every_stream(integration, tmp_path):
    r = check("-d", replay(), "-V", str(integration), "--json", str(tmp_path / "ok.json"))
    assert r.exit_code == 0, r.output
    assert "CONFORMS to profile integration on 5 streams with losses (1,694 packets)" in r.output
    for v in _report(r, tmp_path / "ok.json").values():
        m = v["layers"]["integration"]["audio_metric"]
        assert (m["err4"], m["err16"], m["pitch"]) == (0.0, 0.0, 0.0)
    r = check("-d", "mutant:plc-only", "-V", str(integration), "--json", str(tmp_path / "plc.json"))
    assert r.exit_code == 1 and "DOES NOT CONFORM to profile integration: 5 of 5 vectors fail" in r.output
    for name, v in _report(r, tmp_path / "plc.json").items():
        m = v["layers"]["integration"]["audio_metric"]
        assert v["verdict"] == "fail"
        assert (m["err4"], m["err16"], m["pitch"]) == pytest.approx(PLC_ONLY[name], abs=1e-4), name


def test_wrong_length_is_malformed_with_the_lengths(integration):
    r = check("-d", replay("short"), "-V", str(integration), "--vector", "S3")
    assert r.exit_code == 1
    assert "malformed: 46710 samples of 16 kHz s16le PCM, expected 46720 (the stream's duration at 16 kHz)" in r.output


def test_reference_on_integration_is_a_usage_error(integration):
    r = check("-d", "reference", "-V", str(integration))
    assert r.exit_code == 2 and "the reference has no Opus decoder" in r.output
    assert "cmd:opus_demo -d 16000 1 -lossfile {loss} {input} {output}" in r.output
    r = check("-d", f"cmd:{sys.executable} {DUT} {{input}} {{output}}", "-V", str(integration))
    assert r.exit_code == 2 and "the command needs {loss}" in r.output


def test_bursts_beyond_the_dred_reach_stand_out(integration, tmp_path):
    """A decoder right within DRED's reach and wrong beyond it (the bug S1L exists for): the per-burst view
    ranks the bursts DRED does not reach first."""
    from dredconf.spec import parse_packet, read_stream

    packets = [r.packet for r in read_stream((integration / "S1L.bit").read_bytes())]
    loss = [int(x) for x in (integration / "S1L.loss").read_text().split()]
    expected = json.loads(CliRunner().invoke(main, ["inspect", str(integration / "S1L.bit"), "--loss",
                                                    str(integration / "S1L.loss"), "--json"]).output)["bursts"]
    ms = [parse_packet(p).duration_samples / 48 for p in packets]
    spans = []
    for b in expected:
        for k in b["not_reached"] + b["partly_reached"]:
            spans.append(f"{int(sum(ms[:k]) * 16)} {int(sum(ms[:k + 1]) * 16)}")
    (tmp_path / "beyond.txt").write_text("\n".join(spans))
    out = tmp_path / "r.json"
    r = check("-d", replay(f"splice:{tmp_path / 'beyond.txt'}"), "-V", str(integration), "--vector", "S1L",
              "--json", str(out))
    (v,) = _report(r, out).values()
    ranked = sorted(v["bursts"], key=lambda b: -b["stream_equivalent"]["err4"])
    beyond = [b for b in v["bursts"] if b["gap_ms"] > (b["reach_ms"] or 0)]
    assert len(beyond) == 5 and sum(loss) == 102
    assert {b["first"] for b in ranked[:5]} == {b["first"] for b in beyond} == {50, 247, 308, 340, 508}
    assert all(b["stream_equivalent"]["err4"] < 1e-3 for b in ranked[5:])  # within reach: as expected


# ------------------------------------------------------------------------------------------------ what DRED covers


def test_inspect_loss_on_s2_against_hand_worked_bursts(integration):
    r = CliRunner().invoke(main, ["inspect", str(integration / "S2.bit"), "--loss", str(integration / "S2.loss"),
                                  "--json"])
    assert r.exit_code == 0, r.output
    by_first = {b["first"]: b for b in json.loads(r.output)["bursts"]}
    # Packets 113-130 lost (18 x 20 ms = 360 ms); packet 131 arrives with dred_offset 10 and 18 latents:
    # reach 18 x 40 - 10 x 2.5 = 695 ms, so all 360 ms are covered.
    b = by_first[113]
    assert (b["lost"], b["gap_ms"], b["arriving"], b["dred_offset"], b["latent_count"]) == (18, 360, 131, 10, 18)
    assert (b["reach_ms"], b["covered_ms"], b["not_reached"], b["partly_reached"]) == (695, 360, [], [])
    # Packets 411-446 lost (36 x 20 = 720 ms); packet 447's DRED reaches 695 ms: packet 411 starts 720 ms before
    # packet 447 (not reached), packet 412 spans 700..680 ms before it (reached in part), 413.. are covered.
    b = by_first[411]
    assert (b["lost"], b["gap_ms"], b["arriving"], b["reach_ms"], b["covered_ms"]) == (36, 720, 447, 695, 695)
    assert (b["not_reached"], b["partly_reached"], b["reached"][0]) == ([411], [412], 413)
    text = CliRunner().invoke(main, ["inspect", str(integration / "S2.bit"), "--loss", str(integration / "S2.loss")])
    assert "lost 3460 ms, of which DRED covers 3430 ms (99 %)" in text.output


def test_inspect_loss_takes_a_whole_stream_only(integration):
    """--loss pairs a loss pattern with a stream file: with --hex (one packet) or --packet it is a usage error."""
    loss = str(integration / "S2.loss")
    for args in (["--hex", "fc00"], [str(integration / "S2.bit"), "--packet", "3"]):
        r = CliRunner().invoke(main, ["inspect", *args, "--loss", loss])
        assert r.exit_code == 2 and "--loss reads a whole stream file" in r.output, r.output


def test_loss_bursts_and_reach_rules():
    assert bursts([0, 1, 1, 0, 1, 0]) == [(1, 2), (4, 1)]
    (b,) = dred_reach([20.0] * 6, [0, 1, 1, 1, 0, 0], [None, None, None, None, (4, 2), None])
    assert (b.gap_ms, b.reach_ms, b.covered_ms) == (60, 70, 60) and b.reached() == ([1, 2, 3], [], [])
    b = Burst(first=1, lost=3, packet_ms=20, arriving=4, dred_offset=20, latent_count=1)  # 40 - 50 < 0
    assert (b.reach_ms, b.covered_ms, b.reached()) == (0, 0, ([], [], [1, 2, 3]))
    b = Burst(first=1, lost=60, packet_ms=20, arriving=61, dred_offset=-8, latent_count=26)  # 1060 ms
    assert (b.reach_ms, b.covered_ms) == (1060, 1000)  # opus_demo asks for 1 s at most
    assert Burst(first=5, lost=2, packet_ms=20, arriving=None).covered_ms == 0  # a loss at the end is not concealed


# ------------------------------------------------------------------------------------------------ loss patterns


def test_generated_loss_pattern(tmp_path):
    from dredconf.vectors.losses import gilbert_elliott

    a = CliRunner().invoke(main, ["vectors", "losses", "5000", "--seed", "4", "--rate", "0.2", "--burst", "4"])
    b = CliRunner().invoke(main, ["vectors", "losses", "5000", "--seed", "4", "--rate", "0.2", "--burst", "4"])
    assert a.exit_code == 0 and a.output == b.output
    flags = [int(x) for x in a.output.split()]
    assert len(flags) == 5000 and flags[0] == flags[-1] == 0
    runs = bursts(flags)
    assert 0.17 < sum(flags) / 5000 < 0.23 and 3.4 < sum(n for _, n in runs) / len(runs) < 4.6
    assert gilbert_elliott(100, seed=4, rate=0.2, burst=4) != gilbert_elliott(100, seed=5, rate=0.2, burst=4)
    bad = CliRunner().invoke(main, ["vectors", "losses", "100", "--rate", "0.9", "--burst", "1"])
    assert bad.exit_code == 2 and "lower the rate or raise the burst" in bad.output


def test_capture_round_trip(integration, tmp_path):
    streams, losses, out = tmp_path / "streams", tmp_path / "losses", tmp_path / "captured"
    streams.mkdir()
    losses.mkdir()
    for name in ("S3", "S4"):
        shutil.copy(integration / f"{name}.bit", streams)
        (streams / f"{name}.expected.sw").write_bytes(read_pcm(pcm(integration / f"{name}.expected")))  # replayed
    assert CliRunner().invoke(main, ["vectors", "losses", "73", "--seed", "2", "-o", str(losses / "S3.loss")]).exit_code == 0
    shutil.copy(integration / "S4.loss", losses)
    r = CliRunner().invoke(main, ["vectors", "capture", str(out), "-d", replay(), "--streams", str(streams),
                                  "--losses", str(losses)])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "capture.json").read_text())
    assert m["decoder"] == replay()[4:] and m["thresholds"] == {"err4": 0.25, "err16": 1.0, "pitch": 0.15}
    assert sorted(f["path"] for f in m["files"]) == ["S3.bit", "S3.expected.sw", "S3.loss", "S4.bit",
                                                      "S4.expected.sw", "S4.loss"]
    assert check("-d", replay(), "-V", str(out), "-q").exit_code == 0
    assert CliRunner().invoke(main, ["vectors", "verify", str(out)]).exit_code == 0
    data = bytearray((out / "S4.expected.sw").read_bytes())
    data[1000] ^= 1
    (out / "S4.expected.sw").write_bytes(bytes(data))
    v = CliRunner().invoke(main, ["vectors", "verify", str(out)])
    assert v.exit_code == 1 and "[set-hash-mismatch]" in v.output
    c = check("-d", replay(), "-V", str(out))
    assert c.exit_code == 2 and "[set-hash-mismatch]" in c.output


# ------------------------------------------------------------------------------------------------ vocoder


def test_vocoder_replays(vocoder, tmp_path):
    r = check("-d", replay(loss=False), "-V", str(vocoder), "--json", str(tmp_path / "ok.json"))
    assert r.exit_code == 0 and "CONFORMS to profile vocoder on 2 feature files (1,337 frames)" in r.output
    ok = _report(r, tmp_path / "ok.json")
    # beside the verdict, libopus's own check against the original speech (vocoder README: passes on slt_16k,
    # fails on alsaA_16k even for libopus)
    assert ok["slt_16k"]["against_original"]["err4"] == pytest.approx(0.1460, abs=1e-4)
    assert ok["alsaA_16k"]["against_original"]["err4"] == pytest.approx(0.3155, abs=1e-4)
    assert "libopus's own check at 0.25 / 1.0 / 0.15 fails" in r.output
    # a decoder replaying the original speech is judged against the expected synthesis: passes on slt, not alsaA
    r = check("-d", replay("orig", loss=False), "-V", str(vocoder), "--json", str(tmp_path / "orig.json"))
    orig = _report(r, tmp_path / "orig.json")
    assert r.exit_code == 1
    assert orig["slt_16k"]["verdict"] == "pass" and orig["alsaA_16k"]["verdict"] == "fail"
    assert orig["alsaA_16k"]["layers"]["vocoder"]["audio_metric"]["err4"] == pytest.approx(0.3144, abs=1e-4)


def test_reference_vocoder_is_libopus_byte_for_byte(vocoder, tmp_path):
    """--decoder reference on the vocoder layout: its FARGAN (python_dut --synth, as check runs it) writes
    X.expected.sw exactly, in both arithmetics, and check passes with a zero metric."""
    import subprocess

    for arith in ("exact", "softfloat"):
        r = check("-d", f"reference:{arith}", "-V", str(vocoder), "--json", str(tmp_path / f"{arith}.json"))
        assert r.exit_code == 0 and "CONFORMS to profile vocoder on 2 feature files (1,337 frames)" in r.output
        for name, v in _report(r, tmp_path / f"{arith}.json").items():
            m = v["layers"]["vocoder"]["audio_metric"]
            assert (m["err4"], m["err16"], m["pitch"]) == (0.0, 0.0, 0.0), name
    for item in ("slt_16k", "alsaA_16k"):
        out = tmp_path / f"{item}.sw"
        subprocess.run([sys.executable, "-m", "dredconf.conformance.python_dut", "--synth",
                        str(vocoder / f"{item}.features.f32"), str(out)], check=True)
        assert out.read_bytes() == read_pcm(pcm(vocoder / f"{item}.expected")), item


@pytest.mark.parametrize("mutant", ["vocoder-pitch-off", "vocoder-flat-envelope"])
def test_vocoder_mutants_fail(vocoder, tmp_path, mutant):
    """The reference FARGAN fed bent features (pitch + 0.08; cepstra 1..17 x 0.8) fails on both items."""
    from dredconf.conformance.mutants import MUTANTS
    from dredconf.conformance.verdicts import Layer

    assert (MUTANTS[mutant].kind, MUTANTS[mutant].layer) == ("vocoder", Layer.VOCODER)
    r = check("-d", f"mutant:{mutant}", "-V", str(vocoder), "--json", str(tmp_path / "m.json"))
    assert r.exit_code == 1 and "DOES NOT CONFORM to profile vocoder: 2 of 2 vectors fail" in r.output, r.output
    assert {v["verdict"] for v in _report(r, tmp_path / "m.json").values()} == {"fail"}
