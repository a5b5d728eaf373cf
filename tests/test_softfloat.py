"""The integer soft-float (csrc/softfloat32.h), the RDOVAE's and FARGAN's fallback arithmetic and the tests' oracle,
against numpy's float32 (the hardware's IEEE arithmetic): add, sub, mul, div, int -> float, floor(.5 + x), <, on
random bit patterns of every kind and on edge values (zeros, subnormals, the largest floats, infinities, NaNs, ties).
"""
from __future__ import annotations

import platform

import numpy as np
import pytest

from dredconf.reference._core import lib
from tests.helpers.libopus_vec import bits, floats

F32 = np.float32
U32 = np.uint32
IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


EDGE = np.array([
    0x00000000, 0x80000000,                          # +-0
    0x00000001, 0x80000001, 0x00000002, 0x00000003,  # smallest subnormals
    0x003fffff, 0x00400000, 0x00400001,              # mid subnormals
    0x007fffff, 0x807fffff,                          # largest subnormal
    0x00800000, 0x80800000, 0x00800001, 0x00ffffff,  # smallest normals
    0x01000000, 0x0b000000, 0x33800000, 0x34000000,  # 2^-125, 2^-105, 2^-24, 2^-23
    0x3f000000, 0x3f7fffff, 0x3f800000, 0xbf800000,  # .5, 1-ulp, 1, -1
    0x3f800001, 0x3f800002, 0x3fc00000, 0x3fffffff,  # 1+ulp, 1+2ulp, 1.5, 2-ulp
    0x40000000, 0x40400000, 0x42fe0000, 0x43800000,  # 2, 3, 127, 256
    0x4b000000, 0x4b000001, 0x4b7fffff, 0x4b800000,  # 2^23, 2^23+1, 2^24-1, 2^24
    0x4effffff, 0x4f000000, 0xcf000000, 0x4f000001,  # around 2^31
    0x5f000000, 0x7e800000, 0x7effffff, 0x7f000000,  # 2^63, 2^126, ~max/2, 2^127
    0x7f7ffffe, 0x7f7fffff, 0xff7fffff,              # the largest floats
    0x7f800000, 0xff800000,                          # +-inf
    0x7fc00000, 0xffc00000, 0x7f800001, 0x7fc12345,  # NaNs (quiet and signalling)
    0x3eaaaaab, 0x3dcccccd, 0xbe4ccccd, 0x4c000001,  # 1/3, .1, -.2, 2^25+...
], dtype=U32)

_OPS = {
    "add": (lib.dc_sf32_add, np.add),
    "sub": (lib.dc_sf32_sub, np.subtract),
    "mul": (lib.dc_sf32_mul, np.multiply),
    "div": (lib.dc_sf32_div, np.divide),
}


def _random_bits(rng, n: int) -> np.ndarray:
    """Bit patterns of every kind: anything, near 1, subnormal or tiny, huge."""
    a = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(U32)
    kind = rng.integers(0, 5, n)
    exp = np.select([kind == 1, kind == 2, kind == 3],
                    [rng.integers(110, 140, n), rng.integers(0, 4, n), rng.integers(240, 255, n)],
                    rng.integers(100, 160, n)).astype(U32)
    keep = kind == 4                                  # fully random pattern (NaNs and infs too)
    shaped = (a & U32(0x807FFFFF)) | (exp << U32(23))
    return np.where(keep, a, shaped).astype(U32)


def _check_op(name: str, a: np.ndarray, b: np.ndarray) -> None:
    cfn, nfn = _OPS[name]
    with np.errstate(all="ignore"):
        ref = bits(nfn(floats(a), floats(b)))
    got = np.fromiter((cfn(int(x), int(y)) for x, y in zip(a.tolist(), b.tolist())), dtype=U32, count=a.size)
    ref_nan = np.isnan(floats(ref))
    got_nan = np.isnan(floats(got))
    assert np.array_equal(ref_nan, got_nan), name
    # NaN payloads: the soft-float follows x86 SSE (first NaN operand, quieted; default NaN 0xFFC00000)
    same = got == ref if IS_X86 else (got == ref) | ref_nan
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        raise AssertionError(f"{name}({a[i]:#010x}, {b[i]:#010x}) = {got[i]:#010x}, numpy {ref[i]:#010x} "
                             f"({(~same).sum()} of {a.size} differ)")


@pytest.mark.parametrize("name", list(_OPS))
def test_softfloat_edge_pairs(name):
    a, b = np.meshgrid(EDGE, EDGE)
    _check_op(name, a.ravel().astype(U32), b.ravel().astype(U32))


@pytest.mark.parametrize("name", list(_OPS))
def test_softfloat_random(name):
    rng = np.random.default_rng(20240611 + len(name))
    n = 40000
    a, b = _random_bits(rng, n), _random_bits(rng, n)
    _check_op(name, a, b)
    # near-cancellation (a - a', a + (-a')), operands a few ulps apart
    near = (a.astype(np.int64) + rng.integers(-4, 5, n)).clip(0, (1 << 32) - 1).astype(U32)
    _check_op(name, a, near ^ U32(0x80000000))
    _check_op(name, a, near)


@pytest.mark.parametrize("name", list(_OPS))
def test_softfloat_subnormal_results(name):
    """Results in and around the subnormal range, with exact ties among them."""
    rng = np.random.default_rng(7)
    n = 20000
    # operands whose products / quotients / sums land near 2^-126 .. 2^-149
    ea = rng.integers(40, 90, n).astype(U32)
    eb = (np.where(name == "div", ea + rng.integers(100, 150, n), 150 - ea + rng.integers(-30, 2, n))
          .clip(1, 254).astype(U32))
    if name in ("add", "sub"):
        ea = rng.integers(0, 3, n).astype(U32)
        eb = rng.integers(0, 3, n).astype(U32)
    ma = rng.integers(0, 1 << 23, n).astype(U32)
    mb = np.where(rng.random(n) < .3, 0, rng.integers(0, 1 << 23, n)).astype(U32)   # short significands: ties
    sa = rng.integers(0, 2, n).astype(U32) << U32(31)
    sb = rng.integers(0, 2, n).astype(U32) << U32(31)
    _check_op(name, sa | (ea << U32(23)) | ma, sb | (eb << U32(23)) | mb)


def test_softfloat_ties_round_to_even():
    one, ulp_half = 0x3f800000, 0x33800000                       # 1 and 2^-24 (half an ulp of 1)
    assert lib.dc_sf32_add(one, ulp_half) == one                 # 1 + half ulp: tie, to even (down)
    assert lib.dc_sf32_add(one + 1, ulp_half) == one + 2         # odd + half ulp: up
    assert lib.dc_sf32_sub(one, 0x33000000) == 0x3f800000         # 1 - 2^-25: a quarter ulp below 1
    assert lib.dc_sf32_sub(one, 0x33800000) == 0x3f7fffff         # 1 - 2^-24: exactly 1 - ulp(below 1)
    x = 0x3f800800                                               # 1 + 2^-12: x*x = 1 + 2^-11 + 2^-24, a tie
    assert lib.dc_sf32_mul(x, x) == bits(F32(floats([x])[0]) * F32(floats([x])[0]))[()]
    assert lib.dc_sf32_mul(x, x) == 0x3f801000                   # down to even
    assert lib.dc_sf32_mul(0x00000001, 0x3f000000) == 0          # 2^-150: tie between 0 and 2^-149: 0
    assert lib.dc_sf32_mul(0x00000003, 0x3f000000) == 0x00000002  # 1.5 * 2^-149: tie, to even
    assert lib.dc_sf32_mul(0x7f7fffff, 0x40000000) == 0x7f800000  # overflow: inf
    assert lib.dc_sf32_add(0x7f800000, 0xff800000) == 0xffc00000  # inf - inf: x86's default NaN
    assert lib.dc_sf32_mul(0x7f800000, 0x80000000) == 0xffc00000  # inf * -0
    assert lib.dc_sf32_div(0, 0x80000000) == 0xffc00000           # 0 / -0
    assert lib.dc_sf32_div(0x3f800000, 0x80000000) == 0xff800000  # 1 / -0 = -inf
    assert lib.dc_sf32_add(0x80000000, 0x80000000) == 0x80000000  # -0 + -0 = -0
    assert lib.dc_sf32_add(0x80000000, 0) == 0                    # -0 + 0 = +0
    assert lib.dc_sf32_sub(0x3f800000, 0x3f800000) == 0           # exact cancellation: +0


def test_softfloat_from_int():
    rng = np.random.default_rng(3)
    vals = np.concatenate([
        rng.integers(-(1 << 31), 1 << 31, 20000),
        rng.integers(-(1 << 25), 1 << 25, 5000),
        np.array([0, 1, -1, (1 << 24) - 1, 1 << 24, (1 << 24) + 1, (1 << 24) + 3, -(1 << 24) - 1,
                  (1 << 25) + 2, (1 << 25) + 6, (1 << 31) - 1, -(1 << 31), -(1 << 31) + 1, 127, 255]),
    ]).astype(np.int32)
    got = np.fromiter((lib.dc_sf32_from_int(int(v)) for v in vals), dtype=U32, count=vals.size)
    assert np.array_equal(got, bits(vals.astype(F32)))


def test_softfloat_floor_half():
    """(int)floor(.5 + (double)x) as libopus computes it, INT32_MIN for NaN / out of range."""
    rng = np.random.default_rng(5)
    x = np.concatenate([_random_bits(rng, 30000), EDGE,
                        bits(np.arange(-300, 301, dtype=np.float64) / 2),      # exact halves: ties
                        bits(F32(127) * floats(_random_bits(rng, 5000) & U32(0x3fffffff)))])
    with np.errstate(all="ignore"):
        f = floats(x).astype(np.float64)
        r = np.floor(.5 + f)
    ok = np.isfinite(r) & (r >= -(2.0 ** 31)) & (r < 2.0 ** 31)
    ref = np.where(ok, np.where(ok, r, 0).astype(np.int64), -(1 << 31))
    got = np.fromiter((lib.dc_sf32_floor_half(int(v)) for v in x), dtype=np.int64, count=x.size)
    assert np.array_equal(got, ref)


def test_softfloat_lt():
    rng = np.random.default_rng(9)
    a = np.concatenate([_random_bits(rng, 5000), np.repeat(EDGE, EDGE.size)])
    b = np.concatenate([_random_bits(rng, 5000), np.tile(EDGE, EDGE.size)])
    with np.errstate(all="ignore"):
        ref = floats(a) < floats(b)
    got = np.fromiter((lib.dc_sf32_lt(int(x), int(y)) for x, y in zip(a, b)), dtype=bool, count=a.size)
    assert np.array_equal(got, ref)
