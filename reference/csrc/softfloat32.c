/* The soft-float's exported entry points (for tests); the functions are in softfloat32.h. */
#include "softfloat32.h"

uint32_t dc_sf32_add(uint32_t a, uint32_t b) { return dc_sf_add(a, b); }
uint32_t dc_sf32_sub(uint32_t a, uint32_t b) { return dc_sf_sub(a, b); }
uint32_t dc_sf32_mul(uint32_t a, uint32_t b) { return dc_sf_mul(a, b); }
uint32_t dc_sf32_div(uint32_t a, uint32_t b) { return dc_sf_div(a, b); }
uint32_t dc_sf32_from_int(int32_t i) { return dc_sf_from_int(i); }
int32_t dc_sf32_floor_half(uint32_t a) { return dc_sf_floor_half(a); }
int dc_sf32_lt(uint32_t a, uint32_t b) { return dc_sf_lt(a, b); }
