"""Resource limits: hostile sizes cost bounded time and memory, and a limit that is hit says so.

Each test states its limit. Times are generous (several times what a loaded
two-core CI machine measures) so that only a change of complexity fails them;
memory is measured in a child process as its peak RSS (``VmHWM`` of
/proc/self/status: ``ru_maxrss`` would include the parent's memory, which a
child inherits at fork and keeps across exec), or its growth over the set-up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dredconf.conformance.adapters import CmdAdapter, Invocation, MAX_OUTPUT_BYTES
from dredconf.errors import ExtensionError, LimitError, ModelError
from dredconf.reference import model as M
from dredconf.spec import build_packet, parse_extensions, parse_packet, read_stream, write_stream
from dredconf.spec.extensions import MAX_EXTENSIONS
from dredconf.spec.stream import MAX_RECORD_LENGTH

ROOT = Path(__file__).resolve().parent.parent

PADDING_SECONDS = 5.0  # one packet with 1 MB of padding, any content: parse, extensions, DRED, JSON record
PADDING_MB = 64  # ... and its peak memory growth (at most 36 MB measured: 65536 extensions listed)
STREAM_PACKETS = 100_000
STREAM_SECONDS = 90.0  # dredconf inspect --json on 10^5 real DRED packets (about 20 s measured)
STREAM_MB = 250  # ... peak RSS of the whole command (about 60 MB measured: results are streamed)
DUT_CAP_TEST = 1 << 20  # a small output cap for the quick DUT tests; the default is MAX_OUTPUT_BYTES


def _measure(code: str, env: dict | None = None) -> dict:
    """Run Python code in a child that prints a JSON dict; add its peak RSS growth after set-up (MB)."""
    prog = textwrap.dedent("""
        import json, sys, time
        def peak():  # MB, this process since its exec
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
        """) + textwrap.dedent(code)
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, **(env or {})))
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


# 1 MB of padding, of every shape that makes a parser work per byte or amplifies
PADDINGS = {
    "padding-bytes": "b'\\x01' * N",
    "zero-length-shorts": "b'\\x06' * N",
    "one-byte-shorts": "b'\\x0b\\x01' * (N // 2)",
    "zero-increments": "b'\\x03\\x00' * (N // 2)",
    "empty-repeats": "b'\\x05' * N",
    "repeat-amplification": "(b'\\x06' * 100 + b'\\x05') * (N // 101)",
    "one-long-dred": "(lambda body: b'\\xfd' + b'\\xff' * (len(body) // 255) + bytes([len(body) % 255]) + body)"
                     "(b'D\\x0c' + bytes(range(256)) * (N // 256))",
    "random": "bytes(random.Random(1).randrange(256) for _ in range(N))",
}


@pytest.mark.parametrize("shape", sorted(PADDINGS))
def test_1mb_of_padding(shape, model_dir):
    """A 48-frame packet with 1 MB of padding is decoded (ints and the JSON record) in < 5 s and < 64 MB."""
    out = _measure(f"""
        import random
        from dredconf.reference.decoder import ReferenceDecoder
        from dredconf.spec import build_packet
        N = 1_000_000
        dec = ReferenceDecoder({str(model_dir)!r})
        packet = build_packet([b'\\x00'] * 48, config=16, code=3, padding={PADDINGS[shape]})
        before = peak(); t = time.perf_counter()
        r = dec.decode_packet(packet, 0)
        text = json.dumps(r.to_json(with_features=False))
        print(json.dumps({{"seconds": time.perf_counter() - t, "mb": peak() - before, "bytes": len(packet),
                          "extensions": len(r.extensions), "rules": [e.rule for e in r.errors],
                          "latents": None if r.payload is None else r.payload.latent_count}}))
    """)
    assert out["bytes"] >= 1_000_000
    assert out["seconds"] < PADDING_SECONDS, out
    assert out["mb"] < PADDING_MB, out
    assert out["extensions"] <= MAX_EXTENSIONS
    if shape in ("zero-length-shorts", "one-byte-shorts", "repeat-amplification"):
        assert out["rules"] == ["limit-extensions"], out
    if shape == "one-long-dred":
        assert out["latents"] == 26 and out["rules"] == [], out


def test_48_frames_of_separators_and_repeats():
    """48 frames: separators to the last frame are fine, one more is an error; repeats that would list
    47 x 2000 extensions stop at MAX_EXTENSIONS (65536) with limit-extensions, in < 2 s."""
    p = parse_packet(build_packet([b"\x00"] * 48, config=16, code=3, padding=b"\x02" * 47 + b"\x06"))
    found = parse_extensions(p.padding_bytes, 48)
    assert found.error is None and [(e.frame, e.id) for e in found] == [(47, 3)]
    found = parse_extensions(b"\x02" * 48, 48)
    assert isinstance(found.error, ExtensionError) and found.error.rule == "ext-separator-past-last-frame"
    found = parse_extensions(b"\x03\x2f\x06\x03\x01", 48)  # 0x03 n: 47 frames at once, then one too many
    assert found.error.rule == "ext-separator-past-last-frame" and [e.frame for e in found] == [47]
    t = time.perf_counter()
    found = parse_extensions((b"\x06" * 100 + b"\x05") * 20, 48)  # each RTE repeats 100 for 47 frames
    assert time.perf_counter() - t < 2.0
    assert isinstance(found.error, LimitError) and found.error.rule == "limit-extensions"
    assert len(found) == MAX_EXTENSIONS == 65536
    assert "65536" in str(found.error)


def test_record_length_limit():
    """Stream records up to MAX_RECORD_LENGTH (1 MiB) are read; a longer length is stream-length-absurd."""
    assert MAX_RECORD_LENGTH == 1 << 20
    big = bytes(MAX_RECORD_LENGTH)  # records are framed before any packet is parsed
    (rec,) = list(read_stream(write_stream([big])))
    assert len(rec.packet) == MAX_RECORD_LENGTH
    (err,) = list(read_stream(write_stream([big + b"\x00"])))
    assert err.rule == "stream-length-absurd"


@pytest.mark.slow
def test_100k_packet_stream_inspects_in_bounded_memory(tmp_path, ground_truth, model_dir):
    """``dredconf inspect --json`` on 10^5 real DRED packets (15 MB): < 90 s and < 250 MB peak RSS;
    the output is complete (10^5 records)."""
    packets = [r.packet for r in read_stream(ground_truth["S2"][0])]
    f = tmp_path / "big.bit"
    f.write_bytes(write_stream(packets[i % len(packets)] for i in range(STREAM_PACKETS)))
    out = tmp_path / "out.json"
    t = time.perf_counter()
    report_peak = ("import atexit, sys\n"
                   "def peak():\n"
                   "    with open('/proc/self/status') as f:\n"
                   "        sys.stderr.write(next(l for l in f if l.startswith('VmHWM:')))\n"
                   "atexit.register(peak)\n"
                   "from dredconf.cli import main\n"
                   "main()\n")
    with open(out, "wb") as o:
        r = subprocess.run([sys.executable, "-c", report_peak, "inspect", "--json", "--model", str(model_dir), str(f)],
                           stdout=o, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    seconds = time.perf_counter() - t
    assert r.returncode == 0, r.stderr[-2000:]
    mb = int(r.stderr.split("VmHWM:")[1].split()[0]) / 1024
    assert seconds < STREAM_SECONDS, seconds
    assert mb < STREAM_MB, mb
    assert len(json.loads(out.read_bytes())["packets"]) == STREAM_PACKETS


# ------------------------------------------------------------------ decoders under test

def _invocation(tmp_path: Path, **kw):
    stream = tmp_path / "s.bit"
    stream.write_bytes(write_stream([b"\x48\x00"]))
    work = tmp_path / "work"
    work.mkdir()
    return Invocation(vector=SimpleNamespace(input=stream, name="s", kind="packets"), input=stream, count=1,
                      expected=[{"index": 0}], workdir=work, **kw)


ENDLESS = {
    "python-stdout": f"{sys.executable} -c \"import sys\nwhile True: sys.stdout.write('x' * 65536)\"",
    "python-stderr": f"{sys.executable} -c \"import sys\nwhile True: sys.stderr.write('x' * 65536)\"",
    "python-output-file": f"{sys.executable} -c \"import sys\nf = open(sys.argv[1], 'w')\nwhile True: f.write('x' * 65536)\" {{output}}",
    "shell-stdout": "/bin/sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'",
    "shell-ignoring-errors": "/bin/sh -c 'trap \"\" XFSZ; while :; do echo xxxxxxxxxxxxxxxx 2>/dev/null; done'",
}


@pytest.mark.parametrize("how", sorted(ENDLESS))
def test_dut_writing_endless_output_is_stopped_at_the_cap(tmp_path, how):
    """A DUT writing without end (stdout, stderr or its output file; dying of SIGXFSZ, failing on EFBIG,
    or ignoring both) gets the verdict output-limit naming the cap, within the time limit, and no file
    grows past the cap (here 1 MiB; by default MAX_OUTPUT_BYTES, 128 MiB)."""
    inv = _invocation(tmp_path, timeout=20.0, max_output=DUT_CAP_TEST)
    run = CmdAdapter(ENDLESS[how]).run(inv)
    assert run.failure is not None and run.failure.kind == "output-limit", (run.failure, run.stderr[-500:])
    assert str(DUT_CAP_TEST) in run.failure.message and "output limit" in run.failure.message
    assert run.elapsed < 20.0
    assert all(p.stat().st_size <= DUT_CAP_TEST for p in inv.workdir.iterdir())


def test_default_output_cap_is_128_mib(tmp_path):
    """With the default cap the DUT is stopped at exactly 128 MiB."""
    assert MAX_OUTPUT_BYTES == 128 << 20
    inv = _invocation(tmp_path, timeout=60.0)
    run = CmdAdapter(ENDLESS["shell-stdout"]).run(inv)
    assert run.failure.kind == "output-limit"
    assert (inv.workdir / "dut.stdout").stat().st_size == MAX_OUTPUT_BYTES


def test_dut_within_the_cap_is_judged_normally(tmp_path):
    """A DUT writing less than the cap is not stopped (its output is judged: here, not the decode JSON)."""
    inv = _invocation(tmp_path, timeout=20.0, max_output=DUT_CAP_TEST)
    run = CmdAdapter(f"{sys.executable} -c \"print('x' * 1000)\"").run(inv)
    assert run.failure is not None and run.failure.kind == "malformed"


def test_dut_that_never_exits_is_stopped_at_the_timeout(tmp_path):
    """A DUT that never exits is killed at the time limit (here 2 s) with the verdict timeout."""
    inv = _invocation(tmp_path, timeout=2.0)
    run = CmdAdapter(f"{sys.executable} -c \"while True: pass\"").run(inv)
    assert run.failure.kind == "timeout" and "2 s" in run.failure.message
    assert 2.0 <= run.elapsed < 10.0


def test_model_tarball_member_limit(tmp_path, model_dir, monkeypatch):
    """Tarball members over the member limit (64 MiB; here lowered to 1 kB) are not read: file missing."""

    assert M._MAX_MEMBER == 64 << 20
    tb = tmp_path / "m.tar.gz"
    with tarfile.open(tb, "w:gz") as t:
        for name in (M.CONSTANTS_H, M.STATS_C, M.DEC_C):
            t.add(model_dir / name, arcname=f"dnn/{name}")
    monkeypatch.setattr(M, "_MAX_MEMBER", 1000)
    with pytest.raises(ModelError) as e:
        M.load_model(tb, parts=("stats",))
    assert e.value.rule == "model-file-missing"
