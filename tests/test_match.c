/* test_match.c — rvr_match_* builders and rvr_match_test on packets.
 *
 * Runs inside a VM (vmtest) only so that packets can carry a real `src`:
 * a packet gets its src when it is sent, so the src tests send packets to
 * themselves or have a helper VR send one. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmtest.h"

#define GUARD_MS 60000   /* hang guard for waits that normally take microseconds */

static bool t(const rvr_match *m, const rvr_packet *p)
{
    return rvr_match_test(m, p);
}

/* A fresh match with one constraint added by `add`; asserts the build worked. */
#define NEW_MATCH(m) rvr_match *m = rvr_match_new(); CU_ASSERT_PTR_NOT_NULL_FATAL(m)

/* ---- src helpers ----------------------------------------------------------- */

/* Sends p to ourselves and receives it back: the result has src == self. */
static rvr_packet *via_self(rvr_packet *p)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *got = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), p), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &got), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    return got;
}

static int helper_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p = rvr_packet_new("from-helper");
    if (p == NULL)
        return 1;
    rvr_packet_set_i64(p, "x", 1);
    rvr_packet_set_str(p, "name", "helper");
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}
static RVR_VR_TYPE_NOARGS(helper_type, "tests.MatchHelper", helper_main);

/* Spawns a helper VR and returns the packet it sent (src == *id). */
static rvr_packet *from_helper(rvr_uuid *id)
{
    rvr_vr *self = vmtest_self;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &helper_type, NULL, id), RVR_OK);
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rvr_match_tag(m, "from-helper");
    rvr_match_src(m, id);
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(self, m, GUARD_MS, &p);
    rvr_match_free(m);
    CU_ASSERT_EQUAL_FATAL(st, RVR_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_null_and_empty_match(void)
{
    rvr_packet *p = rvr_packet_new("anything");
    rvr_packet *bare = rvr_packet_new("x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bare);
    rvr_packet_set_i64(p, "a", 1);
    CU_ASSERT_TRUE(t(NULL, p));
    CU_ASSERT_TRUE(t(NULL, bare));

    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_status(m), RVR_OK);
    CU_ASSERT_TRUE(t(m, p));
    CU_ASSERT_TRUE(t(m, bare));
    rvr_match_free(m);
    rvr_match_free(NULL);   /* documented as fine */
    rvr_packet_free(p);
    rvr_packet_free(bare);
}

/* A packet holding one attribute of every scalar type. */
static rvr_packet *scalar_packet(const rvr_uuid *u)
{
    static const uint8_t bytes[] = { 0, 1, 0, 2, 0xff };
    rvr_packet *p = rvr_packet_new("scalars");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(rvr_packet_set_bool(p, "b", true), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bool(p, "bf", false), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "i", -42), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "imin", INT64_MIN), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_u64(p, "u", UINT64_MAX), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "d", 2.5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "zero", 0.0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "nan", NAN), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", "hello"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "empty", ""), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "y", bytes, sizeof bytes), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "ey", NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, "id", u), RVR_OK);
    return p;
}

/* Does a match holding only eq(name, v) (built with the generic builder)
 * accept p?  Also checks the builder succeeded. */
static bool eq_generic(const rvr_packet *p, const char *name, const rvr_value *v)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rvr_match_eq(m, name, v), RVR_OK);
    bool r = t(m, p);
    rvr_match_free(m);
    return r;
}

#define EQ_TYPED(fn, p, name, val) ({                                   \
    rvr_match *m_ = rvr_match_new();                                     \
    CU_ASSERT_PTR_NOT_NULL_FATAL(m_);                                    \
    CU_ASSERT_EQUAL(fn(m_, name, val), RVR_OK);                          \
    bool r_ = t(m_, p);                                                  \
    rvr_match_free(m_);                                                  \
    r_; })

static void test_eq_scalars_typed(void)
{
    rvr_uuid u = rvr_uuid_generate(), other = rvr_uuid_generate();
    rvr_packet *p = scalar_packet(&u);

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_bool, p, "b", true));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_bool, p, "b", false));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_bool, p, "bf", false));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_bool, p, "bf", true));

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_i64, p, "i", -42));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "i", 42));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "i", -41));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_i64, p, "imin", INT64_MIN));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "imin", INT64_MAX));

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_u64, p, "u", UINT64_MAX));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_u64, p, "u", UINT64_MAX - 1));
    /* int -1 has the same bits as UINT64_MAX but is another number. */
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "u", -1));

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_f64, p, "d", 2.5));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_f64, p, "d", 2.25));
    /* doubles compare with ==: -0.0 == 0.0, NaN equals nothing */
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_f64, p, "zero", -0.0));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_f64, p, "nan", NAN));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_f64, p, "d", NAN));

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_str, p, "s", "hello"));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "s", "hell"));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "s", "hello!"));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "s", "Hello"));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "s", ""));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_str, p, "empty", ""));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "empty", "x"));

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_uuid, p, "id", &u));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_uuid, p, "id", &other));

    /* The attribute must exist. */
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "missing", 0));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, p, "missing", ""));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_bool, p, "missing", false));
    rvr_packet_free(p);
}

static void test_eq_scalars_generic(void)
{
    static const uint8_t bytes[] = { 0, 1, 0, 2, 0xff };
    static const uint8_t bytes2[] = { 0, 1, 0, 2, 0xfe };
    rvr_uuid u = rvr_uuid_generate(), other = rvr_uuid_generate();
    rvr_packet *p = scalar_packet(&u);
    rvr_value v;

    v = rvr_value_bool(true);
    CU_ASSERT_TRUE(eq_generic(p, "b", &v));
    v = rvr_value_i64(-42);
    CU_ASSERT_TRUE(eq_generic(p, "i", &v));
    v = rvr_value_u64(UINT64_MAX);
    CU_ASSERT_TRUE(eq_generic(p, "u", &v));
    v = rvr_value_f64(2.5);
    CU_ASSERT_TRUE(eq_generic(p, "d", &v));
    v = rvr_value_uuid(&u);
    CU_ASSERT_TRUE(eq_generic(p, "id", &v));
    v = rvr_value_uuid(&other);
    CU_ASSERT_FALSE(eq_generic(p, "id", &v));

    CU_ASSERT_EQUAL_FATAL(rvr_value_str(&v, "hello"), RVR_OK);
    CU_ASSERT_TRUE(eq_generic(p, "s", &v));
    CU_ASSERT_FALSE(eq_generic(p, "y", &v));   /* a string never equals bytes */
    rvr_value_clear(&v);

    CU_ASSERT_EQUAL_FATAL(rvr_value_bytes(&v, bytes, sizeof bytes), RVR_OK);
    CU_ASSERT_TRUE(eq_generic(p, "y", &v));
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL_FATAL(rvr_value_bytes(&v, bytes2, sizeof bytes2), RVR_OK);
    CU_ASSERT_FALSE(eq_generic(p, "y", &v));   /* differs in the last byte only */
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL_FATAL(rvr_value_bytes(&v, bytes, 3), RVR_OK);
    CU_ASSERT_FALSE(eq_generic(p, "y", &v));   /* a prefix (bytes after a NUL count) */
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL_FATAL(rvr_value_bytes(&v, NULL, 0), RVR_OK);
    CU_ASSERT_TRUE(eq_generic(p, "ey", &v));
    CU_ASSERT_FALSE(eq_generic(p, "empty", &v)); /* empty bytes != empty string */
    rvr_value_clear(&v);

    /* Same "value", another type: only int/uint compare across types. */
    rvr_packet *q = rvr_packet_new("q");
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    rvr_packet_set_i64(q, "one", 1);
    rvr_packet_set_f64(q, "fone", 1.0);
    rvr_packet_set_bool(q, "t", true);
    rvr_packet_set_str(q, "s1", "1");
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_f64, q, "one", 1.0));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_bool, q, "one", true));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_str, q, "one", "1"));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, q, "fone", 1));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_u64, q, "fone", 1));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, q, "t", 1));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, q, "s1", 1));
    rvr_packet_free(q);
    rvr_packet_free(p);
}

static void test_eq_int_uint_cross(void)
{
    rvr_packet *p = rvr_packet_new("nums");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_i64(p, "i5", 5);
    rvr_packet_set_u64(p, "u5", 5);
    rvr_packet_set_i64(p, "ineg", -1);
    rvr_packet_set_i64(p, "imax", INT64_MAX);
    rvr_packet_set_u64(p, "ubig", (uint64_t)INT64_MAX + 1);
    rvr_packet_set_u64(p, "umax", UINT64_MAX);
    rvr_packet_set_i64(p, "izero", 0);

    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_u64, p, "i5", 5));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_i64, p, "u5", 5));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_u64, p, "i5", 6));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "u5", -5));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_u64, p, "imax", (uint64_t)INT64_MAX));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_u64, p, "izero", 0));
    /* -1 and UINT64_MAX share their bits but not their value. */
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_u64, p, "ineg", UINT64_MAX));
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "umax", -1));
    /* 2^63 as uint equals no int64; INT64_MIN has its bits. */
    CU_ASSERT_FALSE(EQ_TYPED(rvr_match_eq_i64, p, "ubig", INT64_MIN));
    CU_ASSERT_TRUE(EQ_TYPED(rvr_match_eq_u64, p, "ubig", (uint64_t)INT64_MAX + 1));

    /* The generic builder follows the same rule. */
    rvr_value v = rvr_value_u64(5);
    CU_ASSERT_TRUE(eq_generic(p, "i5", &v));
    v = rvr_value_i64(5);
    CU_ASSERT_TRUE(eq_generic(p, "u5", &v));
    v = rvr_value_u64(UINT64_MAX);
    CU_ASSERT_FALSE(eq_generic(p, "ineg", &v));
    rvr_packet_free(p);
}

/* [1, "a", [true, {"k": 2.5, "z": u}], bytes{0,0}, {}]  (variant changes one leaf) */
static rvr_list *build_list(const rvr_uuid *u, int variant)
{
    rvr_list *l = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(rvr_list_append_i64(l, 1), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_str(l, "a"), RVR_OK);

    rvr_map *inner = rvr_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(inner);
    rvr_value v = rvr_value_f64(variant == 1 ? 2.75 : 2.5);
    CU_ASSERT_EQUAL(rvr_map_set(inner, "k", &v), RVR_OK);
    v = rvr_value_uuid(u);
    CU_ASSERT_EQUAL(rvr_map_set(inner, "z", &v), RVR_OK);

    rvr_list *sub = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    CU_ASSERT_EQUAL(rvr_list_append_bool(sub, variant != 2), RVR_OK);
    v = rvr_value_map(inner);
    CU_ASSERT_EQUAL(rvr_list_append(sub, &v), RVR_OK);
    v = rvr_value_list(sub);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_OK);

    static const uint8_t zz[] = { 0, 0 };
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, zz, sizeof zz), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_OK);
    rvr_map *empty = rvr_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
    v = rvr_value_map(empty);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_OK);
    if (variant == 3)
        CU_ASSERT_EQUAL(rvr_list_append_i64(l, 0), RVR_OK);   /* one element more */
    return l;
}

/* {"a": 1, "b": ["x", "y"], "c": {"d": u, "e": [[]]}}; `reverse` inserts the
 * keys in the opposite order (maps compare regardless of order). */
static rvr_map *build_map(const rvr_uuid *u, bool reverse, int variant)
{
    rvr_map *m = rvr_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rvr_value a = variant == 1 ? rvr_value_u64(1) : rvr_value_i64(1);
    rvr_list *bl = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
    rvr_list_append_str(bl, reverse && variant == 2 ? "y" : "x");
    rvr_list_append_str(bl, reverse && variant == 2 ? "x" : "y");
    rvr_value b = rvr_value_list(bl);
    rvr_map *cm = rvr_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cm);
    rvr_value d = rvr_value_uuid(u);
    rvr_list *outer = rvr_list_new();
    rvr_list *innermost = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(outer);
    CU_ASSERT_PTR_NOT_NULL_FATAL(innermost);
    if (variant == 3)
        rvr_list_append_i64(innermost, 7);   /* the deepest leaf differs */
    rvr_value e = rvr_value_list(innermost);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &e), RVR_OK);
    e = rvr_value_list(outer);
    if (reverse) {
        CU_ASSERT_EQUAL(rvr_map_set(cm, "e", &e), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(cm, "d", &d), RVR_OK);
    } else {
        CU_ASSERT_EQUAL(rvr_map_set(cm, "d", &d), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(cm, "e", &e), RVR_OK);
    }
    rvr_value c = rvr_value_map(cm);
    if (reverse) {
        CU_ASSERT_EQUAL(rvr_map_set(m, "c", &c), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(m, "b", &b), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(m, "a", &a), RVR_OK);
    } else {
        CU_ASSERT_EQUAL(rvr_map_set(m, "a", &a), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(m, "b", &b), RVR_OK);
        CU_ASSERT_EQUAL(rvr_map_set(m, "c", &c), RVR_OK);
    }
    if (variant == 4) {
        rvr_value x = rvr_value_bool(false);
        CU_ASSERT_EQUAL(rvr_map_set(m, "extra", &x), RVR_OK);
    }
    return m;
}

static bool list_matches(const rvr_packet *p, rvr_list *l)
{
    rvr_value v = rvr_value_list(l);
    bool r = eq_generic(p, "list", &v);
    rvr_value_clear(&v);
    return r;
}

static bool map_matches(const rvr_packet *p, rvr_map *m)
{
    rvr_value v = rvr_value_map(m);
    bool r = eq_generic(p, "map", &v);
    rvr_value_clear(&v);
    return r;
}

static void test_eq_nested(void)
{
    rvr_uuid u = rvr_uuid_generate(), u2 = rvr_uuid_generate();
    rvr_packet *p = rvr_packet_new("nested");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_list(p, "list", build_list(&u, 0)), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_map(p, "map", build_map(&u, false, 0)), RVR_OK);
    rvr_list *el = rvr_list_new();
    rvr_map *em = rvr_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(el);
    CU_ASSERT_PTR_NOT_NULL_FATAL(em);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_list(p, "elist", el), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_map(p, "emap", em), RVR_OK);

    CU_ASSERT_TRUE(list_matches(p, build_list(&u, 0)));
    CU_ASSERT_FALSE(list_matches(p, build_list(&u, 1)));   /* nested double differs */
    CU_ASSERT_FALSE(list_matches(p, build_list(&u, 2)));   /* nested bool differs */
    CU_ASSERT_FALSE(list_matches(p, build_list(&u, 3)));   /* one element longer */
    CU_ASSERT_FALSE(list_matches(p, build_list(&u2, 0)));  /* nested uuid differs */

    /* A list with the same elements in another order is another list. */
    rvr_list *swapped = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(swapped);
    rvr_list_append_str(swapped, "a");
    rvr_list_append_i64(swapped, 1);
    rvr_list *pair = rvr_list_new();
    rvr_list_append_i64(pair, 1);
    rvr_list_append_str(pair, "a");
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_list(p, "pair", pair), RVR_OK);
    rvr_value sv = rvr_value_list(swapped);
    CU_ASSERT_FALSE(eq_generic(p, "pair", &sv));
    rvr_value_clear(&sv);
    /* ... and a prefix is another list too. */
    rvr_list *prefix = rvr_list_new();
    rvr_list_append_i64(prefix, 1);
    sv = rvr_value_list(prefix);
    CU_ASSERT_FALSE(eq_generic(p, "pair", &sv));
    rvr_value_clear(&sv);
    /* int/uint cross-equality holds inside lists: [1u, "a"] == [1, "a"]. */
    rvr_list *upair = rvr_list_new();
    rvr_list_append_u64(upair, 1);
    rvr_list_append_str(upair, "a");
    sv = rvr_value_list(upair);
    CU_ASSERT_TRUE(eq_generic(p, "pair", &sv));
    rvr_value_clear(&sv);

    CU_ASSERT_TRUE(map_matches(p, build_map(&u, false, 0)));
    CU_ASSERT_TRUE(map_matches(p, build_map(&u, true, 0)));    /* key order is irrelevant */
    CU_ASSERT_TRUE(map_matches(p, build_map(&u, false, 1)));   /* "a": 1u == 1 */
    CU_ASSERT_FALSE(map_matches(p, build_map(&u, true, 2)));   /* list order inside matters */
    CU_ASSERT_FALSE(map_matches(p, build_map(&u, false, 3)));  /* deepest leaf differs */
    CU_ASSERT_FALSE(map_matches(p, build_map(&u, false, 4)));  /* one key more */
    CU_ASSERT_FALSE(map_matches(p, build_map(&u2, false, 0))); /* nested uuid differs */
    /* A map missing a key does not match either. */
    rvr_map *fewer = build_map(&u, false, 0);
    CU_ASSERT_EQUAL(rvr_map_remove(fewer, "b"), RVR_OK);
    CU_ASSERT_FALSE(map_matches(p, fewer));

    /* A list never equals a map; empty ones equal each other. */
    CU_ASSERT_FALSE(list_matches(p, rvr_list_new()));
    rvr_value ev = rvr_value_list(rvr_list_new());
    CU_ASSERT_TRUE(eq_generic(p, "elist", &ev));
    CU_ASSERT_FALSE(eq_generic(p, "emap", &ev));
    rvr_value_clear(&ev);
    ev = rvr_value_map(rvr_map_new());
    CU_ASSERT_TRUE(eq_generic(p, "emap", &ev));
    CU_ASSERT_FALSE(eq_generic(p, "elist", &ev));
    rvr_value_clear(&ev);

    /* A nested value received from the mailbox still matches. */
    rvr_packet *back = via_self(p);
    CU_ASSERT_TRUE(list_matches(back, build_list(&u, 0)));
    CU_ASSERT_TRUE(map_matches(back, build_map(&u, true, 0)));
    rvr_packet_free(back);
}

/* The builder copies names and values: changing or freeing the caller's
 * afterwards does not change the match. */
static void test_builder_copies(void)
{
    rvr_packet *p = rvr_packet_new("copy");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_str(p, "name", "value");
    rvr_list *pl = rvr_list_new();
    rvr_list_append_i64(pl, 10);
    rvr_list_append_i64(pl, 20);
    rvr_packet_set_list(p, "list", pl);

    NEW_MATCH(m);
    char *name = strdup("name"), *val = strdup("value"), *tag = strdup("copy");
    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(val);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
    CU_ASSERT_EQUAL(rvr_match_eq_str(m, name, val), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_tag(m, tag), RVR_OK);
    char *lname = strdup("list");
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 10);
    rvr_list_append_i64(l, 20);
    rvr_value lv = rvr_value_list(l);
    CU_ASSERT_EQUAL(rvr_match_eq(m, lname, &lv), RVR_OK);
    /* rvr_match_eq copies: the caller's value is intact and still the caller's. */
    CU_ASSERT_EQUAL(lv.type, RVR_T_LIST);
    CU_ASSERT_EQUAL(rvr_list_len(lv.as.list), 2);
    CU_ASSERT_TRUE(t(m, p));

    memset(name, 'X', 4);
    memset(val, 'X', 5);
    memset(tag, 'X', 4);
    rvr_list_append_i64(l, 30);
    CU_ASSERT_TRUE(t(m, p));
    free(name);
    free(val);
    free(tag);
    free(lname);
    rvr_value_clear(&lv);
    CU_ASSERT_TRUE(t(m, p));
    /* One match, many tests: it is not consumed. */
    for (int i = 0; i < 10; i++)
        CU_ASSERT_TRUE(t(m, p));
    rvr_match_free(m);
    rvr_packet_free(p);
}

static void test_has(void)
{
    rvr_uuid u = rvr_uuid_generate();
    rvr_packet *p = scalar_packet(&u);
    rvr_packet_set_list(p, "l", rvr_list_new());
    rvr_packet_set_map(p, "m", rvr_map_new());
    static const char *const names[] = { "b", "bf", "i", "u", "d", "zero", "nan", "s", "empty",
                                         "y", "ey", "id", "l", "m" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        NEW_MATCH(m);
        CU_ASSERT_EQUAL(rvr_match_has(m, names[i]), RVR_OK);
        CU_ASSERT_TRUE(t(m, p));   /* whatever the value: false, 0, "", NaN, empty */
        rvr_match_free(m);
    }
    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_has(m, "absent"), RVR_OK);
    CU_ASSERT_FALSE(t(m, p));
    rvr_match_free(m);

    /* Names are exact: no prefix or case folding. */
    NEW_MATCH(m2);
    CU_ASSERT_EQUAL(rvr_match_has(m2, "S"), RVR_OK);
    CU_ASSERT_FALSE(t(m2, p));
    rvr_match_free(m2);
    NEW_MATCH(m3);
    CU_ASSERT_EQUAL(rvr_match_has(m3, "emp"), RVR_OK);
    CU_ASSERT_FALSE(t(m3, p));
    rvr_match_free(m3);

    /* After removal the attribute no longer exists. */
    NEW_MATCH(m4);
    CU_ASSERT_EQUAL(rvr_match_has(m4, "s"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "s"), RVR_OK);
    CU_ASSERT_FALSE(t(m4, p));
    rvr_match_free(m4);
    rvr_packet_free(p);
}

/* ---- callbacks ---------------------------------------------------------------- */

typedef struct pred_log {
    int calls;
    int null_values;
    rvr_type last_type;
    int64_t threshold;
} pred_log;

static bool int_above(const rvr_value *v, void *ctx)
{
    pred_log *log = ctx;
    log->calls++;
    if (v == NULL) {
        log->null_values++;
        return false;
    }
    log->last_type = v->type;
    return v->type == RVR_T_INT && v->as.i > log->threshold;
}

static bool list_longer_than_two(const rvr_value *v, void *ctx)
{
    (void)ctx;
    return v != NULL && v->type == RVR_T_LIST && rvr_list_len(v->as.list) > 2;
}

static bool str_starts_with(const rvr_value *v, void *ctx)
{
    const char *prefix = ctx;
    return v != NULL && v->type == RVR_T_STRING &&
           strncmp(v->as.str.ptr, prefix, strlen(prefix)) == 0;
}

static void test_pred(void)
{
    rvr_packet *p = rvr_packet_new("pred");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_i64(p, "n", 10);
    rvr_packet_set_str(p, "s", "river-c");
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 1);
    rvr_list_append_i64(l, 2);
    rvr_list_append_i64(l, 3);
    rvr_packet_set_list(p, "l", l);

    pred_log log = { .threshold = 5 };
    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_pred(m, "n", int_above, &log), RVR_OK);
    CU_ASSERT_TRUE(t(m, p));
    CU_ASSERT(log.calls >= 1);
    CU_ASSERT_EQUAL(log.last_type, RVR_T_INT);   /* the callback saw the attribute's value */
    log.threshold = 10;                          /* ctx is passed by reference, live */
    CU_ASSERT_FALSE(t(m, p));
    log.threshold = 9;
    CU_ASSERT_TRUE(t(m, p));
    rvr_match_free(m);

    /* Absent attribute: no match, and the callback is never handed a NULL value. */
    pred_log log2 = { .threshold = 0 };
    NEW_MATCH(m2);
    CU_ASSERT_EQUAL(rvr_match_pred(m2, "absent", int_above, &log2), RVR_OK);
    CU_ASSERT_FALSE(t(m2, p));
    CU_ASSERT_EQUAL(log2.null_values, 0);
    CU_ASSERT_EQUAL(log2.calls, 0);
    rvr_match_free(m2);

    /* A predicate sees the whole (nested) value and any type. */
    NEW_MATCH(m3);
    CU_ASSERT_EQUAL(rvr_match_pred(m3, "l", list_longer_than_two, NULL), RVR_OK);
    CU_ASSERT_TRUE(t(m3, p));
    rvr_match_free(m3);
    NEW_MATCH(m4);
    CU_ASSERT_EQUAL(rvr_match_pred(m4, "s", str_starts_with, "river"), RVR_OK);
    CU_ASSERT_TRUE(t(m4, p));
    rvr_match_free(m4);
    NEW_MATCH(m5);
    CU_ASSERT_EQUAL(rvr_match_pred(m5, "s", str_starts_with, "rover"), RVR_OK);
    CU_ASSERT_FALSE(t(m5, p));
    rvr_match_free(m5);
    /* Type mismatch handled by the predicate: the int pred on a string. */
    pred_log log3 = { .threshold = 0 };
    NEW_MATCH(m6);
    CU_ASSERT_EQUAL(rvr_match_pred(m6, "s", int_above, &log3), RVR_OK);
    CU_ASSERT_FALSE(t(m6, p));
    CU_ASSERT_EQUAL(log3.last_type, RVR_T_STRING);
    rvr_match_free(m6);
    rvr_packet_free(p);
}

typedef struct fn_ctx {
    int calls;
    const rvr_packet *seen;
    int64_t want_sum;
} fn_ctx;

/* True when attributes a + b equal ctx->want_sum (a cross-attribute test
 * that no single-attribute constraint can express). */
static bool sum_is(const rvr_packet *p, void *ctx)
{
    fn_ctx *c = ctx;
    c->calls++;
    c->seen = p;
    int64_t a, b;
    if (rvr_packet_get_i64(p, "a", &a) != RVR_OK || rvr_packet_get_i64(p, "b", &b) != RVR_OK)
        return false;
    return a + b == c->want_sum;
}

static bool tag_is_long(const rvr_packet *p, void *ctx)
{
    (void)ctx;
    return strlen(rvr_packet_tag(p)) > 3;
}

static void test_fn(void)
{
    rvr_packet *p = rvr_packet_new("sum");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_i64(p, "a", 3);
    rvr_packet_set_i64(p, "b", 4);
    rvr_packet *q = rvr_packet_new("summary");
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    rvr_packet_set_i64(q, "a", 3);   /* no "b" */

    fn_ctx c = { .want_sum = 7 };
    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_fn(m, sum_is, &c), RVR_OK);
    CU_ASSERT_TRUE(t(m, p));
    CU_ASSERT(c.calls >= 1);
    CU_ASSERT_PTR_EQUAL(c.seen, p);   /* called with the packet under test */
    CU_ASSERT_FALSE(t(m, q));
    c.want_sum = 8;
    CU_ASSERT_FALSE(t(m, p));
    rvr_match_free(m);

    NEW_MATCH(m2);
    CU_ASSERT_EQUAL(rvr_match_fn(m2, tag_is_long, NULL), RVR_OK);
    CU_ASSERT_FALSE(t(m2, p));
    CU_ASSERT_TRUE(t(m2, q));
    rvr_match_free(m2);

    /* Several fn constraints: all must hold. */
    fn_ctx c2 = { .want_sum = 7 };
    NEW_MATCH(m3);
    CU_ASSERT_EQUAL(rvr_match_fn(m3, sum_is, &c2), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_fn(m3, tag_is_long, NULL), RVR_OK);
    CU_ASSERT_FALSE(t(m3, p));   /* sum ok, tag short */
    CU_ASSERT_FALSE(t(m3, q));   /* tag long, no b */
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, "summed"), RVR_OK);
    CU_ASSERT_TRUE(t(m3, p));
    rvr_match_free(m3);
    rvr_packet_free(p);
    rvr_packet_free(q);
}

/* Counts the calls about each packet ("n" = 0..3); true for n == want. */
typedef struct asked {
    int calls[4];
    uint64_t want;
} asked;

static bool n_is(const rvr_packet *p, void *ctx)
{
    asked *a = ctx;
    uint64_t n = 9;
    rvr_packet_get_u64(p, "n", &n);
    if (n < 4)
        a->calls[n]++;
    return n == a->want;
}

/* match.h: a packet found not to match is not asked again during the same
 * receive, whether the receive looks at the oldest packet first or goes
 * through the tag index; the one it takes is asked once. */
static void test_asked_once(void)
{
    rvr_vr *self = vmtest_self;
    for (int by_tag = 0; by_tag < 2; by_tag++) {
        for (uint64_t i = 0; i < 4; i++) {
            rvr_packet *p = rvr_packet_new("t");
            rvr_packet_set_u64(p, "n", i);
            CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), p), RVR_OK);
        }
        for (uint64_t want = 2; want != 5; want = want == 2 ? 0 : want == 0 ? 3 : 5) {
            asked a = { .want = want };
            NEW_MATCH(m);
            if (by_tag)
                CU_ASSERT_EQUAL(rvr_match_tag(m, "t"), RVR_OK);
            CU_ASSERT_EQUAL(rvr_match_fn(m, n_is, &a), RVR_OK);
            rvr_packet *got = NULL;
            CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, 0, &got), RVR_OK);
            rvr_packet_free(got);
            /* Left after the takes before: 0 1 2 3, then 0 1 3, then 1 3. */
            for (uint64_t n = 0; n < 4; n++) {
                bool before = n <= want && !(want == 0 && n > 0);
                bool gone = (want == 0 && n == 2) || (want == 3 && (n == 0 || n == 2));
                CU_ASSERT_EQUAL(a.calls[n], before && !gone ? 1 : 0);
            }
            rvr_match_free(m);
        }
        rvr_packet *rest = NULL;
        CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &rest), RVR_OK);   /* n = 1 */
        rvr_packet_free(rest);
        CU_ASSERT_EQUAL(rvr_pending(self), 0);
    }
}

static void test_tag(void)
{
    char longtag[RVR_MAX_NAME + 1];
    memset(longtag, 't', RVR_MAX_NAME);
    longtag[RVR_MAX_NAME] = '\0';
    rvr_packet *a = rvr_packet_new("abc");
    rvr_packet *b = rvr_packet_new("abcd");
    rvr_packet *l = rvr_packet_new(longtag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);

    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_tag(m, "abc"), RVR_OK);
    CU_ASSERT_TRUE(t(m, a));
    CU_ASSERT_FALSE(t(m, b));   /* no prefix matching */
    CU_ASSERT_FALSE(t(m, l));
    rvr_match_free(m);

    NEW_MATCH(m2);
    CU_ASSERT_EQUAL(rvr_match_tag(m2, "ab"), RVR_OK);
    CU_ASSERT_FALSE(t(m2, a));
    rvr_match_free(m2);

    NEW_MATCH(m3);
    CU_ASSERT_EQUAL(rvr_match_tag(m3, "ABC"), RVR_OK);   /* case matters */
    CU_ASSERT_FALSE(t(m3, a));
    rvr_match_free(m3);

    NEW_MATCH(m4);
    CU_ASSERT_EQUAL(rvr_match_tag(m4, longtag), RVR_OK);   /* the longest tag allowed */
    CU_ASSERT_TRUE(t(m4, l));
    CU_ASSERT_FALSE(t(m4, a));
    longtag[RVR_MAX_NAME - 1] = 'u';                      /* differs in the last byte */
    rvr_packet *l2 = rvr_packet_new(longtag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l2);
    CU_ASSERT_FALSE(t(m4, l2));
    rvr_match_free(m4);

    /* The match follows the packet's current tag. */
    NEW_MATCH(m5);
    CU_ASSERT_EQUAL(rvr_match_tag(m5, "renamed"), RVR_OK);
    CU_ASSERT_FALSE(t(m5, a));
    CU_ASSERT_EQUAL(rvr_packet_set_tag(a, "renamed"), RVR_OK);
    CU_ASSERT_TRUE(t(m5, a));
    rvr_match_free(m5);

    /* Tag and attributes are different things. */
    rvr_packet_set_str(b, "tag", "abc");
    NEW_MATCH(m6);
    CU_ASSERT_EQUAL(rvr_match_tag(m6, "abc"), RVR_OK);
    CU_ASSERT_FALSE(t(m6, b));
    rvr_match_free(m6);
    rvr_packet_free(a);
    rvr_packet_free(b);
    rvr_packet_free(l);
    rvr_packet_free(l2);
}

static void test_src(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid hid;
    rvr_packet *from_h = from_helper(&hid);
    rvr_packet *p = rvr_packet_new("mine");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet *unsent = rvr_packet_new("unsent");
    CU_ASSERT_PTR_NOT_NULL_FATAL(unsent);
    rvr_packet *mine = via_self(p);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(mine), rvr_self(self)));
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(from_h), &hid));

    NEW_MATCH(ms);
    CU_ASSERT_EQUAL(rvr_match_src(ms, rvr_self(self)), RVR_OK);
    CU_ASSERT_TRUE(t(ms, mine));
    CU_ASSERT_FALSE(t(ms, from_h));
    CU_ASSERT_FALSE(t(ms, unsent));
    rvr_match_free(ms);

    NEW_MATCH(mh);
    CU_ASSERT_EQUAL(rvr_match_src(mh, &hid), RVR_OK);
    CU_ASSERT_TRUE(t(mh, from_h));
    CU_ASSERT_FALSE(t(mh, mine));
    CU_ASSERT_FALSE(t(mh, unsent));
    rvr_match_free(mh);

    /* A copy keeps src, so it matches the same src constraint. */
    rvr_packet *c = rvr_packet_copy(from_h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    NEW_MATCH(mh2);
    CU_ASSERT_EQUAL(rvr_match_src(mh2, &hid), RVR_OK);
    CU_ASSERT_TRUE(t(mh2, c));
    rvr_match_free(mh2);

    /* The builder copied the uuid: changing the caller's afterwards is harmless. */
    rvr_uuid tmp = hid;
    NEW_MATCH(mh3);
    CU_ASSERT_EQUAL(rvr_match_src(mh3, &tmp), RVR_OK);
    tmp = rvr_uuid_generate();
    CU_ASSERT_TRUE(t(mh3, from_h));
    rvr_match_free(mh3);

    rvr_packet_free(c);
    rvr_packet_free(mine);
    rvr_packet_free(from_h);
    rvr_packet_free(unsent);
}

/* Every constraint kind at once; then each one made to fail alone. */
static bool always(const rvr_packet *p, void *ctx) { (void)p; (void)ctx; return true; }
static bool never(const rvr_packet *p, void *ctx) { (void)p; (void)ctx; return false; }
static bool vtrue(const rvr_value *v, void *ctx) { (void)v; (void)ctx; return true; }
static bool vfalse(const rvr_value *v, void *ctx) { (void)v; (void)ctx; return false; }

static rvr_match *conj_match(const rvr_uuid *src, int broken)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rvr_uuid other = rvr_uuid_generate();
    rvr_match_tag(m, broken == 0 ? "nope" : "conj");
    rvr_match_src(m, broken == 1 ? &other : src);
    rvr_match_eq_i64(m, "n", broken == 2 ? 8 : 7);
    rvr_match_eq_str(m, "s", broken == 3 ? "S" : "s");
    rvr_match_has(m, broken == 4 ? "zz" : "h");
    rvr_match_pred(m, "n", broken == 5 ? vfalse : vtrue, NULL);
    rvr_match_fn(m, broken == 6 ? never : always, NULL);
    CU_ASSERT_EQUAL(rvr_match_status(m), RVR_OK);
    return m;
}

static void test_conjunction(void)
{
    rvr_packet *p = rvr_packet_new("conj");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_i64(p, "n", 7);
    rvr_packet_set_str(p, "s", "s");
    rvr_packet_set_bool(p, "h", false);
    rvr_packet *got = via_self(p);
    const rvr_uuid *me = rvr_self(vmtest_self);

    rvr_match *all = conj_match(me, -1);
    CU_ASSERT_TRUE(t(all, got));
    rvr_match_free(all);
    for (int k = 0; k <= 6; k++) {
        rvr_match *m = conj_match(me, k);
        CU_ASSERT_FALSE(t(m, got));
        rvr_match_free(m);
    }

    /* Two eq constraints on the same attribute with different values: never. */
    NEW_MATCH(m2);
    rvr_match_eq_i64(m2, "n", 7);
    rvr_match_eq_i64(m2, "n", 8);
    CU_ASSERT_FALSE(t(m2, got));
    rvr_match_free(m2);
    /* ... with equal values (7 and 7u): fine. */
    NEW_MATCH(m3);
    rvr_match_eq_i64(m3, "n", 7);
    rvr_match_eq_u64(m3, "n", 7);
    CU_ASSERT_TRUE(t(m3, got));
    rvr_match_free(m3);
    rvr_packet_free(got);
}

/* Tag and src are single constraints: the second call replaces the first. */
static void test_tag_src_replaced(void)
{
    rvr_uuid hid;
    rvr_packet *from_h = from_helper(&hid);   /* tag "from-helper" */
    rvr_packet *p = rvr_packet_new("mine");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet *mine = via_self(p);
    const rvr_uuid *me = rvr_self(vmtest_self);

    NEW_MATCH(m);
    CU_ASSERT_EQUAL(rvr_match_tag(m, "mine"), RVR_OK);
    CU_ASSERT_TRUE(t(m, mine));
    CU_ASSERT_EQUAL(rvr_match_tag(m, "from-helper"), RVR_OK);
    CU_ASSERT_FALSE(t(m, mine));
    CU_ASSERT_TRUE(t(m, from_h));
    rvr_match_free(m);

    NEW_MATCH(m2);
    CU_ASSERT_EQUAL(rvr_match_src(m2, me), RVR_OK);
    CU_ASSERT_TRUE(t(m2, mine));
    CU_ASSERT_EQUAL(rvr_match_src(m2, &hid), RVR_OK);
    CU_ASSERT_FALSE(t(m2, mine));
    CU_ASSERT_TRUE(t(m2, from_h));
    CU_ASSERT_EQUAL(rvr_match_src(m2, me), RVR_OK);
    CU_ASSERT_TRUE(t(m2, mine));
    CU_ASSERT_FALSE(t(m2, from_h));
    rvr_match_free(m2);

    /* eq is not a single constraint: a second eq adds to the first. */
    NEW_MATCH(m3);
    rvr_match_eq_i64(m3, "x", 1);
    CU_ASSERT_TRUE(t(m3, from_h));
    rvr_match_eq_str(m3, "name", "helper");
    CU_ASSERT_TRUE(t(m3, from_h));
    rvr_match_eq_i64(m3, "x", 2);
    CU_ASSERT_FALSE(t(m3, from_h));
    rvr_match_free(m3);
    rvr_packet_free(mine);
    rvr_packet_free(from_h);
}

/* Builder errors: each one is reported, marks the match broken (sticky,
 * the first error wins), and a receive with it returns the error. */
static void test_broken_builders(void)
{
    char toolong[RVR_MAX_NAME + 2];
    memset(toolong, 'n', RVR_MAX_NAME + 1);
    toolong[RVR_MAX_NAME + 1] = '\0';
    char maxname[RVR_MAX_NAME + 1];
    memset(maxname, 'n', RVR_MAX_NAME);
    maxname[RVR_MAX_NAME] = '\0';
    rvr_uuid u = rvr_uuid_generate();
    rvr_value none = { .type = RVR_T_NONE };
    rvr_value one = rvr_value_i64(1);

    /* A name of exactly RVR_MAX_NAME bytes is fine. */
    NEW_MATCH(ok);
    CU_ASSERT_EQUAL(rvr_match_has(ok, maxname), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_eq_i64(ok, maxname, 1), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_status(ok), RVR_OK);
    rvr_match_free(ok);

    for (int k = 0; k < 15; k++) {
        rvr_match *m = rvr_match_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rvr_status st;
        switch (k) {
        case 0:  st = rvr_match_eq_i64(m, "", 1); break;
        case 1:  st = rvr_match_eq_i64(m, NULL, 1); break;
        case 2:  st = rvr_match_eq_str(m, toolong, "x"); break;
        case 3:  st = rvr_match_has(m, ""); break;
        case 4:  st = rvr_match_has(m, toolong); break;
        case 5:  st = rvr_match_tag(m, ""); break;
        case 6:  st = rvr_match_tag(m, NULL); break;
        case 7:  st = rvr_match_tag(m, toolong); break;
        case 8:  st = rvr_match_src(m, NULL); break;
        case 9:  st = rvr_match_eq(m, "x", NULL); break;
        case 10: st = rvr_match_eq(m, "x", &none); break;
        case 11: st = rvr_match_pred(m, "x", NULL, NULL); break;
        case 12: st = rvr_match_fn(m, NULL, NULL); break;
        case 13: st = rvr_match_eq_uuid(m, "x", NULL); break;
        default: st = rvr_match_eq(m, "", &one); break;
        }
        CU_ASSERT_EQUAL(st, RVR_EINVAL);
        CU_ASSERT_EQUAL(rvr_match_status(m), RVR_EINVAL);
        /* Sticky: later good calls succeed but do not repair the match. */
        CU_ASSERT_EQUAL(rvr_match_has(m, "fine"), RVR_OK);
        CU_ASSERT_EQUAL(rvr_match_tag(m, "fine"), RVR_OK);
        CU_ASSERT_EQUAL(rvr_match_src(m, &u), RVR_OK);
        CU_ASSERT_EQUAL(rvr_match_status(m), RVR_EINVAL);
        rvr_match_free(m);
    }
    /* NULL match handle: EINVAL, no crash. */
    CU_ASSERT_EQUAL(rvr_match_tag(NULL, "x"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_match_eq_i64(NULL, "x", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_match_has(NULL, "x"), RVR_EINVAL);
    CU_ASSERT_NOT_EQUAL(rvr_match_status(NULL), RVR_OK);
}

static void test_broken_recv(void)
{
    rvr_vr *self = vmtest_self;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    rvr_packet *p = rvr_packet_new("queued");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_set_i64(p, "x", 1);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), p), RVR_OK);

    NEW_MATCH(m);
    /* The match would accept the queued packet but for the bad constraint. */
    CU_ASSERT_EQUAL(rvr_match_tag(m, "queued"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_eq_i64(m, "", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_match_eq_i64(m, "x", 1), RVR_OK);
    CU_ASSERT_EQUAL(rvr_match_status(m), RVR_EINVAL);
    rvr_packet *out = NULL;
    CU_ASSERT_EQUAL(rvr_recv(self, m, 0, &out), RVR_EINVAL);
    CU_ASSERT_PTR_NULL(out);
    /* Returned at once, not after a timeout expired or a message arrived. */
    CU_ASSERT_EQUAL(rvr_recv(self, m, 200, &out), RVR_EINVAL);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_EQUAL(rvr_peek(self, m, 200, &out), RVR_EINVAL);
    CU_ASSERT_PTR_NULL(out);
    /* The queued packet is untouched and takeable by a good match. */
    CU_ASSERT_EQUAL(rvr_pending(self), 1);
    rvr_match *good = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(good);
    rvr_match_tag(good, "queued");
    rvr_match_eq_i64(good, "x", 1);
    CU_ASSERT_EQUAL(rvr_recv(self, good, 0, &out), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL(out);
    rvr_packet_free(out);
    rvr_match_free(good);
    rvr_match_free(m);
    CU_ASSERT_EQUAL(rvr_pending(self), 0);
}

static void register_suites(void)
{
    static const CU_TestInfo tests[] = {
        { "null and empty match", test_null_and_empty_match },
        { "eq: every scalar type (typed builders)", test_eq_scalars_typed },
        { "eq: every scalar type (rvr_value builder)", test_eq_scalars_generic },
        { "eq: int/uint cross-equality", test_eq_int_uint_cross },
        { "eq: nested lists and maps", test_eq_nested },
        { "builders copy names and values", test_builder_copies },
        { "has (wildcard)", test_has },
        { "pred callbacks", test_pred },
        { "fn callbacks", test_fn },
        { "a packet that does not match is asked once per receive", test_asked_once },
        { "tag", test_tag },
        { "src", test_src },
        { "conjunctions", test_conjunction },
        { "tag/src replaced by a second call", test_tag_src_replaced },
        { "broken builders are sticky", test_broken_builders },
        { "rvr_recv/peek return a broken match's error", test_broken_recv },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("match", tests);
}

int main(int argc, char **argv)
{
    return vmtest_main(argc, argv, register_suites);
}
