/* pi — estimate π by counting points of the unit square that fall inside
 * the quarter circle, with the work spread over Worker VRs.
 *
 * The Master (the initial VR) deploys --workers Workers, cuts the
 * --samples points into chunks and hands them out: one chunk to every
 * worker at first, then the next chunk to whichever worker reports back,
 * so faster workers (or hosts) do more.  Each Result carries the declared
 * counts plus two open-ended attributes, the worker's UUID and its host
 * name; the master uses them to send the next chunk and to print every
 * worker's and every host's share.
 *
 * Point i of the run is a pure function of i (and the seed), never of who
 * computes it, so the estimate is the same for any number of workers:
 *   FAST  (default)  a counter-based pseudo-random point (splitmix64);
 *   EXACT (--exact)  the i-th point of the Halton sequence in bases 2 and
 *                    3, which fills the square evenly and converges much
 *                    faster than random points.
 *
 * Deployment: --workers Workers run on this VM, as threads of this process
 * (River's embedded default, so the example runs anywhere).  The master
 * also looks for other VMs for --discover_ms (multicast on the LAN, --peer
 * and RIVER_PEERS seeds; 0: don't), allocates those that are available
 * and deploys --per_vm Workers on each: the Worker type is this program's
 * own, so a VM running pi hosts them as threads, and a bare riverd
 * receives this program (with a cluster secret: RIVER_SECRET_FILE) and
 * runs it as a child VM.  The report gives every worker's, every VM's and
 * every host's share (the host comes from the open-ended Result).
 *
 *   ./pi --workers=8 --samples=100000000 [--exact] [--per_vm=2] [--discover_ms=1000]
 *   RIVER_SECRET_FILE=key ./pi --peer=host:port ...     (seed peers: see docs/discovery.md)
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <river/river.h>

#include "pi.rvr.h"

#define MAX_WORKERS 10000
#define CHUNKS_PER_WORKER 16           /* enough chunks to balance uneven workers */
#define RESULT_WAIT_MS (10 * 60 * 1000) /* give up on a silent worker after 10 minutes */

/* ---- the points -------------------------------------------------------------- */

/* splitmix64's output function: a good 64-bit mix of a counter. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A double in [0, 1) from the top 53 bits. */
static double unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1p-53;
}

/* The radical inverse of i in `base`: i's digits mirrored after the point. */
static double radical_inverse(uint64_t i, unsigned base)
{
    double inv = 1.0 / base, f = inv, r = 0.0;
    while (i > 0) {
        r += (double)(i % base) * f;
        i /= base;
        f *= inv;
    }
    return r;
}

/* Points first .. first+n-1 inside the quarter circle; stops early (and
 * says so through *done) when the VM is stopping. */
static uint64_t count_inside(rvr_vr *self, const pi_Work *w, uint64_t *done)
{
    uint64_t inside = 0, i;
    const uint64_t stream = mix64(w->seed) | 1u;   /* odd: every counter value distinct */
    for (i = 0; i < w->samples; i++) {
        uint64_t k = w->first + i;
        double x, y;
        if (w->mode == pi_Mode_EXACT) {
            x = radical_inverse(k + 1, 2);   /* +1: skip the origin, Halton's point 0 */
            y = radical_inverse(k + 1, 3);
        } else {
            x = unit(mix64(stream * (2 * k + 1)));
            y = unit(mix64(stream * (2 * k + 2)));
        }
        inside += x * x + y * y < 1.0;
        /* A long chunk still notices the VM stopping (Ctrl-C of the master). */
        if ((i & 0xfffff) == 0xfffff && rvr_stopping(self))
            break;
    }
    *done = i;
    return inside;
}

/* ---- Worker ------------------------------------------------------------------ */

/* Sets a string attribute of an open-ended message's extra map. */
static rvr_status extra_set_str(rvr_map **extra, const char *key, const char *s)
{
    if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
        return RVR_ENOMEM;
    rvr_value v;
    rvr_status st = rvr_value_str(&v, s);
    if (st == RVR_OK && (st = rvr_map_set(*extra, key, &v)) != RVR_OK)
        rvr_value_clear(&v);
    return st;
}

static rvr_status extra_set_uuid(rvr_map **extra, const char *key, const rvr_uuid *u)
{
    if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
        return RVR_ENOMEM;
    rvr_value v = rvr_value_uuid(u);
    return rvr_map_set(*extra, key, &v);
}

int pi_Worker_main(rvr_vr *self, const pi_Worker_args *args)
{
    (void)args;
    char host[256] = "unknown";
    if (gethostname(host, sizeof host - 1) != 0)
        strcpy(host, "unknown");
    host[sizeof host - 1] = '\0';

    pi_Work w;
    rvr_status st;
    while ((st = pi_Work_recv(self, &w, NULL, RVR_FOREVER)) == RVR_OK) {
        if (w.samples == 0) {            /* the master has no more work */
            pi_Work_clear(&w);
            return 0;
        }
        pi_Result r;
        pi_Result_init(&r);
        r.inside = count_inside(self, &w, &r.samples);
        pi_Work_clear(&w);
        /* Open-ended: attributes the .rvr does not declare travel in `extra`. */
        if ((st = extra_set_uuid(&r.extra, "worker", rvr_self(self))) != RVR_OK ||
            (st = extra_set_str(&r.extra, "host", host)) != RVR_OK ||
            (st = pi_Result_send(self, rvr_parent(self), &r)) != RVR_OK) {
            pi_Result_clear(&r);
            return st == RVR_ECLOSED ? 0 : 1;
        }
    }
    return st == RVR_ECLOSED ? 0 : 1;    /* the VM stopping is a normal end */
}

/* ---- Master ------------------------------------------------------------------ */

typedef struct worker_info {
    rvr_uuid id;
    uint64_t samples;
    uint64_t chunks;
    int host;                            /* index into hosts[], -1 until it reports */
    size_t vm;                           /* index into vms[]: where it was deployed */
} worker_info;

typedef struct vm_share {
    rvr_uuid id;                         /* nil: this VM */
    char *addr;
    uint64_t samples;
    uint32_t workers;
} vm_share;

typedef struct host_info {
    char *name;
    uint64_t samples;
    uint32_t workers;
} host_info;

typedef struct master {
    rvr_vr *self;
    const pi_Master_args *args;
    worker_info *w;
    host_info *hosts;
    size_t nhosts;
    vm_share *vms;
    size_t nvms;
    size_t nworkers;                     /* deployed */
    uint64_t nchunks, next_chunk, chunk_base, chunk_extra;
} master;

/* Chunk c covers points [first, first+count): the remainder of the division
 * goes one point each to the first chunks. */
static void chunk_bounds(const master *m, uint64_t c, uint64_t *first, uint64_t *count)
{
    uint64_t extra_before = c < m->chunk_extra ? c : m->chunk_extra;
    *first = c * m->chunk_base + extra_before;
    *count = m->chunk_base + (c < m->chunk_extra ? 1 : 0);
}

/* Sends worker k its next chunk, or the stop message when none is left.
 * Returns true when a chunk (not a stop) went out. */
static bool hand_out(master *m, size_t k, rvr_status *err)
{
    pi_Work work;
    pi_Work_init(&work);
    work.mode = m->args->exact ? pi_Mode_EXACT : pi_Mode_FAST;
    bool chunk = m->next_chunk < m->nchunks;
    if (chunk) {
        chunk_bounds(m, m->next_chunk++, &work.first, &work.samples);
        m->w[k].chunks++;
    }   /* else samples stays 0: "return" */
    rvr_status st = pi_Work_send(m->self, &m->w[k].id, &work);
    if (st != RVR_OK) {
        pi_Work_clear(&work);
        *err = st;
        return false;
    }
    return chunk;
}

static int host_index(master *m, const char *name)
{
    for (size_t i = 0; i < m->nhosts; i++)
        if (strcmp(m->hosts[i].name, name) == 0)
            return (int)i;
    host_info *h = realloc(m->hosts, (m->nhosts + 1) * sizeof *h);
    if (h == NULL)
        return -1;
    m->hosts = h;
    h[m->nhosts] = (host_info){ strdup(name), 0, 0 };
    if (h[m->nhosts].name == NULL)
        return -1;
    return (int)m->nhosts++;
}

/* Which worker sent r (its "worker" attribute); -1 if none of ours. */
static long sender_of(const master *m, const pi_Result *r)
{
    const rvr_value *v = r->extra != NULL ? rvr_map_get(r->extra, "worker") : NULL;
    if (v == NULL || v->type != RVR_T_UUID)
        return -1;
    for (size_t k = 0; k < m->nworkers; k++)
        if (rvr_uuid_eq(&m->w[k].id, &v->as.uuid))
            return (long)k;
    return -1;
}

static void report(const master *m, uint64_t inside, uint64_t total)
{
    double pi = total ? 4.0 * (double)inside / (double)total : 0.0;
    printf("pi = %.10f  error = %.3e  (%" PRIu64 " samples, %s, %" PRIu32 " workers, %" PRIu64
           " chunks)\n",
           pi, fabs(pi - M_PI), total, m->args->exact ? "Halton points" : "random points",
           (uint32_t)m->nworkers, m->nchunks);
    if (m->nworkers <= 64) {
        for (size_t k = 0; k < m->nworkers; k++) {
            char id[RVR_UUID_STRLEN];
            const worker_info *w = &m->w[k];
            printf("  worker %-3zu %s on %-20s %12" PRIu64 " samples %5.1f%% (%" PRIu64
                   " chunks)\n",
                   k, rvr_uuid_str(&w->id, id), w->host >= 0 ? m->hosts[w->host].name : "-",
                   w->samples, total ? 100.0 * (double)w->samples / (double)total : 0.0,
                   w->chunks);
        }
    } else {
        printf("  (per-worker shares omitted for %zu workers)\n", m->nworkers);
    }
    for (size_t i = 0; i < m->nvms; i++) {
        char id[RVR_UUID_STRLEN];
        const vm_share *v = &m->vms[i];
        printf("  vm   %-36s %-21s %12" PRIu64 " samples %5.1f%% (%" PRIu32 " workers)\n",
               i == 0 ? "(this VM: threads)" : rvr_uuid_str(&v->id, id), v->addr ? v->addr : "-",
               v->samples, total ? 100.0 * (double)v->samples / (double)total : 0.0, v->workers);
    }
    for (size_t i = 0; i < m->nhosts; i++)
        printf("  host %-25s %12" PRIu64 " samples %5.1f%% (%" PRIu32 " workers)\n",
               m->hosts[i].name, m->hosts[i].samples,
               total ? 100.0 * (double)m->hosts[i].samples / (double)total : 0.0,
               m->hosts[i].workers);
}

/* Finds the other VMs (discovery: --peer, RIVER_PEERS, multicast), allocates
 * them and deploys per_vm workers on each; this VM is vms[0].  A VM that
 * cannot take workers is skipped with a warning. */
static void spread(master *m, rvr_uuid *vmids, size_t *nvm)
{
    *nvm = 0;
    if (m->args->discover_ms == 0 || m->args->per_vm == 0)
        return;
    rvr_vm_filter *f = rvr_vm_filter_new();
    rvr_vm_info *found = NULL;
    size_t n = 0;
    if (f == NULL || rvr_vm_filter_eq_str(f, "status", "available") != RVR_OK ||
        rvr_discover(m->self, f, (int)m->args->discover_ms, &found, &n) != RVR_OK)
        n = 0;
    rvr_vm_filter_free(f);
    /* Not this VM: its workers are the --workers threads. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rvr_uuid_eq(&found[i].uuid, rvr_vm_id(m->self))) {
            free(found[i].address);            /* (rvr_vm_info_free frees the array too) */
            rvr_map_free(found[i].attrs);
            continue;
        }
        found[k++] = found[i];
    }
    n = k;
    size_t ngot = 0;
    if (n > 0 && rvr_allocate(m->self, found, n, n, vmids, &ngot) != RVR_OK)
        ngot = 0;
    for (size_t i = 0; i < ngot; i++) {
        const char *addr = NULL;
        for (size_t j = 0; j < n; j++)
            if (rvr_uuid_eq(&found[j].uuid, &vmids[i]))
                addr = found[j].address;
        vm_share *v = &m->vms[m->nvms];
        *v = (vm_share){ .id = vmids[i], .addr = addr ? strdup(addr) : NULL };
        for (uint32_t j = 0; j < m->args->per_vm; j++) {
            worker_info *w = &m->w[m->nworkers];
            rvr_status st = pi_Worker_deploy(m->self, &vmids[i], NULL, &w->id);
            if (st != RVR_OK) {
                char id[RVR_UUID_STRLEN];
                fprintf(stderr, "pi: cannot deploy a worker on VM %s (%s): %s; skipping it\n",
                        rvr_uuid_str(&vmids[i], id), addr ? addr : "?", rvr_strerror(st));
                break;
            }
            w->host = -1;
            w->vm = m->nvms;
            v->workers++;
            m->nworkers++;
        }
        if (v->workers > 0)
            m->nvms++;
        else
            free(v->addr);
    }
    *nvm = ngot;
    rvr_vm_info_free(found, n);
}

int pi_Master_main(rvr_vr *self, const pi_Master_args *args)
{
    if (args->workers > MAX_WORKERS || args->per_vm > MAX_WORKERS || args->samples == 0) {
        fprintf(stderr, "pi: need 0..%d workers per VM and at least one sample\n", MAX_WORKERS);
        return 2;
    }
    master m = { .self = self, .args = args };
    /* Room for this VM's workers and per_vm on up to RVR_DISC_MAX_RESULTS VMs. */
    size_t cap = args->workers + (size_t)args->per_vm * RVR_DISC_MAX_RESULTS;
    m.w = calloc(cap, sizeof *m.w);
    m.vms = calloc(RVR_DISC_MAX_RESULTS + 1, sizeof *m.vms);
    rvr_uuid *vmids = calloc(RVR_DISC_MAX_RESULTS, sizeof *vmids);
    if (m.w == NULL || m.vms == NULL || vmids == NULL) {
        fprintf(stderr, "pi: out of memory\n");
        free(m.w), free(m.vms), free(vmids);
        return 1;
    }
    int rc = 0;
    rvr_status st = RVR_OK;
    /* This VM first: --workers threads of this process (the embedded default). */
    m.nvms = 1;
    for (; m.nworkers < args->workers; m.nworkers++) {
        m.w[m.nworkers].host = -1;
        if ((st = pi_Worker_deploy(self, NULL, NULL, &m.w[m.nworkers].id)) != RVR_OK) {
            fprintf(stderr, "pi: cannot deploy worker %zu: %s\n", m.nworkers, rvr_strerror(st));
            rc = 1;
            break;
        }
        m.vms[0].workers++;
    }
    size_t nalloc = 0;
    if (rc == 0)
        spread(&m, vmids, &nalloc);
    if (rc == 0 && m.nworkers == 0) {
        fprintf(stderr, "pi: no workers: give --workers or make other VMs reachable\n");
        rc = 2;
    }
    size_t started = m.nworkers;
    uint64_t want = (uint64_t)(started ? started : 1) * CHUNKS_PER_WORKER;
    m.nchunks = args->samples < want ? args->samples : want;
    m.chunk_base = args->samples / m.nchunks;
    m.chunk_extra = args->samples % m.nchunks;

    /* First round: every worker gets a chunk (or, with fewer chunks than
     * workers, its stop message). */
    uint64_t outstanding = 0;
    for (size_t k = 0; k < started && rc == 0; k++) {
        if (hand_out(&m, k, &st))
            outstanding++;
        else if (st != RVR_OK)
            rc = 1;
    }
    uint64_t inside = 0, total = 0;
    while (outstanding > 0 && rc == 0) {
        pi_Result r;
        if ((st = pi_Result_recv(self, &r, NULL, RESULT_WAIT_MS)) != RVR_OK) {
            fprintf(stderr, "pi: waiting for results: %s\n", rvr_strerror(st));
            rc = 1;
            break;
        }
        outstanding--;
        long k = sender_of(&m, &r);
        const rvr_value *hv = r.extra != NULL ? rvr_map_get(r.extra, "host") : NULL;
        if (k < 0) {
            fprintf(stderr, "pi: a result without a known worker attribute; ignored\n");
            pi_Result_clear(&r);
            continue;
        }
        inside += r.inside;
        total += r.samples;
        worker_info *w = &m.w[k];
        w->samples += r.samples;
        m.vms[w->vm].samples += r.samples;
        if (w->host < 0) {
            w->host = host_index(&m, hv != NULL && hv->type == RVR_T_STRING ? hv->as.str.ptr : "?");
            if (w->host >= 0)
                m.hosts[w->host].workers++;
        }
        if (w->host >= 0)
            m.hosts[w->host].samples += r.samples;
        pi_Result_clear(&r);
        if (hand_out(&m, (size_t)k, &st))
            outstanding++;
        else if (st != RVR_OK)
            rc = 1;
    }
    if (rc == 0) {
        if (total != args->samples)
            fprintf(stderr, "pi: warning: %" PRIu64 " of %" PRIu64 " samples done (stopped early)\n",
                    total, args->samples);
        report(&m, inside, total);
    }
    for (size_t i = 0; i < m.nhosts; i++)
        free(m.hosts[i].name);
    for (size_t i = 0; i < m.nvms; i++)
        free(m.vms[i].addr);
    for (size_t i = 0; i < nalloc; i++)
        (void)rvr_release(self, &vmids[i]);   /* also done when this VR returns */
    free(m.hosts);
    free(m.vms);
    free(vmids);
    free(m.w);
    return rc;
}

int main(int argc, char **argv)
{
    /* Register the Worker type by name so a deploy from elsewhere can ask
     * this program to host one (rvr_main registers the Master). */
    (void)rvr_vr_type_register(&pi_Worker_type);
    return rvr_main(argc, argv, &pi_Master_type);
}
