/* The network code (nnet.inc, rdovae.inc, fargan.inc) in hardware binary32: each C operation one IEEE
   operation, in the source's order (build_core.py compiles with -ffp-contract=off, no fast-math,
   SSE rather than x87); nnet.c's self-check decides whether it may run. */
#include "rdovae.h"
#include "fargan.h"
#include "nnet.inc"
#include "rdovae.inc"
#include "fargan.inc"
