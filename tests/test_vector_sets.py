"""Vector sets (vectors/sets.py): what is recognised, and every way a set is refused before a decoder runs."""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from dredconf.vectors.sets import FROM_REFERENCE, PACKETS, STANDALONE, VOCODER, load_vector_set, validate_vector
from dredconf.vectors.setfiles import VectorSetError, read_pcm
from tests.helpers.shared import pcm


@pytest.fixture
def s3_set(vectors_dir, tmp_path) -> Path:
    """A copy of S3 (73 packets) with its libopus expectations, in a directory of its own."""
    for name in ("S3.bit", "S3.expected.json.gz"):
        shutil.copy(vectors_dir / name, tmp_path / name)
    return tmp_path


def _refused(path, rule: str, text: str) -> VectorSetError:
    with pytest.raises(VectorSetError) as e:
        load_vector_set(path)
    assert e.value.rule == rule, str(e.value)
    assert text in str(e.value)
    assert "\n" not in str(e.value)
    return e.value


def test_libopus_sets_are_recognised(shared):
    v = shared / "vectors"
    packets = load_vector_set(v / "libopus-1.6.1")
    assert [(x.name, x.kind, x.source) for x in packets.vectors] == [
        (n, PACKETS, f"set: {n}.expected.json.gz") for n in ("S1", "S2", "S3", "SYN")]
    assert packets.sums is not None and "S1.bit" in packets.sums.checked
    edge = load_vector_set(v / "libopus-1.6.1-edge")
    assert [x.name for x in edge.vectors] == ["BIGP", "DERR"]
    standalone = load_vector_set(v / "libopus-1.6.1-standalone")
    assert [(x.name, x.kind, x.expected.name) for x in standalone.vectors] == [
        ("vector", STANDALONE, "vector_dred_dec.f32.gz")]


def test_directory_select_and_single_file(s3_set):
    (s3_set / "bare.bit").write_bytes((s3_set / "S3.bit").read_bytes())
    vs = load_vector_set(s3_set)
    assert vs.layout == "directory" and [(v.name, v.source) for v in vs.vectors] == [
        ("S3", "set: S3.expected.json.gz"), ("bare", FROM_REFERENCE)]
    assert [v.name for v in vs.select(["bare"]).vectors] == ["bare"]
    vs.capture = {"thresholds": {"err4": 0.5}}  # a captured set's record (its thresholds) survives a selection
    assert vs.select(["bare"]).capture == vs.capture and vs.select(["bare"]).sums is vs.sums
    with pytest.raises(VectorSetError, match="no vector c in"):
        vs.select(["c"])
    one = load_vector_set(s3_set / "S3.bit")
    assert one.layout == "file" and one.vectors[0].expected.name == "S3.expected.json.gz"


def test_truncated_stream_is_refused(s3_set):
    data = (s3_set / "S3.bit").read_bytes()
    (s3_set / "S3.bit").write_bytes(data[:-10])
    _refused(s3_set, "stream-length-past-end", "S3.bit: not a readable stream: packet 72, byte")


def test_random_bytes_are_refused(tmp_path):
    import random

    (tmp_path / "noise.bit").write_bytes(random.Random(5).randbytes(3000))
    _refused(tmp_path, "stream-length-absurd", "noise.bit: not a readable stream: packet 0, byte 0")


def test_empty_stream_is_refused(tmp_path):
    (tmp_path / "x.bit").write_bytes(b"")
    _refused(tmp_path / "x.bit", "stream-empty", "an empty stream")


def test_nothing_recognisable(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    _refused(tmp_path, "set-nothing-recognised", "no vectors recognised")
    _refused(tmp_path / "missing", "set-missing", "no such file or directory")


def test_expectations_must_match_the_stream(s3_set):
    path = s3_set / "S3.expected.json.gz"
    packets = json.loads(gzip.decompress(path.read_bytes()))["packets"]
    path.write_bytes(gzip.compress(json.dumps({"packets": packets[:-1]}).encode()))
    _refused(s3_set, "expected-count", "72 expected records for the 73 packets of S3.bit")
    packets[5]["dred"]["q0"] = 99
    path.write_bytes(gzip.compress(json.dumps({"packets": packets}).encode()))
    _refused(s3_set, "expected-schema", "packets[5].dred.q0 = 99, expected 0..15")
    path.write_bytes(b"\x1f\x8b not really gzip")
    _refused(s3_set, "expected-unreadable", "not readable JSON")


def test_sha256sums_are_enforced(s3_set):
    sums = "".join(f"{hashlib.sha256((s3_set / n).read_bytes()).hexdigest()}  {n}\n"
                   for n in ("S3.bit", "S3.expected.json.gz"))
    (s3_set / "SHA256SUMS").write_text(sums)
    assert load_vector_set(s3_set).sums.ok
    data = bytearray((s3_set / "S3.bit").read_bytes())
    data[100] ^= 1  # still a readable stream: only the hash tells
    (s3_set / "S3.bit").write_bytes(bytes(data))
    _refused(s3_set, "set-hash-mismatch", "S3.bit: sha256")
    (s3_set / "S3.bit").unlink()
    with pytest.raises(VectorSetError):
        load_vector_set(s3_set)


def test_standalone_records_are_validated(shared, tmp_path):
    src = shared / "vectors" / "libopus-1.6.1-standalone"
    data = (src / "vector_dred.bit").read_bytes()
    (tmp_path / "vector_dred.bit").write_bytes(data[:-7])
    shutil.copy(src / "vector_dred_dec.f32.gz", tmp_path)
    _refused(tmp_path, "standalone-length-past-end", "vector_dred.bit: packet 173")
    (tmp_path / "vector_dred.bit").write_bytes(data)
    dec = gzip.decompress((src / "vector_dred_dec.f32.gz").read_bytes())
    (tmp_path / "vector_dred_dec.f32.gz").unlink()
    (tmp_path / "vector_dred_dec.f32").write_bytes(dec[:-80])
    _refused(tmp_path, "expected-size", "expected 12136 rows of 20 float32")


@pytest.mark.shared
def test_generated_corpus_is_a_set(tmp_path, model):
    from dredconf.vectors.generate import generate

    generate(tmp_path, 1, model)
    vs = load_vector_set(tmp_path)
    assert vs.layout == "corpus" and "seed 1" in vs.description
    assert all(v.records and len(v.rules) == len(v.records) for v in vs.vectors if v.kind == PACKETS)
    assert [v.kind for v in vs.vectors].count(VOCODER) == 8  # the vocoder group: features and their synthesis
    # a corpus file changed after generation is refused by the manifest's own hashes
    stream = vs.vectors[0].input
    data = bytearray(stream.read_bytes())
    data[-1] ^= 1
    stream.write_bytes(bytes(data))
    _refused(tmp_path, "set-hash-mismatch", f"{stream.name}: sha256")


# ------------------------------------------------------------------------------------------------ the shipped forms


def test_parts_are_read_whole_and_a_gap_is_refused(vectors_dir, tmp_path):
    shutil.copy(vectors_dir / "S3.bit", tmp_path / "S3.bit")
    exp = (vectors_dir / "S3.expected.json.gz").read_bytes()
    for i in range(3):
        (tmp_path / f"S3.expected.json.gz.{i:02d}").write_bytes(exp[i * len(exp) // 3:(i + 1) * len(exp) // 3])
    (v,) = load_vector_set(tmp_path).vectors
    assert v.source == "set: S3.expected.json.gz" and v.expected.name == "S3.expected.json.gz.00"
    assert validate_vector(v) == json.loads(gzip.decompress(exp))["packets"]
    (tmp_path / "S3.expected.json.gz").write_bytes(exp)
    with pytest.raises(VectorSetError, match=r"both the whole file and its parts .* \[set-duplicate\]$"):
        load_vector_set(tmp_path)
    (tmp_path / "S3.expected.json.gz").unlink()
    (tmp_path / "S3.expected.json.gz.01").unlink()
    with pytest.raises(VectorSetError, match=r"S3.expected.json.gz.01 is missing \[set-parts\]$"):
        load_vector_set(tmp_path)
    (tmp_path / "S3.expected.json.gz.01").write_bytes(b"")  # a part emptied: the gzip no longer reads
    with pytest.raises(VectorSetError, match=r"\[expected-unreadable\]$"):
        load_vector_set(tmp_path)


def test_flac_must_be_16_bit_mono_16_khz(vocoder_dir, tmp_path):
    shutil.copy(vocoder_dir / "slt_16k.features.f32", tmp_path)
    samples = np.frombuffer(read_pcm(pcm(vocoder_dir / "slt_16k.expected")), dtype="<i2")
    for kw, what in (({"samplerate": 48000}, "1 channel(s) at 48000 Hz"), ({"subtype": "PCM_24"}, "FLAC PCM_24"),
                     ({"stereo": True}, "2 channel(s)")):
        data = np.stack([samples, samples], axis=1) if kw.get("stereo") else samples
        soundfile.write(tmp_path / "slt_16k.expected.flac", data, kw.get("samplerate", 16000), format="FLAC",
                        subtype=kw.get("subtype", "PCM_16"))
        with pytest.raises(VectorSetError, match=rf"{re.escape(what)}.*expected FLAC PCM_16, 1 channel at 16000 Hz "
                                                 r"\[pcm-format\]$"):
            load_vector_set(tmp_path)
    soundfile.write(tmp_path / "slt_16k.expected.flac", samples, 16000, format="FLAC", subtype="PCM_16")
    (v,) = load_vector_set(tmp_path).vectors
    assert validate_vector(v) == samples.tobytes() and v.source == "set: slt_16k.expected.flac"
    (tmp_path / "slt_16k.expected.sw").write_bytes(samples.tobytes())
    with pytest.raises(VectorSetError, match=r"the same file twice; keep one \[set-duplicate\]$"):
        load_vector_set(tmp_path)
