/* DRED payload syntax to integers and back; see dred_payload.h. */
#include <string.h>
#include "dred_payload.h"
#include "entdec.h"
#include "entenc.h"
#include "laplace.h"

/* Level step per latent, in 1/16 levels, by dQ (libopus dnn/dred_coding.c). */
static const int dQ_table[8] = {0, 2, 3, 4, 6, 8, 12, 16};

/* Level of latent k (0 = newest): q0 plus k slope steps rounded, capped at qmax; -1 for dQ or k out of range. */
int dc_dred_level(int q0, int dQ, int qmax, int k) {
    int q;
    if (dQ < 0 || dQ > 7 || k < 0 || k > DC_DRED_MAX_LATENTS) return -1;
    q = q0 + (dQ_table[dQ] * k + 8) / 16;
    return q > qmax ? qmax : q;
}

/* Whether dimension i at level q (tables r, p0 of that level) carries a coded value. */
static int coded(const unsigned char *r, const unsigned char *p0, int i) { return r[i] != 0 && p0[i] != 255; }

/* dim values at one level's tables: 0 for uncoded dimensions, else Laplace-p0 with the q8 tables scaled to q15. */
static void decode_values(dc_dec *d, int *x, const unsigned char *r, const unsigned char *p0, int dim) {
    int i;
    for (i = 0; i < dim; i++)
        x[i] = coded(r, p0, i) ? dc_laplace_decode_p0(d, (uint16_t)(p0[i] << 7), (uint16_t)(r[i] << 7)) : 0;
}

/* Encode dim values; DC_DRED_ERR_VALUE if a value is nonzero where uncoded or impossible under its tables. */
static int encode_values(dc_enc *e, const int *x, const unsigned char *r, const unsigned char *p0, int dim) {
    int i;
    for (i = 0; i < dim; i++) {
        if (!coded(r, p0, i)) { if (x[i] != 0) return DC_DRED_ERR_VALUE; continue; }
        if (dc_laplace_encode_p0(e, x[i], (uint16_t)(p0[i] << 7), (uint16_t)(r[i] << 7)) < 0) return DC_DRED_ERR_VALUE;
    }
    return DC_DRED_OK;
}

/* Clear the output and mark every field absent. */
static void reset(dc_dred_payload *out) {
    int f;
    memset(out, 0, sizeof(*out));
    for (f = 0; f < DC_DRED_NFIELDS; f++) out->field_start[f] = out->field_end[f] = -1;
}

/* Decode one latent/state value run and record where it started and ended. */
static void decode_field(dc_dec *d, dc_dred_payload *out, int f, int *x, const unsigned char *r,
                         const unsigned char *p0, int dim) {
    out->field_start[f] = dc_dec_tell(d);
    decode_values(d, x, r, p0, dim);
    out->field_end[f] = dc_dec_tell(d);
}

/* Decode uint(ft) as field f, recording its position. */
static int decode_uint_field(dc_dec *d, dc_dred_payload *out, int f, uint32_t ft) {
    int v;
    out->field_start[f] = dc_dec_tell(d);
    v = (int)dc_dec_uint(d, ft);
    out->field_end[f] = dc_dec_tell(d);
    return v;
}

/* Decode a DRED payload (after the 'D', version bytes) as libopus dred_ec_decode does, keeping integers. */
int dc_dred_decode(const unsigned char *data, int len, int frame_offset, int max_latents,
                   const dc_dred_stats *stats, dc_dred_payload *out) {
    dc_dec d;
    int k;
    if (out == NULL) return DC_DRED_ERR_ARG;
    reset(out);
    if (stats == NULL || len < 0 || (data == NULL && len > 0) || frame_offset < 0
        || frame_offset > DC_DRED_MAX_FRAME_OFFSET || max_latents < 0 || max_latents > DC_DRED_MAX_LATENTS)
        return DC_DRED_ERR_ARG;
    dc_dec_init(&d, data, (uint32_t)len);
    out->frame_offset = frame_offset;
    out->q0 = decode_uint_field(&d, out, DC_DRED_FIELD_Q0, 16);
    out->dQ = decode_uint_field(&d, out, DC_DRED_FIELD_DQ, 8);
    out->extra_flag = decode_uint_field(&d, out, DC_DRED_FIELD_EXTRA_FLAG, 2);
    if (out->extra_flag) out->extra_offset = decode_uint_field(&d, out, DC_DRED_FIELD_EXTRA_OFFSET, 256);
    out->offset = decode_uint_field(&d, out, DC_DRED_FIELD_OFFSET, 32);
    out->dred_offset = 16 - out->offset - 32 * out->extra_offset + frame_offset;
    out->qmax = 15;
    if (out->q0 < 14 && out->dQ > 0) {
        unsigned n = (unsigned)(14 - out->q0), s;      /* levels q0+1..14 share half the total, 15 the other half */
        out->field_start[DC_DRED_FIELD_QMAX] = dc_dec_tell(&d);
        s = dc_decode(&d, 2 * n);
        if (s >= n) {
            out->qmax = out->q0 + 1 + (int)(s - n);
            dc_dec_update(&d, s, s + 1, 2 * n);
        } else dc_dec_update(&d, 0, n, 2 * n);
        out->field_end[DC_DRED_FIELD_QMAX] = dc_dec_tell(&d);
    }
    decode_field(&d, out, DC_DRED_FIELD_STATE, out->state, stats->state_r + out->q0 * DC_DRED_STATE_DIM,
                 stats->state_p0 + out->q0 * DC_DRED_STATE_DIM, DC_DRED_STATE_DIM);
    for (k = 0; k < max_latents; k++) {
        int q;
        if (8 * (int64_t)len - dc_dec_tell(&d) <= 7) break; /* libopus: fewer than 8 bits left ends the latents */
        q = dc_dred_level(out->q0, out->dQ, out->qmax, k);
        out->levels[k] = q;
        decode_field(&d, out, DC_DRED_FIELD_LATENT0 + k, out->latents[k], stats->latent_r + q * DC_DRED_LATENT_DIM,
                     stats->latent_p0 + q * DC_DRED_LATENT_DIM, DC_DRED_LATENT_DIM);
    }
    out->latent_count = k;
    out->bits_total = dc_dec_tell(&d);
    return DC_DRED_OK;
}

/* Decode a standalone record: state then nb_latents latents, all at level q0, no header, no stop rule. */
int dc_dred_decode_standalone(const unsigned char *data, int len, int q0, int nb_latents,
                              const dc_dred_stats *stats, dc_dred_payload *out) {
    dc_dec d;
    int k;
    if (out == NULL) return DC_DRED_ERR_ARG;
    reset(out);
    if (stats == NULL || len < 0 || (data == NULL && len > 0) || q0 < 0 || q0 >= DC_DRED_LEVELS
        || nb_latents < 0 || nb_latents > DC_DRED_MAX_LATENTS)
        return DC_DRED_ERR_ARG;
    dc_dec_init(&d, data, (uint32_t)len);
    out->q0 = q0;
    out->qmax = 15;                                      /* dQ = 0: every latent at q0 */
    decode_field(&d, out, DC_DRED_FIELD_STATE, out->state, stats->state_r + q0 * DC_DRED_STATE_DIM,
                 stats->state_p0 + q0 * DC_DRED_STATE_DIM, DC_DRED_STATE_DIM);
    for (k = 0; k < nb_latents; k++) {
        out->levels[k] = q0;
        decode_field(&d, out, DC_DRED_FIELD_LATENT0 + k, out->latents[k], stats->latent_r + q0 * DC_DRED_LATENT_DIM,
                     stats->latent_p0 + q0 * DC_DRED_LATENT_DIM, DC_DRED_LATENT_DIM);
    }
    out->latent_count = nb_latents;
    out->bits_total = dc_dec_tell(&d);
    return DC_DRED_OK;
}

/* Finish as libopus's DRED encoder does: shrink to n bytes (it uses ceil(tell/8)), flush; report the length. */
static int finish(dc_enc *e, int n, int cap, int *out_len) {
    if (e->error || n > cap) return DC_DRED_ERR_BUFFER;
    dc_enc_shrink(e, (uint32_t)n);
    dc_enc_done(e);                                      /* zero-fills any bytes past the range coder's */
    if (e->error) return DC_DRED_ERR_BUFFER;
    *out_len = n;
    return DC_DRED_OK;
}

/* Check the arguments common to both encoders; latent_count and values are checked as they are coded. */
static int check_encode_args(const dc_dred_payload *in, const dc_dred_stats *stats, unsigned char *buf, int cap,
                             int *out_len) {
    if (out_len != NULL) *out_len = 0;
    if (in == NULL || stats == NULL || buf == NULL || cap < 0 || out_len == NULL) return DC_DRED_ERR_ARG;
    if (in->q0 < 0 || in->q0 >= DC_DRED_LEVELS || in->latent_count < 0 || in->latent_count > DC_DRED_MAX_LATENTS)
        return DC_DRED_ERR_VALUE;
    return DC_DRED_OK;
}

/* Encode a payload from q0, dQ, extra_flag/extra_offset, offset, qmax, state and latent_count latents. */
int dc_dred_encode(const dc_dred_payload *in, const dc_dred_stats *stats, unsigned char *buf, int cap, int *out_len) {
    dc_enc e;
    int k, ret, told[DC_DRED_MAX_LATENTS], n;
    int coded_qmax;
    if ((ret = check_encode_args(in, stats, buf, cap, out_len)) != DC_DRED_OK) return ret;
    coded_qmax = in->q0 < 14 && in->dQ > 0;
    if (in->dQ < 0 || in->dQ > 7 || in->extra_flag < 0 || in->extra_flag > 1 || in->extra_offset < 0
        || in->extra_offset > 255 || in->offset < 0 || in->offset > 31
        || (coded_qmax ? in->qmax <= in->q0 || in->qmax > 15 : in->qmax != 15))
        return DC_DRED_ERR_VALUE;                        /* qmax is 15 unless coded, and coded only above q0 */
    dc_enc_init(&e, buf, (uint32_t)cap);
    dc_enc_uint(&e, (uint32_t)in->q0, 16);
    dc_enc_uint(&e, (uint32_t)in->dQ, 8);
    if (in->extra_flag || in->extra_offset > 0) {
        dc_enc_uint(&e, 1, 2);
        dc_enc_uint(&e, (uint32_t)in->extra_offset, 256);
    } else dc_enc_uint(&e, 0, 2);
    dc_enc_uint(&e, (uint32_t)in->offset, 32);
    if (coded_qmax) {
        unsigned nv = (unsigned)(14 - in->q0), s = nv + (unsigned)(in->qmax - in->q0 - 1);
        if (in->qmax == 15) dc_encode(&e, 0, nv, 2 * nv);
        else dc_encode(&e, s, s + 1, 2 * nv);
    }
    ret = encode_values(&e, in->state, stats->state_r + in->q0 * DC_DRED_STATE_DIM,
                        stats->state_p0 + in->q0 * DC_DRED_STATE_DIM, DC_DRED_STATE_DIM);
    for (k = 0; ret == DC_DRED_OK && k < in->latent_count; k++) {
        int q = dc_dred_level(in->q0, in->dQ, in->qmax, k);
        told[k] = dc_enc_tell(&e);
        ret = encode_values(&e, in->latents[k], stats->latent_r + q * DC_DRED_LATENT_DIM,
                            stats->latent_p0 + q * DC_DRED_LATENT_DIM, DC_DRED_LATENT_DIM);
    }
    if (ret != DC_DRED_OK) return ret;
    if (e.error) return DC_DRED_ERR_BUFFER;              /* positions are meaningless once the buffer overflowed */
    n = (dc_enc_tell(&e) + 7) / 8;
    if (in->latent_count > 0 && 8 * n - told[in->latent_count - 1] <= 7) {
        /* The decoder would stop before the last latent (it cost under a byte's slack).  Zero bytes after the
           range coder's decode the same, so pad; unless fewer than 26 latents, where the pad would add one. */
        if (in->latent_count < DC_DRED_MAX_LATENTS) return DC_DRED_ERR_UNREPRESENTABLE;
        n = (told[in->latent_count - 1] + 15) / 8;       /* smallest n with 8*n - told >= 8 */
    }
    return finish(&e, n, cap, out_len);
}

/* Encode a standalone record: state then latent_count latents, all at level q0, no header. */
int dc_dred_encode_standalone(const dc_dred_payload *in, const dc_dred_stats *stats, unsigned char *buf, int cap,
                              int *out_len) {
    dc_enc e;
    int k, ret;
    if ((ret = check_encode_args(in, stats, buf, cap, out_len)) != DC_DRED_OK) return ret;
    dc_enc_init(&e, buf, (uint32_t)cap);
    ret = encode_values(&e, in->state, stats->state_r + in->q0 * DC_DRED_STATE_DIM,
                        stats->state_p0 + in->q0 * DC_DRED_STATE_DIM, DC_DRED_STATE_DIM);
    for (k = 0; ret == DC_DRED_OK && k < in->latent_count; k++)
        ret = encode_values(&e, in->latents[k], stats->latent_r + in->q0 * DC_DRED_LATENT_DIM,
                            stats->latent_p0 + in->q0 * DC_DRED_LATENT_DIM, DC_DRED_LATENT_DIM);
    if (ret != DC_DRED_OK) return ret;
    return finish(&e, (dc_enc_tell(&e) + 7) / 8, cap, out_len);
}
