/* deploy_node — a River program the deploy tests run (and push to riverd).
 *
 *   --mode=serve       a VM that has the type tests.Echo; prints "ready VM ADDR"
 *   --mode=ping        control ping to --target; "ping ok" / "ping failed: ..."
 *   --mode=allocate    allocates --target (at --at_ms, epoch ms, if given), prints
 *                      "allocated VM" or "allocate refused: ...", holds it for
 *                      --hold_ms, then returns (the VM is released by the VR's end);
 *                      exit 0 allocated, 3 refused, 1 error
 *   --mode=state       prints "state available|allocated"
 *   --mode=deploy      deploys --count tests.Echo (typed args) on --target, pings
 *                      each, checks the pong came to its parent; "deployed N ok";
 *                      with --hold_ms, leaves them running ("holding") that long
 *   --mode=byname      the same with rvr_deploy_by_name and a dynamic packet; also
 *                      checks that an argument of the wrong type is refused
 * tests.Echo(k, note): answers "ping" with "pong" {k, note, pid, vm} to its parent. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <river/river.h>

#include "control.h"
#include "vm.h"

typedef struct { uint32_t k; char *note; } echo_args;
static const echo_args echo_defaults = { 0, NULL };
static const rvr_arg_desc echo_descs[] = {
    { "k", RVR_ARG_UINT32, offsetof(echo_args, k), "0", NULL },
    { "note", RVR_ARG_STRING, offsetof(echo_args, note), NULL, NULL },
};

static int echo_main(rvr_vr *self, const void *argp)
{
    const echo_args *a = argp;
    rvr_packet *p;
    while (rvr_recv(self, NULL, RVR_FOREVER, &p) == RVR_OK) {
        bool stop = strcmp(rvr_packet_tag(p), "stop") == 0;
        rvr_packet_free(p);
        if (stop)
            return 0;
        rvr_packet *r = rvr_packet_new("pong");
        if (r == NULL || rvr_packet_set_u64(r, "k", a->k) != RVR_OK ||
            rvr_packet_set_str(r, "note", a->note ? a->note : "") != RVR_OK ||
            rvr_packet_set_u64(r, "pid", (uint64_t)getpid()) != RVR_OK ||
            rvr_packet_set_uuid(r, "vm", rvr_vm_id(self)) != RVR_OK ||
            rvr_send(self, rvr_parent(self), r) != RVR_OK)
            rvr_packet_free(r);
    }
    return 0;
}
static RVR_VR_TYPE(echo_type, "tests.Echo", echo_main, echo_args, echo_defaults, echo_descs);

typedef struct {
    char *mode, *target;
    uint32_t count;
    uint64_t at_ms, hold_ms;
} node_args;
static const node_args defaults = { NULL, NULL, 1, 0, 0 };
static const rvr_arg_desc descs[] = {
    { "mode", RVR_ARG_STRING, offsetof(node_args, mode), NULL, NULL },
    { "target", RVR_ARG_STRING, offsetof(node_args, target), NULL, NULL },
    { "count", RVR_ARG_UINT32, offsetof(node_args, count), "1", NULL },
    { "at_ms", RVR_ARG_UINT64, offsetof(node_args, at_ms), "0", NULL },
    { "hold_ms", RVR_ARG_UINT64, offsetof(node_args, hold_ms), "0", NULL },
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int pings(rvr_vr *self, const rvr_uuid *ids, size_t n, const char *note, bool stop)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        rvr_packet *p = rvr_packet_new("ping");
        if (rvr_send(self, &ids[i], p) != RVR_OK) {
            rvr_packet_free(p);
            printf("send to VR %zu failed\n", i);
            return 1;
        }
    }
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "pong");
    for (size_t i = 0; i < n; i++) {
        rvr_packet *r;
        if (rvr_recv(self, m, 60000, &r) != RVR_OK) {
            printf("no pong\n");
            bad = 1;
            break;
        }
        uint64_t k = 0, pid = 0;
        const char *note_got = "";
        rvr_uuid vm;
        char vms[RVR_UUID_STRLEN];
        rvr_packet_get_u64(r, "k", &k);
        rvr_packet_get_u64(r, "pid", &pid);
        rvr_packet_get_str(r, "note", &note_got, NULL);
        rvr_packet_get_uuid(r, "vm", &vm);
        printf("pong k=%" PRIu64 " note=%s pid=%" PRIu64 " vm=%s%s\n", k, note_got, pid,
               rvr_uuid_str(&vm, vms), pid == (uint64_t)getpid() ? " (this process)" : "");
        if (strcmp(note_got, note) != 0)
            bad = 1;
        rvr_packet_free(r);
    }
    rvr_match_free(m);
    for (size_t i = 0; stop && i < n; i++) {
        rvr_packet *p = rvr_packet_new("stop");
        if (rvr_send(self, &ids[i], p) != RVR_OK)
            rvr_packet_free(p);
    }
    return bad;
}

static int node_main(rvr_vr *self, const void *argp)
{
    const node_args *a = argp;
    const char *mode = a->mode ? a->mode : "serve";
    char id[RVR_UUID_STRLEN], addr[RVR_ADDR_MAX];
    if (strcmp(mode, "serve") == 0) {
        rvr_vm_address(self, addr, sizeof addr);
        printf("ready %s %s\n", rvr_uuid_str(rvr_vm_id(self), id), addr);
        fflush(stdout);
        rvr_packet *p;
        while (rvr_recv(self, NULL, RVR_FOREVER, &p) == RVR_OK)
            rvr_packet_free(p);
        return 0;
    }
    if (a->target == NULL) {
        fprintf(stderr, "deploy_node: --target needed\n");
        return 2;
    }
    rvr_packet *r = NULL;
    rvr_status st;
    if (strcmp(mode, "ping") == 0) {
        st = rvr_ctl_call(self->vm, a->target, rvr_ctl_request_new("ping"), 30000, &r);
        printf(st == RVR_OK ? "ping ok\n" : "ping failed: %s\n", rvr_strerror(st));
        rvr_packet_free(r);
        return st == RVR_OK ? 0 : 1;
    }
    if (strcmp(mode, "state") == 0) {
        const char *s = "?";
        st = rvr_ctl_call(self->vm, a->target, rvr_ctl_request_new("allocation"), 30000, &r);
        if (st == RVR_OK)
            rvr_packet_get_str(r, "state", &s, NULL);
        printf("state %s\n", s);
        rvr_packet_free(r);
        return st == RVR_OK ? 0 : 1;
    }
    if (strcmp(mode, "allocate") == 0) {
        /* Connect first, so both racers send their requests at the same moment. */
        rvr_uuid vm;
        if (rvr_vm_connect(self, a->target, 30000, &vm) != RVR_OK) {
            printf("cannot reach %s\n", a->target);
            return 1;
        }
        while (a->at_ms != 0 && now_ms() < a->at_ms)
            usleep(1000);
        st = rvr_allocate_one(self, a->target, &vm);
        if (st == RVR_EEXIST) {
            printf("allocate refused: %s\n", rvr_strerror(st));
            fflush(stdout);
            return 3;
        }
        if (st != RVR_OK) {
            printf("allocate failed: %s\n", rvr_strerror(st));
            return 1;
        }
        printf("allocated %s\n", rvr_uuid_str(&vm, id));
        fflush(stdout);
        if (a->hold_ms > 0) {
            rvr_packet *p;
            if (rvr_recv(self, NULL, (int)a->hold_ms, &p) == RVR_OK)
                rvr_packet_free(p);
        }
        return 0;
    }
    rvr_uuid vm;
    if ((st = rvr_vm_connect(self, a->target, 30000, &vm)) != RVR_OK) {
        printf("cannot reach %s: %s\n", a->target, rvr_strerror(st));
        return 1;
    }
    size_t n = a->count ? a->count : 1;
    rvr_uuid *ids = calloc(n, sizeof *ids);
    if (ids == NULL)
        return 1;
    int rc = 0;
    if (strcmp(mode, "deploy") == 0) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            echo_args ea = { (uint32_t)i, "typed" };
            if ((st = rvr_spawn(self, &vm, &echo_type, &ea, &ids[i])) != RVR_OK) {
                printf("deploy failed: %s\n", rvr_strerror(st));
                rc = 1;
            }
        }
        if (rc == 0 && (rc = pings(self, ids, n, "typed", a->hold_ms == 0)) == 0)
            printf("deployed %zu ok\n", n);
        if (rc == 0 && a->hold_ms > 0) {   /* leave them running: the test kills this VM */
            printf("holding\n");
            fflush(stdout);
            rvr_packet *p;
            if (rvr_recv(self, NULL, (int)a->hold_ms, &p) == RVR_OK)
                rvr_packet_free(p);
        }
    } else if (strcmp(mode, "byname") == 0) {
        rvr_packet *args = rvr_packet_new("args");
        rvr_packet_set_u64(args, "k", 7);
        rvr_packet_set_str(args, "note", "dynamic");
        for (size_t i = 0; i < n && rc == 0; i++)
            if ((st = rvr_deploy_by_name(self, &vm, "tests.Echo", args, &ids[i])) != RVR_OK) {
                printf("deploy failed: %s\n", rvr_strerror(st));
                rc = 1;
            }
        if (rc == 0 && (rc = pings(self, ids, n, "dynamic", true)) == 0)
            printf("deployed %zu ok\n", n);
        rvr_packet_set_str(args, "k", "seven");
        st = rvr_deploy_by_name(self, &vm, "tests.Echo", args, NULL);
        printf("wrong argument type: %s\n", rvr_strerror(st));
        if (st == RVR_OK)
            rc = 1;
        rvr_packet_free(args);
    }
    free(ids);
    fflush(stdout);
    return rc;
}
static RVR_VR_TYPE(node_type, "tests.DeployNode", node_main, node_args, defaults, descs);

int main(int argc, char **argv)
{
    (void)rvr_vr_type_register(&echo_type);
    return rvr_main(argc, argv, &node_type);
}
