/* FARGAN's two libm calls (libopus dnn/fargan.c), exact by construction and in integers only, so
   that the hardware and the soft-float arithmetic share them and every platform gives the same bits.

     dc_fargan_exp(x)     gain = exp(gain) (fargan.c:89): libopus computes exp of the float32 in
                          double and stores the result as a float32.  Here: the correctly rounded
                          float32 exp of the float32 (NaN quieted, +inf past 88.72, +0 below -103.97,
                          subnormals rounded as such), from a 64-bit fixed-point 2^(x log2 e) whose
                          error is within DC_FARGAN_EXP_ERROR units of its last bit.  It equals
                          (float)exp((double)x) wherever libm's double result falls on the same side
                          of the float32 rounding boundary as the true value (docs/FARGAN.md counts
                          where glibc's does not).
     dc_fargan_period(f)  (int)floor(.5+256./pow(2.f,((1./60.)*((f+1.5)*60)))) (fargan.c:154, :204)
                          with IEEE double operations and a correctly rounded pow: a step function of
                          the float32 f that never increases, held as its steps (the smallest f of
                          each period, from reference/fargan_libm.py, which recomputes them) and held
                          within DC_FARGAN_PERIOD_MIN .. MAX: below 1 libopus reads outside its pitch
                          history (undefined; the reference takes 1), from 297 on (and for a NaN, or a
                          period past int) every period reads the oldest history sample and the last
                          pitch embedding, so 297 stands for them all. */
#ifndef DREDCONF_FARGAN_LIBM_H
#define DREDCONF_FARGAN_LIBM_H

#include <stdint.h>

/* cdef begin */
#define DC_FARGAN_PERIOD_MIN 1
#define DC_FARGAN_PERIOD_MAX 297
#define DC_FARGAN_EXP_ERROR 16     /* bound on the fixed-point exp's error, in units of its 64th bit */

/* Float32 bit patterns in and out. */
uint32_t dc_fargan_exp(uint32_t x);
int32_t dc_fargan_period(uint32_t f);
/* 1 when the fixed-point value of exp(x) lies within DC_FARGAN_EXP_ERROR of a rounding boundary,
   so that its rounding is not proven (an exhaustive scan finds no such float32: docs/FARGAN.md). */
int32_t dc_fargan_exp_unproven(uint32_t x);
/* The tables, for tests: which 0: 2^(63 + i/64) (64 entries); 1: the smallest float32 (bits) whose
   period is at most DC_FARGAN_PERIOD_MIN + i; 2: log2(e) * 2^127 (i = 0 high word, 1 low); 3: ln(2) * 2^64. */
uint64_t dc_fargan_libm_table(int32_t which, int32_t i);
/* cdef end */

#endif
