/* RFC 6716 section 4.1 range encoder, integer only (behaviour of libopus 1.6.1 celt/entenc.c).

   Encodes into a caller buffer of `storage` bytes: range-coder bytes from the
   front, raw bits (dc_enc_bits, low bits of large dc_enc_uint values) from the
   back.  Running out of room sets `error` and drops bytes; nothing is written
   outside [buf, buf + storage).  Invalid arguments (zero-probability symbols,
   ft out of range, ...) set `error` and code nothing.

   To get the bytes: dc_enc_shrink(e, (dc_enc_tell(e) + 7) / 8) (libopus's own
   choice for DRED), then dc_enc_done(e); the coded bytes are buf[0..storage).
   Without raw bits, buf[0..dc_enc_range_bytes(e)) after dc_enc_done is the
   minimal form (the rest of the buffer is zeroed). */
#ifndef DREDCONF_ENTENC_H
#define DREDCONF_ENTENC_H
#include <stdint.h>

/* cdef begin */
typedef struct {
    unsigned char *buf;   /* output buffer */
    uint32_t storage;     /* its size */
    uint32_t end_offs;    /* raw-bit bytes written at the end */
    uint32_t end_window;  /* raw bits not yet written */
    int nend_bits;        /* valid bits in end_window */
    int nbits_total;      /* whole bits written (dc_enc_tell adds the range's partial bits) */
    uint32_t offs;        /* range-coder bytes written at the front */
    uint32_t rng;         /* size of the current range */
    uint32_t val;         /* low end of the current range */
    uint32_t ext;         /* 0xFF bytes held back until a carry is resolved */
    int rem;              /* byte held back for a carry, -1 before the first */
    int error;            /* nonzero after an overflow or an invalid argument */
} dc_enc;

void dc_enc_init(dc_enc *e, unsigned char *buf, uint32_t storage);
void dc_encode(dc_enc *e, unsigned fl, unsigned fh, unsigned ft);
void dc_encode_bin(dc_enc *e, unsigned fl, unsigned fh, unsigned bits);
void dc_enc_bit_logp(dc_enc *e, int val, unsigned logp);
void dc_enc_icdf(dc_enc *e, int s, const unsigned char *icdf, unsigned ftb);
void dc_enc_icdf16(dc_enc *e, int s, const uint16_t *icdf, unsigned ftb);
void dc_enc_uint(dc_enc *e, uint32_t fl, uint32_t ft);
void dc_enc_bits(dc_enc *e, uint32_t fl, unsigned bits);
void dc_enc_shrink(dc_enc *e, uint32_t size);
void dc_enc_done(dc_enc *e);
int dc_enc_tell(const dc_enc *e);
uint32_t dc_enc_tell_frac(const dc_enc *e);
uint32_t dc_enc_range_bytes(const dc_enc *e);
/* cdef end */

#endif
