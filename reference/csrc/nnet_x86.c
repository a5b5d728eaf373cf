/* The hardware kernels' SIMD forms on x86 (nnet.h's dc_nn_kernels): SSE2, the x86-64 baseline,
   and AVX2, compiled here with a target attribute and chosen at run time (nnet.c).  nnet_simd.inc
   holds them once, for either lane count; this file gives it each instruction set's operations
   and the one part whose shape differs, the int8 group sums.  Lanes run across outputs or
   elements, never along a sum; every float operation is one IEEE operation rounded on its own
   (a multiply then an add, never fused: -ffp-contract=off; a true division); MINPS/MAXPS return
   their first operand where the comparison holds, else the second: libopus's MIN32/MAX32. */
#include "nnet.h"
#include "nnet_arith.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && !defined(DC_NN_NO_SIMD)
#include <immintrin.h>

/* The 4 int8 inputs pos .. pos+3 (held in int16) twice: one block's inputs for a pair of outputs. */
static inline __m128i inputs4(const int16_t *x8, int pos)
{
    int64_t v;
    memcpy(&v, &x8[pos], sizeof v);
    return _mm_set1_epi64x(v);
}

/* ------------------------------------------------------------------ SSE2 */

#define V(name) name##_sse2
#define VFN static
#define LANES 4
#define VF __m128
#define VI __m128i
#define VK(c) _mm_castsi128_ps(_mm_set1_epi32((int)(c)))
#define VZERO() _mm_setzero_ps()
#define VSET1(x) _mm_set1_ps(x)
#define VLOAD(p) _mm_loadu_ps(p)
#define VSTORE(p, v) _mm_storeu_ps(p, v)
#define VISTORE(p, v) _mm_storeu_si128((__m128i *)(p), v)
#define VADD(a, b) _mm_add_ps(a, b)
#define VSUB(a, b) _mm_sub_ps(a, b)
#define VMUL(a, b) _mm_mul_ps(a, b)
#define VDIV(a, b) _mm_div_ps(a, b)
#define VMIN(a, b) _mm_min_ps(a, b)
#define VMAX(a, b) _mm_max_ps(a, b)
#define VAND(a, b) _mm_and_ps(a, b)
#define VGE(a, b) _mm_cmpge_ps(a, b)
#define VLT(a, b) _mm_cmplt_ps(a, b)
#define VMASK(m) _mm_castps_si128(m)
#define VTRUNC(x) _mm_cvttps_epi32(x)
#define VFLOAT(i) _mm_cvtepi32_ps(i)
#define VIADD(a, b) _mm_add_epi32(a, b)
#define VISUB(a, b) _mm_sub_epi32(a, b)
#define VIAND(a, b) _mm_and_si128(a, b)
#define VSIGN8(i) _mm_srai_epi32(_mm_slli_epi32(i, 24), 24)   /* the low byte, sign-extended */
#define VPACK16(p, a, b) _mm_storeu_si128((__m128i *)(p), _mm_packs_epi32(a, b))

/* One block's products added into the four accumulators (outputs 0-1, 2-3, 4-5, 6-7, each as
   two partial sums): pmaddwd on the int8 weights widened to int16. */
static inline void block_sse2(const int8_t *w, const int16_t *x8, int pos, __m128i *a)
{
    const __m128i x = inputs4(x8, pos);
    const __m128i w0 = _mm_loadu_si128((const __m128i *)w), w1 = _mm_loadu_si128((const __m128i *)(w + 16));
    /* each int16 lane holds a weight twice; the arithmetic shift leaves it sign-extended */
    a[0] = _mm_add_epi32(a[0], _mm_madd_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(w0, w0), 8), x));
    a[1] = _mm_add_epi32(a[1], _mm_madd_epi16(_mm_srai_epi16(_mm_unpackhi_epi8(w0, w0), 8), x));
    a[2] = _mm_add_epi32(a[2], _mm_madd_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(w1, w1), 8), x));
    a[3] = _mm_add_epi32(a[3], _mm_madd_epi16(_mm_srai_epi16(_mm_unpackhi_epi8(w1, w1), 8), x));
}

/* [o_a inputs 0-1, o_a inputs 2-3, o_b 0-1, o_b 2-3] and the same for o_c, o_d: o_a..o_d. */
static inline __m128i halves_sse2(__m128i ab, __m128i cd)
{
    return _mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(ab), _mm_castsi128_ps(cd), 0x88)),
                         _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(ab), _mm_castsi128_ps(cd), 0xdd)));
}

/* The exact int32 sums of 8 outputs into s[0..1]; advances w and idx past the group's blocks. */
static inline void group_sse2(const int8_t **wp, const int32_t **ip, int dense_blocks, const int16_t *x8, __m128i *s)
{
    const int8_t *w = *wp;
    const int32_t *idx = *ip;
    __m128i a[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
    int b, blocks;
    if (idx)   /* sparse: the positions listed; dense: every 4 inputs (two loops: no test per block) */
        for (b = 0, blocks = *idx++; b < blocks; b++, w += 32) block_sse2(w, x8, *idx++, a);
    else
        for (b = 0; b < dense_blocks; b++, w += 32) block_sse2(w, x8, 4 * b, a);
    s[0] = halves_sse2(a[0], a[1]);
    s[1] = halves_sse2(a[2], a[3]);
    *wp = w;
    *ip = idx;
}

#include "nnet_simd.inc"

#undef V
#undef VFN
#undef LANES
#undef VK
#undef VZERO
#undef VSET1
#undef VLOAD
#undef VSTORE
#undef VISTORE
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VMIN
#undef VMAX
#undef VAND
#undef VGE
#undef VLT
#undef VMASK
#undef VTRUNC
#undef VFLOAT
#undef VIADD
#undef VISUB
#undef VIAND
#undef VSIGN8
#undef VPACK16
#undef VF
#undef VI

/* ------------------------------------------------------------------ AVX2 */

#define V(name) name##_avx2
#define VFN __attribute__((target("avx2"))) static
#define LANES 8
#define VF __m256
#define VI __m256i
#define VK(c) _mm256_castsi256_ps(_mm256_set1_epi32((int)(c)))
#define VZERO() _mm256_setzero_ps()
#define VSET1(x) _mm256_set1_ps(x)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VISTORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VDIV(a, b) _mm256_div_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VAND(a, b) _mm256_and_ps(a, b)
#define VGE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define VLT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define VMASK(m) _mm256_castps_si256(m)
#define VTRUNC(x) _mm256_cvttps_epi32(x)
#define VFLOAT(i) _mm256_cvtepi32_ps(i)
#define VIADD(a, b) _mm256_add_epi32(a, b)
#define VISUB(a, b) _mm256_sub_epi32(a, b)
#define VIAND(a, b) _mm256_and_si256(a, b)
#define VSIGN8(i) _mm256_srai_epi32(_mm256_slli_epi32(i, 24), 24)
/* packs works within 128-bit halves: the 64-bit quarters are put back in order */
#define VPACK16(p, a, b) _mm256_storeu_si256((__m256i *)(p), _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8))

/* The exact int32 sums of 8 outputs, in order, into s[0]: each block's 32 int8 weights widened to
   int16 (outputs 0-3, then 4-7, 4 inputs each), vpmaddwd with the block's 4 inputs repeated; at
   the end the two partial sums of each output are added (vphaddd) and put in output order. */
VFN inline void block_avx2(const int8_t *w, const int16_t *x8, int pos, __m256i *a, __m256i *c)
{
    const __m256i x = _mm256_broadcastq_epi64(inputs4(x8, pos));
    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w)), x));
    *c = _mm256_add_epi32(*c, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 16))), x));
}

VFN inline void group_avx2(const int8_t **wp, const int32_t **ip, int dense_blocks, const int16_t *x8, __m256i *s)
{
    const int8_t *w = *wp;
    const int32_t *idx = *ip;
    __m256i a = _mm256_setzero_si256(), c = a;
    int b, blocks;
    if (idx)   /* sparse: the positions listed; dense: every 4 inputs (two loops: no test per block) */
        for (b = 0, blocks = *idx++; b < blocks; b++, w += 32) block_avx2(w, x8, *idx++, &a, &c);
    else
        for (b = 0; b < dense_blocks; b++, w += 32) block_avx2(w, x8, 4 * b, &a, &c);
    s[0] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, c), 0xd8);   /* [o0 o1 o4 o5 | o2 o3 o6 o7] -> o0..o7 */
    *wp = w;
    *ip = idx;
}

#include "nnet_simd.inc"

#else
typedef int dc_nn_x86_unused;   /* ISO C: no empty translation unit */
#endif
