"""Speed of the fixed-point RDOVAE decoder's C core: one full 26-latent DRED payload per call.

Latents per second = 26 / median.  Target: under 1 ms per 26-latent payload.  Skipped unless
benchmarks are enabled: ``pytest tests/benchmarks/test_bench_rdovae.py --benchmark-enable``.
"""
from __future__ import annotations

import numpy as np
import pytest

from dredconf.reference import rdovae as R
from dredconf.reference._core import ffi, lib

pytestmark = [pytest.mark.shared]

TARGET_SECONDS = 1e-3


@pytest.fixture(autouse=True)
def _enabled(request):
    opt = request.config.getoption
    if opt("benchmark_disable", default=True) and not opt("benchmark_enable", default=False):
        pytest.skip("benchmarks disabled (run with --benchmark-enable)")


def _payload(ground_truth):
    for stream in ("SYN", "S2"):
        for p in ground_truth[stream][1]:
            d = p["dred"]
            if d is not None and d["latent_count"] == 26:
                return d
    pytest.skip("no 26-latent payload in the shared vectors")


@pytest.mark.parametrize("path", ["c_core", "python_api"])
def test_bench_rdovae_26_latents(benchmark, model, ground_truth, path):
    dec = R.RdovaeDecoder(model)
    d = _payload(ground_truth)
    if path == "c_core":
        st = np.ascontiguousarray(d["state"], dtype=np.int32)
        lat = np.ascontiguousarray(np.asarray(d["latents"], dtype=np.int32).reshape(-1))
        lev = np.ascontiguousarray(d["levels"], dtype=np.int32)
        out = np.zeros(26 * 80, np.int32)
        args = (dec.c_model, ffi.from_buffer("int32_t[]", st), d["q0"], ffi.from_buffer("int32_t[]", lat),
                ffi.from_buffer("int32_t[]", lev), 26, ffi.from_buffer("int32_t[]", out), out.size)
        rc = benchmark(lib.dc_rdovae_decode, *args)
        assert rc == lib.DC_RDOVAE_OK
    else:
        f = benchmark(dec.decode_integers, d["q0"], d["state"], d["latents"], d["levels"])
        assert f.shape == (104, 20)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(latents=26, median_ms=median * 1e3, latents_per_second=26 / median,
                                simd_kernel=bool(lib.dc_rdovae_simd()))
    print(f"{path}: median {median * 1e3:.3f} ms per 26-latent payload, {26 / median:.0f} latents/s "
          f"({'SSE2' if lib.dc_rdovae_simd() else 'portable'} int8 kernel)")
    if path == "c_core":
        # generous against a loaded machine; the target itself is TARGET_SECONDS
        assert median < 3 * TARGET_SECONDS
