/* test_wire_raw — received attributes kept as they came (wire_raw.c): a
 * small message of flat attributes reads, compares, copies, changes and
 * forwards exactly as one decoded into a map, and anything else is decoded
 * as before.  In-process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "fulldecode.h"
#include "packet_impl.h"
#include "wire.h"

static const uint8_t blob[5] = { 1, 0, 2, 0, 3 };
static const rvr_uuid dst = { { 9, 8, 7, 6, 5, 4, 3, 2, 1 } };

/* One attribute of each flat type: a message that stays raw. */
static rvr_packet *flat(void)
{
    rvr_packet *p = rvr_packet_new("flat");
    p->src = rvr_uuid_generate();
    rvr_uuid u = { { 0xaa, 0xbb } };
    rvr_packet_set_bool(p, "b", true);
    rvr_packet_set_i64(p, "i", -300);
    rvr_packet_set_u64(p, "u", 1ull << 40);
    rvr_packet_set_f64(p, "d", -0.5);
    rvr_packet_set_str(p, "s", "text");
    rvr_packet_set_bytes(p, "y", blob, sizeof blob);
    rvr_packet_set_uuid(p, "id", &u);
    return p;
}

static void encode(const rvr_packet *p, rvr_buf *b)
{
    b->len = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(b, &dst, p), RVR_OK);
}

/* Decodes the MSG frame in b with limits lim (NULL: defaults). */
static rvr_status decode(const rvr_buf *b, const rvr_wire_limits *lim, rvr_packet **out)
{
    rvr_wire_limits def;
    rvr_wire_limits_default(&def);
    rvr_wire_msg h;
    *out = NULL;
    return rvr_wire_get_msg(b->data + RVR_WIRE_HDR_LEN, b->len - RVR_WIRE_HDR_LEN,
                            lim != NULL ? lim : &def, &h, out);
}

static rvr_packet *received(const rvr_packet *p)
{
    rvr_buf b = { 0 };
    encode(p, &b);
    rvr_packet *q;
    CU_ASSERT_EQUAL(decode(&b, NULL, &q), RVR_OK);
    rvr_buf_free(&b);
    return q;
}

static void test_getters(void)
{
    rvr_packet *p = flat(), *q = received(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_PTR_NOT_NULL(q->raw);   /* kept as it came */
    CU_ASSERT_EQUAL(rvr_packet_count(q), 7);
    bool b = false;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    rvr_uuid id;
    const uint8_t *y;
    size_t n;
    CU_ASSERT(rvr_packet_get_bool(q, "b", &b) == RVR_OK && b);
    CU_ASSERT(rvr_packet_get_i64(q, "i", &i) == RVR_OK && i == -300);
    CU_ASSERT(rvr_packet_get_u64(q, "u", &u) == RVR_OK && u == 1ull << 40);
    CU_ASSERT(rvr_packet_get_f64(q, "d", &d) == RVR_OK && d == -0.5);
    CU_ASSERT(rvr_packet_get_uuid(q, "id", &id) == RVR_OK && id.bytes[0] == 0xaa && id.bytes[1] == 0xbb);
    CU_ASSERT(rvr_packet_get_bytes(q, "y", &y, &n) == RVR_OK && n == sizeof blob &&
              memcmp(y, blob, n) == 0);
    CU_ASSERT(rvr_packet_has(q, "y"));
    CU_ASSERT(!rvr_packet_has(q, "nope"));
    CU_ASSERT(!rvr_packet_has(q, ""));
    CU_ASSERT_EQUAL(rvr_packet_get_i64(q, "nope", &i), RVR_ENOATTR);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(q, "u", &i), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(q, "s", &y, &n), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(q, NULL, &i), RVR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(q->raw);   /* none of that needed the map */

    /* A string is handed out NUL-terminated: that one decodes the map,
     * and what was read before stays valid. */
    const char *s;
    CU_ASSERT(rvr_packet_get_str(q, "s", &s, &n) == RVR_OK && n == 4 && strcmp(s, "text") == 0);
    CU_ASSERT_PTR_NULL(q->raw);
    CU_ASSERT(memcmp(y, blob, sizeof blob) == 0);
    CU_ASSERT_EQUAL(rvr_packet_count(q), 7);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet_free(p);
    rvr_packet_free(q);
}

/* Every call that needs the map gets the one a decode would build. */
static void test_map_views(void)
{
    rvr_packet *p = flat();
    rvr_packet *q = received(p);
    CU_ASSERT(rvr_packet_equal(q, p));   /* equal, from the raw side */
    rvr_packet_free(q);

    q = received(p);
    const rvr_map *m = rvr_packet_attrs(q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT(rvr_map_equal(m, rvr_packet_attrs(p)));
    rvr_packet_free(q);

    q = received(p);
    for (size_t i = 0; i < rvr_packet_count(p); i++) {   /* same order */
        const char *a, *b;
        const rvr_value *va, *vb;
        CU_ASSERT_EQUAL(rvr_packet_at(q, i, &a, &va), RVR_OK);
        CU_ASSERT_EQUAL(rvr_packet_at(p, i, &b, &vb), RVR_OK);
        CU_ASSERT(strcmp(a, b) == 0 && rvr_value_equal(va, vb));
    }
    rvr_packet_free(q);

    q = received(p);
    const rvr_value *v;
    CU_ASSERT(rvr_packet_get(q, "i", &v) == RVR_OK && v->type == RVR_T_INT && v->as.i == -300);
    rvr_packet_free(q);

    q = received(p);
    rvr_packet *c = rvr_packet_copy(q);
    CU_ASSERT(rvr_packet_equal(c, p));
    rvr_packet_free(c);
    rvr_packet_free(q);

    /* A receive that matches on an attribute value. */
    q = received(p);
    rvr_match *mt = rvr_match_new();
    rvr_match_eq_i64(mt, "i", -300);
    CU_ASSERT(rvr_match_test(mt, q));
    rvr_match_free(mt);
    mt = rvr_match_new();
    rvr_match_eq_i64(mt, "i", 300);
    CU_ASSERT(!rvr_match_test(mt, q));
    rvr_match_free(mt);
    rvr_packet_free(q);
    rvr_packet_free(p);
}

/* Changing a received packet: the other attributes and what was read
 * before stay as they were. */
static void test_changes(void)
{
    rvr_packet *p = flat(), *q = received(p);
    const uint8_t *y;
    size_t n;
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(q, "y", &y, &n), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(q, "i", 7), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(q, "new", "v"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_remove(q, "b"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_count(q), 7);
    CU_ASSERT(memcmp(y, blob, sizeof blob) == 0);
    int64_t i = 0;
    double d = 0;
    CU_ASSERT(rvr_packet_get_i64(q, "i", &i) == RVR_OK && i == 7);
    CU_ASSERT(rvr_packet_get_f64(q, "d", &d) == RVR_OK && d == -0.5);
    CU_ASSERT(!rvr_packet_has(q, "b"));
    rvr_packet_free(q);

    q = received(p);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(q, "y", "zz", 2), RVR_OK);
    CU_ASSERT(rvr_packet_get_bytes(q, "y", &y, &n) == RVR_OK && n == 2 && memcmp(y, "zz", 2) == 0);
    rvr_packet_free(q);

    q = received(p);
    void *big = rvr_bytes_alloc(3);
    memcpy(big, "abc", 3);
    CU_ASSERT_EQUAL(rvr_packet_give_bytes(q, "g", big, 3), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_count(q), 8);
    rvr_packet_free(q);
    rvr_packet_free(p);
}

/* Sent on (a forward, an echo), a raw packet is the same frame again;
 * changed, it is encoded from its map. */
static void test_forward(void)
{
    rvr_packet *p = flat(), *q = received(p);
    rvr_buf a = { 0 }, b = { 0 };
    encode(p, &a);
    encode(q, &b);
    CU_ASSERT_PTR_NOT_NULL(q->raw);
    CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    CU_ASSERT_EQUAL(b.len, rvr_wire_packet_size(&dst, q));
    uint8_t small[1024], *f;
    size_t n = rvr_wire_put_packet_small(small, sizeof small, &dst, q, &f);
    CU_ASSERT(n == a.len && memcmp(f, a.data, n) == 0);
    rvr_wire_sized sz;
    rvr_wire_packet_sizes(&dst, q, &sz);
    b.len = 0;
    CU_ASSERT_EQUAL(rvr_wire_put_packet_sized(&b, &dst, q, &sz), RVR_OK);
    CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    CU_ASSERT_EQUAL(rvr_wire_raw_frame_size(q), a.len);
    memset(small, 0xee, sizeof small);
    rvr_wire_put_raw_frame(small, a.len, &dst, q);
    CU_ASSERT(memcmp(small, a.data, a.len) == 0 && small[a.len] == 0xee);

    rvr_packet_set_i64(q, "i", 1);
    rvr_packet_set_i64(p, "i", 1);
    encode(p, &a);
    encode(q, &b);
    CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    rvr_buf_free(&a);
    rvr_buf_free(&b);
    rvr_packet_free(p);
    rvr_packet_free(q);
}

/* Messages that are not kept raw decode as before: nested values, a
 * repeated name (the last one wins), more attributes or bytes than
 * raw allows, none at all. */
static void test_decoded(void)
{
    rvr_packet *p = rvr_packet_new("nested");
    rvr_map *m = rvr_map_new();
    rvr_packet_set_map(p, "m", m);
    rvr_packet *q = received(p);
    CU_ASSERT_PTR_NULL(q->raw);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet_free(p);
    rvr_packet_free(q);

    p = rvr_packet_new("many");
    for (int i = 0; i <= RVR_WIRE_RAW_MAX; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        rvr_packet_set_bool(p, k, true);
    }
    q = received(p);
    CU_ASSERT_PTR_NULL(q->raw);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet_free(p);
    rvr_packet_free(q);

    uint8_t big[RVR_WIRE_RAW_BYTES] = { 0 };
    p = rvr_packet_new("big");
    rvr_packet_set_bytes(p, "big", big, sizeof big);
    q = received(p);
    CU_ASSERT_PTR_NULL(q->raw);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet_free(p);
    rvr_packet_free(q);

    p = rvr_packet_new("none");
    q = received(p);
    CU_ASSERT(q->raw == NULL && rvr_packet_count(q) == 0);
    rvr_packet_free(p);
    rvr_packet_free(q);

    /* "a" twice: encode one packet holding a=1, b=2, rename b to a. */
    p = rvr_packet_new("dup");
    rvr_packet_set_i64(p, "a", 1);
    rvr_packet_set_i64(p, "b", 2);
    rvr_buf b = { 0 };
    encode(p, &b);
    uint8_t *at = NULL;
    for (size_t i = b.len - 1; i > 0 && at == NULL; i--)
        if (b.data[i - 1] == T_KEY && b.data[i] == 1 && i + 1 < b.len && b.data[i + 1] == 'b')
            at = &b.data[i + 1];
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    *at = 'a';
    CU_ASSERT_EQUAL(decode(&b, NULL, &q), RVR_OK);
    int64_t v = 0;
    CU_ASSERT(q->raw == NULL && rvr_packet_count(q) == 1);
    CU_ASSERT(rvr_packet_get_i64(q, "a", &v) == RVR_OK && v == 2);
    rvr_buf_free(&b);
    rvr_packet_free(p);
    rvr_packet_free(q);
}

/* Limits and malformed entries give the errors a full decode gives. */
static void test_errors(void)
{
    rvr_packet *p = flat(), *q;
    rvr_buf b = { 0 };
    encode(p, &b);
    rvr_wire_limits lim;
    rvr_wire_limits_default(&lim);
    lim.max_attrs = 6;
    CU_ASSERT_EQUAL(decode(&b, &lim, &q), RVR_ELIMIT);
    CU_ASSERT_PTR_NULL(q);
    lim.max_attrs = 7;
    CU_ASSERT_EQUAL(decode(&b, &lim, &q), RVR_OK);
    rvr_packet_free(q);

    /* A NUL inside the string "text", and inside the name "id". */
    uint8_t *s = memmem(b.data, b.len, "text", 4), *k = memmem(b.data, b.len, "\x02id", 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    s[1] = 0;
    CU_ASSERT_EQUAL(decode(&b, NULL, &q), RVR_EPROTO);
    s[1] = 'e';
    k[2] = 0;
    CU_ASSERT_EQUAL(decode(&b, NULL, &q), RVR_EPROTO);
    k[2] = 'd';
    /* A uuid of 15 bytes: its length byte says 15. */
    k[6] = 15;
    CU_ASSERT_EQUAL(decode(&b, NULL, &q), RVR_EPROTO);
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

static void set_mid(rvr_packet *p);

/* rvr_wire_get_small on the payload p[0..n): when it makes a packet, the
 * full decoder accepts the frame too and makes the same one. */
static void agrees(const uint8_t *p, size_t n, unsigned *fast)
{
    rvr_wire_ids ids = { .set = false };
    rvr_packet *s = rvr_wire_get_small(p, n, RVR_MAX_ATTRS, &ids);
    if (s == NULL)
        return;
    (*fast)++;
    agree_with_full(p, n, s, &ids.dst);
}

/* The receive path's decoder of the common shape (rvr_wire_get_small)
 * takes only what the full decoder takes, as the same packet: every byte
 * of a frame changed to values that break lengths, keys and names, and
 * every truncation. */
static void test_small(void)
{
    static const uint8_t values[] = { 0, 1, 2, 0x0a, 0x12, 0x1a, 0x2a, 0x7f, 0x80, 0xff };
    rvr_packet *msgs[4] = { flat(), rvr_packet_new("m"), rvr_packet_new("t"), rvr_packet_new("mid") };
    uint8_t data[64] = { 7 };
    rvr_packet_set_bytes(msgs[1], "data", data, sizeof data);
    msgs[1]->src = rvr_uuid_generate();
    rvr_packet_set_str(msgs[2], "s", "x");
    set_mid(msgs[3]);   /* two-byte lengths */
    unsigned fast = 0;
    for (int m = 0; m < 4; m++) {
        rvr_buf b = { 0 };
        encode(msgs[m], &b);
        uint8_t *p = b.data + RVR_WIRE_HDR_LEN;
        size_t n = b.len - RVR_WIRE_HDR_LEN;
        unsigned before = fast;
        agrees(p, n, &fast);
        CU_ASSERT_EQUAL(fast, before + 1);   /* the shape River writes */
        for (size_t i = 0; i < n; i++) {
            uint8_t keep = p[i];
            for (size_t v = 0; v < sizeof values; v++) {
                p[i] = values[v];
                agrees(p, n, &fast);
            }
            p[i] = keep;
            agrees(p, i, &fast);   /* truncated */
        }
        rvr_buf_free(&b);
        rvr_packet_free(msgs[m]);
    }
    CU_ASSERT(fast > 4);
}

/* Sets the attributes of flat() on p, in the same order. */
static void set_flat(rvr_packet *p)
{
    rvr_uuid u = { { 0xaa, 0xbb } };
    CU_ASSERT_EQUAL(rvr_packet_set_bool(p, "b", true), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "i", -300), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_u64(p, "u", 1ull << 40), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "d", -0.5), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", "text"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "y", blob, sizeof blob), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, "id", &u), RVR_OK);
}

/* A new packet's setters build the raw form while they can: the same
 * frame, the same values, the same errors as a map. */
static void test_built(void)
{
    rvr_packet *p = rvr_packet_new("flat"), *m = rvr_packet_new("flat");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rvr_packet_attrs(m));   /* m: a map from here on */
    CU_ASSERT_PTR_NULL(m->raw);
    set_flat(p);
    set_flat(m);
    CU_ASSERT_PTR_NOT_NULL(p->raw);
    CU_ASSERT_PTR_NULL(m->raw);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 7);
    rvr_buf a = { 0 }, b = { 0 };
    encode(p, &a);
    encode(m, &b);
    CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    uint8_t small[1024], *f;
    size_t n = rvr_wire_put_packet_small(small, sizeof small, &dst, p, &f);
    CU_ASSERT(n == b.len && memcmp(f, b.data, n) == 0);
    n = rvr_wire_raw_frame_size(p);   /* the send queue's one-pass writer */
    CU_ASSERT_EQUAL(n, b.len);
    memset(small, 0xee, sizeof small);
    rvr_wire_put_raw_frame(small, n, &dst, p);
    CU_ASSERT(memcmp(small, b.data, n) == 0 && small[n] == 0xee);
    int64_t i = 0;
    const uint8_t *y;
    CU_ASSERT(rvr_packet_get_i64(p, "i", &i) == RVR_OK && i == -300);
    CU_ASSERT(rvr_packet_get_bytes(p, "y", &y, &n) == RVR_OK && n == sizeof blob);
    CU_ASSERT(rvr_packet_equal(p, m));

    /* Errors are the map's. */
    CU_ASSERT_EQUAL(rvr_packet_set_strn(p, "nul", "a\0b", 3), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "", 1), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "null", NULL, 2), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "none", NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 8);

    /* A name set again: the map, value replaced in place. */
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "i", 5), RVR_OK);
    CU_ASSERT_PTR_NULL(p->raw);
    CU_ASSERT(rvr_packet_get_i64(p, "i", &i) == RVR_OK && i == 5);
    CU_ASSERT(memcmp(y, blob, sizeof blob) == 0);   /* still valid */
    CU_ASSERT_EQUAL(rvr_packet_count(p), 8);
    rvr_packet_free(p);

    /* Past the raw form's room, or a list: the map, nothing lost. */
    p = rvr_packet_new("grow");
    for (int k = 0; k < 40; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, key, k), RVR_OK);
    }
    CU_ASSERT_PTR_NULL(p->raw);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 40);
    CU_ASSERT(rvr_packet_get_i64(p, "k0", &i) == RVR_OK && i == 0);
    CU_ASSERT(rvr_packet_get_i64(p, "k39", &i) == RVR_OK && i == 39);
    rvr_packet *q = received(p);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet_free(q);
    rvr_packet_free(p);

    p = rvr_packet_new("list");
    rvr_packet_set_i64(p, "first", 1);
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 2);
    CU_ASSERT_EQUAL(rvr_packet_set_list(p, "l", l), RVR_OK);
    CU_ASSERT(p->raw == NULL && rvr_packet_count(p) == 2);
    CU_ASSERT(rvr_packet_get_i64(p, "first", &i) == RVR_OK && i == 1);
    rvr_packet_free(p);

    /* No attributes at all: no attrs field. */
    p = rvr_packet_new("empty");
    encode(p, &a);
    uint8_t small2[64];
    CU_ASSERT_EQUAL(rvr_wire_raw_frame_size(p), a.len);
    rvr_wire_put_raw_frame(small2, a.len, &dst, p);
    CU_ASSERT(memcmp(small2, a.data, a.len) == 0);
    rvr_packet_free(p);

    rvr_buf_free(&a);
    rvr_buf_free(&b);
    rvr_packet_free(m);
}

/* Attributes of mid size: values, entries and the attributes' field
 * past 127 bytes take two-byte lengths, and such a message still builds,
 * sends, reads and forwards raw up to RVR_WIRE_RAW_BYTES, as the map
 * would; one byte more, or a name of 128 bytes, and the map takes it. */
static void set_mid(rvr_packet *p)
{
    char s[131], name[101];
    uint8_t y[200], z[30];
    memset(s, 'x', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (size_t i = 0; i < sizeof y; i++)
        y[i] = (uint8_t)i;
    memset(z, 0x5a, sizeof z);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", s), RVR_OK);     /* a two-byte value */
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "y", y, sizeof y), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, name, z, sizeof z), RVR_OK);   /* a long entry */
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "i", -7), RVR_OK);
}

static void test_mid(void)
{
    rvr_packet *p = rvr_packet_new("mid"), *m = rvr_packet_new("mid");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rvr_packet_attrs(m));   /* m: a map from here on */
    set_mid(p);
    set_mid(m);
    CU_ASSERT_PTR_NOT_NULL(p->raw);
    CU_ASSERT(p->raw_len > 127 && p->raw_len <= RVR_WIRE_RAW_BYTES);
    rvr_buf a = { 0 }, b = { 0 };
    encode(p, &a);
    encode(m, &b);
    CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    uint8_t buf[1024];
    size_t n = rvr_wire_raw_frame_size(p);
    CU_ASSERT_EQUAL(n, b.len);
    memset(buf, 0xee, sizeof buf);
    rvr_wire_put_raw_frame(buf, n, &dst, p);
    CU_ASSERT(memcmp(buf, b.data, n) == 0 && buf[n] == 0xee);

    /* Received: raw, read in place, the same message. */
    rvr_packet *q = received(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_PTR_NOT_NULL(q->raw);
    const uint8_t *y;
    int64_t i = 0;
    CU_ASSERT(rvr_packet_get_bytes(q, "y", &y, &n) == RVR_OK && n == 200 && y[0] == 0 &&
              y[199] == 199);
    CU_ASSERT(rvr_packet_get_i64(q, "i", &i) == RVR_OK && i == -7);
    char name[101];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CU_ASSERT(rvr_packet_get_bytes(q, name, &y, &n) == RVR_OK && n == 30 && y[29] == 0x5a);
    CU_ASSERT(rvr_packet_equal(p, q));
    rvr_packet *g = received(q);   /* sent on as it came */
    CU_ASSERT(g != NULL && g->raw != NULL && rvr_packet_equal(g, m));
    rvr_packet_free(g);
    rvr_packet_free(q);
    rvr_packet_free(p);

    /* The largest value that stays raw fills RVR_WIRE_RAW_BYTES; one byte
     * more goes to the map, and both arrive whole. */
    static uint8_t big[RVR_WIRE_RAW_BYTES];
    size_t most = 0;
    for (size_t len = RVR_WIRE_RAW_BYTES - 16; len < RVR_WIRE_RAW_BYTES; len++) {
        p = rvr_packet_new("edge");
        CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "v", big, len), RVR_OK);
        if (p->raw != NULL)
            most = len;
        q = received(p);
        CU_ASSERT(q != NULL && (q->raw != NULL) == (p->raw != NULL) && rvr_packet_equal(p, q));
        rvr_packet_free(q);
        rvr_packet_free(p);
    }
    p = rvr_packet_new("edge");
    rvr_packet_set_bytes(p, "v", big, most);
    CU_ASSERT_EQUAL(p->raw_len, RVR_WIRE_RAW_BYTES);
    rvr_packet_free(p);

    /* A name of 128 bytes: the map (raw names are shorter). */
    char longname[129];
    memset(longname, 'k', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    p = rvr_packet_new("long");
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, longname, 1), RVR_OK);
    CU_ASSERT_PTR_NULL(p->raw);
    q = received(p);
    CU_ASSERT(q != NULL && q->raw == NULL && rvr_packet_equal(p, q));
    CU_ASSERT(rvr_packet_get_i64(q, longname, &i) == RVR_OK && i == 1);
    rvr_packet_free(q);
    rvr_packet_free(p);
    rvr_buf_free(&a);
    rvr_buf_free(&b);
    rvr_packet_free(m);
}

static const CU_TestInfo tests[] = {
    { "typed getters read raw attributes in place", test_getters },
    { "map, iteration, copy, equality and match see the decoded map", test_map_views },
    { "changing a received packet", test_changes },
    { "a raw packet sent on is the same frame", test_forward },
    { "a new packet builds the raw form: the same frame and errors", test_built },
    { "mid-size attributes (two-byte lengths) stay raw up to the limit", test_mid },
    { "nested, repeated, many or large attributes are decoded", test_decoded },
    { "limits and malformed entries: the same errors", test_errors },
    { "the common shape's decoder takes only what the full one takes", test_small },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("wire_raw", tests);
    return cutest_run();
}
