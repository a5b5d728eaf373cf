/* Laplace-p0 coding; see laplace.h. */
#include "laplace.h"

/* Sign inverse CDF: P(0) = p0/2^15, positive and negative share the rest (negative gets the odd half). */
static void sign_icdf(uint16_t icdf[3], uint16_t p0) {
    icdf[0] = (uint16_t)(32768 - p0);
    icdf[1] = (uint16_t)(icdf[0] / 2);
    icdf[2] = 0;
}

/* Magnitude inverse CDF: geometric with ratio decay/2^15, each entry kept >= 7-i so no symbol has probability 0. */
static void magnitude_icdf(uint16_t icdf[8], uint16_t decay) {
    int i;
    icdf[0] = (uint16_t)(decay > 7 ? decay : 7);
    for (i = 1; i < 7; i++) {
        int64_t next = ((int64_t)icdf[i - 1] * decay) >> 15; /* 64 bits: decay > 2^15 must not overflow */
        icdf[i] = (uint16_t)(next > 7 - i ? next : 7 - i);
    }
    icdf[7] = 0;
}

/* Decode one value: sign symbol, then 1 + escaped magnitude draws while the draw is 7. */
int dc_laplace_decode_p0(dc_dec *d, uint16_t p0, uint16_t decay) {
    uint16_t sicdf[3], micdf[8];
    int s, v, m = 1;
    sign_icdf(sicdf, p0);
    s = dc_dec_icdf16(d, sicdf, 15);
    if (s == 0) return 0;
    magnitude_icdf(micdf, decay);
    do {
        v = dc_dec_icdf16(d, micdf, 15);
        m = m > DC_LAPLACE_MAX - v ? DC_LAPLACE_MAX : m + v; /* saturate instead of overflowing */
    } while (v == 7);                                   /* past the buffer's end the zeros decode as 0: this ends */
    return s == 2 ? -m : m;
}

/* Encode one value; 0 on success, -1 (nothing coded) if it is out of range or has probability 0 under p0/decay. */
int dc_laplace_encode_p0(dc_enc *e, int value, uint16_t p0, uint16_t decay) {
    uint16_t sicdf[3], micdf[8];
    int m;
    if (value < -DC_LAPLACE_MAX || value > DC_LAPLACE_MAX || p0 > 32768 || decay > 32767) return -1;
    if (value == 0 ? p0 == 0 : 32768 - p0 < 2) return -1; /* the needed sign symbol would be empty */
    sign_icdf(sicdf, p0);
    dc_enc_icdf16(e, value == 0 ? 0 : (value > 0 ? 1 : 2), sicdf, 15);
    if (value == 0) return 0;
    magnitude_icdf(micdf, decay);
    m = (value > 0 ? value : -value) - 1;
    for (;;) {                                          /* full 7s while m >= 7, then the remainder (possibly 0) */
        dc_enc_icdf16(e, m < 7 ? m : 7, micdf, 15);
        if (m < 7 || e->error) break;                   /* an overflowing buffer stops a huge escape run early */
        m -= 7;
    }
    return 0;
}
