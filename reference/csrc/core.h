/* The reference core's version: bumped when any integer output can change. */
#ifndef DREDCONF_CORE_H
#define DREDCONF_CORE_H
/* cdef begin */
int dc_core_abi_version(void);
/* cdef end */
#endif
