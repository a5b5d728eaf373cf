"""Speed of the FARGAN vocoder beside the RDOVAE decoder's, as real-time factors measured in the same run.

FARGAN: slt_16k's 1,047 frames (10.47 s of speech) through ``FarganSynthesizer.synthesize`` (exact: hardware
float at the best kernel level; softfloat for comparison). RDOVAE: one 26-latent payload, 104 frames = 1.04 s of
features, through the C core. Real-time factor = seconds of audio (or features) per second of computing; the
ratio of the two says how the vocoder's cost compares with the feature decoder's. Target: FARGAN exact at least
5x real time (libopus's generic C fargan_demo runs about 5x here, its AVX2 build about 190x).
Skipped unless benchmarks are enabled: ``pytest tests/benchmarks/test_bench_fargan.py --benchmark-enable``.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from dredconf.reference import fargan as F
from dredconf.reference import rdovae as R

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("benchmarks_enabled")]

TARGET_RTF = 5.0


def _rdovae_rtf(model, ground_truth, arith: str, repeats: int = 30) -> float:
    """The RDOVAE's real-time factor on a 26-latent payload (median of ``repeats``)."""
    d = next(p["dred"] for s in ("SYN", "S2") for p in ground_truth[s][1]
             if p["dred"] is not None and p["dred"]["latent_count"] == 26)
    dec = R.RdovaeDecoder(model, arith=arith)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        dec.decode_integers(d["q0"], d["state"], d["latents"], d["levels"])
        times.append(time.perf_counter() - t)
    return 26 * 4 * 0.01 / float(np.median(times))


@pytest.mark.parametrize("arith", ["exact", "softfloat"])
def test_bench_fargan_slt(benchmark, fargan_model, model, ground_truth, vocoder_dir, arith):
    features = np.fromfile(vocoder_dir / "slt_16k.features.f32", dtype="<f4").reshape(-1, 20)
    vocoder = F.FarganSynthesizer(fargan_model, arith=arith)
    pcm = benchmark.pedantic(vocoder.synthesize, (features,), rounds=5 if arith == "exact" else 2, iterations=1)
    assert pcm.size == 160 * len(features)
    seconds = len(features) * 0.01
    fargan_rtf = seconds / benchmark.stats.stats.median
    rdovae_rtf = _rdovae_rtf(model, ground_truth, arith)
    benchmark.extra_info.update(arith=arith, runs=vocoder.runs, audio_seconds=seconds, fargan_rtf=fargan_rtf,
                                rdovae_rtf=rdovae_rtf, rdovae_over_fargan=rdovae_rtf / fargan_rtf)
    print(f"\n{arith} ({vocoder.runs}): FARGAN {fargan_rtf:.1f}x real time ({seconds:.2f} s of speech in "
          f"{benchmark.stats.stats.median:.3f} s); RDOVAE {rdovae_rtf:.0f}x real time; the RDOVAE decodes a second "
          f"of features {rdovae_rtf / fargan_rtf:.1f}x faster than FARGAN synthesises it")
    benchmark.extra_info["meets_target"] = fargan_rtf >= TARGET_RTF  # a figure to read, not a timed assertion
