"""Speed of `inspect` over the four shared streams (1,241 packets): reading each stream file, framing, extensions,
locating DRED, the DRED payloads to integers (batched C calls) and the records, as ``ReferenceDecoder.decode_stream``
gives them (``records``), as ``dredconf inspect`` shows them (``cli_text``: the same, then each packet's summary, as
written when the output is not a terminal) and as ``dredconf inspect --json`` writes them (``cli_json``: each record's
JSON text); in process, the decoder made beforehand, so start-up is left out.

Run with ``pytest tests/benchmarks/test_bench_inspect.py --benchmark-enable`` (add ``--benchmark-timer
tests.helpers.timers.cpu_with_children`` for CPU time, as the README's table). The extra info gives packets per
second (CPU time, the median round) and, measured in the same test, the ratio to the whole `decode` of the same
streams (exact RDOVAE features, ``test_bench_decode``'s work): a ratio carries over to another machine, an
absolute time does not. Issue 11 asks for 20,000 packets per second or more.
"""
from __future__ import annotations

import contextlib
import io
import time

import pytest

from dredconf import cli, view
from dredconf.inputs import read_input
from dredconf.reference.decoder import ReferenceDecoder

from tests.helpers.shared import STREAMS

pytestmark = pytest.mark.shared
PACKETS = 1241


def _cpu_seconds(fn, rounds: int = 5) -> float:
    """The median CPU time of ``rounds`` runs of ``fn`` (after one to warm up)."""
    fn()
    times = []
    for _ in range(rounds):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return sorted(times)[len(times) // 2]


def _paths(vectors_dir):
    return [vectors_dir / f"{s}.bit" for s in STREAMS]


def _records(decoder, paths):
    return lambda: sum(len(decoder.decode_stream(p.read_bytes())["packets"]) for p in paths)


def _cli(show, count):
    """What ``dredconf inspect`` does with each stream after start-up: read it, decode it, ``show`` the results (as
    text or JSON) to a buffer; ``count`` says how many packets the output shows."""
    def make(decoder, paths):
        def run():
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                for p in paths:
                    data, raw = read_input(str(p), None)
                    show(cli._selected(decoder, data, raw, None)[0])
            return count(out.getvalue())
        return run
    return make


_cli_text = _cli(lambda results: view.render(results, detail=False), lambda text: text.count("\npacket ") + 1)
_cli_json = _cli(lambda results: cli._echo_json(r.to_json(with_features=False) for r in results),
                 lambda text: text.count('{"index":'))


@pytest.mark.parametrize("path", ["records", "cli_text", "cli_json"])
def test_bench_inspect_shared_streams(benchmark, vectors_dir, model_dir, path):
    decoder = ReferenceDecoder(model_dir)
    paths = _paths(vectors_dir)
    work = {"records": _records, "cli_text": _cli_text, "cli_json": _cli_json}[path](decoder, paths)

    packets = benchmark.pedantic(work, rounds=15, iterations=1, warmup_rounds=1)
    assert packets == PACKETS
    if benchmark.disabled:  # the normal test run: the work is checked, not timed
        return
    inspect_cpu = _cpu_seconds(work, rounds=15)
    decode_cpu = _cpu_seconds(_records(ReferenceDecoder(model_dir, features=True, arith="exact"), paths), rounds=3)
    benchmark.extra_info.update(path=path, packets=packets, packets_per_second=round(packets / inspect_cpu),
                                decode_packets_per_second=round(packets / decode_cpu),
                                inspect_over_decode=round(decode_cpu / inspect_cpu, 2))
