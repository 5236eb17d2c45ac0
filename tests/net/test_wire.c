/* test_wire — the wire format (envelope, HELLO, WHOIS, BYE), its limits
 * and malformed input, the naming cache, address parsing.  In-process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "naming.h"
#include "net.h"
#include "packet_impl.h"
#include "wire.h"

static rvr_packet *sample(size_t big)
{
    rvr_packet *p = rvr_packet_new("sample.tag");
    p->src = rvr_uuid_generate();
    rvr_packet_set_bool(p, "b", false);
    rvr_packet_set_i64(p, "neg", INT64_MIN);
    rvr_packet_set_u64(p, "u", 300);
    rvr_packet_set_f64(p, "d", -0.125);
    rvr_packet_set_str(p, "s", "text");
    rvr_packet_set_bytes(p, "empty", "", 0);
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, -1);
    rvr_list *inner = rvr_list_new();
    rvr_list_append_str(inner, "x");
    rvr_value v = rvr_value_list(inner);
    rvr_list_append(l, &v);
    rvr_packet_set_list(p, "l", l);
    rvr_map *m = rvr_map_new();
    v = rvr_value_u64(7);
    rvr_map_set(m, "seven", &v);
    rvr_packet_set_map(p, "m", m);
    if (big > 0) {
        uint8_t *blob = malloc(big);
        for (size_t i = 0; i < big; i++)
            blob[i] = (uint8_t)(i ^ (i >> 8));
        rvr_packet_set_bytes(p, "big", blob, big);
        free(blob);
    }
    return p;
}

static void roundtrip(size_t big)
{
    rvr_packet *p = sample(big);
    rvr_uuid dst = rvr_uuid_generate();
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &dst, p), RVR_OK);
    CU_ASSERT_EQUAL(b.len, rvr_wire_packet_size(&dst, p));
    uint32_t len;
    uint8_t type;
    rvr_wire_header(b.data, &len, &type);
    CU_ASSERT_EQUAL(type, RVR_FRAME_MSG);
    CU_ASSERT_EQUAL(len, b.len - RVR_WIRE_HDR_LEN);
    rvr_wire_limits lim;
    rvr_wire_limits_default(&lim);
    rvr_wire_msg h;
    rvr_packet *q = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg(b.data + RVR_WIRE_HDR_LEN, len, &lim, &h, &q), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&h.dst, &dst));
    CU_ASSERT(rvr_packet_equal(p, q));
    CU_ASSERT_EQUAL(h.schema, 0);
    CU_ASSERT_EQUAL(h.body_len, 0);
    rvr_packet_free(q);
    rvr_packet_free(p);
    rvr_buf_free(&b);
}

static void test_roundtrip(void) { roundtrip(0); }
/* nanopb's pb_size_t is 16 bits here: 6 MiB must still go through. */
static void test_roundtrip_6mib(void) { roundtrip(6u << 20); }

/* The one-pass encoder of the small-send path writes exactly the bytes of
 * the general one, for every kind of value, no attributes, long tags and
 * keys, and sizes around its buffer's end; what does not fit is left to
 * the general path (0), never cut short. */
static void test_small_encoder(void)
{
    rvr_uuid dst = rvr_uuid_generate();
    char name[RVR_MAX_NAME + 1];
    memset(name, 'k', RVR_MAX_NAME);
    name[RVR_MAX_NAME] = '\0';
    rvr_packet *ps[5];
    ps[0] = sample(0);
    ps[1] = rvr_packet_new("empty");
    ps[2] = rvr_packet_new(name);   /* a 255-byte tag */
    rvr_packet_set_str(ps[2], name, "a 255-byte key");
    ps[3] = rvr_packet_new("m");
    rvr_packet_set_bytes(ps[3], "data", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64);
    ps[4] = rvr_packet_new("many");
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        rvr_packet_set_i64(ps[4], k, (int64_t)i << (i % 60));
    }
    uint8_t buf[4096], *f;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        ps[i]->src = rvr_uuid_generate();
        rvr_buf b = { 0 };
        CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &dst, ps[i]), RVR_OK);
        size_t n = rvr_wire_put_packet_small(buf, sizeof buf, &dst, ps[i], &f);
        CU_ASSERT_EQUAL(n, b.len);
        CU_ASSERT(n == b.len && memcmp(f, b.data, n) == 0);
        CU_ASSERT(f >= buf && f + n <= buf + sizeof buf);
        /* Every buffer size near the frame's: it fits exactly when the
         * frame and the envelope's room do, else 0. */
        for (size_t cap = n > 64 ? n - 64 : 1; cap < n + 320 && cap <= sizeof buf; cap++) {
            size_t k = rvr_wire_put_packet_small(buf, cap, &dst, ps[i], &f);
            CU_ASSERT(k == 0 || (k == n && f >= buf && f + k <= buf + cap &&
                                 memcmp(f, b.data, n) == 0));
        }
        rvr_buf_free(&b);
        rvr_packet_free(ps[i]);
    }
}

static void test_typed_fields(void)
{
    uint8_t body[3] = { 8, 150, 1 };
    rvr_map *attrs = rvr_map_new();
    rvr_value v = rvr_value_bool(true);
    rvr_map_set(attrs, "extra", &v);
    rvr_wire_msg m = { .src = rvr_uuid_generate(), .dst = rvr_uuid_generate(), .tag = "pi.Work",
                       .tag_len = 7, .schema = 0x1122334455667788ull, .body = body, .body_len = 3,
                       .attrs = attrs };
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_msg(&b, &m), RVR_OK);
    CU_ASSERT_EQUAL(b.len, rvr_wire_msg_size(&m));
    rvr_wire_msg h;
    rvr_packet *q;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg(b.data + 5, b.len - 5, NULL, &h, &q), RVR_OK);
    CU_ASSERT_EQUAL(h.schema, m.schema);
    CU_ASSERT(h.body_len == 3 && memcmp(h.body, body, 3) == 0);
    CU_ASSERT(rvr_map_equal(rvr_packet_attrs(q), attrs));
    rvr_packet_free(q);
    rvr_map_free(attrs);
    rvr_buf_free(&b);
}

/* Every prefix of a valid envelope, and every single-byte corruption, is
 * rejected or decoded: never a crash, never a leak (run under ASan). */
static void test_malformed(void)
{
    rvr_packet *p = sample(100);
    rvr_uuid dst = rvr_uuid_generate();
    rvr_buf b = { 0 };
    rvr_wire_put_packet(&b, &dst, p);
    rvr_packet_free(p);
    const uint8_t *pl = b.data + RVR_WIRE_HDR_LEN;
    size_t n = b.len - RVR_WIRE_HDR_LEN;
    rvr_wire_msg h;
    rvr_packet *q;
    for (size_t cut = 0; cut < n; cut++) {
        rvr_status st = rvr_wire_get_msg(pl, cut, NULL, &h, &q);
        if (st == RVR_OK)
            rvr_packet_free(q);   /* a cut between fields can be a valid shorter envelope */
        else
            CU_ASSERT(st == RVR_EPROTO || st == RVR_ELIMIT);
    }
    uint8_t *copy = malloc(n);
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, pl, n);
        copy[i] ^= 0xa5;
        if (rvr_wire_get_msg(copy, n, NULL, &h, &q) == RVR_OK)
            rvr_packet_free(q);
    }
    free(copy);
    CU_ASSERT_EQUAL(rvr_wire_get_msg((const uint8_t *)"", 0, NULL, &h, &q), RVR_EPROTO);
    rvr_buf_free(&b);
}

static void test_limits(void)
{
    rvr_packet *p = rvr_packet_new("t");
    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        rvr_packet_set_i64(p, k, i);
    }
    rvr_uuid dst = rvr_uuid_generate();
    rvr_buf b = { 0 };
    rvr_wire_put_packet(&b, &dst, p);
    rvr_wire_limits lim;
    rvr_wire_limits_default(&lim);
    lim.max_attrs = 9;
    rvr_wire_msg h;
    rvr_packet *q;
    CU_ASSERT_EQUAL(rvr_wire_get_msg(b.data + 5, b.len - 5, &lim, &h, &q), RVR_ELIMIT);
    lim.max_attrs = 10;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg(b.data + 5, b.len - 5, &lim, &h, &q), RVR_OK);
    rvr_packet_free(q);
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

static void test_control(void)
{
    uint8_t pre[RVR_WIRE_PREAMBLE_LEN];
    rvr_wire_preamble(pre);
    uint16_t v;
    CU_ASSERT_EQUAL(rvr_wire_check_preamble(pre, &v), RVR_OK);
    CU_ASSERT_EQUAL(v, RVR_WIRE_VERSION);
    pre[0] = 'X';
    CU_ASSERT_EQUAL(rvr_wire_check_preamble(pre, &v), RVR_EPROTO);

    rvr_wire_hello h = { .vm_id = rvr_uuid_generate(), .peer_vm_id = rvr_uuid_generate(),
                         .listen_addr = "127.0.0.1:7001", .status = RVR_HELLO_DUPLICATE,
                         .reason = "why not", .max_frame = 1 << 20 };
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_hello(&b, &h), RVR_OK);
    rvr_wire_hello g;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_hello(b.data + 5, b.len - 5, &g), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&g.vm_id, &h.vm_id) && rvr_uuid_eq(&g.peer_vm_id, &h.peer_vm_id));
    CU_ASSERT_STRING_EQUAL(g.listen_addr, h.listen_addr);
    CU_ASSERT_STRING_EQUAL(g.reason, h.reason);
    CU_ASSERT_EQUAL(g.status, h.status);
    CU_ASSERT_EQUAL(g.max_frame, h.max_frame);
    b.len = 0;

    rvr_wire_whois w = { .vr = rvr_uuid_generate(), .req = 99, .vm_id = rvr_uuid_generate(),
                         .addr = "[::1]:5" };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_whois(&b, RVR_FRAME_WHOIS_REPLY, &w), RVR_OK);
    CU_ASSERT_EQUAL(b.data[4], RVR_FRAME_WHOIS_REPLY);
    rvr_wire_whois x;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_whois(b.data + 5, b.len - 5, &x), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&x.vr, &w.vr) && rvr_uuid_eq(&x.vm_id, &w.vm_id) && x.req == 99);
    CU_ASSERT_STRING_EQUAL(x.addr, w.addr);
    b.len = 0;

    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_bye(&b, "stopping"), RVR_OK);
    char reason[64];
    CU_ASSERT_EQUAL(rvr_wire_get_bye(b.data + 5, b.len - 5, reason, sizeof reason), RVR_OK);
    CU_ASSERT_STRING_EQUAL(reason, "stopping");
    /* A HELLO without a VM id is refused. */
    CU_ASSERT_EQUAL(rvr_wire_get_hello((const uint8_t *)"", 0, &g), RVR_EPROTO);
    rvr_buf_free(&b);
}

static void test_naming(void)
{
    rvr_naming *n;
    CU_ASSERT_EQUAL_FATAL(rvr_naming_new(&n), RVR_OK);
    enum { N = 20000 };
    rvr_uuid *vrs = malloc(N * sizeof *vrs);
    rvr_uuid vm1 = rvr_uuid_generate(), vm2 = rvr_uuid_generate(), out;
    for (int i = 0; i < N; i++) {
        vrs[i] = rvr_uuid_generate();
        rvr_naming_learn(n, &vrs[i], i % 2 ? &vm1 : &vm2);
    }
    CU_ASSERT_EQUAL(rvr_naming_count(n), N);
    bool all = true;
    for (int i = 0; i < N; i++)
        all &= rvr_naming_lookup(n, &vrs[i], &out) && rvr_uuid_eq(&out, i % 2 ? &vm1 : &vm2);
    CU_ASSERT(all);
    rvr_naming_forget(n, &vrs[0]);
    CU_ASSERT(!rvr_naming_lookup(n, &vrs[0], &out));
    rvr_naming_forget_vm(n, &vm1);
    CU_ASSERT_EQUAL(rvr_naming_count(n), N / 2 - 1);
    all = true;
    for (int i = 1; i < N; i++)
        all &= rvr_naming_lookup(n, &vrs[i], &out) == (i % 2 == 0);
    CU_ASSERT(all);
    rvr_naming_learn(n, &vrs[2], &vm1);   /* moved */
    CU_ASSERT(rvr_naming_lookup(n, &vrs[2], &out) && rvr_uuid_eq(&out, &vm1));
    free(vrs);
    rvr_naming_free(n);
}

static void test_addr(void)
{
    rvr_sockaddr a;
    char buf[RVR_ADDR_STRLEN];
    CU_ASSERT_EQUAL(rvr_addr_parse("127.0.0.1:7001", NULL, &a), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_addr_format(&a, buf, sizeof buf), "127.0.0.1:7001");
    CU_ASSERT_EQUAL(rvr_addr_parse("[::1]:80", NULL, &a), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_addr_format(&a, buf, sizeof buf), "[::1]:80");
    CU_ASSERT_EQUAL(rvr_addr_parse("9", "127.0.0.1", &a), RVR_OK);
    CU_ASSERT_EQUAL(rvr_addr_port(&a), 9);
    CU_ASSERT_EQUAL(rvr_addr_parse(":0", NULL, &a), RVR_OK);
    CU_ASSERT(rvr_addr_is_wildcard(&a));
    CU_ASSERT_EQUAL(rvr_addr_parse("1.2.3.4:65536", NULL, &a), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_addr_parse("1.2.3.4:", NULL, &a), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_addr_parse("::1:80", NULL, &a), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_addr_parse("", NULL, &a), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_addr_parse_numeric("localhost:80", &a) == RVR_OK, false);
}

static const CU_TestInfo tests[] = {
    { "envelope round trip, exact size", test_roundtrip },
    { "envelope with a 6 MiB bytes attribute", test_roundtrip_6mib },
    { "one-pass encoder of small packets: the same bytes", test_small_encoder },
    { "schema, typed body and attributes", test_typed_fields },
    { "truncated and corrupted envelopes", test_malformed },
    { "attribute limit", test_limits },
    { "preamble, HELLO, WHOIS, BYE", test_control },
    { "naming cache", test_naming },
    { "addresses", test_addr },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("wire", tests);
    return cutest_run();
}
