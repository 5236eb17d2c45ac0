/* test_wire_shape — a connection reads a stream's frames by comparison
 * with the last one (wire_shape.c): only frames the full decoder accepts,
 * as the packets it makes, and nothing before a stream is seen.
 * In-process. */
#include <stdio.h>
#include <string.h>

#include "cutest.h"
#include "fulldecode.h"
#include "packet_impl.h"
#include "wire.h"
#include "wire_shape.h"

static const rvr_uuid dst = { { 9, 8, 7, 6, 5, 4, 3, 2, 1 } };
static const rvr_uuid src = { { 1, 2, 3, 4, 5, 6, 7, 8, 9 } };

/* The data attribute's sizes: lengths of one byte, and of two (the
 * value's, its entry's and the attributes' field's). */
static const size_t data_sizes[] = { 16, 200 };

/* A stream's message number `n`: every kind of flat value, each changed
 * with n while its encoding keeps its length (n < 64), and `dn` bytes of
 * data (all in at most RVR_WIRE_RAW_BYTES: the common shape). */
static void frame_of(unsigned n, size_t dn, rvr_buf *b)
{
    rvr_packet *p = rvr_packet_new("tick");
    uint8_t data[256];
    memset(data, (int)n, dn);
    char s[] = "text-?";
    s[5] = (char)('a' + n % 26);
    rvr_uuid u = { { (uint8_t)n } };
    p->src = src;
    CU_ASSERT_EQUAL(rvr_packet_set_bytes(p, "data", data, dn), RVR_OK);
    CU_ASSERT_PTR_NOT_NULL(p->raw);
    CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "n", (int64_t)n - 30), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_u64(p, "u", n), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_bool(p, "b", n & 1), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_f64(p, "d", n * 0.25), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "s", s), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_uuid(p, "id", &u), RVR_OK);
    b->len = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(b, &dst, p), RVR_OK);
    rvr_packet_free(p);
}

/* What the connection does with a frame: the kept shape first, else the
 * common-shape decoder, whose frames are offered to learn. */
static rvr_packet *read_frame(rvr_wire_shape *sh, const uint8_t *p, size_t n, rvr_wire_ids *to,
                              bool *by_shape)
{
    rvr_packet *pkt = rvr_wire_shape_get(sh, p, n, to);
    *by_shape = pkt != NULL;
    if (pkt == NULL && (pkt = rvr_wire_get_small(p, n, RVR_MAX_ATTRS, to)) != NULL)
        rvr_wire_shape_learn(sh, p, n);
    return pkt;
}

/* When the shape reads p[0..n), the full decoder accepts it and makes the
 * same packet, to the same VR.  Counts the frames the shape read. */
static void agrees(const rvr_wire_shape *sh, const uint8_t *p, size_t n, unsigned *read)
{
    rvr_wire_ids to = { .set = false };
    rvr_packet *s = rvr_wire_shape_get(sh, p, n, &to);
    if (s == NULL)
        return;
    (*read)++;
    agree_with_full(p, n, s, &to.dst);
}

static void stream(size_t dn)
{
    rvr_wire_shape sh = { 0 };
    rvr_buf b = { 0 };
    bool by_shape = true;
    rvr_wire_ids to = { .set = false };
    for (unsigned n = 1; n <= 40; n++) {
        frame_of(n, dn, &b);
        uint8_t *p = b.data + RVR_WIRE_HDR_LEN;
        size_t len = b.len - RVR_WIRE_HDR_LEN;
        rvr_packet *got = read_frame(&sh, p, len, &to, &by_shape);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        /* Two frames of one length make a stream: the third is compared. */
        CU_ASSERT_EQUAL(by_shape, n >= 3);
        rvr_wire_limits def;
        rvr_wire_limits_default(&def);
        rvr_wire_msg h;
        rvr_packet *f = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_wire_get_msg(p, len, &def, &h, &f), RVR_OK);
        CU_ASSERT(rvr_packet_equal(got, f) && rvr_uuid_same(&to.dst, &dst));
        int64_t i = 0;
        const char *s = NULL;
        size_t slen = 0;
        CU_ASSERT(rvr_packet_get_i64(got, "n", &i) == RVR_OK && i == (int64_t)n - 30);
        CU_ASSERT(rvr_packet_get_str(got, "s", &s, &slen) == RVR_OK && slen == 6 &&
                  s[5] == (char)('a' + n % 26));
        const uint8_t *d = NULL;
        size_t dlen = 0;
        CU_ASSERT(rvr_packet_get_bytes(got, "data", &d, &dlen) == RVR_OK && dlen == dn &&
                  d[0] == (uint8_t)n && d[dn - 1] == (uint8_t)n);
        rvr_packet_free(got);
        rvr_packet_free(f);
    }
    rvr_buf_free(&b);
}

static void test_stream(void)
{
    for (size_t i = 0; i < sizeof data_sizes / sizeof data_sizes[0]; i++)
        stream(data_sizes[i]);
}

/* Every byte of a stream's next frame changed to values that break
 * lengths, keys, names, strings and varints, and every truncation: what
 * the shape reads, the full decoder reads the same. */
static void changed(size_t dn)
{
    static const uint8_t values[] = { 0, 1, 2, 0x0a, 0x12, 0x1a, 0x2a, 0x7f, 0x80, 0xff };
    rvr_wire_shape sh = { 0 };
    rvr_buf b = { 0 };
    rvr_wire_ids to = { .set = false };
    bool by_shape;
    for (unsigned n = 1; n <= 2; n++) {
        frame_of(n, dn, &b);
        rvr_packet_free(read_frame(&sh, b.data + RVR_WIRE_HDR_LEN, b.len - RVR_WIRE_HDR_LEN,
                                   &to, &by_shape));
    }
    frame_of(3, dn, &b);
    uint8_t *p = b.data + RVR_WIRE_HDR_LEN;
    size_t len = b.len - RVR_WIRE_HDR_LEN;
    unsigned read = 0, kept = 0;
    agrees(&sh, p, len, &read);
    CU_ASSERT_EQUAL(read, 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t keep = p[i];
        for (size_t v = 0; v < sizeof values; v++) {
            p[i] = values[v];
            unsigned before = read;
            agrees(&sh, p, len, &read);
            if (read == before && i < 40)
                kept++;   /* envelope and tag changed: another shape */
        }
        p[i] = keep;
        agrees(&sh, p, i, &read);   /* truncated: never read by the shape */
    }
    CU_ASSERT(read > 1 + dn * 9);   /* the data's bytes are free */
    CU_ASSERT(kept >= 40 * 9);     /* an envelope byte read differently is refused */
    rvr_buf_free(&b);
}

static void test_changed(void)
{
    for (size_t i = 0; i < sizeof data_sizes / sizeof data_sizes[0]; i++)
        changed(data_sizes[i]);
}

/* Two shapes of one length interleaved (two tags): a kept one stays
 * through a miss, so a third of the frames are still read by comparison,
 * each as the full decoder reads it. */
static void test_interleaved(void)
{
    rvr_wire_shape sh = { 0 };
    rvr_buf b = { 0 };
    unsigned by = 0, total = 60;
    for (unsigned n = 1; n <= total; n++) {
        rvr_packet *p = rvr_packet_new(n % 2 ? "odd" : "eve");
        p->src = src;
        CU_ASSERT_EQUAL(rvr_packet_set_i64(p, "n", (int64_t)(n % 50)), RVR_OK);
        b.len = 0;
        CU_ASSERT_EQUAL_FATAL(rvr_wire_put_packet(&b, &dst, p), RVR_OK);
        rvr_packet_free(p);
        const uint8_t *f = b.data + RVR_WIRE_HDR_LEN;
        size_t len = b.len - RVR_WIRE_HDR_LEN;
        rvr_wire_ids to = { .set = false };
        bool by_shape;
        rvr_packet *got = read_frame(&sh, f, len, &to, &by_shape);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(got), n % 2 ? "odd" : "eve");
        by += by_shape;
        agree_with_full(f, len, got, &to.dst);
    }
    CU_ASSERT(by >= total / 4);
    rvr_buf_free(&b);
}

/* An empty frame is no shape: none kept, or one kept and let go. */
static void test_empty(void)
{
    rvr_wire_shape sh = { 0 };
    uint8_t after[RVR_WIRE_SHAPE_MAX];
    memset(after, 0x41, sizeof after);
    rvr_wire_ids to = { .set = false };
    CU_ASSERT_PTR_NULL(rvr_wire_shape_get(&sh, after, 0, &to));
    rvr_buf b = { 0 };
    bool by_shape;
    for (unsigned n = 1; n <= 2; n++) {
        frame_of(n, 16, &b);
        rvr_packet_free(read_frame(&sh, b.data + RVR_WIRE_HDR_LEN, b.len - RVR_WIRE_HDR_LEN,
                                   &to, &by_shape));
    }
    CU_ASSERT(sh.len != 0);
    rvr_wire_shape_learn(&sh, after, 0);   /* another length: kept through one miss */
    CU_ASSERT(sh.len != 0);
    rvr_wire_shape_learn(&sh, after, 0);   /* let go at the second */
    CU_ASSERT_EQUAL(sh.len, 0);
    CU_ASSERT_PTR_NULL(rvr_wire_shape_get(&sh, after, 0, &to));
    rvr_buf_free(&b);
}

/* Frames n0 .. n0+k-1 of a stream, headers included, one after another
 * at out (src and dst left out when `elide`); *flen: one frame's size. */
static size_t frames_into(uint8_t *out, unsigned n0, unsigned k, size_t dn, bool elide,
                          size_t *flen)
{
    rvr_buf b = { 0 };
    size_t at = 0, skip = elide ? RVR_WIRE_IDS_LEN : 0;
    for (unsigned i = 0; i < k; i++) {
        frame_of(n0 + i, dn, &b);
        size_t pl = b.len - RVR_WIRE_HDR_LEN - skip;
        rvr_wire_put_header(out + at, pl, RVR_FRAME_MSG);
        memcpy(out + at + RVR_WIRE_HDR_LEN, b.data + RVR_WIRE_HDR_LEN + skip, pl);
        *flen = RVR_WIRE_HDR_LEN + pl;
        at += *flen;
    }
    rvr_buf_free(&b);
    return at;
}

#define RUN 10

/* What rvr_wire_shape_run must give for m[0..avail) (at most max): the
 * frames rvr_wire_shape_get reads one by one, up to the first it does not
 * or whose header is not that of the kept shape's frame. */
static void run_agrees(const rvr_wire_shape *sh, const uint8_t *m, size_t avail, size_t flen,
                       size_t max, const rvr_wire_ids *ids)
{
    rvr_wire_ids ref = *ids, got = *ids;
    rvr_packet *want[RUN], *out[RUN];
    size_t nw = 0;
    while (nw < max && avail - nw * flen >= flen) {
        const uint8_t *f = m + nw * flen;
        uint32_t len;
        uint8_t type;
        rvr_wire_header(f, &len, &type);
        if (type != RVR_FRAME_MSG || len != flen - RVR_WIRE_HDR_LEN ||
            (want[nw] = rvr_wire_shape_get(sh, f + RVR_WIRE_HDR_LEN, len, &ref)) == NULL)
            break;
        nw++;
    }
    size_t used = 1;
    size_t k = rvr_wire_shape_run(sh, m, avail, &got, out, max, &used);
    CU_ASSERT_EQUAL(k, nw);
    CU_ASSERT_EQUAL(used, nw * flen);
    CU_ASSERT(got.set == ref.set && rvr_uuid_same(&got.src, &ref.src) &&
              rvr_uuid_same(&got.dst, &ref.dst));
    for (size_t i = 0; i < nw; i++) {
        if (i < k) {
            CU_ASSERT(rvr_packet_equal(out[i], want[i]));
            CU_ASSERT_STRING_EQUAL(rvr_packet_tag(out[i]), rvr_packet_tag(want[i]));
            CU_ASSERT(rvr_uuid_same(rvr_packet_src(out[i]), rvr_packet_src(want[i])));
            CU_ASSERT_EQUAL(out[i]->wire_len, flen - RVR_WIRE_HDR_LEN);
        }
        rvr_packet_free(want[i]);
    }
    for (size_t i = 0; i < k; i++)
        rvr_packet_free(out[i]);
}

/* A run of a stream's frames read together, with and without src and
 * dst: every frame until the first the shape would not read, each as the
 * shape reads it alone; never past max, nor into an incomplete frame. */
static void run_case(size_t dn, bool elide)
{
    static const uint8_t values[] = { 0, 1, 0x0a, 0x12, 0x7f, 0x80, 0xff };
    static uint8_t buf[RUN * 400], m[RUN * 400];
    rvr_wire_shape sh = { 0 };
    rvr_wire_ids ids = { .set = false };
    size_t flen;
    bool by;
    frames_into(buf, 1, 1, dn, false, &flen);   /* names src and dst first */
    rvr_packet_free(read_frame(&sh, buf + RVR_WIRE_HDR_LEN, flen - RVR_WIRE_HDR_LEN, &ids, &by));
    frames_into(buf, 2, 2, dn, elide, &flen);
    for (size_t i = 0; i < 2; i++)
        rvr_packet_free(read_frame(&sh, buf + i * flen + RVR_WIRE_HDR_LEN,
                                   flen - RVR_WIRE_HDR_LEN, &ids, &by));
    CU_ASSERT_FATAL(sh.len == flen - RVR_WIRE_HDR_LEN);
    CU_ASSERT_EQUAL(sh.ids_len, elide ? 0 : RVR_WIRE_IDS_LEN);
    size_t total = frames_into(buf, 4, RUN, dn, elide, &flen);
    run_agrees(&sh, buf, total, flen, RUN, &ids);
    run_agrees(&sh, buf, total - 1, flen, RUN, &ids);   /* the last one incomplete */
    run_agrees(&sh, buf, total, flen, 3, &ids);
    run_agrees(&sh, buf, flen - 1, flen, RUN, &ids);
    /* Any byte of the eighth frame changed, header included. */
    for (size_t j = 0; j < flen; j++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(m, buf, total);
            m[7 * flen + j] = values[v];
            run_agrees(&sh, m, total, flen, RUN, &ids);
        }
    }
    /* Nothing known before: frames that name src and dst are read (and
     * make them known), frames that leave them out are not. */
    rvr_wire_ids none = { .set = false };
    run_agrees(&sh, buf, total, flen, RUN, &none);
}

static void test_run(void)
{
    for (size_t i = 0; i < sizeof data_sizes / sizeof data_sizes[0]; i++) {
        run_case(data_sizes[i], false);
        run_case(data_sizes[i], true);
    }
}

static const CU_TestInfo tests[] = {
    { "a stream's frames are read by comparison, as the decoder reads them", test_stream },
    { "a changed frame is read by comparison only as the full decoder reads it", test_changed },
    { "two shapes interleaved: a kept one stays through a miss", test_interleaved },
    { "an empty frame is never read by comparison", test_empty },
    { "a run of frames is read together as each alone", test_run },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("wire_shape", tests);
    return cutest_run();
}
