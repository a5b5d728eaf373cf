/* The fixed-point RDOVAE decoder: DRED latents (integers) -> features (integers).

   What it computes: libopus 1.6.1 dnn/dred_rdovae_dec.c (DRED_rdovae_decode_all) on its
   generic C path (dnn/nnet.c, dnn/nnet_arch.h, dnn/vec.h without intrinsics), with every
   per-packet operation in integer arithmetic.  No float or double appears in these sources;
   the model's float32 numbers are turned into integers once, at load time, in Python
   (reference/rdovae.py), and this code checks every array it is given before use.

   Network (SPEC-NOTES section 4), per packet:
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

   Number formats (Qn: the integer is the value times 2^n):
     activations (tanh / sigmoid / GRU state / GLU / conv outputs, |x| <= 1)   Q30 in int32
     linear-layer outputs and pre-activations                                  Q32 in int64
     int8 layer inputs: libopus's own quantisation, x8 = floor(0.5 + fl32(127*x)),
       fl32 = rounding to float32 (24-bit significand, ties to even), mirrored exactly on
       the Q30 value; the int8 x int8 dot products are exact (int32), as in libopus
     per-row int8 scales: float32 = scale_mant * 2^-(32 + scale_shift), exact (Q32 output)
     biases: Q32 in int64 (libopus's `bias`, not `subias`: the generic path uses bias)
     float-weight layers (dec_hidden_init, dec_dense1): the dequantisation is folded into the
       weights per quantizer level, V[l][i][j] = W[i][j] * 256 / scale[l][j] (scale 0 counts
       as 1) in Q(frac), 32 <= frac <= 48; dec_dense1's level input W[i][25]*(l/8 - 1) is
       folded into a per-level bias.  The sum of those Q(frac) weights times the integer q
       values is exact, in two 64-bit halves, for ANY int32 q (q = qh*65536 + ql), then
       rounded to Q32 and saturated to +-4096 (Q32), far past where tanh_approx is 1: the
       saturation never changes a result.
     GRU and GLU products (z*state, (1-z)*h, state*sigmoid): Q30 x Q30 in int64, rounded to
       Q30; the recurrent candidate term rec_h * r: Q32 x Q30 split so no product exceeds
       64 bits, rounded to Q32 (dc_rdovae_mul_q30).
     features out: Q20 in int32 (the model is checked to keep |feature| < 1024).
   The int8 kernel is plain C, or SSE2 (pmaddwd) where the compiler targets it: both compute
   the same exact int32 sums, so the output bits do not depend on which one is built
   (-DDC_RDOVAE_NO_SIMD forces the plain C one; tests/test_determinism.py compares them).
   Rounding: every right shift that drops bits rounds half up (floor(v/2^s + 1/2)); signed
   shifts are written so no implementation-defined behaviour is involved.

   Activations: libopus's tanh_approx (vec.h), the rational function
     x (N0 + N1 x^2 + N2 x^4) / (D0 + D1 x^2 + D2 x^4), clamped to [-1, 1],
   with its float32 coefficients held exactly as integers, evaluated in 64-bit integer
   arithmetic (one division).  |result - exact rational| < 4e-9 (tests/test_rdovae.py checks
   it on a dense grid); sigmoid(x) = 1/2 + tanh_approx(x/2)/2 as in libopus.

   Safety: dc_rdovae_model_check must accept a model before any other call uses it (they
   return DC_RDOVAE_ERR_MODEL otherwise); it checks every dimension against the fixed
   architecture, every sparse index against the layer's input size, every weight array's
   length, and every value range that the overflow-freedom of the arithmetic relies on.
   The decode checks n (0..26), q0 and every level (0..15) and the output length.

   Against libopus's float features the remaining difference is libopus's own float32
   rounding (activations agree to a few 1e-7): when it puts an int8 input quantisation on
   the other side of a rounding boundary than the exact value does (about 1 packet in 40
   of the shared vectors), the difference runs on through the recurrent state. */
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

#define DC_RDOVAE_ACT_Q 30
#define DC_RDOVAE_PRE_Q 32
#define DC_RDOVAE_FEAT_Q 20

/* Layer slots, for dc_rdovae_model_check's report and the per-layer test entry points. */
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
#define DC_RDOVAE_ERR_MODEL -1   /* model not checked, or rejected by dc_rdovae_model_check */
#define DC_RDOVAE_ERR_COUNT -2   /* latent count outside 0..26 */
#define DC_RDOVAE_ERR_LEVEL -3   /* q0 or a latent level outside 0..15 */
#define DC_RDOVAE_ERR_ARG -4     /* NULL pointer, wrong buffer length, bad slot or stage */

/* dc_rdovae_model_check's reasons (check_reason) */
#define DC_RDOVAE_BAD_DIMS 1       /* nb_inputs / nb_outputs / nb_levels not the architecture's */
#define DC_RDOVAE_BAD_POINTER 2    /* a required array is NULL */
#define DC_RDOVAE_BAD_WEIGHTS 3    /* weight array length does not match the shape / sparse index */
#define DC_RDOVAE_BAD_INDEX 4      /* sparse index table malformed or out of the input range */
#define DC_RDOVAE_BAD_SCALE 5      /* scale shift outside 0..62, or scale too large for int64 products */
#define DC_RDOVAE_BAD_RANGE 6      /* a row's worst-case output or bias exceeds the headroom */
#define DC_RDOVAE_BAD_FRAC 7       /* float-layer fraction bits outside 32..48 */

/* An int8 layer (libopus LinearLayer with int8 weights), in libopus's sparse block form:
   for each group of 8 outputs, idx holds a count of 4-input column blocks then their first
   input positions; each block is 32 weights, here widened to int16 and stored by input
   pairs: weights[32b + 16p + 2k + t] is output 8g+k, input pos+2p+t (p, t in 0..1).  A dense
   layer is the same with every column block listed. */
typedef struct {
    int32_t nb_inputs;
    int32_t nb_outputs;
    const int16_t *weights;     /* int8 values (-128..127), 32 per block */
    int32_t nb_weights;
    const int32_t *idx;         /* per 8 outputs: a count, then that many input positions */
    int32_t nb_idx;
    const int64_t *bias;        /* [nb_outputs], Q32 */
    const int64_t *scale_mant;  /* [nb_outputs]: scale = scale_mant * 2^-(32 + scale_shift) */
    const int32_t *scale_shift; /* [nb_outputs], 0..62 */
} dc_rdovae_qlayer;

/* A float-weight layer on dequantized integer inputs, per quantizer level. */
typedef struct {
    int32_t nb_inputs;          /* integer inputs: 50 (state) or 25 (latent) */
    int32_t nb_outputs;
    int32_t nb_levels;          /* 16 */
    int32_t frac;               /* fraction bits of w and bias, 32..48 */
    const int64_t *w;           /* [nb_levels][nb_outputs][nb_inputs]: W*256/scale, Q(frac) */
    const int64_t *bias;        /* [nb_levels][nb_outputs], Q(frac) */
} dc_rdovae_flayer;

typedef struct {
    dc_rdovae_flayer hidden_init;                  /* dec_hidden_init */
    dc_rdovae_flayer dense1;                       /* dec_dense1 */
    dc_rdovae_qlayer gru_init;                     /* dec_gru_init */
    dc_rdovae_qlayer gru_input[5];                 /* dec_gru{1..5}_input */
    dc_rdovae_qlayer gru_recurrent[5];             /* dec_gru{1..5}_recurrent */
    dc_rdovae_qlayer glu[5];                       /* dec_glu{1..5} */
    dc_rdovae_qlayer conv_dense[5];                /* dec_conv_dense{1..5} */
    dc_rdovae_qlayer conv[5];                      /* dec_conv{1..5} */
    dc_rdovae_qlayer output;                       /* dec_output */
    int32_t checked;                               /* set by dc_rdovae_model_check */
    int32_t check_slot;                            /* on rejection: the slot ... */
    int32_t check_reason;                          /* ... and the DC_RDOVAE_BAD_* reason */
    int32_t check_row;                             /* ... and the row (or -1) */
} dc_rdovae_model;

/* Checks everything (see the header comment); DC_RDOVAE_OK or DC_RDOVAE_ERR_MODEL. */
int dc_rdovae_model_check(dc_rdovae_model *m);

/* The whole decoder.  state: 50 ints at level q0; latents: n x 25 ints, newest first;
   levels: n ints (each latent's quantizer level; libopus's standalone format uses q0 for all);
   features: features_len >= 80*n int32 (Q20), written in libopus's fec_features order.
   On error nothing is written. */
int dc_rdovae_decode(const dc_rdovae_model *m, const int32_t *state, int32_t q0,
                     const int32_t *latents, const int32_t *levels, int32_t n,
                     int32_t *features, int32_t features_len);

/* 1 if the int8 kernel is the SSE2 one, 0 if portable C (same results either way). */
int dc_rdovae_simd(void);

/* Activations and libopus's int8 input quantisation, for tests. */
int32_t dc_rdovae_tanh_q30(int64_t x_q32);
int32_t dc_rdovae_sigmoid_q30(int64_t x_q32);
int32_t dc_rdovae_quantize_q30(int32_t x_q30);

/* Per-layer entry points for tests: each runs one layer of a checked model, lengths checked. */
int dc_rdovae_layer_qlinear(const dc_rdovae_model *m, int32_t slot, const int32_t *in_q30, int32_t n_in,
                            int64_t *out_q32, int32_t n_out);
int dc_rdovae_layer_flayer(const dc_rdovae_model *m, int32_t slot, const int32_t *q, int32_t n_in,
                           int32_t level, int64_t *pre_q32, int32_t *out_q30, int32_t n_out);
int dc_rdovae_layer_dense_tanh(const dc_rdovae_model *m, int32_t slot, const int32_t *in_q30, int32_t n_in,
                               int32_t *out_q30, int32_t n_out);
int dc_rdovae_layer_gru(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30, int32_t n_in,
                        int32_t *state_q30, int32_t n_state);
int dc_rdovae_layer_glu(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30,
                        int32_t *out_q30, int32_t n);
int dc_rdovae_layer_conv(const dc_rdovae_model *m, int32_t stage, const int32_t *in_q30,
                         int32_t *mem_q30, int32_t *out_q30, int32_t n);
int dc_rdovae_layer_output(const dc_rdovae_model *m, const int32_t *in_q30, int32_t n_in,
                           int32_t *out_q20, int32_t n_out);
int dc_rdovae_layer_init_states(const dc_rdovae_model *m, const int32_t *state, int32_t q0,
                                int32_t *gru_q30, int32_t n_gru);
/* cdef end */

/* The int8 layers are slots GRU_INIT..OUTPUT, one after another.  Both decoders' model structs
   name them alike, so one macro finds the layer at a slot in either (NULL for another slot). */
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
