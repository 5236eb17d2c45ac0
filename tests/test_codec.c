/* test_codec.c — the protobuf encoding of dynamic values: round trips of
 * every type, the limits, and malformed input that must be refused cleanly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "cutest.h"

/* Encodes v, decodes it back and checks equality. */
static void roundtrip(const rvr_value *v)
{
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_value_encode(v, &b), RVR_OK);
    rvr_value out = { RVR_T_NONE };
    CU_ASSERT_EQUAL(rvr_value_decode(b.data, b.len, &out), RVR_OK);
    CU_ASSERT(rvr_value_equal(v, &out));
    rvr_value_clear(&out);
    rvr_buf_free(&b);
}

static void test_scalars(void)
{
    rvr_uuid u = rvr_uuid_generate();
    rvr_value vs[] = {
        rvr_value_bool(true), rvr_value_bool(false),
        rvr_value_i64(0), rvr_value_i64(-1), rvr_value_i64(INT64_MIN), rvr_value_i64(INT64_MAX),
        rvr_value_u64(0), rvr_value_u64(UINT64_MAX),
        rvr_value_f64(0.0), rvr_value_f64(-1.5e300), rvr_value_f64(INFINITY), rvr_value_f64(-INFINITY),
        rvr_value_uuid(&u),
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
        roundtrip(&vs[i]);
}

static void test_nan(void)
{
    rvr_value v = rvr_value_f64(NAN), out;
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL(rvr_value_encode(&v, &b), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_decode(b.data, b.len, &out), RVR_OK);
    CU_ASSERT_EQUAL(out.type, RVR_T_DOUBLE);
    CU_ASSERT(isnan(out.as.d));
    rvr_buf_free(&b);
}

static void test_strings_and_bytes(void)
{
    rvr_value v;
    CU_ASSERT_EQUAL(rvr_value_str(&v, ""), RVR_OK);
    roundtrip(&v);
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(rvr_value_str(&v, "grüße, 世界"), RVR_OK);
    roundtrip(&v);
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, "\0a\0b", 4), RVR_OK);
    roundtrip(&v);
    rvr_value_clear(&v);
    size_t big = 5u << 20;   /* several MiB: no 16-bit cap on this path */
    uint8_t *p = malloc(big);
    for (size_t i = 0; i < big; i++)
        p[i] = (uint8_t)(i * 7);
    CU_ASSERT_EQUAL(rvr_value_bytes(&v, p, big), RVR_OK);
    roundtrip(&v);
    rvr_value_clear(&v);
    free(p);
}

static void test_nested(void)
{
    rvr_list *inner = rvr_list_new();
    rvr_list_append_i64(inner, 1);
    rvr_list_append_str(inner, "two");
    rvr_map *m = rvr_map_new();
    rvr_value iv = rvr_value_list(inner);
    CU_ASSERT_EQUAL(rvr_map_set(m, "inner", &iv), RVR_OK);
    rvr_value d = rvr_value_f64(2.5);
    CU_ASSERT_EQUAL(rvr_map_set(m, "d", &d), RVR_OK);
    rvr_list *outer = rvr_list_new();
    rvr_value mv = rvr_value_map(m);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &mv), RVR_OK);
    rvr_list *empty = rvr_list_new();
    rvr_value ev = rvr_value_list(empty);
    CU_ASSERT_EQUAL(rvr_list_append(outer, &ev), RVR_OK);
    rvr_value top = rvr_value_list(outer);
    roundtrip(&top);
    rvr_value_clear(&top);
}

/* A value nested `depth` lists deep, built as raw protobuf. */
static rvr_buf deep_lists(unsigned depth)
{
    rvr_buf b = { 0 };
    /* innermost: Value{i: 1} */
    rvr_value one = rvr_value_i64(1);
    rvr_value_encode(&one, &b);
    for (unsigned i = 0; i < depth; i++) {
        /* List{items: <b>} then Value{list: <that>} */
        for (int layer = 0; layer < 2; layer++) {
            rvr_buf n = { 0 };
            uint8_t hdr[12];
            size_t k = 0;
            hdr[k++] = layer == 0 ? 0x0a : 0x42;   /* field 1 / field 8, length-delimited */
            size_t len = b.len;
            while (len >= 0x80) {
                hdr[k++] = (uint8_t)(len | 0x80);
                len >>= 7;
            }
            hdr[k++] = (uint8_t)len;
            rvr_buf_append(&n, hdr, k);
            rvr_buf_append(&n, b.data, b.len);
            rvr_buf_free(&b);
            b = n;
        }
    }
    return b;
}

static void test_depth_limit(void)
{
    rvr_buf ok = deep_lists(RVR_MAX_DEPTH), bad = deep_lists(RVR_MAX_DEPTH + 1);
    rvr_value v;
    CU_ASSERT_EQUAL(rvr_value_decode(ok.data, ok.len, &v), RVR_OK);
    CU_ASSERT_EQUAL(rvr_value_depth(&v), RVR_MAX_DEPTH);
    rvr_value_clear(&v);
    CU_ASSERT_EQUAL(rvr_value_decode(bad.data, bad.len, &v), RVR_ELIMIT);
    rvr_buf_free(&ok);
    rvr_buf_free(&bad);
}

static void test_map_attrs(void)
{
    rvr_packet *p = rvr_packet_new("t");
    rvr_packet_set_i64(p, "a", -5);
    rvr_packet_set_str(p, "b", "x");
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL(rvr_map_encode(rvr_packet_attrs(p), &b), RVR_OK);
    rvr_map *m = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_map_decode(b.data, b.len, m), RVR_OK);
    CU_ASSERT(rvr_map_equal(m, rvr_packet_attrs(p)));
    const char *key;
    const rvr_value *val;
    CU_ASSERT_EQUAL(rvr_map_at(m, 0, &key, &val), RVR_OK);
    CU_ASSERT_STRING_EQUAL(key, "a");   /* order kept */
    rvr_map_free(m);
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

static void expect_refused(const void *data, size_t n, rvr_status want)
{
    rvr_value v = { RVR_T_NONE };
    CU_ASSERT_EQUAL(rvr_value_decode(data, n, &v), want);
    CU_ASSERT_EQUAL(v.type, RVR_T_NONE);
}

static void test_malformed(void)
{
    expect_refused("", 0, RVR_EPROTO);                          /* empty Value */
    expect_refused("\x08", 1, RVR_EPROTO);                      /* truncated varint */
    expect_refused("\x2a\x05" "ab", 4, RVR_EPROTO);             /* string longer than input */
    expect_refused("\x2a\x03" "a\0b", 5, RVR_EPROTO);           /* NUL inside a string */
    expect_refused("\x3a\x03" "abc", 5, RVR_EPROTO);            /* uuid of 3 bytes */
    expect_refused("\x0d\x00\x00\x00\x00", 5, RVR_EPROTO);      /* bool as fixed32 */
    expect_refused("\x2a\xff\xff\xff\xff\x0f", 6, RVR_EPROTO);  /* a 4 GiB declared length */
    expect_refused("\x42\x02\x0a\x00", 4, RVR_EPROTO);          /* list with an empty item */
    /* unknown fields are skipped: field 15 varint, then int 3 */
    rvr_value v;
    CU_ASSERT_EQUAL(rvr_value_decode((const uint8_t *)"\x78\x01\x10\x06", 4, &v), RVR_OK);
    CU_ASSERT(v.type == RVR_T_INT && v.as.i == 3);
}

/* Random bytes: whatever they decode to, nothing crashes or leaks. */
static void test_random_input(void)
{
    uint64_t s = 0x9e3779b97f4a7c15u;
    uint8_t buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(s % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        rvr_value v;
        if (rvr_value_decode(buf, n, &v) == RVR_OK)
            rvr_value_clear(&v);
        rvr_map *m = rvr_map_new();
        rvr_map_decode(buf, n, m);
        rvr_map_free(m);
    }
    CU_PASS("no crash");
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        { "scalars round-trip", test_scalars },
        { "NaN round-trips", test_nan },
        { "strings, bytes with NULs, 5 MiB", test_strings_and_bytes },
        { "nested lists and maps", test_nested },
        { "depth limit and one past", test_depth_limit },
        { "packet attributes as a Map", test_map_attrs },
        { "malformed input refused", test_malformed },
        { "random input", test_random_input },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("codec", tests);
    return cutest_run();
}
