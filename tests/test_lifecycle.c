/* test_lifecycle.c — spawning VRs, their arguments, their ends, and
 * rvr_main's command line.
 *
 * The tests run in the initial VR (vmtest_self).  Command-line parsing is
 * rvr_main's job, so those tests re-execute this program with CHILD_ARGS
 * as its first argument (main() then runs rvr_main on a VR type that
 * prints what it got) and check the exit status and output.
 *
 * Meant to be leak-free under valgrind and LeakSanitizer: VRs that end,
 * argument copies, and packets still queued when a VR ends must all be
 * freed by the runtime. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
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
#define CHILD_ARGS "--river-test-child=args"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!CU_assertImplementation(!!(cond), __LINE__, #cond, __FILE__, "", CU_FALSE)) \
            goto out;                                                                 \
    } while (0)

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static rvr_match *tag_match(const char *tag)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL_FATAL(rvr_match_tag(m, tag), RVR_OK);
    return m;
}

static size_t count_vrs(void)
{
    rvr_uuid *ids = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(vmtest_self, &ids, &n), RVR_OK);
    free(ids);
    return n;
}

/* Polls until only the test VR itself is left (bounded hang guard; no
 * timing is asserted). */
static bool wait_alone(void)
{
    for (int waited = 0; waited < GUARD_MS; waited++) {
        rvr_uuid *ids = NULL;
        size_t n = 0;
        CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(vmtest_self, &ids, &n), RVR_OK);
        bool alone = n == 1 && rvr_uuid_eq(&ids[0], rvr_self(vmtest_self));
        free(ids);
        if (alone)
            return true;
        sleep_ms(1);
    }
    return false;
}

/* ---- 1,000 VRs ----------------------------------------------------------------- */

typedef struct worker_args {
    uint32_t index;
} worker_args;
static const worker_args worker_defaults = { UINT32_MAX };
static const rvr_arg_desc worker_descs[] = {
    { "index", RVR_ARG_UINT32, offsetof(worker_args, index), NULL, "which worker" },
};

/* Says hello (with its index and UUID) to its parent, then ends. */
static int worker_main(rvr_vr *self, const void *args)
{
    const worker_args *a = args;
    rvr_packet *p = rvr_packet_new("hello");
    if (p == NULL)
        return 1;
    if (rvr_packet_set_u64(p, "index", a->index) != RVR_OK ||
        rvr_packet_set_uuid(p, "self", rvr_self(self)) != RVR_OK ||
        rvr_send(self, rvr_parent(self), p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}
static RVR_VR_TYPE(worker_type, "tests.Worker", worker_main, worker_args, worker_defaults,
                   worker_descs);

static void test_spawn_1000(void)
{
    enum { N = 1000 };
    rvr_vr *self = vmtest_self;
    static rvr_uuid ids[N];
    static bool seen[N];
    rvr_packet *p = NULL;
    rvr_match *hello = tag_match("hello");
    CU_ASSERT_FATAL(wait_alone());
    memset(seen, 0, sizeof seen);
    for (uint32_t i = 0; i < N; i++) {
        worker_args a = { i };
        CHECK(rvr_spawn(self, NULL, &worker_type, &a, &ids[i]) == RVR_OK);
        CHECK(!rvr_uuid_is_nil(&ids[i]));
    }
    for (int i = 0; i < N; i++) {
        CHECK(rvr_recv(self, hello, GUARD_MS, &p) == RVR_OK);
        uint64_t index = UINT64_MAX;
        rvr_uuid said;
        CHECK(rvr_packet_get_u64(p, "index", &index) == RVR_OK);
        CHECK(index < N);
        CHECK(!seen[index]);                       /* exactly once */
        seen[index] = true;
        CHECK(rvr_uuid_eq(rvr_packet_src(p), &ids[index]));
        CHECK(rvr_packet_get_uuid(p, "self", &said) == RVR_OK);
        CHECK(rvr_uuid_eq(&said, &ids[index]));
        rvr_packet_free(p);
        p = NULL;
    }
    /* ... and nothing more. */
    CHECK(rvr_recv(self, NULL, 0, &p) == RVR_ETIMEDOUT);
    /* Every UUID is distinct. */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            CHECK(!rvr_uuid_eq(&ids[i], &ids[j]));
    /* They all end, and the VM forgets them. */
    CHECK(wait_alone());
out:
    rvr_packet_free(p);
    rvr_match_free(hello);
}

/* ---- waiters: VRs that live until told to stop ---------------------------------- */

static int waiter_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_match *stop = rvr_match_new();
    if (stop == NULL)
        return 1;
    rvr_match_tag(stop, "stop");
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(self, stop, RVR_FOREVER, &p);
    rvr_packet_free(p);
    rvr_match_free(stop);
    return st == RVR_OK || st == RVR_ECLOSED ? 0 : 1;
}
static RVR_VR_TYPE_NOARGS(waiter_type, "tests.Waiter", waiter_main);

static void send_tag(const rvr_uuid *to, const char *tag)
{
    rvr_packet *p = rvr_packet_new(tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, to, p), RVR_OK);
}

static void test_list_shrinks(void)
{
    enum { N = 50 };
    rvr_vr *self = vmtest_self;
    rvr_uuid ids[N];
    CU_ASSERT_FATAL(wait_alone());
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &waiter_type, NULL, &ids[i]), RVR_OK);
    rvr_uuid *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(self, &list, &n), RVR_OK);
    CU_ASSERT_EQUAL(n, N + 1);
    for (int i = 0; i < N; i++) {
        bool found = false;
        for (size_t j = 0; j < n; j++)
            found = found || rvr_uuid_eq(&list[j], &ids[i]);
        CU_ASSERT_TRUE(found);
    }
    free(list);
    /* Half of them stop: the list shrinks by exactly that half. */
    for (int i = 0; i < N / 2; i++)
        send_tag(&ids[i], "stop");
    size_t left = 0;
    for (int waited = 0; waited < GUARD_MS && (left = count_vrs()) != N - N / 2 + 1; waited++)
        sleep_ms(1);
    CU_ASSERT_EQUAL(left, N - N / 2 + 1);
    CU_ASSERT_EQUAL_FATAL(rvr_list_vrs(self, &list, &n), RVR_OK);
    for (int i = 0; i < N; i++) {
        bool found = false;
        for (size_t j = 0; j < n; j++)
            found = found || rvr_uuid_eq(&list[j], &ids[i]);
        CU_ASSERT_EQUAL(found, i >= N / 2);
    }
    free(list);
    for (int i = N / 2; i < N; i++)
        send_tag(&ids[i], "stop");
    CU_ASSERT_TRUE(wait_alone());
}

/* Packets still queued when a VR ends are freed with it (a leak checker
 * running this test would report them otherwise), and it is gone. */
static void test_end_with_queued_packets(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid id;
    CU_ASSERT_FATAL(wait_alone());
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &waiter_type, NULL, &id), RVR_OK);
    for (int i = 0; i < 100; i++) {
        rvr_packet *p = rvr_packet_new("junk");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        rvr_packet_set_str(p, "payload", "some bytes that must be freed");
        rvr_list *l = rvr_list_new();
        rvr_list_append_i64(l, i);
        rvr_packet_set_list(p, "list", l);
        CU_ASSERT_EQUAL_FATAL(rvr_send(self, &id, p), RVR_OK);
    }
    send_tag(&id, "stop");   /* the waiter takes only this one */
    CU_ASSERT_TRUE(wait_alone());
    rvr_packet *p = rvr_packet_new("late");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(rvr_send(self, &id, p), RVR_ENOTFOUND);
    rvr_packet_free(p);
}

/* ---- arguments ------------------------------------------------------------------- */

typedef struct probe_args {
    bool b;
    int32_t i32;
    int64_t i64;
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    char *s;
    char *s2;
} probe_args;
static const probe_args probe_defaults = { true, -5, -6000000000LL, 7, 8000000000ULL, 1.5f, 2.25,
                                           "dflt", NULL };
static const rvr_arg_desc probe_descs[] = {
    { "b", RVR_ARG_BOOL, offsetof(probe_args, b), "true", NULL },
    { "i32", RVR_ARG_INT32, offsetof(probe_args, i32), "-5", NULL },
    { "i64", RVR_ARG_INT64, offsetof(probe_args, i64), "-6000000000", NULL },
    { "u32", RVR_ARG_UINT32, offsetof(probe_args, u32), "7", NULL },
    { "u64", RVR_ARG_UINT64, offsetof(probe_args, u64), "8000000000", NULL },
    { "f", RVR_ARG_FLOAT, offsetof(probe_args, f), "1.5", NULL },
    { "d", RVR_ARG_DOUBLE, offsetof(probe_args, d), "2.25", NULL },
    { "s", RVR_ARG_STRING, offsetof(probe_args, s), "dflt", NULL },
    { "s2", RVR_ARG_STRING, offsetof(probe_args, s2), NULL, NULL },
};

/* Waits for "go" {caller_s: uint, the address of the caller's string},
 * then reports the arguments it sees as "seen". */
static int probe_main(rvr_vr *self, const void *args);
static RVR_VR_TYPE(probe_type, "tests.Probe", probe_main, probe_args, probe_defaults, probe_descs);

static int probe_main(rvr_vr *self, const void *args)
{
    const probe_args *a = args;
    rvr_match *go = rvr_match_new();
    if (go == NULL)
        return 1;
    rvr_match_tag(go, "go");
    rvr_packet *g = NULL;
    rvr_status st = rvr_recv(self, go, RVR_FOREVER, &g);
    rvr_match_free(go);
    if (st != RVR_OK)
        return 1;
    uint64_t caller_s = 0;
    rvr_packet_get_u64(g, "caller_s", &caller_s);
    rvr_packet_free(g);

    rvr_packet *p = rvr_packet_new("seen");
    if (p == NULL)
        return 1;
    rvr_packet_set_bool(p, "args_null", a == NULL);
    rvr_packet_set_bool(p, "type_ok", rvr_vr_type_of(self) == &probe_type);
    if (a != NULL) {
        rvr_packet_set_bool(p, "b", a->b);
        rvr_packet_set_i64(p, "i32", a->i32);
        rvr_packet_set_i64(p, "i64", a->i64);
        rvr_packet_set_u64(p, "u32", a->u32);
        rvr_packet_set_u64(p, "u64", a->u64);
        rvr_packet_set_f64(p, "f", a->f);
        rvr_packet_set_f64(p, "d", a->d);
        if (a->s != NULL)
            rvr_packet_set_str(p, "s", a->s);
        if (a->s2 != NULL)
            rvr_packet_set_str(p, "s2", a->s2);
        rvr_packet_set_bool(p, "s_private", (uintptr_t)a->s != (uintptr_t)caller_s);
    }
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}

static int noargs_probe_main(rvr_vr *self, const void *args)
{
    rvr_packet *p = rvr_packet_new("seen");
    if (p == NULL)
        return 1;
    rvr_packet_set_bool(p, "args_null", args == NULL);
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}
static RVR_VR_TYPE_NOARGS(noargs_probe_type, "tests.NoArgsProbe", noargs_probe_main);

/* Tells probe `id` to report, and returns its report. */
static rvr_packet *probe_report(const rvr_uuid *id, uintptr_t caller_s)
{
    rvr_packet *g = rvr_packet_new("go");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rvr_packet_set_u64(g, "caller_s", (uint64_t)caller_s);
    CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, id, g), RVR_OK);
    rvr_match *m = tag_match("seen");
    rvr_match_src(m, id);
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(vmtest_self, m, GUARD_MS, &p);
    rvr_match_free(m);
    CU_ASSERT_EQUAL_FATAL(st, RVR_OK);
    return p;
}

static void check_report(const rvr_packet *p, const probe_args *want)
{
    bool b = !want->b, flag = true;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    const char *s = NULL;
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "args_null", &flag), RVR_OK);
    CU_ASSERT_FALSE(flag);
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "type_ok", &flag), RVR_OK);
    CU_ASSERT_TRUE(flag);
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "b", &b), RVR_OK);
    CU_ASSERT_EQUAL(b, want->b);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "i32", &i), RVR_OK);
    CU_ASSERT_EQUAL(i, want->i32);
    CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "i64", &i), RVR_OK);
    CU_ASSERT_EQUAL(i, want->i64);
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "u32", &u), RVR_OK);
    CU_ASSERT_EQUAL(u, want->u32);
    CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "u64", &u), RVR_OK);
    CU_ASSERT_EQUAL(u, want->u64);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "f", &d), RVR_OK);
    CU_ASSERT_EQUAL(d, (double)want->f);
    CU_ASSERT_EQUAL(rvr_packet_get_f64(p, "d", &d), RVR_OK);
    CU_ASSERT_EQUAL(d, want->d);
    if (want->s == NULL) {
        CU_ASSERT_FALSE(rvr_packet_has(p, "s"));
    } else {
        CU_ASSERT_EQUAL(rvr_packet_get_str(p, "s", &s, NULL), RVR_OK);
        CU_ASSERT_STRING_EQUAL(s != NULL ? s : "(none)", want->s);
    }
    if (want->s2 == NULL) {
        CU_ASSERT_FALSE(rvr_packet_has(p, "s2"));
    } else {
        CU_ASSERT_EQUAL(rvr_packet_get_str(p, "s2", &s, NULL), RVR_OK);
        CU_ASSERT_STRING_EQUAL(s != NULL ? s : "(none)", want->s2);
    }
}

static void test_args_private_copy(void)
{
    rvr_vr *self = vmtest_self;
    char *s = strdup("hello, river");
    char *s2 = strdup("second");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    probe_args a = { false, INT32_MIN, INT64_MAX, UINT32_MAX, UINT64_MAX, -0.5f, 1e300, s, s2 };
    const probe_args want = { false, INT32_MIN, INT64_MAX, UINT32_MAX, UINT64_MAX, -0.5f, 1e300,
                              "hello, river", "second" };
    rvr_uuid id;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &probe_type, &a, &id), RVR_OK);
    /* The spawner may reuse or free its arguments as soon as spawn returns:
     * the probe reads them only after this. */
    uintptr_t old_s = (uintptr_t)s;
    memset(s, 'X', strlen(s));
    memset(s2, 'Y', strlen(s2));
    free(s);
    free(s2);
    memset(&a, 0, sizeof a);
    rvr_packet *p = probe_report(&id, old_s);
    check_report(p, &want);
    bool priv = false;
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "s_private", &priv), RVR_OK);
    CU_ASSERT_TRUE(priv);
    rvr_packet_free(p);
}

static void test_args_defaults(void)
{
    rvr_uuid id;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(vmtest_self, NULL, &probe_type, NULL, &id), RVR_OK);
    rvr_packet *p = probe_report(&id, (uintptr_t)probe_defaults.s);
    check_report(p, &probe_defaults);
    rvr_packet_free(p);

    /* A type without arguments gets NULL. */
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(vmtest_self, NULL, &noargs_probe_type, NULL, &id), RVR_OK);
    rvr_match *m = tag_match("seen");
    rvr_match_src(m, &id);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(vmtest_self, m, GUARD_MS, &p), RVR_OK);
    rvr_match_free(m);
    bool null = false;
    CU_ASSERT_EQUAL(rvr_packet_get_bool(p, "args_null", &null), RVR_OK);
    CU_ASSERT_TRUE(null);
    rvr_packet_free(p);
}

static void test_args_each_its_own(void)
{
    enum { N = 8 };
    rvr_uuid ids[N];
    char buf[32];
    probe_args a = probe_defaults;
    a.s = buf;
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "probe %d", i);
        a.i32 = i;
        a.s2 = i % 2 ? NULL : buf;
        CU_ASSERT_EQUAL_FATAL(rvr_spawn(vmtest_self, NULL, &probe_type, &a, &ids[i]), RVR_OK);
    }
    strcpy(buf, "overwritten");
    for (int i = N - 1; i >= 0; i--) {
        char want_s[32];
        snprintf(want_s, sizeof want_s, "probe %d", i);
        probe_args want = probe_defaults;
        want.i32 = i;
        want.s = want_s;
        want.s2 = i % 2 ? NULL : want_s;
        rvr_packet *p = probe_report(&ids[i], (uintptr_t)buf);
        check_report(p, &want);
        rvr_packet_free(p);
    }
    CU_ASSERT_TRUE(wait_alone());
}

/* ---- spawning from a child ----------------------------------------------------------- */

typedef struct chain_args {
    uint32_t depth;
    char *root;   /* the UUID of the VR to report to, as text */
} chain_args;
static const chain_args chain_defaults = { 0, NULL };
static const rvr_arg_desc chain_descs[] = {
    { "depth", RVR_ARG_UINT32, offsetof(chain_args, depth), "0", NULL },
    { "root", RVR_ARG_STRING, offsetof(chain_args, root), NULL, NULL },
};

/* Spawns the next link (depth - 1) unless depth is 0, then reports
 * "link" {depth, self, parent, child (when spawned), spawn (status)} to root. */
static int chain_main(rvr_vr *self, const void *args);
static RVR_VR_TYPE(chain_type, "tests.Chain", chain_main, chain_args, chain_defaults, chain_descs);

static int chain_main(rvr_vr *self, const void *args)
{
    const chain_args *a = args;
    rvr_uuid root, child;
    if (a->root == NULL || rvr_uuid_parse(a->root, &root) != RVR_OK)
        return 1;
    rvr_status st = RVR_OK;
    if (a->depth > 0) {
        chain_args next = { a->depth - 1, a->root };
        st = rvr_spawn(self, NULL, &chain_type, &next, &child);
    }
    rvr_packet *p = rvr_packet_new("link");
    if (p == NULL)
        return 1;
    rvr_packet_set_u64(p, "depth", a->depth);
    rvr_packet_set_uuid(p, "self", rvr_self(self));
    rvr_packet_set_uuid(p, "parent", rvr_parent(self));
    rvr_packet_set_i64(p, "spawn", st);
    if (a->depth > 0 && st == RVR_OK)
        rvr_packet_set_uuid(p, "child", &child);
    if (rvr_send(self, &root, p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}

static void test_spawn_from_child(void)
{
    enum { DEPTH = 6 };
    rvr_vr *self = vmtest_self;
    char root[RVR_UUID_STRLEN];
    rvr_uuid_str(rvr_self(self), root);
    chain_args a = { DEPTH, root };
    rvr_uuid first;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &chain_type, &a, &first), RVR_OK);
    rvr_packet *links[DEPTH + 1] = { NULL };
    rvr_match *m = tag_match("link");
    for (int i = 0; i <= DEPTH; i++) {
        rvr_packet *p = NULL;
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, GUARD_MS, &p), RVR_OK);
        uint64_t d = UINT64_MAX;
        CU_ASSERT_EQUAL(rvr_packet_get_u64(p, "depth", &d), RVR_OK);
        CU_ASSERT_FATAL(d <= DEPTH);
        CU_ASSERT_PTR_NULL_FATAL(links[d]);   /* each depth reports once */
        links[d] = p;
    }
    rvr_match_free(m);
    for (int d = DEPTH; d >= 0; d--) {
        rvr_uuid u, parent;
        int64_t st = -100;
        CU_ASSERT_EQUAL(rvr_packet_get_uuid(links[d], "self", &u), RVR_OK);
        CU_ASSERT_TRUE(rvr_uuid_eq(&u, rvr_packet_src(links[d])));
        CU_ASSERT_EQUAL(rvr_packet_get_uuid(links[d], "parent", &parent), RVR_OK);
        if (d == DEPTH) {
            CU_ASSERT_TRUE(rvr_uuid_eq(&u, &first));
            CU_ASSERT_TRUE(rvr_uuid_eq(&parent, rvr_self(self)));
        } else {
            /* The spawner is the parent, and spawn told it the child's UUID. */
            rvr_uuid up_self, up_child;
            CU_ASSERT_EQUAL(rvr_packet_get_uuid(links[d + 1], "self", &up_self), RVR_OK);
            CU_ASSERT_TRUE(rvr_uuid_eq(&parent, &up_self));
            CU_ASSERT_EQUAL(rvr_packet_get_uuid(links[d + 1], "child", &up_child), RVR_OK);
            CU_ASSERT_TRUE(rvr_uuid_eq(&u, &up_child));
        }
        CU_ASSERT_EQUAL(rvr_packet_get_i64(links[d], "spawn", &st), RVR_OK);
        CU_ASSERT_EQUAL(st, RVR_OK);
    }
    for (int d = 0; d <= DEPTH; d++)
        rvr_packet_free(links[d]);
    CU_ASSERT_TRUE(wait_alone());
}

/* ---- spawn errors ------------------------------------------------------------------- */

static int bye_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p = rvr_packet_new("bye");
    if (p != NULL && rvr_send(self, rvr_parent(self), p) != RVR_OK)
        rvr_packet_free(p);
    return 3;   /* a non-zero status from a spawned VR is just logged */
}
static RVR_VR_TYPE_NOARGS(bye_type, "tests.Bye", bye_main);

static void test_spawn_errors(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid id = rvr_uuid_generate(), before = id;
    static const rvr_vr_type no_main = { "tests.NoMain", NULL, 0, NULL, NULL, 0 };
    static const rvr_vr_type no_name = { NULL, bye_main, 0, NULL, NULL, 0 };
    CU_ASSERT_EQUAL(rvr_spawn(self, NULL, NULL, NULL, &id), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_spawn(self, NULL, &no_main, NULL, &id), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_spawn(self, NULL, &no_name, NULL, &id), RVR_EINVAL);
    rvr_uuid elsewhere = rvr_uuid_generate();
    CU_ASSERT_EQUAL(rvr_spawn(self, &elsewhere, &bye_type, NULL, &id), RVR_ENOTFOUND);
    CU_ASSERT_TRUE(rvr_uuid_eq(&id, &before));   /* untouched on failure */
    CU_ASSERT_TRUE(wait_alone());                /* nothing was started */

    /* This VM's own id, and no out_id: fine. */
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, rvr_vm_id(self), &bye_type, NULL, &id), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &bye_type, NULL, NULL), RVR_OK);
    rvr_match *m = tag_match("bye");
    rvr_packet *p = NULL;
    bool from_id = false;
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, GUARD_MS, &p), RVR_OK);
        from_id = from_id || rvr_uuid_eq(rvr_packet_src(p), &id);
        rvr_packet_free(p);
    }
    CU_ASSERT_TRUE(from_id);
    rvr_match_free(m);
    CU_ASSERT_TRUE(wait_alone());
}

/* ---- rvr_main's command line (child processes) ----------------------------------------- */

typedef struct opts_args {
    bool verbose;
    uint32_t count;
    uint64_t big;
    int64_t neg;
    int32_t status;
    float f;
    double ratio;
    char *name;
    char *label;   /* named like a VM option (--label k=v): the VR's own wins */
} opts_args;
static const opts_args opts_defaults = { false, 4, 10, -1, 0, 1.5f, 0.25, "world", "none" };
static const rvr_arg_desc opts_descs[] = {
    { "verbose", RVR_ARG_BOOL, offsetof(opts_args, verbose), "false", "say more" },
    { "count", RVR_ARG_UINT32, offsetof(opts_args, count), "4", "how many" },
    { "big", RVR_ARG_UINT64, offsetof(opts_args, big), "10", NULL },
    { "neg", RVR_ARG_INT64, offsetof(opts_args, neg), "-1", NULL },
    { "status", RVR_ARG_INT32, offsetof(opts_args, status), "0", "exit status" },
    { "f", RVR_ARG_FLOAT, offsetof(opts_args, f), "1.5", NULL },
    { "ratio", RVR_ARG_DOUBLE, offsetof(opts_args, ratio), "0.25", NULL },
    { "name", RVR_ARG_STRING, offsetof(opts_args, name), "world", "who to greet" },
    { "label", RVR_ARG_STRING, offsetof(opts_args, label), "none", NULL },
};

/* Prints the arguments it got and returns --status. */
static int opts_main(rvr_vr *self, const void *args)
{
    (void)self;
    const opts_args *a = args;
    printf("RAN verbose=%d count=%" PRIu32 " big=%" PRIu64 " neg=%" PRId64
           " status=%" PRId32 " f=%g ratio=%g name=%s\n",
           (int)a->verbose, a->count, a->big, a->neg, a->status, (double)a->f, a->ratio,
           a->name != NULL ? a->name : "(null)");
    printf("LABEL %s\n", a->label != NULL ? a->label : "(null)");
    fflush(stdout);
    return a->status;
}
static RVR_VR_TYPE(opts_type, "tests.Opts", opts_main, opts_args, opts_defaults, opts_descs);


typedef struct argv_case {
    const char *args[8];   /* after CHILD_ARGS, NULL-terminated */
    int exit;              /* expected exit status */
    const char *out;       /* expected on stdout (substring), or NULL: must not have run */
    const char *err;       /* expected on stderr (substring), or NULL */
} argv_case;

static const argv_case argv_cases[] = {
    /* defaults */
    { { NULL }, 0,
      "RAN verbose=0 count=4 big=10 neg=-1 status=0 f=1.5 ratio=0.25 name=world\n", NULL },
    /* --name=value and --name value, every kind, extremes; the exit status
     * is the initial VR's */
    { { "--count=8", "--name", "hello", "--verbose", "--ratio=0.5", "--big",
        "18446744073709551615", NULL }, 0,
      "RAN verbose=1 count=8 big=18446744073709551615 neg=-1 status=0 f=1.5 ratio=0.5 "
      "name=hello\n", NULL },
    { { "--neg=-9223372036854775808", "--status=3", "--f", "-2.5", "--count", "4294967295",
        NULL }, 3,
      "RAN verbose=0 count=4294967295 big=10 neg=-9223372036854775808 status=3 f=-2.5 "
      "ratio=0.25 name=world\n", NULL },
    /* --name value with a negative number */
    { { "--neg", "-5", NULL }, 0,
      "RAN verbose=0 count=4 big=10 neg=-5 status=0 f=1.5 ratio=0.25 name=world\n", NULL },
    /* a bool flag followed by another option; explicit bool values */
    { { "--verbose", "--count=1", NULL }, 0, "RAN verbose=1 count=1 ", NULL },
    { { "--verbose=true", NULL }, 0, "RAN verbose=1 ", NULL },
    { { "--verbose=false", NULL }, 0, "RAN verbose=0 ", NULL },
    { { "--name=", NULL }, 0, " name=\n", NULL },
    { { "--log-level=error", "--status=5", NULL }, 5, "RAN verbose=0 ", NULL },
    /* malformed values: exit 2, the VR never runs, the message names the option */
    { { "--count=abc", NULL }, 2, NULL, "count" },
    { { "--count=", NULL }, 2, NULL, "count" },
    { { "--count=4294967296", NULL }, 2, NULL, "count" },
    { { "--count=-1", NULL }, 2, NULL, "count" },
    { { "--status=2147483648", NULL }, 2, NULL, "status" },
    { { "--big=18446744073709551616", NULL }, 2, NULL, "big" },
    { { "--neg=12x", NULL }, 2, NULL, "neg" },
    { { "--ratio=fast", NULL }, 2, NULL, "ratio" },
    { { "--verbose=maybe", NULL }, 2, NULL, "verbose" },
    { { "--name", NULL }, 2, NULL, "name" },          /* missing value */
    { { "--count=3", "--count", NULL }, 2, NULL, "count" },
    /* unknown options and stray arguments */
    { { "--bogus=1", NULL }, 2, NULL, "bogus" },
    { { "--bogus", NULL }, 2, NULL, "bogus" },
    { { "--count=1", "stray", NULL }, 2, NULL, "stray" },
    { { "--log-level=loud", NULL }, 2, NULL, "log-level" },
    /* a VR parameter named like a VM option (--label) is the VR's; --peer
     * still goes to the VM */
    { { "--label=rack1", NULL }, 0, "LABEL rack1\n", NULL },
    { { "--label", "r2", "--peer", "127.0.0.1:9", NULL }, 0, "LABEL r2\n", NULL },
    { { NULL }, 0, "LABEL none\n", NULL },
    /* --help: exit 0, the VR never runs */
    { { "--help", NULL }, 0, NULL, NULL },
    { { "--count=7", "--help", NULL }, 0, NULL, NULL },
};

static void test_argv(void)
{
    static child_result r;
    for (size_t i = 0; i < sizeof argv_cases / sizeof argv_cases[0]; i++) {
        const argv_case *c = &argv_cases[i];
        const char *args[10] = { CHILD_ARGS };
        for (int k = 0; c->args[k] != NULL; k++)
            args[k + 1] = c->args[k];
        memset(&r, 0, sizeof r);
        CU_ASSERT_FATAL(run_child(args, &r));
        bool ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == c->exit;
        if (c->out != NULL)
            ok = ok && strstr(r.out, c->out) != NULL;
        else
            ok = ok && strstr(r.out, "RAN") == NULL;
        if (c->err != NULL)
            ok = ok && strstr(r.err, c->err) != NULL;
        CU_ASSERT_TRUE(ok);
        if (!ok) {
            fprintf(stderr, "\nargv case %zu (%s ...): status %#x, want exit %d\nstdout: %s\nstderr: %s\n",
                    i, c->args[0] ? c->args[0] : "(none)", r.status, c->exit, r.out, r.err);
        }
    }
}

static void test_help(void)
{
    static child_result r;
    const char *args[] = { CHILD_ARGS, "--help", NULL };
    CU_ASSERT_FATAL(run_child(args, &r));
    CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    CU_ASSERT_PTR_NULL(strstr(r.out, "RAN"));
    /* Every option is listed, with its default where it has one. */
    for (size_t i = 0; i < sizeof opts_descs / sizeof opts_descs[0]; i++) {
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", opts_descs[i].name);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, opt));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, opts_descs[i].defval));
        if (opts_descs[i].help != NULL)
            CU_ASSERT_PTR_NOT_NULL(strstr(r.out, opts_descs[i].help));
    }
}

static void register_suites(void)
{
    static const CU_TestInfo spawn_tests[] = {
        { "1,000 VRs spawn, report once, exit", test_spawn_1000 },
        { "rvr_list_vrs shrinks as VRs exit", test_list_shrinks },
        { "a VR ends with packets queued", test_end_with_queued_packets },
        { "spawning from a child", test_spawn_from_child },
        { "spawn errors", test_spawn_errors },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo args_tests[] = {
        { "the child gets a private copy", test_args_private_copy },
        { "defaults when args is NULL; NULL for no-arg types", test_args_defaults },
        { "siblings each get their own", test_args_each_its_own },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo main_tests[] = {
        { "argv parsing and exit status", test_argv },
        { "--help", test_help },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("spawn and exit", spawn_tests);
    cutest_suite("VR arguments", args_tests);
    cutest_suite("rvr_main", main_tests);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], CHILD_ARGS) == 0) {
        argv[1] = argv[0];
        return rvr_main(argc - 1, argv + 1, &opts_type);
    }
    return vmtest_main(argc, argv, register_suites);
}
