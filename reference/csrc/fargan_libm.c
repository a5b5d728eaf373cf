/* FARGAN's exp and pitch period in integer arithmetic (fargan_libm.h says what they compute). */
#include "fargan_libm.h"

/* ------------------------------------------------------------------ tables (reference/fargan_libm.py) */

#define LOG2E_HI 0xb8aa3b295c17f0bbull
#define LOG2E_LO 0xbe87fed0691d3e88ull
#define LN2_Q64 0xb17217f7d1cf79abull
static const uint64_t exp2_q63[64] = {
    0x8000000000000000ull, 0x8164d1f3bc030773ull, 0x82cd8698ac2ba1d7ull,
    0x843a28c3acde4046ull, 0x85aac367cc487b15ull, 0x871f61969e8d1010ull,
    0x88980e8092da8527ull, 0x8a14d575496efd9aull, 0x8b95c1e3ea8bd6e7ull,
    0x8d1adf5b7e5ba9e6ull, 0x8ea4398b45cd53c0ull, 0x9031dc431466b1dcull,
    0x91c3d373ab11c336ull, 0x935a2b2f13e6e92cull, 0x94f4efa8fef70961ull,
    0x96942d3720185a00ull, 0x9837f0518db8a96full, 0x99e0459320b7fa65ull,
    0x9b8d39b9d54e5539ull, 0x9d3ed9a72cffb751ull, 0x9ef5326091a111aeull,
    0xa0b0510fb9714fc2ull, 0xa27043030c496819ull, 0xa43515ae09e6809eull,
    0xa5fed6a9b15138eaull, 0xa7cd93b4e965356aull, 0xa9a15ab4ea7c0ef8ull,
    0xab7a39b5a93ed337ull, 0xad583eea42a14ac6ull, 0xaf3b78ad690a4375ull,
    0xb123f581d2ac2590ull, 0xb311c412a9112489ull, 0xb504f333f9de6484ull,
    0xb6fd91e328d17791ull, 0xb8fbaf4762fb9ee9ull, 0xbaff5ab2133e45fbull,
    0xbd08a39f580c36bfull, 0xbf1799b67a731083ull, 0xc12c4cca66709456ull,
    0xc346ccda24976407ull, 0xc5672a115506daddull, 0xc78d74c8abb9b15dull,
    0xc9b9bd866e2f27a3ull, 0xcbec14fef2727c5dull, 0xce248c151f8480e4ull,
    0xd06333daef2b2595ull, 0xd2a81d91f12ae45aull, 0xd4f35aabcfedfa1full,
    0xd744fccad69d6af4ull, 0xd99d15c278afd7b6ull, 0xdbfbb797daf23755ull,
    0xde60f4825e0e9124ull, 0xe0ccdeec2a94e111ull, 0xe33f8972be8a5a51ull,
    0xe5b906e77c8348a8ull, 0xe8396a503c4bdc68ull, 0xeac0c6e7dd24392full,
    0xed4f301ed9942b84ull, 0xefe4b99bdcdaf5cbull, 0xf281773c59ffb13aull,
    0xf5257d152486cc2cull, 0xf7d0df730ad13bb9ull, 0xfa83b2db722a033aull,
    0xfd3e0c0cf486c175ull,
};
static const uint32_t period_at_most[296] = {
    0x40bd47fdu, 0x40a5b2c4u, 0x40962a27u, 0x408a8ffau, 0x40814c57u, 0x40732bffu,
    0x4065f582u, 0x405a6703u, 0x405021f5u, 0x4046e446u, 0x403e7df6u, 0x4036cb10u,
    0x402fafedu, 0x402916d7u, 0x4022ee73u, 0x401d28a6u, 0x4017b9d4u, 0x40129851u,
    0x400dbbf9u, 0x40091ddfu, 0x4004b815u, 0x4000857bu, 0x3ff9033cu, 0x3ff15131u,
    0x3fe9edf8u, 0x3fe2d381u, 0x3fdbfc68u, 0x3fd563ddu, 0x3fcf058eu, 0x3fc8dd9au,
    0x3fc2e87eu, 0x3fbd230eu, 0x3fb78a64u, 0x3fb21bdfu, 0x3facd517u, 0x3fa7b3d5u,
    0x3fa2b612u, 0x3f9dd9f1u, 0x3f991db7u, 0x3f947fccu, 0x3f8ffeb6u, 0x3f8b9914u,
    0x3f874da1u, 0x3f831b2bu, 0x3f7e012cu, 0x3f75f9b1u, 0x3f6e1df2u, 0x3f666c1du,
    0x3f5ee27du, 0x3f577f74u, 0x3f504181u, 0x3f492735u, 0x3f422f39u, 0x3f3b5846u,
    0x3f34a12au, 0x3f2e08c1u, 0x3f278df7u, 0x3f212fc8u, 0x3f1aed3au, 0x3f14c561u,
    0x3f0eb75fu, 0x3f08c25du, 0x3f02e590u, 0x3efa406cu, 0x3eeee32fu, 0x3ee3b206u,
    0x3ed8aba1u, 0x3ecdcebeu, 0x3ec31a28u, 0x3eb88cbau, 0x3eae2559u, 0x3ea3e2f5u,
    0x3e99c48cu, 0x3e8fc925u, 0x3e85efd1u, 0x3e786f53u, 0x3e653fa5u, 0x3e524ef1u,
    0x3e3f9b9du, 0x3e2d2421u, 0x3e1ae702u, 0x3e08e2d5u, 0x3dee2c72u, 0x3dcaffb9u,
    0x3da83cf1u, 0x3d85e1a3u, 0x3d47d6dcu, 0x3d04b00bu, 0x3c8494c7u, 0x39219960u,
    0xbc809cf2u, 0xbd0089d8u, 0xbd401467u, 0xbd7ef1e9u, 0xbd9e9301u, 0xbdbd5a1du,
    0xbddbcffeu, 0xbdf9f64du, 0xbe0be753u, 0xbe1aad4bu, 0xbe294dd1u, 0xbe37c9a1u,
    0xbe462171u, 0xbe5455f3u, 0xbe6267d3u, 0xbe7057b7u, 0xbe7e2644u, 0xbe85ea0bu,
    0xbe8cb0e3u, 0xbe9367f6u, 0xbe9a0f8du, 0xbea0a7edu, 0xbea7315du, 0xbeadac1eu,
    0xbeb41873u, 0xbeba769bu, 0xbec0c6d4u, 0xbec7095au, 0xbecd3e6au, 0xbed3663bu,
    0xbed98106u, 0xbedf8f02u, 0xbee59063u, 0xbeeb855fu, 0xbef16e28u, 0xbef74aefu,
    0xbefd1be4u, 0xbf01709cu, 0xbf044d8cu, 0xbf0724d8u, 0xbf09f698u, 0xbf0cc2dfu,
    0xbf0f89c4u, 0xbf124b5bu, 0xbf1507b8u, 0xbf17beeeu, 0xbf1a7111u, 0xbf1d1e34u,
    0xbf1fc66au, 0xbf2269c3u, 0xbf250852u, 0xbf27a228u, 0xbf2a3757u, 0xbf2cc7edu,
    0xbf2f53fdu, 0xbf31db95u, 0xbf345ec6u, 0xbf36dd9eu, 0xbf39582cu, 0xbf3bce7fu,
    0xbf3e40a6u, 0xbf40aeaeu, 0xbf4318a5u, 0xbf457e99u, 0xbf47e097u, 0xbf4a3eacu,
    0xbf4c98e5u, 0xbf4eef4eu, 0xbf5141f3u, 0xbf5390e2u, 0xbf55dc24u, 0xbf5823c6u,
    0xbf5a67d4u, 0xbf5ca858u, 0xbf5ee55eu, 0xbf611ef0u, 0xbf635519u, 0xbf6587e4u,
    0xbf67b759u, 0xbf69e385u, 0xbf6c0c6fu, 0xbf6e3223u, 0xbf7054a9u, 0xbf72740bu,
    0xbf749053u, 0xbf76a988u, 0xbf78bfb4u, 0xbf7ad2e1u, 0xbf7ce315u, 0xbf7ef05au,
    0xbf807d5cu, 0xbf81811cu, 0xbf828370u, 0xbf83845du, 0xbf8483e7u, 0xbf858211u,
    0xbf867edeu, 0xbf877a54u, 0xbf887475u, 0xbf896d45u, 0xbf8a64c7u, 0xbf8b5b00u,
    0xbf8c4ff2u, 0xbf8d43a0u, 0xbf8e360fu, 0xbf8f2741u, 0xbf90173au, 0xbf9105fcu,
    0xbf91f38bu, 0xbf92dfeau, 0xbf93cb1du, 0xbf94b525u, 0xbf959e05u, 0xbf9685c2u,
    0xbf976c5du, 0xbf9851dau, 0xbf99363bu, 0xbf9a1983u, 0xbf9afbb4u, 0xbf9bdcd2u,
    0xbf9cbcdeu, 0xbf9d9bdcu, 0xbf9e79ceu, 0xbf9f56b7u, 0xbfa03298u, 0xbfa10d75u,
    0xbfa1e74fu, 0xbfa2c02au, 0xbfa39808u, 0xbfa46eeau, 0xbfa544d3u, 0xbfa619c5u,
    0xbfa6edc3u, 0xbfa7c0cfu, 0xbfa892ebu, 0xbfa96419u, 0xbfaa345au, 0xbfab03b2u,
    0xbfabd222u, 0xbfac9fadu, 0xbfad6c53u, 0xbfae3818u, 0xbfaf02fdu, 0xbfafcd04u,
    0xbfb0962fu, 0xbfb15e7fu, 0xbfb225f7u, 0xbfb2ec99u, 0xbfb3b266u, 0xbfb47760u,
    0xbfb53b89u, 0xbfb5fee2u, 0xbfb6c16du, 0xbfb7832cu, 0xbfb84421u, 0xbfb9044du,
    0xbfb9c3b2u, 0xbfba8251u, 0xbfbb402du, 0xbfbbfd46u, 0xbfbcb99eu, 0xbfbd7536u,
    0xbfbe3011u, 0xbfbeea30u, 0xbfbfa393u, 0xbfc05c3eu, 0xbfc11430u, 0xbfc1cb6cu,
    0xbfc281f2u, 0xbfc337c5u, 0xbfc3ece6u, 0xbfc4a156u, 0xbfc55516u, 0xbfc60828u,
    0xbfc6ba8cu, 0xbfc76c45u, 0xbfc81d54u, 0xbfc8cdbau, 0xbfc97d77u, 0xbfca2c8eu,
    0xbfcadb00u, 0xbfcb88cdu, 0xbfcc35f8u, 0xbfcce280u, 0xbfcd8e68u, 0xbfce39b1u,
    0xbfcee45bu, 0xbfcf8e69u, 0xbfd037dau, 0xbfd0e0b0u, 0xbfd188ecu, 0xbfd23090u,
    0xbfd2d79cu, 0xbfd37e11u, 0xbfd423f1u, 0xbfd4c93du, 0xbfd56df5u, 0xbfd6121au,
    0xbfd6b5aeu, 0xbfd758b2u, 0xbfd7fb27u, 0xbfd89d0du, 0xbfd93e65u, 0xbfd9df31u,
    0xbfda7f71u, 0xbfdb1f27u,
};

#define NB_THRESHOLDS ((int)(sizeof period_at_most / sizeof period_at_most[0]))

/* ------------------------------------------------------------------ exp */

/* a * b = hi * 2^64 + lo, in 32-bit halves (no 128-bit type needed). */
static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    const uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static uint64_t mulhi(uint64_t a, uint64_t b)
{
    uint64_t hi, lo;
    mul64(a, b, &hi, &lo);
    return hi;
}

/* t = x log2(e) for 2^-26 <= |x| < 128: floor(t) in *k and frac(t) * 2^64 in the result, within one unit
   below the true fraction (x = m 2^(e-150) is X 2^-49 with X an integer below 2^56). */
static uint64_t log2e_times(uint32_t x, int32_t *k)
{
    const uint32_t ax = x & 0x7fffffffu;
    const uint64_t X = (uint64_t)((ax & 0x7fffffu) | 0x800000u) << ((ax >> 23) - 101);
    uint64_t h1, l1, h2, l2, w1, w2, frac;
    int32_t whole;
    mul64(X, LOG2E_HI, &h1, &l1);   /* X * LOG2E = (h1:l1) 2^64 + (h2:l2): |t| = that * 2^-176 */
    mul64(X, LOG2E_LO, &h2, &l2);
    w1 = l1 + h2;
    w2 = h1 + (w1 < h2);
    whole = (int32_t)(w2 >> 48);
    frac = (w2 << 16) | (w1 >> 48);
    if (!(x >> 31)) {
        *k = whole;
        return frac;
    }
    *k = -whole - (frac != 0);      /* -(whole + frac) = (-whole - 1) + (1 - frac) */
    return (uint64_t)0 - frac;
}

/* 2^(f/2^64) * 2^63 for 0 <= f < 2^64, in [2^63, 2^64], within 12 units: 2^(j/64) from the table times
   2^r = e^u, u = r ln 2 < 2^-6 ln 2, by its Taylor series to u^8 (the rest is below 2^-67). */
static uint64_t exp2_frac(uint64_t f, int32_t *k)
{
    const uint64_t u = mulhi(f & (((uint64_t)1 << 58) - 1), LN2_Q64);   /* u * 2^64 */
    uint64_t s = (uint64_t)1 << 63, hi, lo;
    int n;
    for (n = 8; n >= 1; n--) s = ((uint64_t)1 << 63) + mulhi(u, s) / (uint64_t)n;   /* 1 + (u/n) s */
    mul64(exp2_q63[f >> 58], s, &hi, &lo);   /* 2^(j/64) e^u * 2^126 */
    if (hi >> 63) {                          /* rounding errors reached 2: one more power of two */
        *k += 1;
        return hi;
    }
    return (hi << 1) | (lo >> 63);
}

/* The float32 nearest to R 2^(k-63) (R in [2^63, 2^64)), and in *unproven whether R lies within the error
   bound of the rounding boundary. */
static uint32_t round_f32(uint64_t R, int32_t k, int32_t *unproven)
{
    const int shift = k >= -126 ? 40 : -86 - k;   /* bits below the float32's last one (subnormals keep fewer) */
    uint64_t kept, dropped, half;
    if (k > 127) return 0x7f800000u;
    if (shift > 64) return 0;                      /* below half the smallest subnormal */
    half = (uint64_t)1 << (shift - 1);
    kept = shift == 64 ? 0 : R >> shift;
    dropped = shift == 64 ? R : R & ((half << 1) - 1);
    *unproven = (dropped > half ? dropped - half : half - dropped) <= DC_FARGAN_EXP_ERROR;
    kept += dropped > half || (dropped == half && (kept & 1));   /* a carry may reach the exponent, or inf */
    if (k < -126) return (uint32_t)kept;
    return ((uint32_t)(k + 127) << 23) + (uint32_t)(kept - 0x800000u);
}

static uint32_t exp_f32(uint32_t x, int32_t *unproven)
{
    const uint32_t ax = x & 0x7fffffffu;
    int32_t k;
    uint64_t f;
    *unproven = 0;
    if (ax > 0x7f800000u) return x | 0x00400000u;      /* NaN, quieted (libm returns it) */
    if (ax < 0x32800000u) return 0x3f800000u;          /* |x| < 2^-26: within 2^-25 of 1, which is nearest */
    if (x >> 31 ? ax >= 0x42d00000u : ax >= 0x42b20000u)   /* x <= -104: +0 (also -inf); x >= 89: +inf */
        return x >> 31 ? 0 : 0x7f800000u;
    f = log2e_times(x, &k);
    return round_f32(exp2_frac(f, &k), k, unproven);
}

uint32_t dc_fargan_exp(uint32_t x)
{
    int32_t unproven;
    return exp_f32(x, &unproven);
}

int32_t dc_fargan_exp_unproven(uint32_t x)
{
    int32_t unproven;
    exp_f32(x, &unproven);
    return unproven;
}

/* ------------------------------------------------------------------ the pitch period */

/* A float32's place in numeric order (-0 and +0 alike). */
static int32_t order_key(uint32_t b)
{
    return b >> 31 ? -(int32_t)(b & 0x7fffffffu) : (int32_t)b;
}

int32_t dc_fargan_period(uint32_t f)
{
    const int32_t x = order_key(f);
    int lo = 0, hi = NB_THRESHOLDS;
    if ((f & 0x7fffffffu) > 0x7f800000u) return DC_FARGAN_PERIOD_MAX;   /* NaN: libopus's int of it is INT_MIN */
    while (lo < hi) {                          /* the first step f reaches: the period is at most MIN + it */
        const int mid = (lo + hi) / 2;
        if (x >= order_key(period_at_most[mid])) hi = mid;
        else lo = mid + 1;
    }
    return DC_FARGAN_PERIOD_MIN + lo;          /* lo == NB_THRESHOLDS: below every step, MAX */
}

uint64_t dc_fargan_libm_table(int32_t which, int32_t i)
{
    if (which == 0 && i >= 0 && i < 64) return exp2_q63[i];
    if (which == 1 && i >= 0 && i < NB_THRESHOLDS) return period_at_most[i];
    if (which == 2 && (i == 0 || i == 1)) return i == 0 ? LOG2E_HI : LOG2E_LO;
    if (which == 3 && i == 0) return LN2_Q64;
    return 0;
}
