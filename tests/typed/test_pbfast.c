/* test_pbfast — the typed decoder's fast path (runtime/pbfast.c) against
 * the general one (nanopb): on messages of every single-valued field kind,
 * every byte of their encodings changed to values that break keys, wire
 * types, lengths, varints, UTF-8 and uuids, every truncation, repeated and
 * unknown fields, the outcome (status, and every field, compared by their
 * encoding) is the same, and the fast path takes what River's encoder
 * writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/pbsupport.h>

#include "cutest.h"
#include "flat.rvr.h"
#include "pbfast.h"

/* Message number k: each field from k, strings and bytes of k's length. */
static void fill(flat_All *m, unsigned k)
{
    flat_All_init(m);
    m->b = k & 1;
    m->i32 = -(int32_t)k * 1000;   /* negative: ten-byte varints */
    m->i64 = (int64_t)k << 40;
    m->u32 = 0xffffffffu - k;
    m->u64 = ~(uint64_t)k;
    m->f = (float)k / 3;
    m->d = -(double)k * 1.5;
    free(m->s);
    m->s = malloc(k % 200 + 4);
    for (unsigned i = 0; i < k % 200 + 3; i++)
        m->s[i] = i % 7 == 6 ? (char)0xc3 : i % 7 == 0 && i > 0 ? (char)0xa9 : 'a';
    m->s[k % 200 + 3] = '\0';
    m->y.len = k % 300;
    m->y.data = m->y.len ? malloc(m->y.len) : NULL;
    for (size_t i = 0; i < m->y.len; i++)
        m->y.data[i] = (uint8_t)(i * k);
    memset(m->id.bytes, (int)k + 1, sizeof m->id.bytes);
    m->lv = k % 3 ? flat_Level_HIGH : flat_Level_LOW;
    m->dflt = (int32_t)k;
}

/* The encoding of *m (its fields, compared), or NULL. */
static uint8_t *enc(const rvr_schema *s, const void *m, size_t *n)
{
    uint8_t *b = NULL;
    return rvr_pb_encode(s, m, &b, n) == RVR_OK ? b : NULL;
}

/* Every field of x and y the same: scalars bit for bit, strings (NULL is
 * not ""), bytes and uuids by content. */
static bool fields_equal(const rvr_schema *s, const void *x, const void *y)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const rvr_field *f = &s->fields[i];
        const char *a = (const char *)x + f->offset, *b = (const char *)y + f->offset;
        if (f->type == RVR_F_STRING) {
            const char *sa = *(char *const *)a, *sb = *(char *const *)b;
            if ((sa == NULL) != (sb == NULL) || (sa != NULL && strcmp(sa, sb) != 0))
                return false;
        } else if (f->type == RVR_F_BYTES) {
            const rvr_bytes *ya = (const rvr_bytes *)a, *yb = (const rvr_bytes *)b;
            if (ya->len != yb->len || (ya->len > 0 && memcmp(ya->data, yb->data, ya->len) != 0))
                return false;
        } else if (!(f->flags & RVR_FIELD_ARRAY) && f->type != RVR_F_MESSAGE &&
                   f->type != RVR_F_ANY && memcmp(a, b, f->elem_size) != 0) {
            return false;
        }
    }
    return true;
}

/* Decodes b[0..n) both ways into messages prepared by `prep` and checks the
 * outcome is the same (the status, and every field, also after an error);
 * counts what the fast path took. */
static void same(const rvr_schema *s, const uint8_t *b, size_t n, void (*prep)(void *),
                 unsigned *fast)
{
    void *x = calloc(1, s->size), *y = calloc(1, s->size);
    prep(x);
    prep(y);
    rvr_status sf, sg = rvr_pb_decode_general(s, b, n, y);
    if (rvr_pb_decode_fast(s, b, n, x, &sf))
        (*fast)++;
    else
        sf = rvr_pb_decode_general(s, b, n, x);
    CU_ASSERT_EQUAL(sf, sg);
    CU_ASSERT(fields_equal(s, x, y));
    if (sf == RVR_OK && sg == RVR_OK) {
        size_t nx = 0, ny = 0;
        uint8_t *ex = enc(s, x, &nx), *ey = enc(s, y, &ny);
        CU_ASSERT(ex != NULL && ey != NULL && nx == ny && memcmp(ex, ey, nx) == 0);
        free(ex);
        free(ey);
    }
    s->clear(x);
    s->clear(y);
    free(x);
    free(y);
}

static void prep_init(void *m) { flat_All_init(m); }
/* A message with values already: fields missing from the input keep them. */
static void prep_set(void *m) { fill(m, 77); }

static void mutate(const rvr_schema *s, uint8_t *b, size_t n, void (*prep)(void *),
                   unsigned *fast)
{
    static const uint8_t values[] = { 0, 1, 2, 0x08, 0x0a, 0x0d, 0x10, 0x12, 0x15, 0x1a,
                                      0x22, 0x7f, 0x80, 0xc3, 0xff };
    for (size_t i = 0; i < n; i++) {
        uint8_t keep = b[i];
        for (size_t v = 0; v < sizeof values; v++) {
            b[i] = values[v];
            same(s, b, n, prep, fast);
        }
        b[i] = keep;
        same(s, b, i, prep, fast);   /* truncated */
    }
}

static void test_all_kinds(void)
{
    unsigned fast = 0, total = 0;
    for (unsigned k = 0; k < 40; k++) {
        flat_All m;
        fill(&m, k * 7);
        size_t n;
        uint8_t *b = enc(&flat_All_schema, &m, &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        unsigned before = fast;
        same(&flat_All_schema, b, n, prep_init, &fast);
        same(&flat_All_schema, b, n, prep_set, &fast);
        CU_ASSERT_EQUAL(fast, before + 2);   /* what River writes takes the fast path */
        total += 2;
        if (k % 8 == 0) {
            mutate(&flat_All_schema, b, n, prep_init, &fast);
            mutate(&flat_All_schema, b, n, prep_set, &fast);
        }
        free(b);
        flat_All_clear(&m);
    }
    CU_ASSERT(fast > total);   /* and many changed inputs too */
}

/* A field twice, an unknown field, and a field of another wire type: the
 * general decoder's outcome (repeated: the last wins; unknown: skipped). */
static void test_irregular(void)
{
    flat_All m;
    fill(&m, 5);
    size_t n;
    uint8_t *b = enc(&flat_All_schema, &m, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    static const uint8_t tails[][12] = {
        { 2, 0x10, 0x05 },                   /* i32 again */
        { 4, 0x42, 0x02, 'h', 'i' },         /* s again */
        { 3, 0xf8, 0x07, 0x01 },             /* field 127: unknown */
        { 5, 0x45, 0x00, 0x00, 0x80, 0x3f }, /* field 8 (s) as fixed32 */
        { 2, 0x00, 0x00 },                   /* field number 0 */
    };
    unsigned fast = 0;
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        uint8_t *c = malloc(n + tails[t][0]);
        memcpy(c, b, n);
        memcpy(c + n, tails[t] + 1, tails[t][0]);
        same(&flat_All_schema, c, n + tails[t][0], prep_init, &fast);
        free(c);
    }
    CU_ASSERT_EQUAL(fast, 0);   /* none of them is the fast path's */
    free(b);
    flat_All_clear(&m);

    /* Alone: values the general decoder zeroes, refuses or reads wider. */
    static const uint8_t alone[][14] = {
        { 2, 0x52, 0x00 },                                       /* uuid of 0 bytes */
        { 13, 0x52, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 },   /* uuid of 11 */
        { 7, 0x20, 0x80, 0x80, 0x80, 0x80, 0x10 },               /* u32 = 2^32 */
        { 6, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10 },               /* bool past 32 bits */
        { 3, 0x08, 0x81, 0x00 },                                 /* bool 1, two bytes */
        { 12, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* 10th > 1 */
        { 4, 0x35, 0x00, 0x00, 0x80 },                           /* float cut short */
    };
    for (size_t t = 0; t < sizeof alone / sizeof alone[0]; t++)
        same(&flat_All_schema, alone[t] + 1, alone[t][0], prep_set, &fast);
    CU_ASSERT_EQUAL(fast, 0);
}

static void prep_tagged(void *m) { flat_Tagged_init(m); }
static void prep_listed(void *m) { flat_Listed_init(m); }

/* An open-ended message decodes its declared fields fast; one with an
 * array never does. */
static void test_other_messages(void)
{
    flat_Tagged t;
    flat_Tagged_init(&t);
    t.seq = 300;
    t.who = strdup("node");
    size_t n;
    uint8_t *b = enc(&flat_Tagged_schema, &t, &n);
    unsigned fast = 0;
    same(&flat_Tagged_schema, b, n, prep_tagged, &fast);
    CU_ASSERT_EQUAL(fast, 1);
    mutate(&flat_Tagged_schema, b, n, prep_tagged, &fast);
    free(b);
    flat_Tagged_clear(&t);

    flat_Listed l;
    flat_Listed_init(&l);
    l.seq = 1;
    int32_t xs[3] = { 1, -2, 3 };
    l.xs = xs;
    l.xs_count = 3;
    b = enc(&flat_Listed_schema, &l, &n);
    fast = 0;
    same(&flat_Listed_schema, b, n, prep_listed, &fast);
    CU_ASSERT_EQUAL(fast, 0);
    free(b);
}

static const CU_TestInfo tests[] = {
    { "every field kind: the fast path's outcome is the general one's", test_all_kinds },
    { "repeated, unknown, mistyped fields go to the general decoder", test_irregular },
    { "open-ended messages fast, messages with arrays not", test_other_messages },
    CU_TEST_INFO_NULL,
};

int main(void)
{
    cutest_suite("pbfast", tests);
    return cutest_run();
}
