/* test_pblimits.c — what the 16-bit pb_size_t of Debian's nanopb 0.4.7
 * (built with PB_ENABLE_MALLOC, without PB_FIELD_32BIT) caps, measured, and
 * that River's generated code carries the same values past those caps.
 *
 * Findings (also in docs/language.md, "Limits"):
 *   - pb_size_t is 16 bits: PB_SIZE_MAX = 65535.
 *   - POINTER bytes (pb_bytes_array_t.size) hold at most 65535 bytes;
 *     decoding a longer one fails ("bytes overflow").
 *   - POINTER and STATIC repeated fields count in pb_size_t: at most 65535
 *     elements ("too many array entries").
 *   - POINTER strings are not capped (length is a size_t, NUL-terminated).
 *   - Field numbers: the iterator keeps tags in pb_size_t, and descriptors
 *     assert tag < 65536 at compile time; larger numbers on the wire are
 *     skipped as unknown.  riverc limits field numbers to 1..65535.
 *   - STATIC field offsets and sizes must stay below 65536 (descriptor
 *     asserts), so a message struct is at most 64 KiB.
 * River's structs use size_t counts and rvr_bytes, marshalled through
 * nanopb field callbacks, so none of the caps applies to them. */
#include <stdlib.h>
#include <string.h>
#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include "cutest.h"
#include "rt.rvr.h"

typedef struct { pb_bytes_array_t *b; } PtrBytes;
#define PtrBytes_FIELDLIST(X, a) X(a, POINTER, SINGULAR, BYTES, b, 1)
#define PtrBytes_CALLBACK NULL
#define PtrBytes_DEFAULT NULL
PB_BIND(PtrBytes, PtrBytes, AUTO)

typedef struct { pb_size_t xs_count; int32_t *xs; } PtrArr;
#define PtrArr_FIELDLIST(X, a) X(a, POINTER, REPEATED, INT32, xs, 1)
#define PtrArr_CALLBACK NULL
#define PtrArr_DEFAULT NULL
PB_BIND(PtrArr, PtrArr, AUTO)

typedef struct { char *s; } PtrStr;
#define PtrStr_FIELDLIST(X, a) X(a, POINTER, SINGULAR, STRING, s, 1)
#define PtrStr_CALLBACK NULL
#define PtrStr_DEFAULT NULL
PB_BIND(PtrStr, PtrStr, AUTO)

static void encode_bytes(size_t n, uint8_t **buf, size_t *len)
{
    rt_AsBytes m;
    rt_AsBytes_init(&m);
    m.s.data = calloc(n, 1);
    m.s.len = n;
    CU_ASSERT_EQUAL_FATAL(rt_AsBytes_encode(&m, buf, len), RVR_OK);
    rt_AsBytes_clear(&m);
}

static void encode_ints(size_t n, uint8_t **buf, size_t *len)
{
    rt_Unbounded m;
    rt_Unbounded_init(&m);
    m.xs = calloc(n, sizeof *m.xs);
    m.xs_count = n;
    CU_ASSERT_EQUAL_FATAL(rt_Unbounded_encode(&m, buf, len), RVR_OK);
    rt_Unbounded_clear(&m);
}

static bool nanopb_decode(const pb_msgdesc_t *d, void *m, const uint8_t *buf, size_t len)
{
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    bool ok = pb_decode(&is, d, m);
    pb_release(d, m);
    return ok;
}

static void test_size_type(void)
{
    CU_ASSERT_EQUAL(sizeof(pb_size_t), 2);
    CU_ASSERT_EQUAL(PB_SIZE_MAX, 65535);
}

static void test_pointer_bytes(void)
{
    uint8_t *buf;
    size_t len;
    PtrBytes m;
    encode_bytes(65535, &buf, &len);
    CU_ASSERT_TRUE(nanopb_decode(&PtrBytes_msg, &m, buf, len));
    free(buf);
    encode_bytes(65536, &buf, &len);
    CU_ASSERT_FALSE(nanopb_decode(&PtrBytes_msg, &m, buf, len));   /* capped */
    rt_AsBytes r;
    CU_ASSERT_EQUAL(rt_AsBytes_decode(buf, len, &r), RVR_OK);        /* River is not */
    CU_ASSERT_EQUAL(r.s.len, 65536);
    rt_AsBytes_clear(&r);
    free(buf);
    encode_bytes(5u << 20, &buf, &len);
    CU_ASSERT_EQUAL(rt_AsBytes_decode(buf, len, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.s.len, 5u << 20);
    rt_AsBytes_clear(&r);
    free(buf);
}

static void test_array_count(void)
{
    uint8_t *buf;
    size_t len;
    PtrArr m;
    encode_ints(65535, &buf, &len);
    CU_ASSERT_TRUE(nanopb_decode(&PtrArr_msg, &m, buf, len));
    free(buf);
    encode_ints(65536, &buf, &len);
    CU_ASSERT_FALSE(nanopb_decode(&PtrArr_msg, &m, buf, len));     /* capped */
    rt_Unbounded r;
    CU_ASSERT_EQUAL(rt_Unbounded_decode(buf, len, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.xs_count, 65536);
    rt_Unbounded_clear(&r);
    free(buf);
}

static void test_pointer_string(void)
{
    rt_AsString s;
    uint8_t *buf;
    size_t len;
    rt_AsString_init(&s);
    s.s = malloc(200001);
    memset(s.s, 'x', 200000);
    s.s[200000] = 0;
    CU_ASSERT_EQUAL_FATAL(rt_AsString_encode(&s, &buf, &len), RVR_OK);
    PtrStr m;
    CU_ASSERT_TRUE(nanopb_decode(&PtrStr_msg, &m, buf, len));     /* not capped */
    free(buf);
    rt_AsString_clear(&s);
}

static void test_field_numbers(void)
{
    /* field 70000 (varint) then field 1 (bytes "ok"): the big tag is skipped */
    static const uint8_t wire[] = { 0x80, 0x97, 0x22, 0x05, 0x0a, 0x02, 'o', 'k' };
    rt_AsBytes r;
    CU_ASSERT_EQUAL_FATAL(rt_AsBytes_decode(wire, sizeof wire, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.s.len, 2);
    rt_AsBytes_clear(&r);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        { "pb_size_t is 16 bits", test_size_type },
        { "pointer bytes capped at 65535, River bytes not", test_pointer_bytes },
        { "array counts capped at 65535, River arrays not", test_array_count },
        { "pointer strings not capped", test_pointer_string },
        { "field numbers past 65535 are skipped", test_field_numbers },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("nanopb 16-bit limits", tests);
    return cutest_run();
}
