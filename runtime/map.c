/* map.c — insertion-ordered maps with string keys.
 *
 * Entries live in one array in insertion order, so rvr_map_at() is O(1) and
 * iteration is cache-friendly.  Small maps (most packets) are searched
 * linearly; once a map holds more than MAP_SMALL entries it also gets an
 * open-addressing (linear probing) index of entry positions, so that
 * building a packet with RVR_MAX_ATTRS attributes stays linear.
 *
 * Removal shifts the later entries down to keep the order, so it is O(n);
 * the index (map_index.c) is patched in place rather than rebuilt.
 *
 * A packet's attribute map has inline storage in the packet's own block
 * (rvr_map_init_inline): its first entries, and keys and short strings and
 * bytes bump-allocated after them, so that building or decoding a small
 * packet calls no allocator.  Whatever lives there is recognised by its
 * address and never freed on its own; a replaced value's room is simply
 * not reused. */
#include <river/value.h>

#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "map_index.h"
#include "value_impl.h"

#define MAP_SMALL      8   /* up to this many entries: no index */
#define MAP_FIRST_CAP  4
#define STORE_BLOB_MAX 1024   /* longer values always get their own allocation */

void rvr_map_init(rvr_map *m)
{
    memset(m, 0, sizeof *m);
}

void rvr_map_init_inline(rvr_map *m, void *buf, size_t size, uint32_t entries)
{
    rvr_map_init(m);
    rvr_map_set_inline(m, buf, size, entries);
}

static bool in_store(const rvr_map *m, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    return a >= (uintptr_t)m->store_lo && a < (uintptr_t)m->store_hi;
}

/* n bytes of inline storage, or NULL when it has no room. */
static char *store_take(rvr_map *m, size_t n)
{
    if (m->store_next == NULL || (size_t)(m->store_hi - m->store_next) < n)
        return NULL;
    char *p = m->store_next;
    m->store_next += n;
    return p;
}

static bool blob_in_store(const rvr_map *m, const rvr_value *v)
{
    return (v->type == RVR_T_STRING && in_store(m, v->as.str.ptr)) ||
           (v->type == RVR_T_BYTES && in_store(m, v->as.bytes.ptr));
}

static void key_free(const rvr_map *m, char *key)
{
    if (!in_store(m, key))
        free(key);
}

static void val_clear(const rvr_map *m, rvr_map_entry *e)
{
    if (e->big) {
        rvr_big_free(e->val.as.bytes.ptr);   /* str shares the layout */
        memset(&e->val, 0, sizeof e->val);
        e->big = false;
    } else if (blob_in_store(m, &e->val)) {
        memset(&e->val, 0, sizeof e->val);
    } else {
        rvr_value_clear(&e->val);
    }
}

void rvr_map_fini(rvr_map *m)
{
    if (m == NULL)
        return;
    for (uint32_t i = 0; i < m->len; i++) {
        key_free(m, m->entries[i].key);
        val_clear(m, &m->entries[i]);
    }
    if (!in_store(m, m->entries))
        free(m->entries);
    if (m->index != NULL)
        free(m->index);
    rvr_map_init(m);
}

rvr_status rvr_map_own(rvr_map *m)
{
    if (m == NULL)
        return RVR_OK;
    for (uint32_t i = 0; m->store_lo == NULL && i < m->len; i++)
        m->entries[i].big = false;
    if (m->store_lo == NULL)
        return RVR_OK;
    if (in_store(m, m->entries)) {
        rvr_map_entry *e = malloc((size_t)(m->cap ? m->cap : 1) * sizeof *e);
        if (e == NULL)
            return RVR_ENOMEM;
        memcpy(e, m->entries, (size_t)m->len * sizeof *e);
        m->entries = e;
    }
    /* Entry by entry, so that a failure leaves every pointer right.  A big
     * buffer is a malloc block: whoever takes it frees it with free(). */
    for (uint32_t i = 0; i < m->len; i++) {
        rvr_map_entry *e = &m->entries[i];
        e->big = false;
        if (in_store(m, e->key)) {
            char *k = malloc(e->keylen + 1);
            if (k == NULL)
                return RVR_ENOMEM;
            memcpy(k, e->key, e->keylen + 1);
            e->key = k;
        }
        if (blob_in_store(m, &e->val)) {
            size_t n = e->val.as.bytes.len;
            uint8_t *b = malloc(n + 1);
            if (b == NULL)
                return RVR_ENOMEM;
            memcpy(b, e->val.as.bytes.ptr, n + 1);
            e->val.as.bytes.ptr = b;   /* str shares the layout */
        }
    }
    m->store_lo = m->store_next = m->store_hi = NULL;
    return RVR_OK;
}

rvr_map *rvr_map_new(void)
{
    rvr_map *m = malloc(sizeof *m);
    if (m != NULL)
        rvr_map_init(m);
    return m;
}

void rvr_map_free(rvr_map *m)
{
    if (m == NULL)
        return;
    rvr_map_fini(m);
    free(m);
}

size_t rvr_map_len(const rvr_map *m)
{
    return m != NULL ? m->len : 0;
}

unsigned rvr_map_depth(const rvr_map *m)
{
    /* The depth of the map as a value, as rvr_value_depth would report it. */
    return m != NULL ? 1 + m->depth : 0;
}

rvr_status rvr_name_check(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return RVR_EINVAL;
    if (strnlen(name, RVR_MAX_NAME + 1) > RVR_MAX_NAME)
        return RVR_ELIMIT;
    return RVR_OK;
}

/* ---- lookup ------------------------------------------------------------------ */

static int64_t map_find_pos(const rvr_map *m, const char *key, size_t keylen)
{
    if (m->index != NULL) {
        uint32_t hash = rvr_hash_bytes(key, keylen);
        uint32_t mask = m->index_cap - 1;
        for (uint32_t s = hash & mask; m->index[s] != 0; s = (s + 1) & mask) {
            const rvr_map_entry *e = &m->entries[m->index[s] - 1];
            if (e->hash == hash && e->keylen == keylen &&
                rvr_key_eq(e->key, key, keylen))
                return m->index[s] - 1;
        }
        return -1;
    }
    for (uint32_t i = 0; i < m->len; i++) {
        const rvr_map_entry *e = &m->entries[i];
        if (e->keylen == keylen && rvr_key_eq(e->key, key, keylen))
            return i;
    }
    return -1;
}

const rvr_value *rvr_map_find(const rvr_map *m, const char *key, size_t keylen)
{
    if (m == NULL || key == NULL)
        return NULL;
    int64_t pos = map_find_pos(m, key, keylen);
    return pos >= 0 ? &m->entries[pos].val : NULL;
}

const rvr_value *rvr_map_get(const rvr_map *m, const char *key)
{
    if (m == NULL || key == NULL)
        return NULL;
    /* Names longer than the limit can never have been stored. */
    size_t n = rvr_name_len(key, RVR_MAX_NAME);
    if (n > RVR_MAX_NAME)
        return NULL;
    return rvr_map_find(m, key, n);
}

rvr_status rvr_map_at(const rvr_map *m, size_t i, const char **key,
                      const rvr_value **val)
{
    if (m == NULL)
        return RVR_EINVAL;
    if (i >= m->len)
        return RVR_ERANGE;
    if (key != NULL)
        *key = m->entries[i].key;
    if (val != NULL)
        *val = &m->entries[i].val;
    return RVR_OK;
}

/* ---- modification ------------------------------------------------------------ */

/* Called when a value of depth `gone` left the map: if it was (one of) the
 * deepest, the recorded depth may be too high now. */
static void map_depth_dropped(rvr_map *m, unsigned gone)
{
    if (gone == 0 || gone < m->depth)
        return;
    unsigned d = 0;
    for (uint32_t i = 0; i < m->len; i++) {
        unsigned x = rvr_value_depth(&m->entries[i].val);
        if (x > d)
            d = x;
    }
    m->depth = d;
}

static rvr_status map_reserve(rvr_map *m, uint32_t want)
{
    if (want <= m->cap)
        return RVR_OK;
    uint32_t cap = m->cap != 0 ? m->cap : MAP_FIRST_CAP;
    while (cap < want)
        cap *= 2;
    if (cap > RVR_MAX_ATTRS)
        cap = RVR_MAX_ATTRS;
    rvr_map_entry *e;
    if (in_store(m, m->entries)) {
        if ((e = malloc((size_t)cap * sizeof *e)) == NULL)
            return RVR_ENOMEM;
        memcpy(e, m->entries, (size_t)m->len * sizeof *e);
    } else if ((e = realloc(m->entries, (size_t)cap * sizeof *e)) == NULL) {
        return RVR_ENOMEM;
    }
    m->entries = e;
    m->cap = cap;
    return RVR_OK;
}

/* map_put flags: the value's buffer is from rvr_big_alloc; the value is a
 * string or bytes built here (valid, depth 0: no checks needed). */
enum { PUT_BIG = 1, PUT_BLOB = 2 };

/* The entry to store key's new value in (key[0..keylen) a valid name):
 * its existing one, value cleared (*old: the depth it had), replaced in
 * place so the key keeps its position; or a new last one holding a copy
 * of the key (*old = -1).  The caller fills in val, big and the depth. */
static rvr_status map_slot(rvr_map *m, const char *key, size_t keylen, rvr_map_entry **out,
                           int *old)
{
    int64_t pos = m->len > 0 ? map_find_pos(m, key, keylen) : -1;
    if (pos >= 0) {
        rvr_map_entry *e = &m->entries[pos];
        *old = (int)rvr_value_depth(&e->val);
        val_clear(m, e);
        *out = e;
        return RVR_OK;
    }
    rvr_status st;
    if (m->len >= RVR_MAX_ATTRS)
        return RVR_ELIMIT;
    if ((st = map_reserve(m, m->len + 1)) != RVR_OK)
        return st;
    /* Keep the index at most half full; create it when leaving "small". */
    uint32_t n = m->len + 1;
    if (n > MAP_SMALL && (uint64_t)n * 2 > m->index_cap) {
        uint32_t cap = m->index_cap != 0 ? m->index_cap * 2 : 32;
        while ((uint64_t)n * 2 > cap)
            cap *= 2;
        if ((st = rvr_map_index_build(m, cap)) != RVR_OK)
            return st;
    }
    char *k = store_take(m, keylen + 1);
    if (k == NULL && (k = malloc(keylen + 1)) == NULL)
        return RVR_ENOMEM;
    rvr_copy_short(k, key, keylen);
    k[keylen] = '\0';
    rvr_map_entry *e = &m->entries[m->len];
    e->key = k;
    e->keylen = (uint16_t)keylen;
    if (m->index != NULL) {
        e->hash = rvr_hash_bytes(k, keylen);
        rvr_map_index_insert(m, m->len);
    }
    m->len++;
    *old = -1;
    *out = e;
    return RVR_OK;
}

/* After a value of depth d went into an entry whose old value had depth
 * old (-1: a new entry). */
static void map_depth_after(rvr_map *m, unsigned d, int old)
{
    if (d >= m->depth)
        m->depth = d;
    else if (old >= 0)
        map_depth_dropped(m, (unsigned)old);
}

/* key[0..keylen) is a valid name (1..RVR_MAX_NAME bytes, no NUL). */
static rvr_status map_put_n(rvr_map *m, const char *key, size_t keylen, rvr_value *v,
                            unsigned max_depth, unsigned flags)
{
    rvr_status st;
    unsigned d = 0;
    if (!(flags & PUT_BLOB)) {
        if ((st = rvr_value_check(v)) != RVR_OK)
            return st;
        if (v->type == RVR_T_MAP && v->as.map == m)
            return RVR_EINVAL;  /* a map inside itself */
        if ((d = rvr_value_depth(v)) > max_depth)
            return RVR_ELIMIT;
    }
    rvr_map_entry *e;
    int old;
    if ((st = map_slot(m, key, keylen, &e, &old)) != RVR_OK)
        return st;
    e->val = *v;
    e->big = (flags & PUT_BIG) != 0;
    memset(v, 0, sizeof *v);
    map_depth_after(m, d, old);
    return RVR_OK;
}

/* rvr_name_check, measuring the name once. */
static rvr_status name_length(const char *key, size_t *len)
{
    if (key == NULL || key[0] == '\0')
        return RVR_EINVAL;
    *len = rvr_name_len(key, RVR_MAX_NAME);
    return *len > RVR_MAX_NAME ? RVR_ELIMIT : RVR_OK;
}

static rvr_status map_put(rvr_map *m, const char *key, rvr_value *v, unsigned max_depth,
                          unsigned flags)
{
    size_t keylen;
    rvr_status st = m == NULL ? RVR_EINVAL : name_length(key, &keylen);
    return st != RVR_OK ? st : map_put_n(m, key, keylen, v, max_depth, flags);
}

rvr_status rvr_map_put(rvr_map *m, const char *key, rvr_value *v, unsigned max_depth)
{
    return map_put(m, key, v, max_depth, 0);
}

rvr_status rvr_map_put_n(rvr_map *m, const char *key, size_t keylen, rvr_value *v,
                         unsigned max_depth)
{
    return map_put_n(m, key, keylen, v, max_depth, 0);
}

rvr_status rvr_map_put_big(rvr_map *m, const char *key, rvr_type type, void *buf, size_t len)
{
    if (m == NULL || buf == NULL || (type != RVR_T_STRING && type != RVR_T_BYTES))
        return RVR_EINVAL;
    rvr_value v = { .type = type };
    v.as.bytes.ptr = buf;   /* str shares the layout */
    v.as.bytes.len = len;
    return map_put(m, key, &v, RVR_MAX_DEPTH, PUT_BIG | PUT_BLOB);
}

rvr_status rvr_map_put_blob(rvr_map *m, const char *key, rvr_type type, const void *data,
                            size_t len)
{
    size_t keylen;
    rvr_status st = m == NULL ? RVR_EINVAL : name_length(key, &keylen);
    return st != RVR_OK ? st : rvr_map_put_blob_n(m, key, keylen, type, data, len);
}

rvr_status rvr_map_put_blob_n(rvr_map *m, const char *key, size_t keylen, rvr_type type,
                              const void *data, size_t len)
{
    if (m == NULL || (type != RVR_T_STRING && type != RVR_T_BYTES))
        return RVR_EINVAL;
    if (len >= RVR_BIG_MIN && len <= RVR_MAX_VALUE_SIZE && data != NULL &&
        (type == RVR_T_BYTES || memchr(data, '\0', len) == NULL)) {
        /* Large: a recycled buffer, so writing it faults in no pages. */
        char *big = rvr_big_alloc(len + 1);
        if (big == NULL)
            return RVR_ENOMEM;
        memcpy(big, data, len);
        big[len] = '\0';
        rvr_value v = { .type = type };
        v.as.bytes.ptr = (uint8_t *)big;   /* str shares the layout */
        v.as.bytes.len = len;
        rvr_status st = map_put_n(m, key, keylen, &v, RVR_MAX_DEPTH, PUT_BIG | PUT_BLOB);
        if (st != RVR_OK)
            rvr_big_free(big);
        return st;
    }
    char *buf = len < STORE_BLOB_MAX ? store_take(m, len + 1) : NULL;
    if (buf == NULL) {
        rvr_value v;
        rvr_status st = type == RVR_T_STRING ? rvr_value_strn(&v, data, len)
                                             : rvr_value_bytes(&v, data, len);
        if (st == RVR_OK && (st = map_put_n(m, key, keylen, &v, RVR_MAX_DEPTH, 0)) != RVR_OK)
            rvr_value_clear(&v);
        return st;
    }
    /* The checks of rvr_value_strn/bytes; the room taken is lost on error. */
    if (data == NULL && len > 0)
        return RVR_EINVAL;
    if (type == RVR_T_STRING && len > 0 && memchr(data, '\0', len) != NULL)
        return RVR_EINVAL;
    if (len > 0)
        memcpy(buf, data, len);
    buf[len] = '\0';
    /* Filled field by field: a value built on the stack and copied in
     * would be read back before its stores retire (a forwarding stall). */
    rvr_map_entry *e;
    int old;
    rvr_status st = map_slot(m, key, keylen, &e, &old);
    if (st != RVR_OK)
        return st;
    e->val.type = type;
    e->val.as.bytes.ptr = (uint8_t *)buf;   /* str shares the layout */
    e->val.as.bytes.len = len;
    e->big = false;
    map_depth_after(m, 0, old);
    return RVR_OK;
}

rvr_status rvr_map_set(rvr_map *m, const char *key, rvr_value *v)
{
    /* A map that is a value is one level down: its children get one less. */
    return rvr_map_put(m, key, v, RVR_MAX_DEPTH - 1);
}

rvr_status rvr_map_remove(rvr_map *m, const char *key)
{
    if (m == NULL || key == NULL)
        return RVR_EINVAL;
    size_t keylen = rvr_name_len(key, RVR_MAX_NAME);
    if (keylen > RVR_MAX_NAME)
        return RVR_ENOATTR;
    int64_t found = map_find_pos(m, key, keylen);
    if (found < 0)
        return RVR_ENOATTR;
    uint32_t pos = (uint32_t)found;

    if (m->index != NULL)
        rvr_map_index_delete_slot(m, rvr_map_index_slot_of(m, pos));
    rvr_map_entry *e = &m->entries[pos];
    unsigned gone = rvr_value_depth(&e->val);
    key_free(m, e->key);
    val_clear(m, e);
    memmove(e, e + 1, (size_t)(m->len - pos - 1) * sizeof *e);
    m->len--;

    if (m->index != NULL) {
        if (m->len <= MAP_SMALL / 2) {
            /* Hysteresis: keep the index until the map is clearly small. */
            free(m->index);
            m->index = NULL;
            m->index_cap = 0;
        } else if (pos < m->len) {
            /* Entries after pos moved down by one: renumber their slots. */
            for (uint32_t s = 0; s < m->index_cap; s++)
                if (m->index[s] > pos + 1)
                    m->index[s]--;
        }
    }
    map_depth_dropped(m, gone);
    return RVR_OK;
}

/* ---- copy and equality -------------------------------------------------------- */

rvr_status rvr_map_copy_into(rvr_map *dst, const rvr_map *src)
{
    if (dst == NULL || src == NULL || dst->len != 0)
        return RVR_EINVAL;
    if (src->len == 0)
        return RVR_OK;
    rvr_status st = map_reserve(dst, src->len);
    if (st != RVR_OK)
        return st;
    for (uint32_t i = 0; i < src->len; i++) {
        const rvr_map_entry *s = &src->entries[i];
        rvr_map_entry *d = &dst->entries[i];
        d->key = malloc(s->keylen + 1);
        if (d->key == NULL)
            goto fail;
        memcpy(d->key, s->key, s->keylen + 1);
        if (rvr_value_copy(&d->val, &s->val) != RVR_OK) {
            free(d->key);
            goto fail;
        }
        d->keylen = s->keylen;
        d->big = false;
        dst->len++;
    }
    dst->depth = src->depth;
    /* Same sizing as the source, so lookups cost the same. */
    if (src->index != NULL && rvr_map_index_build(dst, src->index_cap) != RVR_OK)
        goto fail;
    return RVR_OK;
fail:
    rvr_map_fini(dst);
    return RVR_ENOMEM;
}

rvr_map *rvr_map_copy(const rvr_map *m)
{
    if (m == NULL)
        return NULL;
    rvr_map *c = rvr_map_new();
    if (c == NULL)
        return NULL;
    if (rvr_map_copy_into(c, m) != RVR_OK) {
        free(c);
        return NULL;
    }
    return c;
}

bool rvr_map_equal(const rvr_map *a, const rvr_map *b)
{
    if (a == NULL || b == NULL || a->len != b->len)
        return false;
    /* Keys are unique, so "every key of a is in b with an equal value" plus
     * equal sizes means the same set, whatever the order. */
    for (uint32_t i = 0; i < a->len; i++) {
        const rvr_map_entry *e = &a->entries[i];
        const rvr_value *o = rvr_map_find(b, e->key, e->keylen);
        if (o == NULL || !rvr_value_equal(&e->val, o))
            return false;
    }
    return true;
}
