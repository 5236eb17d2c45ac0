/* test_roundtrip.c — generated marshalling of every .rvr type (rt.rvr):
 * round trips, defaults, bounds, large values past nanopb's 16-bit limits,
 * schema evolution, malformed input, and the schema descriptors. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cutest.h"
#include "rt.rvr.h"

/* ---- generic equality through the schema (exercises the descriptors) ---- */

static bool value_eq(const rvr_field *f, const void *a, const void *b);

static bool msg_eq(const rvr_schema *s, const void *a, const void *b)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const rvr_field *f = &s->fields[i];
        const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
        if (f->flags & RVR_FIELD_ARRAY) {
            size_t na = *(const size_t *)((const char *)a + f->count_offset);
            size_t nb = *(const size_t *)((const char *)b + f->count_offset);
            if (na != nb)
                return false;
            const char *ea = *(char *const *)pa, *eb = *(char *const *)pb;
            for (size_t k = 0; k < na; k++)
                if (!value_eq(f, ea + k * f->elem_size, eb + k * f->elem_size))
                    return false;
        } else if (!value_eq(f, pa, pb)) {
            return false;
        }
    }
    return true;
}

static bool value_eq(const rvr_field *f, const void *a, const void *b)
{
    switch (f->type) {
    case RVR_F_FLOAT: case RVR_F_DOUBLE: case RVR_F_UUID:
        return memcmp(a, b, f->elem_size) == 0;     /* bitwise: NaN == NaN, -0 != 0 */
    case RVR_F_STRING: {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return !strcmp(x ? x : "", y ? y : "");
    }
    case RVR_F_BYTES: {
        const rvr_bytes *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || !memcmp(x->data, y->data, x->len));
    }
    case RVR_F_MESSAGE:
        return msg_eq(f->message, a, b);
    case RVR_F_ANY: {
        const rvr_value *x = a, *y = b;
        return x->type == y->type && (x->type == RVR_T_NONE || rvr_value_equal(x, y));
    }
    case RVR_F_BOOL:
        return *(const bool *)a == *(const bool *)b;
    default:
        return memcmp(a, b, f->elem_size) == 0;
    }
}

static char *xstr(const char *s) { return strcpy(malloc(strlen(s) + 1), s); }

static void *xdup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

#define ARR(m, f, ...) do {                                                   \
        __typeof__(*(m)->f) tmp_[] = { __VA_ARGS__ };                         \
        (m)->f##_count = sizeof tmp_ / sizeof tmp_[0];                        \
        (m)->f = xdup(tmp_, sizeof tmp_);                                     \
    } while (0)

static rvr_bytes mkbytes(const void *p, size_t n)
{
    rvr_bytes b = { xdup(p, n), n };
    return b;
}

static void fill_all(rt_All *m)
{
    rt_All_init(m);
    m->b = true;
    m->i32 = INT32_MIN;
    m->i64 = INT64_MIN;
    m->u32 = UINT32_MAX;
    m->u64 = UINT64_MAX;
    m->f = -FLT_MAX;
    m->d = NAN;
    m->s = xstr("grüße, 世界 \xf0\x9f\x8c\x8a");
    m->data = mkbytes("\0a\0b\0", 5);
    for (int i = 0; i < 16; i++)
        m->id.bytes[i] = (uint8_t)(i * 17);
    m->color = rt_Color_LOW;
    m->inner.a = -1;
    m->inner.s = xstr("inner");
    m->inner.where.x = 1.5;
    free(m->inner.where.label);
    m->inner.where.label = NULL;                 /* "" on the wire, not the default */
    m->v = rvr_value_i64(-42);
    m->pt.x = INFINITY;
    m->pt.y = -0.0;
    ARR(m, bs, true, false, true);
    ARR(m, i32s, INT32_MIN, -1, 0, 1, INT32_MAX);
    ARR(m, i64s, INT64_MIN, -1, 0, INT64_MAX);
    ARR(m, u32s, 0, 1, UINT32_MAX);
    ARR(m, u64s, 0, UINT64_MAX, 1ull << 63);
    ARR(m, fs, 0.0f, -0.0f, INFINITY, -INFINITY, FLT_MIN);
    ARR(m, ds, NAN, DBL_MAX, -DBL_MIN, 1e-300);
    ARR(m, ss, xstr(""), xstr("a"), xstr("ünï"));
    ARR(m, datas, mkbytes("", 0), mkbytes("\0\0\0", 3));
    ARR(m, ids, m->id, m->id);
    ARR(m, colors, rt_Color_RED, rt_Color_BLUE, rt_Color_HIGH, (rt_Color)1234);
    m->inners_count = 2;
    m->inners = calloc(2, sizeof *m->inners);
    rt_Inner_init(&m->inners[0]);
    rt_Inner_init(&m->inners[1]);
    m->inners[1].a = 7;
    m->inners[1].s = xstr("second");
    m->vs_count = 3;
    m->vs = calloc(3, sizeof *m->vs);
    rvr_value_str(&m->vs[0], "dyn");
    m->vs[1] = rvr_value_f64(2.5);
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 1);
    rvr_list_append_str(l, "two");
    m->vs[2] = rvr_value_list(l);
    m->seven = 0;                                /* explicit zero beats the default 7 */
    m->neg = 1;
    m->big = 0;
    m->dnan = 0.0;
    m->finf = 3.0f;
    free(m->greeting);
    m->greeting = NULL;                          /* empty beats the default */
    m->dcolor = rt_Color_RED;
    m->yes = false;
}

static void roundtrip(const rvr_schema *s, void *in, void *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(s->encode(in, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(s->decode(buf, len, out), RVR_OK);
    CU_ASSERT_TRUE(msg_eq(s, in, out));
    /* re-encoding the decoded message gives the same bytes */
    uint8_t *buf2 = NULL;
    size_t len2 = 0;
    CU_ASSERT_EQUAL(s->encode(out, &buf2, &len2), RVR_OK);
    CU_ASSERT_TRUE(len == len2 && !memcmp(buf, buf2, len));
    free(buf);
    free(buf2);
}

static void test_defaults(void)
{
    rt_All m;
    rt_All_init(&m);
    CU_ASSERT_EQUAL(m.seven, 7);
    CU_ASSERT_EQUAL(m.neg, INT64_MIN);
    CU_ASSERT_EQUAL(m.big, UINT64_MAX);
    CU_ASSERT_TRUE(isnan(m.dnan));
    CU_ASSERT_TRUE(isinf(m.finf) && m.finf < 0);
    CU_ASSERT_STRING_EQUAL(m.greeting, "héllo");
    CU_ASSERT_EQUAL(m.dcolor, rt_Color_BLUE);
    CU_ASSERT_TRUE(m.yes);
    CU_ASSERT_STRING_EQUAL(m.pt.label, "origin");     /* nested default */
    CU_ASSERT_PTR_NULL(m.extra);
    /* an empty buffer decodes to the defaults */
    rt_All d;
    CU_ASSERT_EQUAL(rt_All_decode(NULL, 0, &d), RVR_OK);
    CU_ASSERT_TRUE(msg_eq(&rt_All_schema, &m, &d));
    rt_All_clear(&d);
    rt_All_clear(&m);
    rt_All_clear(NULL);
}

static void test_all_types(void)
{
    rt_All in, out;
    fill_all(&in);
    roundtrip(&rt_All_schema, &in, &out);
    CU_ASSERT_EQUAL(out.seven, 0);
    CU_ASSERT_EQUAL(out.big, 0);
    CU_ASSERT_EQUAL(out.greeting, NULL == out.greeting ? NULL : out.greeting);
    CU_ASSERT_TRUE(out.greeting == NULL || out.greeting[0] == 0);
    CU_ASSERT_TRUE(isnan(out.d));
    CU_ASSERT_EQUAL(out.colors[3], 1234);        /* unknown enum values survive */
    CU_ASSERT_EQUAL(out.data.len, 5);
    CU_ASSERT_EQUAL(memcmp(out.data.data, "\0a\0b\0", 5), 0);
    CU_ASSERT_EQUAL(out.vs[2].type, RVR_T_LIST);
    CU_ASSERT_TRUE(out.inner.where.label == NULL || out.inner.where.label[0] == 0);
    rt_All_clear(&in);
    rt_All_clear(&out);
    CU_ASSERT_EQUAL(in.i32s_count, 0);
    CU_ASSERT_PTR_NULL(in.i32s);
}

static void test_empty(void)
{
    rt_Empty e, d;
    uint8_t *buf;
    size_t len;
    rt_Empty_init(&e);
    CU_ASSERT_EQUAL(rt_Empty_encode(&e, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(rt_Empty_decode(buf, len, &d), RVR_OK);
    free(buf);
    /* empty arrays and zero values encode to nothing */
    rt_Unbounded u;
    rt_Unbounded_init(&u);
    CU_ASSERT_EQUAL(rt_Unbounded_encode(&u, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, 0);
    free(buf);
}

static void test_wire_format(void)
{
    /* protobuf-compatible bytes: field 1 varint 150, field 3 varint -1 */
    rt_V1 v;
    rt_V1_init(&v);
    v.id = 150;
    v.moved = -1;
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(rt_V1_encode(&v, &buf, &len), RVR_OK);
    static const uint8_t want[] = { 0x08, 0x96, 0x01, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x01 };
    CU_ASSERT_EQUAL(len, sizeof want);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof want), 0);
    free(buf);
    /* packed repeated int32 */
    rt_Unbounded u;
    rt_Unbounded_init(&u);
    ARR(&u, xs, 3, 270);
    CU_ASSERT_EQUAL_FATAL(rt_Unbounded_encode(&u, &buf, &len), RVR_OK);
    static const uint8_t packed[] = { 0x0a, 0x03, 0x03, 0x8e, 0x02 };
    CU_ASSERT_EQUAL(len, sizeof packed);
    CU_ASSERT_EQUAL(memcmp(buf, packed, sizeof packed), 0);
    /* unpacked elements of the same field decode too */
    static const uint8_t unpacked[] = { 0x08, 0x03, 0x08, 0x8e, 0x02 };
    rt_Unbounded d;
    CU_ASSERT_EQUAL(rt_Unbounded_decode(unpacked, sizeof unpacked, &d), RVR_OK);
    CU_ASSERT_TRUE(msg_eq(&rt_Unbounded_schema, &u, &d));
    rt_Unbounded_clear(&d);
    rt_Unbounded_clear(&u);
    free(buf);
}

static void test_bounds(void)
{
    rt_Bounded b, d;
    uint8_t *buf;
    size_t len;
    rt_Bounded_init(&b);
    ARR(&b, xs, 1, 2, 3);                        /* at the bound */
    ARR(&b, names, xstr("x"), xstr("y"));
    roundtrip(&rt_Bounded_schema, &b, &d);
    rt_Bounded_clear(&d);
    free(b.xs);
    ARR(&b, xs, 1, 2, 3, 4);                     /* past it */
    CU_ASSERT_EQUAL(rt_Bounded_encode(&b, &buf, &len), RVR_ELIMIT);
    rt_Bounded_clear(&b);
    /* a sender without the bound: the receiver refuses the message */
    rt_Unbounded u;
    rt_Unbounded_init(&u);
    ARR(&u, names, xstr("a"), xstr("b"), xstr("c"));
    CU_ASSERT_EQUAL_FATAL(rt_Unbounded_encode(&u, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(rt_Bounded_decode(buf, len, &d), RVR_ELIMIT);
    CU_ASSERT_EQUAL(d.names_count, 0);           /* cleared on error */
    free(buf);
    rt_Unbounded_clear(&u);
    CU_ASSERT_EQUAL(rt_Bounded_schema.fields[0].bound, 3);
}

/* Values past everything pb_size_t (16 bits in Debian's nanopb) can count. */
static void test_large(void)
{
    rt_Big big, out;
    rt_Big_init(&big);
    size_t n = 6u << 20;                         /* 6 MiB of bytes */
    big.blob.data = malloc(n);
    big.blob.len = n;
    for (size_t i = 0; i < n; i++)
        big.blob.data[i] = (uint8_t)(i * 2654435761u >> 24);
    big.many_count = 100000;                     /* > 65535 elements */
    big.many = malloc(big.many_count * sizeof *big.many);
    for (size_t i = 0; i < big.many_count; i++)
        big.many[i] = (int32_t)(i * 7919) - 300000000;
    big.names_count = 70000;
    big.names = calloc(big.names_count, sizeof *big.names);
    for (size_t i = 0; i < big.names_count; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "n%zu", i);
        big.names[i] = xstr(tmp);
    }
    big.inners_count = 66000;
    big.inners = calloc(big.inners_count, sizeof *big.inners);
    for (size_t i = 0; i < big.inners_count; i++) {
        rt_Inner_init(&big.inners[i]);
        big.inners[i].a = (int32_t)i;
    }
    roundtrip(&rt_Big_schema, &big, &out);
    CU_ASSERT_EQUAL(out.blob.len, n);
    CU_ASSERT_EQUAL(out.many_count, 100000);
    CU_ASSERT_EQUAL(out.inners_count, 66000);
    CU_ASSERT_STRING_EQUAL(out.names[69999], "n69999");
    rt_Big_clear(&big);
    rt_Big_clear(&out);
}

static void test_evolution(void)
{
    rt_V1 v1;
    rt_V2 v2;
    uint8_t *buf;
    size_t len;
    rt_V1_init(&v1);
    v1.id = 99;
    v1.gone = xstr("dropped");
    v1.moved = -7;
    CU_ASSERT_EQUAL_FATAL(rt_V1_encode(&v1, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rt_V2_decode(buf, len, &v2), RVR_OK);   /* unknown @2 skipped */
    CU_ASSERT_EQUAL(v2.id, 99);
    CU_ASSERT_EQUAL(v2.moved, -7);
    CU_ASSERT_EQUAL(v2.added, 5);                                  /* missing: default */
    CU_ASSERT_STRING_EQUAL(v2.name, "anon");
    free(buf);
    v2.added = 0;
    CU_ASSERT_EQUAL_FATAL(rt_V2_encode(&v2, &buf, &len), RVR_OK);
    rt_V1_clear(&v1);
    CU_ASSERT_EQUAL_FATAL(rt_V1_decode(buf, len, &v1), RVR_OK);
    CU_ASSERT_EQUAL(v1.id, 99);
    CU_ASSERT_PTR_NULL(v1.gone);
    rt_V2_clear(&v2);
    CU_ASSERT_EQUAL_FATAL(rt_V2_decode(buf, len, &v2), RVR_OK);
    CU_ASSERT_EQUAL(v2.added, 0);                                  /* explicit 0 kept */
    free(buf);
    rt_V1_clear(&v1);
    rt_V2_clear(&v2);
    CU_ASSERT_NOT_EQUAL(rt_V1_schema.fingerprint, rt_V2_schema.fingerprint);
}

static void test_malformed(void)
{
    rt_All in, out;
    uint8_t *buf;
    size_t len;
    fill_all(&in);
    CU_ASSERT_EQUAL_FATAL(rt_All_encode(&in, &buf, &len), RVR_OK);
    /* every truncation fails cleanly or decodes a prefix; nothing leaks */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 16) {
        rvr_status st = rt_All_decode(buf, cut, &out);
        if (st == RVR_OK)
            rt_All_clear(&out);
        else
            CU_ASSERT_TRUE(st == RVR_EPROTO || st == RVR_ELIMIT);
    }
    /* random bit flips */
    srand(1);
    for (int k = 0; k < 3000; k++) {
        uint8_t *c = xdup(buf, len);
        for (int j = 0; j < 4; j++)
            c[(size_t)rand() % len] ^= (uint8_t)(1u << (rand() % 8));
        if (rt_All_decode(c, len, &out) == RVR_OK)
            rt_All_clear(&out);
        free(c);
    }
    free(buf);
    rt_All_clear(&in);
    /* strings must be UTF-8 without NUL */
    rt_AsBytes ab;
    rt_AsString as;
    rt_AsBytes_init(&ab);
    ab.s = mkbytes("\xff\xfe", 2);
    CU_ASSERT_EQUAL_FATAL(rt_AsBytes_encode(&ab, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(rt_AsString_decode(buf, len, &as), RVR_EPROTO);
    free(buf);
    free(ab.s.data);
    ab.s = mkbytes("a\0b", 3);
    CU_ASSERT_EQUAL_FATAL(rt_AsBytes_encode(&ab, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(rt_AsString_decode(buf, len, &as), RVR_EPROTO);
    free(buf);
    rt_AsBytes_clear(&ab);
    /* a uuid must be 16 bytes */
    static const uint8_t bad_uuid[] = { 0x52, 0x03, 1, 2, 3 };     /* field 10, 3 bytes */
    CU_ASSERT_NOT_EQUAL(rt_All_decode(bad_uuid, sizeof bad_uuid, &out), RVR_OK);
}

static void test_recursion(void)
{
    /* a chain deeper than the decoder's nesting limit */
    rt_Tree root, out;
    rt_Tree_init(&root);
    rt_Tree *t = &root;
    for (int i = 0; i < 100; i++) {
        t->value = i;
        t->kids_count = 1;
        t->kids = calloc(1, sizeof *t->kids);
        t = &t->kids[0];
    }
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(rt_Tree_encode(&root, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(rt_Tree_decode(buf, len, &out), RVR_ELIMIT);
    free(buf);
    rt_Tree_clear(&root);
    /* a shallow tree round-trips */
    rt_Tree_init(&root);
    root.kids_count = 2;
    root.kids = calloc(2, sizeof *root.kids);
    root.kids[1].value = 5;
    root.kids[1].kids_count = 1;
    root.kids[1].kids = calloc(1, sizeof *root.kids);
    root.kids[1].kids[0].value = -5;
    roundtrip(&rt_Tree_schema, &root, &out);
    rt_Tree_clear(&root);
    rt_Tree_clear(&out);
}

static void test_schema(void)
{
    const rvr_schema *s = &rt_All_schema;
    CU_ASSERT_EQUAL(s->abi, RVR_SCHEMA_ABI);
    CU_ASSERT_STRING_EQUAL(s->name, "rt.All");
    CU_ASSERT_STRING_EQUAL(s->tag, "rt.All");
    CU_ASSERT_STRING_EQUAL(s->source, "rt.rvr");
    CU_ASSERT_EQUAL(s->size, sizeof(rt_All));
    CU_ASSERT_TRUE(s->open);
    CU_ASSERT_EQUAL(s->extra_offset, offsetof(rt_All, extra));
    for (size_t i = 1; i < s->nfields; i++)
        CU_ASSERT_TRUE(s->fields[i - 1].number < s->fields[i].number);
    const rvr_field *f = &s->fields[s->nfields - 8];           /* seven @100 */
    CU_ASSERT_STRING_EQUAL(f->name, "seven");
    CU_ASSERT_EQUAL(f->number, 100);
    CU_ASSERT_EQUAL(f->offset, offsetof(rt_All, seven));
    CU_ASSERT_TRUE(f->flags & RVR_FIELD_DEFAULT);
    CU_ASSERT_EQUAL(f->def.i, 7);
    CU_ASSERT_STRING_EQUAL(f->def_text, "7");
    const rvr_field *inn = &s->fields[25];                      /* inners @26 */
    CU_ASSERT_STRING_EQUAL(inn->name, "inners");
    CU_ASSERT_EQUAL(inn->type, RVR_F_MESSAGE);
    CU_ASSERT_TRUE(inn->flags & RVR_FIELD_ARRAY);
    CU_ASSERT_EQUAL(inn->count_offset, offsetof(rt_All, inners_count));
    CU_ASSERT_PTR_EQUAL(inn->message, &rt_Inner_schema);
    CU_ASSERT_EQUAL(inn->elem_size, sizeof(rt_Inner));
    const rvr_field *col = &s->fields[10];
    CU_ASSERT_EQUAL(col->type, RVR_F_ENUM);
    CU_ASSERT_PTR_EQUAL(col->enumeration, &rt_Color_schema);
    CU_ASSERT_EQUAL(rt_Color_schema.nvalues, 5);
    CU_ASSERT_EQUAL(rt_Color_schema.values[3].value, INT32_MIN);
    CU_ASSERT_PTR_EQUAL(s->fields[13].message, &rtbase_Point_schema);
    CU_ASSERT_NOT_EQUAL(s->fingerprint, 0);
    CU_ASSERT_FALSE(rt_Inner_schema.open);
    /* generic init/clear through the schema */
    void *m = malloc(s->size);
    s->init(m);
    CU_ASSERT_EQUAL(((rt_All *)m)->seven, 7);
    s->clear(m);
    free(m);
}

static void test_vr_types(void)
{
    const rvr_vr_type *t = &rt_Node_type;
    CU_ASSERT_STRING_EQUAL(t->name, "rt.Node");
    CU_ASSERT_EQUAL(t->nargs, 4);
    CU_ASSERT_EQUAL(t->args_size, sizeof(rt_Node_args));
    CU_ASSERT_STRING_EQUAL(t->args[0].name, "name");
    CU_ASSERT_EQUAL(t->args[0].kind, RVR_ARG_STRING);
    CU_ASSERT_STRING_EQUAL(t->args[0].defval, "node-1");
    CU_ASSERT_EQUAL(t->args[1].kind, RVR_ARG_INT32);
    CU_ASSERT_STRING_EQUAL(t->args[1].defval, "-3");
    CU_ASSERT_PTR_NULL(t->args[2].defval);
    CU_ASSERT_EQUAL(t->args[3].offset, offsetof(rt_Node_args, ratio));
    const rt_Node_args *d = t->defaults;
    CU_ASSERT_STRING_EQUAL(d->name, "node-1");
    CU_ASSERT_EQUAL(d->count, -3);
    CU_ASSERT_FALSE(d->verbose);
    CU_ASSERT_EQUAL(d->ratio, 0.25);
    CU_ASSERT_EQUAL(rt_Leaf_type.nargs, 0);
    CU_ASSERT_EQUAL(rt_Leaf_type.args_size, 0);
    CU_ASSERT_PTR_NOT_NULL(rt_Leaf_type.main);
    /* the receive-any union */
    rt_Node_msg u;
    memset(&u, 0, sizeof u);
    u.kind = rt_Node_MSG_All;
    fill_all(&u.u.All);
    rt_Node_msg_clear(&u);
    CU_ASSERT_EQUAL(u.kind, rt_Node_MSG_NONE);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        { "defaults", test_defaults },
        { "every type round-trips", test_all_types },
        { "empty messages and arrays", test_empty },
        { "protobuf wire format", test_wire_format },
        { "bounded arrays at and past the bound", test_bounds },
        { "values past 16-bit nanopb limits", test_large },
        { "schema evolution by field number", test_evolution },
        { "malformed input", test_malformed },
        { "recursion depth", test_recursion },
        { "schema descriptors", test_schema },
        { "vr descriptors", test_vr_types },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("riverc round trips", tests);
    return cutest_run();
}
