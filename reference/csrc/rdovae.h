/* The RDOVAE decoder: DRED integers -> libopus 1.6.1's float32 features, bit for bit.

   What it computes: libopus DRED_rdovae_decode_all (dnn/dred_rdovae_dec.c) on its generic C
   path, in nnet.h's layers and either arithmetic (DC_ARITH_EXACT: hardware float, the soft-float
   where the self-check says the hardware cannot be trusted; DC_ARITH_SOFTFLOAT): the same bits.
   Network, per packet (SPEC-NOTES section 4):
     dequantisation (dnn/dred_decoder.c): x = ((float)q * 256.f) / (float)(s == 0 ? 1 : s), s the
       level's uint8 quantizer scale; dec_dense1's 26th input is level*.125 - 1 (exact)
     hidden  = tanh(dec_hidden_init(state at level q0))                        50 -> 128
     gru_k   = tanh(dec_gru_init(hidden))[64k .. 64k+63], k = 0..4            128 -> 320
     conv memories = 0
     per latent (newest first):
       buf  = tanh(dec_dense1(latent at its level, level/8 - 1))               26 -> 96
       5 times, stage k, each stage reading all of buf so far:
         gru_k  = GRU(dec_gruK_input(buf), dec_gruK_recurrent(gru_k))
         buf   += gru_k * sigmoid(dec_gluK(gru_k))                             (GLU, 64)
         t      = tanh(dec_conv_denseK(buf))                                   (32)
         buf   += tanh(dec_convK([mem_k, t])); mem_k = t                       (conv1d, kernel 2, 32)
       4 feature frames of 20 = dec_output(buf), newest frame first           576 -> 80
   The features of latent k are rows 4k .. 4k+3: libopus's fec_features order.  Every layer
   quantizes the same prefix of buf to int8 the same way, so that is done once per value.

   Beyond a checked model nothing is assumed about the integers: any int32 q is dequantized and
   run as libopus would on x86-64: huge ones make tanh_approx inf/inf = NaN in the float layers'
   outputs, as there, which the next (int8) layers quantize to 0, so the features stay finite.

   Safety: dc_rdovae_check validates every layer (dc_linear_check) against the architecture and
   the quantizer scale tables; the decoders validate n (0..26), q0, every level (0..15) and the
   output length, and refuse a model that has not passed the check. */
#ifndef DREDCONF_RDOVAE_H
#define DREDCONF_RDOVAE_H

#include <stdint.h>
#include "nnet.h"
#include "dred_payload.h"

/* cdef begin */
#define DC_RDOVAE_LEVELS 16
#define DC_RDOVAE_STATE_DIM 50
#define DC_RDOVAE_LATENT_DIM 25
#define DC_RDOVAE_NUM_FEATURES 20
#define DC_RDOVAE_FRAMES_PER_LATENT 4
#define DC_RDOVAE_OUT_PER_LATENT 80
#define DC_RDOVAE_MAX_LATENTS 26
#define DC_RDOVAE_HIDDEN 128
#define DC_RDOVAE_DENSE1 96
#define DC_RDOVAE_GRU 64
#define DC_RDOVAE_CONV 32
#define DC_RDOVAE_STAGES 5
#define DC_RDOVAE_BUFFER 576
#define DC_RDOVAE_GRU_INIT 320

/* Layer slots (libopus's dec_* layers), for the model struct, its check's report and tests. */
#define DC_RDOVAE_SLOT_HIDDEN_INIT 0
#define DC_RDOVAE_SLOT_DENSE1 1
#define DC_RDOVAE_SLOT_GRU_INIT 2
#define DC_RDOVAE_SLOT_GRU_INPUT 3       /* + stage 0..4 */
#define DC_RDOVAE_SLOT_GRU_RECURRENT 8   /* + stage */
#define DC_RDOVAE_SLOT_GLU 13            /* + stage */
#define DC_RDOVAE_SLOT_CONV_DENSE 18     /* + stage */
#define DC_RDOVAE_SLOT_CONV 23           /* + stage */
#define DC_RDOVAE_SLOT_OUTPUT 28
#define DC_RDOVAE_NSLOTS 29
#define DC_RDOVAE_SLOT_SCALES 29         /* the check's slot for the quantizer scale tables */

#define DC_RDOVAE_OK 0
#define DC_RDOVAE_ERR_MODEL -1   /* model not checked, or rejected by its check */
#define DC_RDOVAE_ERR_COUNT -2   /* latent count outside 0..26 */
#define DC_RDOVAE_ERR_LEVEL -3   /* q0 or a latent level outside 0..15 */
#define DC_RDOVAE_ERR_ARG -4     /* NULL pointer, wrong buffer length, bad slot or arith */

/* the check's reasons: nnet.h's DC_NN_BAD_*, and */
#define DC_RDOVAE_BAD_SCALE 8    /* a quantizer scale table missing or of the wrong size */

typedef struct {
    dc_linear layer[29];                  /* by slot */
    const uint8_t *state_scale;           /* dred_state_quant_scales_q8 [16][50] */
    int32_t nb_state_scale;
    const uint8_t *latent_scale;          /* dred_latent_quant_scales_q8 [16][25] */
    int32_t nb_latent_scale;
    int32_t checked;                      /* set by dc_rdovae_check */
    int32_t check_slot;                   /* on rejection: the slot ... */
    int32_t check_reason;                 /* ... the reason ... */
    int32_t check_row;                    /* ... and the row (or -1) */
    int32_t row_bound[29];                /* int8 layers: the largest 128 * sum|w| of a row (< 2^24) */
    int32_t hw_levels;                    /* bit L: hardware kernel level L decodes this model as the soft-float */
} dc_rdovae_model;

/* nin x nout of the layer at a slot (-1 x -1 for no slot). */
void dc_rdovae_layer_shape(int32_t slot, int32_t *nin, int32_t *nout);

/* Checks everything (see above), then compares each hardware kernel level with the soft-float on
   a synthetic decode (hw_levels).  DC_RDOVAE_OK or DC_RDOVAE_ERR_MODEL. */
int dc_rdovae_check(dc_rdovae_model *m);

/* The arithmetic DC_ARITH_EXACT runs for this model now (DC_ARITH_EXACT or DC_ARITH_SOFTFLOAT). */
int32_t dc_rdovae_exact_runs(const dc_rdovae_model *m);

/* The whole decoder.  state: 50 ints at level q0; latents: n x 25 ints, newest first;
   levels: n ints (each latent's level; libopus's standalone format uses q0 for all);
   features: features_len >= 80*n floats, libopus's, in its fec_features order.
   On error nothing is written. */
int dc_rdovae_decode(const dc_rdovae_model *m, int32_t arith, const int32_t *state, int32_t q0,
                     const int32_t *latents, const int32_t *levels, int32_t n, float *features, int32_t features_len);

/* Many DRED payloads in one call: payload i is data[offsets[i] .. offsets[i+1]) (the bytes after
   'D' and the version) at frame_offsets[i]; its integers go to payloads[i] (dc_dred_decode with
   max_latents) and, when m is not NULL, its features to features[i * 26 * 80 ..] (latent_count * 80
   of them).  DC_RDOVAE_OK, or an error code with nothing decoded. */
int dc_dred_decode_many(const dc_rdovae_model *m, int32_t arith, const dc_dred_stats *stats,
                        const unsigned char *data, int64_t data_len, const int64_t *offsets,
                        const int32_t *frame_offsets, int32_t n, int32_t max_latents,
                        dc_dred_payload *payloads, float *features, int64_t features_len);

/* One layer's linear part (bias added) of a checked model, for tests. */
int dc_rdovae_layer_linear(const dc_rdovae_model *m, int32_t arith, int32_t slot, const float *in, int32_t n_in,
                           float *out, int32_t n_out);
/* cdef end */

/* The decode itself, per arithmetic (rdovae.inc), arguments checked; k: the hardware kernels. */
void dc_rdovae_run_soft(const dc_nn_kernels *k, const dc_rdovae_model *m, const int32_t *state, int q0,
                        const int32_t *latents, const int32_t *levels, int n, float *features);
void dc_rdovae_run_hw(const dc_nn_kernels *k, const dc_rdovae_model *m, const int32_t *state, int q0,
                      const int32_t *latents, const int32_t *levels, int n, float *features);

#endif
