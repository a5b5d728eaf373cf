/* The FARGAN vocoder: float32 features -> libopus 1.6.1's 16 kHz speech, bit for bit.

   What it computes: libopus dnn/fargan.c on its generic C path, framed as fargan_demo
   -fargan-synthesis frames it, on nnet.h's layers in either arithmetic (DC_ARITH_EXACT: hardware
   float where the self-checks allow, else the soft-float; DC_ARITH_SOFTFLOAT): the same bits.
   Per 10 ms frame of 20 features (18 cepstra, pitch, pitch correlation), SPEC-NOTES section 4:
     period = dc_fargan_period(feature 18)                                  (fargan_libm.h)
     cond   = tanh(fdense2(tanh(fconv1([mem, tanh(fdense1([features, pembed row]))]))))   320 = 4 x 80
              (pembed row: cond_net_pembed's float weights, row clamp(period - 32, 0, 223))
     per subframe of 40 samples, with its 80 of cond and the previous frame's period:
       gain   = exp(cond_gain_dense(cond))   (dc_fargan_exp: libopus's exp in double, to float)
       gain_1 = 1/(1e-5 + gain)
       pred   = 44 samples of the 256-sample history, read from one period back, each x gain_1
                and clamped to [-1, 1]; prev = the newest 40, the same way
       x      = glu(tanh(fwc0_conv([mem, cond, pred, prev])))                        192
       gate   = sigmoid(gain_dense_out(x))                                           4
       g1 = glu1(gru1([x, gate0 pred[2..41], prev]))                                 160
       g2 = glu2(gru2([g1, gate1 pred[2..41], prev]))                                128
       g3 = glu3(gru3([g2, gate2 pred[2..41], prev]))                                128
       s   = glu(tanh(skip_dense([g1, g2, g3, x, gate3 pred[2..41], prev])))         688 -> 128
       pcm = tanh(sig_dense_out(s)) * gain                                           40
       the history takes pcm; the output is pcm de-emphasised: y = pcm + 0.85 y_prev
   fargan_demo's framing of N frames: fargan_cont primes the state with the first frame (five
   conditioning steps, four subframes over 320 zero samples, their output dropped: the history and
   the de-emphasis memory stay zero); frames 1 .. N-1 are synthesised, then the last frame twice more
   (fargan_demo keeps its last features when the file ends; for N = 1, where libopus reads an
   uninitialised buffer, the reference repeats frame 0), and of those 160 (N + 1) samples the first
   80 and the last 80 are dropped: 160 N samples, s16 = floor(.5 + clamp(32768 y, +-32767)), a NaN 0
   (x86 converts it to INT_MIN, whose low 16 bits libopus stores).

   Beyond a checked model nothing is assumed about the features: any float32 (huge, infinite, NaN)
   is run as libopus's generic build runs it on x86-64, but for periods outside 1 .. 297
   (fargan_libm.h), where libopus reads outside its pitch history.

   Safety: dc_fargan_check validates every layer (dc_linear_check) against the architecture, and
   cond_net_pembed's float weights, which are read as a table; dc_fargan_synthesize validates its
   arguments and refuses a model that has not passed the check. */
#ifndef DREDCONF_FARGAN_H
#define DREDCONF_FARGAN_H

#include <stdint.h>
#include "nnet.h"
#include "fargan_libm.h"

/* cdef begin */
#define DC_FARGAN_NUM_FEATURES 20
#define DC_FARGAN_FRAME 160              /* samples per 10 ms frame at 16 kHz */
#define DC_FARGAN_SUBFRAME 40
#define DC_FARGAN_SUBFRAMES 4
#define DC_FARGAN_PITCH_FEATURE 18
#define DC_FARGAN_PITCH_HISTORY 256      /* PITCH_MAX_PERIOD */
#define DC_FARGAN_PEMBED_ROWS 224
#define DC_FARGAN_PEMBED 12
#define DC_FARGAN_COND 320               /* 4 subframes x 80 */
#define DC_FARGAN_SUBFRAME_COND 80
#define DC_FARGAN_SIG_INPUT 164          /* cond 80, pred 44, prev 40 */
#define DC_FARGAN_GAINS_PER_FRAME 4      /* exp calls per frame */

/* Layer slots: libopus's FARGAN struct order (fargan_data.h). */
#define DC_FARGAN_SLOT_PEMBED 0
#define DC_FARGAN_SLOT_FDENSE1 1
#define DC_FARGAN_SLOT_FCONV1 2
#define DC_FARGAN_SLOT_FDENSE2 3
#define DC_FARGAN_SLOT_COND_GAIN 4
#define DC_FARGAN_SLOT_FWC0_CONV 5
#define DC_FARGAN_SLOT_FWC0_GLU 6
#define DC_FARGAN_SLOT_GRU1_INPUT 7
#define DC_FARGAN_SLOT_GRU1_RECURRENT 8
#define DC_FARGAN_SLOT_GRU2_INPUT 9
#define DC_FARGAN_SLOT_GRU2_RECURRENT 10
#define DC_FARGAN_SLOT_GRU3_INPUT 11
#define DC_FARGAN_SLOT_GRU3_RECURRENT 12
#define DC_FARGAN_SLOT_GRU1_GLU 13
#define DC_FARGAN_SLOT_GRU2_GLU 14
#define DC_FARGAN_SLOT_GRU3_GLU 15
#define DC_FARGAN_SLOT_SKIP_GLU 16
#define DC_FARGAN_SLOT_SKIP_DENSE 17
#define DC_FARGAN_SLOT_SIG_DENSE_OUT 18
#define DC_FARGAN_SLOT_GAIN_DENSE_OUT 19
#define DC_FARGAN_NSLOTS 20

#define DC_FARGAN_OK 0
#define DC_FARGAN_ERR_MODEL -1   /* model not checked, or rejected by its check */
#define DC_FARGAN_ERR_COUNT -2   /* no frame */
#define DC_FARGAN_ERR_ARG -4     /* NULL pointer, wrong buffer length, bad arith */

typedef struct {
    dc_linear layer[20];                  /* by slot */
    int32_t checked;                      /* set by dc_fargan_check */
    int32_t check_slot;                   /* on rejection: the slot ... */
    int32_t check_reason;                 /* ... the reason (DC_NN_BAD_*) ... */
    int32_t check_row;                    /* ... and the row (or -1) */
    int32_t row_bound[20];                /* int8 layers: the largest 128 * sum|w| of a row (< 2^24) */
    int32_t hw_levels;                    /* bit L: hardware kernel level L synthesises as the soft-float */
} dc_fargan_model;

/* nin x nout of the layer at a slot (-1 x -1 for no slot). */
void dc_fargan_layer_shape(int32_t slot, int32_t *nin, int32_t *nout);

/* Checks every layer, then compares each hardware kernel level with the soft-float on a synthetic
   synthesis (hw_levels).  DC_FARGAN_OK or DC_FARGAN_ERR_MODEL. */
int dc_fargan_check(dc_fargan_model *m);

/* The arithmetic DC_ARITH_EXACT runs for this model now (DC_ARITH_EXACT or DC_ARITH_SOFTFLOAT). */
int32_t dc_fargan_exact_runs(const dc_fargan_model *m);

/* fargan_demo -fargan-synthesis: n >= 1 frames of 20 features (oldest first) to pcm[160 n].
   gains, when not NULL, gets the argument of every exp call in order (4 for the priming, then 4 per
   synthesised frame: 4 (n + 2), gains_len at least that).  On error nothing is written. */
int dc_fargan_synthesize(const dc_fargan_model *m, int32_t arith, const float *features, int32_t n,
                         int16_t *pcm, int64_t pcm_len, float *gains, int64_t gains_len);
/* cdef end */

/* The synthesis itself, per arithmetic (fargan.inc), arguments checked; k: the hardware kernels. */
void dc_fargan_run_soft(const dc_nn_kernels *k, const dc_fargan_model *m, const float *features, int n,
                        int16_t *pcm, float *gains);
void dc_fargan_run_hw(const dc_nn_kernels *k, const dc_fargan_model *m, const float *features, int n,
                      int16_t *pcm, float *gains);

#endif
