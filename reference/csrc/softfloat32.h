/* An exact IEEE-754 binary32 soft-float in integer arithmetic (C99, no float or double type).

   A float is its bit pattern in a uint32_t.  Every operation is correctly rounded to nearest,
   ties to even, with subnormal inputs and outputs handled exactly (nothing is flushed), as
   an x86-64 SSE build computes them with no FMA contraction and no excess precision:
     dc_sf_add / sub / mul / div      a+b, a-b, a*b, a/b
     dc_sf_from_int                   (float)i for an int32 i
     dc_sf_floor_half                 (int)floor(.5 + (double)a): libopus's int8 input quantisation
                                      adds .5 in double, which is exact for a float32 value, so
                                      the result is floor(a + 1/2) of the exact value; a NaN or a
                                      result outside int32 gives INT32_MIN, what x86's cvttsd2si
                                      ("integer indefinite") gives
     dc_sf_lt                         a < b (false when either is NaN; -0 == +0)
   Special values follow IEEE-754 and x86 SSE: overflow gives infinity, inf - inf, 0 * inf,
   0/0 and inf/inf give x86's default NaN 0xFFC00000, a NaN operand comes back quieted (the
   first NaN operand, as SSE returns it).  NaN payloads are not something libopus defines; the
   RDOVAE decoder never produces a NaN from a checked model and DRED integers of any size
   short of ~2^31 (see rdovae.h).

   The functions are static inline here (the decoder calls them in its inner loops); the
   dc_sf32_* entry points below are the same functions for tests (softfloat32.c). */
#ifndef DREDCONF_SOFTFLOAT32_H
#define DREDCONF_SOFTFLOAT32_H

#include <stdint.h>

/* cdef begin */
uint32_t dc_sf32_add(uint32_t a, uint32_t b);
uint32_t dc_sf32_sub(uint32_t a, uint32_t b);
uint32_t dc_sf32_mul(uint32_t a, uint32_t b);
uint32_t dc_sf32_div(uint32_t a, uint32_t b);
uint32_t dc_sf32_from_int(int32_t i);
int32_t dc_sf32_floor_half(uint32_t a);
int dc_sf32_lt(uint32_t a, uint32_t b);
/* cdef end */

#define DC_SF_SIGN 0x80000000u
#define DC_SF_ABS 0x7fffffffu
#define DC_SF_INF 0x7f800000u
#define DC_SF_QUIET 0x00400000u
#define DC_SF_DEFAULT_NAN 0xffc00000u

static inline int dc_sf_isnan(uint32_t a) { return (a & DC_SF_ABS) > DC_SF_INF; }

/* The NaN SSE returns when an operand is a NaN: the first NaN operand, quieted. */
static inline uint32_t dc_sf_nan2(uint32_t a, uint32_t b)
{
    return dc_sf_isnan(a) ? (a | DC_SF_QUIET) : (b | DC_SF_QUIET);
}

/* Index of the most significant set bit of x != 0. */
static inline int dc_sf_msb64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63 - __builtin_clzll(x);
#else
    int n = 0;
    if (x >> 32) { n += 32; x >>= 32; }
    if (x >> 16) { n += 16; x >>= 16; }
    if (x >> 8) { n += 8; x >>= 8; }
    if (x >> 4) { n += 4; x >>= 4; }
    if (x >> 2) { n += 2; x >>= 2; }
    if (x >> 1) n += 1;
    return n;
#endif
}

/* The float nearest (ties to even) to sig * 2^exp2, with the given sign bit; sig != 0.
   sig may carry a "sticky" lowest bit standing for a nonzero remainder below it, as long as
   that bit lies at least two places below the float's rounding position (the callers keep
   at least 16 spare bits): then the true value and sig round alike. */
static inline uint32_t dc_sf_round_pack(uint32_t sign, int32_t exp2, uint64_t sig)
{
    int32_t e = dc_sf_msb64(sig) + exp2;   /* the value is in [2^e, 2^(e+1)) */
    int32_t u = e - 23;                    /* its ulp: 2^u, or 2^-149 below the normal range */
    int32_t shift;
    uint64_t m;
    if (u < -149) u = -149;
    shift = u - exp2;
    if (shift <= 0) {
        m = sig << -shift;                 /* exact, m < 2^24 */
    } else {
        uint64_t rem, half;
        if (shift > 64) return sign;       /* below half the smallest subnormal: zero */
        if (shift == 64) {
            m = 0;
            rem = sig;
            half = (uint64_t)1 << 63;
        } else {
            m = sig >> shift;
            rem = sig & (((uint64_t)1 << shift) - 1);
            half = (uint64_t)1 << (shift - 1);
        }
        if (rem > half || (rem == half && (m & 1))) m++;
        if (m == ((uint64_t)1 << 24)) {    /* carried into the next binade */
            m >>= 1;
            u++;
        }
    }
    if (m >= ((uint64_t)1 << 23)) {
        int32_t be = u + 150;              /* m * 2^u = 1.f * 2^(be - 127) */
        if (be >= 255) return sign | DC_SF_INF;
        return sign | ((uint32_t)be << 23) | ((uint32_t)m & 0x7fffffu);
    }
    return sign | (uint32_t)m;             /* subnormal (u == -149) */
}

/* A finite nonzero float as m * 2^(e - 150): m < 2^24 and e >= 1 (e == 1 for subnormals). */
#define DC_SF_UNPACK(x, m, e) do { \
        (e) = (int32_t)(((x) >> 23) & 0xffu); \
        (m) = (x) & 0x7fffffu; \
        if ((e) == 0) (e) = 1; else (m) |= 0x800000u; \
    } while (0)

/* Both operands normal (biased exponent 1..254), the common case, in a shorter path. */
static inline int dc_sf_both_normal(uint32_t a, uint32_t b)
{
    return ((a >> 23) & 0xffu) - 1u < 254u && ((b >> 23) & 0xffu) - 1u < 254u;
}

/* Round m / 2^sh (2^(23+sh) <= m < 2^(24+sh), 1 <= sh <= 40) to nearest even and pack it with
   biased exponent be (1..254): the result's carry into the exponent is the usual integer add. */
static inline uint32_t dc_sf_pack_normal(uint32_t sign, int32_t be, uint64_t m, int sh)
{
    /* nearest, ties to even: add half - 1 plus the kept part's lowest bit, then truncate */
    uint64_t q = (m + ((uint64_t)1 << (sh - 1)) - 1 + ((m >> sh) & 1)) >> sh;
    return sign | (((uint32_t)(be - 1) << 23) + (uint32_t)q);   /* be 254 + carry: infinity */
}

static inline uint32_t dc_sf_add(uint32_t a, uint32_t b)
{
    uint32_t ma, mb, sa, sb, t;
    int32_t ea, eb, d, exp2;
    uint64_t x, y, sig;
    if (dc_sf_both_normal(a, b)) {
        /* |a| >= |b|; X = ma * 2^32 and Y = mb * 2^(32 - d) in units of 2^(ea - 182), Y exact
           for d <= 32, else with its lost bits ORed into bit 0 (a sticky bit: X +- Y and the
           true sum then lie strictly between the same two even numbers, and the rounding
           position is at least 2 bits up, 31 unless a subtraction cancels, which it can only
           do when d <= 1, where Y is exact).  Written without data-dependent branches in the
           common case (the operands' order and signs are unpredictable). */
        uint32_t swap = (uint32_t)0 - (uint32_t)((a & DC_SF_ABS) < (b & DC_SF_ABS));   /* all ones: swap */
        uint32_t hi = (a & ~swap) | (b & swap), lo = (b & ~swap) | (a & swap);
        uint64_t neg = (uint64_t)0 - (uint64_t)((a ^ b) >> 31);                       /* all ones: subtract */
        int32_t p, be;
        sa = hi & DC_SF_SIGN;
        ea = (int32_t)((hi >> 23) & 0xffu);
        d = ea - (int32_t)((lo >> 23) & 0xffu);
        if (d > 63) d = 63;                /* Y < 2^56: any d >= 56 leaves just the sticky bit */
        x = (uint64_t)((hi & 0x7fffffu) | 0x800000u) << 32;
        y = (uint64_t)((lo & 0x7fffffu) | 0x800000u) << 32;
        y = (y >> d) | ((y & (((uint64_t)1 << d) - 1)) != 0);
        sig = x + ((y ^ neg) - neg);       /* X + Y or X - Y (>= 0) */
        if (sig == 0) return 0;            /* exact cancellation: +0 */
        p = dc_sf_msb64(sig);              /* 31..56 */
        be = p + ea - 55;
        if ((uint32_t)(be - 1) < 254u) return dc_sf_pack_normal(sa, be, sig, p - 23);
        if (be > 254) return sa | DC_SF_INF;
        return dc_sf_round_pack(sa, ea - 182, sig);   /* a subnormal result */
    }
    if ((a & DC_SF_INF) == DC_SF_INF || (b & DC_SF_INF) == DC_SF_INF) {
        if (dc_sf_isnan(a) || dc_sf_isnan(b)) return dc_sf_nan2(a, b);
        if ((a & DC_SF_ABS) == DC_SF_INF && (b & DC_SF_ABS) == DC_SF_INF)
            return ((a ^ b) & DC_SF_SIGN) ? DC_SF_DEFAULT_NAN : a;
        return (a & DC_SF_ABS) == DC_SF_INF ? a : b;
    }
    if ((a & DC_SF_ABS) == 0) return (b & DC_SF_ABS) == 0 ? (a & b) : b;   /* -0 + -0 = -0, else +0 */
    if ((b & DC_SF_ABS) == 0) return a;
    if ((a & DC_SF_ABS) < (b & DC_SF_ABS)) { t = a; a = b; b = t; }        /* |a| >= |b| */
    sa = a & DC_SF_SIGN;
    sb = b & DC_SF_SIGN;
    DC_SF_UNPACK(a, ma, ea);
    DC_SF_UNPACK(b, mb, eb);
    d = ea - eb;
    if (d <= 38) {                         /* exact: ma << d < 2^62 */
        x = (uint64_t)ma << d;
        y = mb;
        exp2 = eb - 150;
    } else {                               /* b is below 2^-14 ulp of a: a sticky bit 3 places down */
        x = (uint64_t)ma << 3;
        y = 1;
        exp2 = ea - 153;
    }
    if (sa == sb) sig = x + y;
    else {
        sig = x - y;
        if (sig == 0) return 0;            /* exact cancellation: +0 */
    }
    return dc_sf_round_pack(sa, exp2, sig);
}

static inline uint32_t dc_sf_sub(uint32_t a, uint32_t b)
{
    if (dc_sf_isnan(a) || dc_sf_isnan(b)) return dc_sf_nan2(a, b);
    return dc_sf_add(a, b ^ DC_SF_SIGN);
}

static inline uint32_t dc_sf_mul(uint32_t a, uint32_t b)
{
    uint32_t sign = (a ^ b) & DC_SF_SIGN, ma, mb;
    int32_t ea, eb;
    if (dc_sf_both_normal(a, b)) {
        /* the product of the significands is in [2^46, 2^48) */
        uint64_t p = (uint64_t)((a & 0x7fffffu) | 0x800000u) * ((b & 0x7fffffu) | 0x800000u);
        int hi = (int)(p >> 47);
        int32_t be = (int32_t)((a >> 23) & 0xffu) + (int32_t)((b >> 23) & 0xffu) - 127 + hi;
        if (be >= 1 && be <= 254) return dc_sf_pack_normal(sign, be, p, 23 + hi);
        /* overflow or a subnormal result: the general path */
    }
    if ((a & DC_SF_INF) == DC_SF_INF || (b & DC_SF_INF) == DC_SF_INF) {
        if (dc_sf_isnan(a) || dc_sf_isnan(b)) return dc_sf_nan2(a, b);
        if ((a & DC_SF_ABS) == 0 || (b & DC_SF_ABS) == 0) return DC_SF_DEFAULT_NAN;   /* 0 * inf */
        return sign | DC_SF_INF;
    }
    if ((a & DC_SF_ABS) == 0 || (b & DC_SF_ABS) == 0) return sign;
    DC_SF_UNPACK(a, ma, ea);
    DC_SF_UNPACK(b, mb, eb);
    return dc_sf_round_pack(sign, ea + eb - 300, (uint64_t)ma * mb);
}

static inline uint32_t dc_sf_div(uint32_t a, uint32_t b)
{
    uint32_t sign = (a ^ b) & DC_SF_SIGN, ma, mb;
    int32_t ea, eb, s;
    uint64_t num, q, r;
    if ((a & DC_SF_INF) == DC_SF_INF || (b & DC_SF_INF) == DC_SF_INF) {
        if (dc_sf_isnan(a) || dc_sf_isnan(b)) return dc_sf_nan2(a, b);
        if ((a & DC_SF_ABS) == DC_SF_INF) return (b & DC_SF_ABS) == DC_SF_INF ? DC_SF_DEFAULT_NAN : (sign | DC_SF_INF);
        return sign;                                                       /* finite / inf */
    }
    if ((b & DC_SF_ABS) == 0) return (a & DC_SF_ABS) == 0 ? DC_SF_DEFAULT_NAN : (sign | DC_SF_INF);
    if ((a & DC_SF_ABS) == 0) return sign;
    DC_SF_UNPACK(a, ma, ea);
    DC_SF_UNPACK(b, mb, eb);
    s = 23 - dc_sf_msb64(ma);              /* normalise both to 2^23 <= m < 2^24 */
    ma <<= s;
    ea -= s;
    s = 23 - dc_sf_msb64(mb);
    mb <<= s;
    eb -= s;
    num = (uint64_t)ma << 40;              /* < 2^64 */
    q = num / mb;                          /* 2^39 < q < 2^41 */
    r = num - q * mb;
    /* a/b = (q + r/mb) * 2^(ea - eb - 40); the remainder becomes a sticky bit */
    return dc_sf_round_pack(sign, ea - eb - 41, (q << 1) | (r != 0));
}

static inline uint32_t dc_sf_from_int(int32_t i)
{
    uint64_t mag;
    if (i == 0) return 0;
    mag = i < 0 ? (uint64_t)(-(int64_t)i) : (uint64_t)i;
    return dc_sf_round_pack(i < 0 ? DC_SF_SIGN : 0, 0, mag);
}

/* (int)floor(.5 + (double)a).  For a float32 a with |a| < 2^31, .5 + a in double is exact
   unless |a| < 2^-29, and then both it and the exact a + 1/2 lie strictly between 0 and 1;
   so the result is floor(a + 1/2) of the exact value. */
static inline int32_t dc_sf_floor_half(uint32_t a)
{
    uint32_t m;
    int32_t e, s;
    int64_t n, v;
    if ((a & DC_SF_ABS) >= 0x4f000000u) return INT32_MIN;   /* |a| >= 2^31, inf, NaN */
    if ((a & DC_SF_ABS) == 0) return 0;
    DC_SF_UNPACK(a, m, e);
    n = (a & DC_SF_SIGN) ? -(int64_t)m : (int64_t)m;       /* a = n * 2^(e - 150) */
    if (e >= 150) return (int32_t)(n * ((int64_t)1 << (e - 150)));   /* an integer already */
    s = 150 - e;                                            /* 1..149 */
    if (s > 40) return 0;                                   /* |a| < 2^-16 */
    v = n + ((int64_t)1 << (s - 1));                        /* (a + 1/2) * 2^s, exact */
    /* floor(v / 2^s) without shifting a negative value */
    return (int32_t)(v >= 0 ? (v >> s) : -(((-(v + 1)) >> s) + 1));
}

static inline int dc_sf_lt(uint32_t a, uint32_t b)
{
    int64_t ka, kb;
    if (dc_sf_isnan(a) || dc_sf_isnan(b)) return 0;
    ka = (a & DC_SF_SIGN) ? -(int64_t)(a & DC_SF_ABS) : (int64_t)(a & DC_SF_ABS);   /* -0 and +0 -> 0 */
    kb = (b & DC_SF_SIGN) ? -(int64_t)(b & DC_SF_ABS) : (int64_t)(b & DC_SF_ABS);
    return ka < kb;
}

/* Unpacked positive normal floats, m * 2^e with 2^23 <= m < 2^24: a shorter form of the same
   operations for a chain of them whose every value is known to be a positive normal float
   (no special cases, no packing between steps); each operation is its exact integer result
   rounded to 24 bits, to nearest even, as dc_sf_* round it.  Used by the soft-float's
   tanh_approx where its input keeps every intermediate so (nnet.inc). */
typedef struct {
    uint64_t m;
    int32_t e;
} dc_upf;

/* s * 2^e with 2^(23+sh) <= s < 2^(24+sh), rounded to 24 bits */
static inline dc_upf dc_upf_round(uint64_t s, int32_t e, int sh)
{
    /* nearest, ties to even: add half - 1 plus the kept part's lowest bit, then truncate */
    uint64_t q = (s + ((uint64_t)1 << (sh - 1)) - 1 + ((s >> sh) & 1)) >> sh;
    int carry = (int)(q >> 24);    /* rounded up to 2^24: 2^23, one binade up */
    dc_upf r;
    r.m = q >> carry;
    r.e = e + sh + carry;
    return r;
}

static inline dc_upf dc_upf_mul(dc_upf a, dc_upf b)
{
    uint64_t p = a.m * b.m;        /* [2^46, 2^48) */
    int hi = (int)(p >> 47);
    return dc_upf_round(p, a.e + b.e, 23 + hi);
}

static inline dc_upf dc_upf_add(dc_upf a, dc_upf b)
{
    dc_upf t;
    int32_t d;
    uint64_t x, y, s;
    int hi;
    if (a.e < b.e) { t = a; a = b; b = t; }
    d = a.e - b.e;
    if (d > 63) d = 63;
    x = a.m << 32;
    y = b.m << 32;
    y = (y >> d) | ((y & (((uint64_t)1 << d) - 1)) != 0);   /* sticky, as in dc_sf_add */
    s = x + y;                     /* [2^55, 2^57) */
    hi = (int)(s >> 56);
    return dc_upf_round(s, a.e - 32, 32 + hi);
}

static inline dc_upf dc_upf_div(dc_upf a, dc_upf b)
{
    uint64_t num = a.m << 40, q = num / b.m, r = num - q * b.m;
    uint64_t s = (q << 1) | (r != 0);   /* [2^40, 2^42), remainder as a sticky bit */
    int hi = (int)(s >> 41);
    return dc_upf_round(s, a.e - b.e - 41, 17 + hi);
}

/* A positive normal float, unpacked. */
static inline dc_upf dc_upf_of(uint32_t f)
{
    dc_upf r;
    r.m = (f & 0x7fffffu) | 0x800000u;
    r.e = (int32_t)((f >> 23) & 0xffu) - 150;
    return r;
}

/* 1 if v >= 1. */
static inline int dc_upf_ge_one(dc_upf v) { return v.e >= -23; }

/* Packed again (v a normal float's value). */
static inline uint32_t dc_upf_pack(dc_upf v) { return ((uint32_t)(v.e + 150) << 23) | ((uint32_t)v.m & 0x7fffffu); }

#endif
