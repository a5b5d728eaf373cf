/* RFC 6716 section 4.1 range decoder, integer only (behaviour of libopus 1.6.1 celt/entdec.c).

   The decoder reads range-coded symbols from the front of the buffer and raw
   bits (dc_dec_bits, the low bits of large dc_dec_uint values) from its end.
   Reading past either end yields zero bytes, as RFC 6716 requires; nothing is
   ever read outside [buf, buf + storage).  Arguments the libopus functions
   assert on (ft == 0, too many bits, ...) set `error` and return 0 here
   instead of dividing by zero or shifting out of range.  An icdf table must
   be non-increasing and end with 0 (the decoder stops at that entry). */
#ifndef DREDCONF_ENTDEC_H
#define DREDCONF_ENTDEC_H
#include <stdint.h>

/* cdef begin */
typedef struct {
    const unsigned char *buf; /* the coded bytes */
    uint32_t storage;         /* their count */
    uint32_t end_offs;        /* raw-bit bytes taken from the end so far */
    uint32_t end_window;      /* raw bits read from the end, not yet used */
    int nend_bits;            /* valid bits in end_window */
    int nbits_total;          /* whole bits consumed (ec_tell adds the range's partial bits) */
    uint32_t offs;            /* next range-coder byte to read */
    uint32_t rng;             /* size of the current range */
    uint32_t val;             /* top of the range minus the coded value, minus one */
    uint32_t ext;             /* rng / ft saved by dc_decode for dc_dec_update */
    int rem;                  /* last byte read, 1 bit of it still unused */
    int error;                /* nonzero once an invalid value or argument was met */
} dc_dec;

void dc_dec_init(dc_dec *d, const unsigned char *buf, uint32_t storage);
unsigned dc_decode(dc_dec *d, unsigned ft);
unsigned dc_decode_bin(dc_dec *d, unsigned bits);
void dc_dec_update(dc_dec *d, unsigned fl, unsigned fh, unsigned ft);
int dc_dec_bit_logp(dc_dec *d, unsigned logp);
int dc_dec_icdf(dc_dec *d, const unsigned char *icdf, unsigned ftb);
int dc_dec_icdf16(dc_dec *d, const uint16_t *icdf, unsigned ftb);
uint32_t dc_dec_uint(dc_dec *d, uint32_t ft);
uint32_t dc_dec_bits(dc_dec *d, unsigned bits);
int dc_dec_tell(const dc_dec *d);
uint32_t dc_dec_tell_frac(const dc_dec *d);
/* cdef end */

#endif
