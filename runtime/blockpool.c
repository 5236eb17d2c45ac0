/* blockpool.c — see blockpool.h.
 *
 * Each thread keeps a list of free blocks.  Past 2 * RVR_BLOCK_MAG it hands
 * RVR_BLOCK_MAG of them (a magazine) to the depot; an empty cache takes a
 * magazine back before calling malloc; a thread that ends frees its
 * cache.  The depot holds at most DEPOT_MAX
 * magazines; beyond that blocks go back to malloc, so an idle process keeps
 * at most that much.  Under AddressSanitizer blocks are plain malloc/free,
 * so that use-after-free of a packet is still reported. */
#include "blockpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "platform.h"
#include "thread_exit.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif

#define RVR_BLOCK_MAG 64
#define DEPOT_MAX 64   /* magazines: 2 MiB of 512-byte blocks */

typedef struct block {
    struct block *next;        /* in a cache or a magazine */
    struct block *next_mag;    /* first block of a magazine: the depot's next */
} block;

static RVR_TLS block *cache;
static RVR_TLS unsigned cached;
static RVR_TLS bool registered;

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static block *depot;
static unsigned depot_n;

/* A thread ends: its cache goes back to malloc. */
static void on_exit_thread(void)
{
    while (cache != NULL) {
        block *nx = cache->next;
        free(cache);
        cache = nx;
    }
    cached = 0;
}

/* A full magazine (RVR_BLOCK_MAG blocks) into the depot, or back to malloc. */
static void depot_put(block *mag)
{
    pthread_mutex_lock(&depot_lock);
    bool keep = depot_n < DEPOT_MAX;
    if (keep) {
        mag->next_mag = depot;
        depot = mag;
        depot_n++;
    }
    pthread_mutex_unlock(&depot_lock);
    while (!keep && mag != NULL) {
        block *nx = mag->next;
        free(mag);
        mag = nx;
    }
}

/* The cache is about to hold blocks: free them when this thread ends. */
static void register_thread(void)
{
    rvr_thread_on_exit(&registered, on_exit_thread);
}

void *rvr_block_alloc(void)
{
#ifndef POOL_OFF
    block *b = cache;
    if (b == NULL) {
        pthread_mutex_lock(&depot_lock);
        if ((b = depot) != NULL) {
            depot = b->next_mag;
            depot_n--;
        }
        pthread_mutex_unlock(&depot_lock);
        if (b != NULL) {
            cached = RVR_BLOCK_MAG;
            register_thread();
        }
    }
    if (b != NULL) {
        cache = b->next;
        cached--;
        return b;
    }
#endif
    return malloc(RVR_BLOCK_SIZE);
}

void rvr_block_free(void *p)
{
    if (p == NULL)
        return;
#ifdef POOL_OFF
    free(p);
#else
    register_thread();
    block *b = p;
    b->next = cache;
    cache = b;
    if (++cached < 2 * RVR_BLOCK_MAG)
        return;
    /* Hand the oldest RVR_BLOCK_MAG to the depot, keep the newest (warm). */
    block *last = cache;
    for (unsigned i = 1; i < RVR_BLOCK_MAG; i++)
        last = last->next;
    block *mag = last->next;
    last->next = NULL;
    cached = RVR_BLOCK_MAG;
    depot_put(mag);
#endif
}
