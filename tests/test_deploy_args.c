/* test_deploy_args.c — a VR's typed arguments as a dynamic map (how a
 * deploy carries them), rvr_deploy_by_name on the local VM, and the
 * in-process half of allocation (the control operations called on this
 * VM: one owner at a time, release by the owner only, release when the
 * owner VR ends). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "deploy_args.h"
#include "args.h"
#include "vm.h"
#include "vmtest.h"

typedef struct {
    bool b; int32_t i32; int64_t i64; uint32_t u32; uint64_t u64; float f; double d; char *s;
} all_args;
static const all_args all_defaults = { true, -5, -6, 7, 8, 1.5f, 2.5, "dflt" };
static const rvr_arg_desc all_descs[] = {
    { "b", RVR_ARG_BOOL, offsetof(all_args, b), "true", NULL },
    { "i32", RVR_ARG_INT32, offsetof(all_args, i32), "-5", NULL },
    { "i64", RVR_ARG_INT64, offsetof(all_args, i64), "-6", NULL },
    { "u32", RVR_ARG_UINT32, offsetof(all_args, u32), "7", NULL },
    { "u64", RVR_ARG_UINT64, offsetof(all_args, u64), "8", NULL },
    { "f", RVR_ARG_FLOAT, offsetof(all_args, f), "1.5", NULL },
    { "d", RVR_ARG_DOUBLE, offsetof(all_args, d), "2.5", NULL },
    { "s", RVR_ARG_STRING, offsetof(all_args, s), "dflt", NULL },
};

static int report_main(rvr_vr *self, const void *argp)
{
    const all_args *a = argp;
    rvr_packet *p = rvr_packet_new("args");
    rvr_packet_set_i64(p, "i32", a->i32);
    rvr_packet_set_u64(p, "u64", a->u64);
    rvr_packet_set_str(p, "s", a->s ? a->s : "");
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK)
        rvr_packet_free(p);
    return 0;
}
static RVR_VR_TYPE(all_type, "test.AllArgs", report_main, all_args, all_defaults, all_descs);

static void test_roundtrip(void)
{
    all_args in = { false, -2147483647 - 1, INT64_MIN, UINT32_MAX, UINT64_MAX, 0.25f, -1e300, "héllo" };
    rvr_map *m = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_args_to_map(&all_type, &in, &m), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_len(m), 8);
    all_args *out = NULL;
    char err[200] = "";
    CU_ASSERT_EQUAL_FATAL(rvr_args_from_map(&all_type, m, (void **)&out, err, sizeof err), RVR_OK);
    CU_ASSERT(out->b == false && out->i32 == in.i32 && out->i64 == in.i64 && out->u32 == in.u32 &&
              out->u64 == in.u64 && out->f == in.f && out->d == in.d);
    CU_ASSERT_STRING_EQUAL(out->s, "héllo");
    CU_ASSERT_PTR_NOT_EQUAL(out->s, in.s);   /* a private copy */
    rvr_args_free(&all_type, out);
    rvr_map_free(m);
    /* Defaults: NULL args, and an empty map. */
    CU_ASSERT_EQUAL_FATAL(rvr_args_to_map(&all_type, NULL, &m), RVR_OK);
    CU_ASSERT_EQUAL(rvr_map_get(m, "u32")->as.u, 7);
    rvr_map_free(m);
    CU_ASSERT_EQUAL_FATAL(rvr_args_from_map(&all_type, NULL, (void **)&out, err, sizeof err), RVR_OK);
    CU_ASSERT(out->i32 == -5 && out->u64 == 8 && strcmp(out->s, "dflt") == 0);
    rvr_args_free(&all_type, out);
}

static rvr_status from1(const char *name, rvr_value v, char *err, size_t elen)
{
    rvr_map *m = rvr_map_new();
    rvr_map_set(m, name, &v);
    void *out = NULL;
    rvr_status st = rvr_args_from_map(&all_type, m, &out, err, elen);
    rvr_args_free(&all_type, out);
    rvr_map_free(m);
    return st;
}

static void test_refusals(void)
{
    char err[200];
    CU_ASSERT_EQUAL(from1("i32", rvr_value_i64(INT64_C(1) << 31), err, sizeof err), RVR_ERANGE);
    CU_ASSERT(strstr(err, "'i32'") != NULL && strstr(err, "out of range") != NULL);
    CU_ASSERT_EQUAL(from1("u32", rvr_value_i64(-1), err, sizeof err), RVR_ERANGE);
    CU_ASSERT_EQUAL(from1("u64", rvr_value_i64(5), err, sizeof err), RVR_OK);   /* int -> uint */
    CU_ASSERT_EQUAL(from1("i64", rvr_value_u64(UINT64_MAX), err, sizeof err), RVR_ERANGE);
    CU_ASSERT_EQUAL(from1("d", rvr_value_u64(3), err, sizeof err), RVR_OK);     /* number -> double */
    CU_ASSERT_EQUAL(from1("b", rvr_value_i64(1), err, sizeof err), RVR_ETYPE);
    CU_ASSERT(strstr(err, "wrong type") != NULL);
    rvr_value s;
    rvr_value_str(&s, "x");
    CU_ASSERT_EQUAL(from1("u32", s, err, sizeof err), RVR_ETYPE);
    CU_ASSERT_EQUAL(from1("nope", rvr_value_i64(1), err, sizeof err), RVR_ENOATTR);
    CU_ASSERT(strstr(err, "no argument 'nope'") != NULL);
}

static void test_deploy_by_name_local(void)
{
    rvr_vr *self = vmtest_self;
    CU_ASSERT_EQUAL_FATAL(rvr_vr_type_register(&all_type), RVR_OK);
    rvr_packet *a = rvr_packet_new("args");
    rvr_packet_set_i64(a, "i32", 42);
    rvr_packet_set_str(a, "s", "by name");
    rvr_uuid id;
    CU_ASSERT_EQUAL_FATAL(rvr_deploy_by_name(self, NULL, "test.AllArgs", a, &id), RVR_OK);
    rvr_match *m = rvr_match_new();
    rvr_match_src(m, &id);
    rvr_packet *r = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, m, 10000, &r), RVR_OK);
    int64_t i32 = 0;
    uint64_t u64 = 0;
    const char *s = NULL;
    rvr_packet_get_i64(r, "i32", &i32);
    rvr_packet_get_u64(r, "u64", &u64);
    rvr_packet_get_str(r, "s", &s, NULL);
    CU_ASSERT(i32 == 42 && u64 == 8 && s != NULL && strcmp(s, "by name") == 0);
    rvr_packet_free(r);
    rvr_match_free(m);
    rvr_packet_set_str(a, "i32", "no");
    CU_ASSERT_EQUAL(rvr_deploy_by_name(self, NULL, "test.AllArgs", a, NULL), RVR_ETYPE);
    CU_ASSERT_EQUAL(rvr_deploy_by_name(self, NULL, "test.Nobody", NULL, NULL), RVR_ENOTFOUND);
    rvr_packet_free(a);
}

static const char *state(void)
{
    static char buf[32];
    rvr_packet *r = NULL;
    const char *s = "?";
    if (rvr_ctl_call(vmtest_self->vm, NULL, rvr_ctl_request_new("allocation"), 0, &r) == RVR_OK)
        rvr_packet_get_str(r, "state", &s, NULL);
    snprintf(buf, sizeof buf, "%s", s);
    rvr_packet_free(r);
    return buf;
}

/* Allocates this VM from a child VR, then returns: released by its end. */
static int holder_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_uuid vm;
    rvr_status st = rvr_allocate_one(self, NULL, &vm);
    rvr_packet *p = rvr_packet_new("held");
    rvr_packet_set_i64(p, "st", st);
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK)
        rvr_packet_free(p);
    rvr_packet *q;
    if (rvr_recv(self, NULL, 10000, &q) == RVR_OK)   /* "go": return */
        rvr_packet_free(q);
    return 0;
}
static RVR_VR_TYPE_NOARGS(holder_type, "test.Holder", holder_main);

static void test_allocation_here(void)
{
    rvr_vr *self = vmtest_self;
    rvr_uuid vm, holder;
    CU_ASSERT_STRING_EQUAL(state(), "available");
    CU_ASSERT_EQUAL_FATAL(rvr_allocate_one(self, NULL, &vm), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&vm, rvr_vm_id(self)));
    CU_ASSERT_EQUAL(rvr_allocate_one(self, NULL, &vm), RVR_OK);   /* the same owner again */
    CU_ASSERT_STRING_EQUAL(state(), "allocated");
    /* Another VR of this VM is another owner. */
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &holder_type, NULL, &holder), RVR_OK);
    rvr_packet *p = NULL;
    int64_t st = 0;
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 10000, &p), RVR_OK);
    rvr_packet_get_i64(p, "st", &st);
    CU_ASSERT_EQUAL(st, RVR_EEXIST);
    rvr_packet_free(p);
    CU_ASSERT_EQUAL(rvr_release(self, &vm), RVR_OK);
    CU_ASSERT_EQUAL(rvr_release(self, &vm), RVR_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(state(), "available");
    rvr_packet *go = rvr_packet_new("go");
    CU_ASSERT_EQUAL(rvr_send(self, &holder, go), RVR_OK);

    /* Held by a VR that returns: released by its end. */
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &holder_type, NULL, &holder), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_recv(self, NULL, 10000, &p), RVR_OK);
    rvr_packet_get_i64(p, "st", &st);
    CU_ASSERT_EQUAL(st, RVR_OK);
    rvr_packet_free(p);
    CU_ASSERT_STRING_EQUAL(state(), "allocated");
    go = rvr_packet_new("go");
    CU_ASSERT_EQUAL(rvr_send(self, &holder, go), RVR_OK);
    for (int i = 0; i < 1000 && strcmp(state(), "available") != 0; i++) {
        rvr_packet *none;
        if (rvr_recv(self, NULL, 10, &none) == RVR_OK)
            rvr_packet_free(none);
    }
    CU_ASSERT_STRING_EQUAL(state(), "available");
}

static void suites(void)
{
    static const CU_TestInfo args[] = {
        { "args to map and back, all kinds", test_roundtrip },
        { "wrong types, ranges and names refused", test_refusals },
        { "rvr_deploy_by_name on this VM", test_deploy_by_name_local },
        CU_TEST_INFO_NULL,
    };
    static const CU_TestInfo alloc[] = {
        { "allocate, refuse, release, release on VR end", test_allocation_here },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("deploy arguments", args);
    cutest_suite("allocation on this VM", alloc);
}

int main(int argc, char **argv)
{
    return vmtest_main(argc, argv, suites);
}
