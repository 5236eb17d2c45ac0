/* test_packet_store.c — packet attributes as a user sees them, whatever
 * the storage behind them.
 *
 * A packet keeps its first attributes, their names and short string/bytes
 * values inside its own block and moves to the heap when that room runs
 * out (runtime/map.c, packet.c).  None of that may show through the public
 * API: these tests drive packets through the inline/heap boundary (many
 * attributes of mixed types and sizes, 1000 replacements, removals from
 * the middle, copies, failed sets) and check every getter, the iteration
 * order and equality against a plain model kept on the side.
 *
 * Public API only (<river/river.h>). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "cutest.h"

/* ---- a model of the attributes ----------------------------------------------- */

#define MODEL_MAX 256

typedef struct model {
    char *name[MODEL_MAX];
    rvr_value val[MODEL_MAX];   /* owned, heap-built (rvr_value_* constructors) */
    size_t n;
} model;

static void model_init(model *m)
{
    memset(m, 0, sizeof *m);
}

static void model_fini(model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->name[i]);
        rvr_value_clear(&m->val[i]);
    }
    m->n = 0;
}

static long model_find(const model *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->name[i], name) == 0)
            return (long)i;
    return -1;
}

/* Takes *v: replaces in place or appends, as a packet does. */
static void model_set(model *m, const char *name, rvr_value *v)
{
    long i = model_find(m, name);
    if (i >= 0) {
        rvr_value_clear(&m->val[i]);
        m->val[i] = *v;
    } else {
        CU_ASSERT_FATAL(m->n < MODEL_MAX);
        m->name[m->n] = strdup(name);
        m->val[m->n] = *v;
        m->n++;
    }
    memset(v, 0, sizeof *v);
}

static void model_remove(model *m, const char *name)
{
    long i = model_find(m, name);
    CU_ASSERT_FATAL(i >= 0);
    free(m->name[i]);
    rvr_value_clear(&m->val[i]);
    memmove(&m->name[i], &m->name[i + 1], (m->n - (size_t)i - 1) * sizeof m->name[0]);
    memmove(&m->val[i], &m->val[i + 1], (m->n - (size_t)i - 1) * sizeof m->val[0]);
    m->n--;
}

/* ---- values of every kind and size ------------------------------------------ */

enum kind {
    K_BOOL, K_I64, K_U64, K_F64, K_UUID,
    K_STR_EMPTY, K_STR_SHORT, K_STR_200, K_STR_1023, K_STR_1000, K_STR_1024, K_STR_5000,
    K_STRN,             /* rvr_packet_set_strn on a longer buffer */
    K_BYTES_EMPTY, K_BYTES_NULL, K_BYTES_SHORT, K_BYTES_1023, K_BYTES_1024, K_BYTES_5000,
    K_LIST, K_MAP,
    K_STR_64K_1, K_BYTES_64K, K_STR_1M,   /* large values (recycled buffers, runtime/bigbuf.c) */
    K_COUNT
};

/* n bytes of text (no NUL), varied by seed. */
static char *text(size_t n, unsigned seed)
{
    char *s = malloc(n + 1);
    CU_ASSERT_FATAL(s != NULL);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (i * 7 + seed) % 26);
    s[n] = '\0';
    return s;
}

/* n bytes of binary data, NULs included. */
static uint8_t *blob(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n ? n : 1);
    CU_ASSERT_FATAL(b != NULL);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((i * 31 + seed) % 7 == 0 ? 0 : i * 13 + seed);
    return b;
}

static rvr_list *small_list(unsigned seed)
{
    rvr_list *l = rvr_list_new();
    CU_ASSERT_FATAL(l != NULL);
    rvr_list_append_i64(l, -(int64_t)seed);
    rvr_list_append_str(l, "item");
    rvr_list *inner = rvr_list_new();
    rvr_list_append_u64(inner, seed);
    rvr_value v = rvr_value_list(inner);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_OK);
    return l;
}

static rvr_map *small_map(unsigned seed)
{
    rvr_map *m = rvr_map_new();
    CU_ASSERT_FATAL(m != NULL);
    rvr_value v = rvr_value_u64(seed);
    CU_ASSERT_EQUAL(rvr_map_set(m, "n", &v), RVR_OK);
    char *s = text(40, seed);
    CU_ASSERT_EQUAL(rvr_value_str(&v, s), RVR_OK);
    free(s);
    CU_ASSERT_EQUAL(rvr_map_set(m, "s", &v), RVR_OK);
    return m;
}

static size_t str_len_of(enum kind k, unsigned seed)
{
    switch (k) {
    case K_STR_SHORT: return 1 + seed % 30;
    case K_STR_200: return 200;
    case K_STR_1023: case K_BYTES_1023: return 1023;
    case K_STR_1000: return 1000;
    case K_STR_1024: case K_BYTES_1024: return 1024;
    case K_STR_5000: case K_BYTES_5000: return 5000;
    case K_BYTES_SHORT: return 1 + seed % 40;
    case K_STRN: return 1 + seed % 60;
    case K_STR_64K_1: return ((size_t)64 << 10) - 1;
    case K_BYTES_64K: return (size_t)64 << 10;
    case K_STR_1M: return ((size_t)1 << 20) + seed % 100;
    default: return 0;
    }
}

/* Sets attribute `name` of p to a value of kind k with the public setter
 * for that kind, and records the same value in the model. */
static void set_kind(rvr_packet *p, model *m, const char *name, enum kind k, unsigned seed)
{
    rvr_value v;
    memset(&v, 0, sizeof v);
    size_t n = str_len_of(k, seed);
    switch (k) {
    case K_BOOL:
        CU_ASSERT_EQUAL(rvr_packet_set_bool(p, name, seed & 1), RVR_OK);
        v = rvr_value_bool(seed & 1);
        break;
    case K_I64: {
        int64_t x = (seed % 3 == 0) ? INT64_MIN : (seed % 3 == 1) ? INT64_MAX : -(int64_t)seed;
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, name, x), RVR_OK);
        v = rvr_value_i64(x);
        break;
    }
    case K_U64: {
        uint64_t x = seed % 2 ? UINT64_MAX : (uint64_t)seed << 40;
        CU_ASSERT_EQUAL(rvr_packet_set_u64(p, name, x), RVR_OK);
        v = rvr_value_u64(x);
        break;
    }
    case K_F64: {
        double x = seed % 2 ? -0.0 : seed * 0.25 - 1e300;
        CU_ASSERT_EQUAL(rvr_packet_set_f64(p, name, x), RVR_OK);
        v = rvr_value_f64(x);
        break;
    }
    case K_UUID: {
        rvr_uuid u;
        for (int i = 0; i < 16; i++)
            u.bytes[i] = (uint8_t)(seed * 17 + i);
        CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, name, &u), RVR_OK);
        v = rvr_value_uuid(&u);
        break;
    }
    case K_STR_EMPTY:
        CU_ASSERT_EQUAL(rvr_packet_set_str(p, name, ""), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_str(&v, ""), RVR_OK);
        break;
    case K_STR_SHORT: case K_STR_200: case K_STR_1023: case K_STR_1000: case K_STR_1024:
    case K_STR_5000: case K_STR_64K_1: case K_STR_1M: {
        char *s = text(n, seed);
        CU_ASSERT_EQUAL(rvr_packet_set_str(p, name, s), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_str(&v, s), RVR_OK);
        free(s);
        break;
    }
    case K_STRN: {
        /* Only the first n bytes count: the rest of the buffer is not read. */
        char *s = text(n + 10, seed);
        s[n + 3] = '\0';
        CU_ASSERT_EQUAL(rvr_packet_set_strn(p, name, s, n), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_strn(&v, s, n), RVR_OK);
        free(s);
        break;
    }
    case K_BYTES_EMPTY:
        CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, name, "", 0), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_bytes(&v, "", 0), RVR_OK);
        break;
    case K_BYTES_NULL:
        CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, name, NULL, 0), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_bytes(&v, NULL, 0), RVR_OK);
        break;
    case K_BYTES_SHORT: case K_BYTES_1023: case K_BYTES_1024: case K_BYTES_5000:
    case K_BYTES_64K: {
        uint8_t *b = blob(n, seed);
        CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, name, b, n), RVR_OK);
        CU_ASSERT_EQUAL(rvr_value_bytes(&v, b, n), RVR_OK);
        free(b);
        break;
    }
    case K_LIST: {
        CU_ASSERT_EQUAL(rvr_packet_set_list(p, name, small_list(seed)), RVR_OK);
        v = rvr_value_list(small_list(seed));
        break;
    }
    case K_MAP: {
        CU_ASSERT_EQUAL(rvr_packet_set_map(p, name, small_map(seed)), RVR_OK);
        v = rvr_value_map(small_map(seed));
        break;
    }
    default:
        CU_FAIL_FATAL("bad kind");
    }
    model_set(m, name, &v);
}

/* ---- checking a packet against the model ---------------------------------------- */

/* Every getter of attribute `name` agrees with want; the getters of the
 * other types say RVR_ETYPE and leave *out alone. */
static void check_getters(const rvr_packet *p, const char *name, const rvr_value *want)
{
    bool b = true;
    int64_t i = 7;
    uint64_t u = 7;
    double d = 7;
    rvr_uuid id;
    memset(&id, 0x5a, sizeof id);
    const char *s = (const char *)&b;
    const uint8_t *y = (const uint8_t *)&b;
    const rvr_list *l = (const rvr_list *)&b;
    const rvr_map *mp = (const rvr_map *)&b;
    size_t len = 12345;

    rvr_status st = rvr_packet_get_bool(p, name, &b);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_BOOL ? RVR_OK : RVR_ETYPE);
    CU_ASSERT(st != RVR_OK ? b == true : b == want->as.b);

    st = rvr_packet_get_i64(p, name, &i);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_INT ? RVR_OK : RVR_ETYPE);
    CU_ASSERT(st != RVR_OK ? i == 7 : i == want->as.i);

    st = rvr_packet_get_u64(p, name, &u);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_UINT ? RVR_OK : RVR_ETYPE);
    CU_ASSERT(st != RVR_OK ? u == 7 : u == want->as.u);

    st = rvr_packet_get_f64(p, name, &d);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_DOUBLE ? RVR_OK : RVR_ETYPE);
    CU_ASSERT(st != RVR_OK ? d == 7 : memcmp(&d, &want->as.d, sizeof d) == 0);

    st = rvr_packet_get_uuid(p, name, &id);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_UUID ? RVR_OK : RVR_ETYPE);
    if (st == RVR_OK)
        CU_ASSERT(rvr_uuid_eq(&id, &want->as.uuid));

    st = rvr_packet_get_str(p, name, &s, &len);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_STRING ? RVR_OK : RVR_ETYPE);
    if (st == RVR_OK) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(len, want->as.str.len);
        CU_ASSERT_EQUAL(s[len], '\0');
        CU_ASSERT_EQUAL(strlen(s), len);
        CU_ASSERT_EQUAL(memcmp(s, want->as.str.ptr, len), 0);
        const char *s2 = NULL;
        CU_ASSERT_EQUAL(rvr_packet_get_str(p, name, &s2, NULL), RVR_OK);   /* len optional */
        CU_ASSERT_PTR_EQUAL(s2, s);
    } else {
        CU_ASSERT_PTR_EQUAL(s, (const char *)&b);
        CU_ASSERT_EQUAL(len, 12345);
    }

    len = 12345;
    st = rvr_packet_get_bytes(p, name, &y, &len);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_BYTES ? RVR_OK : RVR_ETYPE);
    if (st == RVR_OK) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(y);
        CU_ASSERT_EQUAL(len, want->as.bytes.len);
        if (len > 0)
            CU_ASSERT_EQUAL(memcmp(y, want->as.bytes.ptr, len), 0);
    } else {
        CU_ASSERT_PTR_EQUAL(y, (const uint8_t *)&b);
        CU_ASSERT_EQUAL(len, 12345);
    }

    st = rvr_packet_get_list(p, name, &l);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_LIST ? RVR_OK : RVR_ETYPE);
    if (st == RVR_OK)
        CU_ASSERT(rvr_list_equal(l, want->as.list));
    st = rvr_packet_get_map(p, name, &mp);
    CU_ASSERT_EQUAL(st, want->type == RVR_T_MAP ? RVR_OK : RVR_ETYPE);
    if (st == RVR_OK)
        CU_ASSERT(rvr_map_equal(mp, want->as.map));
}

/* Bitwise equality of flat values (so -0.0 differs from 0.0); deep for lists and maps. */
static bool same_value(const rvr_value *a, const rvr_value *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == RVR_T_DOUBLE)
        return memcmp(&a->as.d, &b->as.d, sizeof a->as.d) == 0;
    return rvr_value_equal(a, b);
}

/* The packet holds exactly the model's attributes, in the model's order. */
static void check_packet(const rvr_packet *p, const model *m)
{
    CU_ASSERT_EQUAL_FATAL(rvr_packet_count(p), m->n);
    const rvr_map *attrs = rvr_packet_attrs(p);
    CU_ASSERT_EQUAL(rvr_map_len(attrs), m->n);
    for (size_t i = 0; i < m->n; i++) {
        const char *name = NULL;
        const rvr_value *v = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_packet_at(p, i, &name, &v), RVR_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        if (strcmp(name, m->name[i]) != 0) {
            CU_FAIL("attribute order differs from insertion order");
            continue;
        }
        CU_ASSERT_TRUE(same_value(v, &m->val[i]));
        CU_ASSERT_TRUE(rvr_packet_has(p, name));
        const rvr_value *g = NULL;
        CU_ASSERT_EQUAL(rvr_packet_get(p, name, &g), RVR_OK);
        CU_ASSERT_PTR_EQUAL(g, v);
        CU_ASSERT_PTR_EQUAL(rvr_map_get(attrs, name), v);
        const char *k2;
        const rvr_value *v2;
        CU_ASSERT_EQUAL(rvr_map_at(attrs, i, &k2, &v2), RVR_OK);
        CU_ASSERT_PTR_EQUAL(v2, v);
        if (v->type == RVR_T_STRING || v->type == RVR_T_BYTES)
            CU_ASSERT_PTR_NOT_NULL(v->as.bytes.ptr);
        check_getters(p, name, &m->val[i]);
    }
    CU_ASSERT_EQUAL(rvr_packet_at(p, m->n, NULL, NULL), RVR_ERANGE);
}

/* A packet built from the model alone, in another order (the last first):
 * equal to p, since equality ignores order. */
static rvr_packet *rebuild_reversed(const rvr_packet *p, const model *m)
{
    rvr_packet *q = rvr_packet_new(rvr_packet_tag(p));
    CU_ASSERT_FATAL(q != NULL);
    for (size_t i = m->n; i-- > 0;) {
        rvr_value v;
        CU_ASSERT_EQUAL_FATAL(rvr_value_copy(&v, &m->val[i]), RVR_OK);
        CU_ASSERT_EQUAL_FATAL(rvr_packet_set(q, m->name[i], &v), RVR_OK);
    }
    return q;
}

static void attr_name(char *buf, size_t cap, size_t i)
{
    /* Names of varied length: they share the inline room with the values. */
    static const char *stems[] = { "a", "attr", "a_rather_long_attribute_name_", "k" };
    snprintf(buf, cap, "%s%zu", stems[i % 4], i);
}

/* ---- the tests ---------------------------------------------------------------- */

/* 1..40 attributes of every kind and size: the first ones inline, then
 * the entry array, names and values moving to the heap as room runs out. */
static void test_mixed_counts(void)
{
    for (size_t count = 1; count <= 40; count++) {
        for (unsigned shift = 0; shift < 3; shift++) {
            rvr_packet *p = rvr_packet_new(shift == 2 ? "a-tag-too-long-to-be-kept-inline-in-the-block"
                                                      : "mixed");
            CU_ASSERT_FATAL(p != NULL);
            model m;
            model_init(&m);
            char name[64];
            for (size_t i = 0; i < count; i++) {
                attr_name(name, sizeof name, i);
                set_kind(p, &m, name, (enum kind)((i + shift * 7) % K_COUNT), (unsigned)(i + count));
            }
            check_packet(p, &m);

            rvr_packet *q = rebuild_reversed(p, &m);
            CU_ASSERT_TRUE(rvr_packet_equal(p, q));
            CU_ASSERT_TRUE(rvr_packet_equal(q, p));
            rvr_packet_free(q);

            /* A copy equals the original and outlives it. */
            rvr_packet *c = rvr_packet_copy(p);
            CU_ASSERT_FATAL(c != NULL);
            CU_ASSERT_TRUE(rvr_packet_equal(p, c));
            CU_ASSERT_STRING_EQUAL(rvr_packet_tag(c), rvr_packet_tag(p));
            rvr_map *mc = rvr_map_copy(rvr_packet_attrs(p));
            CU_ASSERT_FATAL(mc != NULL);
            rvr_packet_free(p);
            check_packet(c, &m);
            CU_ASSERT_TRUE(rvr_map_equal(mc, rvr_packet_attrs(c)));
            rvr_map_free(mc);

            /* The copy is a packet like any other: it grows and shrinks. */
            set_kind(c, &m, "after-copy", K_STR_SHORT, 3);
            set_kind(c, &m, "after-copy-2", K_BYTES_1023, 4);
            if (count > 2) {
                attr_name(name, sizeof name, count / 2);
                CU_ASSERT_EQUAL(rvr_packet_remove(c, name), RVR_OK);
                model_remove(&m, name);
            }
            check_packet(c, &m);
            rvr_packet_free(c);
            model_fini(&m);
        }
    }
}

/* One attribute replaced 1000 times, alternating short (inline) and long
 * (heap) values and types, between attributes that must not move. */
static void test_replace_many(void)
{
    rvr_packet *p = rvr_packet_new("replace");
    model m;
    model_init(&m);
    set_kind(p, &m, "first", K_STR_SHORT, 1);
    set_kind(p, &m, "x", K_I64, 1);
    set_kind(p, &m, "last", K_BYTES_SHORT, 2);
    const char *first = NULL;
    const uint8_t *last = NULL;
    size_t first_len, last_len;
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "first", &first, &first_len), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "last", &last, &last_len), RVR_OK);
    char *first_copy = strndup(first, first_len);
    uint8_t *last_copy = malloc(last_len);
    memcpy(last_copy, last, last_len);

    static const enum kind cycle[] = {
        K_STR_SHORT, K_STR_5000, K_BYTES_SHORT, K_STR_1000, K_STR_EMPTY, K_BYTES_1024,
        K_STR_SHORT, K_BYTES_5000, K_U64, K_STR_1023, K_BYTES_EMPTY, K_STR_200, K_LIST,
        K_STRN, K_MAP, K_BYTES_1023, K_F64, K_BYTES_NULL, K_BYTES_64K, K_STR_SHORT, K_STR_1M,
        K_STR_64K_1,
    };
    for (unsigned r = 0; r < 1000; r++) {
        enum kind k = cycle[r % (sizeof cycle / sizeof cycle[0])];
        set_kind(p, &m, "x", k, r);
        CU_ASSERT_EQUAL(rvr_packet_count(p), 3);
        const char *name;
        CU_ASSERT_EQUAL(rvr_packet_at(p, 1, &name, NULL), RVR_OK);
        CU_ASSERT_STRING_EQUAL(name, "x");
        check_getters(p, "x", &m.val[1]);
        if (r % 97 == 0)
            check_packet(p, &m);
    }
    check_packet(p, &m);
    /* The neighbours' storage never moved: their getter pointers still hold. */
    CU_ASSERT_EQUAL(memcmp(first, first_copy, first_len), 0);
    CU_ASSERT_EQUAL(memcmp(last, last_copy, last_len), 0);
    const char *f2;
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "first", &f2, NULL), RVR_OK);
    CU_ASSERT_PTR_EQUAL(f2, first);

    /* Afterwards the packet still takes new attributes, inline room or not. */
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "n%d", i);
        set_kind(p, &m, name, i % 2 ? K_STR_SHORT : K_BYTES_SHORT, (unsigned)i);
    }
    check_packet(p, &m);
    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    rvr_packet_free(p);
    check_packet(c, &m);
    rvr_packet_free(c);
    free(first_copy);
    free(last_copy);
    model_fini(&m);
}

/* Removing attributes from the middle keeps the others in order, in every
 * state of the storage; removed names are gone and may come back (at the end). */
static void test_remove_middle(void)
{
    for (size_t count = 3; count <= 24; count += 7) {
        rvr_packet *p = rvr_packet_new("remove");
        model m;
        model_init(&m);
        char name[64];
        for (size_t i = 0; i < count; i++) {
            attr_name(name, sizeof name, i);
            set_kind(p, &m, name, (enum kind)(i * 5 % K_COUNT), (unsigned)i);
        }
        /* Every other attribute, from the middle outwards. */
        for (size_t step = 0; m.n > 2 && step < count / 2; step++) {
            strcpy(name, m.name[m.n / 2]);
            CU_ASSERT_EQUAL(rvr_packet_remove(p, name), RVR_OK);
            model_remove(&m, name);
            CU_ASSERT_FALSE(rvr_packet_has(p, name));
            const rvr_value *g;
            CU_ASSERT_EQUAL(rvr_packet_get(p, name, &g), RVR_ENOATTR);
            CU_ASSERT_EQUAL(rvr_packet_remove(p, name), RVR_ENOATTR);
            check_packet(p, &m);
        }
        /* A removed name set again goes to the end. */
        attr_name(name, sizeof name, count / 2);
        if (model_find(&m, name) < 0) {
            set_kind(p, &m, name, K_STR_SHORT, 99);
            CU_ASSERT_STRING_EQUAL(m.name[m.n - 1], name);
        }
        check_packet(p, &m);
        /* Empty it completely, then fill it again. */
        while (m.n > 0) {
            strcpy(name, m.name[0]);
            CU_ASSERT_EQUAL(rvr_packet_remove(p, name), RVR_OK);
            model_remove(&m, name);
        }
        check_packet(p, &m);
        for (size_t i = 0; i < count; i++) {
            attr_name(name, sizeof name, i + 100);
            set_kind(p, &m, name, (enum kind)(i * 3 % K_COUNT), (unsigned)i);
        }
        check_packet(p, &m);
        rvr_packet *c = rvr_packet_copy(p);
        CU_ASSERT_TRUE(rvr_packet_equal(c, p));
        rvr_packet_free(p);
        check_packet(c, &m);
        rvr_packet_free(c);
        model_fini(&m);
    }
}

/* Empty strings and bytes have non-NULL pointers (a NUL-terminated "" for
 * strings) wherever they are stored: first in the packet, after the inline
 * room is used up, and in a copy. */
static void test_empty_values(void)
{
    rvr_packet *p = rvr_packet_new("empty");
    model m;
    model_init(&m);
    char name[32];
    for (int round = 0; round < 3; round++) {
        snprintf(name, sizeof name, "s%d", round);
        set_kind(p, &m, name, K_STR_EMPTY, 0);
        snprintf(name, sizeof name, "sn%d", round);
        CU_ASSERT_EQUAL(rvr_packet_set_strn(p, name, "abc", 0), RVR_OK);
        rvr_value v;
        CU_ASSERT_EQUAL(rvr_value_str(&v, ""), RVR_OK);
        model_set(&m, name, &v);
        snprintf(name, sizeof name, "b%d", round);
        set_kind(p, &m, name, K_BYTES_EMPTY, 0);
        snprintf(name, sizeof name, "bn%d", round);
        set_kind(p, &m, name, K_BYTES_NULL, 0);
        check_packet(p, &m);
        /* Use up whatever inline room is left with short values. */
        for (int i = 0; i < 12; i++) {
            snprintf(name, sizeof name, "fill%d_%d", round, i);
            set_kind(p, &m, name, K_STR_200, (unsigned)i);
        }
    }
    check_packet(p, &m);
    rvr_packet *c = rvr_packet_copy(p);
    rvr_packet_free(p);
    check_packet(c, &m);
    /* An empty value replacing a long one, and the other way round. */
    set_kind(c, &m, "s0", K_STR_5000, 1);
    set_kind(c, &m, "fill0_0", K_STR_EMPTY, 0);
    set_kind(c, &m, "fill0_1", K_BYTES_NULL, 0);
    check_packet(c, &m);
    rvr_packet_free(c);
    model_fini(&m);
}

/* A string with a NUL inside is refused with RVR_EINVAL and the packet is
 * left as it was: new name or existing one, short (inline) or long value,
 * before and after the inline room is used up. */
static void test_inner_nul(void)
{
    rvr_packet *p = rvr_packet_new("nul");
    model m;
    model_init(&m);
    set_kind(p, &m, "keep", K_STR_SHORT, 5);
    set_kind(p, &m, "n", K_I64, 5);
    char *bad = text(100000, 1);
    static const size_t lens[] = { 1, 2, 3, 100, 1023, 1024, 3000, (size_t)64 << 10, 100000 };
    for (int round = 0; round < 4; round++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t len = lens[li];
            size_t at[3] = { 0, len / 2, len - 1 };
            for (int a = 0; a < 3; a++) {
                char saved = bad[at[a]];
                bad[at[a]] = '\0';
                rvr_packet *before = rvr_packet_copy(p);
                CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "keep", bad, len), RVR_EINVAL);
                CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "new", bad, len), RVR_EINVAL);
                CU_ASSERT_FALSE(rvr_packet_has(p, "new"));
                CU_ASSERT_TRUE(rvr_packet_equal(p, before));
                rvr_packet_free(before);
                bad[at[a]] = saved;
            }
        }
        check_packet(p, &m);
        /* Good sets still work after the failures. */
        char name[32];
        for (int i = 0; i < 6; i++) {
            snprintf(name, sizeof name, "ok%d_%d", round, i);
            set_kind(p, &m, name, i % 2 ? K_STR_SHORT : K_STRN, (unsigned)(round * 10 + i));
        }
        set_kind(p, &m, "keep", round % 2 ? K_STR_1000 : K_STR_SHORT, (unsigned)round);
        check_packet(p, &m);
    }
    free(bad);
    rvr_packet_free(p);
    model_fini(&m);
}

/* A value set from the packet's own storage (its getter's pointer): the
 * copy is taken before the old value goes. */
static void test_set_from_own_storage(void)
{
    static const enum kind kinds[] = { K_STR_SHORT, K_STR_1000, K_STR_5000, K_BYTES_SHORT,
                                       K_BYTES_1024, K_BYTES_64K, K_STR_1M };
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++) {
        rvr_packet *p = rvr_packet_new("self");
        model m;
        model_init(&m);
        set_kind(p, &m, "v", kinds[ki], 9);
        set_kind(p, &m, "w", K_I64, 9);
        bool str = m.val[0].type == RVR_T_STRING;
        for (int r = 0; r < 20; r++) {
            size_t len;
            if (str) {
                const char *s;
                CU_ASSERT_EQUAL(rvr_packet_get_str(p, "v", &s, &len), RVR_OK);
                /* Into the same attribute, and into another one. */
                CU_ASSERT_EQUAL(rvr_packet_set_strn(p, r % 2 ? "v" : "other", s, len), RVR_OK);
            } else {
                const uint8_t *b;
                CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "v", &b, &len), RVR_OK);
                CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, r % 2 ? "v" : "other", b, len), RVR_OK);
            }
            rvr_value v;
            CU_ASSERT_EQUAL(rvr_value_copy(&v, &m.val[0]), RVR_OK);
            model_set(&m, r % 2 ? "v" : "other", &v);
            check_packet(p, &m);
        }
        rvr_packet_free(p);
        model_fini(&m);
    }
}

/* Equality does not depend on where values are stored: the same attributes
 * set first in a fresh packet (inline) and after the inline room is gone
 * (heap) compare equal; one byte of difference does not. */
static void test_equal_across_storage(void)
{
    rvr_packet *a = rvr_packet_new("eq");
    rvr_packet *b = rvr_packet_new("eq");
    char name[32];
    /* b: use up the inline room, then remove the fillers. */
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "filler%d", i);
        CU_ASSERT_EQUAL(rvr_packet_set_str(b, name, "................................................"), RVR_OK);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "filler%d", i);
        CU_ASSERT_EQUAL(rvr_packet_remove(b, name), RVR_OK);
    }
    model ma, mb;
    model_init(&ma);
    model_init(&mb);
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "k%d", i);
        enum kind k = (enum kind)(i * 5 % K_COUNT);
        set_kind(a, &ma, name, k, (unsigned)i);
        set_kind(b, &mb, name, k, (unsigned)i);
        CU_ASSERT_TRUE(rvr_packet_equal(a, b));
    }
    check_packet(a, &ma);
    check_packet(b, &mb);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(b, "k1", "x", 1), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(a, "k1", "y", 1), RVR_OK);
    CU_ASSERT_FALSE(rvr_packet_equal(a, b));
    CU_ASSERT_EQUAL(rvr_packet_set_strn(a, "k1", "x", 1), RVR_OK);
    CU_ASSERT_TRUE(rvr_packet_equal(a, b));
    /* Bytes and a string with the same octets are different values. */
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(a, "k1", "x", 1), RVR_OK);
    CU_ASSERT_FALSE(rvr_packet_equal(a, b));
    rvr_packet_free(a);
    rvr_packet_free(b);
    model_fini(&ma);
    model_fini(&mb);
}

/* Long names (RVR_MAX_NAME bytes) take much of the inline room: still right. */
static void test_long_names(void)
{
    rvr_packet *p = rvr_packet_new("names");
    model m;
    model_init(&m);
    char name[RVR_MAX_NAME + 1];
    for (int i = 0; i < 12; i++) {
        size_t n = i % 3 == 0 ? RVR_MAX_NAME : (size_t)(1 + i * 20);
        memset(name, 'a' + i, n);
        name[n] = '\0';
        set_kind(p, &m, name, (enum kind)(i * 7 % K_COUNT), (unsigned)i);
        check_packet(p, &m);
    }
    memset(name, 'z', RVR_MAX_NAME);
    name[RVR_MAX_NAME] = '\0';
    char toolong[RVR_MAX_NAME + 2];
    memset(toolong, 'q', RVR_MAX_NAME + 1);
    toolong[RVR_MAX_NAME + 1] = '\0';
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, toolong, "v"), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, toolong, "v", 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "", "v"), RVR_EINVAL);
    check_packet(p, &m);
    rvr_packet *c = rvr_packet_copy(p);
    rvr_packet_free(p);
    check_packet(c, &m);
    rvr_packet_free(c);
    model_fini(&m);
}

/* Many packets alive at once, freed in another order than allocated
 * (packets share a pool of blocks). */
static void test_many_alive(void)
{
    enum { N = 3000 };
    rvr_packet **ps = calloc(N, sizeof *ps);
    char name[32];
    for (int i = 0; i < N; i++) {
        ps[i] = rvr_packet_new("alive");
        CU_ASSERT_FATAL(ps[i] != NULL);
        for (int k = 0; k < i % 9; k++) {
            snprintf(name, sizeof name, "a%d", k);
            CU_ASSERT_EQUAL(rvr_packet_set_i64(ps[i], name, (int64_t)i * 100 + k), RVR_OK);
        }
        snprintf(name, sizeof name, "%d", i);
        CU_ASSERT_EQUAL(rvr_packet_set_str(ps[i], "id", name), RVR_OK);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int i = pass; i < N; i += 2) {
            const char *s;
            snprintf(name, sizeof name, "%d", i);
            CU_ASSERT_EQUAL(rvr_packet_get_str(ps[i], "id", &s, NULL), RVR_OK);
            CU_ASSERT_STRING_EQUAL(s, name);
            CU_ASSERT_EQUAL(rvr_packet_count(ps[i]), (size_t)(i % 9) + 1);
            for (int k = 0; k < i % 9; k++) {
                int64_t x;
                snprintf(name, sizeof name, "a%d", k);
                CU_ASSERT_EQUAL(rvr_packet_get_i64(ps[i], name, &x), RVR_OK);
                CU_ASSERT_EQUAL(x, (int64_t)i * 100 + k);
            }
            rvr_packet_free(ps[i]);
            ps[i] = NULL;
        }
    }
    free(ps);
}

static CU_TestInfo tests[] = {
    { "1..40 attributes of mixed types and sizes", test_mixed_counts },
    { "1000 replacements, short and long", test_replace_many },
    { "removal from the middle", test_remove_middle },
    { "empty string and bytes values", test_empty_values },
    { "inner NUL refused, packet unchanged", test_inner_nul },
    { "value set from the packet's own storage", test_set_from_own_storage },
    { "equality whatever the storage", test_equal_across_storage },
    { "long names", test_long_names },
    { "many packets alive at once", test_many_alive },
    CU_TEST_INFO_NULL
};

int main(void)
{
    cutest_suite("packet storage", tests);
    return cutest_run();
}
