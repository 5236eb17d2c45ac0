/* value_impl.h — internal layout of maps (the attribute set of a packet is
 * an rvr_map embedded in the packet) and helpers shared by the runtime. */
#ifndef RIVER_VALUE_IMPL_H
#define RIVER_VALUE_IMPL_H

#include <string.h>
#include <river/value.h>

typedef struct rvr_map_entry {
    char *key;
    uint16_t keylen;         /* <= RVR_MAX_NAME */
    bool big;                /* val's string/bytes buffer is from rvr_big_alloc (bigbuf.h) */
    uint32_t hash;           /* rvr_hash_bytes(key): kept only while the map has an index */
    rvr_value val;
} rvr_map_entry;

struct rvr_map {
    rvr_map_entry *entries;  /* insertion order */
    uint32_t len, cap;
    uint32_t *index;         /* open-addressing slots (entry index + 1), NULL while small */
    uint32_t index_cap;
    unsigned depth;          /* deepest nesting of any value (see rvr_value_depth) */
    /* Inline storage (a packet's own block, see packet.c): the first
     * entries, then keys and short string/bytes values bump-allocated from
     * store_next.  Nothing in [store_lo, store_hi) is freed on its own;
     * NULL: none (a plain map). */
    char *store_lo, *store_next, *store_hi;
};

/* An embedded map (in a packet): init/fini instead of new/free. */
void rvr_map_init(rvr_map *m);
void rvr_map_fini(rvr_map *m);
/* An embedded map whose first `entries` entries, keys and short values live
 * in buf[0..size) (8-byte aligned), which outlives the map. */
void rvr_map_init_inline(rvr_map *m, void *buf, size_t size, uint32_t entries);
/* The same for m already zeroed (a packet's, copied from a zero template). */
static inline void rvr_map_set_inline(rvr_map *m, void *buf, size_t size, uint32_t entries)
{
    m->entries = (rvr_map_entry *)buf;
    m->cap = entries;
    m->store_lo = (char *)buf;
    m->store_next = (char *)buf + (size_t)entries * sizeof(rvr_map_entry);
    m->store_hi = (char *)buf + size;
}
/* Moves whatever lives in m's inline storage to the heap, so that values
 * and keys may be taken out of m (before a steal). */
rvr_status rvr_map_own(rvr_map *m);
/* Sets key to a copy of data[0..len) as a string (type RVR_T_STRING, no
 * NUL inside) or bytes value, in the inline storage when it fits. */
rvr_status rvr_map_put_blob(rvr_map *m, const char *key, rvr_type type, const void *data,
                            size_t len);
/* rvr_map_put_blob and rvr_map_put with a name already checked (1 to
 * RVR_MAX_NAME bytes, no NUL) and measured, not NUL-terminated: the
 * decoder's. */
rvr_status rvr_map_put_blob_n(rvr_map *m, const char *key, size_t keylen, rvr_type type,
                              const void *data, size_t len);
rvr_status rvr_map_put_n(rvr_map *m, const char *key, size_t keylen, rvr_value *v,
                         unsigned max_depth);
/* Sets key to the string/bytes value buf[0..len) (buf[len] == '\0'),
 * adopting buf, a buffer from rvr_big_alloc, on success only. */
rvr_status rvr_map_put_big(rvr_map *m, const char *key, rvr_type type, void *buf, size_t len);
/* Deep-copies src into the initialised, empty dst. */
rvr_status rvr_map_copy_into(rvr_map *dst, const rvr_map *src);

/* A valid attribute name or map key: non-empty, at most RVR_MAX_NAME bytes.
 * RVR_EINVAL for NULL or "", RVR_ELIMIT when too long. */
rvr_status rvr_name_check(const char *name);

/* The map setter behind rvr_map_set and the packet setters: takes *v on
 * success.  max_depth is the deepest rvr_value_depth a value may have here:
 * RVR_MAX_DEPTH for a packet's attribute set (level 0), RVR_MAX_DEPTH - 1
 * for a map that is itself a value. */
rvr_status rvr_map_put(rvr_map *m, const char *key, rvr_value *v, unsigned max_depth);

/* Lookup of a name whose length is known (key need not be NUL-terminated). */
const rvr_value *rvr_map_find(const rvr_map *m, const char *key, size_t keylen);

/* RVR_OK if *v may be stored in a container: a known type other than NONE,
 * non-NULL list/map/string pointers, sizes within RVR_MAX_VALUE_SIZE. */
rvr_status rvr_value_check(const rvr_value *v);

/* The protobuf encoding of values (codec.c), for encoders that write
 * straight into a buffer (wire.c): the size of a Value message and of a
 * Map message's body, and writers that need that much room at q and
 * return the end of what they wrote. */
/* Bytes of v as a varint; of a length-delimited field of n bytes whose
 * tag takes one byte (every field number River writes is below 16). */
static inline size_t rvr_enc_vlen(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
static inline size_t rvr_enc_ld(size_t n) { return 1 + rvr_enc_vlen(n) + n; }
size_t rvr_value_enc_size(const rvr_value *v);
size_t rvr_map_enc_size(const rvr_map *m);
uint8_t *rvr_value_enc_put(uint8_t *q, const rvr_value *v);
uint8_t *rvr_map_enc_put(uint8_t *q, const rvr_map *m);
/* v as 8 little-endian bytes (a protobuf fixed64) at q; returns q + 8.
 * (A loop of byte stores was not merged into one store by gcc.) */
static inline uint8_t *rvr_enc_fixed64(uint8_t *q, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(q, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        q[i] = (uint8_t)(v >> (8 * i));
#endif
    return q + 8;
}

/* Inline: every field of every message writes one or two. */
static inline uint8_t *rvr_enc_varint(uint8_t *q, uint64_t v)
{
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q++ = (uint8_t)v;
    return q;
}

/* rvr_uuid_eq, inline, for the per-message paths (routing, dispatch,
 * matching by source). */
static inline bool rvr_uuid_same(const rvr_uuid *a, const rvr_uuid *b)
{
    uint64_t x[2], y[2];
    memcpy(x, a->bytes, 16);
    memcpy(y, b->bytes, 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Equality of short keys (names, tags, 16-byte UUIDs), inline and a word
 * at a time: a call to memcmp per lookup cost more than the rest of the
 * lookup. */
static inline bool rvr_key_eq(const void *av, const void *bv, size_t len)
{
    const unsigned char *a = (const unsigned char *)av, *b = (const unsigned char *)bv;
    uint64_t x, y;
    if (len >= 8) {
        /* Word by word, the last word overlapping the one before. */
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + len - 8, 8);
        memcpy(&y, b + len - 8, 8);
        return x == y;
    }
    if (len >= 4) {
        uint32_t p, q, p2, q2;
        memcpy(&p, a, 4);
        memcpy(&q, b, 4);
        memcpy(&p2, a + len - 4, 4);
        memcpy(&q2, b + len - 4, 4);
        return p == q && p2 == q2;
    }
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The hash of map keys, tags and sources (the mailbox index), in memory
 * only.  Eight bytes per multiply, and the last (or only) word read as two
 * overlapping loads: names are short, and a byte-at-a-time tail was most of
 * the cost of every put and get. */
static inline uint32_t rvr_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    if (n >= 8) {
        const unsigned char *last = s + n - 8;
        for (; s < last; s += 8) {
            memcpy(&w, s, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
        }
        memcpy(&w, last, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else {
        w = n == 0 ? 0 : (uint64_t)s[0] | (uint64_t)s[n >> 1] << 8 | (uint64_t)s[n - 1] << 16;
    }
    /* Folded and multiplied again: the high half of a product depends on
     * every bit below it, so each input byte reaches the 32 bits kept. */
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h = (h ^ h >> 32) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h >> 32);
}

/* Length of the name s, or max + 1 when longer than max (>= 16), looking
 * at no more than max + 1 bytes; inline: names are short, strnlen a call. */
static inline size_t rvr_name_len(const char *s, size_t max)
{
    for (size_t i = 0; i < 16; i++)
        if (s[i] == '\0')
            return i;
    size_t n = 16 + strnlen(s + 16, max - 15);
    return n > max ? max + 1 : n;
}

/* Copies n bytes between buffers that may overlap (memmove), inline up to
 * 16 bytes (names and tags), where every load happens before the first
 * store: a call to memmove cost more than such a copy. */
static inline void rvr_copy_short(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (n > 16) {
        memmove(d, s, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        unsigned char a = s[0], b = s[n >> 1], c = s[n - 1];
        d[0] = a;
        d[n >> 1] = b;
        d[n - 1] = c;
    }
}

/* Copies n (< 128) bytes between buffers that do not overlap, in 16-byte
 * pieces, the last one ending at n: small messages' entries and data.
 * gcc turns an inline memcpy of a bounded size into `rep movsb`, whose
 * start-up costs more than the copy. */
static inline void rvr_copy_small(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (n <= 16) {
        rvr_copy_short(d, s, n);
        return;
    }
    if (n > 256) {
        memcpy(d, s, n);   /* long enough for the library's copy to win */
        return;
    }
    typedef struct { uint64_t a, b; } piece;
    piece x;
    for (size_t i = 0; i + 16 < n; i += 16) {
        memcpy(&x, s + i, 16);
        memcpy(d + i, &x, 16);
    }
    memcpy(&x, s + n - 16, 16);
    memcpy(d + n - 16, &x, 16);
}

#endif
