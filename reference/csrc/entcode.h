/* What the RFC 6716 section 4.1 range decoder and encoder share (libopus celt/entcode.h):
   the coder's constants, ilog, and the bit counts tell and tell_frac, which both sides
   compute alike from their whole-bit count and range size. */
#ifndef DREDCONF_ENTCODE_H
#define DREDCONF_ENTCODE_H
#include <stdint.h>

#define DC_EC_SYM_BITS 8                                      /* the coder emits bytes */
#define DC_EC_CODE_BITS 32                                    /* width of rng and val */
#define DC_EC_SYM_MAX ((1u << DC_EC_SYM_BITS) - 1)
#define DC_EC_CODE_TOP (1u << (DC_EC_CODE_BITS - 1))          /* rng never exceeds this */
#define DC_EC_CODE_BOT (DC_EC_CODE_TOP >> DC_EC_SYM_BITS)     /* renormalise while rng <= this */
#define DC_EC_CODE_SHIFT (DC_EC_CODE_BITS - DC_EC_SYM_BITS - 1) /* encoder: val >> this is the next byte plus a carry bit */
#define DC_EC_CODE_EXTRA ((DC_EC_CODE_BITS - 2) % DC_EC_SYM_BITS + 1) /* decoder: bits of the first byte used by init: 7 */
#define DC_EC_UINT_BITS 8                                     /* uint codes at most this many high bits with the range coder */
#define DC_EC_WINDOW_BITS 32                                  /* size of the raw-bit window */

/* Number of bits needed to write v (0 for 0). */
static inline int dc_ec_ilog(uint32_t v) { int n = 0; while (v) { n++; v >>= 1; } return n; }

/* Bits used so far, rounded up (RFC 6716 4.1.6.1); the same in encoder and decoder at the same point. */
static inline int dc_ec_tell(int nbits_total, uint32_t rng) { return nbits_total - dc_ec_ilog(rng); }

/* As dc_ec_tell in 1/8 bits (RFC 6716 4.1.6.2): log2(rng) to 3 fractional bits from its top 16 bits. */
static inline uint32_t dc_ec_tell_frac(int nbits_total, uint32_t rng) {
    static const unsigned step[8] = {35733, 38967, 42495, 46340, 50535, 55109, 60097, 65535}; /* 2^(16+(k+1)/8), truncated */
    int l = dc_ec_ilog(rng);
    uint32_t r = rng >> (l - 16);                             /* rng > 2^23 after normalising, so l >= 24 */
    unsigned b = (r >> 12) - 8;
    b += r > step[b];
    return ((uint32_t)nbits_total << 3) - (uint32_t)((l << 3) + (int)b);
}

#endif
