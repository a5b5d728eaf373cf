/* The RDOVAE decoder's entry points (rdovae.h): the model check, the choice of arithmetic, the
   argument checks, and the batch call; the decoder itself is rdovae.inc in either arithmetic. */
#include <string.h>
#include "rdovae.h"

#define CHECKED_MAGIC 0x52445845   /* "RDXE" */

void dc_rdovae_layer_shape(int32_t slot, int32_t *nin, int32_t *nout)
{
    const int32_t stride = DC_RDOVAE_GRU + DC_RDOVAE_CONV, stage = (slot - DC_RDOVAE_SLOT_GRU_INPUT) % DC_RDOVAE_STAGES;
    const int32_t buffer = DC_RDOVAE_DENSE1 + stage * stride;   /* what stage `stage` reads: dense1 and earlier stages */
    *nin = *nout = -1;
    if (slot == DC_RDOVAE_SLOT_HIDDEN_INIT) { *nin = DC_RDOVAE_STATE_DIM; *nout = DC_RDOVAE_HIDDEN; }
    else if (slot == DC_RDOVAE_SLOT_DENSE1) { *nin = DC_RDOVAE_LATENT_DIM + 1; *nout = DC_RDOVAE_DENSE1; }
    else if (slot == DC_RDOVAE_SLOT_GRU_INIT) { *nin = DC_RDOVAE_HIDDEN; *nout = DC_RDOVAE_GRU_INIT; }
    else if (slot == DC_RDOVAE_SLOT_OUTPUT) { *nin = DC_RDOVAE_BUFFER; *nout = DC_RDOVAE_OUT_PER_LATENT; }
    else if (slot < DC_RDOVAE_SLOT_GRU_INPUT || slot > DC_RDOVAE_SLOT_OUTPUT) return;
    else if (slot < DC_RDOVAE_SLOT_GRU_RECURRENT) { *nin = buffer; *nout = 3 * DC_RDOVAE_GRU; }
    else if (slot < DC_RDOVAE_SLOT_GLU) { *nin = DC_RDOVAE_GRU; *nout = 3 * DC_RDOVAE_GRU; }
    else if (slot < DC_RDOVAE_SLOT_CONV_DENSE) { *nin = DC_RDOVAE_GRU; *nout = DC_RDOVAE_GRU; }
    else if (slot < DC_RDOVAE_SLOT_CONV) { *nin = buffer + DC_RDOVAE_GRU; *nout = DC_RDOVAE_CONV; }
    else { *nin = 2 * DC_RDOVAE_CONV; *nout = DC_RDOVAE_CONV; }
}

/* ------------------------------------------------------------------ choosing the arithmetic */

/* Runs the decoder in the arithmetic that `arith` stands for here; arguments checked. */
static void run(const dc_rdovae_model *m, int32_t arith, const int32_t *state, int q0, const int32_t *latents,
                const int32_t *levels, int n, float *features)
{
    dc_fpenv env;
    if (arith == DC_ARITH_EXACT && dc_rdovae_exact_runs(m) == DC_ARITH_EXACT && dc_nn_fp_enter(&env)) {
        dc_rdovae_run_hw(dc_nn_hw, m, state, q0, latents, levels, n, features);
        dc_nn_fp_leave(&env);
    } else dc_rdovae_run_soft(dc_nn_hw, m, state, q0, latents, levels, n, features);   /* dc_nn_hw: its integer sums */
}

int32_t dc_rdovae_exact_runs(const dc_rdovae_model *m)
{
    if (m && m->checked == CHECKED_MAGIC && dc_nn_hw_exact() && (m->hw_levels >> dc_nn_simd() & 1)) return DC_ARITH_EXACT;
    return DC_ARITH_SOFTFLOAT;
}

/* A synthetic packet for comparing the arithmetics on the model: small values around zero at
   every level, then values up to the int32 limits (huge pre-activations, NaNs). */
#define PROBE_LATENTS 4
static void probe(int32_t *state, int32_t *latents, int32_t *levels, int huge)
{
    uint32_t s = huge ? 0x2545f491u : 0x9e3779b9u;
    int i;
    for (i = 0; i < DC_RDOVAE_STATE_DIM + PROBE_LATENTS * DC_RDOVAE_LATENT_DIM; i++) {
        int32_t v;
        s = s * 1664525u + 1013904223u;
        v = huge ? (int32_t)s : (int32_t)(s >> 28) - 8;
        if (i < DC_RDOVAE_STATE_DIM) state[i] = v;
        else latents[i - DC_RDOVAE_STATE_DIM] = v;
    }
    for (i = 0; i < PROBE_LATENTS; i++) levels[i] = (5 * i + (huge ? 15 : 0)) % DC_RDOVAE_LEVELS;
}

/* Bit L of the result: hardware kernel level L decodes the probes as the soft-float does. */
static int32_t hw_levels(const dc_rdovae_model *m)
{
    int32_t state[DC_RDOVAE_STATE_DIM], latents[PROBE_LATENTS * DC_RDOVAE_LATENT_DIM], levels[PROBE_LATENTS];
    float soft[2][PROBE_LATENTS * DC_RDOVAE_OUT_PER_LATENT], hw[PROBE_LATENTS * DC_RDOVAE_OUT_PER_LATENT];
    int32_t ok = 0, level, top = dc_nn_simd_available(), huge;
    dc_fpenv env;
    if (!dc_nn_hw_exact() || !dc_nn_fp_enter(&env)) return 0;
    for (huge = 0; huge < 2; huge++) {
        probe(state, latents, levels, huge);
        dc_rdovae_run_soft(0, m, state, levels[0], latents, levels, PROBE_LATENTS, soft[huge]);
    }
    for (level = DC_SIMD_NONE; level <= top; level++) {
        const dc_nn_kernels *k = dc_nn_level_kernels(level);
        int same = k != 0;
        for (huge = 0; same && huge < 2; huge++) {
            probe(state, latents, levels, huge);
            dc_rdovae_run_hw(k, m, state, levels[0], latents, levels, PROBE_LATENTS, hw);
            same = memcmp(hw, soft[huge], sizeof hw) == 0;
        }
        ok |= same << level;
    }
    dc_nn_fp_leave(&env);
    return ok;
}

/* ------------------------------------------------------------------ the model check */

static int fail(dc_rdovae_model *m, int slot, int reason, int row)
{
    m->checked = 0;
    m->check_slot = slot;
    m->check_reason = reason;
    m->check_row = row;
    return DC_RDOVAE_ERR_MODEL;
}

int dc_rdovae_check(dc_rdovae_model *m)
{
    int32_t slot, nin, nout, row, reason;
    if (!m) return DC_RDOVAE_ERR_ARG;
    m->checked = 0;
    m->check_slot = -1;
    m->check_reason = 0;
    m->check_row = -1;
    m->hw_levels = 0;
    if (!m->state_scale || m->nb_state_scale != DC_RDOVAE_LEVELS * DC_RDOVAE_STATE_DIM || !m->latent_scale
        || m->nb_latent_scale != DC_RDOVAE_LEVELS * DC_RDOVAE_LATENT_DIM)
        return fail(m, DC_RDOVAE_SLOT_SCALES, DC_RDOVAE_BAD_SCALE, -1);
    for (slot = 0; slot < DC_RDOVAE_NSLOTS; slot++) {
        dc_rdovae_layer_shape(slot, &nin, &nout);
        reason = dc_linear_check(&m->layer[slot], nin, nout, &row, &m->row_bound[slot]);
        if (reason) return fail(m, slot, reason, row);
    }
    m->checked = CHECKED_MAGIC;
    m->hw_levels = hw_levels(m);
    return DC_RDOVAE_OK;
}

/* ------------------------------------------------------------------ decoding */

/* The decoders' argument checks: DC_RDOVAE_OK or the error. */
static int check_args(const dc_rdovae_model *m, int32_t arith, const int32_t *state, int32_t q0,
                      const int32_t *latents, const int32_t *levels, int32_t n)
{
    int32_t k;
    if (!m || m->checked != CHECKED_MAGIC) return DC_RDOVAE_ERR_MODEL;
    if (arith != DC_ARITH_EXACT && arith != DC_ARITH_SOFTFLOAT) return DC_RDOVAE_ERR_ARG;
    if (n < 0 || n > DC_RDOVAE_MAX_LATENTS) return DC_RDOVAE_ERR_COUNT;
    if (!state || (n > 0 && (!latents || !levels))) return DC_RDOVAE_ERR_ARG;
    if (q0 < 0 || q0 >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    for (k = 0; k < n; k++)
        if (levels[k] < 0 || levels[k] >= DC_RDOVAE_LEVELS) return DC_RDOVAE_ERR_LEVEL;
    return DC_RDOVAE_OK;
}

int dc_rdovae_decode(const dc_rdovae_model *m, int32_t arith, const int32_t *state, int32_t q0,
                     const int32_t *latents, const int32_t *levels, int32_t n, float *features, int32_t features_len)
{
    int rc = check_args(m, arith, state, q0, latents, levels, n);
    if (rc) return rc;
    if (n > 0 && (!features || features_len < DC_RDOVAE_OUT_PER_LATENT * n)) return DC_RDOVAE_ERR_ARG;
    if (n > 0) run(m, arith, state, q0, latents, levels, n, features);   /* n == 0: libopus outputs nothing */
    return DC_RDOVAE_OK;
}

int dc_dred_decode_many(const dc_rdovae_model *m, int32_t arith, const dc_dred_stats *stats,
                        const unsigned char *data, int64_t data_len, const int64_t *offsets,
                        const int32_t *frame_offsets, int32_t n, int32_t max_latents,
                        dc_dred_payload *payloads, float *features, int64_t features_len)
{
    const int64_t stride = DC_RDOVAE_MAX_LATENTS * DC_RDOVAE_OUT_PER_LATENT;
    int32_t i;
    if (n < 0 || !stats || !offsets || !frame_offsets || (n > 0 && !payloads) || data_len < 0
        || (data_len > 0 && !data))
        return DC_RDOVAE_ERR_ARG;
    if (m && (m->checked != CHECKED_MAGIC)) return DC_RDOVAE_ERR_MODEL;
    if (m && (arith != DC_ARITH_EXACT && arith != DC_ARITH_SOFTFLOAT)) return DC_RDOVAE_ERR_ARG;
    if (m && n > 0 && (!features || features_len < stride * n)) return DC_RDOVAE_ERR_ARG;
    for (i = 0; i < n; i++)
        if (offsets[i] < 0 || offsets[i + 1] < offsets[i] || offsets[i + 1] > data_len
            || offsets[i + 1] - offsets[i] > INT32_MAX)
            return DC_RDOVAE_ERR_ARG;
    for (i = 0; i < n; i++) {
        dc_dred_payload *p = &payloads[i];
        int rc = dc_dred_decode(data + offsets[i], (int)(offsets[i + 1] - offsets[i]), frame_offsets[i], max_latents,
                                stats, p);
        if (rc != DC_DRED_OK) return DC_RDOVAE_ERR_ARG;   /* frame_offset or max_latents out of range */
        if (m && p->latent_count > 0)
            run(m, arith, p->state, p->q0, &p->latents[0][0], p->levels, p->latent_count, &features[stride * i]);
    }
    return DC_RDOVAE_OK;
}

int dc_rdovae_layer_linear(const dc_rdovae_model *m, int32_t arith, int32_t slot, const float *in, int32_t n_in,
                           float *out, int32_t n_out)
{
    const dc_linear *l;
    if (!m || m->checked != CHECKED_MAGIC) return DC_RDOVAE_ERR_MODEL;
    if (slot < 0 || slot >= DC_RDOVAE_NSLOTS || !in || !out) return DC_RDOVAE_ERR_ARG;
    l = &m->layer[slot];
    if (n_in != l->nb_inputs || n_out != l->nb_outputs) return DC_RDOVAE_ERR_ARG;
    return dc_nn_linear(arith, l, in, out) == 0 ? DC_RDOVAE_OK : DC_RDOVAE_ERR_ARG;
}
