/* test_fallback.c — the dynamic SFM fallback with riverc-generated code
 * (fallback.rvr), in every direction:
 *
 *   typed send  -> dynamic recv (declared fields as attributes, matchable)
 *   dynamic packet -> typed _recv (converted by name; an unconvertible
 *                  packet stays queued and the typed receive skips it)
 *   open-ended message: extra attributes set through `extra`, read typed
 *                  and dynamically, and from a dynamic packet
 *   _recv_any: the tagged union over the VR's received messages
 *   VR params: this program's initial VR is the generated typed.Tester, so
 *              its args come from --name=value (test_args.sh passes some and
 *              sets TYPED_EXPECT_SET); typed.Echo is deployed with args.
 *
 * Another version of a message is covered by test_evolve.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "fallback.rvr.h"

static rvr_vr *self_;
static const typed_Tester_args *args_;

static rvr_value str_value(const char *s)
{
    rvr_value v;
    CU_ASSERT_EQUAL_FATAL(rvr_value_str(&v, s), RVR_OK);
    return v;
}

/* Drops whatever a test left queued (there should be nothing). */
static void drain(void)
{
    rvr_packet *p;
    while (rvr_recv(self_, NULL, 0, &p) == RVR_OK)
        rvr_packet_free(p);
}

static typed_Job make_job(uint64_t id, const char *name)
{
    typed_Job j;
    typed_Job_init(&j);
    j.id = id;
    j.name = strdup(name);
    j.data.len = 100;
    j.data.data = malloc(100);
    for (size_t i = 0; i < 100; i++)
        j.data.data[i] = (uint8_t)i;   /* a NUL byte first */
    j.weight = 2.5;
    j.kind = typed_Kind_HUGE;
    j.owner = rvr_uuid_generate();
    j.at.x = -4;
    j.at.y = 9;
    j.steps_count = 3;
    j.steps = malloc(3 * sizeof *j.steps);
    j.steps[0] = 1, j.steps[1] = -2, j.steps[2] = 3;
    j.tags_count = 2;
    j.tags = malloc(2 * sizeof *j.tags);
    j.tags[0] = strdup("a");
    j.tags[1] = strdup("βeta");
    return j;
}

/* ---- typed send -> dynamic receive --------------------------------------- */

static void test_typed_to_dynamic(void)
{
    typed_Job j = make_job(41, "first");
    rvr_uuid owner = j.owner;
    CU_ASSERT_EQUAL_FATAL(typed_Job_send(self_, rvr_self(self_), &j), RVR_OK);
    CU_ASSERT_PTR_NULL(j.name);   /* moved into the packet */
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, NULL, 0, &p), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "typed.Job");
    CU_ASSERT(rvr_uuid_eq(rvr_packet_src(p), rvr_self(self_)));
    CU_ASSERT_EQUAL(rvr_packet_count(p), 10);   /* every declared field */
    uint64_t id = 0;
    int64_t prio = 0, kind = 0;
    double w = 0;
    const char *name = NULL;
    const uint8_t *data = NULL;
    size_t len = 0;
    rvr_uuid o;
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "id", &id), RVR_OK);
    CU_ASSERT_EQUAL(id, 41);
    CU_ASSERT_EQUAL(rvr_packet_get_str(p, "name", &name, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(name, "first");
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "prio", &prio), RVR_OK);
    CU_ASSERT_EQUAL(prio, 3);   /* the declared default */
    CU_ASSERT_EQUAL(rvr_packet_get_bytes(p, "data", &data, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, 100);
    CU_ASSERT(len == 100 && data[0] == 0 && data[99] == 99);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "weight", &w), RVR_OK);
    CU_ASSERT_EQUAL(w, 2.5);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "kind", &kind), RVR_OK);   /* enums: numbers */
    CU_ASSERT_EQUAL(kind, typed_Kind_HUGE);
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "owner", &o), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&o, &owner));
    const rvr_map *at = NULL;   /* a nested message is a map */
    CU_ASSERT_EQUAL_FATAL(rvr_packet_get_map(p, "at", &at), RVR_OK);
    const rvr_value *x = rvr_map_get(at, "x");
    CU_ASSERT(x != NULL && x->type == RVR_T_INT && x->as.i == -4);
    const rvr_list *steps = NULL, *tags = NULL;   /* arrays are lists */
    CU_ASSERT_EQUAL_FATAL(rvr_packet_get_list(p, "steps", &steps), RVR_OK);
    CU_ASSERT_EQUAL(rvr_list_len(steps), 3);
    CU_ASSERT_EQUAL(rvr_list_get(steps, 1)->as.i, -2);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_get_list(p, "tags", &tags), RVR_OK);
    CU_ASSERT_STRING_EQUAL(rvr_list_get(tags, 1)->as.str.ptr, "βeta");
    rvr_packet_free(p);
}

/* Declared fields can be matched like any attribute, by the dynamic recv
 * and as the extra match of a typed _recv. */
static void test_typed_selective(void)
{
    for (uint64_t i = 1; i <= 4; i++) {
        typed_Job j = make_job(i, i % 2 ? "odd" : "even");
        CU_ASSERT_EQUAL_FATAL(typed_Job_send(self_, rvr_self(self_), &j), RVR_OK);
    }
    rvr_match *m = rvr_match_new();
    rvr_match_eq_u64(m, "id", 3);
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, m, 0, &p), RVR_OK);   /* skips 1 and 2 */
    const char *name;
    CU_ASSERT(rvr_packet_get_str(p, "name", &name, NULL) == RVR_OK && strcmp(name, "odd") == 0);
    rvr_packet_free(p);
    rvr_match_free(m);
    /* The typed receive's extra match: the oldest "even" one is 2. */
    m = rvr_match_new();
    rvr_match_eq_str(m, "name", "even");
    typed_Job r;
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, m, 0), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 2);
    CU_ASSERT_EQUAL(r.data.len, 100);
    CU_ASSERT_EQUAL(r.at.y, 9);
    typed_Job_clear(&r);
    /* A peek (dynamic view) leaves it typed in the mailbox. */
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self_, m, 0, &p), RVR_OK);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, m, 0), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 4);
    CU_ASSERT_EQUAL(r.steps_count, 3);
    CU_ASSERT_STRING_EQUAL(r.tags[0], "a");
    typed_Job_clear(&r);
    CU_ASSERT_EQUAL(typed_Job_recv(self_, &r, m, 0), RVR_ETIMEDOUT);
    rvr_match_free(m);
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 1);
    typed_Job_clear(&r);
    CU_ASSERT_EQUAL(rvr_pending(self_), 0);
}

/* ---- dynamic packet -> typed _recv --------------------------------------- */

static void test_dynamic_to_typed(void)
{
    rvr_packet *p = rvr_packet_new("typed.Job");
    rvr_packet_set_i64(p, "id", 77);            /* a non-negative int fits uint64 */
    rvr_packet_set_str(p, "name", "dyn");
    rvr_packet_set_str(p, "kind", "LARGE");     /* an enum by value name */
    rvr_packet_set_bytes(p, "data", "\0x", 2);
    rvr_map *at = rvr_map_new();
    rvr_value v = rvr_value_i64(12);
    rvr_map_set(at, "y", &v);
    rvr_packet_set_map(p, "at", at);
    rvr_list *steps = rvr_list_new();
    rvr_list_append_i64(steps, 5);
    rvr_list_append_i64(steps, 6);
    rvr_packet_set_list(p, "steps", steps);
    rvr_packet_set_str(p, "unknown", "dropped: Job is closed");
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), p), RVR_OK);
    typed_Job r;
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 77);
    CU_ASSERT_STRING_EQUAL(r.name, "dyn");
    CU_ASSERT_EQUAL(r.prio, 3);                 /* missing: its default */
    CU_ASSERT_EQUAL(r.kind, typed_Kind_LARGE);
    CU_ASSERT(r.data.len == 2 && r.data.data[0] == 0 && r.data.data[1] == 'x');
    CU_ASSERT(r.at.x == 0 && r.at.y == 12);
    CU_ASSERT(r.steps_count == 2 && r.steps[1] == 6);
    CU_ASSERT_EQUAL(r.tags_count, 0);
    CU_ASSERT(rvr_uuid_is_nil(&r.owner));
    typed_Job_clear(&r);
}

/* Packets that cannot be converted stay queued: the typed receive does not
 * match them (it takes a convertible one behind them), the dynamic one can. */
static void test_unconvertible_stays(void)
{
    rvr_packet *bad1 = rvr_packet_new("typed.Job"), *bad2 = rvr_packet_new("typed.Job");
    rvr_packet_set_i64(bad1, "name", 42);        /* wrong type */
    rvr_packet_set_i64(bad2, "id", -1);          /* out of range for uint64 */
    rvr_packet *good = rvr_packet_new("typed.Job");
    rvr_packet_set_u64(good, "id", 5);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), bad1), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), bad2), RVR_OK);
    typed_Job r;
    CU_ASSERT_EQUAL(typed_Job_recv(self_, &r, NULL, 0), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(typed_Job_recv(self_, &r, NULL, 30), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(rvr_pending(self_), 2);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), good), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, NULL, 0), RVR_OK);
    CU_ASSERT_EQUAL(r.id, 5);
    typed_Job_clear(&r);
    CU_ASSERT_EQUAL(rvr_pending(self_), 2);
    rvr_packet *p;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, NULL, 0, &p), RVR_OK);
    CU_ASSERT(rvr_packet_get_i64(p, "name", &n) == RVR_OK && n == 42);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self_, NULL, 0, &p), RVR_OK);
    CU_ASSERT(rvr_packet_get_i64(p, "id", &n) == RVR_OK && n == -1);
    rvr_packet_free(p);
}

/* ---- open-ended messages -------------------------------------------------- */

static void test_open_ended(void)
{
    typed_Note n;
    typed_Note_init(&n);
    n.text = strdup("hello");
    n.n = 2;
    n.extra = rvr_map_new();
    rvr_value host = str_value("node-7"), load = rvr_value_f64(0.25), text = str_value("shadowed");
    rvr_map_set(n.extra, "host", &host);
    rvr_map_set(n.extra, "load", &load);
    rvr_map_set(n.extra, "text", &text);   /* the declared field wins in the dynamic view */
    CU_ASSERT_EQUAL_FATAL(typed_Note_send(self_, rvr_self(self_), &n), RVR_OK);
    CU_ASSERT_PTR_NULL(n.extra);
    /* Dynamically: declared fields and extras side by side, matchable. */
    rvr_match *m = rvr_match_new();
    rvr_match_eq_str(m, "host", "node-7");
    rvr_packet *p;
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self_, m, 0, &p), RVR_OK);
    const char *s = NULL;
    double d = 0;
    uint64_t u = 0;
    CU_ASSERT(rvr_packet_get_str(p, "text", &s, NULL) == RVR_OK && strcmp(s, "hello") == 0);
    CU_ASSERT(rvr_packet_get_u64(p, "n", &u) == RVR_OK && u == 2);
    CU_ASSERT(rvr_packet_get_f64(p, "load", &d) == RVR_OK && d == 0.25);
    CU_ASSERT_EQUAL(rvr_packet_count(p), 4);
    rvr_packet_free(p);
    /* Typed: the extras are back in `extra`. */
    typed_Note r;
    CU_ASSERT_EQUAL_FATAL(typed_Note_recv(self_, &r, m, 0), RVR_OK);
    CU_ASSERT_STRING_EQUAL(r.text, "hello");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.extra);
    CU_ASSERT_EQUAL(rvr_map_len(r.extra), 3);
    const rvr_value *h = rvr_map_get(r.extra, "host");
    CU_ASSERT(h != NULL && h->type == RVR_T_STRING && strcmp(h->as.str.ptr, "node-7") == 0);
    typed_Note_clear(&r);
    CU_ASSERT_PTR_NULL(r.extra);
    rvr_match_free(m);

    /* A dynamic packet received as a Note: undeclared attributes -> extra. */
    p = rvr_packet_new("typed.Note");
    rvr_packet_set_str(p, "text", "from dynamic");
    rvr_packet_set_bool(p, "urgent", true);
    rvr_list *l = rvr_list_new();
    rvr_list_append_str(l, "x");
    rvr_packet_set_list(p, "more", l);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), p), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(typed_Note_recv(self_, &r, NULL, 0), RVR_OK);
    CU_ASSERT_STRING_EQUAL(r.text, "from dynamic");
    CU_ASSERT_EQUAL(r.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.extra);
    const rvr_value *urgent = rvr_map_get(r.extra, "urgent");
    CU_ASSERT(urgent != NULL && urgent->type == RVR_T_BOOL && urgent->as.b);
    const rvr_value *more = rvr_map_get(r.extra, "more");
    CU_ASSERT(more != NULL && more->type == RVR_T_LIST && rvr_list_len(more->as.list) == 1);
    typed_Note_clear(&r);
    /* A Note's extras never reach the body encoding. */
    typed_Note_init(&n);
    n.extra = rvr_map_new();
    rvr_value e = rvr_value_i64(1);
    rvr_map_set(n.extra, "e", &e);
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(typed_Note_encode(&n, &buf, &len), RVR_OK);
    CU_ASSERT_EQUAL(len, 0);
    free(buf);
    typed_Note_clear(&n);
}

/* ---- _recv_any ------------------------------------------------------------- */

static void test_recv_any(void)
{
    rvr_packet *other = rvr_packet_new("typed.Other");   /* not a Tester message */
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), other), RVR_OK);
    typed_Note n;
    typed_Note_init(&n);
    n.n = 9;
    CU_ASSERT_EQUAL_FATAL(typed_Note_send(self_, rvr_self(self_), &n), RVR_OK);
    rvr_packet *dj = rvr_packet_new("typed.Job");   /* dynamic, convertible */
    rvr_packet_set_u64(dj, "id", 8);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self_, rvr_self(self_), dj), RVR_OK);
    typed_Job j = make_job(6, "typed");
    CU_ASSERT_EQUAL_FATAL(typed_Job_send(self_, rvr_self(self_), &j), RVR_OK);

    typed_Tester_msg msg;
    CU_ASSERT_EQUAL_FATAL(typed_Tester_recv_any(self_, &msg, 0), RVR_OK);
    CU_ASSERT_EQUAL(msg.kind, typed_Tester_MSG_Note);
    CU_ASSERT_EQUAL(msg.u.Note.n, 9);
    typed_Tester_msg_clear(&msg);
    CU_ASSERT_EQUAL(msg.kind, typed_Tester_MSG_NONE);
    CU_ASSERT_EQUAL_FATAL(typed_Tester_recv_any(self_, &msg, 0), RVR_OK);
    CU_ASSERT_EQUAL(msg.kind, typed_Tester_MSG_Job);
    CU_ASSERT_EQUAL(msg.u.Job.id, 8);
    CU_ASSERT_EQUAL(msg.u.Job.prio, 3);
    typed_Tester_msg_clear(&msg);
    CU_ASSERT_EQUAL_FATAL(typed_Tester_recv_any(self_, &msg, 0), RVR_OK);
    CU_ASSERT_EQUAL(msg.kind, typed_Tester_MSG_Job);
    CU_ASSERT_STRING_EQUAL(msg.u.Job.name, "typed");
    typed_Tester_msg_clear(&msg);
    CU_ASSERT_EQUAL(typed_Tester_recv_any(self_, &msg, 0), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(msg.kind, typed_Tester_MSG_NONE);
    CU_ASSERT_EQUAL(rvr_pending(self_), 1);   /* typed.Other is still there */
    drain();
}

/* ---- VR params ------------------------------------------------------------- */

static void test_initial_args(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(args_);
    if (getenv("TYPED_EXPECT_SET") != NULL) {   /* test_args.sh's options */
        CU_ASSERT_EQUAL(args_->rounds, 4000000000u);
        CU_ASSERT_STRING_EQUAL(args_->greeting, "héllo world");
        CU_ASSERT_EQUAL(args_->verbose, true);
        CU_ASSERT_EQUAL(args_->ratio, 0.75);
        CU_ASSERT_EQUAL(args_->offset, -42);
    } else {                                     /* the declared defaults */
        CU_ASSERT_EQUAL(args_->rounds, 3);
        CU_ASSERT_STRING_EQUAL(args_->greeting, "typed");
        CU_ASSERT_EQUAL(args_->verbose, false);
        CU_ASSERT_EQUAL(args_->ratio, 0.5);
        CU_ASSERT_EQUAL(args_->offset, -1);
    }
}

/* typed.Echo answers a Job to its parent with id + add, name + suffix,
 * and stops on id 0. */
int typed_Echo_main(rvr_vr *self, const typed_Echo_args *args)
{
    typed_Echo_msg msg;
    while (typed_Echo_recv_any(self, &msg, RVR_FOREVER) == RVR_OK) {
        typed_Job *j = &msg.u.Job;
        if (j->id == 0) {
            typed_Echo_msg_clear(&msg);
            break;
        }
        j->id += (uint64_t)args->add;
        size_t n = strlen(j->name ? j->name : "") + strlen(args->suffix) + 1;
        char *name = malloc(n);
        snprintf(name, n, "%s%s", j->name ? j->name : "", args->suffix);
        free(j->name);
        j->name = name;
        rvr_status st = typed_Job_send(self, rvr_parent(self), j);
        typed_Echo_msg_clear(&msg);   /* sent: already empty; failed: freed here */
        if (st != RVR_OK)
            break;
    }
    return 0;
}

static void echo_round(const rvr_uuid *echo, uint64_t id, uint64_t want_id, const char *want_name)
{
    typed_Job j = make_job(id, "x");
    CU_ASSERT_EQUAL_FATAL(typed_Job_send(self_, echo, &j), RVR_OK);
    rvr_match *m = rvr_match_new();
    rvr_match_src(m, echo);
    typed_Job r;
    CU_ASSERT_EQUAL_FATAL(typed_Job_recv(self_, &r, m, 5000), RVR_OK);
    CU_ASSERT_EQUAL(r.id, want_id);
    CU_ASSERT_STRING_EQUAL(r.name, want_name);
    CU_ASSERT_EQUAL(r.data.len, 100);
    typed_Job_clear(&r);
    rvr_match_free(m);
}

static void test_deploy_args(void)
{
    rvr_uuid e1, e2;
    typed_Echo_args a = { .add = 10, .suffix = "?" };
    CU_ASSERT_EQUAL_FATAL(typed_Echo_deploy(self_, NULL, &a, &e1), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(typed_Echo_deploy(self_, NULL, NULL, &e2), RVR_OK);   /* defaults */
    echo_round(&e1, 5, 15, "x?");
    echo_round(&e2, 5, 6, "x!");
    for (int i = 0; i < 2; i++) {
        typed_Job stop;
        typed_Job_init(&stop);
        CU_ASSERT_EQUAL(typed_Job_send(self_, i ? &e2 : &e1, &stop), RVR_OK);
    }
}

int typed_Tester_main(rvr_vr *self, const typed_Tester_args *args)
{
    self_ = self;
    args_ = args;
    return cutest_run();
}

int main(int argc, char **argv)
{
    static const CU_TestInfo tests[] = {
        { "typed send -> dynamic recv", test_typed_to_dynamic },
        { "typed fields in selective receive", test_typed_selective },
        { "dynamic packet -> typed recv", test_dynamic_to_typed },
        { "unconvertible packets stay queued", test_unconvertible_stays },
        { "open-ended extras, typed and dynamic", test_open_ended },
        { "recv_any tagged union", test_recv_any },
        { "initial VR args from argv", test_initial_args },
        { "deploy with args", test_deploy_args },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("fallback", tests);
    return rvr_main(argc, argv, &typed_Tester_type);
}
