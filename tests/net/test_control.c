/* test_control — the control plane (runtime/control.h) between VM
 * processes: ping, ps (VRs with their type names), kill (the VR's receive
 * returns RVR_ECLOSED and it ends), unknown ops, and operations registered
 * by the program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmtest.h"
#include "control.h"
#include "nettest.h"
#include "vm.h"

#define SELF vmtest_self

static node A, B;
static bool started;

static void test_start(void)
{
    CU_ASSERT_FATAL(node_start(SELF, &A, "A", NULL, NULL));
    CU_ASSERT_FATAL(node_start(SELF, &B, "B", NULL, NULL));
    started = true;
}

static void test_ping(void)
{
    CU_ASSERT_FATAL(started);
    char id[RVR_UUID_STRLEN];
    rvr_packet *r = NULL;
    /* By address, then by VM UUID over the same connection. */
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, A.addr, rvr_ctl_request_new("ping"), 10000, &r), RVR_OK);
    rvr_uuid vm;
    CU_ASSERT(r != NULL && rvr_packet_get_uuid(r, "vm", &vm) == RVR_OK && rvr_uuid_eq(&vm, &A.vm));
    rvr_packet_free(r);
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, rvr_uuid_str(&B.vm, id), rvr_ctl_request_new("ping"),
                                 10000, &r), RVR_OK);
    CU_ASSERT(r != NULL && rvr_packet_get_uuid(r, "vm", &vm) == RVR_OK && rvr_uuid_eq(&vm, &B.vm));
    rvr_packet_free(r);
    /* Nobody there. */
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, "127.0.0.1:1", rvr_ctl_request_new("ping"), 5000, &r),
                    RVR_ENOTFOUND);
    CU_ASSERT_PTR_NULL(r);
}

static void test_ps(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *r = NULL;
    CU_ASSERT_EQUAL_FATAL(rvr_ctl_call(SELF->vm, A.addr, rvr_ctl_request_new("ps"), 10000, &r),
                          RVR_OK);
    const rvr_list *vrs = NULL;
    CU_ASSERT_FATAL(rvr_packet_get_list(r, "vrs", &vrs) == RVR_OK);
    bool found = false;
    for (size_t i = 0; i < rvr_list_len(vrs); i++) {
        const rvr_value *e = rvr_list_get(vrs, i);
        const rvr_value *id = rvr_map_get(e->as.map, "id"), *type = rvr_map_get(e->as.map, "type");
        if (id != NULL && rvr_uuid_eq(&id->as.uuid, &A.vr)) {
            found = true;
            CU_ASSERT(type != NULL && strcmp(type->as.str.ptr, "tests.NetNode") == 0);
            CU_ASSERT(rvr_map_get(e->as.map, "pending") != NULL);
        }
    }
    CU_ASSERT(found);
    rvr_packet_free(r);
    /* This VM itself: a direct call, no message. */
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, NULL, rvr_ctl_request_new("ps"), 0, &r), RVR_OK);
    CU_ASSERT(r != NULL && rvr_packet_get_list(r, "vrs", &vrs) == RVR_OK && rvr_list_len(vrs) == 1);
    rvr_packet_free(r);
}

static rvr_status op_add(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req, rvr_packet *reply,
                         void *ctx)
{
    int64_t a = 0, b = 0;
    if (rvr_packet_get_i64(req, "a", &a) != RVR_OK || rvr_packet_get_i64(req, "b", &b) != RVR_OK)
        return RVR_EINVAL;
    return rvr_packet_set_i64(reply, "sum", a + b + *(int *)ctx);
}

static rvr_status op_other(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                           rvr_packet *reply, void *ctx)
{
    return RVR_OK;
}

static void test_ops(void)
{
    CU_ASSERT_FATAL(started);
    static int bias = 100;
    CU_ASSERT_EQUAL(rvr_ctl_register("test.add", op_add, &bias), RVR_OK);
    CU_ASSERT_EQUAL(rvr_ctl_register("test.add", op_add, &bias), RVR_OK);   /* the same again */
    CU_ASSERT_EQUAL(rvr_ctl_register("test.add", op_other, NULL), RVR_EEXIST);
    CU_ASSERT_EQUAL(rvr_ctl_register("", op_other, NULL), RVR_EINVAL);
    rvr_packet *req = rvr_ctl_request_new("test.add"), *r = NULL;
    rvr_packet_set_i64(req, "a", 2);
    rvr_packet_set_i64(req, "b", 3);
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, NULL, req, 0, &r), RVR_OK);
    int64_t sum = 0;
    CU_ASSERT(r != NULL && rvr_packet_get_i64(r, "sum", &sum) == RVR_OK && sum == 105);
    rvr_packet_free(r);
    /* A handler's failure comes back as the status, with an error text. */
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, NULL, rvr_ctl_request_new("test.add"), 0, &r), RVR_EINVAL);
    CU_ASSERT(r != NULL && rvr_packet_has(r, "error"));
    rvr_packet_free(r);
    /* The nodes do not know it. */
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, A.addr, rvr_ctl_request_new("test.add"), 10000, &r),
                    RVR_ENOTFOUND);
    const char *err = NULL;
    CU_ASSERT(r != NULL && rvr_packet_get_str(r, "error", &err, NULL) == RVR_OK &&
              strstr(err, "unknown operation") != NULL);
    rvr_packet_free(r);
}

static void test_kill(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *req = rvr_ctl_request_new("kill"), *r = NULL;
    rvr_uuid nobody = rvr_uuid_generate();
    rvr_packet_set_uuid(req, "vr", &nobody);
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, B.addr, req, 10000, &r), RVR_ENOTFOUND);
    rvr_packet_free(r);
    /* B's initial VR waits in rvr_recv: closed, it returns, and B exits 0. */
    req = rvr_ctl_request_new("kill");
    rvr_packet_set_uuid(req, "vr", &B.vr);
    CU_ASSERT_EQUAL(rvr_ctl_call(SELF->vm, B.addr, req, 10000, &r), RVR_OK);
    rvr_packet_free(r);
    CU_ASSERT(node_wait(&B, 30000));
    CU_ASSERT(node_ping(SELF, &A));
}

static void test_stop(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT(node_stop(SELF, &A));
}

static const CU_TestInfo tests[] = {
    { "two VMs start", test_start },
    { "ping by address and by VM UUID; unreachable", test_ping },
    { "ps: VRs with their type names", test_ps },
    { "registered operations, errors, unknown ops", test_ops },
    { "kill: the VR's receive returns and it ends", test_kill },
    { "stop", test_stop },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("control", tests);
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    return vmtest_main(argc, argv, suites);
}
