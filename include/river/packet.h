/* river/packet.h — dynamic messages (super flexible messaging).
 *
 * A packet is a tag (its kind, a non-empty string of at most RVR_MAX_NAME
 * bytes), a source VR (`src`, set by the runtime when the packet is sent)
 * and a set of named attributes, each holding one rvr_value (see value.h).
 * Attributes iterate in insertion order; setting an existing name replaces
 * its value in place.
 *
 * Ownership.  rvr_packet_new/copy return a packet the caller owns and frees
 * with rvr_packet_free.  rvr_send() takes the packet only when it returns
 * RVR_OK; a receive hands the packet to the caller.  Setters copy strings
 * and bytes; the _take setters move lists, maps and values in (on success
 * only).  The typed getters (str, bytes, list, map) return pointers to the
 * value's own storage, valid until that attribute is replaced or removed or
 * the packet freed; the rvr_value pointers of rvr_packet_get/rvr_packet_at
 * are valid only until the packet is next modified.
 *
 * Getters are type-checked: RVR_ENOATTR when the name is absent, RVR_ETYPE
 * when it holds another type; `*out` is untouched on error.
 *
 * Thread-safety: a packet belongs to one thread at a time. */
#ifndef RIVER_PACKET_H
#define RIVER_PACKET_H

#include <river/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvr_packet rvr_packet;

rvr_packet *rvr_packet_new(const char *tag);     /* NULL on ENOMEM or a bad tag */
void rvr_packet_free(rvr_packet *p);             /* NULL is fine */
rvr_packet *rvr_packet_copy(const rvr_packet *p);/* deep copy, src included; NULL on ENOMEM */

const char *rvr_packet_tag(const rvr_packet *p);
rvr_status rvr_packet_set_tag(rvr_packet *p, const char *tag);
/* The sending VR (nil UUID before the packet was sent). */
const rvr_uuid *rvr_packet_src(const rvr_packet *p);

/* Same tag, same src, equal attribute sets (order ignored). */
bool rvr_packet_equal(const rvr_packet *a, const rvr_packet *b);

/* Iteration in insertion order. */
size_t rvr_packet_count(const rvr_packet *p);
rvr_status rvr_packet_at(const rvr_packet *p, size_t i, const char **name, const rvr_value **val);
const rvr_map *rvr_packet_attrs(const rvr_packet *p);
bool rvr_packet_has(const rvr_packet *p, const char *name);
rvr_status rvr_packet_remove(rvr_packet *p, const char *name);

/* Setters.  RVR_EINVAL for a NULL or empty name, RVR_ELIMIT for a name
 * longer than RVR_MAX_NAME or past another limit, RVR_ENOMEM. */
rvr_status rvr_packet_set_bool(rvr_packet *p, const char *name, bool v);
rvr_status rvr_packet_set_i64(rvr_packet *p, const char *name, int64_t v);
rvr_status rvr_packet_set_u64(rvr_packet *p, const char *name, uint64_t v);
rvr_status rvr_packet_set_f64(rvr_packet *p, const char *name, double v);
rvr_status rvr_packet_set_str(rvr_packet *p, const char *name, const char *s);
rvr_status rvr_packet_set_strn(rvr_packet *p, const char *name, const char *s, size_t len);
rvr_status rvr_packet_set_bytes(rvr_packet *p, const char *name, const void *data, size_t len);
rvr_status rvr_packet_set_uuid(rvr_packet *p, const char *name, const rvr_uuid *v);

/* Large values without a copy.  rvr_bytes_alloc returns a buffer of at
 * least len bytes (recycled when large, so writing it costs no page
 * faults), or NULL.  rvr_packet_give_bytes sets `name` to buf[0..len)
 * (len at most what was asked of rvr_bytes_alloc), taking buf on
 * success: the packet frees it, after it was written to the network if
 * sent.  On failure the caller still owns buf and frees it with
 * rvr_bytes_free. */
void *rvr_bytes_alloc(size_t len);
void rvr_bytes_free(void *buf);
rvr_status rvr_packet_give_bytes(rvr_packet *p, const char *name, void *buf, size_t len);
/* Take ownership of l / m / *v on success. */
rvr_status rvr_packet_set_list(rvr_packet *p, const char *name, rvr_list *l);
rvr_status rvr_packet_set_map(rvr_packet *p, const char *name, rvr_map *m);
rvr_status rvr_packet_set(rvr_packet *p, const char *name, rvr_value *v);

/* Getters. */
rvr_status rvr_packet_get_bool(const rvr_packet *p, const char *name, bool *out);
rvr_status rvr_packet_get_i64(const rvr_packet *p, const char *name, int64_t *out);
rvr_status rvr_packet_get_u64(const rvr_packet *p, const char *name, uint64_t *out);
rvr_status rvr_packet_get_f64(const rvr_packet *p, const char *name, double *out);
/* *len may be NULL; the string is NUL-terminated. */
rvr_status rvr_packet_get_str(const rvr_packet *p, const char *name, const char **out, size_t *len);
rvr_status rvr_packet_get_bytes(const rvr_packet *p, const char *name, const uint8_t **out, size_t *len);
rvr_status rvr_packet_get_uuid(const rvr_packet *p, const char *name, rvr_uuid *out);
rvr_status rvr_packet_get_list(const rvr_packet *p, const char *name, const rvr_list **out);
rvr_status rvr_packet_get_map(const rvr_packet *p, const char *name, const rvr_map **out);
/* Any type; *out points into the packet. */
rvr_status rvr_packet_get(const rvr_packet *p, const char *name, const rvr_value **out);

#ifdef __cplusplus
}
#endif
#endif
