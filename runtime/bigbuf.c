/* bigbuf.c — see bigbuf.h.  A handful of buffers (BIG_KEEP, at most
 * BIG_KEEP_BYTES in all) wait under a mutex, taken once per large value;
 * a request takes the smallest that fits and is at most twice its size,
 * the one freed last among equals. */
#include "bigbuf.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>

#define BIG_KEEP 8
#define BIG_KEEP_BYTES ((size_t)16 << 20)
#define BIG_ROUND ((size_t)64 << 10)   /* sizes rounded up, so near sizes share buffers */

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static void *kept[BIG_KEEP];
static size_t kept_size[BIG_KEEP];
static size_t nkept, kept_bytes;

void *rvr_big_alloc(size_t n)
{
    int best = -1;
    pthread_mutex_lock(&big_lock);
    /* Of the smallest that fit, the one freed last: its lines are the
     * likeliest still in cache. */
    for (size_t i = 0; i < nkept; i++)
        if (kept_size[i] >= n && kept_size[i] / 2 <= n &&
            (best < 0 || kept_size[i] <= kept_size[best]))
            best = (int)i;
    void *p = NULL;
    if (best >= 0) {
        p = kept[best];
        kept_bytes -= kept_size[best];
        nkept--;
        for (size_t i = (size_t)best; i < nkept; i++) {   /* kept in the order freed */
            kept[i] = kept[i + 1];
            kept_size[i] = kept_size[i + 1];
        }
    }
    pthread_mutex_unlock(&big_lock);
    if (p != NULL)
        return p;
    size_t r = n <= SIZE_MAX - BIG_ROUND ? (n + BIG_ROUND - 1) / BIG_ROUND * BIG_ROUND : n;
    return malloc(r);
}

void rvr_big_free(void *p)
{
    if (p == NULL)
        return;
    size_t n = malloc_usable_size(p);
    pthread_mutex_lock(&big_lock);
    bool keep = n >= RVR_BIG_MIN && nkept < BIG_KEEP && kept_bytes + n <= BIG_KEEP_BYTES;
    if (keep) {
        kept[nkept] = p;
        kept_size[nkept++] = n;
        kept_bytes += n;
    }
    pthread_mutex_unlock(&big_lock);
    if (!keep)
        free(p);
}
