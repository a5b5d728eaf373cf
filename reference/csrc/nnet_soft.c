/* The network code (nnet.inc, rdovae.inc) in the integer soft-float: no float arithmetic at all. */
#define DC_NN_SOFT 1
#include "rdovae.h"
#include "nnet.inc"
#include "rdovae.inc"
