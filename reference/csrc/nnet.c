/* The network kernels' arithmetic-independent parts (nnet.h): the layer check, the portable int8
   sums, the choice of hardware kernels, the floating-point environment, the self-check. */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "nnet.h"
#include "nnet_arith.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && !defined(DC_NN_NO_SIMD)
#define DC_NN_X86 1
#include <emmintrin.h>
extern const dc_nn_kernels dc_nn_kernels_sse2, dc_nn_kernels_avx2;   /* nnet_x86.c */
#else
#include <fenv.h>
#endif

/* ------------------------------------------------------------------ the layer check */

/* 1 if the float (read as bits) is finite. */
static int finite_at(const float *p, int32_t i)
{
    return (dc_f32_bits(p[i]) & 0x7f800000u) != 0x7f800000u;
}

/* First non-finite entry of n floats, or -1. */
static int32_t first_non_finite(const float *p, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++)
        if (!finite_at(p, i)) return i;
    return -1;
}

int32_t dc_sparse_blocks(const int32_t *idx, int32_t nb_idx, int32_t nin, int32_t nout, int32_t *bad)
{
    int32_t p = 0, blocks = 0, row;
    *bad = -1;
    if (!idx || nb_idx < 0 || nout % 8) return -1;
    for (row = 0; row < nout; row += 8) {
        int32_t count, b;
        *bad = p;
        if (p >= nb_idx) return -1;
        count = idx[p++];
        if (count < 0 || count > nb_idx - p) return -1;
        for (b = 0; b < count; b++, p++) {
            *bad = p;
            if (idx[p] < 0 || idx[p] > nin - 4 || (idx[p] & 3)) return -1;   /* libopus find_idx_check */
        }
        blocks += count;
    }
    *bad = p;
    if (p != nb_idx) return -1;
    *bad = -1;
    return blocks;
}

/* The int8 part: blocks, weights, and per row 128 * sum|w| < 2^24, the bound under which
   libopus's float accumulation of the int8 products is exact integer arithmetic. */
static int check_int8(const dc_linear *l, int32_t *bad_row, int32_t *row_bound)
{
    const int32_t nin = l->nb_inputs, nout = l->nb_outputs;
    const int32_t *idx = l->weights_idx;
    int32_t blocks, bad, row, p = 0, b = 0;
    if (nout % 8 || nin % 4) return DC_NN_BAD_LAYOUT;
    if (idx) {
        blocks = dc_sparse_blocks(idx, l->nb_idx, nin, nout, &bad);
        if (blocks < 0) return DC_NN_BAD_INDEX;
    } else blocks = nout / 8 * (nin / 4);
    if (l->nb_weights != 32 * (int64_t)blocks) return DC_NN_BAD_WEIGHTS;
    for (row = 0; row < nout; row += 8) {
        int64_t sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int32_t count = idx ? idx[p++] : nin / 4, c, k;
        p += idx ? count : 0;
        for (c = 0; c < count; c++, b++)
            for (k = 0; k < 32; k++) {
                int w = l->weights[32 * (int64_t)b + k];
                sum[k >> 2] += w < 0 ? -w : w;
            }
        for (k = 0; k < 8; k++) {
            if (128 * sum[k] >= ((int64_t)1 << 24)) {
                *bad_row = row + k;
                return DC_NN_BAD_RANGE;
            }
            if (128 * sum[k] > *row_bound) *row_bound = (int32_t)(128 * sum[k]);
        }
    }
    if ((bad = first_non_finite(l->scale, nout)) >= 0) {
        *bad_row = bad;
        return DC_NN_BAD_RANGE;
    }
    return 0;
}

int dc_linear_check(const dc_linear *l, int32_t nin, int32_t nout, int32_t *bad_row, int32_t *row_bound)
{
    int32_t bad, bound = 0;
    int reason = 0;
    *bad_row = -1;
    if (row_bound) *row_bound = 0;
    if (!l) return DC_NN_BAD_POINTER;
    if (l->nb_inputs != nin || l->nb_outputs != nout || nin < 1 || nout < 1 || nin > DC_NN_MAX_INPUTS
        || nout > DC_NN_MAX_OUTPUTS)
        return DC_NN_BAD_DIMS;
    if (l->bias && l->nb_bias != nout) return DC_NN_BAD_SIZE;
    if (l->bias && (bad = first_non_finite(l->bias, nout)) >= 0) {
        *bad_row = bad;
        return DC_NN_BAD_RANGE;
    }
    if (l->float_weights) {                   /* libopus uses these when given, int8 weights or not */
        if (l->weights_idx) return DC_NN_BAD_LAYOUT;          /* sparse float weights: not supported */
        if (l->nb_float_weights != nin * nout) return DC_NN_BAD_WEIGHTS;
        if ((bad = first_non_finite(l->float_weights, nin * nout)) >= 0) {
            *bad_row = bad % nout;
            return DC_NN_BAD_RANGE;
        }
        return 0;
    }
    if (!l->weights || !l->scale) return DC_NN_BAD_POINTER;
    if (l->nb_scale != nout) return DC_NN_BAD_SIZE;
    reason = check_int8(l, bad_row, &bound);
    if (row_bound) *row_bound = bound;
    return reason;
}

/* ------------------------------------------------------------------ the portable int8 sums */

/* One block's products added into the 8 sums y. */
static inline void int8_block(const int8_t *p, const int16_t *x8, int pos, int32_t *y)
{
    const int32_t x0 = x8[pos], x1 = x8[pos + 1], x2 = x8[pos + 2], x3 = x8[pos + 3];
    int k;
    for (k = 0; k < 8; k++) y[k] += p[4 * k] * x0 + p[4 * k + 1] * x1 + p[4 * k + 2] * x2 + p[4 * k + 3] * x3;
}

void dc_int8_sums(const dc_linear *l, const int16_t *x8, int32_t *sums)
{
    const int8_t *p = l->weights;
    const int32_t *idx = l->weights_idx;
    int i, b, k, blocks;
    for (i = 0; i < l->nb_outputs; i += 8) {
        for (k = 0; k < 8; k++) sums[i + k] = 0;
        if (idx)   /* sparse: the positions listed; dense: every 4 inputs */
            for (b = 0, blocks = *idx++; b < blocks; b++, p += 32) int8_block(p, x8, *idx++, &sums[i]);
        else
            for (b = 0; b < l->nb_inputs / 4; b++, p += 32) int8_block(p, x8, 4 * b, &sums[i]);
    }
}

/* ------------------------------------------------------------------ hardware kernels and environment */

static const dc_nn_kernels *level_kernels(int level)
{
#ifdef DC_NN_X86
    if (level == DC_SIMD_AVX2) return &dc_nn_kernels_avx2;
    if (level == DC_SIMD_SSE2) return &dc_nn_kernels_sse2;
#endif
    (void)level;
    return &dc_nn_scalar_kernels;
}

/* The highest level this build and CPU have, before the self-check. */
static int cpu_level(void)
{
#ifdef DC_NN_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? DC_SIMD_AVX2 : DC_SIMD_SSE2;
#else
    return DC_SIMD_NONE;
#endif
}

const dc_nn_kernels *dc_nn_hw = &dc_nn_scalar_kernels;
static int32_t selected = DC_SIMD_NONE, chosen = 0;

int dc_nn_fp_enter(dc_fpenv *e)
{
#ifdef DC_NN_X86
    e->csr = _mm_getcsr();
    _mm_setcsr(0x1f80);   /* round to nearest, no flush-to-zero, no denormals-are-zero, all exceptions masked */
    return 1;
#else
    volatile float tiny = 1.17549435e-38f, half = .5f, sub = 1.40129846e-45f, two = 2.f;   /* 2^-126, 2^-149 */
    e->csr = 0;
    return fegetround() == FE_TONEAREST && dc_f32_bits(tiny * half) == 0x00400000u   /* no flush to zero */
           && dc_f32_bits(sub * two) == 0x00000002u;                                  /* no denormals-are-zero */
#endif
}

void dc_nn_fp_leave(const dc_fpenv *e)
{
#ifdef DC_NN_X86
    _mm_setcsr(e->csr);
#else
    (void)e;
#endif
}

/* ------------------------------------------------------------------ the self-check */

/* FNV-1a over n 32-bit words, low byte first whatever the byte order: the digest of the
   soft-float's battery results. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, b + 4 * i, sizeof w);
        for (k = 0; k < 32; k += 8) h = (h ^ ((w >> k) & 0xffu)) * 0x100000001b3ull;
    }
    return h;
}

/* The soft-float's results on the battery, on x86-64 (any platform must get them). */
#define SOFTFLOAT_DIGEST 0x0795265719702c4cull

#define EDGES 64
#define RANDOM 1024
#define BATTERY (EDGES * EDGES + RANDOM)

/* Values of every kind: zeros, subnormals, ties, around 1, 127 and 2^24, 2^31, huge, infinities, x86's NaN. */
static const uint32_t edge_bits[EDGES] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x003fffff, 0x00400000,
    0x00400001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x00800001, 0x00ffffff, 0x01000000,
    0x0b000000, 0x33800000, 0x34000000, 0x3f000000, 0x3f7fffff, 0x3f800000, 0xbf800000, 0x3f800001,
    0x3f800002, 0x3fc00000, 0x3fffffff, 0x40000000, 0x40400000, 0x42fe0000, 0x43800000, 0x4b000000,
    0x4b000001, 0x4b7fffff, 0x4b800000, 0x4effffff, 0x4f000000, 0xcf000000, 0x4f000001, 0x5f000000,
    0x7e800000, 0x7effffff, 0x7f000000, 0x7f7ffffe, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
    0xffc00000, 0x3eaaaaab, 0x3dcccccd, 0xbe4ccccd, 0x4c000001, 0x3f800800, 0x3f000001, 0xbf000001,
    0x3c010204, 0x40a6a7f0, 0xc0a6a7f0, 0x4f3504f3, 0x2b800000, 0x4a000000, 0x3e800000, 0x3bfe03f8,
};

/* xorshift64*: the battery's other values, the same on every platform. */
static uint32_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

/* A float of some kind: near 1, tiny or subnormal, huge, or any pattern but a NaN other than x86's. */
static uint32_t random_float(uint64_t *s)
{
    uint32_t r = next_random(s), kind = r % 5, exp[4] = {110 + r % 30, r % 4, 240 + r % 15, 100 + r % 60};
    uint32_t v = next_random(s);
    if (kind < 4) return (v & 0x807fffffu) | (exp[kind] << 23);
    return (v & 0x7fffffffu) > 0x7f800000u ? 0xffc00000u : v;
}

static float as_float(uint32_t b) { return dc_f32_of(b); }

/* The battery: all pairs of edge values, then random pairs. */
static void battery(float *a, float *b)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int i;
    for (i = 0; i < EDGES * EDGES; i++) {
        a[i] = as_float(edge_bits[i / EDGES]);
        b[i] = as_float(edge_bits[i % EDGES]);
    }
    for (; i < BATTERY; i++) {
        a[i] = as_float(random_float(&s));
        b[i] = as_float(random_float(&s));
    }
}

/* Synthetic layers on the battery's values: a float layer with odd sizes (every kernel's tail)
   and finite weights, a dense and a sparse int8 layer within the 2^24 bound. */
#define F_IN 37
#define F_OUT 21
#define Q_IN 40
#define Q_OUT 32
#define Q_IDX 18
typedef struct {
    float fw[F_IN * F_OUT], fbias[F_OUT], qscale[Q_OUT], qbias[Q_OUT];
    int8_t qw[Q_IN * Q_OUT];
    int32_t idx[Q_IDX];
    dc_linear flayer, dense, sparse;
} test_layers;

static float finite_or_one(float x) { return (dc_f32_bits(x) & 0x7f800000u) == 0x7f800000u ? 1.f : x; }

static void make_layers(test_layers *t, const float *v)
{
    /* per 8 outputs: 2 blocks; all 10; none; a block twice */
    static const int32_t idx[Q_IDX] = {2, 8, 36, 10, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 0, 2, 4, 4};
    uint64_t s = 12345;
    int i;
    for (i = 0; i < F_IN * F_OUT; i++) t->fw[i] = finite_or_one(v[i]);
    for (i = 0; i < F_OUT; i++) t->fbias[i] = finite_or_one(v[1000 + i]);
    for (i = 0; i < Q_OUT; i++) {
        t->qscale[i] = finite_or_one(v[2000 + i]);
        t->qbias[i] = finite_or_one(v[3000 + i]);
    }
    for (i = 0; i < Q_IN * Q_OUT; i++) t->qw[i] = (int8_t)(next_random(&s) & 0xff);
    memcpy(t->idx, idx, sizeof idx);
    memset(&t->flayer, 0, sizeof(dc_linear) * 3);
    t->flayer.float_weights = t->fw;
    t->flayer.nb_float_weights = F_IN * F_OUT;
    t->flayer.bias = t->fbias;
    t->flayer.nb_bias = F_OUT;
    t->flayer.nb_inputs = F_IN;
    t->flayer.nb_outputs = F_OUT;
    t->dense.weights = t->qw;
    t->dense.nb_weights = Q_IN * Q_OUT;
    t->dense.scale = t->qscale;
    t->dense.nb_scale = Q_OUT;
    t->dense.bias = t->qbias;
    t->dense.nb_bias = Q_OUT;
    t->dense.nb_inputs = Q_IN;
    t->dense.nb_outputs = Q_OUT;
    t->sparse = t->dense;
    t->sparse.bias = 0;
    t->sparse.weights_idx = t->idx;
    t->sparse.nb_idx = Q_IDX;
    t->sparse.nb_weights = 32 * (2 + 10 + 0 + 2);
}

/* Runs every kernel of one arithmetic (k: hardware level, or NULL for the soft-float) on the
   battery into out (floats) and q (int8); returns the count of floats written. */
static int run_kernels(const dc_nn_kernels *k, const test_layers *t, const float *a, float *out, int8_t *q)
{
    void (*apply)(const dc_nn_kernels *, int, const dc_linear *, const float *, int, float *, int8_t *) =
        k ? dc_nn_apply_hw : dc_nn_apply_soft;
    int i, n = 0;
    for (i = 0; i + DC_NN_MAX_INPUTS <= BATTERY; i += DC_NN_MAX_INPUTS) {
        apply(k, DC_NN_APPLY_TANH, 0, &a[i], DC_NN_MAX_INPUTS, &out[n], 0);
        n += DC_NN_MAX_INPUTS;
        apply(k, DC_NN_APPLY_SIGMOID, 0, &a[i], DC_NN_MAX_INPUTS, &out[n], 0);
        n += DC_NN_MAX_INPUTS;
        apply(k, DC_NN_APPLY_QUANTIZE, 0, &a[i], DC_NN_MAX_INPUTS, 0, &q[i]);
    }
    for (i = 0; i + Q_IN <= BATTERY; i += 97) {
        apply(k, DC_NN_APPLY_LINEAR, &t->flayer, &a[i], F_IN, &out[n], 0);
        apply(k, DC_NN_APPLY_LINEAR, &t->dense, &a[i], Q_IN, &out[n + F_OUT], 0);
        apply(k, DC_NN_APPLY_LINEAR, &t->sparse, &a[i], Q_IN, &out[n + F_OUT + Q_OUT], 0);
        n += F_OUT + 2 * Q_OUT;
    }
    return n;
}

#define KERNEL_OUT (2 * BATTERY + (BATTERY / 97 + 1) * (F_OUT + 2 * Q_OUT))

typedef struct {
    float a[BATTERY], b[BATTERY], ops[5 * BATTERY], kout[KERNEL_OUT];
    int32_t iops[2 * BATTERY];
    int8_t q[BATTERY];
    test_layers layers;
} check_data;

static int32_t selfcheck_bits = -1;

/* The soft-float's battery results into d; returns their digest (*n: the kernel floats written). */
static uint64_t soft_battery(check_data *d, int *n)
{
    uint64_t digest = 0xcbf29ce484222325ull;
    int i;
    battery(d->a, d->b);
    make_layers(&d->layers, d->a);
    dc_nn_ops_soft(d->a, d->b, BATTERY, d->ops, d->iops);
    *n = run_kernels(0, &d->layers, d->a, d->kout, d->q);
    digest = fnv(digest, d->ops, 5 * BATTERY);
    digest = fnv(digest, d->iops, 2 * BATTERY);
    digest = fnv(digest, d->kout, (size_t)*n);
    for (i = 0; i < BATTERY; i++) digest = (digest ^ (uint8_t)d->q[i]) * 0x100000001b3ull;   /* the int8 results */
    return digest;
}

/* The hardware at every kernel level against the soft-float on the battery: DC_CHECK_* bits. */
static int32_t run_selfcheck(check_data *soft, check_data *hw)
{
    int32_t bits = 0, level, top = cpu_level();
    dc_fpenv env;
    int n;
    if (soft_battery(soft, &n) != SOFTFLOAT_DIGEST) bits |= DC_CHECK_SOFTFLOAT;
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
    bits |= DC_CHECK_EVAL_METHOD;   /* excess precision: the hardware's results are not binary32's */
#endif
    if (!dc_nn_fp_enter(&env)) return bits | DC_CHECK_SCALAR;
    memcpy(hw->a, soft->a, sizeof hw->a);
    memcpy(hw->b, soft->b, sizeof hw->b);
    make_layers(&hw->layers, hw->a);
    dc_nn_ops_hw(hw->a, hw->b, BATTERY, hw->ops, hw->iops);
    if (memcmp(hw->ops, soft->ops, sizeof hw->ops) || memcmp(hw->iops, soft->iops, sizeof hw->iops))
        bits |= DC_CHECK_SCALAR;
    for (level = DC_SIMD_NONE; level <= top; level++) {
        memset(hw->kout, 0, sizeof hw->kout);
        run_kernels(level_kernels(level), &hw->layers, hw->a, hw->kout, hw->q);
        if (memcmp(hw->kout, soft->kout, (size_t)n * sizeof(float)) || memcmp(hw->q, soft->q, sizeof hw->q))
            bits |= level == DC_SIMD_NONE ? DC_CHECK_SCALAR : level == DC_SIMD_SSE2 ? DC_CHECK_SSE2 : DC_CHECK_AVX2;
    }
    dc_nn_fp_leave(&env);
    return bits;
}

uint64_t dc_nn_softfloat_digest(void)
{
    check_data *d = malloc(sizeof *d);
    uint64_t digest = 0;
    int n;
    if (d) digest = soft_battery(d, &n);
    free(d);
    return digest;
}

int32_t dc_nn_selfcheck(void)
{
    if (selfcheck_bits < 0) {
        check_data *soft = malloc(sizeof *soft), *hw = malloc(sizeof *hw);
        selfcheck_bits = soft && hw ? run_selfcheck(soft, hw) : DC_CHECK_SCALAR;   /* no memory: trust nothing */
        free(soft);
        free(hw);
        if (!chosen) dc_nn_simd_select(-1);
    }
    return selfcheck_bits;
}

int32_t dc_nn_hw_exact(void)
{
    return (dc_nn_selfcheck() & (DC_CHECK_EVAL_METHOD | DC_CHECK_SCALAR | DC_CHECK_SOFTFLOAT)) == 0;
}

int32_t dc_nn_simd_available(void)
{
    int32_t bits = dc_nn_selfcheck(), level = cpu_level();
    if (level == DC_SIMD_AVX2 && (bits & DC_CHECK_AVX2)) level = DC_SIMD_SSE2;
    if (level == DC_SIMD_SSE2 && (bits & DC_CHECK_SSE2)) level = DC_SIMD_NONE;
    return level;
}

const dc_nn_kernels *dc_nn_level_kernels(int32_t level)
{
    return level >= DC_SIMD_NONE && level <= dc_nn_simd_available() ? level_kernels(level) : 0;
}

int32_t dc_nn_simd_select(int32_t level)
{
    int32_t top;
    chosen = 1;
    top = dc_nn_simd_available();
    selected = level < 0 || level > top ? top : level;
    dc_nn_hw = level_kernels(selected);
    return selected;
}

int32_t dc_nn_simd(void)
{
    dc_nn_selfcheck();
    return selected;
}

/* ------------------------------------------------------------------ test entry points */

/* Runs one kernel in an arithmetic, n values at a time within the kernels' limits. */
static void apply(int32_t arith, int what, const dc_linear *l, const float *x, int32_t n, float *y, int8_t *y8)
{
    dc_fpenv env;
    int32_t i, k;
    int hw = arith == DC_ARITH_EXACT && dc_nn_hw_exact() && dc_nn_fp_enter(&env);
    for (i = 0; i < n; i += k) {
        k = n - i < DC_NN_MAX_INPUTS ? n - i : DC_NN_MAX_INPUTS;
        if (hw) dc_nn_apply_hw(dc_nn_hw, what, l, &x[i], k, y ? &y[i] : 0, y8 ? &y8[i] : 0);
        else dc_nn_apply_soft(0, what, l, &x[i], k, y ? &y[i] : 0, y8 ? &y8[i] : 0);
    }
    if (hw) dc_nn_fp_leave(&env);
}

void dc_nn_tanh(int32_t arith, float *y, const float *x, int32_t n) { apply(arith, DC_NN_APPLY_TANH, 0, x, n, y, 0); }
void dc_nn_sigmoid(int32_t arith, float *y, const float *x, int32_t n) { apply(arith, DC_NN_APPLY_SIGMOID, 0, x, n, y, 0); }
void dc_nn_quantize(int32_t arith, int8_t *x8, const float *x, int32_t n) { apply(arith, DC_NN_APPLY_QUANTIZE, 0, x, n, 0, x8); }

void dc_nn_tanh_general(float *y, const float *x, int32_t n)
{
    apply(DC_ARITH_SOFTFLOAT, DC_NN_APPLY_TANH_GENERAL, 0, x, n, y, 0);
}

int dc_nn_linear(int32_t arith, const dc_linear *l, const float *in, float *out)
{
    int32_t row;
    if (!l || !in || !out) return -1;
    if (dc_linear_check(l, l->nb_inputs, l->nb_outputs, &row, 0)) return -1;
    apply(arith, DC_NN_APPLY_LINEAR, l, in, l->nb_inputs, out, 0);
    return 0;
}
