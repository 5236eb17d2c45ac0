/* bench_util.h — what the benchmark programs share: a clock, medians of
 * repeated runs, and the load average printed beside every figure (these
 * machines are noisy; a figure without its load means little). */
#ifndef RIVER_BENCH_UTIL_H
#define RIVER_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAXREPS 15

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time this process (all its threads) has used, in nanoseconds: user
 * and system.  Per-message CPU is steadier than throughput on a noisy
 * machine, and says which side and which part (our code or the kernel's)
 * a message costs. */
typedef struct {
    double user_ns, sys_ns;
} cpu_use;

static inline cpu_use cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    cpu_use c = { (double)ru.ru_utime.tv_sec * 1e9 + (double)ru.ru_utime.tv_usec * 1e3,
                  (double)ru.ru_stime.tv_sec * 1e9 + (double)ru.ru_stime.tv_usec * 1e3 };
    return c;
}

static inline cpu_use cpu_since(cpu_use start)
{
    cpu_use c = cpu_now();
    c.user_ns -= start.user_ns;
    c.sys_ns -= start.sys_ns;
    return c;
}

static inline int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n), n <= MAXREPS. */
static inline double median(const double *v, int n)
{
    double s[MAXREPS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static inline void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (f != NULL) {
        if (fgets(buf, (int)n, f) != NULL)
            buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
    }
}

#endif
