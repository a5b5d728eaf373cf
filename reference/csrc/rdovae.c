/* The fixed-point RDOVAE decoder network (libopus 1.6.1 dnn/dred_rdovae_dec.c, generic C path).
   Formats, rounding and the checks are described in rdovae.h; primitives in rdovae_fixed.c. */
#include <string.h>
#include "rdovae.h"
#include "rdovae_fixed.h"
#include "sparse8x4.h"

#define CHECKED_MAGIC 0x52444f56   /* "RDOV" */

/* ------------------------------------------------------------------ model check */

static int fail(dc_rdovae_model *m, int slot, int reason, int row)
{
    m->checked = 0;
    m->check_slot = slot;
    m->check_reason = reason;
    m->check_row = row;
    return DC_RDOVAE_ERR_MODEL;
}

static uint64_t mag64(int64_t x)
{
    return x >= 0 ? (uint64_t)x : (uint64_t)(-(x + 1)) + 1u;
}

/* An int8 layer: shape, arrays, sparse index, and the value ranges that keep
   (a) the int32 dot product exact, (b) acc * scale_mant below 2^62, (c) every output
   below out_limit in magnitude (Q32). */
static int check_qlayer(dc_rdovae_model *m, const dc_rdovae_qlayer *l, int slot, int nin, int nout,
                        uint64_t out_limit)
{
    int32_t rowsum[DC_RDOVAE_GRU_INIT];
    int i, reason, row;
    if (l->nb_inputs != nin || l->nb_outputs != nout || nout > DC_RDOVAE_GRU_INIT || nout % 8 != 0)
        return fail(m, slot, DC_RDOVAE_BAD_DIMS, -1);
    if (!l->weights || !l->idx || !l->bias || !l->scale_mant || !l->scale_shift)
        return fail(m, slot, DC_RDOVAE_BAD_POINTER, -1);
    reason = dc_sparse8x4_check(l->weights, l->nb_weights, l->idx, l->nb_idx, nin, nout, rowsum, &row);
    if (reason) return fail(m, slot, reason, row);
    for (i = 0; i < nout; i++) {
        uint64_t smant = mag64(l->scale_mant[i]);
        uint64_t accmax = 127u * (uint64_t)rowsum[i];           /* |x8| <= 127 */
        uint64_t bmag = mag64(l->bias[i]);
        int sh = l->scale_shift[i];
        if (sh < 0 || sh > 62) return fail(m, slot, DC_RDOVAE_BAD_SCALE, i);
        if (accmax >= ((uint64_t)1 << 31)) return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
        if (smant >= ((uint64_t)1 << 62) || (accmax != 0 && smant >= (((uint64_t)1 << 62) / accmax)))
            return fail(m, slot, DC_RDOVAE_BAD_SCALE, i);
        if (bmag >= out_limit || ((accmax * smant) >> sh) + 1 >= out_limit - bmag)
            return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
    }
    return DC_RDOVAE_OK;
}

static int check_flayer(dc_rdovae_model *m, const dc_rdovae_flayer *l, int slot, int nin, int nout)
{
    int lev, i, j;
    if (l->nb_inputs != nin || l->nb_outputs != nout || l->nb_levels != DC_RDOVAE_LEVELS)
        return fail(m, slot, DC_RDOVAE_BAD_DIMS, -1);
    if (!l->w || !l->bias) return fail(m, slot, DC_RDOVAE_BAD_POINTER, -1);
    if (l->frac < DC_RDOVAE_PRE_Q || l->frac > 48) return fail(m, slot, DC_RDOVAE_BAD_FRAC, -1);
    for (lev = 0; lev < DC_RDOVAE_LEVELS; lev++)
        for (i = 0; i < nout; i++) {
            const int64_t *row = &l->w[((int64_t)lev * nout + i) * nin];
            uint64_t sum = 0;
            for (j = 0; j < nin; j++) {
                uint64_t a = mag64(row[j]);
                if (a >= ((uint64_t)1 << 44)) return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
                sum += a;                                            /* < 50 * 2^44 */
            }
            if (sum >= ((uint64_t)1 << 44) || mag64(l->bias[lev * nout + i]) >= ((uint64_t)1 << 60))
                return fail(m, slot, DC_RDOVAE_BAD_RANGE, i);
        }
    return DC_RDOVAE_OK;
}

int dc_rdovae_model_check(dc_rdovae_model *m)
{
    /* Hidden layers: outputs below 2^56 (Q32, i.e. 2^24) keep GRU sums and dc_rdovae_mul_q30
       far from overflow; the output layer: below 2^42 (1024) so Q20 features fit int32. */
    const uint64_t hidden_limit = (uint64_t)1 << 56, output_limit = (uint64_t)1 << 42;
    int slot, nin, nout;
    if (!m) return DC_RDOVAE_ERR_ARG;
    m->checked = 0;
    m->check_slot = -1;
    m->check_reason = 0;
    m->check_row = -1;
    if (check_flayer(m, &m->hidden_init, DC_RDOVAE_SLOT_HIDDEN_INIT, DC_RDOVAE_STATE_DIM, DC_RDOVAE_HIDDEN) ||
        check_flayer(m, &m->dense1, DC_RDOVAE_SLOT_DENSE1, DC_RDOVAE_LATENT_DIM, DC_RDOVAE_DENSE1))
        return DC_RDOVAE_ERR_MODEL;
    for (slot = DC_RDOVAE_SLOT_GRU_INIT; slot <= DC_RDOVAE_SLOT_OUTPUT; slot++) {
        dc_rdovae_qlayer_shape(slot, &nin, &nout);
        if (check_qlayer(m, DC_RDOVAE_QLAYER_AT(m, slot), slot, nin, nout,
                         slot == DC_RDOVAE_SLOT_OUTPUT ? output_limit : hidden_limit))
            return DC_RDOVAE_ERR_MODEL;
    }
    m->checked = CHECKED_MAGIC;
    return DC_RDOVAE_OK;
}

static int model_ok(const dc_rdovae_model *m)
{
    return m != 0 && m->checked == CHECKED_MAGIC;
}

/* ------------------------------------------------------------------ layers (model checked) */

/* libopus compute_generic_dense with ACTIVATION_TANH on an int8 layer. */
static void dense_tanh(const dc_rdovae_qlayer *l, const int16_t *x8, int32_t *out_q30)
{
    int64_t pre[DC_RDOVAE_GRU_INIT];
    int i;
    dc_rdovae_qlinear(l, x8, pre);
    for (i = 0; i < l->nb_outputs; i++) out_q30[i] = dc_rdovae_tanh(pre[i]);
}

/* libopus compute_generic_gru: z, r = sigmoid(in_zr + rec_zr); h = tanh(in_h + rec_h * r);
   state = z*state + (1-z)*h.  x8: the stage's int8 input (all of the buffer so far). */
static void gru(const dc_rdovae_qlayer *in_layer, const dc_rdovae_qlayer *rec_layer, const int16_t *x8,
                int32_t *state)
{
    int64_t zrh[3 * DC_RDOVAE_GRU], rec[3 * DC_RDOVAE_GRU];
    int16_t s8[DC_RDOVAE_GRU];
    const int n = DC_RDOVAE_GRU;
    int i;
    dc_rdovae_quantize_vec(s8, state, n);
    dc_rdovae_qlinear(in_layer, x8, zrh);
    dc_rdovae_qlinear(rec_layer, s8, rec);
    for (i = 0; i < n; i++) {
        int32_t z = dc_rdovae_sigmoid(zrh[i] + rec[i]);
        int32_t r = dc_rdovae_sigmoid(zrh[n + i] + rec[n + i]);
        int32_t h = dc_rdovae_tanh(zrh[2 * n + i] + dc_rdovae_mul_q30(rec[2 * n + i], r));
        /* z*state + (1-z)*h: both products < 2^60, the sum of magnitudes <= 2^60 */
        int64_t mix = (int64_t)z * state[i] + ((int64_t)DC_RDOVAE_ONE_Q30 - z) * h;
        state[i] = (int32_t)dc_rdovae_round_shr(mix, 30);
    }
}

/* libopus compute_glu: out = in * sigmoid(W in). */
static void glu(const dc_rdovae_qlayer *l, const int32_t *in, int32_t *out)
{
    int64_t pre[DC_RDOVAE_GRU];
    int16_t x8[DC_RDOVAE_GRU];
    int i;
    dc_rdovae_quantize_vec(x8, in, DC_RDOVAE_GRU);
    dc_rdovae_qlinear(l, x8, pre);
    for (i = 0; i < DC_RDOVAE_GRU; i++)
        out[i] = (int32_t)dc_rdovae_round_shr((int64_t)in[i] * dc_rdovae_sigmoid(pre[i]), 30);
}

/* libopus compute_generic_conv1d, kernel 2 (nb_inputs = 2 * input_size): the input is
   [previous input, this input]; then the memory takes this input. */
static void conv(const dc_rdovae_qlayer *l, const int32_t *in, int32_t *mem, int32_t *out)
{
    int16_t x8[2 * DC_RDOVAE_CONV];
    dc_rdovae_quantize_vec(x8, mem, DC_RDOVAE_CONV);
    dc_rdovae_quantize_vec(x8 + DC_RDOVAE_CONV, in, DC_RDOVAE_CONV);
    dense_tanh(l, x8, out);
    memcpy(mem, in, DC_RDOVAE_CONV * sizeof(int32_t));
}

static void flayer_tanh(const dc_rdovae_flayer *l, const int32_t *q, int level, int64_t *pre, int32_t *out)
{
    int i;
    dc_rdovae_flinear(l, q, level, pre);
    for (i = 0; i < l->nb_outputs; i++) out[i] = dc_rdovae_tanh(pre[i]);
}

/* libopus dred_rdovae_dec_init_states: hidden = tanh(dec_hidden_init(state)), the five
   GRU states = tanh(dec_gru_init(hidden)) in order; conv memories start at zero. */
static void init_states(const dc_rdovae_model *m, const int32_t *state, int q0, int32_t *gru_q30)
{
    int64_t pre[DC_RDOVAE_HIDDEN];
    int32_t hidden[DC_RDOVAE_HIDDEN];
    int16_t h8[DC_RDOVAE_HIDDEN];
    flayer_tanh(&m->hidden_init, state, q0, pre, hidden);
    dc_rdovae_quantize_vec(h8, hidden, DC_RDOVAE_HIDDEN);
    dense_tanh(&m->gru_init, h8, gru_q30);
}

typedef struct {
    int32_t gru[DC_RDOVAE_STAGES][DC_RDOVAE_GRU];
    int32_t mem[DC_RDOVAE_STAGES][DC_RDOVAE_CONV];
} dec_state;

/* Stores x (Q30) at buf[pos..pos+n) and its int8 quantisation at buf8[pos..pos+n): every
   later layer quantizes the same prefix of the buffer the same way, so it is done once. */
static void put(int32_t *buf, int16_t *buf8, int pos, const int32_t *x, int n)
{
    memcpy(&buf[pos], x, n * sizeof(int32_t));
    dc_rdovae_quantize_vec(&buf8[pos], x, n);
}

/* libopus dred_rdovae_decode_qframe: one latent (q: 25 ints at `level`) to 80 features (Q20). */
static void decode_qframe(const dc_rdovae_model *m, dec_state *st, const int32_t *q, int level, int32_t *out_q20)
{
    int32_t buf[DC_RDOVAE_BUFFER];
    int16_t buf8[DC_RDOVAE_BUFFER];
    int32_t tmp[DC_RDOVAE_DENSE1];
    int64_t pre[DC_RDOVAE_DENSE1];
    int pos = 0, k, i;
    flayer_tanh(&m->dense1, q, level, pre, tmp);
    put(buf, buf8, pos, tmp, DC_RDOVAE_DENSE1);
    pos += DC_RDOVAE_DENSE1;
    for (k = 0; k < DC_RDOVAE_STAGES; k++) {
        gru(&m->gru_input[k], &m->gru_recurrent[k], buf8, st->gru[k]);
        glu(&m->glu[k], st->gru[k], tmp);
        put(buf, buf8, pos, tmp, DC_RDOVAE_GRU);
        pos += DC_RDOVAE_GRU;
        dense_tanh(&m->conv_dense[k], buf8, tmp);
        conv(&m->conv[k], tmp, st->mem[k], &buf[pos]);
        dc_rdovae_quantize_vec(&buf8[pos], &buf[pos], DC_RDOVAE_CONV);
        pos += DC_RDOVAE_CONV;
    }
    dc_rdovae_qlinear(&m->output, buf8, pre);  /* pre holds 96 >= 80 */
    for (i = 0; i < DC_RDOVAE_OUT_PER_LATENT; i++)
        out_q20[i] = (int32_t)dc_rdovae_round_shr(pre[i], DC_RDOVAE_PRE_Q - DC_RDOVAE_FEAT_Q);
}

int dc_rdovae_decode(const dc_rdovae_model *m, const int32_t *state, int32_t q0,
                     const int32_t *latents, const int32_t *levels, int32_t n,
                     int32_t *features, int32_t features_len)
{
    dec_state st;
    int k;
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (n < 0 || n > DC_RDOVAE_MAX_LATENTS) return DC_RDOVAE_ERR_COUNT;
    if (!state || (n > 0 && (!latents || !levels || !features))) return DC_RDOVAE_ERR_ARG;
    if (features_len < DC_RDOVAE_OUT_PER_LATENT * n) return DC_RDOVAE_ERR_ARG;
    if (q0 < 0 || q0 >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    for (k = 0; k < n; k++)
        if (levels[k] < 0 || levels[k] >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    if (n == 0) return DC_RDOVAE_OK;   /* libopus computes the state and outputs nothing */
    init_states(m, state, q0, &st.gru[0][0]);
    memset(st.mem, 0, sizeof(st.mem));
    for (k = 0; k < n; k++)
        decode_qframe(m, &st, &latents[k * DC_RDOVAE_LATENT_DIM], levels[k],
                      &features[k * DC_RDOVAE_OUT_PER_LATENT]);
    return DC_RDOVAE_OK;
}

/* ------------------------------------------------------------------ test entry points */

int32_t dc_rdovae_tanh_q30(int64_t x_q32) { return dc_rdovae_tanh(x_q32); }
int32_t dc_rdovae_sigmoid_q30(int64_t x_q32) { return dc_rdovae_sigmoid(x_q32); }
int32_t dc_rdovae_quantize_q30(int32_t x_q30) { return dc_rdovae_quantize(x_q30); }

static const dc_rdovae_qlayer *qlayer_of(const dc_rdovae_model *m, int slot)
{
    return DC_RDOVAE_QLAYER_AT(m, slot);
}

int dc_rdovae_layer_qlinear(const dc_rdovae_model *m, int32_t slot, const int32_t *in_q30, int32_t n_in,
                            int64_t *out_q32, int32_t n_out)
{
    int16_t x8[DC_RDOVAE_BUFFER];
    const dc_rdovae_qlayer *l;
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    l = qlayer_of(m, slot);
    if (!l || !in_q30 || !out_q32 || n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
    dc_rdovae_quantize_vec(x8, in_q30, n_in);
    dc_rdovae_qlinear(l, x8, out_q32);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_flayer(const dc_rdovae_model *m, int32_t slot, const int32_t *q, int32_t n_in,
                           int32_t level, int64_t *pre_q32, int32_t *out_q30, int32_t n_out)
{
    int64_t pre[DC_RDOVAE_HIDDEN];
    const dc_rdovae_flayer *l;
    int i;
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    l = slot == DC_RDOVAE_SLOT_HIDDEN_INIT ? &m->hidden_init : slot == DC_RDOVAE_SLOT_DENSE1 ? &m->dense1 : 0;
    if (!l || !q || !out_q30 || n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
    if (level < 0 || level >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    flayer_tanh(l, q, level, pre, out_q30);
    if (pre_q32)
        for (i = 0; i < n_out; i++) pre_q32[i] = pre[i];
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_dense_tanh(const dc_rdovae_model *m, int32_t slot, const int32_t *in_q30, int32_t n_in,
                               int32_t *out_q30, int32_t n_out)
{
    int16_t x8[DC_RDOVAE_BUFFER];
    const dc_rdovae_qlayer *l;
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    l = qlayer_of(m, slot);
    if (!l || !in_q30 || !out_q30 || n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
    dc_rdovae_quantize_vec(x8, in_q30, n_in);
    dense_tanh(l, x8, out_q30);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_gru(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30, int32_t n_in,
                        int32_t *state_q30, int32_t n_state)
{
    int16_t x8[DC_RDOVAE_BUFFER];
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (stage < 0 || stage >= DC_RDOVAE_STAGES || !in_q30 || !state_q30 || n_state != DC_RDOVAE_GRU ||
        n_in != m->gru_input[stage].nb_inputs)
        return DC_RDOVAE_ERR_ARG;
    dc_rdovae_quantize_vec(x8, in_q30, n_in);
    gru(&m->gru_input[stage], &m->gru_recurrent[stage], x8, state_q30);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_glu(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30,
                        int32_t *out_q30, int32_t n)
{
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (stage < 0 || stage >= DC_RDOVAE_STAGES || !in_q30 || !out_q30 || n != DC_RDOVAE_GRU) return DC_RDOVAE_ERR_ARG;
    glu(&m->glu[stage], in_q30, out_q30);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_conv(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30,
                         int32_t *mem_q30, int32_t *out_q30, int32_t n)
{
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (stage < 0 || stage >= DC_RDOVAE_STAGES || !in_q30 || !mem_q30 || !out_q30 || n != DC_RDOVAE_CONV)
        return DC_RDOVAE_ERR_ARG;
    conv(&m->conv[stage], in_q30, mem_q30, out_q30);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_output(const dc_rdovae_model *m, const int32_t *in_q30, int32_t n_in,
                           int32_t *out_q20, int32_t n_out)
{
    int16_t x8[DC_RDOVAE_BUFFER];
    int64_t pre[DC_RDOVAE_OUT_PER_LATENT];
    int i;
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (!in_q30 || !out_q20 || n_in != DC_RDOVAE_BUFFER || n_out != DC_RDOVAE_OUT_PER_LATENT) return DC_RDOVAE_ERR_ARG;
    dc_rdovae_quantize_vec(x8, in_q30, n_in);
    dc_rdovae_qlinear(&m->output, x8, pre);
    for (i = 0; i < n_out; i++) out_q20[i] = (int32_t)dc_rdovae_round_shr(pre[i], DC_RDOVAE_PRE_Q - DC_RDOVAE_FEAT_Q);
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_init_states(const dc_rdovae_model *m, const int32_t *state, int32_t q0,
                                int32_t *gru_q30, int32_t n_gru)
{
    if (!model_ok(m)) return DC_RDOVAE_ERR_MODEL;
    if (!state || !gru_q30 || n_gru != DC_RDOVAE_GRU_INIT) return DC_RDOVAE_ERR_ARG;
    if (q0 < 0 || q0 >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    init_states(m, state, q0, gru_q30);
    return DC_RDOVAE_OK;
}
