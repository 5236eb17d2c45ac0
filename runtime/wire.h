/* wire.h — the bytes on a River TCP connection (docs/protocol.md).
 *
 * A connection starts with an 8-byte preamble from each side (magic "RIVR",
 * protocol version, flags), then carries frames:
 *
 *   u32 length (big-endian, bytes of payload) | u8 type | payload
 *
 * where the payload is one protobuf message chosen by the type.  This file
 * encodes and decodes those messages; it is the only place that knows their
 * field numbers, so the hand-written nanopb code can later be replaced by
 * riverc-generated code from idl/ without touching the transport.
 *
 * Encoders append whole frames (header included) to a caller-owned rvr_buf.
 * Decoders take the payload of one frame and never read past it. */
#ifndef RIVER_WIRE_H
#define RIVER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <river/codec.h>
#include <river/packet.h>

#define RVR_WIRE_VERSION 2u   /* 2: MSGs may leave out src and dst (docs/protocol.md) */
#define RVR_WIRE_PREAMBLE_LEN 8
#define RVR_WIRE_HDR_LEN 5
#define RVR_WIRE_DEFAULT_MAX_FRAME ((size_t)64 << 20)

enum rvr_frame_type {
    RVR_FRAME_HELLO = 1,
    RVR_FRAME_AUTH = 2,          /* HMAC challenge-response (cluster secret) */
    RVR_FRAME_MSG = 3,
    RVR_FRAME_WHOIS = 4,
    RVR_FRAME_WHOIS_REPLY = 5,
    RVR_FRAME_BYE = 6,
};

/* Limits a receiver applies to a MSG frame on top of the frame size and
 * the codec's own (value.h). */
typedef struct rvr_wire_limits {
    size_t max_frame;            /* payload bytes; default 64 MiB */
    uint32_t max_attrs;          /* attributes per message; default RVR_MAX_ATTRS */
    uint32_t max_depth;          /* list/map nesting; default RVR_MAX_DEPTH */
} rvr_wire_limits;

void rvr_wire_limits_default(rvr_wire_limits *l);

/* ---- preamble and frame header ---- */

void rvr_wire_preamble(uint8_t out[RVR_WIRE_PREAMBLE_LEN]);
/* RVR_EPROTO when the magic is wrong; otherwise RVR_OK with the peer's
 * version in *version (the caller compares it). */
rvr_status rvr_wire_check_preamble(const uint8_t in[RVR_WIRE_PREAMBLE_LEN], uint16_t *version);
/* Reads a frame header: payload length and type (inline: once per frame). */
static inline void rvr_wire_header(const uint8_t in[RVR_WIRE_HDR_LEN], uint32_t *len,
                                   uint8_t *type)
{
    *len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
    *type = in[4];
}
/* Writes one. */
static inline void rvr_wire_put_header(uint8_t *q, size_t payload, uint8_t type)
{
    q[0] = (uint8_t)(payload >> 24);
    q[1] = (uint8_t)(payload >> 16);
    q[2] = (uint8_t)(payload >> 8);
    q[3] = (uint8_t)payload;
    q[4] = type;
}

/* ---- MSG: the envelope ---- */

/* Envelope field numbers, and the tag bytes of an attribute entry
 * (Map.entries, Entry.key/value, Value.string/bytes), for wire.c and
 * wire_msg.c. */
enum { E_SRC = 1, E_DST, E_TAG, E_SCHEMA, E_BODY, E_ATTRS };
enum { T_ENTRY = 0x0a, T_KEY = 0x0a, T_VALUE = 0x12, T_STR = 0x2a, T_BYTES = 0x32 };

typedef struct rvr_wire_msg {
    rvr_uuid src, dst;
    const char *tag;             /* not NUL-terminated when decoded */
    size_t tag_len;
    uint64_t schema;             /* schema fingerprint; 0: dynamic */
    const uint8_t *body;         /* typed body (protobuf of the declared message) */
    size_t body_len;
    const rvr_map *attrs;        /* encode only; NULL: none */
    const uint8_t *attrs_raw;    /* encode only: the entries already encoded (a */
    size_t attrs_raw_len;        /* received packet's raw form); used instead of attrs */
} rvr_wire_msg;

/* src and dst left out.  A MSG whose Envelope has neither has those of the
 * MSG before it on the connection, in the same direction (docs/protocol.md
 * section 6): a stream from one VR to another names them once per batch
 * instead of in every frame.  A reader keeps the last ones here, per
 * connection; a writer leaves them out only after a MSG of its own that
 * named them. */
typedef struct rvr_wire_ids {
    rvr_uuid src, dst;
    bool set;                    /* false: no MSG yet, so none may leave them out */
} rvr_wire_ids;
/* A full MSG payload River writes starts with src and dst, each a field
 * key, the length 16 and the UUID: this many bytes, left out when elided. */
#define RVR_WIRE_IDS_LEN 36

/* The ids of such a payload p, read from their fixed places. */
static inline void rvr_wire_ids_take(rvr_wire_ids *ids, const uint8_t *p)
{
    memcpy(ids->src.bytes, p + 2, 16);
    memcpy(ids->dst.bytes, p + 20, 16);
    ids->set = true;
}

/* Exact size of the MSG frame for m (header included). */
size_t rvr_wire_msg_size(const rvr_wire_msg *m);
rvr_status rvr_wire_put_msg(rvr_buf *out, const rvr_wire_msg *m);
/* A dynamic packet as a MSG frame: src from the packet. */
rvr_status rvr_wire_put_packet(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p);
size_t rvr_wire_packet_size(const rvr_uuid *dst, const rvr_packet *p);

/* Zero-copy encoding: like rvr_wire_put_packet, but the data of each
 * string or bytes attribute (top level) of at least min_ext bytes is left
 * out of `out`: ext[i] says where it belongs (offset `at` in out->data)
 * and where it is (inside the packet, which must outlive the frame).  The
 * frame is out's bytes with each ext[i] inserted at ext[i].at, in order.
 * At most max_ext values go out of line; the others are copied. */
typedef struct rvr_wire_ext {
    size_t at;
    const uint8_t *p;
    size_t n;
} rvr_wire_ext;
rvr_status rvr_wire_put_packet_ext(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p,
                                   size_t min_ext, rvr_wire_ext *ext, size_t max_ext,
                                   size_t *next);

/* Zero-copy decoding of a large MSG.  Given the first `have` bytes of a MSG
 * payload of `total` bytes, true when the payload ends with the data of a
 * string or bytes attribute of at least `min` bytes (the last entry of
 * attrs, the last field): its data starts at *off.  The receiver can then
 * read that data straight into a buffer of its own and decode with
 * rvr_wire_get_msg_tail. */
bool rvr_wire_msg_tail(const uint8_t *p, size_t have, size_t total, size_t min, size_t *off);
/* Decodes such a MSG from its first `off` bytes (p) and the value's data
 * (tail, tail_len bytes, from rvr_big_alloc with one more byte): on RVR_OK the packet
 * owns tail; otherwise the caller still does.  As rvr_wire_get_msg_in (ids
 * NULL: as rvr_wire_get_msg). */
rvr_status rvr_wire_get_msg_tail(const uint8_t *p, size_t off, uint8_t *tail, size_t tail_len,
                                 const rvr_wire_limits *lim, rvr_wire_ids *ids,
                                 rvr_wire_msg *hdr, rvr_packet **out);

/* The frame size of p as a MSG to dst (header included) and its attribute
 * section's, so that rvr_wire_put_packet_sized need not walk p again. */
typedef struct rvr_wire_sized {
    size_t frame, attrs;
} rvr_wire_sized;
void rvr_wire_packet_sizes(const rvr_uuid *dst, const rvr_packet *p, rvr_wire_sized *sz);
rvr_status rvr_wire_put_packet_sized(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p,
                                     const rvr_wire_sized *sz);

/* The send path of small packets: encodes p as a MSG to dst inside
 * buf[0..cap) in one pass and returns the frame's length (header
 * included), *frame pointing at its start; the same bytes as
 * rvr_wire_put_packet.  0 when it does not fit (use the sized path). */
size_t rvr_wire_put_packet_small(uint8_t *buf, size_t cap, const rvr_uuid *dst,
                                 const rvr_packet *p, uint8_t **frame);
/* A packet whose attributes are raw (p->raw != NULL, wire_raw.c): the
 * size of its MSG frame, known before writing, and the frame itself
 * written at q in one pass (size bytes: the first's result).  The same
 * bytes as rvr_wire_put_packet. */
size_t rvr_wire_raw_frame_size(const rvr_packet *p);
void rvr_wire_put_raw_frame(uint8_t *q, size_t size, const rvr_uuid *dst, const rvr_packet *p);

/* Decodes a MSG payload.  *out gets a new packet (src, tag, attributes) the
 * caller owns; hdr gets src, dst, schema and the body (pointing into p).
 * RVR_EPROTO for a malformed envelope, RVR_ELIMIT past a limit.  A MSG
 * read alone: without src and dst it is malformed. */
rvr_status rvr_wire_get_msg(const uint8_t *p, size_t n, const rvr_wire_limits *lim,
                            rvr_wire_msg *hdr, rvr_packet **out);
/* rvr_wire_get_msg for the next MSG of a connection: without src and dst
 * it has ids' (malformed if none are set); on RVR_OK *ids are its own. */
rvr_status rvr_wire_get_msg_in(const uint8_t *p, size_t n, const rvr_wire_limits *lim,
                               rvr_wire_ids *ids, rvr_wire_msg *hdr, rvr_packet **out);
/* rvr_wire_get_msg_in for the shape River writes for most messages: src
 * and dst (or neither), a short tag at fixed places, then small flat
 * attributes (the wire form, below) as the last field, no typed body.
 * Returns the packet (src, tag, raw attributes), *ids updated (ids->dst:
 * the envelope's dst); NULL for another shape, entries the wire form does
 * not take, or no memory: nothing was made or changed, and
 * rvr_wire_get_msg_in decodes it (and gives any error). */
rvr_packet *rvr_wire_get_small(const uint8_t *p, size_t n, uint32_t max_attrs, rvr_wire_ids *ids);
/* The entries of an attribute map (the Map message a[0..n)) into m: the
 * decoder's, with the outcome codec.c's rvr_map_decode would give. */
rvr_status rvr_wire_decode_attrs(const uint8_t *a, size_t n, rvr_map *m);

/* ---- MSG: attributes kept as they came (wire_raw.c) ---- */

/* A received message of at most this many attributes, each a flat value
 * (no list or map) in the layout River's encoders write, keeps them as
 * they came: its typed getters read them in place, a forward sends them
 * as they are, and only a call that needs the map decodes them.  A new
 * packet's setters build the same form while they can. */
#define RVR_WIRE_RAW_MAX 16
/* And in at most this many bytes: what a packet's block holds beside its
 * header, tag and map (packet.c checks).  Names are below 128 bytes; every
 * other length inside is a one- or two-byte varint (wire_read.h). */
#define RVR_WIRE_RAW_BYTES 600

/* True if a[0..n) is such a set of entries: at most RVR_WIRE_RAW_MAX and
 * max_attrs in at most RVR_WIRE_RAW_BYTES, distinct names, each one
 * rvr_wire_decode_attrs reads without error, every length canonical.
 * *count: how many.  False says nothing about validity (decode it). */
bool rvr_wire_raw_check(const uint8_t *a, size_t n, uint32_t max_attrs, uint32_t *count);
/* rvr_wire_raw_find (wire_raw.h) reads them. */

/* The schema fingerprint of the MSG payload p[0..n) (0: dynamic, or not a
 * valid envelope). */
uint64_t rvr_wire_msg_schema(const uint8_t *p, size_t n);
/* Only src, dst and tag (tag points into p); no allocation.  ids as for
 * rvr_wire_get_msg_in (NULL: none). */
rvr_status rvr_wire_peek_msg(const uint8_t *p, size_t n, rvr_wire_ids *ids, rvr_wire_msg *hdr);

/* ---- HELLO ---- */

enum { RVR_HELLO_OK = 0, RVR_HELLO_DUPLICATE = 1, RVR_HELLO_REFUSED = 2 };

typedef struct rvr_wire_hello {
    rvr_uuid vm_id;              /* the sender */
    rvr_uuid peer_vm_id;         /* whom the sender thinks it talks to; nil: unknown */
    char listen_addr[300];       /* "host:port" the sender accepts on; "" none */
    uint32_t status;             /* the acceptor's answer (RVR_HELLO_*) */
    char reason[200];
    uint64_t max_frame;          /* largest payload the sender accepts */
    bool has_nonce;              /* the sender has a cluster secret: auth_nonce follows */
    uint8_t auth_nonce[32];      /* its challenge (field 7) */
} rvr_wire_hello;

rvr_status rvr_wire_put_hello(rvr_buf *out, const rvr_wire_hello *h);
rvr_status rvr_wire_get_hello(const uint8_t *p, size_t n, rvr_wire_hello *h);

/* ---- AUTH (docs/protocol.md, "Authentication") ---- */

typedef struct rvr_wire_auth {
    bool has_proof;
    uint8_t proof[32];           /* HMAC-SHA256 proof (auth.h) */
    uint32_t status;             /* 0: a proof; 1: refused (reason says why) */
    char reason[200];
} rvr_wire_auth;

rvr_status rvr_wire_put_auth(rvr_buf *out, const rvr_wire_auth *a);
rvr_status rvr_wire_get_auth(const uint8_t *p, size_t n, rvr_wire_auth *a);

/* ---- WHOIS, WHOIS_REPLY, BYE ---- */

typedef struct rvr_wire_whois {
    rvr_uuid vr;
    uint64_t req;
    rvr_uuid vm_id;              /* reply: nil when unknown */
    char addr[300];              /* reply: where vm_id accepts connections */
} rvr_wire_whois;

rvr_status rvr_wire_put_whois(rvr_buf *out, uint8_t type, const rvr_wire_whois *w);
rvr_status rvr_wire_get_whois(const uint8_t *p, size_t n, rvr_wire_whois *w);
rvr_status rvr_wire_put_bye(rvr_buf *out, const char *reason);
rvr_status rvr_wire_get_bye(const uint8_t *p, size_t n, char *reason, size_t len);

#endif
