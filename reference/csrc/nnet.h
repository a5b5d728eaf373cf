/* The network kernels: libopus 1.6.1's generic-C DNN layers (dnn/nnet.c, dnn/nnet_arch.h,
   dnn/vec.h without intrinsics) with libopus's float32 results bit for bit, in two arithmetics:

     DC_ARITH_EXACT      hardware IEEE-754 binary32, every operation in libopus's order and
                         rounded separately (built with -ffp-contract=off, no fast-math, SSE not
                         x87); x86-64 runs SSE2 or, where the CPU has it, AVX2 kernels chosen at
                         run time, other platforms portable C.  Used only while the self-check
                         (dc_nn_selfcheck) finds the hardware equal to the soft-float; otherwise
                         the soft-float stands in, with the same bits.
     DC_ARITH_SOFTFLOAT  the same operations, each an integer soft-float (softfloat32.h): no
                         float arithmetic at all, the oracle of the tests.

   One source (nnet.inc) is compiled once per arithmetic (nnet_soft.c, nnet_hw.c), with the
   operations as macros (nnet_arith.h); the SIMD kernels (nnet_x86.c) are the hardware's
   vector forms of the scalar ones: the same operations per lane, lanes across outputs.

   What libopus computes, and so what these compute (x: float32 vector, each op one rounding):
     float weights (sgemv, any row count): y[i] = 0; y[i] = y[i] + w[j*nout + i]*x[j] for j in
       order; then y[i] = y[i] + bias[i].  An input of +-0 is skipped: its products are +-0,
       y[i] is never -0 (it starts at +0), so y[i] + (+-0) == y[i] (finite weights, checked).
     int8 weights (cgemv8x4 / sparse_cgemv8x4, generic build: signed inputs and `bias`):
       x8[j] = (int8)(int)floor(.5 + (double)(127.f*x[j])), the int's low byte;
       y[i] = (float)(sum of w*x8) * scale[i], then + bias[i].  libopus adds the int8 products
       in float, but every partial sum is an integer of magnitude at most 128 * sum|w| of the row
       (|x8| <= 128), and below 2^24 every integer is a float: the float sums are exact, and an
       int32 sum in any order is the same number.  dc_linear_check refuses a row with
       128 * sum|w| >= 2^24.  Any row of at most 1023 inputs meets it whatever its weights
       (1023 * 128 * 128 < 2^24); the kernels take at most 1024.  Measured maxima of the libopus
       1.6.1 models (docs/ARCHITECTURE.md has every layer): RDOVAE decoder 1,151,104 (dec_output,
       0.069 of 2^24), FARGAN 1,499,008 (sig_net_skip_dense, 688 inputs, 0.089 of 2^24).
     tanh_approx(x): X2 = x*x; num = (N2*X2 + N1)*X2 + N0; den = (D2*X2 + D1)*X2 + D0;
       t = (num*x)/den (a true division); t = 1 < t ? 1 : t; t = -1 > t ? -1 : t.
     sigmoid_approx(x) = .5f + .5f*tanh_approx(.5f*x)
     compute_generic_gru: zrh = in(x); rec = rec(state); zrh[i] += rec[i] (i < 2N);
       z, r = sigmoid; h = tanh(zrh_h + rec_h*r); state = z*state + (1 - z)*h
     compute_glu: out = in * sigmoid(layer(in));  compute_generic_conv1d: out = act(layer([mem,
       in])), mem = the newest nb_inputs - input_size inputs;  dense: act(layer(in)).
   Past |x| ~ 2.3e9 tanh_approx is inf/inf = NaN, as in libopus; the int8 quantisation of a NaN
   or of a value past int32 is 0 (x86 gives INT32_MIN, whose low byte libopus keeps).  NaNs
   leave the hardware kernels as x86's default NaN 0xFFC00000 (dc_nn_canonical), as the
   soft-float makes them.

   The self-check (nnet.c, once, at the first use): a battery of float32 operands (64 edge values:
   zeros, subnormals, ties, 2^24 and 2^31 neighbours, the largest floats, infinities, x86's NaN;
   all their pairs, and 1024 seeded random pairs of every kind) through every operation of the
   hardware arithmetic (add, sub, mul, div, int -> float, floor(.5 + x), <) and through every
   kernel of every level the CPU has (tanh, sigmoid, quantisation, a float layer with odd sizes,
   dense and sparse int8 layers), each compared bit for bit with the soft-float; and the FNV-1a
   digest of the soft-float's own results compared with the one recorded on x86-64 (a compiler
   that broke the soft-float is caught too).  A failing level is never chosen; a failing scalar
   arithmetic (or FLT_EVAL_METHOD != 0) makes DC_ARITH_EXACT run the soft-float.  Per model,
   dc_rdovae_check also decodes synthetic packets (small values, and values to the int32 limits)
   at every level and in the soft-float, and keeps the levels that agree.  Every hardware decode
   runs with the floating-point environment libopus's results assume (x86: MXCSR set to round
   to nearest, no flush-to-zero, no denormals-are-zero, then restored; elsewhere checked, the
   soft-float running if it is not so).

   Safety: dc_linear_check validates a layer before any kernel reads it (every array length,
   the sparse index, dimensions within the kernels' limits, finite floats, the 2^24 bound). */
#ifndef DREDCONF_NNET_H
#define DREDCONF_NNET_H

#include <stdint.h>

/* cdef begin */
#define DC_ARITH_EXACT 0
#define DC_ARITH_SOFTFLOAT 1

#define DC_ACT_LINEAR 0
#define DC_ACT_SIGMOID 1
#define DC_ACT_TANH 2

/* Hardware kernel levels (dc_nn_simd_select). */
#define DC_SIMD_NONE 0    /* portable C */
#define DC_SIMD_SSE2 1
#define DC_SIMD_AVX2 2

#define DC_NN_MAX_INPUTS 1024     /* nb_inputs of any layer */
#define DC_NN_MAX_OUTPUTS 1024    /* nb_outputs of any layer */

/* dc_linear_check's reasons */
#define DC_NN_BAD_DIMS 1       /* nb_inputs / nb_outputs not the ones asked for, or past the limits */
#define DC_NN_BAD_POINTER 2    /* a required array is NULL (or neither weight array is given) */
#define DC_NN_BAD_WEIGHTS 3    /* a weight array's length does not match the shape / sparse index */
#define DC_NN_BAD_INDEX 4      /* sparse index malformed or outside the inputs */
#define DC_NN_BAD_SIZE 5       /* bias / scale length not nb_outputs */
#define DC_NN_BAD_RANGE 6      /* a float not finite, or a row with 128 * sum|w| >= 2^24 */
#define DC_NN_BAD_LAYOUT 7     /* int8 weights whose shape is not in blocks of 8 outputs x 4 inputs */

/* dc_nn_selfcheck's failure bits (0: the hardware path is exact) */
#define DC_CHECK_EVAL_METHOD 1    /* compiled with FLT_EVAL_METHOD != 0 (x87): hardware not used */
#define DC_CHECK_SCALAR 2         /* portable-C hardware float differs from the soft-float */
#define DC_CHECK_SSE2 4           /* the SSE2 kernels differ */
#define DC_CHECK_AVX2 8           /* the AVX2 kernels differ */
#define DC_CHECK_SOFTFLOAT 16     /* the soft-float's own results are not the recorded ones */

/* libopus's LinearLayer, with the length of every array.  Exactly one of weights (int8, in
   libopus's blocks of 8 outputs x 4 inputs, w[32b + 4k + c] = output k, input pos + c; a dense
   layer lists every block) and float_weights (w[j * nb_outputs + i]) is used: float_weights
   when given, as libopus does.  bias may be NULL (no bias). */
typedef struct {
    const float *bias;
    int32_t nb_bias;
    const int8_t *weights;
    int32_t nb_weights;
    const float *float_weights;
    int32_t nb_float_weights;
    const int32_t *weights_idx;   /* sparse index, int8 weights only: per 8 outputs a count then positions */
    int32_t nb_idx;
    const float *scale;
    int32_t nb_scale;
    int32_t nb_inputs;
    int32_t nb_outputs;
} dc_linear;

/* 0 if l is a computable nin x nout layer, else a DC_NN_BAD_* reason with the row in *bad_row
   (-1 for the layer as a whole).  Per int8 row the largest 128 * sum|w| goes to *row_bound. */
int dc_linear_check(const dc_linear *l, int32_t nin, int32_t nout, int32_t *bad_row, int32_t *row_bound);
/* Blocks of a sparse index for nin x nout (libopus find_idx_check), or -1 with the bad element in *bad. */
int32_t dc_sparse_blocks(const int32_t *idx, int32_t nb_idx, int32_t nin, int32_t nout, int32_t *bad);

/* The self-check: 0 when the hardware arithmetic (every kernel level) gives the soft-float's
   bits on a battery of operations and kernels, else DC_CHECK_* bits.  Run once, then cached. */
int32_t dc_nn_selfcheck(void);
/* 1 while DC_ARITH_EXACT runs on the hardware (self-check passed, FP environment usable). */
int32_t dc_nn_hw_exact(void);
/* Highest hardware kernel level this build and CPU offer (and that passed the self-check). */
int32_t dc_nn_simd_available(void);
/* Selects min(level, available) (level < 0: the best) for DC_ARITH_EXACT; returns it. */
int32_t dc_nn_simd_select(int32_t level);
int32_t dc_nn_simd(void);

/* The FNV-1a digest of the soft-float's results on the self-check's battery (recorded in nnet.c). */
uint64_t dc_nn_softfloat_digest(void);

/* Kernels, for tests (arith DC_ARITH_*; the hardware at the selected level). */
void dc_nn_tanh(int32_t arith, float *y, const float *x, int32_t n);
void dc_nn_sigmoid(int32_t arith, float *y, const float *x, int32_t n);
void dc_nn_quantize(int32_t arith, int8_t *x8, const float *x, int32_t n);
/* The soft-float's general tanh form alone (its shortcut, nnet.inc, is tested against it). */
void dc_nn_tanh_general(float *y, const float *x, int32_t n);
/* One checked layer's linear part (bias added): in[nb_inputs] -> out[nb_outputs]. */
int dc_nn_linear(int32_t arith, const dc_linear *l, const float *in, float *out);
/* cdef end */

/* ---------------------------------------------------------------- internal */

/* The hardware kernels of one level: the scalar forms (nnet.inc) or SIMD (nnet_x86.c). */
typedef struct {
    void (*float_linear)(const dc_linear *l, const float *x, float *out);      /* sgemv + bias */
    void (*int8_linear)(const dc_linear *l, const int16_t *x8, float *out);   /* int8 sums * scale + bias */
    void (*int8_sums)(const dc_linear *l, const int16_t *x8, int32_t *sums);  /* the exact int32 sums alone */
    void (*tanh_vec)(float *y, const float *x, int n);                         /* y == x allowed */
    void (*sigmoid_vec)(float *y, const float *x, int n);
    void (*quantize_vec)(int16_t *x8, const float *x, int n);                  /* int8 values in int16 */
} dc_nn_kernels;

extern const dc_nn_kernels dc_nn_scalar_kernels;

/* The floating-point environment the hardware kernels need (round to nearest, subnormals kept):
   dc_nn_fp_enter sets it (x86) or checks it (elsewhere), 0 if the soft-float must run instead;
   dc_nn_fp_leave restores the caller's. */
typedef struct {
    unsigned int csr;
} dc_fpenv;
int dc_nn_fp_enter(dc_fpenv *e);
void dc_nn_fp_leave(const dc_fpenv *e);
extern const dc_nn_kernels *dc_nn_hw;             /* the selected level's */
/* The kernels of a level this build, CPU and self-check offer, or NULL. */
const dc_nn_kernels *dc_nn_level_kernels(int32_t level);

/* What dc_nn_apply_soft / _hw run (nnet.inc). */
#define DC_NN_APPLY_TANH 0
#define DC_NN_APPLY_SIGMOID 1
#define DC_NN_APPLY_QUANTIZE 2
#define DC_NN_APPLY_LINEAR 3
#define DC_NN_APPLY_TANH_GENERAL 4
void dc_nn_apply_soft(const dc_nn_kernels *k, int what, const dc_linear *l, const float *x, int n, float *y, int8_t *y8);
void dc_nn_apply_hw(const dc_nn_kernels *k, int what, const dc_linear *l, const float *x, int n, float *y, int8_t *y8);
/* The elementary operations of each arithmetic on n pairs, for the self-check (nnet.inc). */
void dc_nn_ops_soft(const float *a, const float *b, int n, float *out, int32_t *iout);
void dc_nn_ops_hw(const float *a, const float *b, int n, float *out, int32_t *iout);

/* An int8 layer's exact int32 sums, every output (portable C; the SIMD forms are in nnet_x86.c). */
void dc_int8_sums(const dc_linear *l, const int16_t *x8, int32_t *sums);

/* A float32 with x86's default NaN for any NaN (every NaN the kernels make is one on x86). */
static inline uint32_t dc_nn_canonical(uint32_t bits)
{
    return (bits & 0x7fffffffu) > 0x7f800000u ? 0xffc00000u : bits;
}

#endif
