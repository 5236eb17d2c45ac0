/* test_nanopb.c — our build agrees with how Debian built libprotobuf-nanopb.
 *
 * The library was compiled with PB_ENABLE_MALLOC and without PB_FIELD_32BIT.
 * If a translation unit of ours disagreed, pointer fields would not decode
 * (or the descriptors would be laid out differently and crash), so these
 * round trips fail when the options drift.  They also pin down what the
 * 16-bit pb_size_t caps: a pointer bytes field holds at most 65535 bytes and
 * a repeated field at most 65535 entries, while a pointer string is not
 * capped by pb_size_t. */
#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"

#ifndef PB_ENABLE_MALLOC
#error "PB_ENABLE_MALLOC must be defined (configure passes -DPB_ENABLE_MALLOC=1)"
#endif
#ifdef PB_FIELD_32BIT
#error "PB_FIELD_32BIT must not be defined: Debian's nanopb is built without it"
#endif

typedef struct probe {
    char *name;
    pb_bytes_array_t *data;
    pb_size_t ids_count;
    uint32_t *ids;
} probe;

#define probe_FIELDLIST(X, a) \
    X(a, POINTER, SINGULAR, STRING, name, 1) \
    X(a, POINTER, SINGULAR, BYTES, data, 2) \
    X(a, POINTER, REPEATED, UINT32, ids, 3)
#define probe_CALLBACK NULL
#define probe_DEFAULT NULL
PB_BIND(probe, probe, AUTO)
#define probe_fields (&probe_msg)

/* Encodes p into a malloc'ed buffer. */
static uint8_t *encode(const probe *p, size_t *len)
{
    size_t size = 0;
    CU_ASSERT_FATAL(pb_get_encoded_size(&size, probe_fields, p));
    uint8_t *buf = malloc(size ? size : 1);
    pb_ostream_t os = pb_ostream_from_buffer(buf, size);
    CU_ASSERT_FATAL(pb_encode(&os, probe_fields, p));
    *len = os.bytes_written;
    return buf;
}

static void test_size_type(void)
{
    CU_ASSERT_EQUAL(sizeof(pb_size_t), 2);
}

static void test_pointer_roundtrip(void)
{
    uint32_t ids[3] = { 1, 70000, 0xffffffffu };
    probe in = { .name = "héllo", .ids_count = 3, .ids = ids };
    in.data = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(4));
    in.data->size = 4;
    memcpy(in.data->bytes, "a\0b\0", 4);

    size_t len;
    uint8_t *buf = encode(&in, &len);
    probe out = { 0 };
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    CU_ASSERT_FATAL(pb_decode(&is, probe_fields, &out));
    CU_ASSERT_STRING_EQUAL(out.name, "héllo");
    CU_ASSERT_EQUAL(out.data->size, 4);
    CU_ASSERT(memcmp(out.data->bytes, "a\0b\0", 4) == 0);
    CU_ASSERT_EQUAL(out.ids_count, 3);
    CU_ASSERT_EQUAL(out.ids[1], 70000);
    CU_ASSERT_EQUAL(out.ids[2], 0xffffffffu);
    pb_release(probe_fields, &out);
    free(in.data);
    free(buf);
}

/* A pointer string of 1 MiB decodes: strings are not capped by pb_size_t. */
static void test_long_string(void)
{
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    probe in = { .name = s };
    size_t len;
    uint8_t *buf = encode(&in, &len);
    probe out = { 0 };
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    CU_ASSERT_FATAL(pb_decode(&is, probe_fields, &out));
    CU_ASSERT_EQUAL(strlen(out.name), n);
    pb_release(probe_fields, &out);
    free(s);
    free(buf);
}

/* pb_bytes_array_t.size is a pb_size_t: 65535 bytes decode, 65536 do not.
 * (This is why River carries large bytes values outside nanopb's pointer
 * bytes fields.) */
static void test_bytes_cap(void)
{
    for (size_t n = 65535; n <= 65536; n++) {
        /* Hand-encode field 2 (bytes): tag 0x12, varint length, payload. */
        uint8_t *buf = calloc(1, n + 8);
        size_t k = 0;
        buf[k++] = 0x12;
        size_t v = n;
        while (v >= 0x80) {
            buf[k++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        buf[k++] = (uint8_t)v;
        probe out = { 0 };
        pb_istream_t is = pb_istream_from_buffer(buf, k + n);
        bool ok = pb_decode(&is, probe_fields, &out);
        if (n == 65535) {
            CU_ASSERT(ok);
            if (ok)
                CU_ASSERT_EQUAL(out.data->size, 65535);
        } else {
            CU_ASSERT(!ok);
        }
        pb_release(probe_fields, &out);
        free(buf);
    }
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        { "pb_size_t is 16 bits", test_size_type },
        { "pointer fields round-trip (PB_ENABLE_MALLOC)", test_pointer_roundtrip },
        { "1 MiB pointer string", test_long_string },
        { "pointer bytes capped at 65535", test_bytes_cap },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("nanopb build options", tests);
    return cutest_run();
}
