/* Integer primitives of the fixed-point RDOVAE decoder (internal; rdovae.h documents the formats).

   Rules every function here keeps (C99, any conforming compiler, any optimisation level):
   no floating point; no signed overflow (each function states the input ranges that make
   its intermediate values fit, and dc_rdovae_model_check guarantees them); no right shift
   of a negative value (dc_rdovae_floor_shr handles signs arithmetically). */
#ifndef DREDCONF_RDOVAE_FIXED_H
#define DREDCONF_RDOVAE_FIXED_H

#include <stdint.h>
#include "rdovae.h"

#define DC_RDOVAE_ONE_Q30 ((int32_t)1 << 30)
/* Saturation of float-layer pre-activations (Q32): +-4096, where tanh_approx is 1 long since. */
#define DC_RDOVAE_PRE_SAT ((int64_t)1 << 44)

/* floor(v / 2^s), 0 <= s <= 62, any v. */
static inline int64_t dc_rdovae_floor_shr(int64_t v, int s)
{
    return v >= 0 ? (v >> s) : -(((-(v + 1)) >> s) + 1);
}

/* floor(v / 2^s + 1/2), 0 <= s <= 62, |v| < 2^62. */
static inline int64_t dc_rdovae_round_shr(int64_t v, int s)
{
    return s == 0 ? v : dc_rdovae_floor_shr(v + ((int64_t)1 << (s - 1)), s);
}

/* round(a * b / 2^30) for |a| < 2^62, |b| <= 2^30, without a 128-bit product:
   a = ah*2^30 + al with 0 <= al < 2^30, so a*b/2^30 = ah*b + al*b/2^30 and ah*b is exact. */
static inline int64_t dc_rdovae_mul_q30(int64_t a, int32_t b)
{
    int64_t ah = dc_rdovae_floor_shr(a, 30);
    int64_t al = a - ah * ((int64_t)1 << 30);
    return ah * b + dc_rdovae_round_shr(al * b, 30);
}

int32_t dc_rdovae_tanh(int64_t x_q32);
int32_t dc_rdovae_sigmoid(int64_t x_q32);
/* libopus's int8 input quantisation of an activation; the -127..127 result is held in int16
   (the kernel multiplies int16 by int16). */
int16_t dc_rdovae_quantize(int32_t x_q30);
void dc_rdovae_quantize_vec(int16_t *x8, const int32_t *x_q30, int n);

/* out[i] = scale[i] * sum_j w[i][j] * x8[j] + bias[i], Q32 (layer checked). */
void dc_rdovae_qlinear(const dc_rdovae_qlayer *layer, const int16_t *x8, int64_t *out_q32);
/* Pre-activations (Q32, saturated to +-DC_RDOVAE_PRE_SAT) of a float layer at a level. */
void dc_rdovae_flinear(const dc_rdovae_flayer *layer, const int32_t *q, int level, int64_t *out_q32);

#endif
