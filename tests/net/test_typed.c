/* test_typed — typed messages between VM processes, with riverc-generated
 * code: typed_node_v1 (tnet_v1.rvr) and typed_node_v2 (tnet_v2.rvr, the
 * same message evolved: fields renumbered, renamed, removed and added).
 *
 *   (a) v1 -> v1: arrives typed with the receiver's schema, every value kept;
 *   (b) v1 -> v2 and v2 -> v1: decoded by field number with the receiver's
 *       version; the sender's fields it does not know are extra attributes
 *       under the sender's names;
 *   (c) v1/v2 -> this test program, which links no generated code: read by
 *       attribute name from the SCHEMA description alone;
 *   and a dynamic packet from here received typed by v2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmtest.h"
#include "nettest.h"

#define SELF vmtest_self

static node A1, A2, B;
static bool started;

static void test_start(void)
{
    static const char *const v1[] = { "./typed_node_v1", NULL };
    static const char *const v2[] = { "./typed_node_v2", NULL };
    CU_ASSERT_FATAL(node_start(SELF, &A1, "A1", NULL, v1));
    CU_ASSERT_FATAL(node_start(SELF, &A2, "A2", NULL, v1));
    CU_ASSERT_FATAL(node_start(SELF, &B, "B", NULL, v2));
    started = true;
}

static void cmd(const node *n, const char *tag, const char *key, const rvr_uuid *to, int64_t k)
{
    rvr_packet *p = rvr_packet_new(tag);
    if (to != NULL)
        rvr_packet_set_uuid(p, "to", to);
    rvr_packet_set_i64(p, key, k);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n->vr, p), RVR_OK);
}

/* `from` sends point k to `to` (which is told to receive it); its report. */
static rvr_packet *relay(const node *from, const node *to, int64_t k)
{
    cmd(to, "recv_point", "ms", NULL, 20000);
    cmd(from, "send_point", "k", &to->vr, k);
    rvr_packet *done = await_tag(SELF, "send_point.done", &from->vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(done);
    int64_t st = -1;
    rvr_packet_get_i64(done, "status", &st);
    CU_ASSERT_EQUAL(st, RVR_OK);
    rvr_packet_free(done);
    rvr_packet *r = await_tag(SELF, "point", &to->vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    st = -1;
    rvr_packet_get_i64(r, "_status", &st);
    CU_ASSERT_EQUAL(st, RVR_OK);
    return r;
}

static int64_t get_i(const rvr_packet *p, const char *name)
{
    const rvr_value *v;
    if (rvr_packet_get(p, name, &v) != RVR_OK)
        return INT64_MIN;
    return v->type == RVR_T_INT ? v->as.i : v->type == RVR_T_UINT ? (int64_t)v->as.u : INT64_MIN;
}

static bool str_is(const rvr_packet *p, const char *name, const char *want)
{
    const char *s = NULL;
    return rvr_packet_get_str(p, name, &s, NULL) == RVR_OK && strcmp(s, want) == 0;
}

static bool flag(const rvr_packet *p, const char *name)
{
    bool b = false;
    return rvr_packet_get_bool(p, name, &b) == RVR_OK && b;
}

/* The fields both versions share, under either version's names. */
static void check_common(const rvr_packet *p, int64_t k, const char *label_name)
{
    char label[32];
    snprintf(label, sizeof label, "label %lld", (long long)k);
    CU_ASSERT_EQUAL(get_i(p, "x"), -10 * k);
    CU_ASSERT_EQUAL(get_i(p, "y"), 20 * k);
    CU_ASSERT(str_is(p, label_name, label));
    double d = 0;
    CU_ASSERT(rvr_packet_get_f64(p, "score", &d) == RVR_OK && d == 1.5 * (double)k);
    CU_ASSERT(rvr_packet_get_f64(p, "ratio", &d) == RVR_OK && d == 0.25);
    CU_ASSERT_EQUAL(get_i(p, "color"), 2);
    const rvr_map *leaf = NULL;
    CU_ASSERT_FATAL(rvr_packet_get_map(p, "leaf", &leaf) == RVR_OK);
    const rvr_value *lv = rvr_map_get(leaf, "name");
    CU_ASSERT(lv != NULL && lv->type == RVR_T_STRING && strcmp(lv->as.str.ptr, "leaf") == 0);
    lv = rvr_map_get(leaf, "weight");
    CU_ASSERT(lv != NULL && lv->type == RVR_T_INT && lv->as.i == -k);
    const rvr_list *l = NULL;
    CU_ASSERT_FATAL(rvr_packet_get_list(p, "counts", &l) == RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_list_len(l), 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(rvr_list_get(l, i)->type == RVR_T_UINT &&
                  rvr_list_get(l, i)->as.u == (uint64_t)(k + (int64_t)i) << 40);
    CU_ASSERT_FATAL(rvr_packet_get_list(p, "tags", &l) == RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_list_len(l), 2);
    CU_ASSERT(strcmp(rvr_list_get(l, 0)->as.str.ptr, "α") == 0);
    CU_ASSERT(strcmp(rvr_list_get(l, 1)->as.str.ptr, "beta") == 0);
    const uint8_t *b = NULL;
    size_t n = 0;
    CU_ASSERT(rvr_packet_get_bytes(p, "blob", &b, &n) == RVR_OK && n == 5 &&
              memcmp(b, "b\0l\0b", 5) == 0);
    rvr_uuid id, want;
    memset(want.bytes, (int)k, sizeof want.bytes);
    CU_ASSERT(rvr_packet_get_uuid(p, "id", &id) == RVR_OK && rvr_uuid_eq(&id, &want));
    CU_ASSERT(str_is(p, "note", "any note"));
    CU_ASSERT_FATAL(rvr_packet_get_list(p, "leaves", &l) == RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_list_len(l), 2);
    const rvr_value *second = rvr_list_get(l, 1);
    CU_ASSERT_FATAL(second->type == RVR_T_MAP);
    lv = rvr_map_get(second->as.map, "name");
    CU_ASSERT(lv != NULL && lv->type == RVR_T_STRING && strcmp(lv->as.str.ptr, "second") == 0);
    /* The sender's extra attributes. */
    CU_ASSERT(str_is(p, "host", "node"));
    CU_ASSERT_EQUAL(get_i(p, "k"), k);
}

static void test_same_version(void)
{
    CU_ASSERT_FATAL(started);
    for (int64_t k = 1; k <= 3; k++) {   /* described once, used three times */
        rvr_packet *r = relay(&A1, &A2, k);
        CU_ASSERT(flag(r, "_typed"));
        check_common(r, k, "label");
        CU_ASSERT(flag(r, "old_flag"));
        rvr_packet_free(r);
    }
}

static void test_v1_to_v2(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *r = relay(&A1, &B, 4);
    CU_ASSERT(flag(r, "_typed"));
    CU_ASSERT_EQUAL(get_i(r, "_version"), 2);
    check_common(r, 4, "title");          /* @3: renamed, same number */
    CU_ASSERT(flag(r, "old_flag"));       /* v1's @13, unknown to v2: an extra by v1's name */
    CU_ASSERT_EQUAL(get_i(r, "added"), 0);
    CU_ASSERT(str_is(r, "moved", ""));
    CU_ASSERT(!rvr_packet_has(r, "label"));
    rvr_packet_free(r);
}

static void test_v2_to_v1(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *r = relay(&B, &A1, 5);
    CU_ASSERT(flag(r, "_typed"));
    CU_ASSERT_EQUAL(get_i(r, "_version"), 1);
    check_common(r, 5, "label");
    CU_ASSERT(!flag(r, "old_flag"));
    CU_ASSERT_EQUAL(get_i(r, "added"), 1005);        /* v2-only fields, by v2's names */
    CU_ASSERT(str_is(r, "moved", "moved here"));
    CU_ASSERT(!rvr_packet_has(r, "title"));
    rvr_packet_free(r);
}

/* This program links no generated code: the description is all it has. */
static void test_no_schema(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT_PTR_NULL(rvr_schema_find("tnet.Point"));
    for (int v = 1; v <= 2; v++) {
        const node *from = v == 1 ? &A1 : &B;
        int64_t k = 5 + v;
        cmd(from, "send_point", "k", rvr_self(SELF), k);
        rvr_packet *done = await_tag(SELF, "send_point.done", &from->vr, 20000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(done);
        rvr_packet_free(done);
        rvr_packet *p = await_tag(SELF, "tnet.Point", &from->vr, 20000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        check_common(p, k, v == 1 ? "label" : "title");
        if (v == 1) {
            CU_ASSERT(flag(p, "old_flag"));
            CU_ASSERT(!rvr_packet_has(p, "added"));
        } else {
            CU_ASSERT_EQUAL(get_i(p, "added"), 1000 + k);
            CU_ASSERT(str_is(p, "moved", "moved here"));
            const rvr_map *leaf = NULL;
            rvr_packet_get_map(p, "leaf", &leaf);
            const rvr_value *c = leaf ? rvr_map_get(leaf, "comment") : NULL;
            CU_ASSERT(c != NULL && c->type == RVR_T_STRING && c->as.str.len == 0);
        }
        /* Declared fields first, in number order, then the extras. */
        const char *name;
        const rvr_value *val;
        CU_ASSERT(rvr_packet_at(p, 0, &name, &val) == RVR_OK && strcmp(name, "x") == 0);
        size_t n = rvr_packet_count(p);
        CU_ASSERT(rvr_packet_at(p, n - 1, &name, &val) == RVR_OK && strcmp(name, "k") == 0);
        rvr_packet_free(p);
    }
}

/* Typed messages of two schemas amid a stream of dynamic ones, sent back
 * to back so that they share frames, each schema first used mid-stream:
 * every message arrives, in order, the typed ones read by name from their
 * SCHEMA (this program has no generated code), so each was described on
 * the connection before its first use. */
static void test_mixed_stream(void)
{
    CU_ASSERT_FATAL(started);
    const int64_t n = 4000;
    rvr_packet *c = rvr_packet_new("send_mix");
    rvr_packet_set_uuid(c, "to", rvr_self(SELF));
    rvr_packet_set_i64(c, "n", n);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &A2.vr, c), RVR_OK);
    rvr_match *from = rvr_match_new();
    rvr_match_src(from, &A2.vr);
    int64_t bad = -1, got = 0;
    for (int64_t i = 0; i < n && bad < 0; i++) {
        /* Round i: mix.d {seq i}, then Point {x -10 i}, then Tally {n i}. */
        static const char *const tag[] = { "mix.d", "tnet.Point", "tnet.Tally" };
        static const char *const attr[] = { "seq", "x", "n" };
        static const int64_t scale[] = { 1, -10, 1 };
        int kinds = i >= n / 2 ? 3 : i >= n / 4 ? 2 : 1;
        for (int k = 0; k < kinds && bad < 0; k++) {
            rvr_packet *p = NULL;
            if (rvr_recv(SELF, from, 20000, &p) != RVR_OK ||
                strcmp(rvr_packet_tag(p), tag[k]) != 0 || get_i(p, attr[k]) != scale[k] * i)
                bad = got;
            got++;
            rvr_packet_free(p);
        }
    }
    CU_ASSERT_EQUAL(bad, -1);
    if (bad >= 0)
        fprintf(stderr, "test_typed: message %lld of the mixed stream is missing or out of order\n",
                (long long)bad);
    rvr_packet *done = await_tag(SELF, "send_mix.done", &A2.vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(done);
    CU_ASSERT_EQUAL(get_i(done, "status"), RVR_OK);
    rvr_packet_free(done);
    rvr_match_free(from);
}

/* A dynamic packet from here, received typed by v2 (by attribute name). */
static void test_dynamic_to_typed(void)
{
    CU_ASSERT_FATAL(started);
    cmd(&B, "recv_point", "ms", NULL, 20000);
    rvr_packet *p = rvr_packet_new("tnet.Point");
    rvr_packet_set_i64(p, "x", 7);
    rvr_packet_set_str(p, "title", "dyn");
    rvr_packet_set_str(p, "unknown", "kept");
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &B.vr, p), RVR_OK);
    rvr_packet *r = await_tag(SELF, "point", &B.vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(!flag(r, "_typed"));
    CU_ASSERT_EQUAL(get_i(r, "_status"), RVR_OK);
    CU_ASSERT_EQUAL(get_i(r, "x"), 7);
    CU_ASSERT(str_is(r, "title", "dyn"));
    CU_ASSERT(str_is(r, "unknown", "kept"));
    rvr_packet_free(r);
}

static void test_stop(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT(node_stop(SELF, &A1));
    CU_ASSERT(node_stop(SELF, &A2));
    CU_ASSERT(node_stop(SELF, &B));
}

static const CU_TestInfo tests[] = {
    { "three VMs start (two versions of the .rvr)", test_start },
    { "same version: typed on arrival", test_same_version },
    { "v1 -> v2: by number, unknown fields as extras", test_v1_to_v2 },
    { "v2 -> v1: by number, unknown fields as extras", test_v2_to_v1 },
    { "no schema: by attribute name from SCHEMA", test_no_schema },
    { "dynamic -> typed across VMs", test_dynamic_to_typed },
    { "typed (two schemas) and dynamic messages in one stream, in order", test_mixed_stream },
    { "the VMs stop", test_stop },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("typed", tests);
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    return vmtest_main(argc, argv, suites);
}
