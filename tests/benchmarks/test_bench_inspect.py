"""Speed of `inspect` (framing, extensions, DRED payload → integers) over the four shared streams.

Run with ``pytest tests/benchmarks --benchmark-enable``; packets per second = 1241 / median.
"""
from __future__ import annotations

from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.shared import STREAMS


def test_bench_inspect_shared_streams(benchmark, ground_truth, model_dir):
    decoder = ReferenceDecoder(model_dir)
    streams = [ground_truth[s][0] for s in STREAMS]

    def inspect_all():
        return sum(len(decoder.decode_stream(d)["packets"]) for d in streams)

    packets = benchmark(inspect_all)
    assert packets == 1241
    benchmark.extra_info["packets"] = packets
