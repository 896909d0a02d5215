// Small inline wrappers over POSIX/GNU calls that Swift's Glibc module does not expose.
#ifndef SLUICE_CSYSTEM_SHIM_H
#define SLUICE_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <spawn.h>
#include <fcntl.h>
#include <unistd.h>

/// Names the calling thread (at most 15 bytes are kept), for `top -H` and /proc.
static inline int sluice_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

/// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+): the child starts in `path`.
static inline int sluice_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+): the child inherits no
/// descriptor from `low` up, whatever other threads opened without O_CLOEXEC.
static inline int sluice_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
}

/// `pipe2(fds, O_CLOEXEC)`: a pipe no other child inherits by accident.
static inline int sluice_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
#endif
