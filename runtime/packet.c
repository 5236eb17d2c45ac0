/* packet.c — dynamic messages: a tag, a source and an attribute map.
 *
 * Cost matters here (every dynamic send and every message received
 * allocates a packet), so a packet is one pooled block (blockpool.c) that
 * also holds a short tag and, after it, the inline storage of its attribute
 * map: the first entries and their keys and short values (map.c).  A small
 * packet is built, sent, decoded and freed without calling malloc; only
 * what does not fit gets allocations of its own. */
#include <river/packet.h>

#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "blockpool.h"
#include "packet_impl.h"
#include "wire_raw.h"
#include "platform.h"
#include "thread_exit.h"
#include "wire.h"

#define PKT_TAG_INLINE 32   /* inline tag room, NUL included */
#define PKT_ENTRIES 4       /* attributes before the entry array moves to the heap */
#define PKT_STORE_OFF (sizeof(rvr_packet) + PKT_TAG_INLINE)
/* Where a new packet's map store begins: raw attributes are kept there. */
#define PKT_RAW_OFF (PKT_STORE_OFF + PKT_ENTRIES * sizeof(rvr_map_entry))

_Static_assert(sizeof(rvr_packet) % 8 == 0,
               "inline storage must stay 8-byte aligned");
_Static_assert(PKT_STORE_OFF + PKT_ENTRIES * sizeof(rvr_map_entry) + RVR_WIRE_RAW_BYTES <=
                   RVR_BLOCK_SIZE,
               "a packet block must hold the header, the tag, the entries and raw attributes");

static char *tag_inline(const rvr_packet *p)
{
    return (char *)(p + 1);
}

/* Where a packet's first map entries live, in its block. */
static rvr_map_entry *block_entries(const rvr_packet *p)
{
    return (rvr_map_entry *)((char *)p + PKT_STORE_OFF);
}

/* ---- spare packets ----------------------------------------------------------
 *
 * A packet freed as packet_alloc left it, but for its tag, source and
 * wire-form entries (most small messages, sent or received), waits on its
 * thread's spare list for the next packet_alloc there, which then resets a
 * few fields instead of taking a block and writing the whole header: a
 * fifth of what making and freeing a small packet cost.  Under
 * AddressSanitizer blocks are never reused (blockpool.c), nor packets. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARE_OFF 1
#endif
#endif

#define SPARE_MAX 128

#ifndef SPARE_OFF
static RVR_TLS rvr_packet *spare;   /* linked through `next` */
static RVR_TLS unsigned nspare;
static RVR_TLS bool spare_registered;

/* The thread ends: its spares go back to malloc, where blocks come from. */
static void spare_release(void)
{
    while (spare != NULL) {
        rvr_packet *nx = spare->next;
        free(spare);
        spare = nx;
    }
    nspare = 0;
}
#endif

/* Length of a valid tag, or -1: tags follow the attribute-name rules. */
static long tag_length(const char *tag)
{
    if (tag == NULL || tag[0] == '\0')
        return -1;
    size_t n = rvr_name_len(tag, RVR_MAX_NAME);
    return n > RVR_MAX_NAME ? -1 : (long)n;
}

/* Stores a valid tag of length n; `tag` may point into p's current tag. */
static rvr_status tag_store(rvr_packet *p, const char *tag, size_t n)
{
    char *old = p->tag;
    char *buf = tag_inline(p);
    if (n >= PKT_TAG_INLINE) {
        buf = malloc(n + 1);
        if (buf == NULL)
            return RVR_ENOMEM;
    }
    rvr_copy_short(buf, tag, n);   /* may overlap: `tag` may be inside p's tag */
    buf[n] = '\0';
    if (old != NULL && old != tag_inline(p) && old != buf)
        free(old);
    p->tag = buf;
    p->tag_len = (uint32_t)n;
    return RVR_OK;
}

/* A new packet's block, its header as new but for the tag (not set). */
static inline __attribute__((always_inline)) rvr_packet *packet_block(void)
{
    rvr_packet *p;
#ifndef SPARE_OFF
    if ((p = spare) != NULL) {
        /* What may differ from a new packet's header (spare_put). */
        spare = p->next;
        nspare--;
        p->next = p->prev = NULL;
        p->tgroup = p->sgroup = NULL;
        memset(p->src.bytes, 0, sizeof p->src.bytes);
        p->wire_len = 0;
        p->raw = NULL;
        p->raw_len = p->raw_n = 0;
        p->schema = NULL;   /* a typed packet's body is gone (rvr_packet_free) */
        p->materialized = false;
        return p;
    }
#endif
    if ((p = rvr_block_alloc()) == NULL)
        return NULL;
    /* Mailbox links, seq and src all start zeroed: copied from a zero
     * template, which compiles to vector moves (a memset of this size
     * becomes `rep stos`, slower than the rest of making a packet). */
    static const rvr_packet zero;
    memcpy(p, &zero, sizeof *p);
    rvr_map_set_inline(&p->attrs, (char *)p + PKT_STORE_OFF, RVR_BLOCK_SIZE - PKT_STORE_OFF,
                       PKT_ENTRIES);
    return p;
}

/* A new packet with a valid tag of n bytes (tag[0..n), not necessarily
 * NUL-terminated). */
static inline __attribute__((always_inline)) rvr_packet *packet_alloc(const char *tag, size_t n)
{
    rvr_packet *p = packet_block();
    if (p == NULL)
        return NULL;
    if (n < PKT_TAG_INLINE) {   /* most tags: no old one to free, no malloc */
        char *buf = tag_inline(p);
        rvr_copy_short(buf, tag, n);
        buf[n] = '\0';
        p->tag = buf;
        p->tag_len = (uint32_t)n;
    } else if (tag_store(p, tag, n) != RVR_OK) {
        rvr_block_free(p);
        return NULL;
    }
    return p;
}

rvr_packet *rvr_packet_new(const char *tag)
{
    if (tag == NULL || tag[0] == '\0')
        return NULL;
    rvr_packet *p = packet_block();
    if (p == NULL)
        return NULL;
    /* Most tags are short: copied into place as they are measured. */
    char *buf = tag_inline(p);
    size_t n = 0;
    while (n < PKT_TAG_INLINE - 1 && tag[n] != '\0') {
        buf[n] = tag[n];
        n++;
    }
    if (tag[n] == '\0') {
        buf[n] = '\0';
        p->tag = buf;
        p->tag_len = (uint32_t)n;
    } else {
        long len = tag_length(tag);
        if (len < 0 || tag_store(p, tag, (size_t)len) != RVR_OK) {
            rvr_block_free(p);
            return NULL;
        }
    }
    p->raw = (const uint8_t *)p->attrs.store_next;   /* no entries yet, built raw */
    return p;
}

rvr_packet *rvr_packet_new_n(const char *tag, size_t n)
{
    return packet_alloc(tag, n);
}

rvr_packet *rvr_packet_new_raw(const char *tag, size_t n, const uint8_t *a, size_t an,
                               uint32_t count)
{
    static const rvr_uuid none;   /* a new packet's */
    rvr_packet *p;
    return rvr_packet_new_raw_run(tag, n, a, 0, an, count, &none, 0, 1, &p) == 1 ? p : NULL;
}

size_t rvr_packet_new_raw_run(const char *tag, size_t n, const uint8_t *a, size_t stride,
                              size_t an, uint32_t count, const rvr_uuid *src, uint32_t wire,
                              size_t k, rvr_packet **out)
{
    /* A new packet's map is empty, its store the rest of the block after
     * the inline entries (spare_put): the entries go there, as
     * rvr_packet_keep_raw puts them. */
    if (an > RVR_BLOCK_SIZE - PKT_RAW_OFF)
        return 0;
    for (size_t i = 0; i < k; i++, a += stride) {
        rvr_packet *p = packet_alloc(tag, n);
        if (p == NULL)
            return i;
        uint8_t *raw = (uint8_t *)p + PKT_RAW_OFF;
        rvr_copy_small(raw, a, an);
        p->raw = raw;
        p->raw_len = (uint32_t)an;
        p->raw_n = count;
        p->src = *src;
        p->wire_len = wire;
        out[i] = p;
    }
    return k;
}

/* Keeps p as a spare if its header is a new packet's but for the fields
 * packet_alloc resets: its tag inline, and its map empty and as new (no
 * entries, index or depth, its entries and store where they started:
 * nothing to free).  Mailbox links, index groups and the schema are reset
 * on reuse, not tested: a packet freed with its mailbox is reused too. */
#ifndef SPARE_OFF
static inline bool spare_fits(const rvr_packet *p)
{
    const rvr_map *m = &p->attrs;
    return nspare < SPARE_MAX && p->tag == tag_inline(p) && m->len == 0 && m->index == NULL &&
           m->depth == 0 && m->entries == block_entries(p) && m->cap == PKT_ENTRIES &&
           m->store_next == (char *)p + PKT_RAW_OFF;
}
#endif

static bool spare_put(rvr_packet *p)
{
#ifndef SPARE_OFF
    if (!spare_fits(p))
        return false;
    rvr_thread_on_exit(&spare_registered, spare_release);
    p->next = spare;
    spare = p;
    nspare++;
    return true;
#else
    (void)p;
    return false;
#endif
}

static __attribute__((noinline)) void packet_free_slow(rvr_packet *p);

void rvr_packet_free(rvr_packet *p)
{
    if (p == NULL)
        return;
#ifndef SPARE_OFF
    /* Most packets: onto the spare list, with no call (so no frame). */
    if (p->body == NULL && spare_registered && spare_fits(p)) {
        p->next = spare;
        spare = p;
        nspare++;
        return;
    }
#endif
    packet_free_slow(p);
}

static void packet_free_slow(rvr_packet *p)
{
    rvr_packet_drop_body(p);
    if (spare_put(p))
        return;
    /* A packet that never had a map (raw, or no attributes) owns nothing
     * outside its block. */
    if (p->attrs.len != 0 || p->attrs.index != NULL || p->attrs.entries != block_entries(p))
        rvr_map_fini(&p->attrs);
    if (p->tag != tag_inline(p))
        free(p->tag);
    rvr_block_free(p);
}

rvr_packet *rvr_packet_copy(const rvr_packet *p)
{
    if (p == NULL)
        return NULL;
    /* A copy of a typed packet is dynamic: its attributes show the fields. */
    if (rvr_packet_materialize(p) != RVR_OK || rvr_packet_unraw(p) != RVR_OK)
        return NULL;
    rvr_packet *c = packet_alloc(p->tag, p->tag_len);
    if (c == NULL)
        return NULL;
    c->src = p->src;
    c->schema = p->schema;
    if (rvr_map_copy_into(&c->attrs, &p->attrs) != RVR_OK) {
        rvr_packet_free(c);
        return NULL;
    }
    return c;
}

const char *rvr_packet_tag(const rvr_packet *p)
{
    return p != NULL ? p->tag : NULL;
}

rvr_status rvr_packet_set_tag(rvr_packet *p, const char *tag)
{
    long n = tag_length(tag);
    if (p == NULL || n < 0)
        return RVR_EINVAL;
    return tag_store(p, tag, (size_t)n);
}

const rvr_uuid *rvr_packet_src(const rvr_packet *p)
{
    return p != NULL ? &p->src : NULL;
}

bool rvr_packet_equal(const rvr_packet *a, const rvr_packet *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (rvr_packet_materialize(a) != RVR_OK || rvr_packet_materialize(b) != RVR_OK ||
        rvr_packet_unraw(a) != RVR_OK || rvr_packet_unraw(b) != RVR_OK)
        return false;
    return a->tag_len == b->tag_len && rvr_key_eq(a->tag, b->tag, a->tag_len) &&
           rvr_uuid_eq(&a->src, &b->src) &&
           rvr_map_equal(&a->attrs, &b->attrs);
}

/* ---- iteration ------------------------------------------------------------- */

size_t rvr_packet_count(const rvr_packet *p)
{
    return p == NULL ? 0 : p->raw != NULL ? p->raw_n : p->attrs.len;
}

rvr_status rvr_packet_at(const rvr_packet *p, size_t i, const char **name,
                         const rvr_value **val)
{
    if (p == NULL)
        return RVR_EINVAL;
    rvr_status st = rvr_packet_unraw(p);
    return st != RVR_OK ? st : rvr_map_at(&p->attrs, i, name, val);
}

const rvr_map *rvr_packet_attrs(const rvr_packet *p)
{
    return p != NULL && rvr_packet_unraw(p) == RVR_OK ? &p->attrs : NULL;
}

bool rvr_packet_has(const rvr_packet *p, const char *name)
{
    if (p != NULL && p->raw != NULL && name != NULL)
        return rvr_wire_raw_find(p->raw, p->raw_len, name, NULL);
    return p != NULL && rvr_map_get(&p->attrs, name) != NULL;
}

rvr_status rvr_packet_remove(rvr_packet *p, const char *name)
{
    if (p == NULL)
        return RVR_EINVAL;
    rvr_status st = rvr_packet_unraw(p);
    return st != RVR_OK ? st : rvr_map_remove(&p->attrs, name);
}

/* ---- setters ------------------------------------------------------------------ */

rvr_status rvr_packet_set(rvr_packet *p, const char *name, rvr_value *v)
{
    if (p != NULL && v != NULL &&
        (v->type == RVR_T_BOOL || v->type == RVR_T_INT || v->type == RVR_T_UINT ||
         v->type == RVR_T_DOUBLE || v->type == RVR_T_UUID) &&
        p->raw != NULL && rvr_packet_raw_put(p, name, v)) {
        memset(v, 0, sizeof *v);   /* taken, as the map would */
        return RVR_OK;
    }
    rvr_status st = p == NULL ? RVR_EINVAL : rvr_packet_unraw(p);
    /* The attribute set is level 0: an attribute may be RVR_MAX_DEPTH deep. */
    return st != RVR_OK ? st : rvr_map_put(&p->attrs, name, v, RVR_MAX_DEPTH);
}

rvr_status rvr_packet_set_bool(rvr_packet *p, const char *name, bool v)
{
    rvr_value x = rvr_value_bool(v);
    return rvr_packet_set(p, name, &x);
}

rvr_status rvr_packet_set_i64(rvr_packet *p, const char *name, int64_t v)
{
    rvr_value x = rvr_value_i64(v);
    return rvr_packet_set(p, name, &x);
}

rvr_status rvr_packet_set_u64(rvr_packet *p, const char *name, uint64_t v)
{
    rvr_value x = rvr_value_u64(v);
    return rvr_packet_set(p, name, &x);
}

rvr_status rvr_packet_set_f64(rvr_packet *p, const char *name, double v)
{
    rvr_value x = rvr_value_f64(v);
    return rvr_packet_set(p, name, &x);
}

rvr_status rvr_packet_set_uuid(rvr_packet *p, const char *name, const rvr_uuid *v)
{
    if (v == NULL)
        return RVR_EINVAL;
    rvr_value x = rvr_value_uuid(v);
    return rvr_packet_set(p, name, &x);
}

rvr_status rvr_packet_set_str(rvr_packet *p, const char *name, const char *s)
{
    if (p == NULL || s == NULL)
        return RVR_EINVAL;
    /* Bounded scan: a string past the limit is refused without reading it all. */
    size_t len = strnlen(s, RVR_MAX_VALUE_SIZE + 1);
    if (len > RVR_MAX_VALUE_SIZE)
        return RVR_ELIMIT;
    return rvr_packet_set_strn(p, name, s, len);
}

/* A string or bytes the raw form does not take: the map's, which reports
 * any error.  Apart, so that the raw case saves no registers for it. */
static __attribute__((noinline)) rvr_status set_blob_map(rvr_packet *p, const char *name,
                                                         rvr_type t, const void *data,
                                                         size_t len)
{
    rvr_status st = p == NULL ? RVR_EINVAL : rvr_packet_unraw(p);
    return st != RVR_OK ? st : rvr_map_put_blob(&p->attrs, name, t, data, len);
}

rvr_status rvr_packet_set_strn(rvr_packet *p, const char *name, const char *s,
                               size_t len)
{
    if (p != NULL && p->raw != NULL && rvr_packet_raw_put_blob(p, name, true, s, len))
        return RVR_OK;
    return set_blob_map(p, name, RVR_T_STRING, s, len);
}

rvr_status rvr_packet_set_bytes(rvr_packet *p, const char *name, const void *data,
                                size_t len)
{
    if (p != NULL && p->raw != NULL && rvr_packet_raw_put_blob(p, name, false, data, len))
        return RVR_OK;
    return set_blob_map(p, name, RVR_T_BYTES, data, len);
}

void *rvr_bytes_alloc(size_t len)
{
    if (len > RVR_MAX_VALUE_SIZE)
        return NULL;
    /* One byte more: value buffers end with a NUL (see rvr_map_put_blob). */
    return len + 1 >= RVR_BIG_MIN ? rvr_big_alloc(len + 1) : malloc(len + 1);
}

void rvr_bytes_free(void *buf)
{
    rvr_big_free(buf);
}

rvr_status rvr_packet_give_bytes(rvr_packet *p, const char *name, void *buf, size_t len)
{
    if (p == NULL || buf == NULL || len > RVR_MAX_VALUE_SIZE)
        return RVR_EINVAL;
    rvr_status st = rvr_packet_unraw(p);
    if (st != RVR_OK)
        return st;
    ((char *)buf)[len] = '\0';
    return rvr_map_put_big(&p->attrs, name, RVR_T_BYTES, buf, len);
}

rvr_status rvr_packet_set_list(rvr_packet *p, const char *name, rvr_list *l)
{
    if (l == NULL)
        return RVR_EINVAL;
    rvr_value x = rvr_value_list(l);
    return rvr_packet_set(p, name, &x);  /* on failure l is still the caller's */
}

rvr_status rvr_packet_set_map(rvr_packet *p, const char *name, rvr_map *m)
{
    if (m == NULL)
        return RVR_EINVAL;
    rvr_value x = rvr_value_map(m);
    return rvr_packet_set(p, name, &x);
}
