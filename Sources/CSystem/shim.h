// Small inline wrappers over POSIX/GNU calls that Swift's Glibc module does not expose.
//
// No _GNU_SOURCE here: it changes how glibc's headers declare shared types (fd_set's
// field names), and Clang modules that see one type declared two ways refuse to build
// (Dispatch and the libxml2 shim include the same headers without it). The GNU calls
// are declared by hand instead, with glibc's own signatures.
#ifndef SLUICE_CSYSTEM_SHIM_H
#define SLUICE_CSYSTEM_SHIM_H
#include <pthread.h>
#include <spawn.h>
#include <fcntl.h>
#include <unistd.h>

extern int pthread_setname_np(pthread_t thread, const char *name);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int pipe2(int fds[2], int flags);

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
