/* The float32 operations nnet.inc, rdovae.inc and fargan.inc are written in, as one of two macro sets:
   DC_NN_SOFT defined: nn_real is a float's bit pattern and every operation the integer
   soft-float (softfloat32.h); else nn_real is float and every operation the hardware's.
   Both round every operation separately to nearest even, with subnormals; each set names its
   functions with its own suffix (NN(name)) so both link into one module. */
#ifndef DREDCONF_NNET_ARITH_H
#define DREDCONF_NNET_ARITH_H

#include <stdint.h>
#include <string.h>
#include "softfloat32.h"
#include "nnet.h"

/* Constants, as float32 bit patterns: the single source of both sets' values. */
#define DC_F32_ZERO 0x00000000u
#define DC_F32_HALF 0x3f000000u
#define DC_F32_ONE 0x3f800000u
#define DC_F32_MINUS_ONE 0xbf800000u
#define DC_F32_127 0x42fe0000u
#define DC_F32_256 0x43800000u
#define DC_F32_EIGHTH 0x3e000000u
/* libopus vec.h tanh_approx's coefficients as the C compiler rounds its literals */
#define DC_TANH_N0 0x446e21cbu   /* 952.52801514f */
#define DC_TANH_N1 0x42c0c8e3u   /* 96.39235687f */
#define DC_TANH_N2 0x3f1bcf34u   /* 0.60863042f */
#define DC_TANH_D0 0x446e2e56u   /* 952.72399902f */
#define DC_TANH_D1 0x43ceaf1bu   /* 413.36801147f */
#define DC_TANH_D2 0x413e2d18u   /* 11.88600922f */

/* tanh_approx's numerator and denominator, in any arithmetic (K turns a constant's bits into it). */
#define DC_TANH_NUM_DEN(MUL, ADD, K, x2, num, den) do {                                   \
        (num) = ADD(MUL(ADD(MUL(K(DC_TANH_N2), (x2)), K(DC_TANH_N1)), (x2)), K(DC_TANH_N0)); \
        (den) = ADD(MUL(ADD(MUL(K(DC_TANH_D2), (x2)), K(DC_TANH_D1)), (x2)), K(DC_TANH_D0)); \
    } while (0)

/* A float32 from its bits, as a constant expression the compiler folds. */
static inline float dc_f32_of(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t dc_f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* (int)floor(.5 + (double)t) for a float t, in float operations: i = trunc(t) and f = t - i are
   exact for |t| < 2^31, and floor(t + 1/2) = i + (f >= 1/2) - (f < -1/2); INT32_MIN past int32
   or for NaN, as x86's conversion gives (the soft-float's dc_sf_floor_half). */
static inline int32_t dc_f32_floor_half(float t)
{
    int32_t i;
    float f;
    if (!(t < 2147483648.f && t > -2147483648.f)) return INT32_MIN;
    i = (int32_t)t;
    f = t - (float)i;
    return i + (f >= .5f) - (f < -.5f);
}

#ifdef DC_NN_SOFT
typedef uint32_t nn_real;
#define NN(name) name##_soft
#define NN_K(c) (c)
#define NN_ADD(a, b) dc_sf_add(a, b)
#define NN_SUB(a, b) dc_sf_sub(a, b)
#define NN_MUL(a, b) dc_sf_mul(a, b)
#define NN_DIV(a, b) dc_sf_div(a, b)
#define NN_LT(a, b) dc_sf_lt(a, b)
#define NN_IS_ZERO(a) (((a) & DC_SF_ABS) == 0)
#define NN_FROM_INT(i) dc_sf_from_int(i)
#define NN_FLOOR_HALF(a) dc_sf_floor_half(a)
#define NN_TO_BITS(a) (a)
#define NN_FROM_BITS(b) (b)
/* a float of the model (or of the caller), read as its bits: no float value is ever formed */
static inline nn_real nn_load(const float *p) { uint32_t b; memcpy(&b, p, sizeof b); return b; }
static inline void nn_store(float *p, nn_real v) { memcpy(p, &v, sizeof v); }
#else
typedef float nn_real;
#define NN(name) name##_hw
#define NN_K(c) dc_f32_of(c)
#define NN_ADD(a, b) ((a) + (b))
#define NN_SUB(a, b) ((a) - (b))
#define NN_MUL(a, b) ((a) * (b))
#define NN_DIV(a, b) ((a) / (b))
#define NN_LT(a, b) ((a) < (b))
#define NN_IS_ZERO(a) ((a) == 0.f)
#define NN_FROM_INT(i) ((float)(i))
#define NN_FLOOR_HALF(a) dc_f32_floor_half(a)
#define NN_TO_BITS(a) dc_f32_bits(a)
#define NN_FROM_BITS(b) dc_f32_of(b)
static inline nn_real nn_load(const float *p) { return *p; }
/* a result handed out: NaNs as x86 makes them, whatever the platform */
static inline void nn_store(float *p, nn_real v) { uint32_t b = dc_nn_canonical(dc_f32_bits(v)); memcpy(p, &b, sizeof b); }
#endif

#endif
