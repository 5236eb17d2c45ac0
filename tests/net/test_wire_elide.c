/* test_wire_elide — MSGs that leave out src and dst (docs/protocol.md
 * section 6: they have the previous MSG's on the connection).
 *
 * The sender's side: a frame built by the queue's own appender
 * (rvr_frame_elide) leaves them out exactly when the MSG before it in the
 * frame had the same, and a frame's first MSG always names them.  The
 * receiver's side: every reader a connection uses (the kept shape, the
 * common-shape decoder, the full decoder, the zero-copy tail decoder, the
 * peek of the bounce path) reads such a stream back to the packets sent,
 * takes from a mutated elided frame only what the full decoder takes, and
 * refuses an elided MSG with nothing before it or a MSG with only one of
 * the two.  And a frame that is not written bounces a notice for each of
 * its MSGs with the right sender, receiver and tag, elided or not.  And
 * end to end, through the send queue's own appenders: two VRs of this VM
 * stream dynamic, mid-size, typed and map-encoded messages to two VRs of a
 * made-up VM on a raw connection, and every MSG read there as the
 * document says has its own sender and receiver.
 * In-process; the bounce and stream tests use this program's VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bigbuf.h"
#include "cutest.h"
#include "nettest.h"
#include "packet_impl.h"
#include "tnet_v1.rvr.h"
#include "transport_impl.h"
#include "vm.h"
#include "vmtest.h"
#include "wire.h"
#include "wire_shape.h"

#define SELF vmtest_self

static const rvr_uuid vr_a = { { 1, 2, 3, 4, 5, 6, 7, 8, 9 } };
static const rvr_uuid vr_b = { { 9, 8, 7, 6, 5, 4, 3, 2, 1 } };
static const rvr_uuid vr_c = { { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 } };

/* Message i of a stream: its src and dst change in runs of varying length
 * (and sometimes at every message), its tag and attribute sizes too. */
static void pair_of(unsigned i, const rvr_uuid **src, const rvr_uuid **dst)
{
    static const unsigned run[] = { 5, 1, 1, 9, 2, 1, 3, 14, 1, 6 };
    unsigned k = 0, at = 0;
    while (at + run[k % 10] <= i) {
        at += run[k % 10];
        k++;
    }
    *src = k % 3 == 0 ? &vr_a : k % 3 == 1 ? &vr_b : &vr_c;
    *dst = k % 2 == 0 ? &vr_b : &vr_c;
}

static rvr_packet *msg_of(unsigned i, const rvr_uuid *src)
{
    rvr_packet *p = rvr_packet_new(i % 4 == 3 ? "other" : "seq");
    p->src = *src;
    rvr_packet_set_u64(p, "seq", i);
    if (i % 5 != 0) {
        uint8_t pad[300];
        memset(pad, (int)i, sizeof pad);
        rvr_packet_set_bytes(p, "pad", pad, i % 3 == 0 ? 300 : 40);
    }
    return p;
}

/* Appends MSG i to f as the send queue does: written whole at the end,
 * then left without src and dst when the MSG before it had the same.
 * True if it was. */
static bool append(frame *f, unsigned i)
{
    const rvr_uuid *src, *dst;
    pair_of(i, &src, &dst);
    rvr_packet *p = msg_of(i, src);
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, dst, p), RVR_OK);
    CU_ASSERT_FATAL(f->buf.cap - f->buf.len >= b.len);
    uint8_t *q = f->buf.data + f->buf.len;
    memcpy(q, b.data, b.len);
    size_t whole = b.len, n = rvr_frame_elide(f, q, whole);
    f->buf.len += n;
    rvr_buf_free(&b);
    rvr_packet_free(p);
    CU_ASSERT(n == whole || n == whole - RVR_WIRE_IDS_LEN);
    return n != whole;
}

#define STREAM 400

/* A frame of STREAM MSGs; elided[i]: whether MSG i left them out. */
static frame *stream_frame(bool *elided)
{
    frame *f = rvr_frame_new(STREAM * 400);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    f->is_msg = true;
    for (unsigned i = 0; i < STREAM; i++)
        elided[i] = append(f, i);
    return f;
}

/* The next MSG payload of f at *at; its length. */
static const uint8_t *next_msg(const frame *f, size_t *at, size_t *n)
{
    uint32_t len;
    uint8_t type;
    CU_ASSERT_FATAL(f->buf.len - *at >= RVR_WIRE_HDR_LEN);
    rvr_wire_header(f->buf.data + *at, &len, &type);
    CU_ASSERT_EQUAL(type, RVR_FRAME_MSG);
    const uint8_t *p = f->buf.data + *at + RVR_WIRE_HDR_LEN;
    *at += RVR_WIRE_HDR_LEN + len;
    *n = len;
    return p;
}

/* Packet q read as MSG i to *to: the one sent. */
static bool is_msg(const rvr_packet *q, const rvr_uuid *to, unsigned i)
{
    const rvr_uuid *src, *dst;
    pair_of(i, &src, &dst);
    rvr_packet *want = msg_of(i, src);
    bool same = q != NULL && rvr_uuid_eq(rvr_packet_src(q), src) && rvr_uuid_eq(to, dst) &&
                strcmp(rvr_packet_tag(q), rvr_packet_tag(want)) == 0 && rvr_packet_equal(q, want);
    rvr_packet_free(want);
    return same;
}

/* What a connection does (conn_msg.c): the kept shape, else the common
 * shape (offered to learn), else the full decoder. */
static rvr_packet *conn_read(rvr_wire_shape *sh, rvr_wire_ids *ids, const uint8_t *p, size_t n,
                             int *how)
{
    rvr_packet *q = rvr_wire_shape_get(sh, p, n, ids);
    *how = 0;
    if (q == NULL && (q = rvr_wire_get_small(p, n, RVR_MAX_ATTRS, ids)) != NULL) {
        rvr_wire_shape_learn(sh, p, n);
        *how = 1;
    }
    if (q == NULL) {
        rvr_wire_msg h;
        *how = 2;
        if (rvr_wire_get_msg_in(p, n, NULL, ids, &h, &q) != RVR_OK)
            return NULL;
        CU_ASSERT(rvr_uuid_eq(&h.dst, &ids->dst));
    }
    return q;
}

/* The frame leaves out src and dst exactly after a MSG with the same
 * (never in its first MSG), and every reader gives back the MSGs sent. */
static void test_stream(void)
{
    bool elided[STREAM];
    frame *f = stream_frame(elided);
    unsigned nel = 0, by[3] = { 0, 0, 0 };
    CU_ASSERT(!elided[0]);
    for (unsigned i = 1; i < STREAM; i++) {
        const rvr_uuid *s0, *d0, *s1, *d1;
        pair_of(i - 1, &s0, &d0);
        pair_of(i, &s1, &d1);
        CU_ASSERT_EQUAL(elided[i], s0 == s1 && d0 == d1);
        nel += elided[i];
    }
    CU_ASSERT(nel > STREAM / 2 && nel < STREAM - 20);

    rvr_wire_shape *sh = calloc(1, sizeof *sh);
    rvr_wire_ids rx = { .set = false }, full = { .set = false }, peek = { .set = false };
    size_t at = 0;
    unsigned bad = 0;
    for (unsigned i = 0; i < STREAM; i++) {
        size_t n;
        const uint8_t *p = next_msg(f, &at, &n);
        CU_ASSERT_EQUAL(p[0] == (E_TAG << 3 | 2), elided[i]);
        int how;
        rvr_packet *q = conn_read(sh, &rx, p, n, &how);
        bad += !is_msg(q, &rx.dst, i);
        rvr_packet_free(q);
        by[how]++;
        /* The full decoder alone, with the connection's ids ... */
        rvr_wire_msg h;
        q = NULL;
        CU_ASSERT_EQUAL(rvr_wire_get_msg_in(p, n, NULL, &full, &h, &q), RVR_OK);
        bad += !is_msg(q, &h.dst, i);
        rvr_packet_free(q);
        /* ... and without: an elided MSG read alone is malformed. */
        q = NULL;
        CU_ASSERT_EQUAL(rvr_wire_get_msg(p, n, NULL, &h, &q), elided[i] ? RVR_EPROTO : RVR_OK);
        rvr_packet_free(q);
        /* The bounce path's peek. */
        CU_ASSERT_EQUAL(rvr_wire_peek_msg(p, n, &peek, &h), RVR_OK);
        CU_ASSERT(rvr_uuid_eq(&h.src, &rx.src) && rvr_uuid_eq(&h.dst, &rx.dst));
    }
    CU_ASSERT_EQUAL(at, f->buf.len);
    CU_ASSERT_EQUAL(bad, 0);
    /* The kept shape and the common-shape decoder both read some. */
    CU_ASSERT(by[0] > 0 && by[1] > 0);
    free(sh);
    rvr_frame_free(f);
}

/* Hand-made envelopes: src/dst/tag fields and a one-attribute Map. */
static size_t envelope(uint8_t *b, bool src, bool dst, const char *tag)
{
    size_t n = 0;
    if (src) {
        b[n++] = 0x0a;
        b[n++] = 16;
        memcpy(b + n, vr_a.bytes, 16);
        n += 16;
    }
    if (dst) {
        b[n++] = 0x12;
        b[n++] = 16;
        memcpy(b + n, vr_b.bytes, 16);
        n += 16;
    }
    size_t tl = strlen(tag);
    b[n++] = 0x1a;
    b[n++] = (uint8_t)tl;
    memcpy(b + n, tag, tl);
    n += tl;
    /* attrs { entries { key "k" value { u: 5 } } } */
    static const uint8_t attrs[] = { 0x32, 9, 0x0a, 7, 0x0a, 1, 'k', 0x12, 2, 0x18, 5 };
    memcpy(b + n, attrs, sizeof attrs);
    return n + sizeof attrs;
}

/* True when every reader of one frame, with the given ids, refuses it and
 * leaves the ids as they were.  `peek`: the bounce path's peek too (it
 * reads the envelope, not the attributes). */
static bool all_refuse(const uint8_t *p, size_t n, const rvr_wire_ids *before, bool peek)
{
    rvr_wire_ids ids = *before;
    rvr_wire_msg h;
    rvr_packet *q = NULL;
    rvr_wire_shape *sh = calloc(1, sizeof *sh);
    bool refused = rvr_wire_get_msg_in(p, n, NULL, &ids, &h, &q) == RVR_EPROTO &&
                   rvr_wire_get_small(p, n, RVR_MAX_ATTRS, &ids) == NULL &&
                   rvr_wire_shape_get(sh, p, n, &ids) == NULL &&
                   (!peek || rvr_wire_peek_msg(p, n, &ids, &h) == RVR_EPROTO);
    free(sh);
    rvr_packet_free(q);
    return refused && memcmp(&ids, before, sizeof ids) == 0;
}

static void test_refused(void)
{
    uint8_t b[128];
    size_t n;
    rvr_wire_ids none = { .set = false }, some = { .set = true };
    some.src = vr_c;
    some.dst = vr_c;
    /* Elided with no MSG before it. */
    n = envelope(b, false, false, "t");
    CU_ASSERT(all_refuse(b, n, &none, true));
    /* Only one of the two: malformed, before a MSG or after. */
    n = envelope(b, true, false, "t");
    CU_ASSERT(all_refuse(b, n, &none, true));
    CU_ASSERT(all_refuse(b, n, &some, true));
    n = envelope(b, false, true, "t");
    CU_ASSERT(all_refuse(b, n, &none, true));
    CU_ASSERT(all_refuse(b, n, &some, true));
    /* Elided, after one: the previous src and dst; the full form: its own. */
    n = envelope(b, false, false, "t");
    rvr_wire_ids ids = some;
    rvr_packet *q = rvr_wire_get_small(b, n, RVR_MAX_ATTRS, &ids);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT(rvr_uuid_eq(rvr_packet_src(q), &vr_c) && rvr_uuid_eq(&ids.dst, &vr_c));
    rvr_packet_free(q);
    n = envelope(b, true, true, "t");
    q = rvr_wire_get_small(b, n, RVR_MAX_ATTRS, &ids);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT(rvr_uuid_eq(rvr_packet_src(q), &vr_a) && rvr_uuid_eq(&ids.dst, &vr_b));
    CU_ASSERT(ids.set && rvr_uuid_eq(&ids.src, &vr_a));
    rvr_packet_free(q);
    /* A malformed elided frame changes nothing: the next still has them. */
    n = envelope(b, false, false, "t");
    b[n - 1] = 0xff;   /* a varint cut short */
    rvr_wire_ids keep = ids;
    CU_ASSERT(all_refuse(b, n, &keep, false));
}

/* A reader's packet (or NULL) and ids against the full decoder's. */
static void agree(rvr_packet *s, const rvr_wire_ids *sids, const uint8_t *p, size_t n,
                  const rvr_wire_ids *before, unsigned *taken)
{
    if (s == NULL)
        return;
    (*taken)++;
    rvr_wire_ids ids = *before;
    rvr_wire_msg h;
    rvr_packet *q = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg_in(p, n, NULL, &ids, &h, &q), RVR_OK);
    CU_ASSERT(rvr_packet_equal(s, q) && strcmp(rvr_packet_tag(s), rvr_packet_tag(q)) == 0);
    CU_ASSERT(rvr_uuid_eq(rvr_packet_src(s), rvr_packet_src(q)));
    CU_ASSERT(memcmp(sids, &ids, sizeof ids) == 0);
    rvr_packet_free(s);
    rvr_packet_free(q);
}

/* Every byte of elided frames changed, and every truncation: the common
 * shape decoder and the kept shape take only what the full decoder takes,
 * as the same packet and the same src and dst. */
static void test_mutations(void)
{
    bool elided[STREAM];
    frame *f = stream_frame(elided);
    rvr_wire_ids rx = { .set = false };
    rvr_wire_shape *sh = calloc(1, sizeof *sh);
    size_t at = 0;
    unsigned tried = 0, taken = 0;
    static const uint8_t vals[] = { 0x00, 0x01, 0x0a, 0x12, 0x1a, 0x32, 0x7f, 0x80, 0xff };
    for (unsigned i = 0; i < 40; i++) {
        size_t n;
        const uint8_t *p = next_msg(f, &at, &n);
        rvr_wire_ids before = rx;
        int how;
        rvr_packet_free(conn_read(sh, &rx, p, n, &how));
        if (!elided[i] || i % 3 != 0)
            continue;
        uint8_t *m = malloc(n);
        for (size_t k = 0; k <= n; k++) {
            for (size_t v = 0; v < sizeof vals + 1; v++) {
                memcpy(m, p, n);
                size_t len = n;
                if (v == sizeof vals)
                    len = k;   /* truncated */
                else if (k < n)
                    m[k] = vals[v];
                else
                    continue;
                rvr_wire_ids a = before, b = before;
                agree(rvr_wire_get_small(m, len, RVR_MAX_ATTRS, &a), &a, m, len, &before, &taken);
                agree(rvr_wire_shape_get(sh, m, len, &b), &b, m, len, &before, &taken);
                tried++;
            }
        }
        free(m);
    }
    CU_ASSERT(tried > 1000 && taken > 0);
    free(sh);
    rvr_frame_free(f);
}

/* A large elided MSG read apart (zero-copy receive): its prefix has no
 * src and dst. */
static void test_tail(void)
{
    size_t big = 200000;
    rvr_packet *p = rvr_packet_new("big");
    p->src = vr_a;
    uint8_t *data = malloc(big);
    memset(data, 0x5a, big);
    rvr_packet_set_u64(p, "seq", 1);
    rvr_packet_set_bytes(p, "data", data, big);
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &vr_b, p), RVR_OK);
    const uint8_t *full = b.data + RVR_WIRE_HDR_LEN;
    size_t n = b.len - RVR_WIRE_HDR_LEN, off;
    const uint8_t *el = full + RVR_WIRE_IDS_LEN;
    size_t en = n - RVR_WIRE_IDS_LEN;
    CU_ASSERT_FATAL(rvr_wire_msg_tail(el, 100, en, 1024, &off));
    rvr_wire_ids ids = { .set = true };
    ids.src = vr_a;
    ids.dst = vr_b;
    uint8_t *tail = rvr_big_alloc(en - off + 1);
    memcpy(tail, el + off, en - off);
    rvr_wire_msg h;
    rvr_packet *q = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg_tail(el, off, tail, en - off, NULL, &ids, &h, &q),
                          RVR_OK);
    CU_ASSERT(rvr_packet_equal(p, q) && rvr_uuid_eq(rvr_packet_src(q), &vr_a) &&
              rvr_uuid_eq(&h.dst, &vr_b));
    rvr_packet_free(q);
    /* Without a MSG before it: malformed, and the tail stays the caller's. */
    rvr_wire_ids none = { .set = false };
    tail = rvr_big_alloc(en - off + 1);
    memcpy(tail, el + off, en - off);
    CU_ASSERT_EQUAL(rvr_wire_get_msg_tail(el, off, tail, en - off, NULL, &none, &h, &q),
                    RVR_EPROTO);
    rvr_big_free(tail);
    free(data);
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

/* A frame that will not be written bounces a notice per MSG to its local
 * sender, elided MSGs too; with bounce_from (a frame cut short after some
 * MSGs went out) only the MSGs from there on, the first of them elided. */
static void test_bounce(void)
{
    rvr_net *net = SELF->vm->net;
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    const rvr_uuid *me = rvr_self(SELF);
    rvr_uuid other = rvr_uuid_generate(), vm = rvr_uuid_generate();
    frame *f = rvr_frame_new(8192);
    f->is_msg = true;
    size_t starts[12];
    unsigned nel = 0;
    for (unsigned i = 0; i < 12; i++) {
        /* From this VR: to `other` five times, to vr_b four, to `other` three. */
        const rvr_uuid *to = i < 5 || i >= 9 ? &other : &vr_b;
        char tag[16];
        snprintf(tag, sizeof tag, "m%u", i);
        rvr_packet *p = rvr_packet_new(tag);
        p->src = *me;
        rvr_buf b = { 0 };
        CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, to, p), RVR_OK);
        starts[i] = f->buf.len;
        memcpy(f->buf.data + f->buf.len, b.data, b.len);
        size_t n = rvr_frame_elide(f, f->buf.data + f->buf.len, b.len);
        nel += n != b.len;
        f->buf.len += n;
        rvr_buf_free(&b);
        rvr_packet_free(p);
    }
    CU_ASSERT_EQUAL(nel, 9);
    f->bounce_from = starts[6];   /* m6 (elided) on */
    rvr_bounce_frame(net, f, &vm, "test");
    rvr_frame_free(f);
    for (unsigned i = 6; i < 12; i++) {
        rvr_packet *note = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_recv(SELF, NULL, 2000, &note), RVR_OK);
        const char *tag = NULL;
        rvr_uuid dst, where;
        char want[16];
        snprintf(want, sizeof want, "m%u", i);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(note), RVR_UNDELIVERABLE);
        CU_ASSERT(rvr_packet_get_str(note, "tag", &tag, NULL) == RVR_OK && strcmp(tag, want) == 0);
        CU_ASSERT(rvr_packet_get_uuid(note, "dst", &dst) == RVR_OK &&
                  rvr_uuid_eq(&dst, i >= 9 ? &other : &vr_b));
        CU_ASSERT(rvr_packet_get_uuid(note, "vm", &where) == RVR_OK && rvr_uuid_eq(&where, &vm));
        rvr_packet_free(note);
    }
    CU_ASSERT_EQUAL(rvr_pending(SELF), 0);
}

/* ---- end to end: the queue's appenders ------------------------------------ */

/* What sender k sends, message i: "d" to x always, "m" (300 bytes) to y
 * every 5th, a typed Tally to y every 7th, "l" (with a list: encoded from
 * its map, not its wire form) to y every 3rd.  Kinds: 0 d, 1 m, 2 Tally,
 * 3 l.  Each path that puts a MSG into a queue's frame, between MSGs to x
 * from this VR and from the other one. */
#define KINDS 4
#define PER_SENDER 20000
static const unsigned every[KINDS] = { 1, 5, 7, 3 };

static int sender_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *go = NULL;
    if (rvr_recv(self, NULL, 10000, &go) != RVR_OK)
        return 1;
    rvr_uuid x, y;
    uint64_t k = 0;
    rvr_packet_get_uuid(go, "x", &x);
    rvr_packet_get_uuid(go, "y", &y);
    rvr_packet_get_u64(go, "k", &k);
    rvr_packet_free(go);
    uint8_t pad[300];
    memset(pad, (int)k, sizeof pad);
    for (uint64_t i = 0; i < PER_SENDER; i++) {
        for (unsigned kind = 0; kind < KINDS; kind++) {
            if (i % every[kind] != 0)
                continue;
            rvr_status st;
            if (kind == 2) {
                tnet_Tally t;
                tnet_Tally_init(&t);
                t.n = k * 1000000 + i;
                st = tnet_Tally_send(self, &y, &t);
                tnet_Tally_clear(&t);
            } else {
                rvr_packet *p = rvr_packet_new(kind == 0 ? "d" : kind == 1 ? "m" : "l");
                rvr_packet_set_u64(p, "k", k);
                rvr_packet_set_u64(p, "i", i);
                if (kind == 1)
                    rvr_packet_set_bytes(p, "pad", pad, sizeof pad);
                if (kind == 3) {
                    rvr_list *l = rvr_list_new();
                    rvr_value v = rvr_value_u64(i);
                    rvr_list_append(l, &v);
                    rvr_packet_set_list(p, "list", l);
                }
                if ((st = rvr_send(self, kind == 0 ? &x : &y, p)) != RVR_OK)
                    rvr_packet_free(p);
            }
            if (st != RVR_OK)
                return 1;
        }
    }
    return 0;
}
static RVR_VR_TYPE_NOARGS(sender_type, "tests.ElideSender", sender_main);

/* A handshake with this program's VM as a made-up VM; the socket. */
static int raw_peer(void)
{
    char addr[RVR_ADDR_MAX];
    if (rvr_vm_address(SELF, addr, sizeof addr) != RVR_OK)
        return -1;
    return raw_handshake(addr, NULL);
}

/* A MSG from `from` (a VR of the made-up VM) to this VR: this VM learns
 * where `from` lives. */
static bool greet(int fd, const rvr_uuid *from)
{
    rvr_packet *p = rvr_packet_new("hi");
    p->src = *from;
    rvr_buf b = { 0 };
    bool ok = rvr_wire_put_packet(&b, rvr_self(SELF), p) == RVR_OK && raw_write(fd, b.data, b.len);
    rvr_buf_free(&b);
    rvr_packet_free(p);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "hi");
    rvr_packet *got = NULL;
    ok = ok && rvr_recv(SELF, m, 10000, &got) == RVR_OK;
    rvr_packet_free(got);
    rvr_match_free(m);
    return ok;
}

static void test_appenders(void)
{
    int fd = raw_peer();
    CU_ASSERT_FATAL(fd >= 0);
    rvr_uuid x = rvr_uuid_generate(), y = rvr_uuid_generate(), s[2];
    CU_ASSERT_FATAL(greet(fd, &x) && greet(fd, &y));
    for (uint64_t k = 0; k < 2; k++)
        CU_ASSERT_EQUAL_FATAL(rvr_spawn(SELF, NULL, &sender_type, NULL, &s[k]), RVR_OK);
    for (uint64_t k = 0; k < 2; k++) {   /* both started: their streams interleave */
        rvr_packet *go = rvr_packet_new("go");
        rvr_packet_set_uuid(go, "x", &x);
        rvr_packet_set_uuid(go, "y", &y);
        rvr_packet_set_u64(go, "k", k);
        CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &s[k], go), RVR_OK);
    }
    /* Read as a client with only the document would: ids kept per
     * connection; each MSG's sender, receiver and order checked. */
    uint64_t want = 0, got = 0, elided = 0, bad = 0, next[2][KINDS] = { { 0 } };
    for (unsigned kind = 0; kind < KINDS; kind++)
        want += 2 * ((PER_SENDER + every[kind] - 1) / every[kind]);
    rvr_wire_ids ids = { .set = false };
    uint8_t *buf = malloc(1 << 20);
    while (got < want) {
        uint32_t len;
        uint8_t type;
        if (!raw_read_frame(fd, buf, 1 << 20, &len, &type))
            break;
        if (type != RVR_FRAME_MSG)
            continue;   /* SCHEMA frames before the Tallies */
        rvr_wire_msg m;
        rvr_packet *p = NULL;
        if (rvr_wire_get_msg_in(buf, len, NULL, &ids, &m, &p) != RVR_OK) {
            bad++;
            break;
        }
        elided += buf[0] != (E_SRC << 3 | 2);
        uint64_t k = 9, i = 0;
        unsigned kind;
        if (m.schema != 0) {
            tnet_Tally t;
            tnet_Tally_init(&t);
            if (tnet_Tally_decode(m.body, m.body_len, &t) == RVR_OK) {
                k = t.n / 1000000;
                i = t.n % 1000000;
            }
            tnet_Tally_clear(&t);
            kind = 2;
        } else {
            rvr_packet_get_u64(p, "k", &k);
            rvr_packet_get_u64(p, "i", &i);
            const char *tag = rvr_packet_tag(p);
            kind = tag[0] == 'd' ? 0 : tag[0] == 'm' ? 1 : 3;
        }
        const rvr_uuid *to = kind == 0 ? &x : &y;
        /* Its own sender and receiver, and FIFO per sender and kind. */
        if (k > 1 || !rvr_uuid_eq(&m.src, &s[k]) || !rvr_uuid_eq(&m.dst, to) ||
            i != next[k][kind]) {
            if (bad++ < 3)
                printf("\n      MSG %llu: kind %u from %llu, i %llu (expected %llu), src %s, dst %s",
                       (unsigned long long)got, kind, (unsigned long long)k,
                       (unsigned long long)i, (unsigned long long)(k < 2 ? next[k][kind] : 0),
                       k < 2 && rvr_uuid_eq(&m.src, &s[k]) ? "ok" : "WRONG",
                       rvr_uuid_eq(&m.dst, to) ? "ok" : "WRONG");
        }
        if (k < 2)
            next[k][kind] = i + every[kind];
        rvr_packet_free(p);
        got++;
    }
    free(buf);
    close(fd);
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(elided > 0);
    printf("(%llu of %llu without src and dst) ", (unsigned long long)elided,
           (unsigned long long)got);
}

static const CU_TestInfo tests[] = {
    { "a frame leaves them out after a MSG with the same; every reader reads it", test_stream },
    { "elided with nothing before it, or only one of the two: malformed", test_refused },
    { "mutated elided frames: fast readers take only what the decoder takes", test_mutations },
    { "a large elided MSG read apart", test_tail },
    { "a frame not written: a notice per MSG, elided ones too", test_bounce },
    { "two VRs' mixed streams through the queue, read by a raw client", test_appenders },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("wire_elide", tests);
}

int main(int argc, char **argv)
{
    /* This VM coalesces the streams of test_appenders whatever the pace. */
    setenv("RIVER_COALESCE_US", "100000", 1);
    return vmtest_main(argc, argv, suites);
}
