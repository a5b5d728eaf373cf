/* A small non-Python decoder under test for the conformance runner's tests.

   framing_dut INPUT OUTPUT [MODE]

   Reads an Opus stream in the libopus test-tool format (4-byte big-endian
   length, 4-byte big-endian final range, the packet; repeated) and writes the
   framing part of the decode JSON: index, length, toc, frame_count (RFC 6716
   section 3.1-3.2). It outputs no padding, extension or DRED fields, so the
   runner must judge it on framing only and say what it skipped.

   MODE breaks it on purpose:
     honest      (default)
     badtoc=N    writes toc + 1 for packet N
     short       leaves the last packet out (wrong packet count)
     segv        dies of SIGSEGV before writing anything
     types       writes the length of packet 0 as a string */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long be32(const unsigned char *p) {
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

static int frame_count(const unsigned char *pkt, unsigned long len) {
    if (len < 1) return 0;
    switch (pkt[0] & 3) {
    case 0: return 1;
    case 1: case 2: return 2;
    default: return len < 2 ? 0 : (pkt[1] & 0x3F);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 3 ? argv[3] : "honest";
    long badtoc = -1;
    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT [MODE]\n", argv[0]);
        return 2;
    }
    if (strncmp(mode, "badtoc=", 7) == 0) badtoc = atol(mode + 7);
    if (strcmp(mode, "segv") == 0) raise(SIGSEGV);
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    /* read all records first, so "short" can leave the last one out */
    unsigned long cap = 1024, n = 0;
    unsigned long *lens = malloc(cap * sizeof *lens);
    int *tocs = malloc(cap * sizeof *tocs), *fcs = malloc(cap * sizeof *fcs);
    unsigned char hdr[8];
    while (fread(hdr, 1, 8, in) == 8) {
        unsigned long len = be32(hdr);
        unsigned char *pkt = malloc(len ? len : 1);
        if (fread(pkt, 1, len, in) != len) { fprintf(stderr, "truncated packet %lu\n", n); free(pkt); break; }
        if (n == cap) {
            cap *= 2;
            lens = realloc(lens, cap * sizeof *lens);
            tocs = realloc(tocs, cap * sizeof *tocs);
            fcs = realloc(fcs, cap * sizeof *fcs);
        }
        lens[n] = len;
        tocs[n] = len ? pkt[0] : -1;
        fcs[n] = frame_count(pkt, len);
        n++;
        free(pkt);
    }
    fclose(in);
    if (strcmp(mode, "short") == 0 && n > 0) n--;
    FILE *out = fopen(argv[2], "w");
    if (!out) { perror(argv[2]); return 1; }
    fprintf(out, "{\"packets\": [");
    for (unsigned long i = 0; i < n; i++) {
        int toc = tocs[i] + ((long)i == badtoc ? 1 : 0);
        if (i == 0 && strcmp(mode, "types") == 0)
            fprintf(out, "{\"index\": %lu, \"length\": \"%lu\", \"toc\": %d, \"frame_count\": %d}", i, lens[i], toc, fcs[i]);
        else
            fprintf(out, "%s{\"index\": %lu, \"length\": %lu, \"toc\": %d, \"frame_count\": %d}", i ? ", " : "", i, lens[i], toc, fcs[i]);
    }
    fprintf(out, "]}\n");
    fclose(out);
    fprintf(stderr, "framing_dut: %lu packets\n", n);
    return 0;
}
