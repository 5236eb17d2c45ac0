/* bench_deploy — deployment costs (run by bench_deploy.sh under `make bench`):
 *
 *   --mode=serve   a VM that has the type bench.Idle; prints "ready VM ADDR"
 *   --mode=run --targets=A,B,C --riverd=D
 *                  deploys --count (1000) bench.Idle VRs round-robin across the
 *                  VMs A, B, C (the type present there: threads), and times it;
 *                  then deploys one onto the bare riverd D (code push: the
 *                  program is sent, verified, cached and started as a child
 *                  VM) and a second one (the child VM reused), timing both.
 * Needs RIVER_SECRET_FILE (code push is authenticated). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <river/river.h>

static int idle_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p;
    if (rvr_recv(self, NULL, RVR_FOREVER, &p) == RVR_OK)   /* any message: stop */
        rvr_packet_free(p);
    return 0;
}
static RVR_VR_TYPE_NOARGS(idle_type, "bench.Idle", idle_main);

typedef struct { char *mode, *targets, *riverd; uint32_t count; } bargs;
static const bargs bdefaults = { NULL, NULL, NULL, 1000 };
static const rvr_arg_desc bdescs[] = {
    { "mode", RVR_ARG_STRING, offsetof(bargs, mode), NULL, "serve or run" },
    { "targets", RVR_ARG_STRING, offsetof(bargs, targets), NULL, "host:port,... (run)" },
    { "riverd", RVR_ARG_STRING, offsetof(bargs, riverd), NULL, "a bare riverd (run)" },
    { "count", RVR_ARG_UINT32, offsetof(bargs, count), "1000", "VRs to deploy" },
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stop_all(rvr_vr *self, const rvr_uuid *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rvr_packet *p = rvr_packet_new("stop");
        if (rvr_send(self, &ids[i], p) != RVR_OK)
            rvr_packet_free(p);
    }
}

static int bench_main(rvr_vr *self, const void *argp)
{
    const bargs *a = argp;
    char id[RVR_UUID_STRLEN], addr[RVR_ADDR_MAX];
    if (a->mode != NULL && strcmp(a->mode, "serve") == 0) {
        rvr_vm_address(self, addr, sizeof addr);
        printf("ready %s %s\n", rvr_uuid_str(rvr_vm_id(self), id), addr);
        fflush(stdout);
        rvr_packet *p;
        while (rvr_recv(self, NULL, RVR_FOREVER, &p) == RVR_OK)
            rvr_packet_free(p);
        return 0;
    }
    if (a->targets == NULL || a->riverd == NULL) {
        fprintf(stderr, "bench_deploy: --targets and --riverd needed\n");
        return 2;
    }
    rvr_uuid vms[16];
    size_t nvm = 0;
    char *list = strdup(a->targets), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t != NULL && nvm < 16; t = strtok_r(NULL, ",", &save))
        if (rvr_vm_connect(self, t, 30000, &vms[nvm]) == RVR_OK)
            nvm++;
    free(list);
    if (nvm == 0)
        return 1;
    rvr_uuid *ids = calloc(a->count, sizeof *ids);
    double t0 = now_s();
    size_t done = 0;
    for (; done < a->count; done++)
        if (rvr_spawn(self, &vms[done % nvm], &idle_type, NULL, &ids[done]) != RVR_OK)
            break;
    double t1 = now_s();
    printf("deploy, types present: %zu VRs across %zu VMs in %.3f s (%.1f us per deploy, "
           "%.0f deploys/s)\n", done, nvm, t1 - t0, (t1 - t0) * 1e6 / (double)(done ? done : 1),
           (double)done / (t1 - t0));
    stop_all(self, ids, done);
    free(ids);

    rvr_uuid rd, first, second;
    if (rvr_vm_connect(self, a->riverd, 30000, &rd) != RVR_OK)
        return 1;
    t0 = now_s();
    rvr_status st = rvr_spawn(self, &rd, &idle_type, NULL, &first);
    t1 = now_s();
    rvr_status st2 = rvr_spawn(self, &rd, &idle_type, NULL, &second);
    double t2 = now_s();
    printf("deploy with code push: first %.1f ms (%s; program sent, verified, cached, child VM "
           "started), next %.3f ms (%s; child VM reused)\n", (t1 - t0) * 1e3, rvr_strerror(st),
           (t2 - t1) * 1e3, rvr_strerror(st2));
    if (st == RVR_OK)
        stop_all(self, &first, 1);
    if (st2 == RVR_OK)
        stop_all(self, &second, 1);
    return st == RVR_OK && st2 == RVR_OK && done == a->count ? 0 : 1;
}
static RVR_VR_TYPE(bench_type, "bench.Deploy", bench_main, bargs, bdefaults, bdescs);

int main(int argc, char **argv)
{
    (void)rvr_vr_type_register(&idle_type);
    return rvr_main(argc, argv, &bench_type);
}
