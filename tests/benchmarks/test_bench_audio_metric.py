"""Speed of libopus's audio metric (``dred_compare -audio``) in numpy on slt_16k (about 10 s of speech).

One round compares the original speech (cut to the synthesis's length) with libopus's FARGAN
synthesis; the files are read outside the timing, which covers everything else (high-pass,
spectra, masking, loudness terms, pitch correlations). The extra info records the real-time
factor (seconds of audio per second of compute). Skipped unless benchmarks are enabled:
``pytest tests/benchmarks/test_bench_audio_metric.py --benchmark-enable``.
"""
from __future__ import annotations

import pytest

from dredconf.conformance.audio_metric import RATE, audio_errors, read_audio
from tests.helpers.shared import pcm

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("benchmarks_enabled")]


def test_bench_audio_metric_slt_16k(benchmark, vocoder_dir):
    test, _ = read_audio(pcm(vocoder_dir / "slt_16k.expected"))
    ref, _ = read_audio(pcm(vocoder_dir / "slt_16k.orig"))
    ref = ref[:test.size]
    e = benchmark(audio_errors, ref, test)
    assert e.passes()
    seconds = test.size / RATE
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(audio_seconds=seconds, frames=e.frames, real_time_factor=seconds / median)
