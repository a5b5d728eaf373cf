/* libopus's int8 block-sparse weight layout (dnn/vec.h sparse_cgemv8x4): its check and its
   exact integer kernel.

   Layout: per group of 8 outputs, idx holds a block count, then that many input positions
   (multiples of 4); each block is 32 int8 values held in int16, w[16p + 2k + t] being output
   k times input pos + 2p + t (p = 0, 1; t = 0, 1).  A dense layer is the same with every
   block present. */
#ifndef DC_SPARSE8X4_H
#define DC_SPARSE8X4_H

#include <stdint.h>
#include "rdovae.h"

/* The int8 kernel's SSE2 form (x86-64 baseline, integer only: pmaddwd); -DDC_RDOVAE_NO_SIMD
   selects the portable C.  Every product and partial sum is an exact int32 (callers check the
   bound), so both forms give the same integers; tests/test_determinism.py builds both. */
#if defined(__SSE2__) && !defined(DC_RDOVAE_NO_SIMD)
#define DC_SPARSE8X4_SSE2 1
#include <emmintrin.h>
#endif

/* 1 when the SSE2 kernel is compiled in. */
static inline int dc_sparse8x4_simd(void)
{
#ifdef DC_SPARSE8X4_SSE2
    return 1;
#else
    return 0;
#endif
}

/* Validates the index and weights of an nin x nout layer (nout <= DC_RDOVAE_GRU_INIT, a
   multiple of 8, checked by the caller) and sums |w| per output row into rowsum, the bound
   callers use for exactness.  Returns 0, or DC_RDOVAE_BAD_INDEX / DC_RDOVAE_BAD_WEIGHTS with
   the offending row in *bad_row (-1 when it is the table as a whole). */
static inline int dc_sparse8x4_check(const int16_t *weights, int32_t nb_weights, const int32_t *idx,
                                     int32_t nb_idx, int nin, int nout, int32_t *rowsum, int *bad_row)
{
    int i, p = 0, nblocks = 0;
    *bad_row = -1;
    if (nb_idx < 0 || nb_weights < 0) return DC_RDOVAE_BAD_INDEX;
    for (i = 0; i < nout; i++) rowsum[i] = 0;
    for (i = 0; i < nout; i += 8) {
        int count, b, k, c;
        *bad_row = i;
        if (p >= nb_idx) return DC_RDOVAE_BAD_INDEX;
        count = idx[p++];
        if (count < 0 || count > nb_idx - p || count > nin / 4) return DC_RDOVAE_BAD_INDEX;
        for (b = 0; b < count; b++) {
            int pos = idx[p++];
            if (pos < 0 || pos > nin - 4 || (pos & 3)) return DC_RDOVAE_BAD_INDEX;
            if (nblocks >= nb_weights / 32) return DC_RDOVAE_BAD_WEIGHTS;
            for (c = 0; c < 4; c++)
                for (k = 0; k < 8; k++) {
                    int w = weights[32 * nblocks + 16 * (c >> 1) + 2 * k + (c & 1)];
                    if (w < -128 || w > 127) {
                        *bad_row = i + k;
                        return DC_RDOVAE_BAD_WEIGHTS;
                    }
                    rowsum[i + k] += w < 0 ? -w : w;   /* <= 128 * nin: no overflow */
                }
            nblocks++;
        }
    }
    *bad_row = -1;
    if (p != nb_idx) return DC_RDOVAE_BAD_INDEX;
    if (nb_weights != 32 * nblocks) return DC_RDOVAE_BAD_WEIGHTS;
    return 0;
}

/* The 8 exact int32 sums of one group of outputs; advances the weight and index positions. */
static inline void dc_sparse8x4_sums(const int16_t *weights, const int32_t *index, const int16_t *x, int32_t *y,
                                     int *widx, int *iidx)
{
    const int16_t *w = &weights[*widx];
    const int32_t *idx = &index[*iidx];
    int blocks = *idx++;
    int b;
#ifdef DC_SPARSE8X4_SSE2
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128();
    for (b = 0; b < blocks; b++) {
        int pos = *idx++;
        __m128i x01 = _mm_unpacklo_epi16(_mm_set1_epi16(x[pos]), _mm_set1_epi16(x[pos + 1]));
        __m128i x23 = _mm_unpacklo_epi16(_mm_set1_epi16(x[pos + 2]), _mm_set1_epi16(x[pos + 3]));
        lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)w), x01));
        hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 8)), x01));
        lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 16)), x23));
        hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 24)), x23));
        w += 32;
    }
    _mm_storeu_si128((__m128i *)y, lo);
    _mm_storeu_si128((__m128i *)(y + 4), hi);
#else
    int k;
    for (k = 0; k < 8; k++) y[k] = 0;
    for (b = 0; b < blocks; b++) {
        int pos = *idx++;
        int32_t x0 = x[pos], x1 = x[pos + 1], x2 = x[pos + 2], x3 = x[pos + 3];
        for (k = 0; k < 8; k++)
            y[k] += w[2 * k] * x0 + w[2 * k + 1] * x1 + w[16 + 2 * k] * x2 + w[17 + 2 * k] * x3;
        w += 32;
    }
#endif
    *widx += 32 * blocks;
    *iidx += 1 + blocks;
}

#endif
