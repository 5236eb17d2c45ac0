/* mailbox_index.h — a mailbox's packets grouped by tag and by source
 * (mailbox.c): a hash table of groups, each a list of its packets in
 * arrival order, so a selective receive looks only at the packets that can
 * match.  Internal; used by the mailbox's owner thread only. */
#ifndef RIVER_MAILBOX_INDEX_H
#define RIVER_MAILBOX_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox.h"

/* One tag's (or one source's) packets, oldest first. */
struct mb_group {
    mb_group *hnext;
    uint32_t hash, n, keylen;
    rvr_packet *head, *tail;
    unsigned char key[];
};

/* Frees every group; the index is empty (and usable) afterwards. */
void rvr_mb_index_fini(mb_index *ix);
/* The group of key[0..len) (hash: rvr_hash_bytes of it), NULL if none. */
mb_group *rvr_mb_index_find(const mb_index *ix, const void *key, uint32_t len, uint32_t hash);
/* The group of key, created empty if needed; NULL on ENOMEM. */
mb_group *rvr_mb_index_get(mb_index *ix, const void *key, uint32_t len, uint32_t hash);
/* Frees the empty groups once too many have piled up (many distinct tags). */
void rvr_mb_index_sweep(mb_index *ix);

#endif
