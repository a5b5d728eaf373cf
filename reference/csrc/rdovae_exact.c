/* The exact RDOVAE decoder (libopus 1.6.1's generic-C float32 arithmetic, emulated in
   integers).  The operations and their order are documented in rdovae_exact.h. */
#include <string.h>
#include "rdovae_exact.h"
#include "softfloat32.h"

#include "sparse8x4.h"   /* the int8 kernel (SSE2 or portable C, same integers) */

#define CHECKED_MAGIC 0x52445845   /* "RDXE" */

/* float32 constants (bit patterns) */
#define F_HALF 0x3f000000u
#define F_ONE 0x3f800000u
#define F_MINUS_ONE 0xbf800000u
#define F_127 0x42fe0000u
#define F_256 0x43800000u
#define F_EIGHTH 0x3e000000u
/* libopus vec.h tanh_approx's coefficients as the C compiler rounds its literals */
#define TANH_N0 0x446e21cbu   /* 952.52801514f */
#define TANH_N1 0x42c0c8e3u   /* 96.39235687f */
#define TANH_N2 0x3f1bcf34u   /* 0.60863042f */
#define TANH_D0 0x446e2e56u   /* 952.72399902f */
#define TANH_D1 0x43ceaf1bu   /* 413.36801147f */
#define TANH_D2 0x413e2d18u   /* 11.88600922f */

/* Largest int8 dot product libopus's float accumulation keeps exact: partial sums < 2^24. */
#define EXACT_SUM_LIMIT ((int64_t)1 << 24)

/* ------------------------------------------------------------------ activations */

/* tanh_approx on |x| in [2^-40, 2^21), the common case, in a shorter form: there every
   intermediate value (x*x, the two Horner sums, num*x, the quotient) is a positive normal
   float, so it is kept unpacked, m * 2^e with 2^23 <= m < 2^24, and each operation is just
   its exact integer result rounded to 24 bits, to nearest even: the same roundings as the
   soft-float's, without the special cases and the packing.  t(-x) = -t(x) in float32 (every
   rounding is symmetric), so the sign is put back at the end.  Checked against the general
   form for every float32 in the range (tests/test_rdovae_exact.py samples it). */
typedef struct {
    uint64_t m;
    int32_t e;
} upf;

/* s * 2^e with 2^(23+sh) <= s < 2^(24+sh), rounded to 24 bits */
static inline upf upf_round(uint64_t s, int32_t e, int sh)
{
    /* nearest, ties to even: add half - 1 plus the kept part's lowest bit, then truncate */
    uint64_t q = (s + ((uint64_t)1 << (sh - 1)) - 1 + ((s >> sh) & 1)) >> sh;
    int carry = (int)(q >> 24);    /* rounded up to 2^24: 2^23, one binade up */
    upf r;
    r.m = q >> carry;
    r.e = e + sh + carry;
    return r;
}

static inline upf upf_mul(upf a, upf b)
{
    uint64_t p = a.m * b.m;        /* [2^46, 2^48) */
    int hi = (int)(p >> 47);
    return upf_round(p, a.e + b.e, 23 + hi);
}

static inline upf upf_add(upf a, upf b)
{
    upf t;
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
    return upf_round(s, a.e - 32, 32 + hi);
}

static inline upf upf_div(upf a, upf b)
{
    uint64_t num = a.m << 40, q = num / b.m, r = num - q * b.m;
    uint64_t s = (q << 1) | (r != 0);   /* [2^40, 2^42), remainder as a sticky bit */
    int hi = (int)(s >> 41);
    return upf_round(s, a.e - b.e - 41, 17 + hi);
}

static inline upf upf_of(uint32_t f)   /* a positive normal float */
{
    upf r;
    r.m = (f & 0x7fffffu) | 0x800000u;
    r.e = (int32_t)((f >> 23) & 0xffu) - 150;
    return r;
}

static inline uint32_t tanh_fast(uint32_t x)
{
    const upf n0 = upf_of(TANH_N0), n1 = upf_of(TANH_N1), n2 = upf_of(TANH_N2);
    const upf d0 = upf_of(TANH_D0), d1 = upf_of(TANH_D1), d2 = upf_of(TANH_D2);
    upf ax = upf_of(x & DC_SF_ABS), x2, num, den, t;
    x2 = upf_mul(ax, ax);
    num = upf_add(upf_mul(upf_add(upf_mul(n2, x2), n1), x2), n0);
    den = upf_add(upf_mul(upf_add(upf_mul(d2, x2), d1), x2), d0);
    t = upf_div(upf_mul(num, ax), den);
    if (t.e >= -23) return (x & DC_SF_SIGN) | F_ONE;        /* t >= 1: clamped */
    return (x & DC_SF_SIGN) | ((uint32_t)(t.e + 150) << 23) | ((uint32_t)t.m & 0x7fffffu);
}

/* |x| in [2^-40, 2^21): biased exponent 87..147 */
#define TANH_FAST(x) ((((x) >> 23) & 0xffu) - 87u <= 60u)

/* The general form, any float32 (zero, subnormal, huge, inf, NaN). */
static uint32_t tanh_general(uint32_t x)
{
    uint32_t x2 = dc_sf_mul(x, x);
    uint32_t num = dc_sf_add(dc_sf_mul(dc_sf_add(dc_sf_mul(TANH_N2, x2), TANH_N1), x2), TANH_N0);
    uint32_t den = dc_sf_add(dc_sf_mul(dc_sf_add(dc_sf_mul(TANH_D2, x2), TANH_D1), x2), TANH_D0);
    uint32_t t = dc_sf_div(dc_sf_mul(num, x), den);
    t = dc_sf_lt(F_ONE, t) ? F_ONE : t;                 /* MIN32(1.f, t) */
    return dc_sf_lt(t, F_MINUS_ONE) ? F_MINUS_ONE : t;  /* MAX32(-1.f, t) */
}

static inline uint32_t x_tanh(uint32_t x)
{
    return TANH_FAST(x) ? tanh_fast(x) : tanh_general(x);
}

static inline uint32_t x_sigmoid(uint32_t x)
{
    return dc_sf_add(F_HALF, dc_sf_mul(F_HALF, x_tanh(dc_sf_mul(F_HALF, x))));
}

static void tanh_vec(uint32_t *y, int n)
{
    int i;
    for (i = 0; i < n; i++) y[i] = x_tanh(y[i]);
}

/* (opus_int8)(int)floor(.5 + 127*x): the int's low byte, as libopus's int8 store keeps it. */
static inline int16_t x_quantize(uint32_t x)
{
    uint32_t low = (uint32_t)dc_sf_floor_half(dc_sf_mul(F_127, x)) & 0xffu;
    return (int16_t)(low >= 128u ? (int32_t)low - 256 : (int32_t)low);
}

static void quantize_vec(int16_t *x8, const uint32_t *x, int n)
{
    int i;
    for (i = 0; i < n; i++) x8[i] = x_quantize(x[i]);
}

/* libopus dnn/dred_decoder.c: q*256.f/(scale == 0 ? 1 : scale) */
static inline uint32_t dequantize(int32_t q, int32_t scale)
{
    if (q == 0) return 0;   /* (float)0 * 256 = +0, +0 / positive = +0 */
    return dc_sf_div(dc_sf_mul(dc_sf_from_int(q), F_256), dc_sf_from_int(scale == 0 ? 1 : scale));
}

/* ------------------------------------------------------------------ linear layers (checked) */

int dc_rdovae_exact_simd(void) { return dc_sparse8x4_simd(); }

/* cgemv8x4 / sparse_cgemv8x4 then compute_linear's bias: y = (float)sum * scale (+ bias).
   The int8 sums are exact integers (|sum| < 2^24, checked), as libopus's float accumulation is. */
static void qlinear(const dc_rdovae_exact_qlayer *l, const int16_t *x8, uint32_t *out)
{
    int i, k, widx = 0, iidx = 0;
    for (i = 0; i < l->nb_outputs; i += 8) {
        int32_t y[8];
        dc_sparse8x4_sums(l->weights, l->idx, x8, y, &widx, &iidx);
        for (k = 0; k < 8; k++) {
            uint32_t v = dc_sf_mul(dc_sf_from_int(y[k]), l->scale[i + k]);
            out[i + k] = l->bias ? dc_sf_add(v, l->bias[i + k]) : v;
        }
    }
}

/* sgemv then compute_linear's bias; inputs of +-0 skipped (rdovae_exact.h). */
static void flinear(const dc_rdovae_exact_flayer *l, const uint32_t *x, uint32_t *out)
{
    int nin = l->nb_inputs, nout = l->nb_outputs, i, j;
    for (i = 0; i < nout; i++) out[i] = 0;
    for (j = 0; j < nin; j++) {
        const uint32_t *w = &l->weights[(int64_t)j * nout];
        uint32_t xj = x[j];
        if ((xj & DC_SF_ABS) == 0) continue;
        for (i = 0; i < nout; i++) out[i] = dc_sf_add(out[i], dc_sf_mul(w[i], xj));
    }
    if (l->bias)
        for (i = 0; i < nout; i++) out[i] = dc_sf_add(out[i], l->bias[i]);
}

/* ------------------------------------------------------------------ layers */

/* compute_generic_gru.  x8: the stage's int8 input (all of the buffer so far). */
static void gru(const dc_rdovae_exact_qlayer *in_layer, const dc_rdovae_exact_qlayer *rec_layer,
                const int16_t *x8, uint32_t *state)
{
    uint32_t zrh[3 * DC_RDOVAE_GRU], rec[3 * DC_RDOVAE_GRU];
    int16_t s8[DC_RDOVAE_GRU];
    const int n = DC_RDOVAE_GRU;
    uint32_t *z = zrh, *r = &zrh[n], *h = &zrh[2 * n];
    int i;
    quantize_vec(s8, state, n);
    qlinear(in_layer, x8, zrh);
    qlinear(rec_layer, s8, rec);
    for (i = 0; i < 2 * n; i++) zrh[i] = x_sigmoid(dc_sf_add(zrh[i], rec[i]));
    for (i = 0; i < n; i++) h[i] = x_tanh(dc_sf_add(h[i], dc_sf_mul(rec[2 * n + i], r[i])));
    for (i = 0; i < n; i++)
        state[i] = dc_sf_add(dc_sf_mul(z[i], state[i]), dc_sf_mul(dc_sf_sub(F_ONE, z[i]), h[i]));
}

/* compute_glu: out = in * sigmoid(layer(in)). */
static void glu(const dc_rdovae_exact_qlayer *l, const uint32_t *in, uint32_t *out)
{
    uint32_t act[DC_RDOVAE_GRU];
    int16_t x8[DC_RDOVAE_GRU];
    int i;
    quantize_vec(x8, in, DC_RDOVAE_GRU);
    qlinear(l, x8, act);
    for (i = 0; i < DC_RDOVAE_GRU; i++) out[i] = dc_sf_mul(in[i], x_sigmoid(act[i]));
}

/* compute_generic_conv1d, kernel 2: out = tanh(layer([mem, in])); mem = in. */
static void conv(const dc_rdovae_exact_qlayer *l, const uint32_t *in, uint32_t *mem, uint32_t *out)
{
    int16_t x8[2 * DC_RDOVAE_CONV];
    quantize_vec(x8, mem, DC_RDOVAE_CONV);
    quantize_vec(x8 + DC_RDOVAE_CONV, in, DC_RDOVAE_CONV);
    qlinear(l, x8, out);
    tanh_vec(out, DC_RDOVAE_CONV);
    memcpy(mem, in, DC_RDOVAE_CONV * sizeof(uint32_t));
}

typedef struct {
    uint32_t gru[DC_RDOVAE_STAGES][DC_RDOVAE_GRU];
    uint32_t mem[DC_RDOVAE_STAGES][DC_RDOVAE_CONV];
} dec_state;

/* dred_rdovae_dec_init_states, after libopus's dequantisation of the state at level q0. */
static void init_states(const dc_rdovae_exact_model *m, const int32_t *state, int q0, dec_state *st)
{
    uint32_t x[DC_RDOVAE_STATE_DIM], hidden[DC_RDOVAE_HIDDEN], init[DC_RDOVAE_GRU_INIT];
    int16_t h8[DC_RDOVAE_HIDDEN];
    const int32_t *scale = &m->state_scale[q0 * DC_RDOVAE_STATE_DIM];
    int j;
    for (j = 0; j < DC_RDOVAE_STATE_DIM; j++) x[j] = dequantize(state[j], scale[j]);
    flinear(&m->hidden_init, x, hidden);
    tanh_vec(hidden, DC_RDOVAE_HIDDEN);
    quantize_vec(h8, hidden, DC_RDOVAE_HIDDEN);
    qlinear(&m->gru_init, h8, init);
    tanh_vec(init, DC_RDOVAE_GRU_INIT);
    memcpy(st->gru, init, sizeof(st->gru));
    memset(st->mem, 0, sizeof(st->mem));
}

/* Stores x at buf[pos..pos+n) and its int8 quantisation at buf8[pos..pos+n): every later
   layer quantizes the same prefix of the buffer the same way, so it is done once. */
static void put(uint32_t *buf, int16_t *buf8, int pos, const uint32_t *x, int n)
{
    memcpy(&buf[pos], x, n * sizeof(uint32_t));
    quantize_vec(&buf8[pos], x, n);
}

/* dred_rdovae_decode_qframe: one latent (25 ints at `level`) to 80 features. */
static void decode_qframe(const dc_rdovae_exact_model *m, dec_state *st, const int32_t *q, int level,
                          uint32_t *out)
{
    uint32_t buf[DC_RDOVAE_BUFFER], tmp[DC_RDOVAE_DENSE1], x[DC_RDOVAE_LATENT_DIM + 1];
    int16_t buf8[DC_RDOVAE_BUFFER];
    const int32_t *scale = &m->latent_scale[level * DC_RDOVAE_LATENT_DIM];
    int pos = 0, k, j;
    for (j = 0; j < DC_RDOVAE_LATENT_DIM; j++) x[j] = dequantize(q[j], scale[j]);
    x[DC_RDOVAE_LATENT_DIM] = dc_sf_mul(dc_sf_from_int(level - 8), F_EIGHTH);   /* level*.125 - 1, exact */
    flinear(&m->dense1, x, tmp);
    tanh_vec(tmp, DC_RDOVAE_DENSE1);
    put(buf, buf8, pos, tmp, DC_RDOVAE_DENSE1);
    pos += DC_RDOVAE_DENSE1;
    for (k = 0; k < DC_RDOVAE_STAGES; k++) {
        gru(&m->gru_input[k], &m->gru_recurrent[k], buf8, st->gru[k]);
        glu(&m->glu[k], st->gru[k], tmp);
        put(buf, buf8, pos, tmp, DC_RDOVAE_GRU);
        pos += DC_RDOVAE_GRU;
        qlinear(&m->conv_dense[k], buf8, tmp);
        tanh_vec(tmp, DC_RDOVAE_CONV);
        conv(&m->conv[k], tmp, st->mem[k], &buf[pos]);
        quantize_vec(&buf8[pos], &buf[pos], DC_RDOVAE_CONV);
        pos += DC_RDOVAE_CONV;
    }
    qlinear(&m->output, buf8, out);   /* ACTIVATION_LINEAR */
}

int dc_rdovae_exact_decode(const dc_rdovae_exact_model *m, const int32_t *state, int32_t q0,
                           const int32_t *latents, const int32_t *levels, int32_t n,
                           uint32_t *features, int32_t features_len)
{
    dec_state st;
    int k;
    if (!m || m->checked != CHECKED_MAGIC) return DC_RDOVAE_ERR_MODEL;
    if (n < 0 || n > DC_RDOVAE_MAX_LATENTS) return DC_RDOVAE_ERR_COUNT;
    if (!state || (n > 0 && (!latents || !levels || !features))) return DC_RDOVAE_ERR_ARG;
    if (features_len < DC_RDOVAE_OUT_PER_LATENT * n) return DC_RDOVAE_ERR_ARG;
    if (q0 < 0 || q0 >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    for (k = 0; k < n; k++)
        if (levels[k] < 0 || levels[k] >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    if (n == 0) return DC_RDOVAE_OK;   /* libopus computes the state and outputs nothing */
    init_states(m, state, q0, &st);
    for (k = 0; k < n; k++)
        decode_qframe(m, &st, &latents[k * DC_RDOVAE_LATENT_DIM], levels[k],
                      &features[k * DC_RDOVAE_OUT_PER_LATENT]);
    return DC_RDOVAE_OK;
}

/* ------------------------------------------------------------------ model check */

static int fail(dc_rdovae_exact_model *m, int slot, int reason, int row)
{
    m->checked = 0;
    m->check_slot = slot;
    m->check_reason = reason;
    m->check_row = row;
    return DC_RDOVAE_ERR_MODEL;
}

static int f32_finite(uint32_t f)
{
    return (f & DC_SF_INF) != DC_SF_INF;
}

static int check_flayer(dc_rdovae_exact_model *m, const dc_rdovae_exact_flayer *l, int slot, int nin, int nout)
{
    int i;
    if (l->nb_inputs != nin || l->nb_outputs != nout) return fail(m, slot, DC_RDOVAE_BAD_DIMS, -1);
    if (!l->weights) return fail(m, slot, DC_RDOVAE_BAD_POINTER, -1);
    if (l->nb_weights != nin * nout) return fail(m, slot, DC_RDOVAE_BAD_WEIGHTS, -1);
    for (i = 0; i < nin * nout; i++)
        if (!f32_finite(l->weights[i])) return fail(m, slot, DC_RDOVAE_BAD_RANGE, i % nout);
    if (l->bias)
        for (i = 0; i < nout; i++)
            if (!f32_finite(l->bias[i])) return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
    return DC_RDOVAE_OK;
}

/* Shape, arrays, sparse index, int8 range, and per row 128 * sum |w| < 2^24 (the bound under
   which libopus's float accumulation of the products is exact, as the int32 sum here). */
static int check_qlayer(dc_rdovae_exact_model *m, const dc_rdovae_exact_qlayer *l, int slot, int nin, int nout)
{
    int32_t rowsum[DC_RDOVAE_GRU_INIT];
    int i, reason, row;
    if (l->nb_inputs != nin || l->nb_outputs != nout || nout > DC_RDOVAE_GRU_INIT || nout % 8 != 0)
        return fail(m, slot, DC_RDOVAE_BAD_DIMS, -1);
    if (!l->weights || !l->idx || !l->scale) return fail(m, slot, DC_RDOVAE_BAD_POINTER, -1);
    reason = dc_sparse8x4_check(l->weights, l->nb_weights, l->idx, l->nb_idx, nin, nout, rowsum, &row);
    if (reason) return fail(m, slot, reason, row);
    for (i = 0; i < nout; i++) {
        if (128 * (int64_t)rowsum[i] >= EXACT_SUM_LIMIT) return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
        if (!f32_finite(l->scale[i]) || (l->bias && !f32_finite(l->bias[i])))
            return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
    }
    return DC_RDOVAE_OK;
}

int dc_rdovae_exact_check(dc_rdovae_exact_model *m)
{
    int slot, nin, nout, i;
    if (!m) return DC_RDOVAE_ERR_ARG;
    m->checked = 0;
    m->check_slot = -1;
    m->check_reason = 0;
    m->check_row = -1;
    if (!m->state_scale || !m->latent_scale)
        return fail(m, DC_RDOVAE_EXACT_SLOT_SCALES, DC_RDOVAE_BAD_POINTER, -1);
    for (i = 0; i < DC_RDOVAE_LEVELS * DC_RDOVAE_STATE_DIM; i++)
        if (m->state_scale[i] < 0 || m->state_scale[i] > 255)
            return fail(m, DC_RDOVAE_EXACT_SLOT_SCALES, DC_RDOVAE_BAD_SCALE, i / DC_RDOVAE_STATE_DIM);
    for (i = 0; i < DC_RDOVAE_LEVELS * DC_RDOVAE_LATENT_DIM; i++)
        if (m->latent_scale[i] < 0 || m->latent_scale[i] > 255)
            return fail(m, DC_RDOVAE_EXACT_SLOT_SCALES, DC_RDOVAE_BAD_SCALE, i / DC_RDOVAE_LATENT_DIM);
    if (check_flayer(m, &m->hidden_init, DC_RDOVAE_SLOT_HIDDEN_INIT, DC_RDOVAE_STATE_DIM, DC_RDOVAE_HIDDEN) ||
        check_flayer(m, &m->dense1, DC_RDOVAE_SLOT_DENSE1, DC_RDOVAE_LATENT_DIM + 1, DC_RDOVAE_DENSE1))
        return DC_RDOVAE_ERR_MODEL;
    for (slot = DC_RDOVAE_SLOT_GRU_INIT; slot <= DC_RDOVAE_SLOT_OUTPUT; slot++) {
        dc_rdovae_qlayer_shape(slot, &nin, &nout);
        if (check_qlayer(m, DC_RDOVAE_QLAYER_AT(m, slot), slot, nin, nout)) return DC_RDOVAE_ERR_MODEL;
    }
    m->checked = CHECKED_MAGIC;
    return DC_RDOVAE_OK;
}

/* ------------------------------------------------------------------ test entry points */

uint32_t dc_rdovae_exact_tanh(uint32_t x) { return x_tanh(x); }
uint32_t dc_rdovae_exact_tanh_general(uint32_t x) { return tanh_general(x); }
uint32_t dc_rdovae_exact_sigmoid(uint32_t x) { return x_sigmoid(x); }
int32_t dc_rdovae_exact_quantize(uint32_t x) { return x_quantize(x); }

static const dc_rdovae_exact_qlayer *qlayer_of(const dc_rdovae_exact_model *m, int slot)
{
    return DC_RDOVAE_QLAYER_AT(m, slot);
}

int dc_rdovae_exact_layer_linear(const dc_rdovae_exact_model *m, int32_t slot, const uint32_t *in, int32_t n_in,
                                 uint32_t *out, int32_t n_out)
{
    if (!m || m->checked != CHECKED_MAGIC) return DC_RDOVAE_ERR_MODEL;
    if (!in || !out) return DC_RDOVAE_ERR_ARG;
    if (slot == DC_RDOVAE_SLOT_HIDDEN_INIT || slot == DC_RDOVAE_SLOT_DENSE1) {
        const dc_rdovae_exact_flayer *l = slot == DC_RDOVAE_SLOT_DENSE1 ? &m->dense1 : &m->hidden_init;
        if (n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
        flinear(l, in, out);
    } else {
        int16_t x8[DC_RDOVAE_BUFFER];
        const dc_rdovae_exact_qlayer *l = qlayer_of(m, slot);
        if (!l || n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
        quantize_vec(x8, in, n_in);
        qlinear(l, x8, out);
    }
    return DC_RDOVAE_OK;
}
