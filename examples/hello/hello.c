/* hello — the smallest complete River program.
 *
 * The initial VR (Master) spawns N Worker VRs on the local VM and sends each
 * a dynamic packet "work" with a number.  Every worker first greets its
 * parent ("hello"), then answers the work with a "result".  The master
 * collects the results selectively, by tag and by source, in the reverse
 * order of spawning (whatever order they arrive in), then the greetings.
 *
 *   ./hello --workers=8
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <river/river.h>

/* ---- Worker ---------------------------------------------------------------- */

static int worker_main(rvr_vr *self, const void *args)
{
    (void)args;
    /* Greet the parent. */
    rvr_packet *hello = rvr_packet_new("hello");
    if (hello == NULL)
        return 1;
    char me[RVR_UUID_STRLEN];
    rvr_packet_set_str(hello, "from", rvr_uuid_str(rvr_self(self), me));
    if (rvr_send(self, rvr_parent(self), hello) != RVR_OK)
        rvr_packet_free(hello);

    /* Wait for work from the parent only. */
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "work");
    rvr_match_src(m, rvr_parent(self));
    rvr_packet *work;
    rvr_status st = rvr_recv(self, m, RVR_FOREVER, &work);
    rvr_match_free(m);
    if (st != RVR_OK)
        return st == RVR_ECLOSED ? 0 : 1;

    int64_t n = 0, index = 0;
    rvr_packet_get_i64(work, "n", &n);
    rvr_packet_get_i64(work, "index", &index);
    rvr_packet_free(work);

    uint64_t sum = 0;
    for (int64_t i = 1; i <= n; i++)
        sum += (uint64_t)(i * i);

    rvr_packet *res = rvr_packet_new("result");
    if (res == NULL)
        return 1;
    rvr_packet_set_i64(res, "index", index);
    rvr_packet_set_u64(res, "sum_of_squares", sum);
    if (rvr_send(self, rvr_parent(self), res) != RVR_OK) {
        rvr_packet_free(res);
        return 1;
    }
    return 0;
}

static RVR_VR_TYPE_NOARGS(worker_type, "hello.Worker", worker_main);

/* ---- Master (the initial VR) ---------------------------------------------- */

typedef struct master_args {
    uint32_t workers;
} master_args;

static const master_args master_defaults = { 4 };
static const rvr_arg_desc master_descs[] = {
    { "workers", RVR_ARG_UINT32, offsetof(master_args, workers), "4", "number of workers to spawn" },
};

static int master_main(rvr_vr *self, const void *argp)
{
    const master_args *args = argp;
    uint32_t n = args->workers;
    if (n == 0 || n > 10000) {
        fprintf(stderr, "hello: --workers must be between 1 and 10000\n");
        return 2;
    }
    rvr_uuid *ids = calloc(n, sizeof *ids);
    if (ids == NULL)
        return 1;

    for (uint32_t i = 0; i < n; i++) {
        rvr_status st = rvr_spawn(self, NULL, &worker_type, NULL, &ids[i]);
        if (st != RVR_OK) {
            fprintf(stderr, "hello: spawn failed: %s\n", rvr_strerror(st));
            free(ids);
            return 1;
        }
        rvr_packet *work = rvr_packet_new("work");
        rvr_packet_set_i64(work, "index", i);
        rvr_packet_set_i64(work, "n", 1000 * (int64_t)(i + 1));
        if ((st = rvr_send(self, &ids[i], work)) != RVR_OK) {
            fprintf(stderr, "hello: send failed: %s\n", rvr_strerror(st));
            rvr_packet_free(work);
        }
    }
    printf("master %s spawned %" PRIu32 " workers\n", rvr_uuid_str(rvr_self(self), (char[RVR_UUID_STRLEN]){0}), n);

    /* Results, newest worker first: a selective receive by tag and source
     * leaves everything else queued. */
    int rc = 0;
    for (uint32_t k = n; k-- > 0;) {
        rvr_match *m = rvr_match_new();
        rvr_match_tag(m, "result");
        rvr_match_src(m, &ids[k]);
        rvr_packet *res;
        rvr_status st = rvr_recv(self, m, 10000, &res);
        rvr_match_free(m);
        if (st != RVR_OK) {
            fprintf(stderr, "hello: no result from worker %" PRIu32 ": %s\n", k, rvr_strerror(st));
            rc = 1;
            continue;
        }
        int64_t index = -1;
        uint64_t sum = 0;
        rvr_packet_get_i64(res, "index", &index);
        rvr_packet_get_u64(res, "sum_of_squares", &sum);
        printf("worker %" PRId64 ": sum of squares 1..%" PRId64 " = %" PRIu64 "\n", index,
               1000 * (index + 1), sum);
        rvr_packet_free(res);
    }

    /* The greetings were queued all along; take them now, by tag. */
    rvr_match *hm = rvr_match_new();
    rvr_match_tag(hm, "hello");
    unsigned greetings = 0;
    rvr_packet *g;
    while (rvr_recv(self, hm, 0, &g) == RVR_OK) {
        greetings++;
        rvr_packet_free(g);
    }
    rvr_match_free(hm);
    printf("%u greetings received; %zu messages left queued\n", greetings, rvr_pending(self));
    free(ids);
    return rc;
}

static RVR_VR_TYPE(master_type, "hello.Master", master_main, master_args, master_defaults, master_descs);

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &master_type);
}
