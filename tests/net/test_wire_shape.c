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

static const CU_TestInfo tests[] = {
    { "a stream's frames are read by comparison, as the decoder reads them", test_stream },
    { "a changed frame is read by comparison only as the full decoder reads it", test_changed },
    { "two shapes interleaved: a kept one stays through a miss", test_interleaved },
    { "an empty frame is never read by comparison", test_empty },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("wire_shape", tests);
    return cutest_run();
}
