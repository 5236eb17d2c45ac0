/* test_recv.c — sending and selective receiving inside a VM.
 *
 * The tests run in the initial VR (vmtest_self).  Helper "relay" VRs send
 * numbered packets on command, so a test can decide who sends what, when,
 * and (by waiting for a relay's "done") in which global order packets
 * arrive.  A model of the queued packets then predicts exactly which packet
 * each selective receive must return.
 *
 * Shutdown behaviour needs its own VM: the test re-executes this program
 * with CHILD_SHUTDOWN as its only argument and inspects the exit status
 * and what the child's VRs printed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "childproc.h"
#include "vmtest.h"

extern char **environ;

#define GUARD_MS 60000   /* hang guard for waits that normally take microseconds */
#define CHILD_SHUTDOWN "--river-test-child=shutdown"

/* Stops the current test at the first failed check (loops over thousands
 * of packets would otherwise report thousands of failures). */
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!CU_assertImplementation(!!(cond), __LINE__, #cond, __FILE__, "", CU_FALSE)) \
            goto out;                                                                 \
    } while (0)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- numbered packets ------------------------------------------------------ */

static const char *const TAGS[5] = { "alpha", "beta", "gamma", "delta", "epsilon" };

/* Packet number n: tag TAGS[n % 5] (or `tag`), attributes
 *   n (int) = n, k (uint) = n % 7, parity (string) "even"/"odd",
 *   mark (string) only when n % 11 == 0. */
static rvr_packet *numbered(int64_t n, const char *tag)
{
    rvr_packet *p = rvr_packet_new(tag != NULL ? tag : TAGS[n % 5]);
    if (p == NULL)
        return NULL;
    if (rvr_packet_set_i64(p, "n", n) != RVR_OK ||
        rvr_packet_set_u64(p, "k", (uint64_t)(n % 7)) != RVR_OK ||
        rvr_packet_set_str(p, "parity", n % 2 ? "odd" : "even") != RVR_OK ||
        (n % 11 == 0 && rvr_packet_set_str(p, "mark", "m") != RVR_OK)) {
        rvr_packet_free(p);
        return NULL;
    }
    return p;
}

static int64_t num_of(const rvr_packet *p)
{
    int64_t n = -1;
    if (p == NULL || rvr_packet_get_i64(p, "n", &n) != RVR_OK)
        return -1;
    return n;
}

/* ---- the relay VR ----------------------------------------------------------
 * Commands (packets from anyone; replies go to the command's src):
 *   "send"   dst (uuid), first, count (int), delay_ms (int, optional),
 *            tag (string, optional), done (bool, optional): sleeps delay_ms,
 *            sends numbered(first .. first+count-1, tag) to dst, then when
 *            `done` a "done" packet {errors: int} to the commander.
 *   "whoami" replies "iam" {self, parent, vm: uuid, type_ok: bool}.
 *   "stop"   returns.
 * Returns when its mailbox closes. */
static int relay_main(rvr_vr *self, const void *args);
static RVR_VR_TYPE_NOARGS(relay_type, "tests.Relay", relay_main);

static int relay_main(rvr_vr *self, const void *args)
{
    (void)args;
    for (;;) {
        rvr_packet *cmd = NULL;
        rvr_status st = rvr_recv(self, NULL, RVR_FOREVER, &cmd);
        if (st != RVR_OK)
            return st == RVR_ECLOSED ? 0 : 1;
        const char *tag = rvr_packet_tag(cmd);
        rvr_uuid from = *rvr_packet_src(cmd);
        if (strcmp(tag, "stop") == 0) {
            rvr_packet_free(cmd);
            return 0;
        }
        if (strcmp(tag, "whoami") == 0) {
            rvr_packet *r = rvr_packet_new("iam");
            if (r != NULL) {
                rvr_packet_set_uuid(r, "self", rvr_self(self));
                rvr_packet_set_uuid(r, "parent", rvr_parent(self));
                rvr_packet_set_uuid(r, "vm", rvr_vm_id(self));
                rvr_packet_set_bool(r, "type_ok", rvr_vr_type_of(self) == &relay_type);
                if (rvr_send(self, &from, r) != RVR_OK)
                    rvr_packet_free(r);
            }
        } else if (strcmp(tag, "send") == 0) {
            rvr_uuid dst;
            int64_t first = 0, count = 0, delay = 0, errors = 0;
            const char *ptag = NULL;
            bool done = false;
            rvr_packet_get_uuid(cmd, "dst", &dst);
            rvr_packet_get_i64(cmd, "first", &first);
            rvr_packet_get_i64(cmd, "count", &count);
            rvr_packet_get_i64(cmd, "delay_ms", &delay);
            rvr_packet_get_str(cmd, "tag", &ptag, NULL);
            rvr_packet_get_bool(cmd, "done", &done);
            if (delay > 0)
                sleep_ms((int)delay);
            for (int64_t i = 0; i < count; i++) {
                rvr_packet *p = numbered(first + i, ptag);
                if (p == NULL || rvr_send(self, &dst, p) != RVR_OK) {
                    rvr_packet_free(p);
                    errors++;
                }
            }
            if (done) {
                rvr_packet *d = rvr_packet_new("done");
                if (d != NULL) {
                    rvr_packet_set_i64(d, "errors", errors);
                    if (rvr_send(self, &from, d) != RVR_OK)
                        rvr_packet_free(d);
                }
            }
        }
        rvr_packet_free(cmd);
    }
}

static rvr_uuid spawn_relay(void)
{
    rvr_uuid id;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(vmtest_self, NULL, &relay_type, NULL, &id), RVR_OK);
    return id;
}

static void relay_send(const rvr_uuid *relay, const rvr_uuid *dst, int64_t first, int64_t count,
                       int delay_ms, const char *tag, bool done)
{
    rvr_packet *c = rvr_packet_new("send");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rvr_packet_set_uuid(c, "dst", dst);
    rvr_packet_set_i64(c, "first", first);
    rvr_packet_set_i64(c, "count", count);
    rvr_packet_set_i64(c, "delay_ms", delay_ms);
    if (tag != NULL)
        rvr_packet_set_str(c, "tag", tag);
    rvr_packet_set_bool(c, "done", done);
    CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, relay, c), RVR_OK);
}

/* Waits for the relay's "done" (so all it sent before is queued here). */
static void wait_done(const rvr_uuid *relay)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rvr_match_tag(m, "done");
    rvr_match_src(m, relay);
    rvr_packet *d = NULL;
    rvr_status st = rvr_recv(vmtest_self, m, GUARD_MS, &d);
    rvr_match_free(m);
    CU_ASSERT_EQUAL_FATAL(st, RVR_OK);
    int64_t errors = -1;
    CU_ASSERT_EQUAL(rvr_packet_get_i64(d, "errors", &errors), RVR_OK);
    CU_ASSERT_EQUAL(errors, 0);
    rvr_packet_free(d);
}

static void stop_relay(const rvr_uuid *relay)
{
    rvr_packet *c = rvr_packet_new("stop");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, relay, c), RVR_OK);
}

static bool listed(const rvr_uuid *id)
{
    rvr_uuid *ids = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(vmtest_self, &ids, &n), RVR_OK);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (rvr_uuid_eq(&ids[i], id))
            found = true;
    free(ids);
    return found;
}

/* Polls until none of the VRs is listed any more (bounded hang guard). */
static bool wait_gone(const rvr_uuid *ids, size_t n)
{
    for (int waited = 0; waited < GUARD_MS; waited++) {
        bool any = false;
        for (size_t i = 0; i < n && !any; i++)
            any = listed(&ids[i]);
        if (!any)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void stop_relays(const rvr_uuid *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stop_relay(&ids[i]);
    CU_ASSERT_TRUE(wait_gone(ids, n));
}

static void send_self(int64_t n, const char *tag)
{
    rvr_packet *p = numbered(n, tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, rvr_self(vmtest_self), p), RVR_OK);
}

/* ---- the model of a mailbox ------------------------------------------------ */

typedef struct msg_model {
    int64_t n;
    int src;          /* index into the test's srcs[] */
    const char *tag;
    bool taken;
} msg_model;

typedef bool (*model_pred)(const msg_model *mm, const void *ctx);

/* Receives with m (polling: everything is queued already) until nothing
 * matches; checks that every packet is the oldest not-yet-taken one the
 * model says matches, and that the poll fails exactly when the model has
 * none left.  With `peek`, peeks first and checks the peeked copy is the
 * packet then received.  Returns how many were received. */
static size_t drain(msg_model *ms, size_t count, const rvr_uuid *srcs, const rvr_match *m,
                    model_pred mp, const void *ctx, bool peek)
{
    rvr_vr *self = vmtest_self;
    size_t got = 0, next = 0;
    rvr_packet *p = NULL, *pk = NULL;
    for (;;) {
        while (next < count && (ms[next].taken || !mp(&ms[next], ctx)))
            next++;
        size_t before = rvr_pending(self);
        if (peek) {
            rvr_status st = rvr_peek(self, m, 0, &pk);
            if (next == count) {
                CHECK(st == RVR_ETIMEDOUT);
            } else {
                CHECK(st == RVR_OK);
                CHECK(num_of(pk) == ms[next].n);
                CHECK(rvr_pending(self) == before);
            }
        }
        rvr_status st = rvr_recv(self, m, 0, &p);
        if (next == count) {
            CHECK(st == RVR_ETIMEDOUT);
            CHECK(rvr_pending(self) == before);
            break;
        }
        CHECK(st == RVR_OK);
        CHECK(num_of(p) == ms[next].n);
        CHECK(strcmp(rvr_packet_tag(p), ms[next].tag) == 0);
        CHECK(rvr_uuid_eq(rvr_packet_src(p), &srcs[ms[next].src]));
        CHECK(rvr_pending(self) == before - 1);
        if (peek)
            CHECK(rvr_packet_equal(p, pk));
        rvr_packet_free(p);
        rvr_packet_free(pk);
        p = pk = NULL;
        ms[next].taken = true;
        got++;
    }
out:
    rvr_packet_free(p);
    rvr_packet_free(pk);
    return got;
}

static bool mp_all(const msg_model *mm, const void *ctx) { (void)mm; (void)ctx; return true; }

/* ---- selective receive, one kind of constraint at a time ------------------- */

static bool mp_tag(const msg_model *mm, const void *ctx)
{
    return strcmp(mm->tag, (const char *)ctx) == 0;
}

static void test_select_tag(void)
{
    enum { N = 40 };
    msg_model ms[N];
    rvr_uuid srcs[1] = { *rvr_self(vmtest_self) };
    CU_ASSERT_EQUAL_FATAL(rvr_pending(vmtest_self), 0);
    for (int i = 0; i < N; i++) {
        send_self(i, NULL);
        ms[i] = (msg_model){ i, 0, TAGS[i % 5], false };
    }
    const char *order[] = { "gamma", "alpha", "nonexistent", "epsilon" };
    for (size_t k = 0; k < 4; k++) {
        rvr_match *m = rvr_match_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rvr_match_tag(m, order[k]);
        size_t got = drain(ms, N, srcs, m, mp_tag, order[k], k == 1);
        CU_ASSERT_EQUAL(got, k == 2 ? 0 : N / 5);
        rvr_match_free(m);
    }
    /* The rest, still in arrival order. */
    CU_ASSERT_EQUAL(drain(ms, N, srcs, NULL, mp_all, NULL, false), N - 3 * N / 5);
    CU_ASSERT_EQUAL(rvr_pending(vmtest_self), 0);
}

static bool mp_src(const msg_model *mm, const void *ctx)
{
    return mm->src == *(const int *)ctx;
}

static void test_select_src(void)
{
    enum { PER = 15, NSRC = 3 };
    rvr_uuid srcs[NSRC];
    srcs[0] = *rvr_self(vmtest_self);
    srcs[1] = spawn_relay();
    srcs[2] = spawn_relay();
    msg_model ms[PER * NSRC * 2];
    size_t cnt = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(vmtest_self), 0);
    /* Two rounds of: relay 2, self, relay 1, each sending PER packets. */
    for (int round = 0; round < 2; round++) {
        static const int who[NSRC] = { 2, 0, 1 };
        for (int w = 0; w < NSRC; w++) {
            int64_t first = (int64_t)cnt;
            if (who[w] == 0) {
                for (int i = 0; i < PER; i++)
                    send_self(first + i, NULL);
            } else {
                relay_send(&srcs[who[w]], rvr_self(vmtest_self), first, PER, 0, NULL, true);
                wait_done(&srcs[who[w]]);
            }
            for (int i = 0; i < PER; i++, cnt++)
                ms[cnt] = (msg_model){ (int64_t)cnt, who[w], TAGS[cnt % 5], false };
        }
    }
    CU_ASSERT_EQUAL_FATAL(rvr_pending(vmtest_self), cnt);
    static const int order[] = { 1, 0 };
    for (size_t k = 0; k < 2; k++) {
        rvr_match *m = rvr_match_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rvr_match_src(m, &srcs[order[k]]);
        CU_ASSERT_EQUAL(drain(ms, cnt, srcs, m, mp_src, &order[k], k == 0), 2 * PER);
        rvr_match_free(m);
    }
    /* A src that sent nothing matches nothing. */
    rvr_uuid nobody = rvr_uuid_generate();
    int none = -1;
    rvr_match *m = rvr_match_new();
    rvr_match_src(m, &nobody);
    CU_ASSERT_EQUAL(drain(ms, cnt, srcs, m, mp_src, &none, false), 0);
    rvr_match_free(m);
    CU_ASSERT_EQUAL(drain(ms, cnt, srcs, NULL, mp_all, NULL, false), 2 * PER);
    stop_relays(&srcs[1], 2);
}

static bool mp_k(const msg_model *mm, const void *ctx)
{
    return mm->n % 7 == *(const int64_t *)ctx;
}

static bool mp_odd(const msg_model *mm, const void *ctx) { (void)ctx; return mm->n % 2 == 1; }
static bool mp_mark(const msg_model *mm, const void *ctx) { (void)ctx; return mm->n % 11 == 0; }
static bool mp_n(const msg_model *mm, const void *ctx) { return mm->n == *(const int64_t *)ctx; }

static void fill_self(msg_model *ms, int n)
{
    CU_ASSERT_EQUAL_FATAL(rvr_pending(vmtest_self), 0);
    for (int i = 0; i < n; i++) {
        send_self(i, NULL);
        ms[i] = (msg_model){ i, 0, TAGS[i % 5], false };
    }
}

static void test_select_eq(void)
{
    enum { N = 60 };
    msg_model ms[N];
    rvr_uuid srcs[1] = { *rvr_self(vmtest_self) };
    fill_self(ms, N);
    /* k is stored as uint; an int match finds it (int/uint cross-equality). */
    int64_t k = 3;
    rvr_match *m = rvr_match_new();
    rvr_match_eq_i64(m, "k", k);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_k, &k, true), 9);   /* 3, 10, ..., 59 */
    rvr_match_free(m);
    m = rvr_match_new();
    rvr_match_eq_str(m, "parity", "odd");
    /* the 30 odd numbers below 60, less the 5 odd ones taken above */
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_odd, NULL, false), 25);
    rvr_match_free(m);
    int64_t n = 40;
    m = rvr_match_new();
    rvr_match_eq_u64(m, "n", 40);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_n, &n, false), 1);
    rvr_match_free(m);
    /* eq on a value of the wrong type matches nothing. */
    m = rvr_match_new();
    rvr_match_eq_str(m, "n", "2");
    int64_t none = -1;
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_n, &none, false), 0);
    rvr_match_free(m);
    drain(ms, N, srcs, NULL, mp_all, NULL, false);
    CU_ASSERT_EQUAL(rvr_pending(vmtest_self), 0);
}

static void test_select_has(void)
{
    enum { N = 60 };
    msg_model ms[N];
    rvr_uuid srcs[1] = { *rvr_self(vmtest_self) };
    fill_self(ms, N);
    rvr_match *m = rvr_match_new();
    rvr_match_has(m, "mark");
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_mark, NULL, true), 6);   /* 0, 11, ..., 55 */
    rvr_match_free(m);
    m = rvr_match_new();
    rvr_match_has(m, "nothing-has-this");
    int64_t none = -1;
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_n, &none, false), 0);
    rvr_match_free(m);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, NULL, mp_all, NULL, false), N - 6);
}

typedef struct pred_ctx {
    int64_t mod;
    pthread_t thread;
    bool other_thread;
} pred_ctx;

static bool n_divisible(const rvr_value *v, void *ctx)
{
    pred_ctx *c = ctx;
    if (!pthread_equal(pthread_self(), c->thread))
        c->other_thread = true;
    return v != NULL && v->type == RVR_T_INT && v->as.i % c->mod == 0;
}

static bool mp_div(const msg_model *mm, const void *ctx)
{
    return mm->n % ((const pred_ctx *)ctx)->mod == 0;
}

static void test_select_pred(void)
{
    enum { N = 60 };
    msg_model ms[N];
    rvr_uuid srcs[1] = { *rvr_self(vmtest_self) };
    fill_self(ms, N);
    pred_ctx c = { .mod = 4, .thread = pthread_self() };
    rvr_match *m = rvr_match_new();
    rvr_match_pred(m, "n", n_divisible, &c);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_div, &c, true), 15);
    c.mod = 3;   /* ctx is read on every receive */
    /* 20 multiples of 3, less the 5 multiples of 12 taken above */
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_div, &c, false), 15);
    /* Callbacks run on the receiving VR's thread. */
    CU_ASSERT_FALSE(c.other_thread);
    rvr_match_free(m);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, NULL, mp_all, NULL, false), N - 30);
}

static bool beta_above(const rvr_packet *p, void *ctx)
{
    int64_t n;
    return strcmp(rvr_packet_tag(p), "beta") == 0 && rvr_packet_get_i64(p, "n", &n) == RVR_OK &&
           n > *(const int64_t *)ctx;
}

static bool mp_beta_above(const msg_model *mm, const void *ctx)
{
    return strcmp(mm->tag, "beta") == 0 && mm->n > *(const int64_t *)ctx;
}

static void test_select_fn(void)
{
    enum { N = 60 };
    msg_model ms[N];
    rvr_uuid srcs[1] = { *rvr_self(vmtest_self) };
    fill_self(ms, N);
    int64_t above = 20;
    rvr_match *m = rvr_match_new();
    rvr_match_fn(m, beta_above, &above);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, m, mp_beta_above, &above, true), 8);  /* 21, 26, ..., 56 */
    rvr_match_free(m);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, NULL, mp_all, NULL, false), N - 8);
}

/* ---- oldest first among many ------------------------------------------------ */

typedef struct phase_ctx {
    int src;        /* -1: any */
    const char *tag;
    int64_t k;      /* -1: any */
    bool odd, mark;
    int64_t mod;    /* 0: any */
    int64_t above;  /* fn: beta and n > above; -1: no fn */
} phase_ctx;

static bool mp_phase(const msg_model *mm, const void *ctx)
{
    const phase_ctx *c = ctx;
    return (c->src < 0 || mm->src == c->src) && (c->tag == NULL || strcmp(mm->tag, c->tag) == 0) &&
           (c->k < 0 || mm->n % 7 == c->k) && (!c->odd || mm->n % 2 == 1) &&
           (!c->mark || mm->n % 11 == 0) && (c->mod == 0 || mm->n % c->mod == 0) &&
           (c->above < 0 || (strcmp(mm->tag, "beta") == 0 && mm->n > c->above));
}

static bool n_mod(const rvr_value *v, void *ctx)
{
    return v->type == RVR_T_INT && v->as.i % *(const int64_t *)ctx == 0;
}

static void test_oldest_first_many(void)
{
    enum { CHUNK = 10, CHUNKS = 100, N = CHUNK * CHUNKS, NSRC = 4 };
    rvr_vr *self = vmtest_self;
    rvr_uuid srcs[NSRC];
    srcs[0] = *rvr_self(self);
    for (int i = 1; i < NSRC; i++)
        srcs[i] = spawn_relay();
    static msg_model ms[N];
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    /* Arrival order is fixed: chunk c comes from source c % 4, and we wait
     * for a relay's chunk to be queued before the next chunk is sent. */
    for (int c = 0; c < CHUNKS; c++) {
        int s = c % NSRC;
        int64_t first = (int64_t)c * CHUNK;
        if (s == 0) {
            for (int i = 0; i < CHUNK; i++)
                send_self(first + i, NULL);
        } else {
            relay_send(&srcs[s], rvr_self(self), first, CHUNK, 0, NULL, true);
            wait_done(&srcs[s]);
        }
        for (int i = 0; i < CHUNK; i++)
            ms[first + i] = (msg_model){ first + i, s, TAGS[(first + i) % 5], false };
    }
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), N);

    /* Phases receive in an order that has nothing to do with arrival. */
    phase_ctx ph[] = {
        { .src = 2, .tag = "gamma", .k = -1, .above = -1 },
        { .src = -1, .k = 3, .above = -1 },
        { .src = -1, .k = -1, .mark = true, .above = -1 },
        { .src = -1, .k = -1, .mod = 13, .above = -1 },
        { .src = -1, .k = -1, .above = 500 },
        { .src = 0, .tag = "alpha", .k = -1, .above = -1 },
        { .src = 1, .k = -1, .odd = true, .above = -1 },
        { .src = -1, .tag = "epsilon", .k = 6, .mark = true, .above = -1 },
        { .src = 3, .tag = "delta", .k = 2, .odd = true, .mod = 3, .above = 100 },
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof ph / sizeof ph[0]; i++) {
        rvr_match *m = rvr_match_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        if (ph[i].src >= 0)
            rvr_match_src(m, &srcs[ph[i].src]);
        if (ph[i].tag != NULL)
            rvr_match_tag(m, ph[i].tag);
        if (ph[i].k >= 0)
            rvr_match_eq_u64(m, "k", (uint64_t)ph[i].k);
        if (ph[i].odd)
            rvr_match_eq_str(m, "parity", "odd");
        if (ph[i].mark)
            rvr_match_has(m, "mark");
        if (ph[i].mod != 0)
            rvr_match_pred(m, "n", n_mod, &ph[i].mod);
        if (ph[i].above >= 0)
            rvr_match_fn(m, beta_above, &ph[i].above);
        CU_ASSERT_EQUAL_FATAL(rvr_match_status(m), RVR_OK);
        total += drain(ms, N, srcs, m, mp_phase, &ph[i], i % 3 == 0);
        rvr_match_free(m);
    }
    /* Everything else is still queued, in arrival order. */
    CU_ASSERT(total > N / 3);
    CU_ASSERT_EQUAL(rvr_pending(self), N - total);
    CU_ASSERT_EQUAL(drain(ms, N, srcs, NULL, mp_all, NULL, true), N - total);
    CU_ASSERT_EQUAL(rvr_pending(self), 0);
    stop_relays(&srcs[1], NSRC - 1);
}

/* ---- FIFO per sender ----------------------------------------------------------- */

static void test_fifo_per_sender(void)
{
    enum { NR = 3, PER = 3000 };
    rvr_vr *self = vmtest_self;
    rvr_uuid relays[NR];
    int64_t next[NR];
    rvr_match *by_src[NR] = { NULL };
    rvr_match *by_src_tag[NR][5] = { { NULL } };
    rvr_packet *p = NULL;
    for (int r = 0; r < NR; r++) {
        relays[r] = spawn_relay();
        by_src[r] = rvr_match_new();
        rvr_match_src(by_src[r], &relays[r]);
        for (int t = 0; t < 5; t++) {
            by_src_tag[r][t] = rvr_match_new();
            rvr_match_src(by_src_tag[r][t], &relays[r]);
            rvr_match_tag(by_src_tag[r][t], TAGS[t]);
        }
    }

    /* 1. All relays send at once; any-match receive sees each sender's
     *    packets in order. */
    for (int r = 0; r < NR; r++) {
        relay_send(&relays[r], rvr_self(self), 0, PER, 0, NULL, false);
        next[r] = 0;
    }
    for (int i = 0; i < NR * PER; i++) {
        CHECK(rvr_recv(self, NULL, GUARD_MS, &p) == RVR_OK);
        int r = 0;
        while (r < NR && !rvr_uuid_eq(rvr_packet_src(p), &relays[r]))
            r++;
        CHECK(r < NR);
        CHECK(num_of(p) == next[r]);
        next[r]++;
        rvr_packet_free(p);
        p = NULL;
    }

    /* 2. Again, receiving by src in rotation while the packets are still
     *    arriving: blocking selective receives. */
    for (int r = 0; r < NR; r++) {
        relay_send(&relays[r], rvr_self(self), 0, PER, 0, NULL, false);
        next[r] = 0;
    }
    for (int i = 0; i < NR * PER; i++) {
        int r = (i + i / 7) % NR;
        if (next[r] == PER)
            r = next[(r + 1) % NR] < PER ? (r + 1) % NR : (r + 2) % NR;
        CHECK(rvr_recv(self, by_src[r], GUARD_MS, &p) == RVR_OK);
        CHECK(num_of(p) == next[r]);
        next[r]++;
        rvr_packet_free(p);
        p = NULL;
    }

    /* 3. Again, by src and tag: for each relay and tag the packets come
     *    in order (tag t carries n = t, t+5, t+10, ...). */
    for (int r = 0; r < NR; r++)
        relay_send(&relays[r], rvr_self(self), 0, PER, 0, NULL, false);
    for (int t = 4; t >= 0; t--)
        for (int r = 0; r < NR; r++)
            for (int64_t n = t; n < PER; n += 5) {
                CHECK(rvr_recv(self, by_src_tag[r][t], GUARD_MS, &p) == RVR_OK);
                CHECK(num_of(p) == n);
                rvr_packet_free(p);
                p = NULL;
            }
    CHECK(rvr_recv(self, NULL, 0, &p) == RVR_ETIMEDOUT);
    CHECK(rvr_pending(self) == 0);
out:
    rvr_packet_free(p);
    for (int r = 0; r < NR; r++) {
        rvr_match_free(by_src[r]);
        for (int t = 0; t < 5; t++)
            rvr_match_free(by_src_tag[r][t]);
    }
    /* Drain whatever a failed check left behind before the next test. */
    stop_relays(relays, NR);
    while (rvr_recv(self, NULL, 0, &p) == RVR_OK)
        rvr_packet_free(p);
}

/* ---- timeouts ------------------------------------------------------------------- */

static rvr_match *tag_match(const char *tag)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL_FATAL(rvr_match_tag(m, tag), RVR_OK);
    return m;
}

static void test_poll(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &p), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(rvr_peek(self, NULL, 0, &p), RVR_ETIMEDOUT);
    send_self(1, "present");
    rvr_match *absent = tag_match("absent");
    CU_ASSERT_EQUAL(rvr_recv(self, absent, 0, &p), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(rvr_peek(self, absent, 0, &p), RVR_ETIMEDOUT);
    CU_ASSERT_EQUAL(rvr_pending(self), 1);
    rvr_match_free(absent);
    rvr_match *present = tag_match("present");
    CU_ASSERT_EQUAL(rvr_recv(self, present, 0, &p), RVR_OK);
    CU_ASSERT_EQUAL(num_of(p), 1);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_recv(self, present, 0, &p), RVR_ETIMEDOUT);
    rvr_match_free(present);
}

static void test_short_timeout(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    uint64_t t0 = now_ns();
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 50, &p), RVR_ETIMEDOUT);
    CU_ASSERT(now_ns() - t0 >= 50 * 1000000ull);

    send_self(1, "present");
    rvr_match *absent = tag_match("absent");
    t0 = now_ns();
    CU_ASSERT_EQUAL(rvr_recv(self, absent, 50, &p), RVR_ETIMEDOUT);
    CU_ASSERT(now_ns() - t0 >= 50 * 1000000ull);
    t0 = now_ns();
    CU_ASSERT_EQUAL(rvr_peek(self, absent, 30, &p), RVR_ETIMEDOUT);
    CU_ASSERT(now_ns() - t0 >= 30 * 1000000ull);
    t0 = now_ns();
    CU_ASSERT_EQUAL(rvr_recv(self, absent, 1, &p), RVR_ETIMEDOUT);
    CU_ASSERT(now_ns() - t0 >= 1 * 1000000ull);
    CU_ASSERT_EQUAL(rvr_pending(self), 1);
    rvr_match_free(absent);
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    rvr_packet_free(p);
}

/* Non-matching packets arriving during a timed wait neither end it early
 * nor get lost. */
static void test_timeout_with_arrivals(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    rvr_uuid relay = spawn_relay();
    rvr_match *wanted = tag_match("wanted");
    uint64_t t0 = now_ns();
    relay_send(&relay, rvr_self(self), 0, 20, 10, "noise", false);
    CU_ASSERT_EQUAL(rvr_recv(self, wanted, 150, &p), RVR_ETIMEDOUT);
    CU_ASSERT(now_ns() - t0 >= 150 * 1000000ull);
    relay_send(&relay, rvr_self(self), 20, 0, 0, NULL, true);   /* a barrier */
    wait_done(&relay);
    rvr_match *noise = tag_match("noise");
    for (int64_t n = 0; n < 20; n++) {
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, noise, 0, &p), RVR_OK);
        CU_ASSERT_EQUAL(num_of(p), n);
        rvr_packet_free(p);
    }
    CU_ASSERT_EQUAL(rvr_pending(self), 0);
    rvr_match_free(noise);
    rvr_match_free(wanted);
    stop_relays(&relay, 1);
}

static void test_forever_with_sender(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    rvr_uuid relay = spawn_relay();
    rvr_match *late = tag_match("late");

    /* Plain: blocks until the sender's packet arrives 100 ms later. */
    uint64_t t0 = now_ns();
    relay_send(&relay, rvr_self(self), 7, 1, 100, "late", false);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, late, RVR_FOREVER, &p), RVR_OK);
    CU_ASSERT(now_ns() - t0 >= 100 * 1000000ull);
    CU_ASSERT_EQUAL(num_of(p), 7);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(p), &relay));
    rvr_packet_free(p);

    /* Selective: non-matching packets come first and stay queued. */
    relay_send(&relay, rvr_self(self), 0, 5, 50, "noise", false);
    relay_send(&relay, rvr_self(self), 8, 1, 20, "late", false);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, late, RVR_FOREVER, &p), RVR_OK);
    CU_ASSERT_EQUAL(num_of(p), 8);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_pending(self), 5);
    for (int64_t n = 0; n < 5; n++) {
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
        CU_ASSERT_EQUAL(num_of(p), n);
        CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "noise");
        rvr_packet_free(p);
    }

    /* A long finite timeout behaves the same when the packet comes. */
    t0 = now_ns();
    relay_send(&relay, rvr_self(self), 9, 1, 30, "late", false);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, late, GUARD_MS, &p), RVR_OK);
    CU_ASSERT(now_ns() - t0 >= 30 * 1000000ull);
    CU_ASSERT_EQUAL(num_of(p), 9);
    rvr_packet_free(p);
    rvr_match_free(late);
    stop_relays(&relay, 1);
}

/* ---- peek ----------------------------------------------------------------------- */

static void test_peek(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *pk = NULL, *pk2 = NULL, *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    send_self(0, "a");
    send_self(1, "b");
    send_self(2, "a");
    rvr_match *a = tag_match("a");

    CU_ASSERT_EQUAL_FATAL(rvr_peek(self, a, 0, &pk), RVR_OK);
    CU_ASSERT_EQUAL(num_of(pk), 0);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(pk), rvr_self(self)));
    CU_ASSERT_EQUAL(rvr_pending(self), 3);
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self, a, 0, &pk2), RVR_OK);   /* same one again */
    CU_ASSERT_PTR_NOT_EQUAL(pk, pk2);                            /* but its own copy */
    CU_ASSERT_TRUE(rvr_packet_equal(pk, pk2));
    /* The copy is the caller's: changing it does not change the queued one. */
    CU_ASSERT_EQUAL(rvr_packet_set_i64(pk2, "n", 99), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_str(pk2, "extra", "x"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_packet_set_tag(pk2, "changed"), RVR_OK);
    rvr_packet_free(pk2);

    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, a, 0, &p), RVR_OK);
    CU_ASSERT_EQUAL(num_of(p), 0);
    CU_ASSERT_FALSE(rvr_packet_has(p, "extra"));
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "a");
    CU_ASSERT_TRUE(rvr_packet_equal(pk, p));
    CU_ASSERT_PTR_NOT_EQUAL(pk, p);
    rvr_packet_free(p);
    rvr_packet_free(pk);
    CU_ASSERT_EQUAL(rvr_pending(self), 2);

    /* NULL match: the oldest of all. */
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self, NULL, 0, &pk), RVR_OK);
    CU_ASSERT_EQUAL(num_of(pk), 1);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    CU_ASSERT_TRUE(rvr_packet_equal(pk, p));
    rvr_packet_free(pk);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    CU_ASSERT_EQUAL(num_of(p), 2);
    rvr_packet_free(p);
    rvr_match_free(a);
}

static void test_peek_blocking(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *pk = NULL, *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    rvr_uuid relay = spawn_relay();
    rvr_match *late = tag_match("late");
    uint64_t t0 = now_ns();
    relay_send(&relay, rvr_self(self), 0, 3, 50, "noise", false);
    relay_send(&relay, rvr_self(self), 5, 1, 0, "late", false);
    CU_ASSERT_EQUAL_FATAL(rvr_peek(self, late, RVR_FOREVER, &pk), RVR_OK);
    CU_ASSERT(now_ns() - t0 >= 50 * 1000000ull);
    CU_ASSERT_EQUAL(num_of(pk), 5);
    CU_ASSERT_EQUAL(rvr_pending(self), 4);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, late, 0, &p), RVR_OK);
    CU_ASSERT_TRUE(rvr_packet_equal(pk, p));
    rvr_packet_free(pk);
    rvr_packet_free(p);
    for (int64_t n = 0; n < 3; n++) {
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
        CU_ASSERT_EQUAL(num_of(p), n);
        rvr_packet_free(p);
    }
    rvr_match_free(late);
    stop_relays(&relay, 1);
}

/* ---- sending ------------------------------------------------------------------- */

/* After a failed send the caller still owns the packet, unchanged. */
static void check_still_owned(rvr_packet *p, int64_t n)
{
    CU_ASSERT_EQUAL(num_of(p), n);
    CU_ASSERT_STRING_EQUAL(rvr_packet_tag(p), "owned");
    CU_ASSERT_TRUE(rvr_uuid_is_nil(rvr_packet_src(p)));
    CU_ASSERT_EQUAL(rvr_packet_set_str(p, "after", "ok"), RVR_OK);
}

static void test_send_unknown(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = numbered(5, "owned");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_uuid unknown = rvr_uuid_generate(), nil;
    memset(&nil, 0, sizeof nil);
    CU_ASSERT_EQUAL(rvr_send(self, &unknown, p), RVR_ENOTFOUND);
    check_still_owned(p, 5);
    CU_ASSERT_EQUAL(rvr_send(self, &nil, p), RVR_ENOTFOUND);
    check_still_owned(p, 5);
    CU_ASSERT_EQUAL(rvr_send(self, rvr_vm_id(self), p), RVR_ENOTFOUND);   /* a VM is not a VR */
    check_still_owned(p, 5);
    /* Still usable: send it for real. */
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), p), RVR_OK);
    rvr_packet *q = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &q), RVR_OK);
    CU_ASSERT_EQUAL(num_of(q), 5);
    CU_ASSERT_TRUE(rvr_packet_has(q, "after"));
    rvr_packet_free(q);
}

static int quitter_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p = rvr_packet_new("bye");
    if (p != NULL && rvr_send(self, rvr_parent(self), p) != RVR_OK)
        rvr_packet_free(p);
    return 0;
}
static RVR_VR_TYPE_NOARGS(quitter_type, "tests.Quitter", quitter_main);

static void test_send_after_end(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid ids[2];
    /* One that stops when told, one that ends on its own. */
    ids[0] = spawn_relay();
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &quitter_type, NULL, &ids[1]), RVR_OK);
    rvr_match *bye = tag_match("bye");
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, bye, GUARD_MS, &p), RVR_OK);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(p), &ids[1]));
    rvr_packet_free(p);
    rvr_match_free(bye);
    stop_relay(&ids[0]);
    CU_ASSERT_FATAL(wait_gone(ids, 2));
    for (int i = 0; i < 2; i++) {
        p = numbered(i, "owned");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL(rvr_send(self, &ids[i], p), RVR_ENOTFOUND);
        check_still_owned(p, i);
        rvr_packet_free(p);
    }
}

static void test_src_is_sender(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL, *q = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    rvr_uuid relay = spawn_relay();
    relay_send(&relay, rvr_self(self), 0, 1, 0, NULL, true);
    wait_done(&relay);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(p), &relay));
    /* Re-sending a received packet: src becomes the new sender. */
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), p), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &q), RVR_OK);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(q), rvr_self(self)));
    CU_ASSERT_EQUAL(num_of(q), 0);
    rvr_packet_free(q);
    /* A copy keeps the src it was copied with until it is sent. */
    relay_send(&relay, rvr_self(self), 1, 1, 0, NULL, true);
    wait_done(&relay);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
    rvr_packet *c = rvr_packet_copy(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(c), &relay));
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, rvr_self(self), c), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 0, &q), RVR_OK);
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(q), rvr_self(self)));
    CU_ASSERT_TRUE(rvr_uuid_eq(rvr_packet_src(p), &relay));   /* the original is untouched */
    rvr_packet_free(p);
    rvr_packet_free(q);
    stop_relays(&relay, 1);
}

static void test_pending(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_pending(self), 0);
    for (int i = 0; i < 10; i++) {
        send_self(i, NULL);
        CU_ASSERT_EQUAL(rvr_pending(self), (size_t)i + 1);
    }
    CU_ASSERT_EQUAL(rvr_peek(self, NULL, 0, &p), RVR_OK);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_pending(self), 10);
    rvr_match *m = tag_match("gamma");
    CU_ASSERT_EQUAL(rvr_recv(self, m, 0, &p), RVR_OK);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_pending(self), 9);
    rvr_match_free(m);
    for (int i = 9; i > 0; i--) {
        CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, &p), RVR_OK);
        rvr_packet_free(p);
        CU_ASSERT_EQUAL(rvr_pending(self), (size_t)i - 1);
    }
}

static bool has_id(const rvr_uuid *ids, size_t n, const rvr_uuid *id)
{
    for (size_t i = 0; i < n; i++)
        if (rvr_uuid_eq(&ids[i], id))
            return true;
    return false;
}

static void test_list_vrs(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid *ids = NULL;
    size_t n = 0, base;
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(self, &ids, &n), RVR_OK);
    CU_ASSERT_TRUE(has_id(ids, n, rvr_self(self)));
    base = n;
    free(ids);

    rvr_uuid relays[3];
    for (int i = 0; i < 3; i++)
        relays[i] = spawn_relay();
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(self, &ids, &n), RVR_OK);
    CU_ASSERT_EQUAL(n, base + 3);
    CU_ASSERT_TRUE(has_id(ids, n, rvr_self(self)));
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(has_id(ids, n, &relays[i]));
    for (size_t i = 0; i < n; i++)   /* no duplicates */
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT_FALSE(rvr_uuid_eq(&ids[i], &ids[j]));
    free(ids);
    stop_relays(relays, 3);
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(self, &ids, &n), RVR_OK);
    CU_ASSERT_EQUAL(n, base);
    CU_ASSERT_TRUE(has_id(ids, n, rvr_self(self)));
    free(ids);
}

static void test_identity(void)
{
    rvr_vr *self = vmtest_self;
    CU_ASSERT_FALSE(rvr_uuid_is_nil(rvr_self(self)));
    CU_ASSERT_TRUE(rvr_uuid_is_nil(rvr_parent(self)));   /* the initial VR */
    CU_ASSERT_FALSE(rvr_uuid_is_nil(rvr_vm_id(self)));
    CU_ASSERT_FALSE(rvr_uuid_eq(rvr_vm_id(self), rvr_self(self)));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rvr_vr_type_of(self));
    CU_ASSERT_STRING_EQUAL(rvr_vr_type_of(self)->name, "tests.Tester");
    CU_ASSERT_FALSE(rvr_stopping(self));

    rvr_uuid r1 = spawn_relay(), r2 = spawn_relay();
    CU_ASSERT_FALSE(rvr_uuid_eq(&r1, &r2));
    rvr_uuid rs[2] = { r1, r2 };
    for (int i = 0; i < 2; i++) {
        rvr_packet *w = rvr_packet_new("whoami");
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        CU_ASSERT_EQUAL_FATAL(rvr_send(self, &rs[i], w), RVR_OK);
        rvr_match *m = tag_match("iam");
        rvr_match_src(m, &rs[i]);
        rvr_packet *p = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, GUARD_MS, &p), RVR_OK);
        rvr_match_free(m);
        rvr_uuid u;
        bool type_ok = false;
        CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "self", &u), RVR_OK);
        CU_ASSERT_TRUE(rvr_uuid_eq(&u, &rs[i]));
        CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "parent", &u), RVR_OK);
        CU_ASSERT_TRUE(rvr_uuid_eq(&u, rvr_self(self)));
        CU_ASSERT_EQUAL(rvr_packet_get_uuid(p, "vm", &u), RVR_OK);
        CU_ASSERT_TRUE(rvr_uuid_eq(&u, rvr_vm_id(self)));
        CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "type_ok", &type_ok), RVR_OK);
        CU_ASSERT_TRUE(type_ok);
        rvr_packet_free(p);
    }
    stop_relays(rs, 2);
}

static void test_bad_arguments(void)
{
    rvr_vr *self = vmtest_self;
    rvr_packet *p = numbered(1, "owned");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(rvr_recv(self, NULL, 0, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_peek(self, NULL, 0, NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_send(self, NULL, p), RVR_EINVAL);
    check_still_owned(p, 1);
    CU_ASSERT_EQUAL(rvr_send(self, rvr_self(self), NULL), RVR_EINVAL);
    size_t n;
    rvr_uuid *ids;
    CU_ASSERT_EQUAL(rvr_list_vrs(self, NULL, &n), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_list_vrs(self, &ids, NULL), RVR_EINVAL);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_pending(self), 0);
}

/* ---- shutdown (in a child process) ------------------------------------------------ */

typedef struct blocker_args {
    uint32_t kind;
} blocker_args;
static const blocker_args blocker_defaults = { 0 };
static const rvr_arg_desc blocker_descs[] = {
    { "kind", RVR_ARG_UINT32, offsetof(blocker_args, kind), "0", "what to block in" },
};
static int blocker_main(rvr_vr *self, const void *args);
static RVR_VR_TYPE(blocker_type, "tests.Blocker", blocker_main, blocker_args, blocker_defaults,
                   blocker_descs);

static int noop_main(rvr_vr *self, const void *args) { (void)self; (void)args; return 0; }
static RVR_VR_TYPE_NOARGS(noop_type, "tests.Noop", noop_main);

/* Blocks in one way or another, then reports (on stdout, one write) what
 * the runtime told it once the VM stopped:
 *   0  rvr_recv(NULL, FOREVER)
 *   1  rvr_recv(tag "never", 60 s) with a non-matching packet queued
 *   2  rvr_peek(src = a VR that never sends, FOREVER)
 *   3  busy until rvr_stopping(), then rvr_recv(NULL, FOREVER) */
static int blocker_main(rvr_vr *self, const void *args)
{
    const blocker_args *a = args;
    rvr_packet *ready = rvr_packet_new("ready");
    if (ready == NULL || rvr_send(self, rvr_parent(self), ready) != RVR_OK) {
        rvr_packet_free(ready);
        return 1;
    }
    rvr_packet *p = NULL;
    rvr_status st = RVR_OK;
    rvr_match *m = rvr_match_new();
    rvr_uuid nobody = rvr_uuid_generate();
    switch (a->kind) {
    case 0:
        st = rvr_recv(self, NULL, RVR_FOREVER, &p);
        break;
    case 1:
        rvr_match_tag(m, "never");
        st = rvr_recv(self, m, 60000, &p);
        break;
    case 2:
        rvr_match_src(m, &nobody);
        st = rvr_peek(self, m, RVR_FOREVER, &p);
        break;
    default:
        for (int i = 0; i < 600000 && !rvr_stopping(self); i++)
            sleep_ms(1);
        st = rvr_recv(self, NULL, RVR_FOREVER, &p);
        break;
    }
    rvr_match_free(m);
    rvr_packet_free(p);
    rvr_packet *late = rvr_packet_new("late");
    rvr_status sst = late ? rvr_send(self, rvr_parent(self), late) : RVR_ENOMEM;
    if (sst != RVR_OK)
        rvr_packet_free(late);
    rvr_status spst = rvr_spawn(self, NULL, &noop_type, NULL, NULL);
    char line[160];
    int len = snprintf(line, sizeof line, "blocker %u: recv=%d stopping=%d send=%d spawn=%d\n",
                       (unsigned)a->kind, (int)st, (int)rvr_stopping(self), (int)sst, (int)spst);
    if (write(STDOUT_FILENO, line, (size_t)len) != len)
        return 1;
    return 0;
}

static int shutdown_initial(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_uuid ids[4];
    for (uint32_t k = 0; k < 4; k++) {
        blocker_args a = { k };
        if (rvr_spawn(self, NULL, &blocker_type, &a, &ids[k]) != RVR_OK)
            return 90;
    }
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "ready");
    for (int i = 0; i < 4; i++) {
        rvr_packet *p = NULL;
        if (rvr_recv(self, m, GUARD_MS, &p) != RVR_OK)
            return 91;
        rvr_packet_free(p);
    }
    rvr_match_free(m);
    /* Something blocker 1 does not want (it waits for tag "never"). */
    rvr_packet *noise = rvr_packet_new("noise");
    if (noise == NULL || rvr_send(self, &ids[1], noise) != RVR_OK)
        return 92;
    /* Give the blockers time to block (not needed for correctness: a VR
     * that calls rvr_recv after the stop gets RVR_ECLOSED as well). */
    sleep_ms(50);
    return 7;
}
static RVR_VR_TYPE_NOARGS(shutdown_initial_type, "tests.ShutdownInitial", shutdown_initial);


static void test_shutdown(void)
{
    static child_result r;
    const char *args[] = { CHILD_SHUTDOWN, NULL };
    CU_ASSERT_FATAL(run_child(args, &r));
    /* rvr_main returned the initial VR's status. */
    CU_ASSERT_TRUE(WIFEXITED(r.status));
    CU_ASSERT_EQUAL(WEXITSTATUS(r.status), 7);
    /* Every blocked VR got RVR_ECLOSED, saw rvr_stopping, and could no
     * longer send or spawn. */
    for (unsigned k = 0; k < 4; k++) {
        char want[160];
        snprintf(want, sizeof want, "blocker %u: recv=%d stopping=1 send=%d spawn=%d\n", k,
                 (int)RVR_ECLOSED, (int)RVR_ECLOSED, (int)RVR_ECLOSED);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
        if (strstr(r.out, want) == NULL)
            fprintf(stderr, "\nwanted: %schild stdout:\n%s\nchild stderr:\n%s\n", want, r.out, r.err);
    }
    /* They all returned in time: nothing was left running. */
    CU_ASSERT_PTR_NULL(strstr(r.err, "still running"));
}

static void register_suites(void)
{
    static const CU_TestInfo select_tests[] = {
        { "by tag", test_select_tag },
        { "by src", test_select_src },
        { "by eq", test_select_eq },
        { "by has", test_select_has },
        { "by pred", test_select_pred },
        { "by fn", test_select_fn },
        { "oldest first among 1000, non-matching stay in order", test_oldest_first_many },
        { "FIFO per sender", test_fifo_per_sender },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo timeout_tests[] = {
        { "poll (0) returns at once", test_poll },
        { "short timeout waits at least that long", test_short_timeout },
        { "non-matching arrivals during a wait", test_timeout_with_arrivals },
        { "forever, with a sender", test_forever_with_sender },
        { "peek", test_peek },
        { "peek blocks until a match arrives", test_peek_blocking },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo send_tests[] = {
        { "to an unknown UUID", test_send_unknown },
        { "to a VR that ended", test_send_after_end },
        { "src is the sender", test_src_is_sender },
        { "rvr_pending", test_pending },
        { "rvr_list_vrs", test_list_vrs },
        { "self, parent, VM ids", test_identity },
        { "bad arguments", test_bad_arguments },
        { "VM shutdown: blocked VRs get ECLOSED, exit status", test_shutdown },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("selective receive", select_tests);
    cutest_suite("timeouts and peek", timeout_tests);
    cutest_suite("send and identity", send_tests);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], CHILD_SHUTDOWN) == 0)
        return rvr_main(1, argv, &shutdown_initial_type);
    return vmtest_main(argc, argv, register_suites);
}
