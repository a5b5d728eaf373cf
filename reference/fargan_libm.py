"""FARGAN's two libm calls, exactly: where the C core's tables come from, and how they compare with libm.

libopus's FARGAN (dnn/fargan.c) calls the C library in double precision twice:

* ``gain = exp(gain)`` (fargan.c:89): a float32 in, the double result stored back as a float32;
* ``period = (int)floor(.5+256./pow(2.f,((1./60.)*((f+1.5)*60))))`` (fargan.c:154, :204) for the
  pitch feature f (a float32): only the integer matters.

The reference makes both exact by construction, in integer arithmetic that both of its
arithmetics share (``csrc/fargan_libm.h``):

* ``exp``: the correctly rounded float32 exp of the float32 input (what ``(float)exp((double)x)``
  gives whenever libm's double lies on the same side of every float32 rounding boundary as the
  true value), computed in 64-bit fixed point with an error bound, from the constants below;
* the period: the libopus expression evaluated with IEEE double operations and a correctly rounded
  ``pow``, which is a non-increasing step function of f; the C core holds its steps, the smallest
  float32 giving each period 1 .. 297 (:func:`period_thresholds`), and looks f up among them.

This module recomputes every constant and threshold from first principles (Python integers,
``fractions`` and ``decimal``), so a test can hold the C tables to them, and evaluates the same
expressions with this machine's libm (``math.exp``, ``math.pow``: glibc's on Linux) to count where
it rounds differently (docs/FARGAN.md).  ``python -m dredconf.reference.fargan_libm`` prints the C
tables.
"""
from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Callable

#: Periods the reference distinguishes: below 1 libopus reads outside its pitch history (undefined), from
#: 297 on every period reads the oldest sample only and takes the last pitch embedding (fargan.h).
PERIOD_MIN, PERIOD_MAX = 1, 297
EXP2_BITS = 6  # 2^(j/64) table: 64 entries
_PREC = 80  # decimal digits for the constants and the reference exp / pow


def f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def bits32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def key(bits: int) -> int:
    """The float32's place in numeric order (-0 and +0 the same); NaNs are not ordered."""
    return -(bits & 0x7FFFFFFF) if bits >> 31 else bits


def from_key(k: int) -> int:
    return (0x80000000 | -k) if k < 0 else k


# ------------------------------------------------------------------------------------------------ exp constants


def _ln2() -> Decimal:
    with localcontext() as c:
        c.prec = _PREC
        return Decimal(2).ln()


def exp2_table() -> list[int]:
    """T[j] = 2^(63 + j/64) rounded to the nearest integer, j = 0..63 (integer arithmetic only)."""
    table = []
    for j in range(1 << EXP2_BITS):
        target = 1 << (63 * 64 + j)  # y^64 = 2^(63*64 + j)
        lo, hi = 1 << 63, 1 << 64
        while hi - lo > 1:  # floor of the 64th root
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if mid ** 64 <= target else (lo, mid)
        table.append(lo + ((2 * lo + 1) ** 64 <= target << 64))  # + 1 when at or past the midpoint
    return table


def log2e_q127() -> int:
    """floor(log2(e) * 2^127): two 64-bit words of the C core's constant."""
    with localcontext() as c:
        c.prec = _PREC
        v = Decimal(2) ** 127 / _ln2()
    assert abs(v - v.to_integral_value()) > Decimal(10) ** -30
    return int(v)


def ln2_q64() -> int:
    """floor(ln(2) * 2^64)."""
    with localcontext() as c:
        c.prec = _PREC
        v = _ln2() * Decimal(2) ** 64
    return int(v)


def exp_f32(bits: int) -> int:
    """The correctly rounded float32 exp of a float32 (by bit pattern), from an 80-digit value: the reference's
    definition, slow, for tests.  NaN in: the NaN quieted; overflow: inf; underflow: +0 or a subnormal."""
    ax = bits & 0x7FFFFFFF
    if ax > 0x7F800000:
        return bits | 0x00400000
    if ax == 0x7F800000:
        return 0 if bits >> 31 else 0x7F800000
    x = Fraction(f32(bits))
    if x > 89:
        return 0x7F800000
    if x < -104:
        return 0
    with localcontext() as c:
        c.prec = _PREC
        v = Fraction((Decimal(x.numerator) / Decimal(x.denominator)).exp())
    return _round_f32(v)


def _round_f32(v: Fraction) -> int:
    """A positive value rounded to float32 (nearest, ties to even; subnormals; inf past the largest)."""
    e = math.floor(math.log2(v)) if v > 0 else -1000
    while Fraction(2) ** e > v:
        e -= 1
    while Fraction(2) ** (e + 1) <= v:
        e += 1
    e = max(e, -126)  # subnormals share the smallest normal exponent's spacing
    ulp = Fraction(2) ** (e - 23)
    q, r = divmod(v, ulp)
    q = int(q) + (r > ulp / 2 or (r == ulp / 2 and int(q) & 1))
    if e == -126 and q < 1 << 23:
        return q  # subnormal (or the smallest normal when it rounds up to 2^23)
    if q == 1 << 24:
        q, e = 1 << 23, e + 1
    return 0x7F800000 if e > 127 else ((e + 127) << 23) | (q - (1 << 23))


# ------------------------------------------------------------------------------------------------ the period


def pow2_correct(y: float) -> float:
    """2^y correctly rounded to a double (y a double)."""
    if y != y:
        return y
    if y > 1100:
        return math.inf
    if y < -1100:
        return 0.0
    n = math.floor(y)
    g = Fraction(y) - n
    with localcontext() as c:
        c.prec = _PREC
        d = (Decimal(2) ** (Decimal(g.numerator) / Decimal(g.denominator))) * (Decimal(2) ** n)
    p = float(d)  # Decimal -> float is correctly rounded
    exact = Fraction(d)
    side = math.nextafter(p, math.inf if exact > Fraction(p) else -math.inf)
    mid = (Fraction(p) + Fraction(side)) / 2
    if abs(exact - mid) <= exact * Fraction(1, 10 ** 60):
        raise ArithmeticError(f"2^{y!r} too close to a double midpoint for {_PREC} digits")
    return p


def period_libopus(f: float, pow_fn: Callable[[float, float], float] = lambda b, e: pow2_correct(e)) -> int | None:
    """libopus's period of a pitch feature, every double operation as C does it (IEEE, nearest), with ``pow_fn``
    for pow; None where libopus converts NaN or an out-of-range double to int (undefined in C)."""
    y = (1. / 60.) * ((f + 1.5) * 60)
    try:
        r = .5 + 256. / pow_fn(2.0, y)
    except ZeroDivisionError:
        return None
    if r != r or not -2.0 ** 31 <= math.floor(r) < 2.0 ** 31:
        return None
    return math.floor(r)


def reference_period(bits: int, pow_fn=None) -> int:
    """The reference's period of a float32 pitch feature: libopus's, held within PERIOD_MIN..PERIOD_MAX (a NaN or
    a period past int's range counts as the largest)."""
    p = period_libopus(f32(bits)) if pow_fn is None else period_libopus(f32(bits), pow_fn)
    return PERIOD_MAX if p is None else min(PERIOD_MAX, max(PERIOD_MIN, p))


def period_thresholds(pow_fn=None) -> list[int]:
    """For n = PERIOD_MIN .. PERIOD_MAX - 1: the smallest float32 (bits) whose libopus period is at most n (the
    period does not increase with the feature, so each is one binary search over the float32 order)."""
    lo_key, hi_key = key(bits32(-30.0)), key(bits32(10.0))  # periods past 2^31 (None) ... below 1
    out = []
    for n in range(PERIOD_MIN, PERIOD_MAX):
        lo, hi = lo_key, hi_key  # period(lo) > n >= period(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            p = reference_period(from_key(mid), pow_fn)
            lo, hi = (mid, hi) if p > n else (lo, mid)
        out.append(from_key(hi))
    return out


def glibc_pow(b: float, e: float) -> float:
    return math.pow(b, e)


def libm_exp_f32(bits: int) -> int:
    """``(float)exp((double)x)`` with this machine's libm (math.exp), NaN quieted, overflow to inf."""
    x = f32(bits)
    if x != x:
        return bits | 0x00400000
    try:
        y = math.exp(x)
    except OverflowError:
        return 0x7F800000
    return bits32(y) if y <= 3.4028235677973366e38 else 0x7F800000


# ------------------------------------------------------------------------------------------------ the C tables


def c_tables() -> str:
    """The tables of csrc/fargan_libm.c, as C."""
    t = exp2_table()
    l2e, ln2 = log2e_q127(), ln2_q64()
    lines = [f"#define LOG2E_HI 0x{l2e >> 64:016x}ull", f"#define LOG2E_LO 0x{l2e & ((1 << 64) - 1):016x}ull",
             f"#define LN2_Q64 0x{ln2:016x}ull", "static const uint64_t exp2_q63[64] = {"]
    lines += ["    " + ", ".join(f"0x{v:016x}ull" for v in t[i:i + 3]) + "," for i in range(0, 64, 3)]
    lines.append("};")
    th = period_thresholds()
    lines.append(f"static const uint32_t period_at_most[{len(th)}] = {{")
    lines += ["    " + ", ".join(f"0x{v:08x}u" for v in th[i:i + 6]) + "," for i in range(0, len(th), 6)]
    lines.append("};")
    return "\n".join(lines)


if __name__ == "__main__":
    print(c_tables())
