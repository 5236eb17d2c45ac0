/* schema_wire.h — typed messages between VMs (docs/protocol.md, sections
 * "SCHEMA" and "Typed messages").
 *
 * A typed message travels as an Envelope whose `schema` is the schema's
 * fingerprint and whose `body` is the schema's own protobuf encoding
 * (rvr_schema.encode); the extra attributes of an open-ended message travel
 * as the envelope's dynamic attributes.  Before the first MSG with a given
 * fingerprint on a connection, the sender writes a SCHEMA frame describing
 * the message type completely (every nested message and enum type too), so
 * a receiver that was never compiled against the .rvr can still read the
 * message by attribute name.
 *
 * schema_wire.c: the SCHEMA frame (encoding a description from an
 * rvr_schema, parsing a received one with every limit checked).
 * schema_dyn.c: turning a received typed envelope into a packet: the
 * receiver's own schema when it has the same or another version of the
 * message, else a generic decoder driven by the description.
 *
 * Thread-safety: a parsed description belongs to the connection that
 * received it (the I/O thread); the encoders are reentrant. */
#ifndef RIVER_SCHEMA_WIRE_H
#define RIVER_SCHEMA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/codec.h>
#include <river/packet.h>
#include <river/schema.h>
#include "wire.h"

#define RVR_FRAME_SCHEMA 7

/* Limits on descriptions, enforced by the receiver (RVR_ELIMIT): message
 * types and enum types in one SCHEMA frame, values per enum, descriptions
 * kept per connection and their total payload bytes.  Fields per message
 * are bounded by the field numbers (1..65535, strictly increasing). */
#define RVR_SCHEMA_MAX_TYPES 256
#define RVR_SCHEMA_MAX_ENUM_VALUES 65535
#define RVR_SCHEMA_MAX_PER_CONN 1024
#define RVR_SCHEMA_MAX_CONN_BYTES ((size_t)16 << 20)

typedef struct rvr_sdesc_field {
    char *name;
    uint32_t number;
    uint32_t type;               /* rvr_ftype */
    uint32_t flags;              /* RVR_FIELD_* */
    uint64_t bound;              /* arrays: at most this many; 0 unbounded */
    uint32_t ref;                /* MESSAGE: index in msgs; ENUM: index in enums */
} rvr_sdesc_field;

typedef struct rvr_sdesc_msg {
    char *name, *tag;
    uint64_t fingerprint;
    bool open;
    rvr_sdesc_field *fields;     /* by increasing number */
    size_t nfields;
} rvr_sdesc_msg;

typedef struct rvr_sdesc_enum {
    char *name;
    char **names;
    int32_t *values;
    size_t n;
} rvr_sdesc_enum;

/* One received SCHEMA frame: msgs[0] is the described message. */
typedef struct rvr_sdesc {
    uint64_t fingerprint;
    rvr_sdesc_msg *msgs;
    size_t nmsgs;
    rvr_sdesc_enum *enums;
    size_t nenums;
    size_t bytes;                /* payload size, for the per-connection budget */
    /* This VM's schema of msgs[0]'s name, once found (the registry only
     * grows): looked up once per description, not per message. */
    const rvr_schema *local;
} rvr_sdesc;

/* ---- schema_wire.c ---- */

/* Appends the SCHEMA frame (header included) describing s and every
 * message and enum type it uses.  RVR_ELIMIT past RVR_SCHEMA_MAX_TYPES. */
rvr_status rvr_wire_put_schema(rvr_buf *out, const rvr_schema *s);
/* Parses a SCHEMA payload into a new description.  RVR_EPROTO when
 * malformed or inconsistent (bad type, index out of range, field numbers not
 * increasing, bad names), RVR_ELIMIT past a limit, RVR_ENOMEM. */
rvr_status rvr_sdesc_parse(const uint8_t *p, size_t n, rvr_sdesc **out);
void rvr_sdesc_free(rvr_sdesc *d);

/* The descriptions one connection received. */
typedef struct rvr_sdesc_table {
    rvr_sdesc **v;
    size_t n, cap, bytes;
} rvr_sdesc_table;

/* Adds d (taking it), replacing a description of the same fingerprint.
 * RVR_ELIMIT past RVR_SCHEMA_MAX_PER_CONN or RVR_SCHEMA_MAX_CONN_BYTES (d
 * is freed). */
rvr_status rvr_sdesc_table_add(rvr_sdesc_table *t, rvr_sdesc *d);
rvr_sdesc *rvr_sdesc_table_find(const rvr_sdesc_table *t, uint64_t fingerprint);
void rvr_sdesc_table_fini(rvr_sdesc_table *t);

/* A typed packet (p->body != NULL) as a MSG frame: the body encoded as
 * p->schema->encode does, the extra attributes of an open-ended message as the
 * envelope's attributes.  src from the packet. */
rvr_status rvr_wire_put_typed(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p);
/* The same MSG described in *m (rvr_wire_msg_size, rvr_wire_put_msg), its
 * body encoded into a buffer of the calling thread's: valid until the
 * thread's next call. */
rvr_status rvr_wire_typed_msg(const rvr_uuid *dst, const rvr_packet *p, rvr_wire_msg *m);
/* After m is written: lets a large body buffer go. */
void rvr_wire_typed_done(void);

/* ---- schema_dyn.c ---- */

/* Turns a received typed envelope into a packet.  `pkt` holds the
 * envelope's src, tag and attributes (as rvr_wire_get_msg made it) and is
 * updated in place; d is the sender's description (NULL if none was sent).
 *   (a) a registered schema of the same name and fingerprint: the body is
 *       decoded with it into a typed packet (attributes become its extra);
 *   (b) a registered schema of another fingerprint: decoded with it by
 *       field number; when it is open-ended, the fields it does not know
 *       (named from d) and the attributes become its extra;
 *   (c) otherwise (or when (b) cannot decode the body): decoded generically
 *       with d into attributes named as the sender declared them.
 * RVR_ENOTFOUND when neither a same-fingerprint schema nor d is there,
 * RVR_EPROTO / RVR_ELIMIT for a bad body, RVR_ENOMEM. */
rvr_status rvr_typed_from_wire(rvr_packet *pkt, uint64_t fingerprint, const uint8_t *body,
                               size_t len, rvr_sdesc *d, const rvr_wire_limits *lim);

/* Generic decoding of a body described by d->msgs[0]: adds every declared
 * field (missing ones with their zero value) to `out`.  `skip`, when
 * non-NULL, leaves out the field numbers that schema declares. */
rvr_status rvr_sdesc_decode(const rvr_sdesc *d, const uint8_t *body, size_t len,
                            unsigned max_depth, const rvr_schema *skip, rvr_map *out);

#endif
