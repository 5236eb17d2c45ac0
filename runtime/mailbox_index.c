/* mailbox_index.c — see mailbox_index.h. */
#include "mailbox_index.h"

#include <stdlib.h>
#include <string.h>

#include "value_impl.h"

/* Empty groups are kept for reuse (a ping-pong recreates its group on every
 * message) until they outnumber this many. */
#define MAX_EMPTY_GROUPS 64u

void rvr_mb_index_fini(mb_index *ix)
{
    for (uint32_t i = 0; i < ix->nslots; i++) {
        mb_group *g = ix->slots[i];
        while (g != NULL) {
            mb_group *nx = g->hnext;
            free(g);
            g = nx;
        }
    }
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

mb_group *rvr_mb_index_find(const mb_index *ix, const void *key, uint32_t len, uint32_t hash)
{
    if (ix->nslots == 0)
        return NULL;
    for (mb_group *g = ix->slots[hash & (ix->nslots - 1)]; g != NULL; g = g->hnext)
        if (g->hash == hash && g->keylen == len && rvr_key_eq(g->key, key, len))
            return g;
    return NULL;
}

static bool index_grow(mb_index *ix)
{
    uint32_t n = ix->nslots ? ix->nslots * 2 : 16;
    mb_group **slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return false;
    for (uint32_t i = 0; i < ix->nslots; i++) {
        mb_group *g = ix->slots[i];
        while (g != NULL) {
            mb_group *nx = g->hnext;
            g->hnext = slots[g->hash & (n - 1)];
            slots[g->hash & (n - 1)] = g;
            g = nx;
        }
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = n;
    return true;
}

mb_group *rvr_mb_index_get(mb_index *ix, const void *key, uint32_t len, uint32_t hash)
{
    mb_group *g = rvr_mb_index_find(ix, key, len, hash);
    if (g != NULL) {
        if (g->n == 0)
            ix->nempty--;
        return g;
    }
    if (ix->ngroups >= ix->nslots && !index_grow(ix))
        return NULL;
    g = calloc(1, sizeof *g + len);
    if (g == NULL)
        return NULL;
    g->hash = hash;
    g->keylen = len;
    memcpy(g->key, key, len);
    g->hnext = ix->slots[hash & (ix->nslots - 1)];
    ix->slots[hash & (ix->nslots - 1)] = g;
    ix->ngroups++;
    return g;
}

/* Frees every empty group once too many have piled up (many distinct tags). */
void rvr_mb_index_sweep(mb_index *ix)
{
    if (ix->nempty <= MAX_EMPTY_GROUPS)
        return;
    for (uint32_t i = 0; i < ix->nslots; i++) {
        mb_group **pp = &ix->slots[i];
        while (*pp != NULL) {
            mb_group *g = *pp;
            if (g->n == 0) {
                *pp = g->hnext;
                free(g);
                ix->ngroups--;
            } else {
                pp = &g->hnext;
            }
        }
    }
    ix->nempty = 0;
}
