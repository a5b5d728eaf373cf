/* RFC 6716 section 4.1 range decoder; see entdec.h. */
#include "entdec.h"
#include "entcode.h"

/* Next byte from the front, 0 past the end (RFC 6716 4.1.1). */
static unsigned read_byte(dc_dec *d) { return d->offs < d->storage ? d->buf[d->offs++] : 0; }

/* Next byte from the back for raw bits, 0 once front and back would cross the start. */
static unsigned read_byte_from_end(dc_dec *d) {
    return d->end_offs < d->storage ? d->buf[d->storage - ++d->end_offs] : 0;
}

/* Shift whole bytes in until rng > 2^23 (RFC 6716 4.1.2.1): val keeps the 31-bit window, inverted. */
static void normalize(dc_dec *d) {
    while (d->rng <= DC_EC_CODE_BOT) {
        unsigned sym;
        d->nbits_total += DC_EC_SYM_BITS;
        d->rng <<= DC_EC_SYM_BITS;
        sym = (unsigned)d->rem;                          /* its low bit is still unused */
        d->rem = (int)read_byte(d);
        sym = (sym << DC_EC_SYM_BITS | (unsigned)d->rem) >> (DC_EC_SYM_BITS - DC_EC_CODE_EXTRA);
        d->val = ((d->val << DC_EC_SYM_BITS) + (DC_EC_SYM_MAX & ~sym)) & (DC_EC_CODE_TOP - 1);
    }
}

/* Start decoding buf[0..storage): the first 7 bits prime val, then normalise (RFC 6716 4.1.1). */
void dc_dec_init(dc_dec *d, const unsigned char *buf, uint32_t storage) {
    d->buf = buf;
    d->storage = buf ? storage : 0;                      /* no buffer reads as all zeros */
    d->end_offs = 0;
    d->end_window = 0;
    d->nend_bits = 0;
    d->nbits_total = DC_EC_CODE_BITS + 1 - ((DC_EC_CODE_BITS - DC_EC_CODE_EXTRA) / DC_EC_SYM_BITS) * DC_EC_SYM_BITS; /* so tell() is 1 after init, as in the encoder */
    d->offs = 0;
    d->rng = 1u << DC_EC_CODE_EXTRA;
    d->rem = (int)read_byte(d);
    d->val = d->rng - 1 - ((unsigned)d->rem >> (DC_EC_SYM_BITS - DC_EC_CODE_EXTRA));
    d->ext = 0;
    d->error = 0;
    normalize(d);
}

/* Cumulative frequency of the next symbol over total ft (1..2^16); dc_dec_update must follow. */
unsigned dc_decode(dc_dec *d, unsigned ft) {
    unsigned s;
    if (ft == 0 || ft > 1u << 16) { d->error = 1; d->ext = d->rng; return 0; } /* avoids rng/0 and ext == 0 */
    d->ext = d->rng / ft;
    s = (unsigned)(d->val / d->ext);
    return ft - (s + 1 < ft ? s + 1 : ft);               /* val counts down from the top of the range */
}

/* dc_decode with ft = 2^bits (bits 0..16). */
unsigned dc_decode_bin(dc_dec *d, unsigned bits) {
    unsigned s;
    if (bits > 16) { d->error = 1; d->ext = d->rng; return 0; }
    d->ext = d->rng >> bits;
    s = (unsigned)(d->val / d->ext);
    return (1u << bits) - (s + 1 < (1u << bits) ? s + 1 : (1u << bits));
}

/* Consume the symbol [fl, fh) of ft found by dc_decode; the lowest symbol takes the rounding remainder. */
void dc_dec_update(dc_dec *d, unsigned fl, unsigned fh, unsigned ft) {
    uint32_t s;
    if (!(fl < fh && fh <= ft) || (uint64_t)d->ext * ft > d->rng || d->ext == 0) {
        d->error = 1;                                    /* empty interval or no matching dc_decode: rng could hit 0 */
        return;
    }
    s = d->ext * (ft - fh);
    d->val -= s;
    d->rng = fl > 0 ? d->ext * (fh - fl) : d->rng - s;
    normalize(d);
}

/* One bit that is 1 with probability 1/2^logp (logp 1..16). */
int dc_dec_bit_logp(dc_dec *d, unsigned logp) {
    uint32_t s;
    int one;
    if (logp == 0 || logp > 16) { d->error = 1; return 0; }
    s = d->rng >> logp;
    one = d->val < s;
    if (!one) d->val -= s;
    d->rng = one ? s : d->rng - s;
    normalize(d);
    return one;
}

/* Symbol with inverse CDF icdf (8-bit entries over 2^ftb, last entry 0): the first k with val >= r*icdf[k]. */
int dc_dec_icdf(dc_dec *d, const unsigned char *icdf, unsigned ftb) {
    uint32_t r, s, t;
    int k = -1;
    if (ftb > 8) { d->error = 1; return 0; }
    s = d->rng;
    r = s >> ftb;
    do { t = s; s = r * icdf[++k]; } while (d->val < s);
    d->val -= s;
    d->rng = t - s;
    normalize(d);
    return k;
}

/* As dc_dec_icdf with 16-bit entries (ftb up to 15), as ec_dec_icdf16 in libopus 1.6.1. */
int dc_dec_icdf16(dc_dec *d, const uint16_t *icdf, unsigned ftb) {
    uint32_t r, s, t;
    int k = -1;
    if (ftb > 15) { d->error = 1; return 0; }
    s = d->rng;
    r = s >> ftb;
    do { t = s; s = r * icdf[++k]; } while (d->val < s);
    d->val -= s;
    d->rng = t - s;
    normalize(d);
    return k;
}

/* Uniform integer in [0, ft), ft >= 2: the top 8 bits range-coded, the rest raw from the end (RFC 6716 4.1.5). */
uint32_t dc_dec_uint(dc_dec *d, uint32_t ft) {
    unsigned s;
    int ftb;
    if (ft < 2) { d->error = 1; return 0; }
    ft--;                                                /* now the largest value */
    ftb = dc_ec_ilog(ft);
    if (ftb > DC_EC_UINT_BITS) {
        uint32_t t;
        unsigned top;
        ftb -= DC_EC_UINT_BITS;
        top = (unsigned)(ft >> ftb) + 1;
        s = dc_decode(d, top);
        dc_dec_update(d, s, s + 1, top);
        t = (uint32_t)s << ftb | dc_dec_bits(d, (unsigned)ftb);
        if (t <= ft) return t;
        d->error = 1;                                    /* a value >= ft is invalid: libopus returns ft-1 */
        return ft;
    }
    s = dc_decode(d, (unsigned)ft + 1);
    dc_dec_update(d, s, s + 1, (unsigned)ft + 1);
    return s;
}

/* bits (0..25) raw bits from the end of the buffer, least significant first (RFC 6716 4.1.4). */
uint32_t dc_dec_bits(dc_dec *d, unsigned bits) {
    uint32_t window = d->end_window, v;
    int avail = d->nend_bits;
    if (bits > 25) { d->error = 1; return 0; }          /* the window refills to at least 25 bits */
    if ((unsigned)avail < bits) {
        do { window |= (uint32_t)read_byte_from_end(d) << avail; avail += DC_EC_SYM_BITS; }
        while (avail <= DC_EC_WINDOW_BITS - DC_EC_SYM_BITS);
    }
    v = window & ((1u << bits) - 1u);
    d->end_window = bits < 32 ? window >> bits : 0;
    d->nend_bits = avail - (int)bits;
    d->nbits_total += (int)bits;
    return v;
}

/* Bits used so far, rounded up (RFC 6716 4.1.6.1). */
int dc_dec_tell(const dc_dec *d) { return dc_ec_tell(d->nbits_total, d->rng); }

/* Bits used so far in 1/8 bits, rounded up (RFC 6716 4.1.6.2). */
uint32_t dc_dec_tell_frac(const dc_dec *d) { return dc_ec_tell_frac(d->nbits_total, d->rng); }
