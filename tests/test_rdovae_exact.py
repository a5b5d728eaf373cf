"""libopus's features, bit for bit, from every arithmetic: the hardware path at each kernel level
against the soft-float and against libopus 1.6.1's generic-C features.

1. The self-check: what it found on this machine, its recorded soft-float digest, the kernel
   choice (``set_simd``, ``$DREDCONF_SIMD``).
2. Every DRED packet of the shared streams (S1, S2, S3, SYN: 1,237), of the edge set (BIGP,
   DERR) and every record of libopus's standalone vectors (174): the features of each
   arithmetic and kernel level == libopus's (the expected JSON's 9 significant digits identify
   a float32 uniquely; the standalone output is raw float32).
3. A property test: random latents, levels and states, up to the int32 limits (NaN activations
   inside), hardware == soft-float bits, with the SIMD kernels on and forced off.
4. The batch call (``RdovaeDecoder.decode_many``, ``payload.decode_dred_payloads``): the same
   integers and features as one payload at a time.
"""
from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dredconf.reference import payload as P
from dredconf.reference import rdovae as R
from dredconf.reference._core import lib
from dredconf.reference.decoder import ReferenceDecoder
from dredconf.spec.standalone import read_standalone
from dredconf.vectors.standalone import decode_record
from tests.helpers.arith import ARITH_CASES, in_arith
from tests.helpers.libopus_vec import bits
from tests.helpers.shared import EDGE_STREAMS, STREAMS

pytestmark = pytest.mark.shared


def expected_bits(d: dict) -> np.ndarray:
    return bits(np.asarray(d["features"], dtype=np.float64).reshape(-1, 20))   # 9 digits: the float32


@pytest.fixture(params=ARITH_CASES, ids=[f"{a}-{k}" for a, k in ARITH_CASES])
def decoder(request, model):
    """A decoder in each arithmetic, the hardware at each kernel level this machine has."""
    yield from in_arith(request, lambda name: R.RdovaeDecoder(model, arith=name))


# ------------------------------------------------------------------ 1. the self-check

def test_self_check_passes_here():
    check = R.platform_check()
    print(check)
    assert lib.dc_nn_selfcheck() & lib.DC_CHECK_SOFTFLOAT == 0      # the soft-float's battery digest is the recorded one
    assert check["failures"] == []
    assert check["hardware_float"] and check["simd"] == check["simd_available"]


def test_simd_choice():
    best = R.platform_check()["simd_available"]
    assert R.set_simd("off") == "off" and lib.dc_nn_simd() == lib.DC_SIMD_NONE
    assert R.set_simd("avx2") in ("avx2", "sse2", "off")          # lower when the CPU lacks it
    assert R.set_simd("auto") == best
    with pytest.raises(ValueError, match="SIMD level"):
        R.set_simd("neon")


def test_simd_forced_off_by_environment():
    env = dict(os.environ, DREDCONF_SIMD="off")
    out = subprocess.run([sys.executable, "-c", "from dredconf.reference import rdovae as R; "
                          "print(R.platform_check()['simd'])"], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "off"


# ------------------------------------------------------------------ 2. libopus's features

def test_every_shared_packet_is_libopus(decoder, ground_truth, record_property):
    counts = {}
    for stream in STREAMS:
        dred = [p for p in ground_truth[stream][1] if p["dred"] is not None]
        differ = [p["index"] for p in dred
                  if not np.array_equal(decoder.decode_bits(p["dred"]["q0"], p["dred"]["state"], p["dred"]["latents"],
                                                            p["dred"]["levels"]), expected_bits(p["dred"]))]
        assert not differ, f"{stream}: packets {differ[:10]} differ from libopus"
        counts[stream] = len(dred)
    summary = f"{decoder.runs}: all {sum(counts.values())} DRED packets bit-exact ({counts})"
    print(summary)
    record_property("rdovae_shared", summary)
    assert sum(counts.values()) == 1237


def test_every_edge_packet_is_libopus(decoder, edge_truth):
    total = 0
    for stream in EDGE_STREAMS:
        for p in edge_truth[stream][1]:
            d = p["dred"]
            if d is None:
                continue
            got = decoder.decode_bits(d["q0"], d["state"], d["latents"], d["levels"])
            assert np.array_equal(got, expected_bits(d)), f"{stream} packet {p['index']}"
            total += 1
    print(f"{decoder.runs}: all {total} edge DRED packets bit-exact")
    assert total == 40 + 75


def test_every_standalone_record_is_libopus(decoder, standalone_dir, model):
    ref = np.frombuffer(gzip.decompress((standalone_dir / "vector_dred_dec.f32.gz").read_bytes()), dtype="<u4").reshape(-1, 20)
    records = read_standalone((standalone_dir / "vector_dred.bit").read_bytes())
    start = 0
    for i, rec in enumerate(records):
        p = decode_record(rec, model.stats)
        f = decoder.decode_standalone(rec.q0, p.state, p.latents)
        assert f.shape == (2 * rec.nb_chunks, 20)
        assert np.array_equal(bits(f), ref[start:start + len(f)]), f"record {i}"
        start += len(f)
    assert start == len(ref) and len(records) == 174
    print(f"{decoder.runs}: all {len(records)} standalone records ({start} rows) bit-exact")


# ------------------------------------------------------------------ 3. the property test

_SMALL = st.integers(-40, 40)
_ANY = st.integers(-(1 << 31), (1 << 31) - 1)
_VALUE = st.one_of(_SMALL, _SMALL, _SMALL, _ANY)       # mostly what payloads carry, now and then anything


@st.composite
def _packets(draw):
    n = draw(st.integers(0, 5))
    huge = draw(st.booleans())
    value = _ANY if huge else _VALUE
    return (draw(st.integers(0, 15)), draw(st.lists(value, min_size=50, max_size=50)),
            draw(st.lists(st.lists(value, min_size=25, max_size=25), min_size=n, max_size=n)),
            draw(st.lists(st.integers(0, 15), min_size=n, max_size=n)))


@pytest.fixture(scope="module")
def soft(model):
    return R.RdovaeDecoder(model, arith="softfloat")


@pytest.fixture(scope="module")
def hard(model):
    dec = R.RdovaeDecoder(model, arith="exact")
    if not dec.runs.startswith("exact"):
        pytest.skip("the hardware failed the self-check: exact runs the soft-float here")
    return dec


@pytest.mark.parametrize("simd", ["off", "auto"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packet=_packets())
def test_hardware_is_the_soft_float(hard, soft, simd, packet):
    q0, state, latents, levels = packet
    R.set_simd(simd)
    try:
        a = hard.decode_bits(q0, state, np.array(latents, np.int64).reshape(-1, 25), levels)
    finally:
        R.set_simd("auto")
    b = soft.decode_bits(q0, state, np.array(latents, np.int64).reshape(-1, 25), levels)
    assert np.array_equal(a, b)


# ------------------------------------------------------------------ 4. the batch call

def _payload_items(model, data: bytes):
    """(bytes, frame_offset) of every DRED payload of a stream, with the one-at-a-time results."""
    ref = ReferenceDecoder(model)
    results = [r for r in ref.decode_records(data) if getattr(r, "payload", None) is not None]
    return [(r.location.payload, r.location.frame_offset) for r in results], [r.payload for r in results]


def test_decode_many_is_one_at_a_time(model, ground_truth, edge_truth):
    dec = R.RdovaeDecoder(model)
    for name, (data, expected) in {**ground_truth, **edge_truth}.items():
        items, singles = _payload_items(model, data)
        many = dec.decode_many(items)
        assert [p for p, _ in many] == singles == P.decode_dred_payloads(items, model.stats), name
        want = [p["dred"] for p in expected if p["dred"] is not None]
        assert len(many) == len(want)
        for (p, f), d in zip(many, want):
            assert f.shape == (4 * p.latent_count, 20)
            assert np.array_equal(bits(f), expected_bits(d)), name


def test_decode_many_edges(model):
    dec = R.RdovaeDecoder(model, arith="softfloat")
    assert dec.decode_many([]) == []
    assert P.decode_dred_payloads([(b"", 0)], model.stats)[0].latent_count == 0
    (p, f), = dec.decode_many([(bytes(range(40)), 7)], max_latents=3)
    assert p.latent_count <= 3 and p.frame_offset == 7 and f.shape == (4 * p.latent_count, 20)
    with pytest.raises(ValueError, match="frame_offset"):
        dec.decode_many([(b"\x01", 70000)])
    with pytest.raises(ValueError, match="max_latents"):
        P.decode_dred_payloads([(b"\x01", 0)], model.stats, max_latents=27)
