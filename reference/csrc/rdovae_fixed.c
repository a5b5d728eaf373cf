/* Integer primitives of the fixed-point RDOVAE decoder: activations, libopus's int8 input
   quantisation, int8 and float-weight linear layers.  See rdovae.h for the number formats. */
#include "rdovae_fixed.h"

#include "sparse8x4.h"   /* the int8 kernel (SSE2 or portable C, same integers) */

/* ------------------------------------------------------------------ tanh_approx

   libopus dnn/vec.h tanh_approx: x (N0 + N1 x^2 + N2 x^4) / (D0 + D1 x^2 + D2 x^4),
   clamped to [-1, 1].  Its float32 coefficients are dyadic rationals; each is held
   EXACTLY below, in the Q format noted (value = integer / 2^Q):
     N0 = 952.52801514f = 15606219/2^14      N1 = 96.39235687f = 12634339/2^17
     N2 = 0.60863042f   = 2552781/2^22       D0 = 952.72399902f = 7804715/2^13
     D1 = 413.36801147f = 13545243/2^15      D2 = 11.88600922f = 1557923/2^17
   The function is odd, and above x = 5.2053 (the only positive real root of
   x*num - den) it exceeds 1, so it is 1 for every x >= 6. */
#define TANH_N0_Q24 UINT64_C(15980768256)
#define TANH_N1_Q22 UINT64_C(404298848)
#define TANH_N2_Q28 UINT64_C(163377984)
#define TANH_D0_Q24 UINT64_C(15984056320)
#define TANH_D1_Q20 UINT64_C(433447776)
#define TANH_D2_Q26 UINT64_C(797656576)
#define TANH_SAT 6

/* tanh_approx(a / 2^frac) in Q30 for a magnitude a >= 0, frac 32 or 33.
   Ranges (all unsigned, a < 6*2^frac): x30 < 2^32.6, x28 < 2^31, X2 (Q28) <= 36*2^28 < 2^33.2;
   N2*X2 < 2^60.5; P (Q22) < 118.4*2^22 < 2^28.9, P*X2 < 2^62.1; D2*X2 < 2^62.8;
   Q (Q20) < 841.4*2^20 < 2^29.8, Q*X2 < 2^62.9; num < 5212*2^24 < 2^36.4, den (Q24) < 2^39;
   num < den always (N0 < D0, N1 < D1, N2 < D2), so r = num/den < 1;
   nn = num (Q20) < 2^32.4, nn << 31 < 2^63.4; dn = den (Q20) >= 952*2^20;
   x30 * r31 < 6*2^30 * 2^31 < 2^63.6 < 2^64.
   Error against the exact rational function: x30 is rounded (2^-31), X2 rounded (2^-29)
   from x28 (2^-29), P, Q, num, den rounded at 2^-20..2^-24 on values >= 96 (relative
   < 6e-10), the quotient r at 2^-32 (times x <= 6), the result at 2^-31: in all
   |error| < 4e-9; tests/test_rdovae.py measures about 3.1e-9 (tanh) and 1.9e-9 (sigmoid). */
static int32_t tanh_mag(uint64_t a, int frac)
{
    uint64_t x30, x28, x2, p, num, q, den, nn, dn, r31, t;
    if (a >= ((uint64_t)TANH_SAT << frac)) return DC_RDOVAE_ONE_Q30;
    x30 = (a + ((uint64_t)1 << (frac - 31))) >> (frac - 30);
    x28 = (a + ((uint64_t)1 << (frac - 29))) >> (frac - 28);
    x2 = (x28 * x28 + ((uint64_t)1 << 27)) >> 28;                       /* Q28 */
    p = TANH_N1_Q22 + ((TANH_N2_Q28 * x2 + ((uint64_t)1 << 33)) >> 34);  /* Q22 */
    num = TANH_N0_Q24 + ((p * x2 + ((uint64_t)1 << 25)) >> 26);          /* Q24 */
    q = TANH_D1_Q20 + ((TANH_D2_Q26 * x2 + ((uint64_t)1 << 33)) >> 34);  /* Q20 */
    den = TANH_D0_Q24 + ((q * x2 + ((uint64_t)1 << 23)) >> 24);          /* Q24 */
    nn = (num + 8) >> 4;                                                 /* Q20 */
    dn = (den + 8) >> 4;                                                 /* Q20 */
    r31 = ((nn << 31) + (dn >> 1)) / dn;                                 /* num/den, Q31, <= 2^31 */
    t = (x30 * r31 + ((uint64_t)1 << 30)) >> 31;                         /* Q30 */
    return t >= (uint64_t)DC_RDOVAE_ONE_Q30 ? DC_RDOVAE_ONE_Q30 : (int32_t)t;
}

static uint64_t magnitude(int64_t x)
{
    /* |x| without negating INT64_MIN: -(x+1) is representable, then add 1 unsigned. */
    return x >= 0 ? (uint64_t)x : (uint64_t)(-(x + 1)) + 1u;
}

int32_t dc_rdovae_tanh(int64_t x_q32)
{
    int32_t t = tanh_mag(magnitude(x_q32), 32);
    return x_q32 < 0 ? -t : t;
}

/* libopus sigmoid_approx: 1/2 + tanh_approx(x/2)/2; x/2 is x_q32 read as Q33. */
int32_t dc_rdovae_sigmoid(int64_t x_q32)
{
    int32_t t = tanh_mag(magnitude(x_q32), 33);
    int64_t twice = x_q32 < 0 ? (int64_t)DC_RDOVAE_ONE_Q30 - t : (int64_t)DC_RDOVAE_ONE_Q30 + t;  /* 0..2^31 */
    return (int32_t)((twice + 1) >> 1);
}

/* ------------------------------------------------------------------ int8 input quantisation

   libopus (vec.h, generic cgemv8x4 / sparse_cgemv8x4): x8 = (int)floor(.5 + 127*x), where
   127*x is a float32 product, i.e. rounded to a 24-bit significand, ties to even.  Here
   v = 127*x in Q30 (|v| <= 127*2^30 < 2^37); the float32 rounding is applied to v before
   floor(v/2^30 + 1/2).  It can only matter when v is within half a float32 ulp (at most
   2^12 in Q30 units) of a rounding boundary, so the common case skips it. */
int16_t dc_rdovae_quantize(int32_t x_q30)
{
    const int64_t half = (int64_t)1 << 29;
    const int64_t unit = (int64_t)1 << 30;
    const int64_t guard = (int64_t)1 << 12;
    int64_t v = 127 * (int64_t)x_q30;
    int64_t r = (v + half) - dc_rdovae_floor_shr(v + half, 30) * unit;   /* (v + half) mod 2^30 */
    if (r <= guard || r >= unit - guard) {
        uint64_t u = magnitude(v);
        int len = 0;
        while (len < 63 && (u >> len) != 0) len++;
        if (len > 24) {
            int k = len - 24;                      /* float32 ulp of v, in Q30 units: 2^k */
            uint64_t qu = u >> k;
            uint64_t rem = u & (((uint64_t)1 << k) - 1);
            uint64_t mid = (uint64_t)1 << (k - 1);
            if (rem > mid || (rem == mid && (qu & 1))) qu++;
            u = qu << k;
            v = v < 0 ? -(int64_t)u : (int64_t)u;
        }
    }
    v = dc_rdovae_floor_shr(v + half, 30);
    /* |x| <= 1 gives -127..127; the clamp only keeps a bad input from wrapping */
    return (int16_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}

void dc_rdovae_quantize_vec(int16_t *x8, const int32_t *x_q30, int n)
{
    int i;
    for (i = 0; i < n; i++) x8[i] = dc_rdovae_quantize(x_q30[i]);
}

/* ------------------------------------------------------------------ linear layers */

/* Exact int32 dot products (|sum| <= 127*sum|w| < 2^31, checked), then the exact product
   with the row's scale mantissa (< 2^62, checked) rounded once to Q32, plus the bias.
   Block layout and kernel: sparse8x4.h (SSE2 or portable, the same integers). */
void dc_rdovae_qlinear(const dc_rdovae_qlayer *layer, const int16_t *x, int64_t *out_q32)
{
    int i, k, widx = 0, iidx = 0;
    for (i = 0; i < layer->nb_outputs; i += 8) {
        int32_t y[8];
        dc_sparse8x4_sums(layer->weights, layer->idx, x, y, &widx, &iidx);
        for (k = 0; k < 8; k++)
            out_q32[i + k] = dc_rdovae_round_shr((int64_t)y[k] * layer->scale_mant[i + k],
                                                 layer->scale_shift[i + k]) + layer->bias[i + k];
    }
}

int dc_rdovae_simd(void) { return dc_sparse8x4_simd(); }

/* sum_j V[l][i][j] * q[j] + bias[l][i], exact for any int32 q: q = qh*2^16 + ql with
   0 <= ql < 2^16, |qh| <= 2^15.  Checked: sum_j |V| < 2^44 and |bias| < 2^60 per row, so
   |acc_h| < 2^59, |acc_l + bias| < 2^61.  If |acc_h| >= 2^46 the total exceeds 2^61 in
   magnitude, i.e. at least 2^45 in Q32 after the shift (frac <= 48): saturated.  Otherwise
   the total fits in 2^63 and is rounded to Q32, then saturated at +-2^44. */
void dc_rdovae_flinear(const dc_rdovae_flayer *layer, const int32_t *q, int level, int64_t *out_q32)
{
    int32_t qh[DC_RDOVAE_STATE_DIM], ql[DC_RDOVAE_STATE_DIM];   /* the widest: 50 inputs (checked) */
    int nin = layer->nb_inputs, nout = layer->nb_outputs;
    const int64_t *w = &layer->w[(int64_t)level * nout * nin];
    const int64_t *bias = &layer->bias[(int64_t)level * nout];
    int shift = layer->frac - DC_RDOVAE_PRE_Q;
    int i, j;
    for (j = 0; j < nin; j++) {
        int64_t v = q[j];
        int64_t lo = v - dc_rdovae_floor_shr(v, 16) * 65536;      /* v mod 2^16, 0..65535 */
        ql[j] = (int32_t)lo;
        qh[j] = (int32_t)((v - lo) / 65536);                      /* exact: v - lo is a multiple */
    }
    for (i = 0; i < nout; i++) {
        const int64_t *row = &w[i * nin];
        int64_t acc_h = 0, acc_l = 0, total, y;
        for (j = 0; j < nin; j++) {
            acc_h += row[j] * qh[j];
            acc_l += row[j] * ql[j];
        }
        acc_l += bias[i];
        if (acc_h >= ((int64_t)1 << 46)) y = DC_RDOVAE_PRE_SAT;
        else if (acc_h <= -((int64_t)1 << 46)) y = -DC_RDOVAE_PRE_SAT;
        else {
            total = acc_h * 65536 + acc_l;
            y = dc_rdovae_round_shr(total, shift);
            if (y > DC_RDOVAE_PRE_SAT) y = DC_RDOVAE_PRE_SAT;
            if (y < -DC_RDOVAE_PRE_SAT) y = -DC_RDOVAE_PRE_SAT;
        }
        out_q32[i] = y;
    }
}
