/* deploy_ops.c — the VM's side of allocation and deployment: control
 * operations allocate, release, allocation and spawn; the watch that
 * releases this VM when its owner's VM is lost.  See deploy_impl.h. */
#include "deploy_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "args.h"
#include "deploy_args.h"
#include "discovery.h"
#include "log.h"
#include "sysinfo.h"
#include "transport.h"
#include "vrtypes.h"

const char *rvr_deploy_arch(void)
{
    const char *a = getenv("RIVER_ARCH");
    return a != NULL && *a != '\0' ? a : rvr_arch();
}

static int grace_ms(void)
{
    const char *s = getenv("RIVER_ALLOC_GRACE_MS");
    if (s != NULL && *s != '\0') {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 3600000)
            return (int)v;
    }
    return 5000;
}

static void set_free(struct rvr_deploy *d)   /* d->lock held */
{
    d->allocated = false;
    d->owner_vr = d->owner_vm = (rvr_uuid){ { 0 } };
    d->lost_since_ns = 0;
    rvr_disc_set_status(d->vm, "available");
}

static bool owner_connected(rvr_vm *vm, const rvr_uuid *owner)
{
    rvr_net_peer_info *v;
    size_t n;
    if (vm->net == NULL || rvr_net_peers(vm->net, &v, &n) != RVR_OK)
        return true;   /* cannot tell: keep it */
    bool up = false;
    for (size_t i = 0; i < n && !up; i++)
        up = rvr_uuid_eq(&v[i].id, owner);
    free(v);
    return up;
}

/* Releases the allocation when its owner's VM has been unreachable for
 * the grace period. */
static void *watch_main(void *arg)
{
    struct rvr_deploy *d = arg;
    rvr_mutex_lock(&d->lock);
    while (!d->stopping) {
        rvr_cond_wait_until(&d->cond, &d->lock, rvr_now_ns() + 200000000u);
        if (d->stopping || !d->allocated || rvr_uuid_eq(&d->owner_vm, &d->vm->id))
            continue;
        rvr_uuid owner = d->owner_vm;
        rvr_mutex_unlock(&d->lock);
        bool up = owner_connected(d->vm, &owner);
        rvr_mutex_lock(&d->lock);
        if (!d->allocated || !rvr_uuid_eq(&owner, &d->owner_vm))
            continue;
        uint64_t now = rvr_now_ns();
        if (up) {
            d->lost_since_ns = 0;
        } else if (d->lost_since_ns == 0) {
            d->lost_since_ns = now;
        } else if (now - d->lost_since_ns >= (uint64_t)grace_ms() * 1000000u) {
            char a[RVR_UUID_STRLEN];
            RVR_LOG(RVR_LOG_WARN, "allocation released: its owner's VM %s is lost (no connection "
                    "for %d ms)", rvr_uuid_str(&owner, a), grace_ms());
            set_free(d);
        }
    }
    rvr_mutex_unlock(&d->lock);
    return NULL;
}

static rvr_status op_allocate(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                              rvr_packet *reply, void *ctx)
{
    (void)ctx;
    struct rvr_deploy *d = vm->deploy;
    rvr_uuid vr;
    if (rvr_packet_get_uuid(req, "vr", &vr) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "allocate needs vr (uuid): the owner VR");
        return RVR_EINVAL;
    }
    rvr_status st = RVR_OK;
    char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN], e[200];
    rvr_mutex_lock(&d->lock);   /* the check and the grant are one step */
    if (d->stopping) {
        st = RVR_ECLOSED;
    } else if (d->allocated &&
               !(rvr_uuid_eq(&d->owner_vr, &vr) && rvr_uuid_eq(&d->owner_vm, from))) {
        st = RVR_EEXIST;
        snprintf(e, sizeof e, "this VM is allocated to VR %s of VM %s",
                 rvr_uuid_str(&d->owner_vr, a), rvr_uuid_str(&d->owner_vm, b));
        rvr_packet_set_uuid(reply, "owner_vr", &d->owner_vr);
        rvr_packet_set_uuid(reply, "owner_vm", &d->owner_vm);
        rvr_packet_set_str(reply, "error", e);
    } else {
        d->allocated = true;
        d->owner_vr = vr;
        d->owner_vm = *from;
        d->lost_since_ns = 0;
        rvr_disc_set_status(vm, "allocated");
        if (!d->watch_up && !rvr_uuid_eq(from, &vm->id) &&
            rvr_thread_start(&d->watch, watch_main, d) == 0)
            d->watch_up = true;
        RVR_LOG(RVR_LOG_INFO, "allocated to VR %s of VM %s", rvr_uuid_str(&vr, a),
                rvr_uuid_str(from, b));
    }
    rvr_mutex_unlock(&d->lock);
    if (st == RVR_OK)
        st = rvr_packet_set_uuid(reply, "vm", &vm->id);
    return st;
}

static rvr_status op_release(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                             rvr_packet *reply, void *ctx)
{
    (void)ctx;
    struct rvr_deploy *d = vm->deploy;
    rvr_uuid vr;
    if (rvr_packet_get_uuid(req, "vr", &vr) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "release needs vr (uuid): the owner VR");
        return RVR_EINVAL;
    }
    rvr_status st = RVR_OK;
    rvr_mutex_lock(&d->lock);
    if (d->allocated && rvr_uuid_eq(&d->owner_vr, &vr) && rvr_uuid_eq(&d->owner_vm, from)) {
        char a[RVR_UUID_STRLEN];
        RVR_LOG(RVR_LOG_INFO, "released by VR %s", rvr_uuid_str(&vr, a));
        set_free(d);
    } else {
        st = RVR_ENOTFOUND;
        rvr_packet_set_str(reply, "error", "this VM is not allocated to that VR");
    }
    rvr_mutex_unlock(&d->lock);
    return st;
}

static rvr_status op_allocation(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                                rvr_packet *reply, void *ctx)
{
    (void)from, (void)req, (void)ctx;
    struct rvr_deploy *d = vm->deploy;
    rvr_mutex_lock(&d->lock);
    rvr_status st = rvr_packet_set_str(reply, "state", d->allocated ? "allocated" : "available");
    if (st == RVR_OK && d->allocated && (st = rvr_packet_set_uuid(reply, "owner_vr", &d->owner_vr)) == RVR_OK)
        st = rvr_packet_set_uuid(reply, "owner_vm", &d->owner_vm);
    rvr_mutex_unlock(&d->lock);
    return st;
}

/* spawn {type string, args map, parent uuid} -> {vr uuid}.  Without the
 * type: RVR_ENOTFOUND with hosting (bool: this VM runs pushed programs)
 * and arch. */
static rvr_status op_spawn(rvr_vm *vm, const rvr_uuid *from, const rvr_packet *req,
                           rvr_packet *reply, void *ctx)
{
    (void)ctx;
    const char *name;
    rvr_uuid parent = { { 0 } };
    const rvr_map *m = NULL;
    char e[300];
    if (rvr_packet_get_str(req, "type", &name, NULL) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "spawn needs type (string)");
        return RVR_EINVAL;
    }
    (void)rvr_packet_get_uuid(req, "parent", &parent);
    if (rvr_packet_has(req, "args") && rvr_packet_get_map(req, "args", &m) != RVR_OK) {
        rvr_packet_set_str(reply, "error", "spawn: args must be a map");
        return RVR_EINVAL;
    }
    const rvr_vr_type *t = rvr_vr_type_find(name);
    if (t == NULL) {
        snprintf(e, sizeof e, "VM has no VR type %s", name);
        rvr_packet_set_str(reply, "error", e);
        rvr_packet_set_bool(reply, "hosting", rvr_deploy_hosting_enabled());
        rvr_packet_set_str(reply, "arch", rvr_deploy_arch());
        return RVR_ENOTFOUND;
    }
    void *args;
    rvr_status st = rvr_args_from_map(t, m, &args, e, sizeof e);
    if (st != RVR_OK) {
        rvr_packet_set_str(reply, "error", e);
        return st;
    }
    rvr_uuid id;
    st = rvr_vm_spawn(vm, t, args, rvr_uuid_is_nil(&parent) ? NULL : &parent, &id);
    rvr_args_free(t, args);
    if (st != RVR_OK)
        return st;
    /* The parent lives on the calling VM: replies to it need no WHOIS. */
    if (!rvr_uuid_is_nil(&parent) && vm->net != NULL)
        rvr_net_learn(vm->net, &parent, from, NULL);
    return rvr_packet_set_uuid(reply, "vr", &id);
}

static void register_ops(void)
{
    rvr_ctl_register("allocate", op_allocate, NULL);
    rvr_ctl_register("release", op_release, NULL);
    rvr_ctl_register("allocation", op_allocation, NULL);
    rvr_ctl_register("spawn", op_spawn, NULL);
    rvr_hosting_register_ops();
}

static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

rvr_status rvr_deploy_init(rvr_vm *vm)
{
    pthread_once(&ops_once, register_ops);
    struct rvr_deploy *d = calloc(1, sizeof *d);
    if (d == NULL)
        return RVR_ENOMEM;
    d->vm = vm;
    rvr_mutex_init(&d->lock);
    rvr_mutex_init(&d->push_lock);
    rvr_cond_init(&d->cond);
    vm->deploy = d;
    return RVR_OK;
}

void rvr_deploy_stop(rvr_vm *vm)
{
    struct rvr_deploy *d = vm->deploy;
    if (d == NULL)
        return;
    rvr_mutex_lock(&d->lock);
    d->stopping = true;
    bool up = d->watch_up;
    d->watch_up = false;
    rvr_cond_broadcast(&d->cond);
    rvr_mutex_unlock(&d->lock);
    if (up)
        pthread_join(d->watch, NULL);
    rvr_hosting_stop(d);
}

void rvr_deploy_free(rvr_vm *vm)
{
    struct rvr_deploy *d = vm->deploy;
    if (d == NULL)
        return;
    rvr_deploy_stop(vm);
    free(d->held);
    free(d->hosts);
    rvr_mutex_destroy(&d->lock);
    rvr_mutex_destroy(&d->push_lock);
    rvr_cond_destroy(&d->cond);
    free(d);
    vm->deploy = NULL;
}
