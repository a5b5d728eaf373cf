"""Laplace-p0 coding (libopus ec_laplace_{en,de}code_p0) with the model's real tables at every level."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dredconf.reference._core import lib
from dredconf.reference.rangecoder import RangeDecoder, RangeEncoder


# Known answer, computed with libopus 1.6.1's celt/laplace.c and entenc.c (a scratch harness, not in the repo):
# (value, p0, decay) coded in order, then the buffer cut to ceil(tell/8) bytes.
KAT = [(0, 128 * 100, 128 * 50), (1, 128 * 100, 128 * 50), (-1, 128 * 100, 128 * 50), (7, 128 * 10, 128 * 240),
       (8, 128 * 10, 128 * 240), (-15, 128 * 10, 128 * 240), (100, 128 * 3, 128 * 248),
       (-1000, 128 * 1, 128 * 255), (0, 128 * 254, 128 * 1)]
KAT_BYTES = bytes.fromhex("394e542f2c8f00")




def test_known_answer():
    e = RangeEncoder(1024)
    for value, p0, decay in KAT:
        e.laplace_p0(value, p0, decay)
    data = e.finish()
    assert data == KAT_BYTES
    d = RangeDecoder(data)
    assert [d.laplace_p0(p0, decay) for _, p0, decay in KAT] == [v for v, _, _ in KAT]


def _coded_params(stats, kind: str) -> list[tuple[int, int]]:
    """(p0, decay) in q15 for every coded (level, dimension) of a table kind."""
    r, p0 = getattr(stats, f"{kind}_r"), getattr(stats, f"{kind}_p0")
    return [(int(p0[q, i]) << 7, int(r[q, i]) << 7) for q in range(16) for i in range(r.shape[1])
            if r[q, i] != 0 and p0[q, i] != 255]


# Magnitudes around every escape boundary (7 per escape) and far beyond.
MAGNITUDES = [0, 1, 2, 6, 7, 8, 9, 14, 15, 16, 22, 50, 71, 200, 1000, 5000]


@pytest.mark.shared
@pytest.mark.parametrize("kind", ["latent", "state"])
def test_every_level_and_dimension(stats, kind):
    params = _coded_params(stats, kind)
    assert len({p for p in params}) > 10
    values = [s * m for m in MAGNITUDES for s in ((1, -1) if m else (1,))]
    for p0, decay in params:
        e = RangeEncoder(1 << 16)
        for v in values:
            e.laplace_p0(v, p0, decay)
        d = RangeDecoder(e.finish())
        assert [d.laplace_p0(p0, decay) for _ in values] == values
        assert d.error == 0


@st.composite
def coded_values(draw, stats):
    kind = draw(st.sampled_from(["latent", "state"]))
    params = _coded_params(stats, kind)
    n = draw(st.integers(0, 80))
    big = st.integers(-20000, 20000)
    small = st.integers(-10, 10)
    return [(draw(st.one_of(small, small, big)), *draw(st.sampled_from(params))) for _ in range(n)]


@pytest.mark.shared
@given(data=st.data())
def test_round_trip_real_tables(stats, data):
    items = data.draw(coded_values(stats))
    e = RangeEncoder(1 << 16)
    for v, p0, decay in items:
        e.laplace_p0(v, p0, decay)
    d = RangeDecoder(e.finish())
    assert [d.laplace_p0(p0, decay) for _, p0, decay in items] == [v for v, _, _ in items]


@given(st.lists(st.tuples(st.integers(-300, 300), st.integers(1, 32766), st.integers(0, 32767)), max_size=60))
def test_round_trip_any_parameters(items):
    """Any p0 in 1..2^15-2 and decay up to 2^15-1 codes every value (no zero-probability symbol)."""
    e = RangeEncoder(1 << 16)
    for v, p0, decay in items:
        e.laplace_p0(v, p0, decay)
    d = RangeDecoder(e.finish())
    assert [d.laplace_p0(p0, decay) for _, p0, decay in items] == [v for v, _, _ in items]


def test_escape_run_is_many_symbols():
    """A magnitude m takes 1 sign symbol plus (m-1)//7 + 1 magnitude symbols: check via a very cheap decay."""
    for m in (1, 7, 8, 15, 700):
        e = RangeEncoder(1 << 12)
        e.laplace_p0(m, 128 * 128, 0)  # decay 0: icdf {7,6,...,0}, magnitude symbols above 0 cost ~15 bits each
        cost = e.tell()
        e2 = RangeEncoder(1 << 12)
        e2.laplace_p0(m + 7, 128 * 128, 0)
        assert e2.tell() > cost  # each extra escape costs bits


@given(st.binary(max_size=300), st.integers(1, 254), st.integers(1, 255))
def test_random_bytes_terminate(data, p0_q8, r_q8):
    """Decoding garbage always ends: past the buffer the zeros decode as magnitude symbol 0."""
    d = RangeDecoder(data)
    for _ in range(100):
        v = d.laplace_p0(p0_q8 << 7, r_q8 << 7)
        assert abs(v) <= lib.DC_LAPLACE_MAX


def test_encoder_refuses_impossible_values():
    for value, p0, decay in ((0, 0, 100), (1, 32768, 100), (-1, 32767, 100), (5, 100, 32768),
                             (lib.DC_LAPLACE_MAX + 1, 100, 100), (-lib.DC_LAPLACE_MAX - 1, 100, 100)):
        e = RangeEncoder(64)
        with pytest.raises(ValueError):
            e.laplace_p0(value, p0, decay)
        assert e.tell() == 1  # nothing was coded


def test_p0_zero_and_full_decode_like_libopus():
    """p0 = 2^15: the zero symbol takes the whole range, so every value decodes as 0 (libopus does the same)."""
    d = RangeDecoder(bytes(range(256)))
    assert [d.laplace_p0(32768, 1000) for _ in range(50)] == [0] * 50
