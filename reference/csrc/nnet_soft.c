/* The network code (nnet.inc, rdovae.inc, fargan.inc) in the integer soft-float: no float arithmetic at all. */
#define DC_NN_SOFT 1
#include "rdovae.h"
#include "fargan.h"
#include "nnet.inc"
#include "rdovae.inc"
#include "fargan.inc"
