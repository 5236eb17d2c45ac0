/* deploy_args.h — a VR's typed arguments as a dynamic map (by name), the
 * form in which a deploy carries them between VMs (docs/deploy.md). */
#ifndef RIVER_DEPLOY_ARGS_H
#define RIVER_DEPLOY_ARGS_H

#include <river/value.h>
#include <river/vr.h>

/* A new map (the caller frees it) of the arguments in `args` (NULL: the
 * type's defaults): bool; int32/int64 as int; uint32/uint64 as uint;
 * float/double as double; string (a NULL string is left out). */
rvr_status rvr_args_to_map(const rvr_vr_type *t, const void *args, rvr_map **out);

/* A private args struct for t (free with rvr_args_free): the defaults,
 * overridden by the entries of m (NULL: none) with the same names.
 * RVR_ETYPE (with the name in err) for a value of the wrong type,
 * RVR_ERANGE for a number out of range, RVR_ENOATTR for a name the type
 * does not declare. */
rvr_status rvr_args_from_map(const rvr_vr_type *t, const rvr_map *m, void **out, char *err,
                             size_t errlen);

#endif
