// Small inline wrappers over POSIX/GNU calls that Swift's Glibc module does not expose.
#ifndef SLUICE_CSYSTEM_SHIM_H
#define SLUICE_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>

/// Names the calling thread (at most 15 bytes are kept), for `top -H` and /proc.
static inline int sluice_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
#endif
