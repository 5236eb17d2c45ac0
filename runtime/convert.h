/* convert.h — typed messages <-> dynamic attributes, walking a struct with
 * its rvr_schema (see river/schema.h for the layout rules). */
#ifndef RIVER_CONVERT_H
#define RIVER_CONVERT_H

#include <river/schema.h>

/* Adds one attribute per declared field (arrays as lists, nested messages as
 * maps, enums as ints, an unset `any` omitted) and, for an open-ended
 * message, its extra attributes, to `out`. */
rvr_status rvr_typed_to_map(const rvr_schema *s, const void *msg, rvr_map *out);

/* Initialises *out and fills it from attributes by name.  A missing
 * attribute keeps its default; one of an incompatible type or out of range
 * makes the whole conversion fail with RVR_ESCHEMA (out is left cleared).
 * Attributes that are not fields go to `extra` when the message is
 * open-ended and are otherwise ignored. */
rvr_status rvr_map_to_typed(const rvr_schema *s, const rvr_map *attrs, void *out);

/* Converts a message of schema `from` into one of schema `to` (another
 * version of the same message) by field number: protobuf-encodes with
 * `from`, decodes with `to`, and keeps the fields `to` does not know as
 * extra attributes when `to` is open-ended. */
rvr_status rvr_typed_convert(const rvr_schema *from, const void *msg, const rvr_schema *to,
                             void *out);

#endif
