"""``dredconf synth``: features files and packets' DRED to speech, each output format, and its errors (no traceback)."""
from __future__ import annotations

import hashlib
import json
import os

import pytest
import soundfile
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.vectors.setfiles import read_pcm
from tests.helpers.shared import pcm as pcm_path

pytestmark = pytest.mark.shared


def run(*args: str):
    r = CliRunner().invoke(main, ["synth", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert "Traceback" not in r.output, r.output
    return r


@pytest.fixture(scope="module")
def alsa(vocoder_dir):
    return vocoder_dir / "alsaA_16k.features.f32", read_pcm(pcm_path(vocoder_dir / "alsaA_16k.expected"))


@pytest.mark.parametrize("ext", [".sw", ".raw", ".pcm", ".wav", ".flac"])
def test_features_to_each_format(alsa, tmp_path, ext):
    features, expected = alsa
    out = tmp_path / f"out{ext}"
    r = run(str(features), "-o", str(out), "--json")
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert json.loads(r.output) == {"path": str(out), "samples": 46400, "seconds": 2.9,
                                    "sha256": hashlib.sha256(data).hexdigest()}
    if ext in (".sw", ".raw", ".pcm"):
        assert data == expected
    else:
        pcm, rate = soundfile.read(str(out), dtype="int16")
        info = soundfile.info(str(out))
        assert rate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
        assert pcm.astype("<i2").tobytes() == expected


def test_softfloat_and_the_human_line(alsa, tmp_path):
    features, expected = alsa
    r = run(str(features), "-o", str(tmp_path / "a.sw"), "--arith", "softfloat")
    assert r.exit_code == 0 and r.output.strip().endswith("a.sw: 46400 samples, 2.90 s at 16 kHz")
    assert (tmp_path / "a.sw").read_bytes() == expected


def test_arith_reaches_the_features_too(vectors_dir, model, monkeypatch):
    """synth --arith softfloat decodes the packet's DRED with the soft-float RDOVAE as well, not only FARGAN."""
    from dredconf import synth as S
    from dredconf.reference import rdovae

    made, real = [], rdovae.RdovaeDecoder

    def recording(m, arith):
        made.append(arith)
        return real(m, arith=arith)

    monkeypatch.setattr(rdovae, "RdovaeDecoder", recording)
    (index, feats), = S.dred_features(str(vectors_dir / "S3.bit"), 5, model, "softfloat")
    assert made == ["softfloat"] and index == 5 and feats.shape[1] == 20


def test_one_packet_and_every_packet(vectors_dir, model, tmp_path):
    """Packet 17 of S1: its DRED's 4 latents = 16 frames, oldest first, through the vocoder; --all writes one file
    per packet with DRED (S3: 71 of 73)."""
    from dredconf.reference.decoder import ReferenceDecoder
    from dredconf.reference.fargan import FarganSynthesizer
    from dredconf.spec import read_stream

    data = (vectors_dir / "S1.bit").read_bytes()
    packet = next(r.packet for r in read_stream(data) if r.index == 17)
    feats = ReferenceDecoder(model, features=True).decode_packet(packet, 17).features
    want = FarganSynthesizer().synthesize(feats[::-1]).astype("<i2").tobytes()
    r = run(str(vectors_dir / "S1.bit"), "--packet", "17", "-o", str(tmp_path / "p17.sw"), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["packet"] == 17 and (tmp_path / "p17.sw").read_bytes() == want and len(want) == 2 * 2560
    r = run(str(vectors_dir / "S3.bit"), "--all", "-o", str(tmp_path / "all"), "--format", "flac", "--json")
    assert r.exit_code == 0, r.output
    files = json.loads(r.output)["files"]
    assert len(files) == 71 == len(os.listdir(tmp_path / "all"))
    assert all(f["path"].endswith(f"packet-{f['packet']}.flac") for f in files)


@pytest.mark.parametrize("case, words", [
    ("ragged", "100 bytes, not a whole number of 80-byte frames (20 float32 each): 1 whole frames and 20 bytes over"),
    ("empty", "empty: no frame of features"),
    ("missing", "No such file or directory"),
])
def test_bad_features_files(tmp_path, case, words):
    f = tmp_path / "f.f32"
    if case != "missing":
        f.write_bytes(bytes(100) if case == "ragged" else b"")
    r = run(str(f), "-o", str(tmp_path / "o.sw"))
    assert r.exit_code == 2 and words in r.output and not (tmp_path / "o.sw").exists()


def test_bad_outputs_refused_before_the_work(alsa, tmp_path):
    features, _ = alsa
    for out, words in ((tmp_path / "no" / "dir" / "o.sw", "does not exist"), (tmp_path / "o.mp3", "by the extension"),
                       (tmp_path, "is a directory")):
        r = run(str(features), "-o", str(out))
        assert r.exit_code == 2 and words in r.output, r.output
    (tmp_path / "file").write_bytes(b"")
    r = run(str(features), "--all", "-o", str(tmp_path / "file"))
    assert r.exit_code == 2 and "not a directory" in r.output


def test_stream_errors(vectors_dir, tmp_path):
    s1 = str(vectors_dir / "S1.bit")
    for args, words in (((s1, "--packet", "0"), "packet 0 carries no DRED extension: nothing to synthesise"),
                        ((s1, "--packet", "9999"), "no packet 9999 (the stream has 524)"),
                        ((s1,), "looks like an Opus stream: give --packet N or --all"),
                        ((s1, "--packet", "3", "--all"), "give --packet N or --all, not both")):
        r = run(*args, "-o", str(tmp_path / "o.wav"))
        assert r.exit_code == 2 and words in r.output, r.output
    (tmp_path / "cut.bit").write_bytes((vectors_dir / "S1.bit").read_bytes()[:1000])
    r = run(str(tmp_path / "cut.bit"), "--packet", "40", "-o", str(tmp_path / "o.wav"))
    assert r.exit_code == 2 and "runs past the end of the file" in r.output


def test_model_without_fargan_is_an_error(alsa, tmp_path, model_dir):
    import shutil

    d = tmp_path / "m"
    shutil.copytree(model_dir, d)
    os.chmod(d, 0o755)
    os.chmod(d / "SHA256SUMS", 0o644)
    (d / "SHA256SUMS").unlink()
    os.chmod(d / "fargan_data.c", 0o644)
    (d / "fargan_data.c").unlink()
    r = run(str(alsa[0]), "-o", str(tmp_path / "o.sw"), "--model", str(d))
    assert r.exit_code == 1 and "fargan_data.c: file missing [model-file-missing]" in r.output
