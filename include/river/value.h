/* river/value.h — dynamically typed values, lists and maps.
 *
 * A value is bool, int (int64), uint (uint64), double, string (UTF-8 text,
 * length-counted, may not contain NUL), bytes (any octets, may contain NUL),
 * uuid, list (ordered values) or map (string keys -> values, insertion
 * ordered).  Lists and maps nest up to RVR_MAX_DEPTH levels, counting the
 * packet's own attribute set as level 0: a packet attribute holding a list
 * of lists is depth 2.
 *
 * Ownership.  An rvr_value owns what it points to (string, bytes, list or
 * map).  Functions that "take" a value (rvr_list_append, rvr_map_set,
 * rvr_packet_set, rvr_packet_set_list/map) move its contents on success and leave the caller's
 * rvr_value empty (RVR_T_NONE); on failure the caller still owns it.
 * Getters return const pointers that stay valid until the container is
 * modified or freed.  Constructors of string/bytes values copy the input.
 *
 * Thread-safety: values, lists and maps are plain data; do not modify one
 * from two threads at once.  Reading from several threads is safe. */
#ifndef RIVER_VALUE_H
#define RIVER_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/status.h>
#include <river/uuid.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits, all enforced with RVR_ELIMIT. */
#define RVR_MAX_DEPTH      32        /* list/map nesting below a packet */
#define RVR_MAX_ATTRS      65535     /* attributes per packet, entries per map */
#define RVR_MAX_LIST       (1u << 24)/* entries per list */
#define RVR_MAX_NAME       255       /* bytes in an attribute name or map key, NUL excluded */
#define RVR_MAX_VALUE_SIZE ((size_t)1 << 30) /* bytes in one string or bytes value */

typedef enum rvr_type {
    RVR_T_NONE = 0,
    RVR_T_BOOL,
    RVR_T_INT,     /* int64_t */
    RVR_T_UINT,    /* uint64_t */
    RVR_T_DOUBLE,
    RVR_T_STRING,
    RVR_T_BYTES,
    RVR_T_UUID,
    RVR_T_LIST,
    RVR_T_MAP
} rvr_type;

typedef struct rvr_list rvr_list;
typedef struct rvr_map rvr_map;

typedef struct rvr_value {
    rvr_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct { char *ptr; size_t len; } str;      /* ptr is NUL-terminated */
        struct { uint8_t *ptr; size_t len; } bytes;
        rvr_uuid uuid;
        rvr_list *list;
        rvr_map *map;
    } as;
} rvr_value;

/* Name of a type ("int", "string", ...). */
const char *rvr_type_name(rvr_type t);

/* Scalar constructors (no allocation). */
rvr_value rvr_value_bool(bool v);
rvr_value rvr_value_i64(int64_t v);
rvr_value rvr_value_u64(uint64_t v);
rvr_value rvr_value_f64(double v);
rvr_value rvr_value_uuid(const rvr_uuid *v);
/* Copying constructors; RVR_ENOMEM/RVR_ELIMIT/RVR_EINVAL leave *out as NONE. */
rvr_status rvr_value_str(rvr_value *out, const char *s);               /* NUL-terminated */
rvr_status rvr_value_strn(rvr_value *out, const char *s, size_t len);  /* no NUL inside */
rvr_status rvr_value_bytes(rvr_value *out, const void *p, size_t len);
/* Wrap a list or map; the value takes it (freed by rvr_value_clear). */
rvr_value rvr_value_list(rvr_list *l);
rvr_value rvr_value_map(rvr_map *m);

/* Frees what `v` owns and sets it to NONE.  NULL is fine. */
void rvr_value_clear(rvr_value *v);
/* Deep copy into *dst (which is overwritten, not cleared). */
rvr_status rvr_value_copy(rvr_value *dst, const rvr_value *src);
/* Deep equality.  int and uint compare by mathematical value (int -1 never
 * equals any uint); doubles compare with ==; NaN equals nothing; every
 * other type compares only with its own type. */
bool rvr_value_equal(const rvr_value *a, const rvr_value *b);
/* Nesting depth: 0 for scalars, 1 + deepest child for list/map. */
unsigned rvr_value_depth(const rvr_value *v);

/* ---- lists --------------------------------------------------------------- */
rvr_list *rvr_list_new(void);                 /* NULL on ENOMEM */
void rvr_list_free(rvr_list *l);              /* frees every element; NULL is fine */
size_t rvr_list_len(const rvr_list *l);
const rvr_value *rvr_list_get(const rvr_list *l, size_t i); /* NULL when out of range */
/* Takes *v on success. RVR_ELIMIT when v nests too deep or the list is full. */
rvr_status rvr_list_append(rvr_list *l, rvr_value *v);
rvr_status rvr_list_append_i64(rvr_list *l, int64_t v);
rvr_status rvr_list_append_u64(rvr_list *l, uint64_t v);
rvr_status rvr_list_append_f64(rvr_list *l, double v);
rvr_status rvr_list_append_bool(rvr_list *l, bool v);
rvr_status rvr_list_append_str(rvr_list *l, const char *s);  /* copies */

/* ---- maps (string keys, insertion order) ---------------------------------- */
rvr_map *rvr_map_new(void);                   /* NULL on ENOMEM */
void rvr_map_free(rvr_map *m);                /* NULL is fine */
size_t rvr_map_len(const rvr_map *m);
/* Entry i in insertion order; RVR_ERANGE past the end.  Pointers stay owned by the map. */
rvr_status rvr_map_at(const rvr_map *m, size_t i, const char **key, const rvr_value **val);
const rvr_value *rvr_map_get(const rvr_map *m, const char *key); /* NULL if absent */
/* Sets key to *v, taking it on success.  Replacing an existing key keeps its
 * position in the order and frees the old value. */
rvr_status rvr_map_set(rvr_map *m, const char *key, rvr_value *v);
rvr_status rvr_map_remove(rvr_map *m, const char *key);        /* RVR_ENOATTR if absent */
rvr_map *rvr_map_copy(const rvr_map *m);                       /* NULL on ENOMEM */
bool rvr_map_equal(const rvr_map *a, const rvr_map *b);        /* same keys and values, any order */
/* The map's depth as a value: 1 + the deepest of its values (see rvr_value_depth). */
unsigned rvr_map_depth(const rvr_map *m);

rvr_list *rvr_list_copy(const rvr_list *l);                    /* NULL on ENOMEM */
bool rvr_list_equal(const rvr_list *a, const rvr_list *b);

#ifdef __cplusplus
}
#endif
#endif
