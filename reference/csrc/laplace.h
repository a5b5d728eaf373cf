/* Laplace-p0 coding of one integer (behaviour of libopus 1.6.1 celt/laplace.c ec_laplace_{en,de}code_p0).

   A 3-symbol 15-bit inverse CDF {32768 - p0, (32768 - p0) / 2, 0} picks
   zero / positive / negative; a nonzero magnitude m is then coded as m - 1 =
   sum of draws from an 8-symbol inverse CDF built from decay, where a draw of
   7 means "add 7 and draw again".  DRED passes p0 = p0_q8 << 7 and
   decay = r_q8 << 7.  Magnitudes are limited to DC_LAPLACE_MAX: the decoder
   saturates there (libopus has no limit; reaching it takes megabytes), the
   encoder refuses more. */
#ifndef DREDCONF_LAPLACE_H
#define DREDCONF_LAPLACE_H
#include <stdint.h>
#include "entdec.h"
#include "entenc.h"

/* cdef begin */
#define DC_LAPLACE_MAX 1073741823
int dc_laplace_decode_p0(dc_dec *d, uint16_t p0, uint16_t decay);
int dc_laplace_encode_p0(dc_enc *e, int value, uint16_t p0, uint16_t decay);
/* cdef end */

#endif
