/* test_value.c — dynamic values, lists and maps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/value.h>

#include "cutest.h"
#include "value_impl.h"

/* A list nested `depth` levels deep (rvr_value_depth == depth, depth >= 1). */
static rvr_value nested_list(unsigned depth)
{
    rvr_list *l = rvr_list_new();
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(rvr_list_append_i64(l, depth), RVR_OK);
    rvr_value v = rvr_value_list(l);
    for (unsigned d = 1; d < depth; d++) {
        rvr_list *outer = rvr_list_new();
        CU_ASSERT_FATAL(outer != NULL);
        CU_ASSERT_FATAL(rvr_list_append(outer, &v) == RVR_OK);
        v = rvr_value_list(outer);
    }
    return v;
}

/* Same with maps: each level holds its child under "k". */
static rvr_value nested_map(unsigned depth)
{
    rvr_map *m = rvr_map_new();
    CU_ASSERT_FATAL(m != NULL);
    rvr_value leaf = rvr_value_bool(true);
    CU_ASSERT_EQUAL(rvr_map_set(m, "leaf", &leaf), RVR_OK);
    rvr_value v = rvr_value_map(m);
    for (unsigned d = 1; d < depth; d++) {
        rvr_map *outer = rvr_map_new();
        CU_ASSERT_FATAL(outer != NULL);
        CU_ASSERT_FATAL(rvr_map_set(outer, "k", &v) == RVR_OK);
        v = rvr_value_map(outer);
    }
    return v;
}

static void keyname(char *buf, size_t n, unsigned i)
{
    snprintf(buf, n, "key-%u", i);
}

/* ---- scalars and strings ----------------------------------------------------- */

static void test_type_names(void)
{
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_NONE), "none");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_BOOL), "bool");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_INT), "int");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_UINT), "uint");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_DOUBLE), "double");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_STRING), "string");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_BYTES), "bytes");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_UUID), "uuid");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_LIST), "list");
    CU_ASSERT_STRING_EQUAL(rvr_type_name(RVR_T_MAP), "map");
    CU_ASSERT_PTR_NOT_NULL(rvr_type_name((rvr_type)99));
}

static void test_scalars(void)
{
    rvr_value v = rvr_value_bool(true);
    CU_ASSERT_EQUAL(v.type, RVR_T_BOOL);
    CU_ASSERT_TRUE(v.as.b);
    v = rvr_value_i64(INT64_MIN);
    CU_ASSERT_EQUAL(v.type, RVR_T_INT);
    CU_ASSERT_EQUAL(v.as.i, INT64_MIN);
    v = rvr_value_u64(UINT64_MAX);
    CU_ASSERT_EQUAL(v.type, RVR_T_UINT);
    CU_ASSERT_EQUAL(v.as.u, UINT64_MAX);
    v = rvr_value_f64(2.5);
    CU_ASSERT_EQUAL(v.type, RVR_T_DOUBLE);
    CU_ASSERT_DOUBLE_EQUAL(v.as.d, 2.5, 0);
    rvr_uuid u = rvr_uuid_generate();
    v = rvr_value_uuid(&u);
    CU_ASSERT_EQUAL(v.type, RVR_T_UUID);
    CU_ASSERT_TRUE(rvr_uuid_eq(&v.as.uuid, &u));
    CU_ASSERT_EQUAL(rvr_value_depth(&v), 0);
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    rvr_value_clear(NULL);
    /* Wrapping NULL containers gives NONE, never a dangling list/map value. */
    CU_ASSERT_EQUAL(rvr_value_list(NULL).type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_map(NULL).type, RVR_T_NONE);
}

static void test_strings(void)
{
    rvr_value v;
    CU_ASSERT_EQUAL(rvr_value_str(&v, "héllo"), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_STRING);
    CU_ASSERT_EQUAL(v.as.str.len, strlen("héllo"));
    CU_ASSERT_STRING_EQUAL(v.as.str.ptr, "héllo");
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);

    CU_ASSERT_EQUAL(rvr_value_str(&v, ""), RVR_OK);
    CU_ASSERT_EQUAL(v.as.str.len, 0);
    CU_ASSERT_STRING_EQUAL(v.as.str.ptr, "");
    rvr_value_clear(&v);

    /* strn copies exactly len bytes and terminates them. */
    CU_ASSERT_EQUAL(rvr_value_strn(&v, "abcdef", 3), RVR_OK);
    CU_ASSERT_EQUAL(v.as.str.len, 3);
    CU_ASSERT_STRING_EQUAL(v.as.str.ptr, "abc");
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(rvr_value_strn(&v, NULL, 0), RVR_OK);
    CU_ASSERT_STRING_EQUAL(v.as.str.ptr, "");
    rvr_value_clear(&v);

    /* Embedded NUL, NULL input: refused, out left NONE. */
    v = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_value_strn(&v, "ab\0cd", 5), RVR_EINVAL);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_str(&v, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_strn(&v, NULL, 4), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_value_str(NULL, "x"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_value_strn(NULL, "x", 1), RVR_EINVAL);
    /* Past the size limit: refused before the input is read. */
    CU_ASSERT_EQUAL(rvr_value_strn(&v, "x", RVR_MAX_VALUE_SIZE + 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
}

static void test_bytes(void)
{
    rvr_value v;
    const uint8_t raw[] = { 0, 1, 0, 255, 0 };
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, raw, sizeof raw), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_BYTES);
    CU_ASSERT_EQUAL(v.as.bytes.len, sizeof raw);
    CU_ASSERT_EQUAL(memcmp(v.as.bytes.ptr, raw, sizeof raw), 0);
    CU_ASSERT_PTR_NOT_EQUAL(v.as.bytes.ptr, raw);  /* copied */
    rvr_value_clear(&v);

    CU_ASSERT_EQUAL(rvr_value_bytes(&v, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(v.as.bytes.len, 0);
    CU_ASSERT_PTR_NOT_NULL(v.as.bytes.ptr);
    rvr_value_clear(&v);

    CU_ASSERT_EQUAL(rvr_value_bytes(&v, NULL, 3), RVR_EINVAL);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_bytes(NULL, raw, 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, raw, RVR_MAX_VALUE_SIZE + 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
}

static void test_large_bytes(void)
{
    size_t n = (size_t)6 << 20;  /* 6 MiB, every 7th byte NUL */
    uint8_t *buf = malloc(n);
    CU_ASSERT_FATAL(buf != NULL);
    for (size_t i = 0; i < n; i++)
        buf[i] = i % 7 == 0 ? 0 : (uint8_t)(i * 31);
    rvr_value v, c;
    CU_ASSERT_EQUAL_FATAL(rvr_value_bytes(&v, buf, n), RVR_OK);
    CU_ASSERT_EQUAL(v.as.bytes.len, n);
    CU_ASSERT_EQUAL(memcmp(v.as.bytes.ptr, buf, n), 0);
    CU_ASSERT_EQUAL_FATAL(rvr_value_copy(&c, &v), RVR_OK);
    CU_ASSERT_TRUE(rvr_value_equal(&v, &c));
    c.as.bytes.ptr[n - 1] ^= 1;
    CU_ASSERT_FALSE(rvr_value_equal(&v, &c));
    rvr_value_clear(&c);

    /* A several-MiB string survives the NUL scan too. */
    memset(buf, 'x', n);
    CU_ASSERT_EQUAL(rvr_value_strn(&c, (const char *)buf, n), RVR_OK);
    CU_ASSERT_EQUAL(c.as.str.len, n);
    CU_ASSERT_EQUAL(c.as.str.ptr[n], '\0');
    rvr_value_clear(&c);
    rvr_value_clear(&v);
    free(buf);
}

/* ---- copy and equality -------------------------------------------------------- */

static void test_copy_every_type(void)
{
    rvr_uuid u = rvr_uuid_generate();
    rvr_value vals[10];
    size_t n = 0;
    vals[n++] = rvr_value_bool(false);
    vals[n++] = rvr_value_i64(-42);
    vals[n++] = rvr_value_u64(42);
    vals[n++] = rvr_value_f64(-0.125);
    vals[n++] = rvr_value_uuid(&u);
    CU_ASSERT_EQUAL(rvr_value_str(&vals[n++], "text"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_bytes(&vals[n++], "\0\1\2", 3), RVR_OK);
    vals[n++] = nested_list(3);
    vals[n++] = nested_map(3);
    for (size_t i = 0; i < n; i++) {
        rvr_value c;
        CU_ASSERT_EQUAL(rvr_value_copy(&c, &vals[i]), RVR_OK);
        CU_ASSERT_EQUAL(c.type, vals[i].type);
        CU_ASSERT_TRUE(rvr_value_equal(&c, &vals[i]));
        CU_ASSERT_TRUE(rvr_value_equal(&vals[i], &c));
        CU_ASSERT_EQUAL(rvr_value_depth(&c), rvr_value_depth(&vals[i]));
        for (size_t j = 0; j < n; j++)
            if (j != i && !(vals[i].type == RVR_T_INT && vals[j].type == RVR_T_UINT))
                CU_ASSERT_FALSE(rvr_value_equal(&c, &vals[j]));
        rvr_value_clear(&c);
    }
    /* Deep copy: the copy of a string owns its own buffer. */
    rvr_value c;
    CU_ASSERT_EQUAL(rvr_value_copy(&c, &vals[5]), RVR_OK);
    CU_ASSERT_PTR_NOT_EQUAL(c.as.str.ptr, vals[5].as.str.ptr);
    rvr_value_clear(&c);
    rvr_value none = { .type = RVR_T_NONE };
    CU_ASSERT_EQUAL(rvr_value_copy(&c, &none), RVR_OK);
    CU_ASSERT_EQUAL(c.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_copy(NULL, &none), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_value_copy(&c, NULL), RVR_EINVAL);
    for (size_t i = 0; i < n; i++)
        rvr_value_clear(&vals[i]);
}

static void test_equal_numbers(void)
{
    rvr_value a = rvr_value_i64(5), b = rvr_value_u64(5);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    CU_ASSERT_TRUE(rvr_value_equal(&b, &a));
    a = rvr_value_i64(-1);
    b = rvr_value_u64(UINT64_MAX);  /* same bits, different number */
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));
    CU_ASSERT_FALSE(rvr_value_equal(&b, &a));
    a = rvr_value_i64(INT64_MAX);
    b = rvr_value_u64((uint64_t)INT64_MAX);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    b = rvr_value_u64((uint64_t)INT64_MAX + 1);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));

    /* Doubles only equal doubles; NaN equals nothing, not even itself. */
    a = rvr_value_i64(1);
    b = rvr_value_f64(1.0);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));
    a = rvr_value_f64(NAN);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &a));
    b = rvr_value_f64(NAN);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));
    a = rvr_value_f64(0.0);
    b = rvr_value_f64(-0.0);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    a = rvr_value_bool(true);
    b = rvr_value_i64(1);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));
    CU_ASSERT_FALSE(rvr_value_equal(&a, NULL));
    CU_ASSERT_FALSE(rvr_value_equal(NULL, NULL));
}

static void test_equal_strings_bytes(void)
{
    rvr_value a, b;
    CU_ASSERT_EQUAL(rvr_value_str(&a, "abc"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_bytes(&b, "abc", 3), RVR_OK);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));  /* string is not bytes */
    rvr_value_clear(&b);
    CU_ASSERT_EQUAL(rvr_value_str(&b, "abcd"), RVR_OK);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &b));
    rvr_value_clear(&b);
    CU_ASSERT_EQUAL(rvr_value_strn(&b, "abcd", 3), RVR_OK);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    rvr_value_clear(&a);
    rvr_value_clear(&b);
    CU_ASSERT_EQUAL(rvr_value_bytes(&a, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_bytes(&b, "", 0), RVR_OK);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    rvr_value_clear(&a);
    rvr_value_clear(&b);
}

static void test_equal_nested(void)
{
    rvr_value a = nested_list(5), b = nested_list(5), c = nested_list(4);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    CU_ASSERT_FALSE(rvr_value_equal(&a, &c));
    rvr_value_clear(&a);
    rvr_value_clear(&b);
    rvr_value_clear(&c);
    a = nested_map(6);
    b = nested_map(6);
    CU_ASSERT_TRUE(rvr_value_equal(&a, &b));
    c = nested_list(6);
    CU_ASSERT_FALSE(rvr_value_equal(&a, &c));
    rvr_value_clear(&a);
    rvr_value_clear(&b);
    rvr_value_clear(&c);

    /* Lists are ordered. */
    rvr_list *l1 = rvr_list_new(), *l2 = rvr_list_new();
    rvr_list_append_i64(l1, 1);
    rvr_list_append_i64(l1, 2);
    rvr_list_append_u64(l2, 2);
    rvr_list_append_u64(l2, 1);
    CU_ASSERT_FALSE(rvr_list_equal(l1, l2));
    rvr_list *l3 = rvr_list_new();
    rvr_list_append_u64(l3, 1);
    rvr_list_append_u64(l3, 2);
    CU_ASSERT_TRUE(rvr_list_equal(l1, l3));  /* int/uint inside lists too */
    rvr_list_append_f64(l3, NAN);
    rvr_list *l4 = rvr_list_copy(l3);
    CU_ASSERT_FALSE(rvr_list_equal(l3, l4));  /* NaN inside: never equal */
    CU_ASSERT_FALSE(rvr_list_equal(l1, NULL));
    rvr_list_free(l1);
    rvr_list_free(l2);
    rvr_list_free(l3);
    rvr_list_free(l4);
}

static void test_map_equal_any_order(void)
{
    char k[32];
    /* Both a small (linear) and a large (indexed) size. */
    for (unsigned n = 3; n <= 300; n += 297) {
        rvr_map *a = rvr_map_new(), *b = rvr_map_new();
        for (unsigned i = 0; i < n; i++) {
            rvr_value v = rvr_value_i64(i);
            keyname(k, sizeof k, i);
            CU_ASSERT_EQUAL(rvr_map_set(a, k, &v), RVR_OK);
            v = rvr_value_u64(n - 1 - i);
            keyname(k, sizeof k, n - 1 - i);
            CU_ASSERT_EQUAL(rvr_map_set(b, k, &v), RVR_OK);
        }
        CU_ASSERT_TRUE(rvr_map_equal(a, b));
        CU_ASSERT_TRUE(rvr_map_equal(b, a));
        rvr_value v = rvr_value_i64(-1);
        CU_ASSERT_EQUAL(rvr_map_set(b, "key-0", &v), RVR_OK);
        CU_ASSERT_FALSE(rvr_map_equal(a, b));
        v = rvr_value_i64(0);
        CU_ASSERT_EQUAL(rvr_map_set(b, "key-0", &v), RVR_OK);
        CU_ASSERT_TRUE(rvr_map_equal(a, b));
        v = rvr_value_i64(0);
        CU_ASSERT_EQUAL(rvr_map_set(b, "extra", &v), RVR_OK);
        CU_ASSERT_FALSE(rvr_map_equal(a, b));
        CU_ASSERT_EQUAL(rvr_map_remove(b, "extra"), RVR_OK);
        CU_ASSERT_TRUE(rvr_map_equal(a, b));
        /* Same size, one different key. */
        CU_ASSERT_EQUAL(rvr_map_remove(b, "key-1"), RVR_OK);
        v = rvr_value_i64(1);
        CU_ASSERT_EQUAL(rvr_map_set(b, "key-1x", &v), RVR_OK);
        CU_ASSERT_FALSE(rvr_map_equal(a, b));
        CU_ASSERT_FALSE(rvr_map_equal(a, NULL));
        rvr_map_free(a);
        rvr_map_free(b);
    }
}

/* ---- depth ---------------------------------------------------------------------- */

static void test_depth_lists(void)
{
    rvr_value v = nested_list(RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_value_depth(&v), RVR_MAX_DEPTH);
    rvr_value c;
    CU_ASSERT_EQUAL(rvr_value_copy(&c, &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_depth(&c), RVR_MAX_DEPTH);
    rvr_value_clear(&c);

    /* One more level is refused; the value stays the caller's. */
    rvr_list *outer = rvr_list_new();
    rvr_list *inner = v.as.list;
    CU_ASSERT_EQUAL(rvr_list_append(outer, &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_LIST);
    CU_ASSERT_PTR_EQUAL(v.as.list, inner);
    CU_ASSERT_EQUAL(rvr_list_len(outer), 0);
    rvr_map *m = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_map_set(m, "deep", &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_LIST);
    CU_ASSERT_EQUAL(rvr_map_len(m), 0);
    CU_ASSERT_EQUAL(rvr_map_depth(m), 1);
    rvr_value_clear(&v);

    /* RVR_MAX_DEPTH - 1 fits in a list, making it exactly RVR_MAX_DEPTH. */
    v = nested_list(RVR_MAX_DEPTH - 1);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &v), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    rvr_value o = rvr_value_list(outer);
    CU_ASSERT_EQUAL(rvr_value_depth(&o), RVR_MAX_DEPTH);
    rvr_value_clear(&o);
    rvr_map_free(m);

    /* Empty containers are depth 1. */
    o = rvr_value_list(rvr_list_new());
    CU_ASSERT_EQUAL(rvr_value_depth(&o), 1);
    rvr_value_clear(&o);
    o = rvr_value_map(rvr_map_new());
    CU_ASSERT_EQUAL(rvr_value_depth(&o), 1);
    rvr_value_clear(&o);
    CU_ASSERT_EQUAL(rvr_value_depth(NULL), 0);
}

static void test_depth_maps(void)
{
    rvr_value v = nested_map(RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_value_depth(&v), RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_map_depth(v.as.map), RVR_MAX_DEPTH);
    rvr_map *outer = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_map_set(outer, "k", &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_MAP);
    rvr_list *l = rvr_list_new();
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_MAP);
    rvr_value_clear(&v);
    rvr_list_free(l);

    /* Mixed: map of list of map ... */
    rvr_value x = nested_list(RVR_MAX_DEPTH - 2);
    rvr_map *mid = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_map_set(mid, "l", &x), RVR_OK);
    x = rvr_value_map(mid);
    CU_ASSERT_EQUAL(rvr_value_depth(&x), RVR_MAX_DEPTH - 1);
    CU_ASSERT_EQUAL(rvr_map_set(outer, "m", &x), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(outer), RVR_MAX_DEPTH);

    /* Removing or replacing the deepest value lowers the depth again. */
    x = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_map_set(outer, "s", &x), RVR_OK);
    x = nested_list(2);
    CU_ASSERT_EQUAL(rvr_map_set(outer, "l2", &x), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(outer), RVR_MAX_DEPTH);
    x = rvr_value_i64(2);
    CU_ASSERT_EQUAL(rvr_map_set(outer, "m", &x), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(outer), 3);
    CU_ASSERT_EQUAL(rvr_map_remove(outer, "l2"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(outer), 1);
    /* ... so a value that was too deep before now fits. */
    x = nested_map(RVR_MAX_DEPTH - 1);
    CU_ASSERT_EQUAL(rvr_map_set(outer, "again", &x), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(outer), RVR_MAX_DEPTH);
    rvr_map_free(outer);
}

/* ---- lists ---------------------------------------------------------------------- */

static void test_lists(void)
{
    rvr_list *l = rvr_list_new();
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(rvr_list_len(l), 0);
    CU_ASSERT_PTR_NULL(rvr_list_get(l, 0));
    CU_ASSERT_EQUAL(rvr_list_append_i64(l, -7), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_u64(l, 7), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_f64(l, 0.5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_bool(l, true), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_str(l, "s"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append_str(l, NULL), RVR_EINVAL);
    rvr_value v;
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, "\0b", 2), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_list_len(l), 6);
    CU_ASSERT_EQUAL(rvr_list_get(l, 0)->as.i, -7);
    CU_ASSERT_EQUAL(rvr_list_get(l, 1)->as.u, 7);
    CU_ASSERT_DOUBLE_EQUAL(rvr_list_get(l, 2)->as.d, 0.5, 0);
    CU_ASSERT_TRUE(rvr_list_get(l, 3)->as.b);
    CU_ASSERT_STRING_EQUAL(rvr_list_get(l, 4)->as.str.ptr, "s");
    CU_ASSERT_EQUAL(rvr_list_get(l, 5)->type, RVR_T_BYTES);
    CU_ASSERT_PTR_NULL(rvr_list_get(l, 6));
    CU_ASSERT_PTR_NULL(rvr_list_get(NULL, 0));
    CU_ASSERT_EQUAL(rvr_list_len(NULL), 0);

    /* Bad input: NULL, NONE, an unknown type, the list inside itself. */
    CU_ASSERT_EQUAL(rvr_list_append(NULL, &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_list_append(l, NULL), RVR_EINVAL);
    v.type = RVR_T_NONE;
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_EINVAL);
    v.type = (rvr_type)77;
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_EINVAL);
    v = rvr_value_list(l);
    CU_ASSERT_EQUAL(rvr_list_append(l, &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_list_append_i64(NULL, 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_list_len(l), 6);

    /* Many elements, then an independent copy. */
    for (int i = 0; i < 10000; i++)
        CU_ASSERT_EQUAL(rvr_list_append_i64(l, i), RVR_OK);
    rvr_list *c = rvr_list_copy(l);
    CU_ASSERT_TRUE(rvr_list_equal(l, c));
    CU_ASSERT_EQUAL(rvr_list_append_i64(c, 1), RVR_OK);
    CU_ASSERT_FALSE(rvr_list_equal(l, c));
    CU_ASSERT_EQUAL(rvr_list_len(l), 10006);
    CU_ASSERT_EQUAL(rvr_list_get(l, 10005)->as.i, 9999);
    CU_ASSERT_PTR_NULL(rvr_list_copy(NULL));
    rvr_list_free(c);
    rvr_list_free(l);
    rvr_list_free(NULL);
}

/* ---- maps ----------------------------------------------------------------------- */

static void test_map_basic(void)
{
    rvr_map *m = rvr_map_new();
    CU_ASSERT_FATAL(m != NULL);
    rvr_value v = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_map_set(m, "a", &v), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_value_str(&v, "two"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_set(m, "b", &v), RVR_OK);
    v = rvr_value_bool(false);
    CU_ASSERT_EQUAL(rvr_map_set(m, "c", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_len(m), 3);
    CU_ASSERT_EQUAL(rvr_map_get(m, "a")->as.i, 1);
    CU_ASSERT_STRING_EQUAL(rvr_map_get(m, "b")->as.str.ptr, "two");
    CU_ASSERT_PTR_NULL(rvr_map_get(m, "d"));
    CU_ASSERT_PTR_NULL(rvr_map_get(m, NULL));
    CU_ASSERT_PTR_NULL(rvr_map_get(NULL, "a"));

    /* Replacing keeps the position and frees the old (string) value. */
    v = rvr_value_u64(2);
    CU_ASSERT_EQUAL(rvr_map_set(m, "b", &v), RVR_OK);
    const char *k;
    const rvr_value *val;
    CU_ASSERT_EQUAL(rvr_map_at(m, 1, &k, &val), RVR_OK);
    CU_ASSERT_STRING_EQUAL(k, "b");
    CU_ASSERT_EQUAL(val->type, RVR_T_UINT);
    CU_ASSERT_EQUAL(rvr_map_len(m), 3);
    CU_ASSERT_EQUAL(rvr_map_at(m, 3, &k, &val), RVR_ERANGE);
    CU_ASSERT_EQUAL(rvr_map_at(m, 0, NULL, NULL), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_at(NULL, 0, &k, &val), RVR_EINVAL);

    /* Removal keeps the order of the rest. */
    CU_ASSERT_EQUAL(rvr_map_remove(m, "a"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_remove(m, "a"), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_map_remove(m, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_map_remove(NULL, "a"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_map_at(m, 0, &k, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(k, "b");
    CU_ASSERT_EQUAL(rvr_map_at(m, 1, &k, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(k, "c");
    v = rvr_value_i64(9);
    CU_ASSERT_EQUAL(rvr_map_set(m, "a", &v), RVR_OK);  /* re-added at the end */
    CU_ASSERT_EQUAL(rvr_map_at(m, 2, &k, &val), RVR_OK);
    CU_ASSERT_STRING_EQUAL(k, "a");
    CU_ASSERT_EQUAL(val->as.i, 9);

    /* Bad values and self-insertion are refused, map unchanged. */
    CU_ASSERT_EQUAL(rvr_map_set(m, "x", NULL), RVR_EINVAL);
    rvr_value none = { .type = RVR_T_NONE };
    CU_ASSERT_EQUAL(rvr_map_set(m, "x", &none), RVR_EINVAL);
    v = rvr_value_map(m);
    CU_ASSERT_EQUAL(rvr_map_set(m, "x", &v), RVR_EINVAL);
    v = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_map_set(NULL, "x", &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_map_len(m), 3);
    CU_ASSERT_EQUAL(rvr_map_len(NULL), 0);
    CU_ASSERT_EQUAL(rvr_map_depth(NULL), 0);
    CU_ASSERT_PTR_NULL(rvr_map_copy(NULL));
    rvr_map_free(m);
    rvr_map_free(NULL);
}

static void test_map_names(void)
{
    rvr_map *m = rvr_map_new();
    char name[RVR_MAX_NAME + 2];
    memset(name, 'n', sizeof name);
    name[RVR_MAX_NAME] = '\0';  /* exactly the limit */
    rvr_value v = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_map_set(m, name, &v), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL(rvr_map_get(m, name));
    name[RVR_MAX_NAME] = 'n';
    name[RVR_MAX_NAME + 1] = '\0';  /* one past */
    v = rvr_value_i64(2);
    CU_ASSERT_EQUAL(rvr_map_set(m, name, &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_INT);
    CU_ASSERT_PTR_NULL(rvr_map_get(m, name));
    CU_ASSERT_EQUAL(rvr_map_remove(m, name), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_map_set(m, "", &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_map_set(m, NULL, &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_map_len(m), 1);

    CU_ASSERT_EQUAL(rvr_name_check("ok"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_name_check(""), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_name_check(NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_name_check(name), RVR_ELIMIT);
    /* Keys are bytes: UTF-8 and punctuation are fine, case matters. */
    v = rvr_value_i64(3);
    CU_ASSERT_EQUAL(rvr_map_set(m, "ключ.x-1", &v), RVR_OK);
    v = rvr_value_i64(4);
    CU_ASSERT_EQUAL(rvr_map_set(m, "K", &v), RVR_OK);
    v = rvr_value_i64(5);
    CU_ASSERT_EQUAL(rvr_map_set(m, "k", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_len(m), 4);
    CU_ASSERT_EQUAL(rvr_map_get(m, "K")->as.i, 4);
    rvr_map_free(m);
}

/* Checks that m holds exactly the keys i in [0, n) with present[i], in
 * increasing i order, each mapping to i, and that every lookup agrees. */
static void check_map(const rvr_map *m, const bool *present, unsigned n)
{
    char k[32];
    size_t pos = 0;
    for (unsigned i = 0; i < n; i++) {
        keyname(k, sizeof k, i);
        const rvr_value *v = rvr_map_get(m, k);
        if (!present[i]) {
            CU_ASSERT_PTR_NULL(v);
            continue;
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        CU_ASSERT_EQUAL(v->as.i, (int64_t)i);
        const char *key;
        const rvr_value *val;
        CU_ASSERT_EQUAL_FATAL(rvr_map_at(m, pos, &key, &val), RVR_OK);
        CU_ASSERT_STRING_EQUAL(key, k);
        CU_ASSERT_PTR_EQUAL(val, v);
        pos++;
    }
    CU_ASSERT_EQUAL(rvr_map_len(m), pos);
}

static void test_map_large_remove(void)
{
    enum { N = 3000 };
    static bool present[N];
    rvr_map *m = rvr_map_new();
    char k[32];
    for (unsigned i = 0; i < N; i++) {
        rvr_value v = rvr_value_i64(i);
        keyname(k, sizeof k, i);
        CU_ASSERT_EQUAL(rvr_map_set(m, k, &v), RVR_OK);
        present[i] = true;
    }
    check_map(m, present, N);
    /* Remove every third key, from the back, the front and the middle. */
    for (unsigned i = 0; i < N; i += 3) {
        keyname(k, sizeof k, i);
        CU_ASSERT_EQUAL(rvr_map_remove(m, k), RVR_OK);
        present[i] = false;
    }
    CU_ASSERT_EQUAL(rvr_map_remove(m, "key-0"), RVR_ENOATTR);
    check_map(m, present, N);
    rvr_map *c = rvr_map_copy(m);
    CU_ASSERT_TRUE(rvr_map_equal(m, c));
    check_map(c, present, N);

    /* Re-adding goes to the end of the order. */
    for (unsigned i = 0; i < N; i += 3) {
        rvr_value v = rvr_value_i64(i);
        keyname(k, sizeof k, i);
        CU_ASSERT_EQUAL(rvr_map_set(m, k, &v), RVR_OK);
    }
    CU_ASSERT_EQUAL(rvr_map_len(m), N);
    const char *key;
    CU_ASSERT_EQUAL(rvr_map_at(m, N - 1, &key, NULL), RVR_OK);
    keyname(k, sizeof k, N - 1 - (N - 1) % 3);
    CU_ASSERT_STRING_EQUAL(key, k);
    CU_ASSERT_TRUE(rvr_map_equal(m, m));
    CU_ASSERT_FALSE(rvr_map_equal(m, c));

    /* Remove down to a small (unindexed) map and check every step's tail. */
    for (unsigned i = 0; i < N - 2; i++) {
        keyname(k, sizeof k, i);
        CU_ASSERT_EQUAL(rvr_map_remove(c, k), present[i] ? RVR_OK : RVR_ENOATTR);
        present[i] = false;
        if (i % 97 == 0 || i > N - 20)
            check_map(c, present, N);
    }
    check_map(c, present, N);
    CU_ASSERT_EQUAL(rvr_map_len(c), 2);
    /* And grow it back past the index threshold. */
    for (unsigned i = 0; i < 50; i++) {
        rvr_value v = rvr_value_i64(i);
        keyname(k, sizeof k, i);
        CU_ASSERT_EQUAL(rvr_map_set(c, k, &v), RVR_OK);
        present[i] = true;
        rvr_value_clear(&v);
    }
    CU_ASSERT_EQUAL(rvr_map_len(c), 52);
    CU_ASSERT_EQUAL(rvr_map_at(c, 0, &key, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(key, "key-2998");
    CU_ASSERT_EQUAL(rvr_map_at(c, 2, &key, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(key, "key-0");
    rvr_map_free(c);
    rvr_map_free(m);
}

/* Random operations against a simple model, to shake out index bugs. */
static void test_map_random(void)
{
    enum { KEYS = 200, OPS = 20000 };
    int64_t model[KEYS];
    unsigned order[KEYS], n = 0;
    bool present[KEYS] = { false };
    rvr_map *m = rvr_map_new();
    char k[32];
    unsigned seed = 12345;
    for (unsigned op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        unsigned key = (seed >> 8) % KEYS;
        keyname(k, sizeof k, key);
        if ((seed >> 20) % 3 == 0) {
            CU_ASSERT_EQUAL(rvr_map_remove(m, k), present[key] ? RVR_OK : RVR_ENOATTR);
            if (present[key]) {
                unsigned j = 0;
                while (order[j] != key)
                    j++;
                memmove(&order[j], &order[j + 1], (n - j - 1) * sizeof order[0]);
                n--;
                present[key] = false;
            }
        } else {
            rvr_value v = rvr_value_i64(op);
            CU_ASSERT_EQUAL(rvr_map_set(m, k, &v), RVR_OK);
            if (!present[key])
                order[n++] = key;
            present[key] = true;
            model[key] = op;
        }
    }
    CU_ASSERT_EQUAL_FATAL(rvr_map_len(m), n);
    for (unsigned j = 0; j < n; j++) {
        const char *key;
        const rvr_value *v;
        CU_ASSERT_EQUAL(rvr_map_at(m, j, &key, &v), RVR_OK);
        keyname(k, sizeof k, order[j]);
        CU_ASSERT_STRING_EQUAL(key, k);
        CU_ASSERT_EQUAL(v->as.i, model[order[j]]);
        CU_ASSERT_PTR_EQUAL(rvr_map_get(m, k), v);
    }
    rvr_map_free(m);
}

static void test_map_limit(void)
{
    rvr_map *m = rvr_map_new();
    char k[32];
    for (unsigned i = 0; i < RVR_MAX_ATTRS; i++) {
        rvr_value v = rvr_value_u64(i);
        keyname(k, sizeof k, i);
        if (rvr_map_set(m, k, &v) != RVR_OK) {
            CU_FAIL("set failed below the limit");
            break;
        }
    }
    CU_ASSERT_EQUAL(rvr_map_len(m), RVR_MAX_ATTRS);
    rvr_value v = rvr_value_i64(0);
    CU_ASSERT_EQUAL(rvr_map_set(m, "one-more", &v), RVR_ELIMIT);
    /* Replacing at the limit is fine; so is adding after a removal. */
    CU_ASSERT_EQUAL(rvr_map_set(m, "key-7", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_remove(m, "key-8"), RVR_OK);
    v = rvr_value_i64(0);
    CU_ASSERT_EQUAL(rvr_map_set(m, "one-more", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_get(m, "key-65534")->as.u, 65534);
    rvr_map *c = rvr_map_copy(m);
    CU_ASSERT_TRUE(rvr_map_equal(c, m));
    rvr_map_free(c);
    rvr_map_free(m);
}

static void test_map_copy_independent(void)
{
    rvr_map *m = rvr_map_new();
    rvr_value v = nested_list(3);
    CU_ASSERT_EQUAL(rvr_map_set(m, "l", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_str(&v, "s"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_set(m, "s", &v), RVR_OK);
    rvr_map *c = rvr_map_copy(m);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_TRUE(rvr_map_equal(m, c));
    CU_ASSERT_EQUAL(rvr_map_depth(c), rvr_map_depth(m));
    CU_ASSERT_PTR_NOT_EQUAL(rvr_map_get(c, "s")->as.str.ptr,
                            rvr_map_get(m, "s")->as.str.ptr);
    CU_ASSERT_EQUAL(rvr_map_remove(c, "l"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_len(m), 2);
    CU_ASSERT_PTR_NOT_NULL(rvr_map_get(m, "l"));
    rvr_map_free(m);
    CU_ASSERT_STRING_EQUAL(rvr_map_get(c, "s")->as.str.ptr, "s");

    /* copy_into an embedded map; a non-empty destination is refused. */
    rvr_map e;
    rvr_map_init(&e);
    CU_ASSERT_EQUAL(rvr_map_copy_into(&e, c), RVR_OK);
    CU_ASSERT_TRUE(rvr_map_equal(&e, c));
    CU_ASSERT_EQUAL(rvr_map_copy_into(&e, c), RVR_EINVAL);
    rvr_map_fini(&e);
    CU_ASSERT_EQUAL(rvr_map_len(&e), 0);
    rvr_map_fini(&e);  /* idempotent */
    rvr_map_free(c);
}

static CU_TestInfo value_tests[] = {
    { "type names", test_type_names },
    { "scalars", test_scalars },
    { "strings", test_strings },
    { "bytes", test_bytes },
    { "large bytes and strings", test_large_bytes },
    { "copy of every type", test_copy_every_type },
    { "equality: numbers", test_equal_numbers },
    { "equality: strings and bytes", test_equal_strings_bytes },
    { "equality: nested", test_equal_nested },
    CU_TEST_INFO_NULL
};

static CU_TestInfo container_tests[] = {
    { "depth: lists", test_depth_lists },
    { "depth: maps", test_depth_maps },
    { "lists", test_lists },
    { "map basics", test_map_basic },
    { "map names", test_map_names },
    { "map equality ignores order", test_map_equal_any_order },
    { "large map removal keeps order and index", test_map_large_remove },
    { "map random operations", test_map_random },
    { "map entry limit", test_map_limit },
    { "map copy is independent", test_map_copy_independent },
    CU_TEST_INFO_NULL
};

int main(void)
{
    cutest_suite("values", value_tests);
    cutest_suite("containers", container_tests);
    return cutest_run();
}
