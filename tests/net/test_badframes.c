/* test_badframes — bad bytes against a live VM.  Each case opens its own
 * raw TCP connection to node A (started with --max-frame=65536,
 * RIVER_MAX_ATTRS=100, RIVER_MAX_DEPTH=8), sends something wrong, and
 * checks that A closes that connection, logs why, and still serves: it
 * answers a ping over its connection with this VM, and exchanges messages
 * with node B. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../vmtest.h"
#include "nettest.h"
#include "packet_impl.h"
#include "schema_wire.h"
#include "wire.h"

#define SELF vmtest_self

static node A, B;
static bool started;

static void test_start(void)
{
    /* A coalesces a stream whatever the pace (test_raw_stream). */
    static const char *const env[] = { "RIVER_MAX_ATTRS=100", "RIVER_MAX_DEPTH=8",
                                       "RIVER_COALESCE_US=100000", NULL };
    static const char *const args[] = { "--max-frame=65536", NULL };
    CU_ASSERT_FATAL(node_start(SELF, &A, "A", env, args));
    CU_ASSERT_FATAL(node_start(SELF, &B, "B", NULL, NULL));
    started = true;
}

/* A valid handshake as a made-up VM; the socket when A accepted it. */
static int handshake(void)
{
    rvr_uuid vm;
    int fd = raw_handshake(A.addr, &vm);
    if (fd >= 0 && !rvr_uuid_eq(&vm, &A.vm)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void header(uint8_t *h, uint32_t len, uint8_t type)
{
    h[0] = (uint8_t)(len >> 24);
    h[1] = (uint8_t)(len >> 16);
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    h[4] = type;
}

/* Sends bytes (after a handshake when `hs`), expects A to close the
 * connection, to have logged `reason`, and to still answer. */
static void expect_closed(bool hs, const void *bytes, size_t n, bool shut, const char *reason)
{
    CU_ASSERT_FATAL(started);
    int fd = hs ? handshake() : raw_connect(A.addr);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(raw_write(fd, bytes, n));
    if (shut)
        shutdown(fd, SHUT_WR);
    size_t got = 0;
    CU_ASSERT(raw_wait_close(fd, &got));
    close(fd);
    CU_ASSERT(node_ping(SELF, &A));
    if (reason != NULL) {
        bool logged = node_log_has(&A, reason);
        if (!logged)
            fprintf(stderr, "A's log lacks \"%s\"\n", reason);
        CU_ASSERT(logged);
    }
}

static void msg_frame(rvr_buf *b, rvr_packet *p)
{
    p->src = rvr_uuid_generate();   /* any sender */
    rvr_wire_put_packet(b, &A.vr, p);
    rvr_packet_free(p);
}

static void test_wrong_magic(void)
{
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_closed(false, req, sizeof req - 1, false, "wrong magic");
}

static void test_version(void)
{
    /* A answers with its own preamble first, so both sides can tell. */
    int fd = raw_connect(A.addr);
    CU_ASSERT_FATAL(fd >= 0);
    const uint8_t pre[8] = { 'R', 'I', 'V', 'R', 0, 99, 0, 0 };
    CU_ASSERT(raw_write(fd, pre, sizeof pre));
    uint8_t theirs[8];
    CU_ASSERT_EQUAL(recv(fd, theirs, 8, MSG_WAITALL), 8);
    uint16_t v = 0;
    CU_ASSERT_EQUAL(rvr_wire_check_preamble(theirs, &v), RVR_OK);
    CU_ASSERT_EQUAL(v, RVR_WIRE_VERSION);
    CU_ASSERT(raw_wait_close(fd, NULL));
    close(fd);
    CU_ASSERT(node_ping(SELF, &A));
    CU_ASSERT(node_log_has(&A, "protocol version mismatch: the peer speaks River protocol 99"));
}

static void test_random(void)
{
    uint8_t junk[4096];
    srand(42);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rand();
    expect_closed(true, junk, sizeof junk, false, NULL);
    expect_closed(false, junk, sizeof junk, false, NULL);
}

static void test_truncated(void)
{
    uint8_t f[RVR_WIRE_HDR_LEN + 50];
    header(f, 100, RVR_FRAME_MSG);
    memset(f + RVR_WIRE_HDR_LEN, 0x0a, 50);
    expect_closed(true, f, sizeof f, true, "truncated frame");
    expect_closed(false, "RIV", 3, true, "during the handshake");
}

static void test_oversized(void)
{
    rvr_packet *p = rvr_packet_new("big");
    static uint8_t blob[100 * 1024];
    rvr_packet_set_bytes(p, "blob", blob, sizeof blob);
    rvr_buf b = { 0 };
    msg_frame(&b, p);
    expect_closed(true, b.data, b.len, false, "exceeds the limit of 65536");
    rvr_buf_free(&b);
}

static void test_huge_length(void)
{
    uint8_t h[RVR_WIRE_HDR_LEN];
    header(h, 0xffffffffu, RVR_FRAME_MSG);
    expect_closed(true, h, sizeof h, false, "frame of 4294967295 bytes exceeds the limit");
}

static void test_garbled(void)
{
    uint8_t f[RVR_WIRE_HDR_LEN + 32];
    header(f, 32, RVR_FRAME_MSG);
    memset(f + RVR_WIRE_HDR_LEN, 0xff, 32);
    expect_closed(true, f, sizeof f, false, "malformed envelope");
    header(f, 0, 99);
    expect_closed(true, f, RVR_WIRE_HDR_LEN, false, "unknown frame type 99");
    /* An empty MSG frame: refused at once.  Nothing past its end is read
     * as its content (these bytes would make a packet, then a header far
     * over --max-frame, logged otherwise). */
    uint8_t e[RVR_WIRE_HDR_LEN + 300];
    header(e, 0, RVR_FRAME_MSG);
    memset(e + RVR_WIRE_HDR_LEN, 1, sizeof e - RVR_WIRE_HDR_LEN);
    size_t before = node_log_count(&A, "malformed envelope");
    expect_closed(true, e, sizeof e, false, NULL);
    CU_ASSERT_EQUAL(node_log_count(&A, "malformed envelope"), before + 1);
}

static void test_limits(void)
{
    rvr_packet *p = rvr_packet_new("many");
    for (int i = 0; i < 101; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i);
        rvr_packet_set_i64(p, name, i);
    }
    rvr_buf b = { 0 };
    msg_frame(&b, p);
    expect_closed(true, b.data, b.len, false, "over a limit");
    rvr_buf_free(&b);

    p = rvr_packet_new("deep");
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 1);
    for (int d = 1; d < 9; d++) {
        rvr_list *outer = rvr_list_new();
        rvr_value v = rvr_value_list(l);
        rvr_list_append(outer, &v);
        l = outer;
    }
    rvr_packet_set_list(p, "nest", l);   /* depth 9 > 8 */
    memset(&b, 0, sizeof b);
    msg_frame(&b, p);
    expect_closed(true, b.data, b.len, false, NULL);
    rvr_buf_free(&b);
}

static void test_msg_before_hello(void)
{
    rvr_buf b = { 0 };
    uint8_t pre[RVR_WIRE_PREAMBLE_LEN];
    rvr_wire_preamble(pre);
    rvr_buf_append(&b, pre, sizeof pre);
    msg_frame(&b, rvr_packet_new("early"));
    expect_closed(false, b.data, b.len, false, "expected HELLO");
    rvr_buf_free(&b);
}

/* ---- typed messages: SCHEMA frames and bodies ---- */

/* Hand-made schemas (no generated code): a recursive N { N kids[] @1; },
 * B { int64 v[2] @1; } (bounded), and Echo { string who @1; int64 n @2; }. */
static const rvr_schema n_schema;
static const rvr_field n_fields[] = {
    { .name = "kids", .number = 1, .type = RVR_F_MESSAGE, .flags = RVR_FIELD_ARRAY,
      .message = &n_schema },
};
static const rvr_schema n_schema = { .abi = RVR_SCHEMA_ABI, .name = "t.N", .tag = "t.N",
                                     .fingerprint = 0x7777, .fields = n_fields, .nfields = 1 };
static const rvr_field b_fields[] = {
    { .name = "v", .number = 1, .type = RVR_F_INT64, .flags = RVR_FIELD_ARRAY, .bound = 2 },
};
static const rvr_schema b_schema = { .abi = RVR_SCHEMA_ABI, .name = "t.B", .tag = "t.B",
                                     .fingerprint = 0x8888, .fields = b_fields, .nfields = 1 };
static const rvr_field echo_fields[] = {
    { .name = "who", .number = 1, .type = RVR_F_STRING },
    { .name = "n", .number = 2, .type = RVR_F_INT64 },
};
static const rvr_schema echo_schema = { .abi = RVR_SCHEMA_ABI, .name = "t.Echo", .tag = "echo",
                                        .fingerprint = 0x9999, .fields = echo_fields,
                                        .nfields = 2 };

/* A typed MSG frame to A from src: fingerprint fp, body as given. */
static void typed_frame(rvr_buf *b, const rvr_uuid *src, const char *tag, uint64_t fp,
                        const uint8_t *body, size_t len)
{
    rvr_wire_msg m = { .src = *src, .dst = A.vr, .tag = tag, .tag_len = strlen(tag),
                       .schema = fp, .body = body, .body_len = len };
    rvr_wire_put_msg(b, &m);
}

static void test_schema_frames(void)
{
    uint8_t f[RVR_WIRE_HDR_LEN + 5];
    header(f, 5, RVR_FRAME_SCHEMA);
    memset(f + RVR_WIRE_HDR_LEN, 0xff, 5);
    expect_closed(true, f, sizeof f, false, "bad SCHEMA frame: malformed");
    /* Schema{fp 1, [MessageType{m, m, fp 1, [Field{f, @1, MESSAGE, index 9}]}]} */
    static const uint8_t bad_ref[] = {
        0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0x12, 27,
        0x0a, 1, 'm', 0x12, 1, 'm', 0x19, 1, 0, 0, 0, 0, 0, 0, 0, 0x2a, 10,
        0x0a, 1, 'f', 0x10, 1, 0x18, 12, 0x30, 9,
    };
    uint8_t g[RVR_WIRE_HDR_LEN + sizeof bad_ref];
    header(g, sizeof bad_ref, RVR_FRAME_SCHEMA);
    memcpy(g + RVR_WIRE_HDR_LEN, bad_ref, sizeof bad_ref);
    expect_closed(true, g, sizeof g, false, "malformed or inconsistent description");
    /* A typed message whose schema was never described. */
    rvr_buf b = { 0 };
    rvr_uuid src = rvr_uuid_generate();
    typed_frame(&b, &src, "t", 0x1234, (const uint8_t *)"\x08\x01", 2);
    expect_closed(true, b.data, b.len, false, "its schema was never described");
    rvr_buf_free(&b);
}

static void test_typed_limits(void)
{
    /* Five levels of N: a list and a map each, depth 10 > RIVER_MAX_DEPTH=8. */
    uint8_t body[64];
    size_t len = 0;
    for (int level = 0; level < 5; level++) {
        memmove(body + 2, body, len);
        body[0] = 0x0a;
        body[1] = (uint8_t)len;
        len += 2;
    }
    rvr_buf b = { 0 };
    rvr_uuid src = rvr_uuid_generate();
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_schema(&b, &n_schema), RVR_OK);
    typed_frame(&b, &src, "t.N", n_schema.fingerprint, body, len);
    expect_closed(true, b.data, b.len, false, "over a limit (depth, array bound");
    rvr_buf_free(&b);
    /* Three elements in an array of at most two. */
    static const uint8_t three[] = { 0x0a, 3, 1, 2, 3 };
    memset(&b, 0, sizeof b);
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_schema(&b, &b_schema), RVR_OK);
    typed_frame(&b, &src, "t.B", b_schema.fingerprint, three, sizeof three);
    expect_closed(true, b.data, b.len, false, NULL);
    rvr_buf_free(&b);
}

/* Reads frames from fd until a MSG; its packet, or NULL.  ids: the
 * connection's last src and dst, for a MSG that leaves them out (then
 * *elided, if given, is set). */
static rvr_packet *raw_read_msg(int fd, rvr_wire_ids *ids, bool *elided)
{
    uint8_t *p = malloc(1u << 20);
    for (int i = 0; p != NULL && i < 16; i++) {
        uint32_t len;
        uint8_t type;
        if (!raw_read_frame(fd, p, 1u << 20, &len, &type))
            break;
        rvr_packet *pkt = NULL;
        rvr_wire_msg m;
        if (type == RVR_FRAME_MSG && rvr_wire_get_msg_in(p, len, NULL, ids, &m, &pkt) != RVR_OK)
            pkt = NULL;
        if (elided != NULL)
            *elided = len > 0 && p[0] != (E_SRC << 3 | 2);
        if (type == RVR_FRAME_MSG) {
            free(p);
            return pkt;
        }
    }
    free(p);
    return NULL;
}

/* A client that only speaks the protocol: a SCHEMA, then a typed "echo"
 * to A (which has no such schema); A reads it by name and echoes it. */
static void test_raw_typed_client(void)
{
    CU_ASSERT_FATAL(started);
    int fd = handshake();
    CU_ASSERT_FATAL(fd >= 0);
    /* Echo{who = "raw", n = -5}: int64 as a two's-complement varint. */
    static const uint8_t body[] = { 0x0a, 3, 'r', 'a', 'w', 0x10, 0xfb, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x01 };
    rvr_buf b = { 0 };
    rvr_uuid src = rvr_uuid_generate();
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_schema(&b, &echo_schema), RVR_OK);
    typed_frame(&b, &src, "echo", echo_schema.fingerprint, body, sizeof body);
    CU_ASSERT(raw_write(fd, b.data, b.len));
    rvr_buf_free(&b);
    rvr_wire_ids ids = { .set = false };
    rvr_packet *r = raw_read_msg(fd, &ids, NULL);
    close(fd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(r), "echo.reply");
    const char *who = NULL;
    int64_t n = 0;
    CU_ASSERT(rvr_packet_get_str(r, "who", &who, NULL) == RVR_OK && strcmp(who, "raw") == 0);
    CU_ASSERT(rvr_packet_get_i64(r, "n", &n) == RVR_OK && n == -5);
    rvr_packet_free(r);
}

/* A raw client asks A for a burst of messages to its own VR: they come
 * back whole and in order, most without src and dst (the MSG before
 * names them: docs/protocol.md section 6), read as the document says. */
static void test_raw_stream(void)
{
    CU_ASSERT_FATAL(started);
    int fd = handshake();
    CU_ASSERT_FATAL(fd >= 0);
    const uint64_t n = 3000;
    rvr_uuid me = rvr_uuid_generate();
    rvr_packet *cmd = rvr_packet_new("burst");
    rvr_packet_set_uuid(cmd, "to", &me);
    rvr_packet_set_u64(cmd, "n", n);
    cmd->src = me;
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &A.vr, cmd), RVR_OK);
    rvr_packet_free(cmd);
    CU_ASSERT(raw_write(fd, b.data, b.len));
    rvr_buf_free(&b);
    rvr_wire_ids ids = { .set = false };
    uint64_t got = 0, elided = 0;
    bool order = true, done = false;
    while (!done) {
        bool el = false;
        rvr_packet *r = raw_read_msg(fd, &ids, &el);
        if (r == NULL)
            break;
        order = order && rvr_uuid_eq(rvr_packet_src(r), &A.vr) && rvr_uuid_eq(&ids.dst, &me);
        if (strcmp(rvr_packet_tag(r), "seq") == 0) {
            uint64_t seq = UINT64_MAX;
            rvr_packet_get_u64(r, "seq", &seq);
            order = order && seq == got;
            got++;
            elided += el;
        }
        done = strcmp(rvr_packet_tag(r), "burst.done") == 0;
        rvr_packet_free(r);
    }
    close(fd);
    CU_ASSERT(done && order);
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT(elided > 0);
    printf("(%llu of %llu without src and dst) ", (unsigned long long)elided,
           (unsigned long long)got);
}

/* After all that, A and B still talk, and this VM is still connected to A. */
static void test_still_serving(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *e = rvr_packet_new("expect");
    rvr_list *l = rvr_list_new();
    rvr_value v = rvr_value_uuid(&B.vr);
    rvr_list_append(l, &v);
    rvr_packet_set_list(e, "from", l);
    rvr_packet_set_u64(e, "n", 1000);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &A.vr, e), RVR_OK);
    rvr_packet *bu = rvr_packet_new("burst");
    rvr_packet_set_uuid(bu, "to", &A.vr);
    rvr_packet_set_u64(bu, "n", 1000);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &B.vr, bu), RVR_OK);
    rvr_packet *r = await_tag(SELF, "expect.done", &A.vr, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    bool ok = false;
    rvr_packet_get_bool(r, "ok", &ok);
    CU_ASSERT(ok);
    rvr_packet_free(r);
    rvr_packet_free(await_tag(SELF, "burst.done", &B.vr, 30000));
    rvr_peer_info *peers;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rvr_vm_peers(SELF, &peers, &n), RVR_OK);
    bool a_up = false;
    for (size_t i = 0; i < n; i++)
        a_up |= rvr_uuid_eq(&peers[i].id, &A.vm);
    CU_ASSERT(a_up);
    free(peers);
    CU_ASSERT(node_stop(SELF, &A));
    CU_ASSERT(node_stop(SELF, &B));
}

static const CU_TestInfo tests[] = {
    { "two VMs start", test_start },
    { "wrong magic", test_wrong_magic },
    { "protocol version mismatch, reported on both sides", test_version },
    { "random bytes (before and after the handshake)", test_random },
    { "truncated frame, truncated preamble", test_truncated },
    { "frame over --max-frame", test_oversized },
    { "huge declared length", test_huge_length },
    { "garbled envelope, unknown frame type, an empty message", test_garbled },
    { "too many attributes, too deep", test_limits },
    { "a message before HELLO", test_msg_before_hello },
    { "bad SCHEMA frames, an undescribed typed message", test_schema_frames },
    { "typed bodies over a limit (depth, array bound)", test_typed_limits },
    { "a raw client's typed message, read by name", test_raw_typed_client },
    { "a raw client reads a stream without src and dst", test_raw_stream },
    { "the VM still serves others", test_still_serving },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("badframes", tests);
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    return vmtest_main(argc, argv, suites);
}
