/* river/pbsupport.h — the protobuf marshalling that riverc-generated code
 * calls (implemented in libriver, runtime/pbsupport.c).
 *
 * A generated NAME.rvr.c includes this header and contains only what is
 * specific to its .rvr file: the nanopb descriptors of its messages, one
 * decode callback per message, init/clear, and the rvr_schema constants.
 * Everything generic lives here:
 *
 *   Encoding (rvr_pb_encode) does not use nanopb: it walks the message's
 *   rvr_schema and writes the protobuf encoding in one pass into a growing
 *   buffer.  A length-delimited record (nested message, packed array, `any`)
 *   reserves one length byte and moves its contents only when they turn out
 *   to need a longer length, so every message is visited once.  The output
 *   is the encoding nanopb produces from the generated descriptor: fields by
 *   increasing number; a scalar with no (or a zero) default is omitted when
 *   zero, one with a non-zero default is always written; a string with a
 *   declared default is always written, other strings, bytes and `any` only
 *   when non-empty; uuids and nested messages always; arrays of scalars
 *   packed, other arrays one record per element.
 *
 *   Decoding (rvr_pb_decode) runs nanopb 0.4 (tag parsing, skipping unknown
 *   fields, framing submessages) with the generated per-message callback,
 *   which hands each River-layout field to one of the rvr_pb_dec_* helpers.
 *   A message of single scalars, strings, bytes and uuids, each field once
 *   with its own wire type (what River's encoder writes), is decoded
 *   without nanopb, to the same result; every other input goes to nanopb.
 *
 * Thread-safety: all functions may be called from any number of threads at
 * once.  The error and nesting depth of a decode in progress are
 * thread-local; encoding keeps no state outside its call.
 *
 * These functions are for generated code; their signatures follow the
 * River ABI (RVR_ABI_VERSION), which generated headers check. */
#ifndef RIVER_PBSUPPORT_H
#define RIVER_PBSUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pb.h>
#include <pb_decode.h>
#include <river/abi.h>
#include <river/schema.h>

#if PB_PROTO_HEADER_VERSION != 40
#error "River's generated code needs nanopb 0.4 (PB_PROTO_HEADER_VERSION 40)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Nested messages a decode accepts before failing with RVR_ELIMIT (hostile
 * input); encoding has no such limit. */
#define RVR_PB_MAX_DEPTH 64

/* ---- whole messages ---- */

/* Encodes the message *msg described by s into a malloc'ed buffer (*buf,
 * never NULL on success; *len may be 0), which the caller frees.
 * RVR_EINVAL: a NULL argument, an rvr_bytes or array with a count but no
 * data; RVR_ELIMIT: an array longer than its bound; RVR_ENOMEM; or the
 * status of rvr_value_encode for an `any` field.  Nothing is returned on
 * error. */
rvr_status rvr_pb_encode(const rvr_schema *s, const void *msg, uint8_t **buf, size_t *len);

/* Decodes buf[0..len) into *msg, which the caller has initialised (the
 * generated NAME_decode calls NAME_init first, and NAME_clear on error).
 * Fields missing from the input keep their values.  RVR_EPROTO (malformed
 * input, a string that is not UTF-8 or contains NUL), RVR_ELIMIT (past an
 * array bound or RVR_PB_MAX_DEPTH), RVR_ENOMEM, RVR_EINVAL (NULL buf with
 * len > 0). */
rvr_status rvr_pb_decode(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg);

/* ---- helpers of the generated decode callbacks ----
 * Each reads one field value from `is` (positioned on the value: nanopb has
 * read the tag, and for length-delimited values limited `is` to them) and
 * returns false on failure, after recording why with rvr_pb_fail. */

/* Records st as the reason the current decode fails (the first one recorded
 * wins) and returns false. */
bool rvr_pb_fail(rvr_status st);

/* A scalar of type k (BOOL, INT32, ENUM, INT64, UINT32, UINT64, FLOAT,
 * DOUBLE) into *p, which has the C type of k. */
bool rvr_pb_dec_scalar(pb_istream_t *is, rvr_ftype k, void *p);
/* A string (UTF-8 without NUL): replaces *out, freeing the old one. */
bool rvr_pb_dec_string(pb_istream_t *is, char **out);
/* Bytes: replaces *out, freeing the old data. */
bool rvr_pb_dec_bytes(pb_istream_t *is, rvr_bytes *out);
/* An `any` value (<river/codec.h> encoding; empty is NONE): replaces *v. */
bool rvr_pb_dec_any(pb_istream_t *is, rvr_value *v);
/* A nested message of schema s into *m (already initialised: its fields
 * merge, as protobuf requires for a repeated singular message). */
bool rvr_pb_dec_msg(pb_istream_t *is, const rvr_schema *s, void *m);
/* One element of an array field of element type k: appends it to the array
 * whose pointer is at arrp (element size esz, *count elements, at most
 * `bound`, 0 = unbounded).  Packed scalars come one call per element.  For
 * MESSAGE elements, sub is the element's schema (initialised first). */
bool rvr_pb_dec_elem(pb_istream_t *is, rvr_ftype k, void *arrp, size_t *count, size_t esz,
                     size_t bound, const rvr_schema *sub);

/* malloc'ed copy of s (NULL when out of memory): string defaults in init. */
char *rvr_pb_strdup(const char *s);

#ifdef __cplusplus
}
#endif
#endif
