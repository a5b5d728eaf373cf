"""The runner checks itself: the honest reference passes everything, and every mutant (conformance/mutants.py) is
caught at its layer, with the field where it first departs.

The mutants run on SYN.bit, the one shipped stream where every broken rule shows: it has nonzero extra_offset,
Repeat These Extensions, packets with a second DRED extension on a later frame, escapes in the Laplace magnitudes,
dQ slopes whose rounding matters, and latents and features in every packet.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dredconf.conformance.adapters import parse_decoder
from dredconf.conformance.mutants import MUTANTS, laplace_p0, level_libopus, read_payload
from dredconf.conformance.runner import CheckOptions, run_check
from dredconf.conformance.verdicts import LAYERS, Layer, Verdict
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.spec import read_stream
from dredconf.vectors.sets import load_vector_set

pytestmark = [pytest.mark.shared, pytest.mark.slow]
#: The packet mutants (the audio ones are tests/test_check_audio.py's).
PACKET_MUTANTS = [n for n, m in MUTANTS.items() if m.kind == "packets"]
HANG_TIMEOUT = 5.0



@pytest.fixture(scope="module")
def syn(vectors_dir):
    return load_vector_set(vectors_dir).select(["SYN"])


@pytest.fixture(scope="module")
def mutant_results(syn, model_dir):
    def run(name):
        m = MUTANTS[name]
        timeout = HANG_TIMEOUT if m.failure == "timeout" else 120.0
        adapter = parse_decoder(f"mutant:{name}", model=str(model_dir))
        adapter.preflight()
        return name, run_check(adapter, syn, CheckOptions(timeout=timeout)).results[0]

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(run, PACKET_MUTANTS))


def test_honest_reference_passes_everything(vectors_dir, model_dir):
    adapter = parse_decoder("reference", model=str(model_dir))
    adapter.preflight()
    rep = run_check(adapter, load_vector_set(vectors_dir), CheckOptions())
    assert rep.conforms and rep.exit_status == 0
    for r in rep.results:
        for layer in LAYERS:
            assert r.layers[layer].verdict is Verdict.PASS, (r.name, layer, r.layers[layer].first)
            assert r.layers[layer].tested == r.count and not r.layers[layer].skipped and not r.layers[layer].untested
        score = r.layers[Layer.FEATURES].score
        assert (score.tot, score.max, score.pitch) == (0, 0, 0)  # libopus's generic-C features, bit for bit


@pytest.mark.parametrize("name", PACKET_MUTANTS)
def test_mutant_caught_at_its_layer(mutant_results, name):
    m, r = MUTANTS[name], mutant_results[name]
    if m.failure:
        assert (r.verdict, r.dut.failure_kind) == (Verdict.ERROR, m.failure), r.headline()
        return
    if m.layer is None:  # within tolerance: must pass
        assert r.verdict is Verdict.PASS, r.headline()
        assert r.layers[Layer.FEATURES].score.tot > 0.01  # it did change the features
        return
    assert r.verdict is Verdict.FAIL, r.headline()
    assert r.first_layer is m.layer, r.headline()
    for earlier in LAYERS[: LAYERS.index(m.layer)]:
        assert r.layers[earlier].verdict is Verdict.PASS, (earlier, r.layers[earlier].first)
    if m.field:
        first = r.layers[m.layer].first
        assert first.field.startswith(m.field) or (m.layer is Layer.FEATURES and first.packet is None), str(first)


def test_mutant_departures_read_well(mutant_results):
    """What a newcomer sees for each mutant (the first departure, verbatim)."""
    heads = {name: r.headline() for name, r in mutant_results.items()}
    assert heads["ignore-extra-offset"].startswith("header: SYN#") and "dred_offset = " in heads["ignore-extra-offset"]
    assert heads["stop-one-early"] == "latents: SYN#0: latent_count = 25, expected 26"
    assert heads["crash"] == "crash: killed by SIGSEGV (exit status -11)"
    assert heads["hang"] == f"timeout: killed after {HANG_TIMEOUT:g} s (the time limit)"
    assert "pitch 0.0500 > 0.02" in heads["pitch-offset"]


def test_unbent_reader_equals_the_core(ground_truth, model):
    """The mutants' Python payload reader, unbent, decodes every shipped DRED payload exactly as the C core does."""
    dec = ReferenceDecoder(model)
    fields = ("q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset", "frame_offset", "latent_count",
              "levels", "state", "latents")
    n = 0
    for name, (data, _) in ground_truth.items():
        for rec in read_stream(data):
            res = dec.decode_packet(rec.packet, rec.index)
            if res.location is None:
                continue
            p = read_payload(res.location.payload, res.location.frame_offset, model.stats,
                             level=level_libopus, laplace=laplace_p0)
            assert {f: getattr(p, f) for f in fields} == {f: getattr(res.payload, f) for f in fields}, (name, rec.index)
            n += 1
    assert n == 1237
