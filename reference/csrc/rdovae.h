/* The RDOVAE decoder's architecture (libopus 1.6.1 dnn/dred_rdovae_dec.c, SPEC-NOTES section 4):
   its sizes, the slots that name its layers, and the codes its decoder and model check return.

   Network, per packet:
     hidden  = tanh(dec_hidden_init(state * 256 / state_scale[q0]))          50 -> 128
     gru_k   = tanh(dec_gru_init(hidden))[64k .. 64k+63], k = 0..4            128 -> 320
     conv memories = 0
     per latent (newest first), x = latent * 256 / latent_scale[level], plus level/8 - 1:
       buf  = tanh(dec_dense1(x))                                              26 -> 96
       5 times, stage k, each stage reading all of buf so far:
         gru_k  = GRU(dec_gruK_input(buf), dec_gruK_recurrent(gru_k))
         buf   += gru_k * sigmoid(dec_gluK(gru_k))                             (GLU, 64)
         t      = tanh(dec_conv_denseK(buf))                                   (32)
         buf   += tanh(dec_convK([mem_k, t])); mem_k = t                       (conv1d, kernel 2, 32)
       4 feature frames of 20 = dec_output(buf), newest frame first           576 -> 80
   The features of latent k are rows 4k .. 4k+3 of the output: libopus's fec_features order.
   The decoder itself is rdovae_exact.h's. */
#ifndef DREDCONF_RDOVAE_H
#define DREDCONF_RDOVAE_H

#include <stdint.h>

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

/* Layer slots, for the model check's report and the per-layer test entry points. */
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

#define DC_RDOVAE_OK 0
#define DC_RDOVAE_ERR_MODEL -1   /* model not checked, or rejected by its check */
#define DC_RDOVAE_ERR_COUNT -2   /* latent count outside 0..26 */
#define DC_RDOVAE_ERR_LEVEL -3   /* q0 or a latent level outside 0..15 */
#define DC_RDOVAE_ERR_ARG -4     /* NULL pointer, wrong buffer length, bad slot or stage */

/* the model check's reasons (check_reason) */
#define DC_RDOVAE_BAD_DIMS 1       /* nb_inputs / nb_outputs / nb_levels not the architecture's */
#define DC_RDOVAE_BAD_POINTER 2    /* a required array is NULL */
#define DC_RDOVAE_BAD_WEIGHTS 3    /* weight array length does not match the shape / sparse index */
#define DC_RDOVAE_BAD_INDEX 4      /* sparse index table malformed or out of the input range */
#define DC_RDOVAE_BAD_SCALE 5      /* a quantizer scale table value outside 0..255 */
#define DC_RDOVAE_BAD_RANGE 6      /* a float not finite, or an int8 row past the exactness bound */

/* cdef end */

/* The int8 layers are slots GRU_INIT..OUTPUT, one after another: the layer at a slot of a model
   struct (NULL for another slot). */
#define DC_RDOVAE_IN_GROUP(slot, first) ((slot) >= (first) && (slot) < (first) + DC_RDOVAE_STAGES)
#define DC_RDOVAE_QLAYER_AT(m, slot)                                                                   \
    ((slot) == DC_RDOVAE_SLOT_GRU_INIT ? &(m)->gru_init                                                \
     : (slot) == DC_RDOVAE_SLOT_OUTPUT ? &(m)->output                                                  \
     : DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GRU_INPUT) ? &(m)->gru_input[(slot) - DC_RDOVAE_SLOT_GRU_INPUT] \
     : DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GRU_RECURRENT)                                          \
         ? &(m)->gru_recurrent[(slot) - DC_RDOVAE_SLOT_GRU_RECURRENT]                                  \
     : DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GLU) ? &(m)->glu[(slot) - DC_RDOVAE_SLOT_GLU]            \
     : DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_CONV_DENSE) ? &(m)->conv_dense[(slot) - DC_RDOVAE_SLOT_CONV_DENSE] \
     : DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_CONV) ? &(m)->conv[(slot) - DC_RDOVAE_SLOT_CONV]         \
     : 0)

/* The architecture's inputs and outputs of the int8 layer at a slot (libopus dred_rdovae_dec.c):
   stage k reads the dense1 output and every earlier stage's GRU and conv outputs. */
static inline void dc_rdovae_qlayer_shape(int slot, int *nin, int *nout)
{
    const int stride = DC_RDOVAE_GRU + DC_RDOVAE_CONV;
    if (slot == DC_RDOVAE_SLOT_GRU_INIT) { *nin = DC_RDOVAE_HIDDEN; *nout = DC_RDOVAE_GRU_INIT; }
    else if (slot == DC_RDOVAE_SLOT_OUTPUT) { *nin = DC_RDOVAE_BUFFER; *nout = DC_RDOVAE_OUT_PER_LATENT; }
    else if (DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GRU_INPUT)) {
        *nin = DC_RDOVAE_DENSE1 + (slot - DC_RDOVAE_SLOT_GRU_INPUT) * stride;
        *nout = 3 * DC_RDOVAE_GRU;
    } else if (DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GRU_RECURRENT)) { *nin = DC_RDOVAE_GRU; *nout = 3 * DC_RDOVAE_GRU; }
    else if (DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_GLU)) { *nin = DC_RDOVAE_GRU; *nout = DC_RDOVAE_GRU; }
    else if (DC_RDOVAE_IN_GROUP(slot, DC_RDOVAE_SLOT_CONV_DENSE)) {
        *nin = DC_RDOVAE_DENSE1 + (slot - DC_RDOVAE_SLOT_CONV_DENSE) * stride + DC_RDOVAE_GRU;
        *nout = DC_RDOVAE_CONV;
    } else { *nin = 2 * DC_RDOVAE_CONV; *nout = DC_RDOVAE_CONV; }   /* conv */
}

#endif
