/* test_vrtypes.c — the registry of VR types by name, and the two facts
 * about this process a deploy needs (its executable and its arch).
 *
 * Runs inside a VR (vmtest) so it can check that rvr_main registered the
 * initial VR's type. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sysinfo.h"
#include "vmtest.h"
#include "vrtypes.h"

static int body(rvr_vr *self, const void *args)
{
    (void)self;
    (void)args;
    return 0;
}

typedef struct { uint32_t n; } nargs;
static const nargs ndefaults = { 3 };
static const rvr_arg_desc ndescs[] = {
    { "n", RVR_ARG_UINT32, offsetof(nargs, n), "3", NULL },
};
static RVR_VR_TYPE_NOARGS(alpha_type, "test.Alpha", body);
static RVR_VR_TYPE_NOARGS(alpha_again, "test.Alpha", body);  /* same name, other descriptor */
static RVR_VR_TYPE(beta_type, "test.Beta", body, nargs, ndefaults, ndescs);

static void test_initial_type_registered(void)
{
    const rvr_vr_type *t = rvr_vr_type_of(vmtest_self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_EQUAL(rvr_vr_type_find(t->name), t);
    CU_ASSERT_PTR_EQUAL(rvr_vr_type_find("tests.Tester"), t);
}

static void test_register_find(void)
{
    CU_ASSERT_PTR_NULL(rvr_vr_type_find("test.Alpha"));
    CU_ASSERT_EQUAL(rvr_vr_type_register(&alpha_type), RVR_OK);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&beta_type), RVR_OK);
    CU_ASSERT_PTR_EQUAL(rvr_vr_type_find("test.Alpha"), &alpha_type);
    CU_ASSERT_PTR_EQUAL(rvr_vr_type_find("test.Beta"), &beta_type);
    CU_ASSERT_PTR_NULL(rvr_vr_type_find("test.alpha"));   /* names are case-sensitive */
    CU_ASSERT_PTR_NULL(rvr_vr_type_find("test"));
    CU_ASSERT_PTR_NULL(rvr_vr_type_find(""));
    CU_ASSERT_PTR_NULL(rvr_vr_type_find(NULL));
    /* Idempotent for the same descriptor, refused for another one. */
    CU_ASSERT_EQUAL(rvr_vr_type_register(&alpha_type), RVR_OK);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&alpha_again), RVR_EEXIST);
    CU_ASSERT_PTR_EQUAL(rvr_vr_type_find("test.Alpha"), &alpha_type);

    const rvr_vr_type **all = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_vr_types_list(&all, &n), RVR_OK);
    CU_ASSERT(n >= 3);
    for (size_t i = 1; i < n; i++)
        CU_ASSERT(strcmp(all[i - 1]->name, all[i]->name) < 0);   /* sorted, unique */
    free(all);
}

static void test_register_invalid(void)
{
    static const rvr_vr_type noname = { NULL, body, 0, NULL, NULL, 0 };
    static const rvr_vr_type empty = { "", body, 0, NULL, NULL, 0 };
    static const rvr_vr_type nofn = { "test.NoFn", NULL, 0, NULL, NULL, 0 };
    static const rvr_vr_type noargs = { "test.NoArgs", body, 0, NULL, NULL, 2 };
    CU_ASSERT_EQUAL(rvr_vr_type_register(NULL), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&noname), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&empty), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&nofn), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vr_type_register(&noargs), RVR_EINVAL);
    char longname[RVR_MAX_NAME + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    rvr_vr_type toolong = { longname, body, 0, NULL, NULL, 0 };
    CU_ASSERT_EQUAL(rvr_vr_type_register(&toolong), RVR_EINVAL);
    CU_ASSERT_PTR_NULL(rvr_vr_type_find("test.NoFn"));
}

/* Many threads registering and looking up at once: every type ends up
 * registered exactly once and every lookup sees a whole descriptor. */
#define NTHREADS 8
#define PER_THREAD 64
static rvr_vr_type many[NTHREADS][PER_THREAD];
static char many_names[NTHREADS][PER_THREAD][32];

static void *registrar(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    for (size_t i = 0; i < PER_THREAD; i++) {
        if (rvr_vr_type_register(&many[t][i]) != RVR_OK)
            return (void *)1;
        /* Look up one another thread may be registering right now. */
        const rvr_vr_type *x = rvr_vr_type_find(many_names[(t + 1) % NTHREADS][i]);
        if (x != NULL && x != &many[(t + 1) % NTHREADS][i])
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void)
{
    for (size_t t = 0; t < NTHREADS; t++)
        for (size_t i = 0; i < PER_THREAD; i++) {
            snprintf(many_names[t][i], sizeof many_names[t][i], "conc.T%zu_%zu", t, i);
            many[t][i] = (rvr_vr_type){ many_names[t][i], body, 0, NULL, NULL, 0 };
        }
    pthread_t th[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, registrar, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < NTHREADS; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        CU_ASSERT_PTR_NULL(rc);
    }
    for (size_t t = 0; t < NTHREADS; t++)
        for (size_t i = 0; i < PER_THREAD; i++)
            CU_ASSERT_PTR_EQUAL(rvr_vr_type_find(many_names[t][i]), &many[t][i]);
}

/* A type found by name can be spawned like any other. */
static int echo(rvr_vr *self, const void *args)
{
    rvr_packet *p = rvr_packet_new("hi");
    if (p == NULL)
        return 1;
    rvr_status st = rvr_send(self, rvr_parent(self), p);
    if (st != RVR_OK)
        rvr_packet_free(p);
    return st == RVR_OK ? 0 : 1;
}
static RVR_VR_TYPE_NOARGS(echo_type, "test.Echo", echo);

static void test_spawn_by_name(void)
{
    CU_ASSERT_EQUAL_FATAL(rvr_vr_type_register(&echo_type), RVR_OK);
    const rvr_vr_type *t = rvr_vr_type_find("test.Echo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rvr_uuid id;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(vmtest_self, NULL, t, NULL, &id), RVR_OK);
    rvr_match *m = rvr_match_new();
    CU_ASSERT_EQUAL_FATAL(rvr_match_tag(m, "hi"), RVR_OK);
    rvr_packet *p = NULL;
    CU_ASSERT_EQUAL(rvr_recv(vmtest_self, m, RVR_FOREVER, &p), RVR_OK);
    if (p != NULL) {
        CU_ASSERT(rvr_uuid_eq(rvr_packet_src(p), &id));
        rvr_packet_free(p);
    }
    rvr_match_free(m);
}

/* ---- sysinfo: executable and arch ---- */

static void test_self_exe(void)
{
    char buf[4096];
    CU_ASSERT_EQUAL_FATAL(rvr_self_exe(buf, sizeof buf), RVR_OK);
    CU_ASSERT_EQUAL(buf[0], '/');
    /* This program (libtool may run it as .libs/lt-test_vrtypes; valgrind
     * makes /proc/self/exe itself point at its launcher, so compare names). */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "test_vrtypes"));
    CU_ASSERT_EQUAL(access(buf, X_OK), 0);
    char tiny[4];
    CU_ASSERT_EQUAL(rvr_self_exe(tiny, sizeof tiny), RVR_ELIMIT);
    CU_ASSERT_EQUAL(tiny[0], '\0');
    CU_ASSERT_EQUAL(rvr_self_exe(NULL, 10), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_self_exe(buf, 0), RVR_EINVAL);
}

static void test_arch(void)
{
    struct utsname u;
    CU_ASSERT_EQUAL_FATAL(uname(&u), 0);
    CU_ASSERT_STRING_EQUAL(rvr_arch(), u.machine);
    CU_ASSERT_PTR_EQUAL(rvr_arch(), rvr_arch());
}

static void suites(void)
{
    static const CU_TestInfo reg[] = {
        { "rvr_main registers the initial type", test_initial_type_registered },
        { "register and find", test_register_find },
        { "invalid descriptors refused", test_register_invalid },
        { "concurrent register/find", test_concurrent },
        { "spawn a type found by name", test_spawn_by_name },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo sys[] = {
        { "rvr_self_exe", test_self_exe },
        { "rvr_arch", test_arch },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("vr types", reg);
    cutest_suite("sysinfo for deploy", sys);
}

int main(int argc, char **argv)
{
    return vmtest_main(argc, argv, suites);
}
