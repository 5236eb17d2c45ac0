/* vrtypes.h — the process-wide registry of VR types, internal side.
 *
 * The public half (rvr_vr_type_register, rvr_vr_type_find) is declared in
 * <river/vr.h>; this header adds what only the runtime and its tests
 * need: listing the registered types, e.g. for a deploy error naming the
 * types a VM knows. */
#ifndef RIVER_VRTYPES_H
#define RIVER_VRTYPES_H

#include <stddef.h>

#include <river/vr.h>

/* A malloc'ed array, sorted by name, of the types registered so far; the
 * caller frees the array (not the types) with free().  *out is NULL when
 * *n is 0. */
rvr_status rvr_vr_types_list(const rvr_vr_type ***out, size_t *n);

#endif
