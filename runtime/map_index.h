/* map_index.h — the index of a map's entries (map.c): open addressing
 * with linear probing over entry positions, kept at most half full, for
 * maps past MAP_SMALL entries, so that building a packet with
 * RVR_MAX_ATTRS attributes stays linear.  Slots hold position + 1 (0:
 * empty).  Entry hashes (rvr_map_entry.hash) are computed only while a map
 * has an index: a small map compares lengths and bytes, cheaper than
 * hashing. */
#ifndef RIVER_MAP_INDEX_H
#define RIVER_MAP_INDEX_H

#include "value_impl.h"

/* Puts entry `pos` (its hash set) into the index. */
void rvr_map_index_insert(rvr_map *m, uint32_t pos);
/* (Re)builds the index with `cap` slots (a power of two, > 2 * len),
 * hashing every entry first if m had no index. */
rvr_status rvr_map_index_build(rvr_map *m, uint32_t cap);
/* Slot holding entry `pos`, which must be indexed. */
uint32_t rvr_map_index_slot_of(const rvr_map *m, uint32_t pos);
/* Empties slot `hole` without breaking any probe chain (backward-shift
 * deletion); the caller renumbers the positions after a removed entry. */
void rvr_map_index_delete_slot(rvr_map *m, uint32_t hole);

#endif
