/* RFC 6716 section 4.1 range encoder; see entenc.h. */
#include <string.h>
#include "entenc.h"
#include "entcode.h"

/* Append a range-coder byte; -1 (and nothing written) when it would meet the raw bits at the end. */
static int write_byte(dc_enc *e, unsigned v) {
    if (e->offs + e->end_offs >= e->storage) return -1;
    e->buf[e->offs++] = (unsigned char)v;
    return 0;
}

/* Prepend a raw-bit byte at the end of the buffer; -1 when full. */
static int write_byte_at_end(dc_enc *e, unsigned v) {
    if (e->offs + e->end_offs >= e->storage) return -1;
    e->buf[e->storage - ++e->end_offs] = (unsigned char)v;
    return 0;
}

/* Emit the top 9 bits c (byte + carry): hold 0xFF bytes until a later byte decides whether the carry reaches them. */
static void carry_out(dc_enc *e, int c) {
    if (c != (int)DC_EC_SYM_MAX) {
        int carry = c >> DC_EC_SYM_BITS;
        if (e->rem >= 0) e->error |= write_byte(e, (unsigned)(e->rem + carry)); /* no byte before the first */
        for (; e->ext > 0; e->ext--) e->error |= write_byte(e, (DC_EC_SYM_MAX + (unsigned)carry) & DC_EC_SYM_MAX);
        e->rem = c & (int)DC_EC_SYM_MAX;
    } else e->ext++;
}

/* Shift out whole bytes until rng > 2^23 (RFC 6716 4.1.2.1 in reverse). */
static void normalize(dc_enc *e) {
    while (e->rng <= DC_EC_CODE_BOT) {
        carry_out(e, (int)(e->val >> DC_EC_CODE_SHIFT));
        e->val = (e->val << DC_EC_SYM_BITS) & (DC_EC_CODE_TOP - 1);
        e->rng <<= DC_EC_SYM_BITS;
        e->nbits_total += DC_EC_SYM_BITS;
    }
}

/* Start encoding into buf[0..storage) with the full range [0, 2^31). */
void dc_enc_init(dc_enc *e, unsigned char *buf, uint32_t storage) {
    e->buf = buf;
    e->storage = buf ? storage : 0;                      /* no buffer: every byte overflows */
    e->end_offs = 0;
    e->end_window = 0;
    e->nend_bits = 0;
    e->nbits_total = DC_EC_CODE_BITS + 1;                      /* so tell() is 1 before any symbol */
    e->offs = 0;
    e->rng = DC_EC_CODE_TOP;
    e->val = 0;
    e->ext = 0;
    e->rem = -1;
    e->error = 0;
}

/* Narrow the range to [fl, fh) of ft (1..2^16); the lowest symbol takes the rounding remainder. */
void dc_encode(dc_enc *e, unsigned fl, unsigned fh, unsigned ft) {
    uint32_t r;
    if (ft == 0 || ft > 1u << 16 || !(fl < fh && fh <= ft)) { e->error = 1; return; }
    r = e->rng / ft;
    if (fl > 0) {
        e->val += e->rng - r * (ft - fl);
        e->rng = r * (fh - fl);
    } else e->rng -= r * (ft - fh);
    normalize(e);
}

/* dc_encode with ft = 2^bits (bits 0..16). */
void dc_encode_bin(dc_enc *e, unsigned fl, unsigned fh, unsigned bits) {
    uint32_t r;
    if (bits > 16 || !(fl < fh && fh <= 1u << bits)) { e->error = 1; return; }
    r = e->rng >> bits;
    if (fl > 0) {
        e->val += e->rng - r * ((1u << bits) - fl);
        e->rng = r * (fh - fl);
    } else e->rng -= r * ((1u << bits) - fh);
    normalize(e);
}

/* One bit that is 1 with probability 1/2^logp (logp 1..16); the 1 takes the bottom of the range. */
void dc_enc_bit_logp(dc_enc *e, int val, unsigned logp) {
    uint32_t s;
    if (logp == 0 || logp > 16) { e->error = 1; return; }
    s = e->rng >> logp;
    if (val) e->val += e->rng - s;
    e->rng = val ? s : e->rng - s;
    normalize(e);
}

/* Symbol s of an inverse CDF with 8-bit entries over 2^ftb; it must have nonzero probability. */
void dc_enc_icdf(dc_enc *e, int s, const unsigned char *icdf, unsigned ftb) {
    uint32_t r;
    unsigned hi;
    if (s < 0 || ftb > 8) { e->error = 1; return; }
    hi = s > 0 ? icdf[s - 1] : 1u << ftb;                /* 2^ftb - fl */
    if (hi > 1u << ftb || icdf[s] >= hi) { e->error = 1; return; }
    r = e->rng >> ftb;
    if (s > 0) {
        e->val += e->rng - r * hi;
        e->rng = r * (hi - icdf[s]);
    } else e->rng -= r * icdf[s];
    normalize(e);
}

/* As dc_enc_icdf with 16-bit entries (ftb up to 15), as ec_enc_icdf16 in libopus 1.6.1. */
void dc_enc_icdf16(dc_enc *e, int s, const uint16_t *icdf, unsigned ftb) {
    uint32_t r;
    unsigned hi;
    if (s < 0 || ftb > 15) { e->error = 1; return; }
    hi = s > 0 ? icdf[s - 1] : 1u << ftb;
    if (hi > 1u << ftb || icdf[s] >= hi) { e->error = 1; return; }
    r = e->rng >> ftb;
    if (s > 0) {
        e->val += e->rng - r * hi;
        e->rng = r * (hi - icdf[s]);
    } else e->rng -= r * icdf[s];
    normalize(e);
}

/* Uniform integer fl in [0, ft), ft >= 2: the top 8 bits range-coded, the rest raw at the end (RFC 6716 4.1.5). */
void dc_enc_uint(dc_enc *e, uint32_t fl, uint32_t ft) {
    int ftb;
    if (ft < 2 || fl >= ft) { e->error = 1; return; }
    ft--;
    ftb = dc_ec_ilog(ft);
    if (ftb > DC_EC_UINT_BITS) {
        unsigned top;
        ftb -= DC_EC_UINT_BITS;
        top = (unsigned)(ft >> ftb);
        dc_encode(e, (unsigned)(fl >> ftb), (unsigned)(fl >> ftb) + 1, top + 1);
        dc_enc_bits(e, fl & ((1u << ftb) - 1u), (unsigned)ftb);
    } else dc_encode(e, (unsigned)fl, (unsigned)fl + 1, (unsigned)ft + 1);
}

/* bits (1..25) raw bits of fl, least significant first, written from the end of the buffer. */
void dc_enc_bits(dc_enc *e, uint32_t fl, unsigned bits) {
    uint32_t window = e->end_window;
    int used = e->nend_bits;
    if (bits == 0 || bits > 25 || (fl >> bits) != 0) { e->error = 1; return; }
    if (used + (int)bits > DC_EC_WINDOW_BITS) {                /* flush whole bytes to make room */
        do {
            e->error |= write_byte_at_end(e, window & DC_EC_SYM_MAX);
            window >>= DC_EC_SYM_BITS;
            used -= DC_EC_SYM_BITS;
        } while (used >= DC_EC_SYM_BITS);
    }
    window |= fl << used;
    used += (int)bits;
    e->end_window = window;
    e->nend_bits = used;
    e->nbits_total += (int)bits;
}

/* Reduce the buffer to size bytes, moving the raw bits already written at the end. */
void dc_enc_shrink(dc_enc *e, uint32_t size) {
    if (size > e->storage || e->offs + e->end_offs > size) { e->error = 1; return; }
    if (e->end_offs) memmove(e->buf + size - e->end_offs, e->buf + e->storage - e->end_offs, e->end_offs);
    e->storage = size;
}

/* Flush: the fewest bits that pin a value inside the final range, then held bytes, then raw bits (RFC 6716 4.1.3.3). */
void dc_enc_done(dc_enc *e) {
    uint32_t window, msk, end;
    int used, l;
    l = DC_EC_CODE_BITS - dc_ec_ilog(e->rng);                        /* enough bits for a multiple of 2^(31-l) inside the range */
    msk = (DC_EC_CODE_TOP - 1) >> l;
    end = (e->val + msk) & ~msk;
    if ((end | msk) >= e->val + e->rng) {                /* not enough when the rounded value's tail leaves the range */
        l++;
        msk >>= 1;
        end = (e->val + msk) & ~msk;
    }
    while (l > 0) {
        carry_out(e, (int)(end >> DC_EC_CODE_SHIFT));
        end = (end << DC_EC_SYM_BITS) & (DC_EC_CODE_TOP - 1);
        l -= DC_EC_SYM_BITS;
    }
    if (e->rem >= 0 || e->ext > 0) carry_out(e, 0);     /* releases the held byte(s) */
    window = e->end_window;
    used = e->nend_bits;
    while (used >= DC_EC_SYM_BITS) {
        e->error |= write_byte_at_end(e, window & DC_EC_SYM_MAX);
        window >>= DC_EC_SYM_BITS;
        used -= DC_EC_SYM_BITS;
    }
    if (e->error) return;
    if (e->buf) memset(e->buf + e->offs, 0, e->storage - e->offs - e->end_offs); /* unused middle reads as zeros */
    if (used > 0) {                                      /* the last partial raw byte shares a byte with the range coder */
        if (e->end_offs >= e->storage) { e->error = -1; return; }
        l = -l;                                          /* spare low bits of the last range-coder byte */
        if (e->offs + e->end_offs >= e->storage && l < used) {
            window &= (1u << l) - 1;                     /* keep the range-coder bits, lose raw bits */
            e->error = -1;
        }
        e->buf[e->storage - e->end_offs - 1] |= (unsigned char)window;
    }
}

/* Bits written so far, rounded up; matches dc_dec_tell at the same point. */
int dc_enc_tell(const dc_enc *e) { return dc_ec_tell(e->nbits_total, e->rng); }

/* As dc_enc_tell in 1/8 bits (RFC 6716 4.1.6.2). */
uint32_t dc_enc_tell_frac(const dc_enc *e) { return dc_ec_tell_frac(e->nbits_total, e->rng); }

/* Range-coder bytes written at the front so far (after dc_enc_done: all of them). */
uint32_t dc_enc_range_bytes(const dc_enc *e) { return e->offs; }
