/* map_index.c — the open-addressing (linear probing) index of a large
 * map's entry positions: see map_index.h. */
#include <stdbool.h>
#include <stdlib.h>

#include "map_index.h"

void rvr_map_index_insert(rvr_map *m, uint32_t pos)
{
    uint32_t mask = m->index_cap - 1;
    uint32_t s = m->entries[pos].hash & mask;
    while (m->index[s] != 0)
        s = (s + 1) & mask;
    m->index[s] = pos + 1;
}

rvr_status rvr_map_index_build(rvr_map *m, uint32_t cap)
{
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (idx == NULL)
        return RVR_ENOMEM;
    if (m->index == NULL)   /* the first index: hashes were not kept until now */
        for (uint32_t i = 0; i < m->len; i++)
            m->entries[i].hash = rvr_hash_bytes(m->entries[i].key, m->entries[i].keylen);
    free(m->index);
    m->index = idx;
    m->index_cap = cap;
    for (uint32_t i = 0; i < m->len; i++)
        rvr_map_index_insert(m, i);
    return RVR_OK;
}

uint32_t rvr_map_index_slot_of(const rvr_map *m, uint32_t pos)
{
    uint32_t mask = m->index_cap - 1;
    uint32_t s = m->entries[pos].hash & mask;
    while (m->index[s] != pos + 1)
        s = (s + 1) & mask;
    return s;
}

void rvr_map_index_delete_slot(rvr_map *m, uint32_t hole)
{
    uint32_t mask = m->index_cap - 1;
    uint32_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        if (m->index[j] == 0)
            break;
        uint32_t home = m->entries[m->index[j] - 1].hash & mask;
        /* The entry at j may fill the hole unless its home lies cyclically
         * in (hole, j]: then it would become unreachable from home. */
        bool stays = hole <= j ? (home > hole && home <= j)
                               : (home > hole || home <= j);
        if (!stays) {
            m->index[hole] = m->index[j];
            hole = j;
        }
    }
    m->index[hole] = 0;
}
