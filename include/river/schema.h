/* river/schema.h — typed messages: the schema descriptors riverc emits and
 * the runtime calls generated code makes.
 *
 * For every `message` of a .rvr file riverc generates a C struct and one
 * constant rvr_schema that describes it completely: its names, a
 * fingerprint, the struct's size, and for every field its name, number,
 * type, where it lives in the struct (offsets), array count and bound,
 * default, nested schema or enum.  The runtime walks a struct with it
 * generically (typed <-> dynamic packet conversion, the schema that travels
 * with a message) and calls the generated init/clear/encode/decode through
 * it.
 *
 * Struct layout rules (what the offsets point to), by rvr_ftype:
 *
 *   type           single field            array field (RVR_FIELD_ARRAY)
 *   BOOL           bool                    bool *
 *   INT32/ENUM     int32_t / C enum (4 B)  int32_t * / enum *
 *   INT64          int64_t                 int64_t *
 *   UINT32         uint32_t                uint32_t *
 *   UINT64         uint64_t                uint64_t *
 *   FLOAT          float                   float *
 *   DOUBLE         double                  double *
 *   STRING         char * (NUL-terminated  char ** (each non-NULL)
 *                  UTF-8; NULL means "")
 *   BYTES          rvr_bytes               rvr_bytes *
 *   UUID           rvr_uuid                rvr_uuid *
 *   MESSAGE        the nested struct       nested struct * (elem_size each)
 *   ANY            rvr_value               rvr_value *
 *
 * An array field is a pointer at `offset` to `count` contiguous elements,
 * with the count a size_t at `count_offset`.  Every pointer in a message
 * struct is owned by it: heap memory (malloc) that the message's clear
 * function frees.  An open-ended message has an `rvr_map *extra` member at
 * `extra_offset` (NULL: no extra attributes), owned likewise.
 *
 * Ownership of send/recv: rvr_send_typed takes the message's contents on
 * RVR_OK (the struct is left cleared, as after clear); on error the caller
 * still owns them.  A receive fills a struct the caller then clears.
 *
 * Thread-safety: schemas are immutable constants; register may be called
 * from any thread, also before main (from generated constructors). */
#ifndef RIVER_SCHEMA_H
#define RIVER_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/abi.h>
#include <river/status.h>
#include <river/uuid.h>
#include <river/value.h>
#include <river/match.h>
#include <river/vr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The layout version of the structs below; generated code records it in
 * every schema (rvr_schema.abi) and the runtime refuses others (RVR_EABI). */
#define RVR_SCHEMA_ABI 1

/* A bytes value: `len` octets at `data` (malloc'ed; NULL when len is 0). */
typedef struct rvr_bytes {
    uint8_t *data;
    size_t len;
} rvr_bytes;

typedef enum rvr_ftype {
    RVR_F_BOOL = 1,
    RVR_F_INT32,
    RVR_F_INT64,
    RVR_F_UINT32,
    RVR_F_UINT64,
    RVR_F_FLOAT,
    RVR_F_DOUBLE,
    RVR_F_STRING,
    RVR_F_BYTES,
    RVR_F_UUID,
    RVR_F_ENUM,      /* stored as a 32-bit signed integer */
    RVR_F_MESSAGE,
    RVR_F_ANY        /* one dynamic value */
} rvr_ftype;

/* Field flags. */
#define RVR_FIELD_ARRAY   0x1u  /* T name[] or T name[N] */
#define RVR_FIELD_DEFAULT 0x2u  /* has an explicit default (rvr_field.def) */

typedef struct rvr_enum_value {
    const char *name;            /* "FAST" */
    int32_t value;
} rvr_enum_value;

typedef struct rvr_enum_schema {
    const char *name;            /* "pi.Mode" */
    const rvr_enum_value *values;
    size_t nvalues;
} rvr_enum_schema;

/* An explicit default, by field type: b (BOOL), i (INT32, INT64, ENUM),
 * u (UINT32, UINT64), d (FLOAT, DOUBLE; may be inf or nan), s (STRING). */
typedef struct rvr_default {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
} rvr_default;

typedef struct rvr_schema rvr_schema;

typedef struct rvr_field {
    const char *name;            /* attribute name, as declared */
    uint32_t number;             /* protobuf field number, 1..65535 */
    rvr_ftype type;
    uint32_t flags;              /* RVR_FIELD_* */
    size_t offset;               /* of the value, or of the element pointer */
    size_t count_offset;         /* arrays: of the size_t count; else 0 */
    size_t elem_size;            /* size of one value (one element) */
    size_t bound;                /* arrays: maximum count, 0 = unbounded */
    const rvr_schema *message;   /* RVR_F_MESSAGE: the nested schema */
    const rvr_enum_schema *enumeration; /* RVR_F_ENUM */
    const char *def_text;        /* default as written in the .rvr, or NULL */
    rvr_default def;             /* valid when flags & RVR_FIELD_DEFAULT */
} rvr_field;

struct rvr_schema {
    uint32_t abi;                /* RVR_SCHEMA_ABI */
    const char *name;            /* full name "pkg.Message" */
    const char *tag;             /* the tag of packets of this type (= name) */
    uint64_t fingerprint;        /* FNV-1a 64 of the canonical declaration */
    const char *source;          /* the .rvr file it came from (base name) */
    size_t size;                 /* sizeof the struct */
    const rvr_field *fields;     /* by increasing number */
    size_t nfields;
    bool open;                   /* open-ended (`...`) */
    size_t extra_offset;         /* open: offset of `rvr_map *extra` */
    /* Sets every field to its default (zero, or the declared default). */
    void (*init)(void *msg);
    /* Frees what the message owns and zeroes it.  NULL-safe. */
    void (*clear)(void *msg);
    /* Protobuf encoding of the declared fields (not `extra`) into a malloc'ed
     * buffer.  RVR_ELIMIT: an array exceeds its bound; RVR_ENOMEM. */
    rvr_status (*encode)(const void *msg, uint8_t **buf, size_t *len);
    /* Initialises *msg and decodes into it; unknown field numbers are
     * skipped, missing fields keep their defaults.  On error the message is
     * cleared: RVR_EPROTO (malformed), RVR_ELIMIT (past a bound), RVR_ENOMEM. */
    rvr_status (*decode)(const uint8_t *buf, size_t len, void *msg);
    /* Private to generated code: its nanopb descriptor (pb_msgdesc_t). */
    const void *pb_desc;
};

/* ---- implemented by libriver; called by generated code ---- */

/* Makes a schema known to the runtime (by name; registering the same schema
 * again is a no-op).  RVR_EEXIST when another schema with the same name but
 * a different fingerprint is registered; RVR_EABI for a foreign abi. */
rvr_status rvr_schema_register(const rvr_schema *s);
/* The registered schema of that name, or NULL. */
const rvr_schema *rvr_schema_find(const char *name);

/* Sends the typed message *msg (a struct described by s) to dst.  Takes its
 * contents on RVR_OK. */
rvr_status rvr_send_typed(rvr_vr *self, const rvr_uuid *dst, const rvr_schema *s, void *msg);

/* Receives the oldest queued message that converts to s (tag s->tag, typed
 * or dynamic with convertible attributes) and matches `extra` (NULL: no
 * further constraint) into *out (initialised here; the caller clears it).
 * A packet that cannot be converted stays queued and does not match. */
rvr_status rvr_recv_typed(rvr_vr *self, const rvr_schema *s, const rvr_match *extra,
                          int timeout_ms, void *out);

/* Receives the oldest queued message that converts to any of the n schemas;
 * stores the index of that schema in *which and the message in *out (which
 * must be large enough for any of them). */
rvr_status rvr_recv_typed_any(rvr_vr *self, const rvr_schema *const *schemas, size_t n,
                              int timeout_ms, size_t *which, void *out);

/* `any` fields are encoded with rvr_value_encode/rvr_value_decode of
 * <river/codec.h> (a NONE value as zero bytes). */

#ifdef __cplusplus
}
#endif
#endif
