/* test_typed.c — typed messages in the mailbox, with two hand-written
 * versions of one message (the shape riverc emits):
 *
 *   v1: message Work { uint64 samples @1; string host @2; Mode mode @3; }
 *   v2: message Work { uint64 samples @1; Mode mode @3; double weight @4; ... }
 *
 * Covers: a typed send/recv in one VM (a move), the dynamic view of a typed
 * message (recv and attribute matches), a dynamic packet received typed,
 * an unconvertible packet staying queued, and a v1 message received as v2
 * (by field number; unknown fields kept as extra attributes). */
#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "vmtest.h"

/* ---- v1 ---------------------------------------------------------------- */

typedef struct work1 {
    uint64_t samples;
    char *host;
    int32_t mode;
} work1;

#define work1_FIELDLIST(X, a) \
    X(a, STATIC, SINGULAR, UINT64, samples, 1) \
    X(a, POINTER, SINGULAR, STRING, host, 2) \
    X(a, STATIC, SINGULAR, INT32, mode, 3)
#define work1_CALLBACK NULL
#define work1_DEFAULT NULL
PB_BIND(work1, work1, AUTO)

static void work1_init(void *m) { memset(m, 0, sizeof(work1)); ((work1 *)m)->samples = 7; }
static void work1_clear(void *m) { free(((work1 *)m)->host); memset(m, 0, sizeof(work1)); }

/* Protobuf through nanopb, as generated code does. */
static rvr_status pb_enc(const pb_msgdesc_t *d, const void *m, uint8_t **buf, size_t *len)
{
    size_t n = 0;
    if (!pb_get_encoded_size(&n, d, m))
        return RVR_EPROTO;
    *buf = malloc(n ? n : 1);
    pb_ostream_t os = pb_ostream_from_buffer(*buf, n);
    if (!pb_encode(&os, d, m)) {
        free(*buf);
        return RVR_EPROTO;
    }
    *len = os.bytes_written;
    return RVR_OK;
}

static rvr_status work1_encode(const void *m, uint8_t **buf, size_t *len)
{
    return pb_enc(&work1_msg, m, buf, len);
}

static rvr_status work1_decode(const uint8_t *buf, size_t len, void *m)
{
    work1_init(m);
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    if (!pb_decode_noinit(&is, &work1_msg, m)) {
        work1_clear(m);
        return RVR_EPROTO;
    }
    return RVR_OK;
}

static const rvr_enum_value mode_values[] = { { "FAST", 0 }, { "EXACT", 1 } };
static const rvr_enum_schema mode_enum = { "t.Mode", mode_values, 2 };

static const rvr_field work1_fields[] = {
    { "samples", 1, RVR_F_UINT64, RVR_FIELD_DEFAULT, offsetof(work1, samples), 0, 8, 0, NULL, NULL, "7", { .u = 7 } },
    { "host", 2, RVR_F_STRING, 0, offsetof(work1, host), 0, sizeof(char *), 0, NULL, NULL, NULL, { 0 } },
    { "mode", 3, RVR_F_ENUM, 0, offsetof(work1, mode), 0, 4, 0, NULL, &mode_enum, NULL, { 0 } },
};

static const rvr_schema work1_schema = {
    RVR_SCHEMA_ABI, "t.Work", "t.Work", 0x1111, "t.rvr", sizeof(work1), work1_fields, 3,
    false, 0, work1_init, work1_clear, work1_encode, work1_decode, &work1_msg,
};

/* ---- v2: open-ended, host removed, weight added ------------------------------ */

typedef struct work2 {
    uint64_t samples;
    int32_t mode;
    double weight;
    rvr_map *extra;
} work2;

#define work2_FIELDLIST(X, a) \
    X(a, STATIC, SINGULAR, UINT64, samples, 1) \
    X(a, STATIC, SINGULAR, INT32, mode, 3) \
    X(a, STATIC, SINGULAR, DOUBLE, weight, 4)
#define work2_CALLBACK NULL
#define work2_DEFAULT NULL
PB_BIND(work2, work2, AUTO)

static void work2_init(void *m) { memset(m, 0, sizeof(work2)); ((work2 *)m)->weight = 1.5; }
static void work2_clear(void *m) { rvr_map_free(((work2 *)m)->extra); memset(m, 0, sizeof(work2)); }

static rvr_status work2_encode(const void *m, uint8_t **buf, size_t *len)
{
    return pb_enc(&work2_msg, m, buf, len);
}

static rvr_status work2_decode(const uint8_t *buf, size_t len, void *m)
{
    work2_init(m);
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    if (!pb_decode_noinit(&is, &work2_msg, m)) {
        work2_clear(m);
        return RVR_EPROTO;
    }
    return RVR_OK;
}

static const rvr_field work2_fields[] = {
    { "samples", 1, RVR_F_UINT64, 0, offsetof(work2, samples), 0, 8, 0, NULL, NULL, NULL, { 0 } },
    { "mode", 3, RVR_F_ENUM, 0, offsetof(work2, mode), 0, 4, 0, NULL, &mode_enum, NULL, { 0 } },
    { "weight", 4, RVR_F_DOUBLE, RVR_FIELD_DEFAULT, offsetof(work2, weight), 0, 8, 0, NULL, NULL, "1.5", { .d = 1.5 } },
};

static const rvr_schema work2_schema = {
    RVR_SCHEMA_ABI, "t.Work", "t.Work", 0x2222, "t2.rvr", sizeof(work2), work2_fields, 3,
    true, offsetof(work2, extra), work2_init, work2_clear, work2_encode, work2_decode, &work2_msg,
};

/* ---- tests ----------------------------------------------------------------- */

static work1 make_work1(uint64_t samples, const char *host, int32_t mode)
{
    work1 w;
    work1_init(&w);
    w.samples = samples;
    w.host = strdup(host);
    w.mode = mode;
    return w;
}

static void test_typed_roundtrip(void)
{
    rvr_vr *self = vmtest_self;
    work1 w = make_work1(42, "alpha", 1);
    char *host = w.host;
    CU_ASSERT_EQUAL_FATAL(rvr_send_typed(self, rvr_self(self), &work1_schema, &w), RVR_OK);
    CU_ASSERT_PTR_NULL(w.host);   /* the contents moved */
    work1 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work1_schema, NULL, 0, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.samples, 42);
    CU_ASSERT_PTR_EQUAL(r.host, host);   /* moved, not copied */
    CU_ASSERT_STRING_EQUAL(r.host, "alpha");
    CU_ASSERT_EQUAL(r.mode, 1);
    work1_clear(&r);
}

static void test_send_error_keeps_message(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid nobody = rvr_uuid_generate();
    work1 w = make_work1(1, "kept", 0);
    CU_ASSERT_EQUAL(rvr_send_typed(self, &nobody, &work1_schema, &w), RVR_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(w.host, "kept");
    work1_clear(&w);
}

static void test_dynamic_view(void)
{
    rvr_vr *self = vmtest_self;
    work1 a = make_work1(1, "a", 0), b = make_work1(2, "b", 1);
    CU_ASSERT_EQUAL(rvr_send_typed(self, rvr_self(self), &work1_schema, &a), RVR_OK);
    CU_ASSERT_EQUAL(rvr_send_typed(self, rvr_self(self), &work1_schema, &b), RVR_OK);
    /* Selective receive on a declared field, through the dynamic API. */
    rvr_match *m = rvr_match_new();
    rvr_match_eq_str(m, "host", "b");
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, 0, &p), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "t.Work");
    uint64_t samples = 0;
    int64_t mode = -1;
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "samples", &samples), RVR_OK);
    CU_ASSERT_EQUAL(samples, 2);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "mode", &mode), RVR_OK);
    CU_ASSERT_EQUAL(mode, 1);
    rvr_packet_free(p);
    rvr_match_free(m);
    /* The other one is still there, typed, for a typed receive with an extra match. */
    rvr_match *m2 = rvr_match_new();
    rvr_match_eq_u64(m2, "samples", 1);
    work1 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work1_schema, m2, 0, &r), RVR_OK);
    CU_ASSERT_STRING_EQUAL(r.host, "a");
    work1_clear(&r);
    rvr_match_free(m2);
}

static void test_dynamic_to_typed(void)
{
    rvr_vr *self = vmtest_self;
    /* Unconvertible: host is an int.  Convertible: mode given by name. */
    rvr_packet *bad = rvr_packet_new("t.Work");
    rvr_packet_set_i64(bad, "host", 5);
    CU_ASSERT_EQUAL(rvr_send(self, rvr_self(self), bad), RVR_OK);
    rvr_packet *good = rvr_packet_new("t.Work");
    rvr_packet_set_i64(good, "samples", 9);   /* int into uint64: in range */
    rvr_packet_set_str(good, "host", "dyn");
    rvr_packet_set_str(good, "mode", "EXACT");
    CU_ASSERT_EQUAL(rvr_send(self, rvr_self(self), good), RVR_OK);

    work1 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work1_schema, NULL, 0, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.samples, 9);
    CU_ASSERT_STRING_EQUAL(r.host, "dyn");
    CU_ASSERT_EQUAL(r.mode, 1);
    work1_clear(&r);
    /* The bad one never matches a typed receive and stays queued. */
    CU_ASSERT_EQUAL(rvr_recv_typed(self, &work1_schema, NULL, 0, &r), RVR_ETIMEDOUT);
    rvr_packet *p;
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    int64_t h = 0;
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "host", &h), RVR_OK);
    CU_ASSERT_EQUAL(h, 5);
    rvr_packet_free(p);

    /* Missing attributes take defaults; samples defaults to 7. */
    rvr_packet *empty = rvr_packet_new("t.Work");
    CU_ASSERT_EQUAL(rvr_send(self, rvr_self(self), empty), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work1_schema, NULL, 0, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.samples, 7);
    CU_ASSERT_PTR_NULL(r.host);
    work1_clear(&r);
}

static void test_other_version(void)
{
    rvr_vr *self = vmtest_self;
    work1 w = make_work1(100, "old-peer", 1);
    CU_ASSERT_EQUAL(rvr_send_typed(self, rvr_self(self), &work1_schema, &w), RVR_OK);
    work2 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work2_schema, NULL, 0, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.samples, 100);
    CU_ASSERT_EQUAL(r.mode, 1);
    CU_ASSERT_EQUAL(r.weight, 1.5);               /* missing: default */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.extra);        /* unknown field kept by name */
    const rvr_value *host = rvr_map_get(r.extra, "host");
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    CU_ASSERT_EQUAL(host->type, RVR_T_STRING);
    CU_ASSERT_STRING_EQUAL(host->as.str.ptr, "old-peer");
    work2_clear(&r);
}

static void test_open_ended_extra(void)
{
    rvr_vr *self = vmtest_self;
    work2 w;
    work2_init(&w);
    w.samples = 3;
    w.extra = rvr_map_new();
    rvr_value v;
    rvr_value_str(&v, "node-7");
    rvr_map_set(w.extra, "host", &v);
    CU_ASSERT_EQUAL(rvr_send_typed(self, rvr_self(self), &work2_schema, &w), RVR_OK);
    /* Dynamically, the extra attribute sits next to the declared fields. */
    rvr_match *m = rvr_match_new();
    rvr_match_has(m, "host");
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self, m, 0, &p), RVR_OK);
    const char *host;
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "host", &host, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(host, "node-7");
    double weight = 0;
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "weight", &weight), RVR_OK);
    CU_ASSERT_EQUAL(weight, 1.5);
    rvr_packet_free(p);
    rvr_match_free(m);
    /* And typed, the same packet (peek left it) still moves out whole. */
    work2 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed(self, &work2_schema, NULL, 0, &r), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.extra);
    CU_ASSERT_PTR_NOT_NULL(rvr_map_get(r.extra, "host"));
    work2_clear(&r);
}

static void test_recv_any(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *other = rvr_packet_new("t.Other");
    rvr_send(self, rvr_self(self), other);
    work1 w = make_work1(5, "x", 0);
    rvr_send_typed(self, rvr_self(self), &work1_schema, &w);
    const rvr_schema *const want[] = { &work1_schema };
    size_t which = 99;
    work1 r;
    CU_ASSERT_EQUAL_FATAL(rvr_recv_typed_any(self, want, 1, 0, &which, &r), RVR_OK);
    CU_ASSERT_EQUAL(which, 0);
    CU_ASSERT_EQUAL(r.samples, 5);
    work1_clear(&r);
    rvr_packet *p;
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "t.Other");
    rvr_packet_free(p);
}

static void test_registry(void)
{
    CU_ASSERT_EQUAL(rvr_schema_register(&work1_schema), RVR_OK);
    CU_ASSERT_EQUAL(rvr_schema_register(&work1_schema), RVR_OK);   /* again: no-op */
    CU_ASSERT_EQUAL(rvr_schema_register(&work2_schema), RVR_EEXIST);
    CU_ASSERT_PTR_EQUAL(rvr_schema_find("t.Work"), &work1_schema);
    rvr_schema bad = work1_schema;
    bad.abi = 999;
    CU_ASSERT_EQUAL(rvr_schema_register(&bad), RVR_EABI);
}

static void register_suites(void)
{
    static const CU_TestInfo tests[] = {
        { "typed send/recv moves the struct", test_typed_roundtrip },
        { "failed typed send keeps the message", test_send_error_keeps_message },
        { "typed message seen dynamically", test_dynamic_view },
        { "dynamic packet received typed", test_dynamic_to_typed },
        { "another version, by field number", test_other_version },
        { "open-ended extra attributes", test_open_ended_extra },
        { "receive any", test_recv_any },
        { "schema registry", test_registry },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("typed", tests);
}

int main(int argc, char **argv)
{
    return vmtest_main(argc, argv, register_suites);
}
