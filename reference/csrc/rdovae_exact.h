/* The exact RDOVAE decoder: DRED integers -> libopus's float32 features, bit for bit.

   What it computes: libopus 1.6.1 DRED_rdovae_decode_all (dnn/dred_rdovae_dec.c) on its
   generic C path (dnn/nnet.c, dnn/nnet_arch.h, dnn/vec.h without intrinsics) as an x86-64
   build runs it (SSE scalar float32, every operation rounded separately, no FMA), with the
   same operations in the same order, each emulated exactly by the integer soft-float in
   softfloat32.h.  No float or double type appears; a float is its bit pattern (uint32_t).
   The model's float32 numbers are handed over as bit patterns (reference/rdovae.py).

   libopus's operations, in order (x: a float vector, every op below a float32 op):
     dequantisation (dnn/dred_decoder.c):  x = ((float)q * 256.f) / (float)(s == 0 ? 1 : s),
       s the level's uint8 quantizer scale; dec_dense1's 26th input is q_level*.125 - 1
       (exact for levels 0..15)
     float-weight layers (dec_hidden_init, dec_dense1; sgemv16x1 / sgemv8x1 / plain sgemv all
       accumulate alike):  y[i] = 0; for j in order: y[i] = y[i] + w[j*nout + i] * x[j];
       then y[i] = y[i] + bias[i]
     int8 layers (cgemv8x4 dense, sparse_cgemv8x4; USE_SU_BIAS is only defined by the SSE/AVX
       header, so the generic path uses the signed int8 input and `bias`):
       x8[j] = (int8)(int)floor(.5 + (double)(127.f * x[j]));
       y[i] = sum of w * x8 (libopus sums in float, but every partial sum is an integer below
       128*128*576 < 2^24, so exact: here an int32 sum); y[i] = (float)y[i] * scale[i];
       then y[i] = y[i] + bias[i]
     tanh_approx(x): X2 = x*x; num = (N2*X2 + N1)*X2 + N0; den = (D2*X2 + D1)*X2 + D0;
       t = (num*x)/den; t = (1 < t) ? 1 : t; t = (-1 > t) ? -1 : t
     sigmoid_approx(x) = .5f + .5f*tanh_approx(.5f*x)
     compute_generic_gru: zrh = in_layer(in); rec = rec_layer(state);
       zrh[i] += rec[i] (i < 2N); z, r = sigmoid(...); h = tanh(zrh_h + rec_h*r);
       state = z*state + (1 - z)*h
     compute_glu: out = in * sigmoid(layer(in))
     compute_generic_conv1d (kernel 2): out = tanh(layer([mem, in])); mem = in
     decode_all: init_states (hidden = tanh(dec_hidden_init(state)), the 5 GRU states =
       tanh(dec_gru_init(hidden)), conv memories 0), then per latent decode_qframe (see
       rdovae.h), 80 features per latent in fec_features order.
   A float-layer input of +-0 is skipped: its products are +-0 and y[i] is never -0 (it starts
   at +0, and no float sum is -0 unless both terms are), so y[i] + (+-0) == y[i].  That needs
   finite weights, which the check guarantees.  tanh_approx on |x| in [2^-40, 2^21) (nearly
   every call) keeps its intermediate values unpacked, as every one of them is a positive
   normal float there; it was checked equal to the general soft-float form for every float32
   in that range, and tests/test_rdovae_exact.py samples it.  The soft-float itself matches
   the hardware on 200 million random operand pairs per operation (and the unit tests).

   Beyond a checked model (every float finite) nothing is assumed about the integers: any
   int32 q is dequantized and run exactly as libopus would on x86-64.  Past |x| ~ 2.3e9 a
   tanh_approx overflows to inf/inf = NaN, as libopus's does; the int8 quantisation of a
   NaN is 0 (x86 gives INT32_MIN, and libopus's int8 store keeps its low byte), of a value
   past int8 its low byte; NaN payloads (not defined by libopus) follow SSE's rules, see
   softfloat32.h.

   Safety: dc_rdovae_exact_check validates every dimension against the fixed architecture,
   every array length, every sparse index against the layer's input size, the int8 range of
   every weight, the quantizer scale tables (0..255) and the finiteness of every float; the
   decode validates n (0..26), q0, every level (0..15) and the output length. */
#ifndef DREDCONF_RDOVAE_EXACT_H
#define DREDCONF_RDOVAE_EXACT_H

#include <stdint.h>
#include "rdovae.h"

/* cdef begin */
/* dc_rdovae_exact_check's slot for the quantizer scale tables (layers use rdovae.h's slots) */
#define DC_RDOVAE_EXACT_SLOT_SCALES 29

/* A float-weight layer, libopus's sgemv layout: weights[j * nb_outputs + i] is input j, output i. */
typedef struct {
    int32_t nb_inputs;
    int32_t nb_outputs;
    const uint32_t *weights;    /* float32 bits, nb_inputs * nb_outputs */
    int32_t nb_weights;
    const uint32_t *bias;       /* float32 bits [nb_outputs], or NULL: no bias */
} dc_rdovae_exact_flayer;

/* An int8 layer: libopus's blocks of 8 outputs x 4 inputs with a sparse index (sparse8x4.h), each
   block reordered by input pairs, int8 values held in int16. */
typedef struct {
    int32_t nb_inputs;
    int32_t nb_outputs;
    const int16_t *weights;
    int32_t nb_weights;
    const int32_t *idx;
    int32_t nb_idx;
    const uint32_t *scale;      /* float32 bits [nb_outputs] */
    const uint32_t *bias;       /* float32 bits [nb_outputs], or NULL: no bias */
} dc_rdovae_exact_qlayer;

typedef struct {
    dc_rdovae_exact_flayer hidden_init;
    dc_rdovae_exact_flayer dense1;
    dc_rdovae_exact_qlayer gru_init;
    dc_rdovae_exact_qlayer gru_input[5];
    dc_rdovae_exact_qlayer gru_recurrent[5];
    dc_rdovae_exact_qlayer glu[5];
    dc_rdovae_exact_qlayer conv_dense[5];
    dc_rdovae_exact_qlayer conv[5];
    dc_rdovae_exact_qlayer output;
    const int32_t *state_scale;    /* [16][50] libopus dred_state_quant_scales_q8 (0..255) */
    const int32_t *latent_scale;   /* [16][25] libopus dred_latent_quant_scales_q8 */
    int32_t checked;
    int32_t check_slot;
    int32_t check_reason;          /* rdovae.h's DC_RDOVAE_BAD_* */
    int32_t check_row;
} dc_rdovae_exact_model;

int dc_rdovae_exact_check(dc_rdovae_exact_model *m);

/* The whole decoder.  state: 50 ints at level q0; latents: n x 25 ints, newest first;
   levels: n ints (each latent's quantizer level; libopus's standalone format uses q0 for all);
   features: features_len >= 80*n float32 bit patterns, libopus's, in its fec_features order.
   On error nothing is written. */
int dc_rdovae_exact_decode(const dc_rdovae_exact_model *m, const int32_t *state, int32_t q0,
                           const int32_t *latents, const int32_t *levels, int32_t n,
                           uint32_t *features, int32_t features_len);

/* 1 if the int8 kernel is the SSE2 one, 0 if portable C (same results either way). */
int dc_rdovae_exact_simd(void);

/* Pieces, for tests (float32 bits in and out). */
uint32_t dc_rdovae_exact_tanh(uint32_t x);
uint32_t dc_rdovae_exact_tanh_general(uint32_t x);   /* the general form only (tests compare) */
uint32_t dc_rdovae_exact_sigmoid(uint32_t x);
int32_t dc_rdovae_exact_quantize(uint32_t x);
/* One layer's linear part (bias added, no activation) of a checked model: any slot. */
int dc_rdovae_exact_layer_linear(const dc_rdovae_exact_model *m, int32_t slot, const uint32_t *in, int32_t n_in,
                                 uint32_t *out, int32_t n_out);
/* cdef end */

#endif
