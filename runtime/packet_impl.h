/* packet_impl.h — internal layout of a packet.  The link fields belong to
 * the mailbox while the packet is queued (see mailbox.c). */
#ifndef RIVER_PACKET_IMPL_H
#define RIVER_PACKET_IMPL_H

#include <river/packet.h>
#include <river/schema.h>
#include <stdlib.h>

#include "blockpool.h"
#include "value_impl.h"

struct rvr_packet {
    struct rvr_packet *next, *prev;    /* mailbox: arrival order */
    struct rvr_packet *tnext, *tprev;  /* mailbox: same tag */
    struct rvr_packet *snext, *sprev;  /* mailbox: same src */
    uint64_t seq;                      /* mailbox: arrival number */
    struct mb_group *tgroup, *sgroup;  /* mailbox: index groups holding it */

    rvr_uuid src;
    char *tag;
    uint32_t tag_len;
    uint32_t wire_len;                 /* received: its frame's size (flow control); else 0 */
    rvr_map attrs;
    /* A received message's attributes as they came (wire_raw.c), in this
     * packet's block past the map's inline storage: while raw != NULL,
     * attrs is empty and rvr_packet_unraw fills it. */
    const uint8_t *raw;
    uint32_t raw_len, raw_n;           /* bytes; attributes (distinct names) */

    /* A typed message (rvr_send_typed) travels as its struct: `body` is a
     * heap copy described by `schema`, owned by the packet.  The attributes
     * are filled from it only when someone looks at them dynamically
     * (`materialized`); a dynamic receive then drops the body. */
    const struct rvr_schema *schema;
    void *body;
    bool materialized;
};

/* rvr_packet_new with a tag of n bytes already known valid (1..255, no
 * NUL), not NUL-terminated: the decoder's. */
rvr_packet *rvr_packet_new_n(const char *tag, size_t n);

/* Keeps the checked entries a[0..n) (rvr_wire_raw_check: `count`
 * attributes) as p's attributes, p being new; false when p's block has no
 * room for them (decode them instead).  Inline: the decoder's every
 * message. */
static inline bool rvr_packet_keep_raw(rvr_packet *p, const uint8_t *a, size_t n, uint32_t count)
{
    /* At the start of the map's inline storage (see wire_raw.c). */
    rvr_map *m = &p->attrs;
    if (m->len != 0 || m->store_next == NULL || n > (size_t)(m->store_hi - m->store_next))
        return false;
    rvr_copy_small(m->store_next, a, n);   /* n <= RVR_WIRE_RAW_BYTES */
    p->raw = (const uint8_t *)m->store_next;
    p->raw_len = (uint32_t)n;
    p->raw_n = count;
    return true;
}
/* rvr_packet_new_n with the checked entries a[0..an) (`count` of them)
 * kept as its attributes (rvr_packet_keep_raw); NULL when out of memory or
 * they do not fit its block.  The decoders' every small message. */
rvr_packet *rvr_packet_new_raw(const char *tag, size_t n, const uint8_t *a, size_t an,
                               uint32_t count);
/* k packets as rvr_packet_new_raw makes them, of one tag, the i-th with
 * the entries at a + i * stride, each with the source src and wire_len
 * `wire`, into out[]: a stream's run of frames (wire_shape.c).  Returns
 * how many (fewer when out of memory). */
size_t rvr_packet_new_raw_run(const char *tag, size_t n, const uint8_t *a, size_t stride,
                              size_t an, uint32_t count, const rvr_uuid *src, uint32_t wire,
                              size_t k, rvr_packet **out);
/* Sets attribute `name` of p (which has raw entries) to the flat value
 * *v as one more raw entry (wire_raw.c).  False, changing nothing, when
 * the name is taken, invalid or long, the value is a list or a map, or the
 * entry does not fit: the map takes it then (and reports any error).
 * Strings and bytes: rvr_packet_raw_put_blob (wire_raw.h). */
bool rvr_packet_raw_put(rvr_packet *p, const char *name, const rvr_value *v);
/* Decodes p's raw attributes into p->attrs (wire_raw.c).  Logically const. */
rvr_status rvr_packet_unraw_slow(const rvr_packet *p);
/* Gives p its map: every use of p->attrs comes after this. */
static inline rvr_status rvr_packet_unraw(const rvr_packet *p)
{
    return p->raw != NULL ? rvr_packet_unraw_slow(p) : RVR_OK;
}

/* Fills p->attrs from the typed body (once).  Logically const: the
 * attributes are a view of the body. */
rvr_status rvr_packet_materialize(const rvr_packet *p);
/* The typed halves of the two below (typed.c): p has a body. */
rvr_status rvr_packet_dynamize_typed(rvr_packet *p);
void rvr_packet_free_body(rvr_packet *p);

/* Turns a typed packet into a plain dynamic one (materialize, free body).
 * Inline: every receive and every free asks, and most packets are
 * dynamic already. */
static inline rvr_status rvr_packet_dynamize(rvr_packet *p)
{
    return p->body != NULL ? rvr_packet_dynamize_typed(p) : RVR_OK;
}
/* A typed packet's body (a copy of the struct, s->size bytes): a pooled
 * block when it fits one (most), else malloc'ed; freed with the same size. */
static inline void *rvr_body_alloc(size_t size)
{
    return size <= RVR_BLOCK_SIZE ? rvr_block_alloc() : malloc(size);
}
static inline void rvr_body_free(void *body, size_t size)
{
    if (size <= RVR_BLOCK_SIZE)
        rvr_block_free(body);
    else
        free(body);
}
/* Frees the typed body, if any. */
static inline void rvr_packet_drop_body(rvr_packet *p)
{
    if (p->body != NULL)
        rvr_packet_free_body(p);
}

#endif
