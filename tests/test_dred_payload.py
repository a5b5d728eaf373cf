"""The DRED payload core (SPEC-NOTES section 3): integers from bytes, bytes from integers, never a crash."""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dredconf.reference._core import ffi, lib
from dredconf.reference.payload import (
    FIELD_NAMES,
    MAX_LATENTS,
    DredPayload,
    decode_dred_payload,
    decode_dred_standalone,
    encode_dred_payload,
    encode_dred_standalone,
)
from dredconf.spec.dred import dred_level
from dredconf.spec.record import dred_offset
from dredconf.spec.standalone import read_standalone
from tests.helpers.shared import STREAMS

INTEGER_KEYS = ["frame_offset", "q0", "dQ", "extra_offset", "offset", "qmax", "dred_offset", "latent_count", "levels",
                "state", "latents"]




def coded(stats, kind: str, q: int) -> np.ndarray:
    """Which dimensions carry a value at level q (r != 0 and p0 != 255)."""
    return (getattr(stats, f"{kind}_r")[q] != 0) & (getattr(stats, f"{kind}_p0")[q] != 255)


def check_structure(p: DredPayload) -> None:
    """What every decoded payload satisfies, whatever its bytes."""
    assert 0 <= p.q0 <= 15 and 0 <= p.dQ <= 7 and 0 <= p.offset <= 31 and 0 <= p.extra_offset <= 255
    assert p.extra_flag or p.extra_offset == 0
    assert p.qmax == 15 or (p.q0 < 14 and p.dQ > 0 and p.q0 < p.qmax < 15)
    assert p.dred_offset == dred_offset(p.offset, p.extra_offset, p.frame_offset)
    assert 0 <= p.latent_count <= MAX_LATENTS == 26
    assert p.levels == [dred_level(p.q0, p.dQ, p.qmax, k) for k in range(p.latent_count)]
    assert len(p.state) == 50 and len(p.latents) == p.latent_count and all(len(x) == 25 for x in p.latents)
    names = [n for n in FIELD_NAMES if n in p.fields]
    spans = [p.fields[n] for n in names]
    assert spans[0][0] == 1  # ec_tell of a fresh decoder
    assert all(a[1] == b[0] and a[0] <= a[1] for a, b in zip(spans, spans[1:]))  # contiguous, in coding order
    assert spans[-1][1] == p.bits_total
    assert [n for n in names if n.startswith("latent")] == [f"latent{k}" for k in range(p.latent_count)]


# ---- ground truth (libopus 1.6.1) --------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("stream", STREAMS)
def test_ground_truth_integers_round_trip(stats, ground_truth, stream):
    """Every DRED libopus decoded in the vectors: encode its integers, decode them again, get the same integers."""
    n = 0
    for rec in ground_truth[stream][1]:
        want = rec["dred"]
        if want is None:
            continue
        got = decode_dred_payload(encode_dred_payload(want, stats), want["frame_offset"], stats)
        assert {k: getattr(got, k) for k in INTEGER_KEYS} == {k: want[k] for k in INTEGER_KEYS}, rec["index"]
        check_structure(got)
        n += 1
    assert n > 0


@pytest.mark.shared
def test_standalone_vectors(stats, ground_truth, standalone_dir):
    """libopus's standalone records: our encoder rewrites them byte for byte, and they hold S2's integers at q0."""
    s2 = [r["dred"] for r in ground_truth["S2"][1] if r["dred"] is not None]
    records = read_standalone((standalone_dir / "vector_dred.bit").read_bytes())
    assert len(records) == 174
    for q0, chunks, data in ((r.q0, r.nb_chunks, r.data) for r in records):
        p = decode_dred_standalone(data, q0, chunks // 2, stats)
        assert p.latent_count == chunks // 2 and p.levels == [q0] * p.latent_count
        assert p.bits_total <= 8 * len(data)
        assert encode_dred_standalone(p, stats) == data
        mask = coded(stats, "latent", q0)
        assert any(d["q0"] == q0 and d["state"] == p.state
                   and [[v if m else 0 for v, m in zip(x, mask)] for x in d["latents"][:p.latent_count]] == p.latents
                   for d in s2)


# ---- encoder and decoder on constructed payloads ------------------------------------------------------------------


def payload(q0=6, dQ=0, qmax=15, extra_offset=0, offset=0, state=None, latents=(), extra_flag=False) -> dict:
    return {"q0": q0, "dQ": dQ, "qmax": qmax, "extra_offset": extra_offset, "offset": offset,
            "state": state or [0] * 50, "latents": [list(x) for x in latents], "extra_flag": extra_flag}


def nonzero_values(stats, kind: str, q: int, seed: int, scale: int = 3) -> list[int]:
    """Values with the right zeros for level q (uncoded dimensions must be 0)."""
    rng = np.random.default_rng(seed)
    mask = coded(stats, kind, q)
    return [int(v) if m else 0 for v, m in zip(rng.integers(-scale, scale + 1, mask.size), mask)]


@pytest.mark.shared
def test_every_header_combination(stats):
    """Every q0, dQ and qmax, extra offsets with and without the flag, offsets 0/31, 0, 1 and 26 latents."""
    for q0 in range(16):
        for dQ in range(8):
            qmaxes = range(q0 + 1, 16) if q0 < 14 and dQ > 0 else [15]
            for qmax in qmaxes:
                for extra, flag, offset, count in ((0, False, 0, 1), (0, True, 31, 0), (1, True, 17, 26),
                                                   (255, False, 31, 2)):
                    lat = [nonzero_values(stats, "latent", dred_level(q0, dQ, qmax, k), seed=k + 7) for k in
                           range(count)]
                    p = payload(q0, dQ, qmax, extra, offset, nonzero_values(stats, "state", q0, seed=q0), lat, flag)
                    try:
                        data = encode_dred_payload(p, stats)
                    except ValueError:
                        assert count < 26  # only a short last latent can be unrepresentable
                        continue
                    got = decode_dred_payload(data, 12, stats)
                    check_structure(got)
                    assert (got.q0, got.dQ, got.qmax, got.extra_offset, got.offset, got.extra_flag) == (
                        q0, dQ, qmax, extra, offset, flag or extra > 0)
                    assert got.state == p["state"] and got.latents == lat
                    assert got.dred_offset == 16 - offset - 32 * extra + 12
                    assert ("qmax" in got.fields) == (q0 < 14 and dQ > 0)
                    assert ("extra_offset" in got.fields) == (flag or extra > 0)


@st.composite
def valid_payloads(draw, stats):
    q0 = draw(st.integers(0, 15))
    dQ = draw(st.integers(0, 7))
    qmax = draw(st.integers(q0 + 1, 15)) if q0 < 14 and dQ > 0 else 15
    count = draw(st.integers(0, 26))
    value = st.one_of(st.integers(-3, 3), st.integers(-3, 3), st.integers(-3000, 3000))

    def values(kind, q):
        return [draw(value) if m else 0 for m in coded(stats, kind, q)]

    return payload(q0, dQ, qmax, draw(st.integers(0, 255)), draw(st.integers(0, 31)), values("state", q0),
                   [values("latent", dred_level(q0, dQ, qmax, k)) for k in range(count)], draw(st.booleans()))


@pytest.mark.shared
@settings(deadline=None)
@given(data=st.data())
def test_round_trip_random_integers(stats, data):
    p = data.draw(valid_payloads(stats))
    frame_offset = data.draw(st.integers(0, 48))
    try:
        enc = encode_dred_payload(p, stats)
    except ValueError as e:
        assert "stop" in str(e) and len(p["latents"]) < 26
        return
    got = decode_dred_payload(enc, frame_offset, stats)
    check_structure(got)
    assert got.state == p["state"] and got.latents == p["latents"]
    assert (got.q0, got.dQ, got.qmax, got.extra_offset, got.offset) == (p["q0"], p["dQ"], p["qmax"],
                                                                         p["extra_offset"], p["offset"])
    assert got.extra_flag == (p["extra_flag"] or p["extra_offset"] > 0)


@pytest.mark.shared
def test_large_magnitudes_escape_many_times(stats):
    state = [(-1) ** i * (100 * i + 7) if m else 0 for i, m in enumerate(coded(stats, "state", 3))]
    lat = [[20000 if m else 0 for m in coded(stats, "latent", 3)]]
    got = decode_dred_payload(encode_dred_payload(payload(q0=3, state=state, latents=lat), stats), 0, stats)
    assert got.state == state and got.latents == lat


@pytest.mark.shared
def test_short_last_latent(stats):
    """A last latent costing under a byte's slack: unrepresentable below 26 latents, padded at 26."""
    zeros = [0] * 25
    short = None
    for count in range(1, 26):
        try:
            encode_dred_payload(payload(q0=15, latents=[zeros] * count), stats)
        except ValueError as e:
            assert "stop" in str(e)
            short = count
    assert short is not None  # all-zero latents at level 15 cost well under a byte
    data = encode_dred_payload(payload(q0=15, latents=[zeros] * 26), stats)
    got = decode_dred_payload(data, 0, stats)
    assert got.latent_count == 26
    assert 8 * len(data) - got.fields["latent25"][0] > 7


@pytest.mark.shared
def test_encoder_refuses_bad_values(stats):
    good = payload(q0=5, dQ=3, qmax=9)
    encode_dred_payload(good, stats)
    uncoded_dim = int(np.flatnonzero(~coded(stats, "state", 5))[0])
    bad_state = [0] * 50
    bad_state[uncoded_dim] = 1
    for change in ({"q0": 16}, {"q0": -1}, {"dQ": 8}, {"qmax": 5}, {"qmax": 16}, {"offset": 32}, {"extra_offset": 256},
                   {"extra_offset": -1}, {"dQ": 0, "qmax": 9}, {"q0": 14, "qmax": 14}, {"state": bad_state},
                   {"latents": [[0] * 25] * 27}, {"state": [0] * 49}, {"latents": [[0] * 24]}):
        with pytest.raises(ValueError):
            encode_dred_payload({**good, **change}, stats)


@pytest.mark.shared
def test_max_latents_limits_the_count(stats):
    lat = [nonzero_values(stats, "latent", 6, seed=k) for k in range(10)]
    data = encode_dred_payload(payload(q0=6, latents=lat), stats)
    for m in (0, 1, 5, 26):
        got = decode_dred_payload(data, 0, stats, max_latents=m)
        assert got.latents == lat[:m]


# ---- robustness ---------------------------------------------------------------------------------------------------


@pytest.mark.shared
@settings(deadline=None, max_examples=300)
@given(data=st.binary(max_size=2000), frame_offset=st.integers(0, 48))
def test_random_bytes(stats, data, frame_offset):
    """Any bytes decode; the integers have the payload's structure and survive re-encoding."""
    p = decode_dred_payload(data, frame_offset, stats)
    check_structure(p)
    assert p.frame_offset == frame_offset
    again = decode_dred_payload(encode_dred_payload(p, stats), frame_offset, stats)
    assert {k: getattr(again, k) for k in INTEGER_KEYS + ["extra_flag"]} == {
        k: getattr(p, k) for k in INTEGER_KEYS + ["extra_flag"]}


@pytest.mark.shared
@settings(deadline=None)
@given(data=st.binary(max_size=600), q0=st.integers(0, 15), n=st.integers(0, 26))
def test_random_standalone_bytes(stats, data, q0, n):
    p = decode_dred_standalone(data, q0, n, stats)
    assert p.latent_count == n and p.levels == [q0] * n
    assert decode_dred_standalone(encode_dred_standalone(p, stats), q0, n, stats).latents == p.latents


def c_stats(stats):
    c = ffi.new("dc_dred_stats *")
    for name in ("latent_quant_scale", "latent_r", "latent_p0", "state_quant_scale", "state_r", "state_p0"):
        raw = np.ascontiguousarray(getattr(stats, name), dtype=np.uint8).tobytes()
        ffi.memmove(getattr(c, name), raw, len(raw))
    return c


@pytest.mark.shared
def test_c_rejects_absurd_arguments(stats):
    cs, out, data = c_stats(stats), ffi.new("dc_dred_payload *"), b"\x12\x34\x56"
    err = lib.DC_DRED_ERR_ARG
    assert lib.dc_dred_decode(data, -1, 0, 26, cs, out) == err
    assert lib.dc_dred_decode(data, 3, 0, 26, ffi.NULL, out) == err
    assert lib.dc_dred_decode(data, 3, 0, 26, cs, ffi.NULL) == err
    assert lib.dc_dred_decode(ffi.NULL, 3, 0, 26, cs, out) == err
    assert lib.dc_dred_decode(data, 3, -1, 26, cs, out) == err
    assert lib.dc_dred_decode(data, 3, 0, 27, cs, out) == err
    assert lib.dc_dred_decode(data, 3, 0, -1, cs, out) == err
    assert out.latent_count == 0 and out.field_start[0] == -1  # cleared on error
    assert lib.dc_dred_decode(ffi.NULL, 0, 0, 26, cs, out) == lib.DC_DRED_OK  # no bytes: all zeros
    assert out.q0 == 0 and out.latent_count == 0
    for q0, n in ((-1, 1), (16, 1), (0, -1), (0, 27)):
        assert lib.dc_dred_decode_standalone(data, 3, q0, n, cs, out) == err
    assert lib.dc_dred_decode_standalone(data, -5, 0, 0, cs, out) == err
    assert lib.dc_dred_decode_standalone(data, 3, 0, 0, ffi.NULL, out) == err
    n_out, buf = ffi.new("int *"), ffi.new("unsigned char[]", 64)
    p = ffi.new("dc_dred_payload *")
    p.qmax = 15
    assert lib.dc_dred_encode(p, cs, buf, 64, n_out) == lib.DC_DRED_OK and n_out[0] > 0
    assert lib.dc_dred_encode(ffi.NULL, cs, buf, 64, n_out) == err
    assert lib.dc_dred_encode(p, ffi.NULL, buf, 64, n_out) == err
    assert lib.dc_dred_encode(p, cs, ffi.NULL, 64, n_out) == err
    assert lib.dc_dred_encode(p, cs, buf, -1, n_out) == err
    assert lib.dc_dred_encode(p, cs, buf, 64, ffi.NULL) == err
    assert lib.dc_dred_encode(p, cs, buf, 0, n_out) == lib.DC_DRED_ERR_BUFFER and n_out[0] == 0
    p.latent_count = 27
    assert lib.dc_dred_encode(p, cs, buf, 64, n_out) == lib.DC_DRED_ERR_VALUE
    assert lib.dc_dred_encode_standalone(p, cs, buf, 64, n_out) == lib.DC_DRED_ERR_VALUE
    assert lib.dc_dred_level(0, 8, 15, 0) == -1 and lib.dc_dred_level(0, 7, 15, 27) == -1


def test_c_quantizer_schedule_equals_the_spec():
    """The C core keeps its own schedule (it must decode alone); it is spec.dred's for every q0, dQ, qmax, k."""
    differ = [(q0, dQ, qmax, k) for q0, dQ, qmax, k in itertools.product(range(16), range(8), range(16),
                                                                          range(MAX_LATENTS + 1))
              if lib.dc_dred_level(q0, dQ, qmax, k) != dred_level(q0, dQ, qmax, k)]
    assert differ == []


@pytest.mark.shared
def test_python_face_rejects_bad_arguments(stats):
    for call in (lambda: decode_dred_payload(b"", -1, stats), lambda: decode_dred_payload(b"", 0, stats, 27),
                 lambda: decode_dred_payload(b"", 0, None), lambda: decode_dred_payload(b"", 0, SimpleNamespace()),
                 lambda: decode_dred_standalone(b"", 16, 0, stats), lambda: decode_dred_payload(b"", 1.5, stats)):
        with pytest.raises(ValueError):
            call()


@pytest.mark.shared
def test_encoder_buffer_never_overflows(stats):
    """The C encoder given too small a buffer fails cleanly and leaves the bytes after it alone."""
    lat = [nonzero_values(stats, "latent", 0, seed=k, scale=40) for k in range(26)]
    cs = c_stats(stats)
    p = ffi.new("dc_dred_payload *")
    p.q0, p.qmax, p.latent_count = 0, 15, 26
    for k, x in enumerate(lat):
        for i, v in enumerate(x):
            p.latents[k][i] = v
    n_out = ffi.new("int *")
    big = ffi.new("unsigned char[]", 4096)
    assert lib.dc_dred_encode(p, cs, big, 4096, n_out) == lib.DC_DRED_OK
    full = n_out[0]
    for cap in (0, 1, full // 2, full - 1):
        buf = ffi.new("unsigned char[]", cap + 16)
        for i in range(cap + 16):
            buf[i] = 0x5A
        assert lib.dc_dred_encode(p, cs, buf, cap, n_out) == lib.DC_DRED_ERR_BUFFER
        assert all(buf[cap + i] == 0x5A for i in range(16))
