"""Speed of the RDOVAE decoder on S2.bit (523 DRED packets, 9,104 latents), as ratios against the
soft-float measured in the same run (the baseline every checkout has, whatever the machine).

* per latent, the decode loop only (the payloads' integers decoded beforehand, one C call per
  packet): ``softfloat``, then ``exact`` with the portable C kernels, SSE2 and AVX2;
* the whole stream through the batch call (``dc_dred_decode_many``): payload bytes to integers
  and features, one C call for all 523 payloads;
* with ``$DREDCONF_LIBOPUS`` naming a directory that holds libopus 1.6.1 ``dred_features``
  harnesses (``bin-sse/``, ``bin-generic/``; built outside this repository, see the README's
  speed section), their own µs per latent on the same stream (``opus_dred_parse`` + features).

Run with ``pytest tests/benchmarks/test_bench_rdovae.py --benchmark-enable -s``: the last test
prints the table of ratios.  On a shared machine add ``--benchmark-timer time.process_time``:
the figures are then CPU time (the harness's CPU figure too), which other processes disturb far
less than wall time.  Skipped unless benchmarks are enabled.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dredconf.reference import rdovae as R
from dredconf.reference._core import ffi, lib
from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.arith import ARITH_CASES, select_arith

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("benchmarks_enabled")]

RESULTS: dict[str, float] = {}      # what -> µs per latent, in this run
ROUNDS = {"softfloat": 3, "exact": 10}


@pytest.fixture(scope="module")
def s2(ground_truth, model):
    """S2's DRED payloads: (bytes, frame_offset) and their integers as C arrays."""
    data = ground_truth["S2"][0]
    found = [r for r in ReferenceDecoder(model).decode_records(data) if getattr(r, "payload", None) is not None]
    items = [(r.location.payload, r.location.frame_offset) for r in found]
    ints = []
    for r in found:
        p = r.payload
        if p.latent_count == 0:
            continue
        arrays = (np.ascontiguousarray(p.state, np.int32), np.ascontiguousarray(np.asarray(p.latents, np.int32).ravel()),
                  np.ascontiguousarray(p.levels, np.int32))
        ints.append((arrays, p.q0, p.latent_count))
    latents = sum(n for _, _, n in ints)
    assert len(items) == 523 and latents == 9104
    return items, ints, latents


def _record(benchmark, what: str, latents: int) -> None:
    us = benchmark.stats.stats.median / latents * 1e6
    RESULTS[what] = us
    base = RESULTS.get("per latent: softfloat")
    benchmark.extra_info.update(us_per_latent=us, latents=latents,
                                ratio_to_softfloat=None if base is None else us / base)


@pytest.mark.parametrize("arith,simd", ARITH_CASES, ids=[f"{a}-{k}" for a, k in ARITH_CASES])
def test_bench_per_latent(benchmark, model, s2, arith, simd):
    select_arith(arith, simd)
    try:
        dec = R.RdovaeDecoder(model, arith=arith)
        code = lib.DC_ARITH_EXACT if arith == "exact" else lib.DC_ARITH_SOFTFLOAT
        out = np.zeros(26 * 80, np.float32)
        o = ffi.from_buffer("float[]", out)
        calls = [(ffi.from_buffer("int32_t[]", st), q0, ffi.from_buffer("int32_t[]", lat), ffi.from_buffer("int32_t[]", lev), n)
                 for (st, lat, lev), q0, n in s2[1]]

        def decode_all():
            for st, q0, lat, lev, n in calls:
                lib.dc_rdovae_decode(dec.c_model, code, st, q0, lat, lev, n, o, out.size)

        assert all(lib.dc_rdovae_decode(dec.c_model, code, st, q0, lat, lev, n, o, out.size) == lib.DC_RDOVAE_OK
                   for st, q0, lat, lev, n in calls)  # timed below: what is timed must be decodes, not refusals

        benchmark.pedantic(decode_all, rounds=ROUNDS[arith], iterations=1, warmup_rounds=1)
        _record(benchmark, f"per latent: {dec.runs if arith == 'exact' else 'softfloat'}", s2[2])
    finally:
        R.set_simd("auto")


@pytest.mark.parametrize("arith", ["softfloat", "exact"])
def test_bench_whole_stream(benchmark, model, s2, arith):
    dec = R.RdovaeDecoder(model, arith=arith)
    many = benchmark.pedantic(dec.decode_many, args=(s2[0],), rounds=ROUNDS[arith], iterations=1, warmup_rounds=1)
    assert sum(p.latent_count for p, _ in many) == s2[2]
    _record(benchmark, f"whole stream (batch call): {dec.runs}", s2[2])


@pytest.mark.parametrize("variant", ["sse", "generic"])
def test_libopus_harness(vectors_dir, variant, request):
    """libopus's own timing of its decode loop (opus_dred_parse with processing), median of its repeats."""
    root = os.environ.get("DREDCONF_LIBOPUS")
    harness = Path(root or ".") / f"bin-{variant}" / "dred_features"
    if not root or not harness.is_file():
        pytest.skip("set $DREDCONF_LIBOPUS to a directory with bin-sse/ and bin-generic/dred_features")
    r = subprocess.run([str(harness), str(vectors_dir / "S2.bit"), os.devnull, "--repeat", "5" if variant == "sse" else "3"],
                       capture_output=True, text=True, check=True)
    m = re.search(r"latents (\d+), ([0-9.]+) us per latent \(CPU ([0-9.]+)\)", r.stderr)
    assert m and int(m.group(1)) == 9104, r.stderr
    cpu = "process_time" in str(request.config.getoption("benchmark_timer"))
    RESULTS[f"libopus 1.6.1 {variant} harness"] = float(m.group(3 if cpu else 2))


def test_summary():
    """The table: µs per latent and ratios to the soft-float and to libopus's SSE harness, this run."""
    if "per latent: softfloat" not in RESULTS:
        pytest.skip("nothing measured")
    base, sse = RESULTS["per latent: softfloat"], RESULTS.get("libopus 1.6.1 sse harness")
    print(f"\n{'S2.bit, 9,104 latents':58s} {'us/latent':>10s} {'x softfloat':>12s} {'x libopus SSE':>14s}")
    for what, us in RESULTS.items():
        print(f"{what:58s} {us:10.2f} {us / base:12.4f} {'' if sse is None else f'{us / sse:14.2f}'}")
