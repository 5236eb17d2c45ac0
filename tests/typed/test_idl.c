/* test_idl.c — River's own messages (the .rvr files of idl/) through the generated code:
 *
 *  - every message round-trips encode -> decode -> encode, filled with
 *    non-zero values in every field (arrays of 2, nested messages), and
 *    keeps its dynamic view;
 *  - the frames riverc describes are the frames the hand-written encoder
 *    (runtime/wire.c) writes: Hello, Whois, Bye and a dynamic Envelope,
 *    decoded and encoded both ways;
 *  - control requests built the way runtime/control.c builds them convert
 *    to the typed declarations by attribute name, and a typed reply shows
 *    the documented attributes. */
#include <stdlib.h>
#include <string.h>

#include "control.rvr.h"
#include "convert.h"
#include "control.h"
#include "ctl.rvr.h"
#include "cutest.h"
#include "discovery.rvr.h"
#include "envelope.rvr.h"
#include "schema.rvr.h"
#include "wire.h"
#include <river/codec.h>

static rvr_vr *self_;

static const rvr_schema *const all_messages[] = {
    &river_wire_v1_Hello_schema, &river_wire_v1_Envelope_schema, &river_wire_v1_Whois_schema,
    &river_wire_v1_Bye_schema, &river_wire_v1_Undeliverable_schema,
    &river_wire_v1_Schema_schema, &river_wire_v1_MessageType_schema,
    &river_wire_v1_Field_schema, &river_wire_v1_EnumType_schema,
    &river_wire_v1_EnumValue_schema,
    &river_discovery_Datagram_schema, &river_discovery_VmInfo_schema,
    &river_ctl_schema,
    &river_ctl_reply_schema, &river_ctl_Ping_schema, &river_ctl_PingReply_schema,
    &river_ctl_VrList_schema, &river_ctl_VrInfo_schema, &river_ctl_VrListReply_schema,
    &river_ctl_Kill_schema, &river_ctl_KillReply_schema, &river_ctl_Allocate_schema,
    &river_ctl_AllocateReply_schema, &river_ctl_Release_schema,
    &river_ctl_ReleaseReply_schema, &river_ctl_Deploy_schema, &river_ctl_DeployReply_schema,
};
#define NMESSAGES (sizeof all_messages / sizeof all_messages[0])

#define AT(msg, off) ((char *)(msg) + (off))

static void fill(const rvr_schema *s, void *msg, unsigned seed, int depth);

/* One element of field f at p: a non-zero value derived from seed. */
static void fill_elem(const rvr_field *f, void *p, unsigned seed, int depth)
{
    char text[32];
    switch (f->type) {
    case RVR_F_BOOL:   *(bool *)p = true; break;
    case RVR_F_INT32:  *(int32_t *)p = -(int32_t)seed; break;
    case RVR_F_INT64:  *(int64_t *)p = -(int64_t)seed * 1000000007; break;
    case RVR_F_UINT32: *(uint32_t *)p = seed * 3u; break;
    case RVR_F_UINT64: *(uint64_t *)p = (uint64_t)seed << 40 | 7u; break;
    case RVR_F_FLOAT:  *(float *)p = (float)seed + 0.5f; break;
    case RVR_F_DOUBLE: *(double *)p = seed * 1.25; break;
    case RVR_F_STRING:
        snprintf(text, sizeof text, "%s-%u-é", f->name, seed);
        free(*(char **)p);   /* a default init strdup'ed */
        *(char **)p = strdup(text);
        break;
    case RVR_F_BYTES: {
        rvr_bytes *b = p;
        b->len = 3;
        b->data = malloc(3);
        b->data[0] = 0, b->data[1] = (uint8_t)seed, b->data[2] = 0xff;
        break;
    }
    case RVR_F_UUID: *(rvr_uuid *)p = rvr_uuid_generate(); break;
    case RVR_F_ENUM: {
        const rvr_enum_schema *e = f->enumeration;
        *(int32_t *)p = e->values[e->nvalues - 1].value;
        break;
    }
    case RVR_F_MESSAGE:
        f->message->init(p);
        if (depth > 0)
            fill(f->message, p, seed + 1, depth - 1);
        break;
    case RVR_F_ANY: *(rvr_value *)p = rvr_value_i64(seed); break;
    }
}

static void fill(const rvr_schema *s, void *msg, unsigned seed, int depth)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const rvr_field *f = &s->fields[i];
        if (!(f->flags & RVR_FIELD_ARRAY)) {
            if (f->type == RVR_F_MESSAGE)
                f->message->clear(AT(msg, f->offset));   /* init set it already */
            fill_elem(f, AT(msg, f->offset), seed + (unsigned)i, depth);
            continue;
        }
        size_t n = 2;
        char *elems = calloc(n, f->elem_size);
        *(char **)AT(msg, f->offset) = elems;
        *(size_t *)AT(msg, f->count_offset) = n;
        for (size_t k = 0; k < n; k++)
            fill_elem(f, elems + k * f->elem_size, seed + (unsigned)(i + k), depth);
    }
}

static void test_roundtrip_all(void)
{
    for (size_t i = 0; i < NMESSAGES; i++) {
        const rvr_schema *s = all_messages[i];
        void *a = calloc(1, s->size), *b = calloc(1, s->size);
        s->init(a);
        fill(s, a, 1, 2);
        uint8_t *buf1 = NULL, *buf2 = NULL;
        size_t len1 = 0, len2 = 0;
        CU_ASSERT_EQUAL_FATAL(s->encode(a, &buf1, &len1), RVR_OK);
        CU_ASSERT(len1 > 0);
        rvr_status st = s->decode(buf1, len1, b);
        CU_ASSERT_EQUAL(st, RVR_OK);
        if (st != RVR_OK)
            printf("\n  %s: decode: %s\n", s->name, rvr_strerror(st));
        CU_ASSERT_EQUAL_FATAL(s->encode(b, &buf2, &len2), RVR_OK);
        CU_ASSERT(len1 == len2 && memcmp(buf1, buf2, len1) == 0);
        /* Same attributes too (the dynamic view of both). */
        rvr_map *ma = rvr_map_new(), *mb = rvr_map_new();
        CU_ASSERT_EQUAL(rvr_typed_to_map(s, a, ma), RVR_OK);
        CU_ASSERT_EQUAL(rvr_typed_to_map(s, b, mb), RVR_OK);
        CU_ASSERT(rvr_map_equal(ma, mb));
        CU_ASSERT_EQUAL(rvr_map_len(ma), s->nfields);
        rvr_map_free(ma);
        rvr_map_free(mb);
        free(buf1);
        free(buf2);
        s->clear(a);
        s->clear(b);
        free(a);
        free(b);
    }
}

/* Every message also travels typed through a mailbox (open ones with an extra). */
static void test_send_all(void)
{
    for (size_t i = 0; i < NMESSAGES; i++) {
        const rvr_schema *s = all_messages[i];
        void *a = calloc(1, s->size);
        s->init(a);
        fill(s, a, 5, 1);
        rvr_map *want = rvr_map_new();
        rvr_typed_to_map(s, a, want);
        if (s->open) {
            rvr_map **extra = (rvr_map **)AT(a, s->extra_offset);
            *extra = rvr_map_new();
            rvr_value v = rvr_value_u64(99), w = rvr_value_u64(99);
            rvr_map_set(*extra, "extra_attr", &v);
            rvr_map_set(want, "extra_attr", &w);
        }
        CU_ASSERT_EQUAL_FATAL(rvr_send_typed(self_, rvr_self(self_), s, a), RVR_OK);
        rvr_packet *p;
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, NULL, 0, &p), RVR_OK);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), s->tag);
        CU_ASSERT(rvr_map_equal(rvr_packet_attrs(p), want));
        rvr_packet_free(p);
        rvr_map_free(want);
        free(a);
    }
}

/* A frame of the hand-written encoder without its 5-byte header. */
static const uint8_t *payload(const rvr_buf *b, size_t *len)
{
    CU_ASSERT_FATAL(b->len >= 5);
    *len = (size_t)b->data[0] << 24 | (size_t)b->data[1] << 16 | (size_t)b->data[2] << 8 | b->data[3];
    CU_ASSERT_FATAL(*len == b->len - 5);
    return b->data + 5;
}

static void test_hello_matches_wire(void)
{
    rvr_wire_hello h = { .status = 2, .max_frame = 1u << 20 };
    h.vm_id = rvr_uuid_generate();
    h.peer_vm_id = rvr_uuid_generate();
    strcpy(h.listen_addr, "10.0.0.1:7001");
    strcpy(h.reason, "refused");
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_hello(&b, &h), RVR_OK);
    size_t n;
    const uint8_t *p = payload(&b, &n);
    river_wire_v1_Hello g;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Hello_decode(p, n, &g), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&g.vm_id, &h.vm_id) && rvr_uuid_eq(&g.peer_vm_id, &h.peer_vm_id));
    CU_ASSERT_STRING_EQUAL(g.listen_addr, "10.0.0.1:7001");
    CU_ASSERT_EQUAL(g.status, river_wire_v1_HelloStatus_HELLO_REFUSED);
    CU_ASSERT_STRING_EQUAL(g.reason, "refused");
    CU_ASSERT_EQUAL(g.max_frame, 1u << 20);
    uint8_t *enc;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Hello_encode(&g, &enc, &len), RVR_OK);
    CU_ASSERT(len == n && memcmp(enc, p, n) == 0);   /* byte for byte */
    rvr_wire_hello back;
    CU_ASSERT_EQUAL(rvr_wire_get_hello(enc, len, &back), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&back.vm_id, &h.vm_id) && back.max_frame == h.max_frame);
    free(enc);
    river_wire_v1_Hello_clear(&g);
    rvr_buf_free(&b);
}

static void test_whois_bye_match_wire(void)
{
    rvr_wire_whois w = { .req = 77 };
    w.vr = rvr_uuid_generate();
    w.vm_id = rvr_uuid_generate();
    strcpy(w.addr, "h:1");
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_whois(&b, 5, &w), RVR_OK);
    size_t n;
    const uint8_t *p = payload(&b, &n);
    river_wire_v1_Whois g;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Whois_decode(p, n, &g), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&g.vr_id, &w.vr) && rvr_uuid_eq(&g.vm_id, &w.vm_id) && g.req == 77);
    CU_ASSERT_STRING_EQUAL(g.addr, "h:1");
    uint8_t *enc;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Whois_encode(&g, &enc, &len), RVR_OK);
    CU_ASSERT(len == n && memcmp(enc, p, n) == 0);
    free(enc);
    river_wire_v1_Whois_clear(&g);
    rvr_buf_free(&b);

    rvr_buf c = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_bye(&c, "stopping"), RVR_OK);
    p = payload(&c, &n);
    river_wire_v1_Bye bye;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Bye_decode(p, n, &bye), RVR_OK);
    CU_ASSERT_STRING_EQUAL(bye.reason, "stopping");
    river_wire_v1_Bye_clear(&bye);
    rvr_buf_free(&c);
}

/* A dynamic packet's MSG frame read as a generated Envelope (schema 0;
 * typed ones differ in field 4, fixed64 on the wire: see envelope.rvr). */
static void test_envelope_matches_wire(void)
{
    rvr_packet *pkt = rvr_packet_new("demo.tag");
    rvr_packet_set_i64(pkt, "n", -3);
    rvr_packet_set_str(pkt, "s", "x");
    rvr_uuid dst = rvr_uuid_generate();
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &dst, pkt), RVR_OK);
    size_t n;
    const uint8_t *p = payload(&b, &n);
    river_wire_v1_Envelope e;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Envelope_decode(p, n, &e), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&e.dst, &dst));
    CU_ASSERT_STRING_EQUAL(e.tag, "demo.tag");
    CU_ASSERT_EQUAL(e.schema, 0);
    CU_ASSERT_EQUAL(e.body.len, 0);
    rvr_map *attrs = rvr_map_new();
    CU_ASSERT_EQUAL(rvr_map_decode(e.attrs.data, e.attrs.len, attrs), RVR_OK);
    CU_ASSERT(rvr_map_equal(attrs, rvr_packet_attrs(pkt)));
    rvr_map_free(attrs);
    uint8_t *enc;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(river_wire_v1_Envelope_encode(&e, &enc, &len), RVR_OK);
    CU_ASSERT(len == n && memcmp(enc, p, n) == 0);
    free(enc);
    river_wire_v1_Envelope_clear(&e);
    rvr_buf_free(&b);
    rvr_packet_free(pkt);
}

/* Control requests as control.c builds them, read typed. */
static void test_control_requests(void)
{
    rvr_packet *req = rvr_ctl_request_new("ps");
    rvr_packet_set_u64(req, "req", 12);
    river_ctl_VrList ps;
    CU_ASSERT_EQUAL_FATAL(rvr_map_to_typed(&river_ctl_VrList_schema, rvr_packet_attrs(req), &ps), RVR_OK);
    CU_ASSERT_STRING_EQUAL(ps.op, "ps");
    CU_ASSERT_EQUAL(ps.req, 12);
    river_ctl_VrList_clear(&ps);
    /* The generic request, through the mailbox: tag river.ctl, args as extras. */
    rvr_packet *kill = rvr_ctl_request_new("kill");
    rvr_uuid victim = rvr_uuid_generate();
    rvr_packet_set_u64(kill, "req", 13);
    rvr_packet_set_uuid(kill, "vr", &victim);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(kill), "river.ctl");
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), kill), RVR_OK);
    river_ctl c;
    CU_ASSERT_EQUAL_FATAL(river_ctl_recv(self_, &c, NULL, 0), RVR_OK);
    CU_ASSERT_STRING_EQUAL(c.op, "kill");
    CU_ASSERT_EQUAL(c.req, 13);
    const rvr_value *vr = c.extra ? rvr_map_get(c.extra, "vr") : NULL;
    CU_ASSERT(vr != NULL && vr->type == RVR_T_UUID && rvr_uuid_eq(&vr->as.uuid, &victim));
    river_ctl_clear(&c);
    rvr_packet_free(req);
}

/* A typed reply's dynamic view is what control.c's callers read. */
static void test_control_reply(void)
{
    river_ctl_reply r;
    river_ctl_reply_init(&r);
    r.req = 4;
    r.status = RVR_ENOTFOUND;
    r.error = strdup("no such VR on this VM");
    CU_ASSERT_EQUAL_FATAL(river_ctl_reply_send(self_, rvr_self(self_), &r), RVR_OK);
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, NULL, 0, &p), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "river.ctl.reply");
    int64_t st = 0;
    uint64_t req = 0;
    CU_ASSERT(rvr_packet_get_i64(p, "status", &st) == RVR_OK && st == RVR_ENOTFOUND);
    CU_ASSERT(rvr_packet_get_u64(p, "req", &req) == RVR_OK && req == 4);
    rvr_packet_free(p);
}

static int tester(rvr_vr *self, const void *args)
{
    (void)args;
    self_ = self;
    return cutest_run();
}

static RVR_VR_TYPE_NOARGS(tester_type, "tests.Idl", tester);

int main(int argc, char **argv)
{
    static const CU_TestInfo tests[] = {
        { "every idl message round-trips", test_roundtrip_all },
        { "every idl message through a mailbox", test_send_all },
        { "Hello = wire.c's HELLO", test_hello_matches_wire },
        { "Whois, Bye = wire.c's", test_whois_bye_match_wire },
        { "Envelope = wire.c's MSG (dynamic)", test_envelope_matches_wire },
        { "control requests, typed", test_control_requests },
        { "control reply, dynamic view", test_control_reply },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("idl", tests);
    return rvr_main(argc, argv, &tester_type);
}
