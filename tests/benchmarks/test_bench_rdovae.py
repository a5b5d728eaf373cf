"""Speed of the RDOVAE decoder's C core: one full 26-latent DRED payload per call.

Both arithmetics (libopus's float32 features bit for bit): ``exact`` and ``softfloat``
(integer soft-float; target under 10 ms).
Latents per second = 26 / median.  Skipped unless benchmarks are enabled:
``pytest tests/benchmarks/test_bench_rdovae.py --benchmark-enable``.
"""
from __future__ import annotations

import numpy as np
import pytest

from dredconf.reference import rdovae as R
from dredconf.reference._core import ffi, lib

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("benchmarks_enabled")]

TARGET_SECONDS = {"softfloat": 10e-3, "exact": 10e-3}


def _payload(ground_truth):
    for stream in ("SYN", "S2"):
        for p in ground_truth[stream][1]:
            d = p["dred"]
            if d is not None and d["latent_count"] == 26:
                return d
    pytest.skip("no 26-latent payload in the shared vectors")


@pytest.mark.parametrize("arith", ["exact", "softfloat"])
@pytest.mark.parametrize("path", ["c_core", "python_api"])
def test_bench_rdovae_26_latents(benchmark, model, ground_truth, path, arith):
    dec = R.RdovaeDecoder(model, arith=arith)
    d = _payload(ground_truth)
    if path == "c_core":
        st = np.ascontiguousarray(d["state"], dtype=np.int32)
        lat = np.ascontiguousarray(np.asarray(d["latents"], dtype=np.int32).reshape(-1))
        lev = np.ascontiguousarray(d["levels"], dtype=np.int32)
        out = np.zeros(26 * 80, np.float32)
        args = (dec.c_model, {"exact": lib.DC_ARITH_EXACT, "softfloat": lib.DC_ARITH_SOFTFLOAT}[arith],
                ffi.from_buffer("int32_t[]", st), d["q0"], ffi.from_buffer("int32_t[]", lat),
                ffi.from_buffer("int32_t[]", lev), 26, ffi.from_buffer("float[]", out), out.size)
        rc = benchmark(lib.dc_rdovae_decode, *args)
        assert rc == lib.DC_RDOVAE_OK
    else:
        f = benchmark(dec.decode_integers, d["q0"], d["state"], d["latents"], d["levels"])
        assert f.shape == (104, 20)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(arith=arith, latents=26, median_ms=median * 1e3, latents_per_second=26 / median,
                                runs=dec.runs)
    print(f"{arith} {path}: median {median * 1e3:.3f} ms per 26-latent payload, {26 / median:.0f} latents/s "
          f"({dec.runs})")
    if path == "c_core":
        # generous against a loaded machine; the target itself is TARGET_SECONDS
        assert median < 3 * TARGET_SECONDS[arith]
