/* Every float32 through the reference's exp and period (reference/csrc/fargan_libm.c) and through this
   machine's libm as libopus calls it (fargan.c: (float)exp((double)x); (int)floor(.5+256./pow(2.f, ...))):

       fargan_libm_scan exp|period [FIRST LAST]      (bit patterns, default every one)

   prints one line "inputs N unproven U differ D" and then each differing input "x: libm / reference",
   the measurement docs/FARGAN.md reports (tests/test_fargan_libm.py builds and runs it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fargan_libm.h"

static float as_float(uint32_t b) { float f; memcpy(&f, &b, sizeof f); return f; }
static uint32_t as_bits(float f) { uint32_t b; memcpy(&b, &f, sizeof b); return b; }

/* libopus's period with libm's pow, held as the reference holds it (fargan_libm.h). */
static int32_t libm_period(float f)
{
    double r = floor(.5 + 256. / pow(2.f, ((1. / 60.) * ((f + 1.5) * 60))));
    if (r != r || r >= 2147483648.0 || r < -2147483648.0) return DC_FARGAN_PERIOD_MAX;
    if (r < DC_FARGAN_PERIOD_MIN) return DC_FARGAN_PERIOD_MIN;
    return r > DC_FARGAN_PERIOD_MAX ? DC_FARGAN_PERIOD_MAX : (int32_t)r;
}

int main(int argc, char **argv)
{
    const int is_exp = argc > 1 && !strcmp(argv[1], "exp");
    uint64_t first = argc > 3 ? strtoull(argv[2], 0, 0) : 0, last = argc > 3 ? strtoull(argv[3], 0, 0) : 0xffffffffu;
    uint64_t b, n = 0, unproven = 0, differ = 0;
    if (argc < 2 || (!is_exp && strcmp(argv[1], "period"))) {
        fprintf(stderr, "usage: fargan_libm_scan exp|period [FIRST LAST]\n");
        return 2;
    }
    for (b = first; b <= last; b++) {
        const uint32_t x = (uint32_t)b;
        n++;
        if (is_exp) {
            const uint32_t mine = dc_fargan_exp(x), libm = as_bits((float)exp((double)as_float(x)));
            unproven += (uint64_t)dc_fargan_exp_unproven(x);
            if (mine != libm) {
                if (differ++ < 50) printf("0x%08x: 0x%08x / 0x%08x\n", x, libm, mine);
            }
        } else {
            const int32_t mine = dc_fargan_period(x), libm = libm_period(as_float(x));
            if (mine != libm) {
                if (differ++ < 50) printf("0x%08x: %d / %d\n", x, libm, mine);
            }
        }
    }
    printf("inputs %llu unproven %llu differ %llu\n", (unsigned long long)n, (unsigned long long)unproven,
           (unsigned long long)differ);
    return 0;
}
