#include "core.h"

/* Bumped whenever a change to the C core may change any output bit. */
int dc_core_abi_version(void) { return 1; }
