/* vm.c — the VM: the registry of its VRs, their threads, and rvr_main. */
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "auth.h"
#include "deploy_impl.h"
#include "discovery.h"
#include "log.h"
#include "transport.h"

static size_t slot_of(const rvr_vm *vm, const rvr_uuid *id)
{
    uint64_t h;
    memcpy(&h, id->bytes, sizeof h);   /* UUIDs are random: any 8 bytes hash well */
    return (size_t)(h & (vm->nslots - 1));
}

rvr_status rvr_vm_create(rvr_vm **out)
{
    rvr_vm *vm = calloc(1, sizeof *vm);
    if (vm == NULL)
        return RVR_ENOMEM;
    vm->id = rvr_uuid_generate();
    vm->nslots = 64;
    vm->slots = calloc(vm->nslots, sizeof *vm->slots);
    if (vm->slots == NULL) {
        free(vm);
        return RVR_ENOMEM;
    }
    pthread_rwlock_init(&vm->reg_lock, NULL);
    rvr_mutex_init(&vm->life_lock);
    rvr_cond_init(&vm->life_cond);
    atomic_init(&vm->stopping, false);
    if (rvr_deploy_init(vm) != RVR_OK) {
        free(vm->slots);
        free(vm);
        return RVR_ENOMEM;
    }
    *out = vm;
    return RVR_OK;
}

static void vm_free(rvr_vm *vm)
{
    if (vm->secret != NULL) {
        rvr_secret_wipe(vm->secret);
        free(vm->secret);
    }
    rvr_map_free(vm->labels);
    rvr_deploy_free(vm);
    pthread_rwlock_destroy(&vm->reg_lock);
    rvr_mutex_destroy(&vm->life_lock);
    rvr_cond_destroy(&vm->life_cond);
    free(vm->slots);
    free(vm);
}

static void registry_grow(rvr_vm *vm)
{
    size_t n = vm->nslots * 2;
    rvr_vr **slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return;   /* keep the longer chains; lookups still work */
    rvr_vr **old = vm->slots;
    size_t oldn = vm->nslots;
    vm->slots = slots;
    vm->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        rvr_vr *v = old[i];
        while (v != NULL) {
            rvr_vr *nx = v->hnext;
            size_t s = slot_of(vm, &v->id);
            v->hnext = slots[s];
            slots[s] = v;
            v = nx;
        }
    }
    free(old);
}

rvr_status rvr_vm_add_vr(rvr_vm *vm, const rvr_vr_type *t, const void *args,
                         const rvr_uuid *parent, rvr_vr **out)
{
    rvr_vr *vr = calloc(1, sizeof *vr);
    if (vr == NULL)
        return RVR_ENOMEM;
    rvr_status st = rvr_mailbox_init(&vr->mb);
    if (st != RVR_OK) {
        free(vr);
        return st;
    }
    if ((st = rvr_args_copy(t, args, &vr->args)) != RVR_OK) {
        rvr_mailbox_fini(&vr->mb);
        free(vr);
        return st;
    }
    vr->id = rvr_uuid_generate();
    if (parent != NULL)
        vr->parent = *parent;
    vr->vm = vm;
    vr->type = t;
    atomic_init(&vr->refs, 1);

    pthread_rwlock_wrlock(&vm->reg_lock);
    if (atomic_load(&vm->stopping)) {
        pthread_rwlock_unlock(&vm->reg_lock);
        rvr_vr_unref(vr);
        return RVR_ECLOSED;
    }
    if (vm->count >= vm->nslots)
        registry_grow(vm);
    size_t s = slot_of(vm, &vr->id);
    vr->hnext = vm->slots[s];
    vm->slots[s] = vr;
    vm->count++;
    pthread_rwlock_unlock(&vm->reg_lock);
    *out = vr;
    return RVR_OK;
}

void rvr_vm_remove_vr(rvr_vm *vm, rvr_vr *vr)
{
    pthread_rwlock_wrlock(&vm->reg_lock);
    for (rvr_vr **pp = &vm->slots[slot_of(vm, &vr->id)]; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == vr) {
            *pp = vr->hnext;
            vm->count--;
            break;
        }
    }
    pthread_rwlock_unlock(&vm->reg_lock);
    rvr_mailbox_close(&vr->mb, RVR_ENOTFOUND);
}

rvr_vr *rvr_vm_ref_vr(rvr_vm *vm, const rvr_uuid *id)
{
    rvr_vr *found = NULL;
    pthread_rwlock_rdlock(&vm->reg_lock);
    for (rvr_vr *v = vm->slots[slot_of(vm, id)]; v != NULL; v = v->hnext) {
        if (rvr_uuid_eq(&v->id, id)) {
            atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
            found = v;
            break;
        }
    }
    pthread_rwlock_unlock(&vm->reg_lock);
    return found;
}

void rvr_vr_ref(rvr_vr *vr)
{
    atomic_fetch_add_explicit(&vr->refs, 1, memory_order_relaxed);
}

void rvr_vr_unref(rvr_vr *vr)
{
    if (atomic_fetch_sub_explicit(&vr->refs, 1, memory_order_acq_rel) != 1)
        return;
    rvr_mailbox_fini(&vr->mb);
    rvr_args_free(vr->type, vr->args);
    free(vr);
}

static void reap_ended(rvr_vm *vm);

void rvr_vm_stop(rvr_vm *vm, int wait_ms)
{
    pthread_rwlock_wrlock(&vm->reg_lock);
    atomic_store(&vm->stopping, true);
    for (size_t i = 0; i < vm->nslots; i++)
        for (rvr_vr *v = vm->slots[i]; v != NULL; v = v->hnext)
            rvr_mailbox_close(&v->mb, RVR_ECLOSED);
    pthread_rwlock_unlock(&vm->reg_lock);

    uint64_t deadline = rvr_now_ns() + (uint64_t)wait_ms * 1000000u;
    rvr_mutex_lock(&vm->life_lock);
    while (vm->live > 0 && rvr_cond_wait_until(&vm->life_cond, &vm->life_lock, deadline))
        ;
    size_t left = vm->live;
    rvr_mutex_unlock(&vm->life_lock);
    if (left > 0) {
        /* Their threads still use the VM: leave it allocated. */
        RVR_LOG(RVR_LOG_WARN, "%zu VR(s) still running %d ms after the VM stopped; "
                "exiting without them", left, wait_ms);
        pthread_rwlock_rdlock(&vm->reg_lock);
        for (size_t i = 0; i < vm->nslots; i++)
            for (rvr_vr *v = vm->slots[i]; v != NULL; v = v->hnext) {
                char buf[RVR_UUID_STRLEN];
                RVR_LOG(RVR_LOG_WARN, "  still running: %s %s", v->type->name,
                        rvr_uuid_str(&v->id, buf));
            }
        pthread_rwlock_unlock(&vm->reg_lock);
        return;
    }
    reap_ended(vm);
    rvr_deploy_stop(vm);   /* child VMs, the allocation watch */
    /* No VR runs any more: discovery and the transport can go (the
     * transport says goodbye to the connected VMs and writes what is
     * queued first). */
    rvr_disc_stop(vm);
    rvr_net_stop(vm->net);
    vm->net = NULL;
    vm_free(vm);
}

/* ---- VR threads ----------------------------------------------------------- */

static void *vr_thread(void *arg)
{
    rvr_vr *vr = arg;
    rvr_vm *vm = vr->vm;
    int rc = vr->type->main(vr, vr->args);
    rvr_deploy_vr_ended(vr);   /* gives back the VMs it allocated */
    if (rc != 0) {
        char buf[RVR_UUID_STRLEN];
        RVR_LOG(RVR_LOG_INFO, "VR %s %s returned %d", vr->type->name, rvr_uuid_str(&vr->id, buf), rc);
    }
    rvr_vr_drop_dst_cache(vr);
    rvr_vm_remove_vr(vm, vr);
    rvr_vr_unref(vr);
    rvr_mutex_lock(&vm->life_lock);
    /* Joined later (by the next spawn or the VM's stop), so no thread is
     * still exiting when rvr_main returns. */
    if (vm->nended == vm->ended_cap) {
        size_t cap = vm->ended_cap ? vm->ended_cap * 2 : 16;
        pthread_t *e = realloc(vm->ended, cap * sizeof *e);
        if (e != NULL) {
            vm->ended = e;
            vm->ended_cap = cap;
        }
    }
    if (vm->nended < vm->ended_cap)
        vm->ended[vm->nended++] = pthread_self();
    else
        pthread_detach(pthread_self());   /* no memory to remember it: let it go */
    vm->live--;
    rvr_cond_broadcast(&vm->life_cond);
    rvr_mutex_unlock(&vm->life_lock);
    return NULL;
}

/* Joins the VR threads that have finished.  Never called with life_lock held. */
static void reap_ended(rvr_vm *vm)
{
    rvr_mutex_lock(&vm->life_lock);
    pthread_t *ended = vm->ended;
    size_t n = vm->nended;
    vm->ended = NULL;
    vm->nended = vm->ended_cap = 0;
    rvr_mutex_unlock(&vm->life_lock);
    for (size_t i = 0; i < n; i++)
        pthread_join(ended[i], NULL);
    free(ended);
}

rvr_status rvr_spawn(rvr_vr *self, const rvr_uuid *vmid, const rvr_vr_type *type,
                     const void *args, rvr_uuid *out_id)
{
    if (self == NULL || type == NULL || type->main == NULL || type->name == NULL ||
        (type->nargs > 0 && (type->args == NULL || type->args_size == 0)))
        return RVR_EINVAL;
    rvr_vm *vm = self->vm;
    if (vmid != NULL && !rvr_uuid_is_nil(vmid) && !rvr_uuid_eq(vmid, &vm->id))
        return rvr_deploy_remote(self, vmid, type, args, out_id);   /* deploy.c */
    return rvr_vm_spawn(vm, type, args, &self->id, out_id);
}

rvr_status rvr_vm_spawn(rvr_vm *vm, const rvr_vr_type *type, const void *args,
                        const rvr_uuid *parent, rvr_uuid *out_id)
{
    reap_ended(vm);
    /* Counted before the VR exists, so concurrent spawns cannot pass --max-vrs. */
    rvr_mutex_lock(&vm->life_lock);
    if (vm->max_vrs != 0 && vm->live >= vm->max_vrs) {
        rvr_mutex_unlock(&vm->life_lock);
        return RVR_ELIMIT;
    }
    vm->live++;
    rvr_mutex_unlock(&vm->life_lock);
    rvr_vr *vr;
    rvr_status st = rvr_vm_add_vr(vm, type, args, parent, &vr);
    if (st != RVR_OK) {
        rvr_mutex_lock(&vm->life_lock);
        vm->live--;
        rvr_cond_broadcast(&vm->life_cond);
        rvr_mutex_unlock(&vm->life_lock);
        return st;
    }
    rvr_uuid id = vr->id;   /* vr may be gone as soon as its thread runs */

    pthread_t th;
    int rc = pthread_create(&th, NULL, vr_thread, vr);
    if (rc != 0) {
        rvr_mutex_lock(&vm->life_lock);
        vm->live--;
        rvr_mutex_unlock(&vm->life_lock);
        rvr_vm_remove_vr(vm, vr);
        rvr_vr_unref(vr);
        RVR_LOG(RVR_LOG_ERROR, "cannot start a thread for VR %s: %s", type->name, strerror(rc));
        return RVR_ESYS;
    }
    if (out_id != NULL)
        *out_id = id;
    return RVR_OK;
}

/* ---- the process entry point ---------------------------------------------- */

static int shutdown_wait_ms(void)
{
    const char *s = getenv("RIVER_SHUTDOWN_MS");
    if (s != NULL && *s != '\0') {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 3600000)
            return (int)v;
    }
    return 5000;
}

/* Seeds from --peer and RIVER_PEERS (comma- or space-separated). */
static size_t collect_peers(const rvr_disc_opts *o, char *env, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < o->npeers && n < max; i++)
        out[n++] = o->peers[i];
    for (char *save = NULL, *t = env ? strtok_r(env, ", \t", &save) : NULL; t != NULL && n < max;
         t = strtok_r(NULL, ", \t", &save))
        out[n++] = t;
    return n;
}

/* Starts the VM's transport (listening socket, I/O thread) and, unless
 * RIVER_DISCOVERY=off, its discovery endpoint; keeps the labels. */
static rvr_status vm_network(rvr_vm *vm, const char *prog, const rvr_common_opts *common,
                             rvr_disc_opts *dopts)
{
    if (common->max_vrs > 0)
        vm->max_vrs = (size_t)common->max_vrs;
    vm->labels = dopts->labels;   /* the VM owns them now */
    dopts->labels = NULL;
    dopts->cfg.labels = vm->labels;

    rvr_net_config cfg;
    rvr_net_config_default(&cfg);
    if (common->port >= 0)
        cfg.port = (uint16_t)common->port;
    if (common->bind != NULL)
        cfg.bind = common->bind;
    if (common->max_frame > 0)
        cfg.limits.max_frame = (size_t)common->max_frame;
    const char *peers[128];
    char *env = getenv("RIVER_PEERS") ? strdup(getenv("RIVER_PEERS")) : NULL;
    cfg.peers = peers;
    cfg.npeers = collect_peers(dopts, env, peers, 128);
    rvr_status st = rvr_net_start(vm, &cfg, &vm->net);
    if (st == RVR_OK) {
        const char *d = getenv("RIVER_DISCOVERY");
        if (d == NULL || strcmp(d, "off") != 0) {
            /* ":port" lets each receiver use the address the datagram came from. */
            char adv[RVR_ADDR_STRLEN + 8];
            const char *addr = rvr_net_address(vm->net);
            const char *colon = strrchr(addr, ':');
            bool wild = strncmp(addr, "0.0.0.0:", 8) == 0 || strncmp(addr, "[::]:", 5) == 0;
            snprintf(adv, sizeof adv, "%s", wild || colon == NULL ? (colon ? colon : addr) : addr);
            dopts->cfg.advertise = adv;
            dopts->cfg.program = prog;
            rvr_status ds = rvr_disc_start(vm, &dopts->cfg);
            if (ds != RVR_OK)
                RVR_LOG(RVR_LOG_WARN, "discovery did not start (%s); the VM runs without it",
                        rvr_strerror(ds));
        }
    }
    free(env);
    return st;
}

/* The initial VR of a child VM (host mode): rvr_host_mode_run is its body. */
static int host_main(rvr_vr *self, const void *args)
{
    (void)self, (void)args;
    return 0;
}
static RVR_VR_TYPE_NOARGS(host_type, "river.Host", host_main);

/* Loads the cluster secret (--secret-file, else RIVER_SECRET_FILE) into vm. */
static rvr_status vm_secret(rvr_vm *vm, const char *prog, const char *path)
{
    if (path == NULL || *path == '\0')
        path = getenv("RIVER_SECRET_FILE");
    if (path == NULL || *path == '\0')
        return RVR_OK;
    char err[512];
    rvr_secret *s = malloc(sizeof *s);
    rvr_status st = s != NULL ? rvr_secret_load(path, s, err, sizeof err) : RVR_ENOMEM;
    if (st != RVR_OK) {
        fprintf(stderr, "%s: cannot use the cluster secret: %s\n", prog,
                st == RVR_ENOMEM ? "out of memory" : err);
        free(s);
        return st;
    }
    vm->secret = s;
    RVR_LOG(RVR_LOG_DEBUG, "cluster secret loaded from %s: every connection authenticates", path);
    return RVR_OK;
}

/* Does the VR type declare a parameter of this name?  Then --name is its. */
static bool is_vr_param(const char *name, size_t len, void *ctx)
{
    const rvr_vr_type *t = ctx;
    for (size_t i = 0; i < t->nargs; i++)
        if (strlen(t->args[i].name) == len && strncmp(t->args[i].name, name, len) == 0)
            return true;
    return false;
}

int rvr_main(int argc, char **argv, const rvr_vr_type *type)
{
    const char *prog = argc > 0 && argv != NULL && argv[0] != NULL ? argv[0] : "river";
    /* Messages name the program as the user typed it, not libtool's wrapper. */
    if (strrchr(prog, '/') != NULL)
        prog = strrchr(prog, '/') + 1;
    if (strncmp(prog, "lt-", 3) == 0)
        prog += 3;
    if (type == NULL || type->main == NULL) {
        fprintf(stderr, "%s: rvr_main: no VR type given\n", prog);
        return 2;
    }
    (void)rvr_vr_type_register(type);   /* a deploy names types; failure only costs deploy-by-name */
    /* --river-host-fd=N: riverd runs this program as a child VM hosting
     * deployed VRs (hosting.c) instead of its initial VR. */
    int hostfd = -1;
    struct rvr_secret *hsecret = NULL;
    if (argv != NULL && rvr_host_mode_args(&argc, argv, &hostfd, &hsecret) != RVR_OK) {
        fprintf(stderr, "%s: --river-host-fd: no secret from riverd\n", prog);
        return 2;
    }
    const char *env = getenv("RIVER_LOG");
    if (env != NULL && rvr_log_parse_level(env) >= 0)
        rvr_log_threshold = rvr_log_parse_level(env);

    void *args;
    rvr_common_opts common;
    rvr_disc_opts dopts;
    char *argv0 = argc > 0 && argv != NULL ? argv[0] : NULL;
    if (argv0 != NULL)
        argv[0] = (char *)prog;
    /* --peer, --label and the multicast options first (they leave argv). */
    rvr_status pst = argv != NULL ? rvr_disc_options_except(&argc, argv, &dopts, stderr,
                                                            is_vr_param, (void *)type)
                                  : RVR_OK;
    if (argv == NULL)
        memset(&dopts, 0, sizeof dopts);
    if (pst == RVR_OK && (pst = rvr_args_parse(type, argc, argv, &args, &common, stderr)) != RVR_OK)
        rvr_disc_opts_free(&dopts);
    if (argv0 != NULL)
        argv[0] = argv0;
    if (pst != RVR_OK)
        return 2;
    if (common.help) {
        rvr_args_help(type, prog, stdout);
        rvr_args_free(type, args);
        rvr_disc_opts_free(&dopts);
        return 0;
    }
    if (common.log_level >= 0)
        rvr_log_threshold = common.log_level;

    rvr_vm *vm;
    rvr_vr *vr;
    if (rvr_vm_create(&vm) != RVR_OK) {
        fprintf(stderr, "%s: out of memory starting the VM\n", prog);
        rvr_args_free(type, args);
        rvr_disc_opts_free(&dopts);
        return 1;
    }
    vm->secret = hsecret;
    rvr_status st = hsecret != NULL ? RVR_OK : vm_secret(vm, prog, common.secret_file);
    if (st != RVR_OK) {
        rvr_args_free(type, args);
        rvr_disc_opts_free(&dopts);
        rvr_vm_stop(vm, 0);
        return 2;
    }
    st = vm_network(vm, prog, &common, &dopts);
    rvr_disc_opts_free(&dopts);
    if (st != RVR_OK) {
        fprintf(stderr, "%s: cannot start the VM's network: %s\n", prog, rvr_strerror(st));
        rvr_args_free(type, args);
        rvr_vm_stop(vm, 0);
        return 1;
    }
    st = rvr_vm_add_vr(vm, hostfd >= 0 ? &host_type : type, hostfd >= 0 ? NULL : args, NULL, &vr);
    rvr_args_free(type, args);
    if (st != RVR_OK) {
        fprintf(stderr, "%s: cannot start the initial VR: %s\n", prog, rvr_strerror(st));
        rvr_vm_stop(vm, 0);
        return 1;
    }
    /* The initial VR runs on the calling thread: it gets the main stack. */
    int rc = hostfd >= 0 ? rvr_host_mode_run(vr, hostfd) : type->main(vr, vr->args);
    rvr_deploy_vr_ended(vr);
    rvr_vr_drop_dst_cache(vr);
    rvr_vm_remove_vr(vm, vr);
    rvr_vr_unref(vr);
    rvr_vm_stop(vm, shutdown_wait_ms());
    return rc;
}
