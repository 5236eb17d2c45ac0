/* blockpool.h — fixed-size blocks recycled through per-thread caches.
 *
 * Packets are allocated by one thread (a sender, the I/O thread decoding
 * a frame) and freed by another (the receiver).  Through malloc every such
 * pair of calls contends on the allocator's arena lock; here a thread frees
 * into its own cache and passes full magazines to a shared depot, so the
 * lock is taken once per RVR_BLOCK_MAG blocks. */
#ifndef RIVER_BLOCKPOOL_H
#define RIVER_BLOCKPOOL_H

#include <stddef.h>

#define RVR_BLOCK_SIZE 1024   /* bytes per block, 16-byte aligned: a packet with its raw attributes */

/* A block of RVR_BLOCK_SIZE bytes (uninitialised), NULL on ENOMEM. */
void *rvr_block_alloc(void);
/* Returns a block from rvr_block_alloc, on any thread.  NULL is fine. */
void rvr_block_free(void *b);

#endif
