/* test_evolve.c — a typed message sent by code compiled from another
 * version of the .rvr: evo_v1.rvr (through evo_peer.h) and evo_v2.rvr
 * (included here) declare the same message evo.Rec.
 *
 *   v1: id @1, gone @2, moved @3, label @4, old_slot @5        (closed)
 *   v2: title @4, moved @3, id @1, added @6 = 5, name @7 = "anon",
 *       slot @9, ...                                           (open-ended)
 *
 * A typed receive decodes by field number: renamed fields keep their
 * values, missing ones take their defaults, and fields the receiver does
 * not declare are kept as extra attributes (under the sender's names) when
 * the receiver's message is open-ended, dropped when it is closed. */
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "evo_peer.h"
#include "evo_v2.rvr.h"

static rvr_vr *self_;

static evo1_rec v1_sample(void)
{
    evo1_rec r = { .id = 12345678901234ull, .moved = -7, .old_slot = 33 };
    r.gone = strdup("old news");
    r.label = strdup("the label");
    return r;
}

static void check_v1_as_v2(const evo_Rec *r)
{
    CU_ASSERT_EQUAL(r->id, 12345678901234ull);
    CU_ASSERT_EQUAL(r->moved, -7);
    CU_ASSERT_STRING_EQUAL(r->title, "the label");   /* renamed, same number */
    CU_ASSERT_EQUAL(r->added, 5);                      /* missing: default */
    CU_ASSERT_STRING_EQUAL(r->name, "anon");
    CU_ASSERT_EQUAL(r->slot, 0);                       /* @9: v1 never sends it */
}

static void test_v1_to_v2_typed(void)
{
    evo1_rec s = v1_sample();
    CU_ASSERT_EQUAL_FATAL(evo1_send(self_, rvr_self(self_), &s), RVR_OK);
    evo1_rec_free(&s);
    evo_Rec r;
    CU_ASSERT_EQUAL_FATAL(evo_Rec_recv(self_, &r, NULL, 0), RVR_OK);
    check_v1_as_v2(&r);
    /* What v2 does not declare (numbers 2 and 5), by v1's names. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.extra);
    CU_ASSERT_EQUAL(rvr_map_len(r.extra), 2);
    const rvr_value *gone = rvr_map_get(r.extra, "gone");
    const rvr_value *slot = rvr_map_get(r.extra, "old_slot");
    CU_ASSERT(gone != NULL && gone->type == RVR_T_STRING && strcmp(gone->as.str.ptr, "old news") == 0);
    CU_ASSERT(slot != NULL && slot->type == RVR_T_INT && slot->as.i == 33);
    CU_ASSERT_PTR_NULL(rvr_map_get(r.extra, "label"));
    evo_Rec_clear(&r);
}

static void test_v2_to_v1_typed(void)
{
    evo_Rec m;
    evo_Rec_init(&m);
    m.id = 9;
    m.moved = 100;
    m.title = strdup("titled");
    m.added = 77;
    m.slot = 4;
    m.extra = rvr_map_new();
    rvr_value v = rvr_value_bool(true);
    rvr_map_set(m.extra, "flag", &v);
    CU_ASSERT_EQUAL_FATAL(evo_Rec_send(self_, rvr_self(self_), &m), RVR_OK);
    evo1_rec r;
    CU_ASSERT_EQUAL_FATAL(evo1_recv(self_, 0, &r), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 9);
    CU_ASSERT_EQUAL(r.moved, 100);
    CU_ASSERT_STRING_EQUAL(r.label, "titled");
    CU_ASSERT(r.gone == NULL || r.gone[0] == '\0');   /* absent: the empty string */
    CU_ASSERT_EQUAL(r.old_slot, 0);                     /* v2's slot is @9, not @5 */
    evo1_rec_free(&r);                                  /* v1 is closed: extras dropped */
    CU_ASSERT_EQUAL(rvr_pending(self_), 0);
}

/* The dynamic view of a v1 message uses v1's names: its schema travels with it. */
static void test_v1_dynamic_view(void)
{
    evo1_rec s = v1_sample();
    CU_ASSERT_EQUAL_FATAL(evo1_send(self_, rvr_self(self_), &s), RVR_OK);
    evo1_rec_free(&s);
    rvr_match *m = rvr_match_new();
    rvr_match_eq_str(m, "label", "the label");
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, m, 0, &p), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "evo.Rec");
    int64_t slot = 0;
    CU_ASSERT(rvr_packet_get_i64(p, "old_slot", &slot) == RVR_OK && slot == 33);
    CU_ASSERT_FALSE(rvr_packet_has(p, "title"));
    rvr_packet_free(p);
    rvr_match_free(m);
}

/* A dynamic packet converts by attribute name to whichever version asks. */
static void test_dynamic_to_both(void)
{
    for (int i = 0; i < 2; i++) {
        rvr_packet *p = rvr_packet_new("evo.Rec");
        rvr_packet_set_u64(p, "id", 3);
        rvr_packet_set_str(p, "label", "L");
        rvr_packet_set_str(p, "title", "T");
        rvr_packet_set_i64(p, "moved", 2);
        CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), p), RVR_OK);
    }
    evo1_rec r1;
    CU_ASSERT_EQUAL_FATAL(evo1_recv(self_, 0, &r1), RVR_OK);
    CU_ASSERT(r1.id == 3 && r1.moved == 2);
    CU_ASSERT_STRING_EQUAL(r1.label, "L");
    evo1_rec_free(&r1);
    evo_Rec r2;
    CU_ASSERT_EQUAL_FATAL(evo_Rec_recv(self_, &r2, NULL, 0), RVR_OK);
    CU_ASSERT(r2.id == 3 && r2.moved == 2 && r2.added == 5);
    CU_ASSERT_STRING_EQUAL(r2.title, "T");
    const rvr_value *label = r2.extra ? rvr_map_get(r2.extra, "label") : NULL;
    CU_ASSERT(label != NULL && label->type == RVR_T_STRING);   /* undeclared in v2: extra */
    evo_Rec_clear(&r2);
}

/* The bytes themselves: each version decodes the other's encoding by number. */
static void test_codec_across_versions(void)
{
    evo1_rec s = v1_sample();
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(evo1_encode(&s, &buf, &len), RVR_OK);
    evo1_rec_free(&s);
    evo_Rec r;
    CU_ASSERT_EQUAL_FATAL(evo_Rec_decode(buf, len, &r), RVR_OK);
    free(buf);
    check_v1_as_v2(&r);
    CU_ASSERT_PTR_NULL(r.extra);   /* decode alone skips unknown numbers */
    r.slot = 5;
    CU_ASSERT_EQUAL_FATAL(evo_Rec_encode(&r, &buf, &len), RVR_OK);
    evo_Rec_clear(&r);
    evo1_rec back;
    CU_ASSERT_EQUAL_FATAL(evo1_decode(buf, len, &back), RVR_OK);
    free(buf);
    CU_ASSERT_EQUAL(back.id, 12345678901234ull);
    CU_ASSERT_STRING_EQUAL(back.label, "the label");
    CU_ASSERT_EQUAL(back.old_slot, 0);
    evo1_rec_free(&back);
}

static void test_schemas(void)
{
    CU_ASSERT_NOT_EQUAL(evo1_fingerprint(), evo_Rec_schema.fingerprint);
    CU_ASSERT_STRING_EQUAL(evo_Rec_schema.tag, "evo.Rec");
    /* One of the two is the registered one; the other still sends. */
    const rvr_schema *found = rvr_schema_find("evo.Rec");
    CU_ASSERT_PTR_NOT_NULL(found);
}

static int tester(rvr_vr *self, const void *args)
{
    (void)args;
    self_ = self;
    return cutest_run();
}

static RVR_VR_TYPE_NOARGS(tester_type, "tests.Evolve", tester);

int main(int argc, char **argv)
{
    static const CU_TestInfo tests[] = {
        { "v1 typed -> v2 typed (open: extras)", test_v1_to_v2_typed },
        { "v2 typed -> v1 typed (closed)", test_v2_to_v1_typed },
        { "v1 typed -> dynamic, v1 names", test_v1_dynamic_view },
        { "dynamic -> v1 and v2", test_dynamic_to_both },
        { "encode/decode across versions", test_codec_across_versions },
        { "schemas of both versions", test_schemas },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("evolve", tests);
    return rvr_main(argc, argv, &tester_type);
}
