/* test_sendq_schema — a send queue's frames of typed MSGs meet a
 * connection (runtime/sendq_schema.c): each schema new to the connection
 * is described once, in a SCHEMA frame before the first frame that uses it;
 * a schema that cannot be described (the connection's limit) refuses only
 * its own MSGs, and the others of the same frame stay queued, in order.
 * In-process, on a queue and a connection built here. */
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "packet_impl.h"
#include "schema_wire.h"
#include "tnet_v1.rvr.h"
#include "transport_impl.h"
#include "wire.h"

static const rvr_uuid dst = { { 9, 8, 7, 6, 5, 4, 3, 2, 1 } };

/* Appends a MSG to f: dynamic {seq}, or a typed Tally {n = seq} or Point. */
static void put(frame *f, int kind, int64_t seq)
{
    rvr_buf b = { 0 };
    rvr_packet *p;
    if (kind == 0) {
        p = rvr_packet_new("d");
        rvr_packet_set_i64(p, "seq", seq);
        CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &dst, p), RVR_OK);
    } else {
        const rvr_schema *s = kind == 1 ? &tnet_Tally_schema : &tnet_Point_schema;
        p = rvr_packet_new(s->tag);
        p->body = calloc(1, s->size);
        s->init(p->body);
        if (kind == 1)
            ((tnet_Tally *)p->body)->n = (uint64_t)seq;
        else
            ((tnet_Point *)p->body)->x = (int32_t)seq;
        p->schema = s;
        CU_ASSERT_EQUAL_FATAL(rvr_wire_put_typed(&b, &dst, p), RVR_OK);
        rvr_frame_add_schema(f, s);
    }
    CU_ASSERT_FATAL(f->buf.cap - f->buf.len >= b.len);
    memcpy(f->buf.data + f->buf.len, b.data, b.len);
    f->buf.len += b.len;
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

/* The frames in f: their types, and the schema fingerprint of each MSG. */
static size_t frames_of(const frame *f, uint8_t *types, uint64_t *fps, size_t max)
{
    size_t k = 0, at = 0;
    while (f->buf.len - at >= RVR_WIRE_HDR_LEN && k < max) {
        uint32_t len;
        uint8_t type;
        rvr_wire_header(f->buf.data + at, &len, &type);
        types[k] = type;
        fps[k] = type == RVR_FRAME_MSG
                     ? rvr_wire_msg_schema(f->buf.data + at + RVR_WIRE_HDR_LEN, len) : 0;
        k++;
        at += RVR_WIRE_HDR_LEN + (size_t)len;
    }
    CU_ASSERT_EQUAL(at, f->buf.len);
    return k;
}

/* A connection that described every schema its table holds but `room`
 * more (dummy fingerprints). */
static void conn_room(conn *c, size_t room)
{
    memset(c, 0, sizeof *c);
    c->capdescribed = RVR_SCHEMA_MAX_PER_CONN;
    c->described = calloc(c->capdescribed, sizeof *c->described);
    for (size_t i = 0; i + room < RVR_SCHEMA_MAX_PER_CONN; i++)
        c->described[c->ndescribed++] = 1000 + i;
}

static void free_frames(frame *f)
{
    for (frame *nx; f != NULL; f = nx) {
        nx = f->next;
        rvr_frame_free(f);
    }
}

static void test_described_once(void)
{
    peer pe;
    conn c;
    memset(&pe, 0, sizeof pe);
    memset(&c, 0, sizeof c);
    frame *f = rvr_frame_new(8192), *g = rvr_frame_new(8192), *refused = NULL;
    f->is_msg = g->is_msg = true;
    put(f, 0, 1);
    put(f, 1, 2);
    put(f, 2, 3);
    put(g, 1, 4);   /* Tally again: described already */
    f->next = g;
    pe.qhead = f;
    pe.qtail = g;
    pe.qbytes = f->buf.len + g->buf.len;
    rvr_peer_describe_schemas(&pe, &c, &refused, 256);
    CU_ASSERT_PTR_NULL(refused);
    CU_ASSERT_EQUAL(c.ndescribed, 2);
    /* One frame of two SCHEMAs, then f, then g. */
    frame *sf = pe.qhead;
    CU_ASSERT_FATAL(sf != f && sf->next == f && f->next == g && pe.qtail == g);
    uint8_t types[8];
    uint64_t fps[8];
    CU_ASSERT_EQUAL(frames_of(sf, types, fps, 8), 2);
    CU_ASSERT(types[0] == RVR_FRAME_SCHEMA && types[1] == RVR_FRAME_SCHEMA);
    CU_ASSERT_EQUAL(pe.qbytes, sf->buf.len + f->buf.len + g->buf.len);
    /* Again on the same connection: nothing more to describe. */
    rvr_peer_describe_schemas(&pe, &c, &refused, 256);
    CU_ASSERT(pe.qhead == sf && c.ndescribed == 2);
    free_frames(pe.qhead);
    free(c.described);
}

static void test_refused_apart(void)
{
    peer pe;
    conn c;
    memset(&pe, 0, sizeof pe);
    conn_room(&c, 1);   /* room for one more schema on this connection */
    frame *f = rvr_frame_new(8192), *refused = NULL;
    f->is_msg = true;
    put(f, 0, 1);
    put(f, 2, 2);   /* Point: described (the last room) */
    put(f, 1, 3);   /* Tally: no room left, refused */
    put(f, 0, 4);
    put(f, 1, 5);
    put(f, 2, 6);
    pe.qhead = pe.qtail = f;
    pe.qbytes = f->buf.len;
    rvr_peer_describe_schemas(&pe, &c, &refused, 256);
    CU_ASSERT_FATAL(refused != NULL && refused->next == NULL);
    uint8_t types[8];
    uint64_t fps[8];
    /* Refused: the two Tallies, in order. */
    CU_ASSERT_EQUAL(frames_of(refused, types, fps, 8), 2);
    CU_ASSERT(fps[0] == tnet_Tally_schema.fingerprint && fps[1] == tnet_Tally_schema.fingerprint);
    /* Queued: the Point's SCHEMA, then f with the rest, in order. */
    CU_ASSERT_FATAL(pe.qhead != f && pe.qhead->next == f && pe.qtail == f);
    CU_ASSERT_EQUAL(frames_of(f, types, fps, 8), 4);
    CU_ASSERT(fps[0] == 0 && fps[1] == tnet_Point_schema.fingerprint && fps[2] == 0 &&
              fps[3] == tnet_Point_schema.fingerprint);
    CU_ASSERT(f->nschemas == 1 && f->schemas[0] == &tnet_Point_schema);
    CU_ASSERT_EQUAL(pe.qbytes, pe.qhead->buf.len + f->buf.len);

    /* A frame of refused MSGs only leaves the queue whole. */
    frame *g = rvr_frame_new(8192), *refused2 = NULL;
    g->is_msg = true;
    put(g, 1, 7);
    f->next = g;
    pe.qtail = g;
    pe.qbytes += g->buf.len;
    rvr_peer_describe_schemas(&pe, &c, &refused2, 256);
    CU_ASSERT(refused2 == g && pe.qtail == f && f->next == NULL);
    CU_ASSERT_EQUAL(pe.qbytes, pe.qhead->buf.len + f->buf.len);
    rvr_frame_free(refused);
    rvr_frame_free(refused2);
    rvr_frame_free(pe.qhead);
    rvr_frame_free(f);
    free(c.described);
}

/* Frames refused whole leave the queue without counting: the first `max`
 * frames that stay, which the writer's next writev may take, were all
 * looked at. */
static void test_refused_not_counted(void)
{
    peer pe;
    conn c;
    memset(&pe, 0, sizeof pe);
    conn_room(&c, 0);   /* full: nothing more is described */
    frame *f[4], *refused = NULL;
    for (int i = 0; i < 4; i++) {
        f[i] = rvr_frame_new(8192);
        f[i]->is_msg = true;
        put(f[i], i == 0 ? 1 : i == 3 ? 2 : 0, i);   /* Tally, dynamic, dynamic, Point */
        f[i]->next = NULL;
        if (i > 0)
            f[i - 1]->next = f[i];
        pe.qbytes += f[i]->buf.len;
    }
    pe.qhead = f[0];
    pe.qtail = f[3];
    rvr_peer_describe_schemas(&pe, &c, &refused, 3);
    /* Both typed frames refused; the two dynamic ones stay. */
    CU_ASSERT(pe.qhead == f[1] && f[1]->next == f[2] && f[2]->next == NULL && pe.qtail == f[2]);
    CU_ASSERT(refused != NULL && refused->next != NULL && refused->next->next == NULL);
    CU_ASSERT(refused != NULL && (refused == f[3] || refused->next == f[3]));
    CU_ASSERT_EQUAL(pe.qbytes, f[1]->buf.len + f[2]->buf.len);
    free_frames(refused);
    free_frames(pe.qhead);
    free(c.described);
}

/* Appends a dynamic MSG {seq} from src to `to` as the queue's appenders
 * do: without src and dst after a MSG with the same (rvr_frame_elide). */
static void put_elided(frame *f, const rvr_uuid *src, const rvr_uuid *to, int64_t seq)
{
    rvr_buf b = { 0 };
    rvr_packet *p = rvr_packet_new("d");
    p->src = *src;
    rvr_packet_set_i64(p, "seq", seq);
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, to, p), RVR_OK);
    uint8_t *q = f->buf.data + f->buf.len;
    memcpy(q, b.data, b.len);
    f->buf.len += rvr_frame_elide(f, q, b.len);
    rvr_buf_free(&b);
    rvr_packet_free(p);
}

/* A refused schema's MSGs taken out of a frame whose dynamic MSGs leave
 * out src and dst: what stays reads back, as a connection reads it, with
 * each MSG's own src and dst, in order. */
static void test_refused_elided(void)
{
    peer pe;
    conn c;
    memset(&pe, 0, sizeof pe);
    conn_room(&c, 0);   /* nothing more is described: Tally refused */
    static const rvr_uuid a = { { 1 } }, b = { { 2 } };
    frame *f = rvr_frame_new(8192), *refused = NULL;
    f->is_msg = true;
    put_elided(f, &a, &dst, 1);
    put_elided(f, &a, &dst, 2);   /* elided */
    put(f, 1, 3);                 /* typed, from nil: as send_typed_msg, */
    f->ids_at = 0;                /* the next MSG names its src and dst */
    put_elided(f, &b, &dst, 4);
    put_elided(f, &b, &dst, 5);   /* elided */
    put_elided(f, &a, &dst, 6);
    put_elided(f, &a, &dst, 7);   /* elided */
    pe.qhead = pe.qtail = f;
    pe.qbytes = f->buf.len;
    rvr_peer_describe_schemas(&pe, &c, &refused, 256);
    CU_ASSERT_FATAL(refused != NULL && pe.qhead == f);
    rvr_wire_ids ids = { .set = false };
    static const int64_t seqs[] = { 1, 2, 4, 5, 6, 7 };
    size_t at = 0, k = 0, elided = 0;
    while (f->buf.len - at >= RVR_WIRE_HDR_LEN && k < 6) {
        uint32_t len;
        uint8_t type;
        rvr_wire_header(f->buf.data + at, &len, &type);
        const uint8_t *pl = f->buf.data + at + RVR_WIRE_HDR_LEN;
        rvr_wire_msg h;
        rvr_packet *p = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg_in(pl, len, NULL, &ids, &h, &p), RVR_OK);
        int64_t seq = 0;
        rvr_packet_get_i64(p, "seq", &seq);
        CU_ASSERT_EQUAL(seq, seqs[k]);
        CU_ASSERT(rvr_uuid_eq(&h.src, seq == 4 || seq == 5 ? &b : &a) && rvr_uuid_eq(&h.dst, &dst));
        elided += pl[0] != (E_SRC << 3 | 2);
        rvr_packet_free(p);
        at += RVR_WIRE_HDR_LEN + len;
        k++;
    }
    CU_ASSERT(k == 6 && at == f->buf.len && elided == 3);
    /* Appended after the split: it names its src and dst. */
    size_t before = f->buf.len;
    put_elided(f, &a, &dst, 8);
    CU_ASSERT_EQUAL(f->buf.data[before + RVR_WIRE_HDR_LEN], E_SRC << 3 | 2);
    free_frames(refused);
    free_frames(pe.qhead);
    free(c.described);
}

static const CU_TestInfo tests[] = {
    { "each schema is described once, before its first frame", test_described_once },
    { "a schema past the connection's limit refuses only its MSGs", test_refused_apart },
    { "frames refused whole do not count against the frames looked at", test_refused_not_counted },
    { "refused MSGs taken out between MSGs without src and dst", test_refused_elided },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("sendq_schema", tests);
    return cutest_run();
}
