/* thread_exit.h — per-thread caches released when their thread ends.
 *
 * The block pool (blockpool.c), the frame pool (frame.c), the spare
 * packets (packet.c) and the typed-body buffer (schema_wire.c) keep
 * thread-local storage.  Each, the first time a thread fills it, registers
 * a release function for that thread; one pthread key runs them when the thread ends (newest
 * first).  A thread that never filled a list costs nothing at exit. */
#ifndef RIVER_THREAD_EXIT_H
#define RIVER_THREAD_EXIT_H

#include <stdbool.h>

/* Registers release for the calling thread (at most RVR_THREAD_EXIT_MAX
 * functions per thread: the caches above). */
#define RVR_THREAD_EXIT_MAX 6
void rvr_thread_exit_add(void (*release)(void));

/* rvr_thread_exit_add once per thread: *registered is the caller's
 * thread-local flag.  Inline: the caches test it on every free. */
static inline void rvr_thread_on_exit(bool *registered, void (*release)(void))
{
    if (!*registered) {
        *registered = true;
        rvr_thread_exit_add(release);
    }
}

#endif
