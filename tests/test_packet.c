/* test_packet.c — dynamic packets (super flexible messaging). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <river/packet.h>

#include "cutest.h"
#include "packet_impl.h"

static rvr_list *nested_list(unsigned depth)  /* rvr_value_depth == depth */
{
    rvr_list *l = rvr_list_new();
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(rvr_list_append_str(l, "leaf"), RVR_OK);
    for (unsigned d = 1; d < depth; d++) {
        rvr_list *outer = rvr_list_new();
        rvr_value v = rvr_value_list(l);
        CU_ASSERT_FATAL(outer != NULL && rvr_list_append(outer, &v) == RVR_OK);
        l = outer;
    }
    return l;
}

static bool links_zero(const rvr_packet *p)
{
    return p->next == NULL && p->prev == NULL && p->tnext == NULL &&
           p->tprev == NULL && p->snext == NULL && p->sprev == NULL && p->seq == 0;
}

/* ---- tags --------------------------------------------------------------------- */

static void test_new_and_tags(void)
{
    rvr_packet *p = rvr_packet_new("work");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "work");
    CU_ASSERT_EQUAL(p->tag_len, 4);
    CU_ASSERT_TRUE(links_zero(p));
    CU_ASSERT_TRUE(rvr_uuid_is_nil(rvr_packet_src(p)));
    CU_ASSERT_EQUAL(rvr_packet_count(p), 0);

    /* Long tags (beyond any inline storage), back to short, aliasing. */
    char tag[RVR_MAX_NAME + 2];
    memset(tag, 't', sizeof tag);
    tag[RVR_MAX_NAME] = '\0';
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, tag), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), tag);
    CU_ASSERT_EQUAL(p->tag_len, RVR_MAX_NAME);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, rvr_packet_tag(p) + 10), RVR_OK);
    CU_ASSERT_EQUAL(p->tag_len, RVR_MAX_NAME - 10);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, "r"), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "r");
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, "result"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, rvr_packet_tag(p) + 2), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "sult");

    /* Bad tags: refused, the old tag stays. */
    tag[RVR_MAX_NAME] = 't';
    tag[RVR_MAX_NAME + 1] = '\0';
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, tag), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, ""), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(p, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(NULL, "x"), RVR_EINVAL);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "sult");
    rvr_packet_free(p);

    /* Either side of the packet's inline room for a tag (and a packet
     * made after each, from the spare just freed): the tag reads back. */
    for (size_t n = 29; n <= 34; n++) {
        char t[40];
        memset(t, (int)('a' + n % 26), n);
        t[n] = '\0';
        rvr_packet *q = rvr_packet_new(t);
        CU_ASSERT_FATAL(q != NULL);
        CU_ASSERT(strcmp(rvr_packet_tag(q), t) == 0 && q->tag_len == n);
        rvr_packet_free(q);
    }

    CU_ASSERT_PTR_NULL(rvr_packet_new(NULL));
    CU_ASSERT_PTR_NULL(rvr_packet_new(""));
    CU_ASSERT_PTR_NULL(rvr_packet_new(tag));
    tag[RVR_MAX_NAME] = '\0';
    p = rvr_packet_new(tag);
    CU_ASSERT_PTR_NOT_NULL(p);
    rvr_packet_free(p);
    rvr_packet_free(NULL);
}

/* Tags and names of every short length (the inline copies, lengths and
 * hashes have separate paths for 1-3, 4-7, 8-16 and longer): each is stored
 * whole, a tag set from inside itself is copied before it is overwritten,
 * and a change of any one byte changes the hash. */
static void test_short_names(void)
{
    char s[48];
    for (size_t n = 1; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + i % 26);
        s[n] = '\0';
        rvr_packet *p = rvr_packet_new(s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), s);
        CU_ASSERT_EQUAL(p->tag_len, n);
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, s, (int64_t)n), RVR_OK);
        int64_t v = 0;
        CU_ASSERT_EQUAL(rvr_packet_get_i64(p, s, &v), RVR_OK);
        CU_ASSERT_EQUAL(v, (int64_t)n);
        if (n > 1) {
            CU_ASSERT_EQUAL(rvr_packet_set_tag(p, rvr_packet_tag(p) + 1), RVR_OK);
            CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), s + 1);
            CU_ASSERT_EQUAL(p->tag_len, n - 1);
        }
        uint32_t h = rvr_hash_bytes(s, n);
        for (size_t i = 0; i < n; i++) {
            s[i] ^= 0x20;
            CU_ASSERT_NOT_EQUAL(rvr_hash_bytes(s, n), h);
            CU_ASSERT_EQUAL(rvr_packet_get_i64(p, s, &v), RVR_ENOATTR);
            s[i] ^= 0x20;
        }
        rvr_packet_free(p);
    }
    /* Key comparison, every length, a difference at every place (hashes
     * rarely let two different keys reach it, so it is tested here). */
    char x[48], y[48];
    for (size_t n = 0; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            x[i] = y[i] = (char)('0' + i);
        CU_ASSERT_TRUE(rvr_key_eq(x, y, n));
        for (size_t i = 0; i < n; i++) {
            y[i] ^= 1;
            CU_ASSERT_FALSE(rvr_key_eq(x, y, n));
            y[i] ^= 1;
        }
    }
}

/* ---- setters and getters ---------------------------------------------------------- */

static void test_every_type(void)
{
    rvr_packet *p = rvr_packet_new("all");
    rvr_uuid u = rvr_uuid_generate();
    CU_ASSERT_EQUAL(rvr_packet_set_bool(p, "b", true), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "i", INT64_MIN), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_u64(p, "u", UINT64_MAX), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "d", 3.25), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", "hello"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "sn", "hello world", 5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "y", "a\0b", 3), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, "id", &u), RVR_OK);
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 1);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "l", l), RVR_OK);
    rvr_map *m = rvr_map_new();
    rvr_value x = rvr_value_bool(false);
    rvr_map_set(m, "k", &x);
    CU_ASSERT_EQUAL(rvr_packet_set_map(p, "m", m), RVR_OK);
    x = rvr_value_f64(-1.5);
    CU_ASSERT_EQUAL(rvr_packet_set(p, "v", &x), RVR_OK);
    CU_ASSERT_EQUAL(x.type, RVR_T_NONE);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 11);

    bool b = false;
    int64_t i = 0;
    uint64_t uu = 0;
    double d = 0;
    const char *s = NULL;
    size_t len = 0;
    const uint8_t *y = NULL;
    rvr_uuid gu;
    const rvr_list *gl = NULL;
    const rvr_map *gm = NULL;
    const rvr_value *gv = NULL;
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "b", &b), RVR_OK);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "i", &i), RVR_OK);
    CU_ASSERT_EQUAL(i, INT64_MIN);
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "u", &uu), RVR_OK);
    CU_ASSERT_EQUAL(uu, UINT64_MAX);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "d", &d), RVR_OK);
    CU_ASSERT_DOUBLE_EQUAL(d, 3.25, 0);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "s", &s, &len), RVR_OK);
    CU_ASSERT_STRING_EQUAL(s, "hello");
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "sn", &s, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(s, "hello");
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "y", &y, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(y, "a\0b", 3), 0);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "y", &y, NULL), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "id", &gu), RVR_OK);
    CU_ASSERT_TRUE(rvr_uuid_eq(&gu, &u));
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "l", &gl), RVR_OK);
    CU_ASSERT_PTR_EQUAL(gl, l);  /* taken, not copied */
    CU_ASSERT_EQUAL(rvr_list_get(gl, 0)->as.i, 1);
    CU_ASSERT_EQUAL(rvr_packet_get_map(p, "m", &gm), RVR_OK);
    CU_ASSERT_PTR_EQUAL(gm, m);
    CU_ASSERT_FALSE(rvr_map_get(gm, "k")->as.b);
    CU_ASSERT_EQUAL(rvr_packet_get(p, "v", &gv), RVR_OK);
    CU_ASSERT_EQUAL(gv->type, RVR_T_DOUBLE);
    CU_ASSERT_EQUAL(rvr_packet_get(p, "l", &gv), RVR_OK);
    CU_ASSERT_EQUAL(gv->type, RVR_T_LIST);
    CU_ASSERT_TRUE(rvr_packet_has(p, "m"));
    CU_ASSERT_FALSE(rvr_packet_has(p, "nope"));
    rvr_packet_free(p);
}

static void test_wrong_type_and_missing(void)
{
    rvr_packet *p = rvr_packet_new("t");
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "n", 5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", "x"), RVR_OK);

    bool b = true;
    int64_t i = 77;
    uint64_t u = 77;
    double d = 7.5;
    const char *s = "untouched";
    size_t len = 99;
    const uint8_t *y = (const uint8_t *)"untouched";
    rvr_uuid id = rvr_uuid_generate(), id0 = id;
    const rvr_list *l = (const rvr_list *)&b;
    const rvr_map *m = (const rvr_map *)&b;
    const rvr_value *v = (const rvr_value *)&b;

    /* An int is not a uint, double, bool ... even when the value would fit. */
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "n", &u), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "n", &b), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "n", &d), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "n", &s, &len), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "s", &y, &len), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "n", &id), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "n", &l), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_map(p, "s", &m), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "s", &i), RVR_ETYPE);
    /* Missing names. */
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "absent", &i), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "absent", &u), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "absent", &b), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "absent", &d), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "absent", &s, &len), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "absent", &y, &len), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "absent", &id), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "absent", &l), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_map(p, "absent", &m), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get(p, "absent", &v), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get(p, "", &v), RVR_ENOATTR);

    /* Nothing was written on any error. */
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(i, 77);
    CU_ASSERT_EQUAL(u, 77);
    CU_ASSERT_DOUBLE_EQUAL(d, 7.5, 0);
    CU_ASSERT_STRING_EQUAL(s, "untouched");
    CU_ASSERT_EQUAL(len, 99);
    CU_ASSERT_STRING_EQUAL((const char *)y, "untouched");
    CU_ASSERT_TRUE(rvr_uuid_eq(&id, &id0));
    CU_ASSERT_PTR_EQUAL(l, (const rvr_list *)&b);
    CU_ASSERT_PTR_EQUAL(m, (const rvr_map *)&b);
    CU_ASSERT_PTR_EQUAL(v, (const rvr_value *)&b);

    /* Removal. */
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "n"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "n"), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "n", &i), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 1);
    rvr_packet_free(p);
}

static void test_empty_and_large_values(void)
{
    rvr_packet *p = rvr_packet_new("big");
    const char *s = NULL;
    const uint8_t *y = NULL;
    size_t len = 1;
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "es", ""), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "es", &s, &len), RVR_OK);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_EQUAL(len, 0);
    len = 1;
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "eb", NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "eb", &y, &len), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL(y);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "es2", "", 0), RVR_OK);

    size_t n = (size_t)5 << 20;  /* 5 MiB with NULs */
    uint8_t *buf = malloc(n);
    CU_ASSERT_FATAL(buf != NULL);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i % 251);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "blob", buf, n), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "blob", &y, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, n);
    CU_ASSERT_EQUAL(memcmp(y, buf, n), 0);
    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    rvr_packet_free(c);
    free(buf);

    /* Strings with an inner NUL and oversized values are refused. */
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "bad", "a\0b", 3), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "bad", "x", RVR_MAX_VALUE_SIZE + 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "bad", "x", RVR_MAX_VALUE_SIZE + 1), RVR_ELIMIT);
    CU_ASSERT_FALSE(rvr_packet_has(p, "bad"));
    rvr_packet_free(p);
}

/* ---- order, replacement, copies ------------------------------------------------------ */

/* rvr_packet_give_bytes: the packet keeps the caller's buffer (no copy),
 * frees it (ASan/valgrind see a leak or a double free otherwise), and a
 * refused buffer stays the caller's. */
static void test_give_bytes(void)
{
    static const size_t sizes[] = { 0, 100, (size_t)1 << 20 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *buf = rvr_bytes_alloc(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(i * 13);
        rvr_packet *p = rvr_packet_new("given");
        CU_ASSERT_EQUAL(rvr_packet_give_bytes(p, "data", buf, n), RVR_OK);
        const uint8_t *got = NULL;
        size_t len = 1;
        CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "data", &got, &len), RVR_OK);
        CU_ASSERT_PTR_EQUAL(got, buf);
        CU_ASSERT_EQUAL(len, n);
        rvr_packet *c = rvr_packet_copy(p);   /* a copy owns a copy */
        CU_ASSERT(rvr_packet_equal(c, p));
        rvr_packet_free(p);
        CU_ASSERT_EQUAL(rvr_packet_get_bytes(c, "data", &got, &len), RVR_OK);
        CU_ASSERT(len == n && (n == 0 || got[n - 1] == (uint8_t)((n - 1) * 13)));
        rvr_packet_free(c);
    }
    /* Replacing a given value frees it; a refused one is still ours. */
    rvr_packet *p = rvr_packet_new("given");
    CU_ASSERT_EQUAL(rvr_packet_give_bytes(p, "data", rvr_bytes_alloc(10), 10), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "data", 7), RVR_OK);
    void *mine = rvr_bytes_alloc(10);
    CU_ASSERT_EQUAL(rvr_packet_give_bytes(p, "", mine, 10), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_give_bytes(p, "data", NULL, 0), RVR_EINVAL);
    rvr_bytes_free(mine);
    rvr_packet_free(p);
}

static void test_iteration_and_replace(void)
{
    rvr_packet *p = rvr_packet_new("ord");
    const char *names[] = { "zeta", "alpha", "mid", "beta", "omega" };
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, names[i], i), RVR_OK);
    /* Replace with another type: same position, new value. */
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "mid", "now a string"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "zeta", 0.5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 5);
    for (size_t i = 0; i < 5; i++) {
        const char *name;
        const rvr_value *v;
        CU_ASSERT_EQUAL(rvr_packet_at(p, i, &name, &v), RVR_OK);
        CU_ASSERT_STRING_EQUAL(name, names[i]);
        if (i == 2) {
            CU_ASSERT_STRING_EQUAL(v->as.str.ptr, "now a string");
        } else if (i == 0) {
            CU_ASSERT_EQUAL(v->type, RVR_T_DOUBLE);
        } else {
            CU_ASSERT_EQUAL(v->as.i, (int64_t)i);
        }
    }
    CU_ASSERT_EQUAL(rvr_packet_at(p, 5, NULL, NULL), RVR_ERANGE);

    /* Typed getters point at the value's own storage, which survives other
     * attributes being added (the entry array grows) or removed. */
    const char *str;
    const rvr_list *gl;
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 11);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "list", l), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "mid", &str, NULL), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "list", &gl), RVR_OK);
    char extra[16];
    for (int i = 0; i < 100; i++) {
        snprintf(extra, sizeof extra, "extra%d", i);
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, extra, i), RVR_OK);
    }
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "beta"), RVR_OK);
    CU_ASSERT_STRING_EQUAL(str, "now a string");
    CU_ASSERT_EQUAL(rvr_list_get(gl, 0)->as.i, 11);
    for (int i = 0; i < 100; i++) {
        snprintf(extra, sizeof extra, "extra%d", i);
        CU_ASSERT_EQUAL(rvr_packet_remove(p, extra), RVR_OK);
    }
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "list"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "beta", 3), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_len(rvr_packet_attrs(p)), 5);

    /* Remove from the middle: the rest keeps its order. */
    CU_ASSERT_EQUAL(rvr_packet_remove(p, "alpha"), RVR_OK);
    const char *name;
    CU_ASSERT_EQUAL(rvr_packet_at(p, 1, &name, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(name, "mid");
    CU_ASSERT_EQUAL(rvr_packet_at(p, 2, &name, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(name, "omega");
    CU_ASSERT_EQUAL(rvr_packet_at(p, 3, &name, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(name, "beta");  /* removed and re-added: last */
    CU_ASSERT_EQUAL(rvr_packet_count(p), 4);
    rvr_packet_free(p);
}

static void test_copy(void)
{
    rvr_packet *p = rvr_packet_new("a-rather-long-tag-that-is-not-stored-inline");
    p->src = rvr_uuid_generate();
    p->seq = 42;  /* mailbox fields must not leak into the copy */
    rvr_packet_set_str(p, "s", "text");
    rvr_packet_set_bytes(p, "y", "\0\0", 2);
    rvr_packet_set_list(p, "l", nested_list(4));
    rvr_packet_set_f64(p, "d", 1.0);

    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_TRUE(links_zero(c));
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(c), rvr_packet_src(p)));
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(c), rvr_packet_tag(p));
    CU_ASSERT_PTR_NOT_EQUAL(rvr_packet_tag(c), rvr_packet_tag(p));
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    CU_ASSERT_TRUE(rvr_packet_equal(c, p));

    /* Changing the copy leaves the original alone. */
    CU_ASSERT_EQUAL(rvr_packet_set_str(c, "s", "changed"), RVR_OK);
    CU_ASSERT_FALSE(rvr_packet_equal(p, c));
    const char *s;
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "s", &s, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(s, "text");
    CU_ASSERT_EQUAL(rvr_packet_remove(c, "l"), RVR_OK);
    const rvr_list *l;
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "l", &l), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_len(l), 1);
    rvr_packet_free(c);

    /* Equality looks at tag, src and attributes, not at order. */
    c = rvr_packet_copy(p);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(c, "other"), RVR_OK);
    CU_ASSERT_FALSE(rvr_packet_equal(p, c));
    rvr_packet_free(c);
    c = rvr_packet_copy(p);
    c->src = rvr_uuid_generate();
    CU_ASSERT_FALSE(rvr_packet_equal(p, c));
    rvr_packet_free(c);
    c = rvr_packet_new(rvr_packet_tag(p));
    c->src = p->src;
    rvr_packet_set_f64(c, "d", 1.0);
    rvr_packet_set_list(c, "l", nested_list(4));
    rvr_packet_set_bytes(c, "y", "\0\0", 2);
    CU_ASSERT_FALSE(rvr_packet_equal(p, c));
    rvr_packet_set_str(c, "s", "text");
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    /* NaN makes a packet unequal even to its own copy. */
    rvr_packet_set_f64(c, "d", NAN);
    rvr_packet *c2 = rvr_packet_copy(c);
    CU_ASSERT_FALSE(rvr_packet_equal(c, c2));
    rvr_packet_free(c2);
    rvr_packet_free(c);
    CU_ASSERT_PTR_NULL(rvr_packet_copy(NULL));
    rvr_packet_free(p);
}

/* ---- limits ---------------------------------------------------------------------- */

static void test_max_attrs(void)
{
    rvr_packet *p = rvr_packet_new("wide");
    char name[32];
    for (unsigned i = 0; i < RVR_MAX_ATTRS; i++) {
        snprintf(name, sizeof name, "attr%u", i);
        if (rvr_packet_set_u64(p, name, i) != RVR_OK) {
            CU_FAIL("set failed below the limit");
            break;
        }
    }
    CU_ASSERT_EQUAL(rvr_packet_count(p), RVR_MAX_ATTRS);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "one-more", 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "one-more", "x"), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "attr0", -1), RVR_OK);  /* replace */
    uint64_t u = 0;
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "attr65534", &u), RVR_OK);
    CU_ASSERT_EQUAL(u, 65534);
    const char *n;
    CU_ASSERT_EQUAL(rvr_packet_at(p, 1234, &n, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(n, "attr1234");
    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    rvr_packet_free(c);
    rvr_packet_free(p);
}

static void test_depth_limit(void)
{
    rvr_packet *p = rvr_packet_new("deep");
    /* An attribute may be exactly RVR_MAX_DEPTH deep ... */
    rvr_list *ok = nested_list(RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "ok", ok), RVR_OK);
    /* ... not one more; the rejected list is still ours to free. */
    rvr_list *deep = nested_list(RVR_MAX_DEPTH);
    rvr_list *outer = rvr_list_new();
    rvr_value v = rvr_value_list(deep);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &v), RVR_ELIMIT);
    rvr_value_clear(&v);
    deep = nested_list(RVR_MAX_DEPTH - 1);
    v = rvr_value_list(deep);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &v), RVR_OK);
    v = rvr_value_list(outer);
    CU_ASSERT_EQUAL(rvr_value_depth(&v), RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_packet_set(p, "ok2", &v), RVR_OK);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);

    /* A map holding a (RVR_MAX_DEPTH - 1)-deep list is RVR_MAX_DEPTH deep. */
    rvr_map *m = rvr_map_new();
    v = rvr_value_list(nested_list(RVR_MAX_DEPTH));
    CU_ASSERT_EQUAL(rvr_map_set(m, "x", &v), RVR_ELIMIT);
    rvr_value_clear(&v);
    v = rvr_value_list(nested_list(RVR_MAX_DEPTH - 1));
    CU_ASSERT_EQUAL(rvr_map_set(m, "x", &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_depth(m), RVR_MAX_DEPTH);
    CU_ASSERT_EQUAL(rvr_packet_set_map(p, "m", m), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 3);
    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_TRUE(rvr_packet_equal(p, c));
    rvr_packet_free(c);

    /* The API cannot build a value one level deeper, so fake one: a map
     * that claims to hold an RVR_MAX_DEPTH-deep value.  The packet refuses
     * it and the caller still owns it. */
    rvr_map *fake = rvr_map_new();
    fake->depth = RVR_MAX_DEPTH;
    v = rvr_value_map(fake);
    CU_ASSERT_EQUAL(rvr_value_depth(&v), RVR_MAX_DEPTH + 1);
    CU_ASSERT_EQUAL(rvr_packet_set(p, "too-deep", &v), RVR_ELIMIT);
    CU_ASSERT_EQUAL(v.type, RVR_T_MAP);
    CU_ASSERT_EQUAL(rvr_packet_set_map(p, "too-deep", fake), RVR_ELIMIT);
    CU_ASSERT_FALSE(rvr_packet_has(p, "too-deep"));
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 3);

    /* Failed takes leave ownership with the caller. */
    rvr_list *keep = nested_list(2);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "", keep), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_list_len(keep), 1);
    rvr_list_free(keep);
    rvr_map *keepm = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_packet_set_map(p, NULL, keepm), RVR_EINVAL);
    rvr_map_free(keepm);
    rvr_packet_free(p);
}

static void test_names(void)
{
    rvr_packet *p = rvr_packet_new("n");
    char name[RVR_MAX_NAME + 2];
    memset(name, 'a', sizeof name);
    name[RVR_MAX_NAME] = '\0';
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, name, 1), RVR_OK);
    CU_ASSERT_TRUE(rvr_packet_has(p, name));
    name[RVR_MAX_NAME] = 'a';
    name[RVR_MAX_NAME + 1] = '\0';
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, name, 1), RVR_ELIMIT);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, name, "x"), RVR_ELIMIT);
    CU_ASSERT_FALSE(rvr_packet_has(p, name));
    int64_t i;
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, name, &i), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "", "x", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 1);
    rvr_packet_free(p);
}

static void test_null_arguments(void)
{
    rvr_packet *p = rvr_packet_new("null");
    rvr_uuid u = rvr_uuid_generate();
    int64_t i;
    const rvr_value *v;
    const char *s;
    CU_ASSERT_PTR_NULL(rvr_packet_tag(NULL));
    CU_ASSERT_PTR_NULL(rvr_packet_src(NULL));
    CU_ASSERT_PTR_NULL(rvr_packet_attrs(NULL));
    CU_ASSERT_EQUAL(rvr_packet_count(NULL), 0);
    CU_ASSERT_FALSE(rvr_packet_equal(p, NULL));
    CU_ASSERT_FALSE(rvr_packet_equal(NULL, p));
    CU_ASSERT_FALSE(rvr_packet_has(NULL, "x"));
    CU_ASSERT_FALSE(rvr_packet_has(p, NULL));
    CU_ASSERT_EQUAL(rvr_packet_at(NULL, 0, &s, &v), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_remove(NULL, "x"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_remove(p, NULL), RVR_EINVAL);

    CU_ASSERT_EQUAL(rvr_packet_set_bool(NULL, "x", true), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(NULL, "x", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_u64(NULL, "x", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(NULL, "x", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_str(NULL, "x", "s"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(NULL, "x", "s", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(NULL, "x", "s", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(NULL, "x", &u), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, NULL, 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, NULL, "s"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "x", NULL, 2), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "x", NULL, 2), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_map(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set(p, "x", NULL), RVR_EINVAL);
    rvr_value none = { .type = RVR_T_NONE };
    CU_ASSERT_EQUAL(rvr_packet_set(p, "x", &none), RVR_EINVAL);
    rvr_value junk = { .type = (rvr_type)42 };
    CU_ASSERT_EQUAL(rvr_packet_set(p, "x", &junk), RVR_EINVAL);
    rvr_value x = rvr_value_i64(1);
    CU_ASSERT_EQUAL(rvr_packet_set(NULL, "x", &x), RVR_EINVAL);
    CU_ASSERT_EQUAL(x.type, RVR_T_INT);
    rvr_list *l = rvr_list_new();
    CU_ASSERT_EQUAL(rvr_packet_set_list(NULL, "x", l), RVR_EINVAL);
    rvr_list_free(l);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 0);

    rvr_packet_set_i64(p, "x", 1);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(NULL, "x", &i), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, NULL, &i), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "x", NULL, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "x", NULL, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_list(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get_map(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get(p, "x", NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_get(NULL, "x", &v), RVR_EINVAL);
    rvr_packet_free(p);
}

/* A packet made right after others were freed (on this thread they are
 * kept and reused: packet.c's spare packets) is a new packet: no source,
 * no attributes, its own tag, built in wire form; and a used one in any
 * state (a map, a long tag, a source) frees and is reused without trace. */
static void test_reuse(void)
{
    rvr_uuid u = rvr_uuid_generate();
    for (int round = 0; round < 300; round++) {
        rvr_packet *p = rvr_packet_new(round % 3 == 0 ? "first" : "a-tag-longer-than-thirty-two-bytes-here");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        p->src = u;
        rvr_packet_set_i64(p, "x", round);
        if (round % 2 == 0)
            rvr_packet_set_str(p, "s", "kept in the map");   /* strings read through the map */
        const char *s;
        if (round % 4 == 0)
            rvr_packet_get_str(p, "s", &s, NULL);
        if (round % 5 == 0) {
            /* A copy's map holds entries whose keys are not in its block. */
            rvr_packet *c = rvr_packet_copy(p);
            CU_ASSERT_PTR_NOT_NULL_FATAL(c);
            rvr_packet_free(p);
            p = c;
        }
        rvr_packet_free(p);

        rvr_packet *q = rvr_packet_new("next");
        CU_ASSERT_PTR_NOT_NULL_FATAL(q);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(q), "next");
        CU_ASSERT(rvr_uuid_is_nil(rvr_packet_src(q)));
        CU_ASSERT_EQUAL(rvr_packet_count(q), 0);
        int64_t i;
        CU_ASSERT_EQUAL(rvr_packet_get_i64(q, "x", &i), RVR_ENOATTR);
        CU_ASSERT_PTR_NOT_NULL(q->raw);   /* rvr_packet_new's wire form */
        CU_ASSERT(q->raw_len == 0 && q->wire_len == 0 && q->body == NULL);
        rvr_packet_set_u64(q, "n", 7);
        uint64_t n = 0;
        CU_ASSERT(rvr_packet_get_u64(q, "n", &n) == RVR_OK && n == 7);
        CU_ASSERT_EQUAL(rvr_packet_count(q), 1);
        rvr_packet_free(q);
    }
}

static CU_TestInfo packet_tests[] = {
    { "new and tags", test_new_and_tags },
    { "every type", test_every_type },
    { "wrong type and missing attributes", test_wrong_type_and_missing },
    { "empty and large values", test_empty_and_large_values },
    { "large values without a copy (give_bytes)", test_give_bytes },
    { "iteration order and replacement", test_iteration_and_replace },
    { "copy and equality", test_copy },
    { "names", test_names },
    { "tags and names of every short length", test_short_names },
    { "NULL arguments", test_null_arguments },
    { "a packet made after others were freed is new", test_reuse },
    CU_TEST_INFO_NULL
};

static CU_TestInfo limit_tests[] = {
    { "65535 attributes", test_max_attrs },
    { "nesting depth", test_depth_limit },
    CU_TEST_INFO_NULL
};

int main(void)
{
    cutest_suite("packets", packet_tests);
    cutest_suite("packet limits", limit_tests);
    return cutest_run();
}
