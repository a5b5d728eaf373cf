"""The C range coder (RFC 6716 section 4.1): round trips, end-of-buffer behaviour, bad arguments, known answers."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dredconf.reference._core import ffi, lib
from dredconf.reference.rangecoder import RangeDecoder, RangeEncoder

# Known answers, computed with libopus 1.6.1's own celt/entenc.c and entdec.c (a scratch harness, not in the repo).
KAT_ENCODE_OPS = [("uint", 9, 16), ("uint", 5, 8), ("uint", 1, 2), ("uint", 200, 256), ("uint", 17, 32),
                  ("encode", 7, 8, 10), ("uint", 123456, 1000000), ("bit_logp", 1, 3), ("bit_logp", 0, 1),
                  ("uint", 65535, 65536), ("bits", 0x155, 9)]
KAT_ENCODE_BYTES = bytes.fromhex("9bc88db37608155ff240")
KAT_DECODE_DATA = bytes.fromhex("0104070a0d101316191c1f2225")
KAT_DECODE_VALUES = [0, 0, 6, 0, 36389, 68, 1]
KAT_DECODE_TELL_FRAC = [40, 64, 107, 124, 257, 328, 336]
KAT_EMPTY_VALUES = [0, 0, 0, 0, 0, 0, 0]
KAT_EMPTY_TELL_FRAC = [40, 64, 81, 98, 231, 256, 264]


def _decode_kat_ops(d: RangeDecoder) -> tuple[list[int], list[int]]:
    """uint(16), uint(8), two Laplace, uint(100000) (raw bits), Laplace, uint(2); values and tell_frac after each."""
    steps = [lambda: d.uint(16), lambda: d.uint(8), lambda: d.laplace_p0(128 * 60, 128 * 200),
             lambda: d.laplace_p0(128 * 60, 128 * 200), lambda: d.uint(100000),
             lambda: d.laplace_p0(128 * 30, 128 * 250), lambda: d.uint(2)]
    values, tells = [], []
    for step in steps:
        values.append(step())
        tells.append(d.tell_frac())
    return values, tells


def _apply(e: RangeEncoder, op: tuple) -> None:
    kind, *args = op
    {"uint": e.uint, "encode": e.encode, "bit_logp": e.bit_logp, "bits": e.bits}[kind](*args)


def test_encoder_known_answer():
    e = RangeEncoder(256)
    for op in KAT_ENCODE_OPS:
        _apply(e, op)
    assert e.finish() == KAT_ENCODE_BYTES


def test_decoder_known_answer():
    assert _decode_kat_ops(RangeDecoder(KAT_DECODE_DATA)) == (KAT_DECODE_VALUES, KAT_DECODE_TELL_FRAC)
    assert _decode_kat_ops(RangeDecoder(b"")) == (KAT_EMPTY_VALUES, KAT_EMPTY_TELL_FRAC)


def _icdf_table(weights: list[int], ftb: int) -> list[int]:
    """An inverse CDF over 2^ftb with every symbol's probability > 0 (weights scaled down, at least 1 each)."""
    total = 1 << ftb
    scaled = [max(1, w * (total - len(weights)) // max(1, sum(weights))) for w in weights]
    scaled[0] += total - sum(scaled)  # weights sum exactly to 2^ftb
    icdf, left = [], total
    for w in scaled:
        left -= w
        icdf.append(left)
    return icdf


@st.composite
def symbol(draw):
    """One coder operation with a valid value: ('kind', args...) for the encoder, mirrored by the decoder."""
    kind = draw(st.sampled_from(["uint_small", "uint_big", "encode", "bit_logp", "icdf", "icdf16", "bits"]))
    if kind == "uint_small":
        ft = draw(st.integers(2, 256))
        return ("uint", draw(st.integers(0, ft - 1)), ft)
    if kind == "uint_big":
        ft = draw(st.integers(257, 2**32 - 1))
        return ("uint", draw(st.integers(0, ft - 1)), ft)
    if kind == "encode":
        ft = draw(st.integers(1, 1 << 16))
        fl = draw(st.integers(0, ft - 1))
        return ("encode", fl, draw(st.integers(fl + 1, ft)), ft)
    if kind == "bit_logp":
        return ("bit_logp", draw(st.integers(0, 1)), draw(st.integers(1, 15)))
    if kind == "bits":
        n = draw(st.integers(1, 25))
        return ("bits", draw(st.integers(0, (1 << n) - 1)), n)
    ftb = draw(st.integers(2, 8 if kind == "icdf" else 15))
    n = draw(st.integers(2, min(16, 1 << ftb)))
    table = _icdf_table(draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n)), ftb)
    return (kind, draw(st.integers(0, n - 1)), table, ftb)


def _encode_all(ops: list[tuple], cap: int = 1 << 16) -> tuple[bytes, list[int]]:
    e = RangeEncoder(cap)
    tells = []
    for op in ops:
        if op[0] in ("icdf", "icdf16"):
            getattr(e, op[0])(op[1], op[2], op[3])
        else:
            _apply(e, op)
        tells.append(e.tell())
    assert e.error == 0
    return e.finish(), tells


def _decode_one(d: RangeDecoder, op: tuple) -> int:
    kind = op[0]
    if kind == "uint":
        return d.uint(op[2])
    if kind == "encode":
        fl, fh, ft = op[1:]
        s = d.decode(ft)
        d.update(fl, fh, ft) if fl <= s < fh else d.update(s, s + 1, ft)
        return fl if fl <= s < fh else -1
    if kind == "bit_logp":
        return d.bit_logp(op[2])
    if kind == "bits":
        return d.bits(op[2])
    return getattr(d, kind)(op[2], op[3])


@given(st.lists(symbol(), max_size=60))
def test_round_trip(ops):
    data, enc_tells = _encode_all(ops)
    d = RangeDecoder(data)
    for op, tell in zip(ops, enc_tells):
        assert _decode_one(d, op) == op[1]
        assert d.tell() == tell  # encoder and decoder agree on the bit position after every symbol
    assert d.error == 0
    assert d.tell() <= 8 * len(data)


@given(st.binary(max_size=64), st.lists(st.integers(2, 256), max_size=80), st.integers(1, 16))
def test_reading_past_the_end_is_zeros(data, fts, pad):
    """RFC 6716 4.1.1: bytes past the end read as zero, so explicit zero padding changes nothing (no raw bits here)."""
    a, b = RangeDecoder(data), RangeDecoder(data + bytes(pad))
    for ft in fts:
        assert (a.uint(ft), a.tell(), a.tell_frac()) == (b.uint(ft), b.tell(), b.tell_frac())


def test_empty_and_short_buffers():
    for data in (b"", b"\x00", b"\xff", b"\x80\x01"):
        d = RangeDecoder(data)
        last = d.tell()
        assert last == 1  # a fresh decoder has used one bit, like the encoder
        for i in range(2000):
            d.uint(1 << 20) if i % 3 == 0 else d.uint(16)
            tell = d.tell()
            assert tell > last
            last = tell
        assert last > 8 * len(data)
    zeros = RangeDecoder(b"")
    assert [zeros.uint(16) for _ in range(10)] == [0] * 10


@given(st.binary(max_size=40), st.lists(st.sampled_from(["uint", "big", "logp", "icdf16"]), max_size=50))
def test_tell_frac_brackets_tell(data, kinds):
    d = RangeDecoder(data)
    for k in kinds:
        {"uint": lambda: d.uint(10), "big": lambda: d.uint(70000), "logp": lambda: d.bit_logp(2),
         "icdf16": lambda: d.icdf16([30000, 1000, 0], 15)}[k]()
        assert 8 * d.tell() - 8 <= d.tell_frac() <= 8 * d.tell()


def test_decoder_rejects_bad_arguments_without_crashing():
    for call in (lambda d: d.decode(0), lambda d: d.decode((1 << 16) + 1), lambda d: d.decode_bin(17),
                 lambda d: d.uint(0), lambda d: d.uint(1), lambda d: d.bits(26), lambda d: d.bit_logp(0)):
        d = RangeDecoder(b"\x12\x34")
        call(d)
        assert d.error
    d = RangeDecoder(b"\x12\x34")
    d.update(0, 1, 2)  # no dc_decode before: refused rather than leaving rng at 0
    assert d.error
    d = RangeDecoder(b"\x12\x34")
    d.decode(10)
    d.update(5, 5, 10)  # empty interval
    assert d.error
    with pytest.raises(ValueError):
        RangeDecoder(b"").icdf16([100, 50], 15)  # no terminating 0: the C search would run off the table
    with pytest.raises(ValueError):
        RangeDecoder(b"").icdf([10, 20, 0], 8)


def test_uint_out_of_range_sets_error():
    """A raw-bit value above ft-1 is invalid: libopus flags it and returns ft-1."""
    e = RangeEncoder(16)
    e.encode(128, 129, 129)  # uint(257): top symbol 128 of 129, then 1 raw bit
    e.bits(1, 1)  # 128 << 1 | 1 = 257 > 256
    d = RangeDecoder(e.finish())
    assert d.uint(257) == 256
    assert d.error


def test_encoder_rejects_bad_arguments():
    for call in (lambda e: e.encode(3, 3, 10), lambda e: e.encode(0, 11, 10), lambda e: e.encode(0, 1, 0),
                 lambda e: e.uint(5, 5), lambda e: e.uint(0, 1), lambda e: e.bits(4, 2), lambda e: e.bits(0, 26),
                 lambda e: e.bit_logp(1, 0), lambda e: e.icdf16(1, [100, 100, 0], 15),
                 lambda e: e.icdf(0, [16, 0], 4)):
        e = RangeEncoder(16)
        call(e)
        assert e.error
    with pytest.raises(ValueError):
        RangeEncoder(16).icdf16(3, [100, 0], 15)


@pytest.mark.parametrize("cap", [0, 1, 2, 5, 13])
def test_encoder_overflow_stays_inside_its_buffer(cap):
    guard = 32
    raw = ffi.new("unsigned char[]", cap + 2 * guard)
    for i in range(cap + 2 * guard):
        raw[i] = 0xA5
    e = ffi.new("dc_enc *")
    lib.dc_enc_init(e, raw + guard, cap)
    for i in range(200):
        lib.dc_enc_uint(e, i % 7, 7)
        lib.dc_enc_bits(e, i & 0x1F, 5)
        lib.dc_enc_uint(e, 70000 + i, 1 << 20)
    lib.dc_enc_done(e)
    assert e.error
    assert all(raw[i] == 0xA5 for i in range(guard))
    assert all(raw[guard + cap + i] == 0xA5 for i in range(guard))


def test_finish_without_raw_bits_is_range_bytes():
    e = RangeEncoder(64)
    for v in range(20):
        e.uint(v % 13, 13)
    data = e.finish()
    assert len(data) == (e.tell() + 7) // 8
    assert lib.dc_enc_range_bytes(e._e) <= len(data)
