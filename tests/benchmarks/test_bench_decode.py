"""Speed of the whole `decode` (inspect plus the RDOVAE features) over the four shared streams.

Both arithmetics (the same bits); the payloads go to the C core in batches (``dc_dred_decode_many``).
Run with ``pytest tests/benchmarks --benchmark-enable``; compare with ``test_bench_inspect`` (the same
streams without features) in the same run. The extra info records packets and latents per second
(1241 packets, 1237 with DRED). Skipped unless benchmarks are enabled.
"""
from __future__ import annotations

import pytest

from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.shared import STREAMS

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("benchmarks_enabled")]


@pytest.mark.parametrize("arith", ["exact", "softfloat"])
def test_bench_decode_shared_streams(benchmark, ground_truth, model_dir, arith):
    decoder = ReferenceDecoder(model_dir, features=True, arith=arith)
    streams = [ground_truth[s][0] for s in STREAMS]

    def decode_all():
        return [p for d in streams for p in decoder.decode_stream(d)["packets"]]

    packets = benchmark(decode_all)
    dred = [p["dred"] for p in packets if p.get("dred")]
    assert len(packets) == 1241 and len(dred) == 1237
    assert all(len(d["features"]) == 4 * d["latent_count"] for d in dred)
    latents = sum(d["latent_count"] for d in dred)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(arith=arith, packets=len(packets), latents=latents,
                                packets_per_second=len(packets) / median, latents_per_second=latents / median)
