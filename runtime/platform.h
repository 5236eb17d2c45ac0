/* platform.h — the thin layer over threads and clocks.  Everything the
 * runtime needs from the OS besides sockets goes through here, so a port
 * touches one file. */
#ifndef RIVER_PLATFORM_H
#define RIVER_PLATFORM_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

typedef pthread_mutex_t rvr_mutex;
typedef pthread_cond_t rvr_cond;

/* Adaptive where glibc has it: a contended lock spins briefly before it
 * sleeps.  Every critical section in the runtime is short (no lock is held
 * across a system call), so the holder is usually about to release it, and
 * sleeping would cost the releaser a futex wake-up. */
static inline int rvr_mutex_init(rvr_mutex *m)
{
#ifdef __GLIBC__
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
#else
    return pthread_mutex_init(m, NULL);
#endif
}
static inline void rvr_mutex_destroy(rvr_mutex *m) { pthread_mutex_destroy(m); }
static inline void rvr_mutex_lock(rvr_mutex *m) { pthread_mutex_lock(m); }
static inline void rvr_mutex_unlock(rvr_mutex *m) { pthread_mutex_unlock(m); }

/* Condition variables wait on CLOCK_MONOTONIC so a clock change cannot
 * stretch or cut a timeout. */
static inline int rvr_cond_init(rvr_cond *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return rc;
}
static inline void rvr_cond_destroy(rvr_cond *c) { pthread_cond_destroy(c); }
static inline void rvr_cond_signal(rvr_cond *c) { pthread_cond_signal(c); }
static inline void rvr_cond_broadcast(rvr_cond *c) { pthread_cond_broadcast(c); }
static inline void rvr_cond_wait(rvr_cond *c, rvr_mutex *m) { pthread_cond_wait(c, m); }

/* Starts one of the runtime's own threads (I/O, discovery, control,
 * hosting) with every signal blocked: the program's signals (SIGTERM to
 * riverd, a user's SIGINT handler) go to its threads, never to one of ours
 * sitting in a system call.  Returns pthread_create's result. */
static inline int rvr_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Thread-local hot-path state (pools, the polling mark): initial-exec, so
 * libriver.so reaches it without a __tls_get_addr call. */
#define RVR_TLS __thread __attribute__((tls_model("initial-exec")))

/* Monotonic time in nanoseconds. */
static inline uint64_t rvr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits until the absolute monotonic time `deadline_ns`; false on timeout. */
static inline bool rvr_cond_wait_until(rvr_cond *c, rvr_mutex *m, uint64_t deadline_ns)
{
    struct timespec ts = { (time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u) };
    return pthread_cond_timedwait(c, m, &ts) != ETIMEDOUT;
}

/* A hint to the CPU inside spin loops. */
static inline void rvr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Offers the core to another runnable thread. */
static inline void rvr_thread_yield(void) { sched_yield(); }

/* A lock for sections of a few dozen instructions taken once per message
 * (a peer's send queue).  Unlocking is a plain release store: a mutex's
 * unlock is an atomic exchange, which waits for every store before it
 * (the message just copied into the queue) to reach the cache, and that
 * wait cost more than the rest of an append.  A waiter spins briefly,
 * then yields its core, so a holder that lost its core gets it back.
 * Held only for sections that never block: a sender that must wait for
 * queue room releases it first (sendq.c wait_room_locked). */
typedef struct {
    _Atomic int held;
} rvr_spin;

static inline void rvr_spin_init(rvr_spin *s) { atomic_init(&s->held, 0); }

static inline void rvr_spin_lock(rvr_spin *s)
{
    unsigned turns = 0;
    while (atomic_exchange_explicit(&s->held, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&s->held, memory_order_relaxed)) {
            if (++turns < 100) {
                rvr_cpu_relax();
            } else {
                rvr_thread_yield();
                turns = 0;
            }
        }
    }
}

/* Takes s if it is free; false (not taken) when someone holds it. */
static inline bool rvr_spin_trylock(rvr_spin *s)
{
    return !atomic_load_explicit(&s->held, memory_order_relaxed) &&
           !atomic_exchange_explicit(&s->held, 1, memory_order_acquire);
}

static inline void rvr_spin_unlock(rvr_spin *s)
{
    atomic_store_explicit(&s->held, 0, memory_order_release);
}

static inline int rvr_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

#endif
