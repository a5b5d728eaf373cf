"""Speed of `dredconf check --decoder reference` over the four shared streams (1241 packets), serial and -j 2.

Each round runs the whole check: one reference-decoder process per stream (model load, payload decode, exact
RDOVAE) and the layer-by-layer comparison with libopus's expected results. Skipped unless benchmarks are enabled:
``pytest tests/benchmarks/test_bench_check.py --benchmark-enable``.
"""
from __future__ import annotations

import pytest

from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.vectors.sets import load_vector_set

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.usefixtures("benchmarks_enabled")]
ROUNDS = 3


@pytest.mark.parametrize("jobs", [1, 2], ids=["serial", "j2"])
def test_bench_check_reference_shared_streams(benchmark, vectors_dir, model_dir, jobs):
    vs = load_vector_set(vectors_dir)
    adapter = parse_decoder("reference", model=str(model_dir))
    adapter.preflight()
    options = CheckOptions(jobs=jobs)
    report = benchmark.pedantic(run_check, args=(adapter, vs, options), rounds=ROUNDS, iterations=1)
    assert report.conforms
    packets = sum(r.count for r in report.results)
    assert packets == 1241
    benchmark.extra_info.update(packets=packets, jobs=jobs)
