/* The DRED payload syntax (SPEC-NOTES section 3; libopus 1.6.1 dnn/dred_decoder.c dred_ec_decode)
   to integers and back.  No floats: dequantisation belongs to the next layer.

   Payload, in coding order (range coder, RFC 6716 section 4.1):
     q0 = uint(16); dQ = uint(8); flag = uint(2), then extra_offset = uint(256) if flag else 0;
     offset = uint(32); dred_offset = 16 - offset - 32*extra_offset + frame_offset;
     qmax: 15, unless q0 < 14 && dQ > 0: with n = 14 - q0 a symbol s of total 2n,
       s < n -> 15 (coded as [0, n)), else q0 + 1 + (s - n) (coded as [s, s+1));
     state: 50 values at level q0;
     latents, newest first, at most max_latents (26 in libopus 1.6.1 as opus_dred_parse calls it):
       stop before latent k when 8*len - tell <= 7; latent k uses level
       q_k = min(qmax, q0 + (dQ_table[dQ]*k + 8)/16), dQ_table = {0,2,3,4,6,8,12,16}.
   A value of dimension i at level q is 0 and not coded when r[q][i] == 0 or p0[q][i] == 255,
   else Laplace-p0 with p0 = p0[q][i] << 7 and decay = r[q][i] << 7.

   Standalone records (libopus fargan_demo -dred-decoding): no header, the state then
   nb_latents latents, every value at level q0, no stop rule.

   Encoding writes the bytes libopus's DRED encoder would for the same integers:
   the symbols above, then dc_enc_shrink to ceil(tell/8) bytes and dc_enc_done.
   The flag before extra_offset is coded when extra_flag or extra_offset > 0.
   The decoder's stop rule makes some integers unrepresentable: if fewer than 8
   bits would be left before the last latent, a decoder stops before it; with 26
   latents the encoder pads with zero bytes (which decode as reads past the end
   do), with fewer it returns DC_DRED_ERR_UNREPRESENTABLE (a pad would make the
   decoder read one more latent).  Every output of dc_dred_decode with
   max_latents 26 re-encodes.

   Functions return DC_DRED_OK (0) or a negative DC_DRED_ERR_* code; on error the
   output is zeroed (decode) or *out_len is 0 (encode).  Every argument is checked
   and nothing is read or written outside the given buffers. */
#ifndef DREDCONF_DRED_PAYLOAD_H
#define DREDCONF_DRED_PAYLOAD_H

/* cdef begin */
#define DC_DRED_LEVELS 16
#define DC_DRED_LATENT_DIM 25
#define DC_DRED_STATE_DIM 50
#define DC_DRED_MAX_LATENTS 26
#define DC_DRED_MAX_FRAME_OFFSET 65535

/* Field indices of field_start/field_end: the range-coder position (dc_dec_tell, whole bits)
   before and after each field; -1 for fields absent from the payload. */
#define DC_DRED_FIELD_Q0 0
#define DC_DRED_FIELD_DQ 1
#define DC_DRED_FIELD_EXTRA_FLAG 2
#define DC_DRED_FIELD_EXTRA_OFFSET 3
#define DC_DRED_FIELD_OFFSET 4
#define DC_DRED_FIELD_QMAX 5
#define DC_DRED_FIELD_STATE 6
#define DC_DRED_FIELD_LATENT0 7
#define DC_DRED_NFIELDS 33

#define DC_DRED_OK 0
#define DC_DRED_ERR_ARG -1            /* NULL pointer, negative length, argument out of range */
#define DC_DRED_ERR_VALUE -2          /* encode: a header value out of range, or a value its level cannot code */
#define DC_DRED_ERR_BUFFER -3         /* encode: the payload does not fit in cap bytes */
#define DC_DRED_ERR_UNREPRESENTABLE -4 /* encode: a decoder would stop before latent_count latents */

/* Per-level tables from dred_rdovae_stats_data.c, row-major [level][dim], 8-bit (q8). */
typedef struct {
    unsigned char latent_quant_scale[400]; /* 16 x 25 */
    unsigned char latent_r[400];
    unsigned char latent_p0[400];
    unsigned char state_quant_scale[800];  /* 16 x 50 */
    unsigned char state_r[800];
    unsigned char state_p0[800];
} dc_dred_stats;

typedef struct {
    int q0;            /* base quantizer level 0..15 */
    int dQ;            /* level slope index 0..7 */
    int extra_flag;    /* the coded flag before extra_offset (libopus sets it iff extra_offset > 0) */
    int extra_offset;  /* 0..255, 0 when the flag is 0 */
    int offset;        /* 0..31 */
    int qmax;          /* maximum level, 15 unless signalled */
    int dred_offset;   /* 16 - offset - 32*extra_offset + frame_offset, 2.5 ms units */
    int frame_offset;  /* as passed to the decoder */
    int latent_count;  /* latents present, 0..26 */
    int levels[26];    /* level of each latent, newest first */
    int state[50];     /* quantized initial state */
    int latents[26][25]; /* quantized latents, newest first */
    int field_start[33];
    int field_end[33];
    int bits_total;    /* dc_dec_tell after the last value decoded */
} dc_dred_payload;

/* Level of latent k: min(qmax, q0 + (dQ_table[dQ]*k + 8)/16); -1 if dQ or k (0..26) is out of range. */
int dc_dred_level(int q0, int dQ, int qmax, int k);
/* Payload bytes (after 'D' and the version byte) -> integers; frame_offset 0..65535, max_latents 0..26. */
int dc_dred_decode(const unsigned char *data, int len, int frame_offset, int max_latents,
                   const dc_dred_stats *stats, dc_dred_payload *out);
/* Integers (q0, dQ, extra_flag, extra_offset, offset, qmax, state, latent_count, latents) -> buf[0..*out_len). */
int dc_dred_encode(const dc_dred_payload *in, const dc_dred_stats *stats,
                   unsigned char *buf, int cap, int *out_len);
/* Standalone record -> integers: q0 0..15, nb_latents 0..26; dQ 0, qmax 15, header fields absent. */
int dc_dred_decode_standalone(const unsigned char *data, int len, int q0, int nb_latents,
                              const dc_dred_stats *stats, dc_dred_payload *out);
/* Integers (q0, state, latent_count, latents) -> standalone record bytes, ceil(tell/8) of them. */
int dc_dred_encode_standalone(const dc_dred_payload *in, const dc_dred_stats *stats,
                              unsigned char *buf, int cap, int *out_len);
/* cdef end */

#endif
