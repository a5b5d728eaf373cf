/* The FARGAN vocoder's entry points (fargan.h): the model check, the choice of arithmetic and the
   argument checks; the synthesis itself is fargan.inc in either arithmetic. */
#include <string.h>
#include "fargan.h"

#define CHECKED_MAGIC 0x46415247   /* "FARG" */

/* nin x nout by slot (fargan_data.c's linear_init calls). */
static const int16_t shapes[DC_FARGAN_NSLOTS][2] = {
    {224, 12}, {32, 64}, {192, 128}, {128, 320}, {80, 1}, {328, 192}, {192, 192}, {272, 480}, {160, 480}, {240, 384},
    {128, 384}, {208, 384}, {128, 384}, {160, 160}, {128, 128}, {128, 128}, {128, 128}, {688, 128}, {128, 40}, {192, 4},
};

void dc_fargan_layer_shape(int32_t slot, int32_t *nin, int32_t *nout)
{
    const int ok = slot >= 0 && slot < DC_FARGAN_NSLOTS;
    *nin = ok ? shapes[slot][0] : -1;
    *nout = ok ? shapes[slot][1] : -1;
}

/* ------------------------------------------------------------------ choosing the arithmetic */

int32_t dc_fargan_exact_runs(const dc_fargan_model *m)
{
    if (m && m->checked == CHECKED_MAGIC && dc_nn_hw_exact() && (m->hw_levels >> dc_nn_simd() & 1)) return DC_ARITH_EXACT;
    return DC_ARITH_SOFTFLOAT;
}

/* Runs the synthesis in the arithmetic that `arith` stands for here; arguments checked. */
static void run(const dc_fargan_model *m, int32_t arith, const float *features, int n, int16_t *pcm, float *gains)
{
    dc_fpenv env;
    if (arith == DC_ARITH_EXACT && dc_fargan_exact_runs(m) == DC_ARITH_EXACT && dc_nn_fp_enter(&env)) {
        dc_fargan_run_hw(dc_nn_hw, m, features, n, pcm, gains);
        dc_nn_fp_leave(&env);
    } else dc_fargan_run_soft(dc_nn_hw, m, features, n, pcm, gains);   /* dc_nn_hw: its integer sums */
}

/* Synthetic features for comparing the arithmetics on the model: speech-like values, a frame ten times
   larger, then one of huge, infinite and NaN values (overflowing gains, NaN states). */
#define PROBE_FRAMES 3
static void probe(float *features)
{
    static const uint32_t wild[4] = {0x7f7fffffu, 0xff800000u, 0xffc00000u, 0x4e6e6b28u};
    uint32_t s = 0x9e3779b9u;
    int i;
    for (i = 0; i < PROBE_FRAMES * DC_FARGAN_NUM_FEATURES; i++) {
        const int frame = i / DC_FARGAN_NUM_FEATURES;
        s = s * 1664525u + 1013904223u;
        features[i] = (float)((int32_t)(s >> 16) - 32768) / (frame ? 3276.8f : 32768.f);   /* +-1, then +-10 */
        if (frame == 2) memcpy(&features[i], &wild[i & 3], sizeof(float));
    }
}

/* Bit L of the result: hardware kernel level L synthesises the probe as the soft-float does. */
static int32_t hw_levels(const dc_fargan_model *m)
{
    float features[PROBE_FRAMES * DC_FARGAN_NUM_FEATURES];
    int16_t soft[PROBE_FRAMES * DC_FARGAN_FRAME], hw[PROBE_FRAMES * DC_FARGAN_FRAME];
    int32_t ok = 0, level, top = dc_nn_simd_available();
    dc_fpenv env;
    if (!dc_nn_hw_exact() || !dc_nn_fp_enter(&env)) return 0;
    probe(features);
    dc_fargan_run_soft(0, m, features, PROBE_FRAMES, soft, 0);
    for (level = DC_SIMD_NONE; level <= top; level++) {
        const dc_nn_kernels *k = dc_nn_level_kernels(level);
        if (!k) continue;
        dc_fargan_run_hw(k, m, features, PROBE_FRAMES, hw, 0);
        ok |= (memcmp(hw, soft, sizeof hw) == 0) << level;
    }
    dc_nn_fp_leave(&env);
    return ok;
}

/* ------------------------------------------------------------------ the model check */

static int fail(dc_fargan_model *m, int slot, int reason, int row)
{
    m->checked = 0;
    m->check_slot = slot;
    m->check_reason = reason;
    m->check_row = row;
    return DC_FARGAN_ERR_MODEL;
}

int dc_fargan_check(dc_fargan_model *m)
{
    int32_t slot, row, reason;
    if (!m) return DC_FARGAN_ERR_ARG;
    m->checked = 0;
    m->check_slot = -1;
    m->check_reason = 0;
    m->check_row = -1;
    m->hw_levels = 0;
    for (slot = 0; slot < DC_FARGAN_NSLOTS; slot++) {
        reason = dc_linear_check(&m->layer[slot], shapes[slot][0], shapes[slot][1], &row, &m->row_bound[slot]);
        if (reason) return fail(m, slot, reason, row);
    }
    if (!m->layer[DC_FARGAN_SLOT_PEMBED].float_weights)   /* the pitch embedding is read as a float table */
        return fail(m, DC_FARGAN_SLOT_PEMBED, DC_NN_BAD_POINTER, -1);
    m->checked = CHECKED_MAGIC;
    m->hw_levels = hw_levels(m);
    return DC_FARGAN_OK;
}

/* ------------------------------------------------------------------ synthesis */

int dc_fargan_synthesize(const dc_fargan_model *m, int32_t arith, const float *features, int32_t n,
                         int16_t *pcm, int64_t pcm_len, float *gains, int64_t gains_len)
{
    if (!m || m->checked != CHECKED_MAGIC) return DC_FARGAN_ERR_MODEL;
    if (arith != DC_ARITH_EXACT && arith != DC_ARITH_SOFTFLOAT) return DC_FARGAN_ERR_ARG;
    if (n < 1) return DC_FARGAN_ERR_COUNT;
    if (!features || !pcm || pcm_len < (int64_t)DC_FARGAN_FRAME * n) return DC_FARGAN_ERR_ARG;
    if (gains && gains_len < (int64_t)DC_FARGAN_GAINS_PER_FRAME * (n + 2)) return DC_FARGAN_ERR_ARG;
    run(m, arith, features, n, pcm, gains);
    return DC_FARGAN_OK;
}
