/* deploy.c — the deployer's side (river/deploy.h): allocating and
 * releasing VMs, rvr_spawn on another VM, rvr_deploy_by_name, and code
 * push to a riverd that does not have the program.  See deploy_impl.h. */
#include "deploy_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codecache.h"
#include "control.h"
#include "args.h"
#include "deploy_args.h"
#include "log.h"
#include "sysinfo.h"
#include "transport.h"

/* ---- allocation ------------------------------------------------------------ */

static rvr_status hold(struct rvr_deploy *d, const rvr_uuid *vr, const rvr_uuid *vm)
{
    rvr_status st = RVR_OK;
    rvr_mutex_lock(&d->lock);
    size_t i;
    for (i = 0; i < d->nheld; i++)
        if (rvr_uuid_eq(&d->held[i].vr, vr) && rvr_uuid_eq(&d->held[i].vm, vm))
            break;
    if (i == d->nheld) {
        if (d->nheld == d->capheld) {
            size_t cap = d->capheld ? d->capheld * 2 : 8;
            rvr_held_vm *h = realloc(d->held, cap * sizeof *h);
            if (h == NULL)
                st = RVR_ENOMEM;
            else {
                d->held = h;
                d->capheld = cap;
            }
        }
        if (st == RVR_OK)
            d->held[d->nheld++] = (rvr_held_vm){ *vr, *vm };
    }
    rvr_mutex_unlock(&d->lock);
    return st;
}

/* Removes the entries of vr (for one vm, or all when vm is NULL) into out. */
static size_t unhold(struct rvr_deploy *d, const rvr_uuid *vr, const rvr_uuid *vm,
                     rvr_held_vm **out)
{
    *out = NULL;
    size_t k = 0;
    rvr_mutex_lock(&d->lock);
    rvr_held_vm *v = d->nheld ? malloc(d->nheld * sizeof *v) : NULL;
    size_t keep = 0;
    for (size_t i = 0; i < d->nheld; i++) {
        rvr_held_vm h = d->held[i];
        if (v != NULL && rvr_uuid_eq(&h.vr, vr) && (vm == NULL || rvr_uuid_eq(&h.vm, vm)))
            v[k++] = h;
        else
            d->held[keep++] = h;
    }
    d->nheld = keep;
    rvr_mutex_unlock(&d->lock);
    *out = v;
    return k;
}

rvr_status rvr_allocate_one(rvr_vr *self, const char *addr, rvr_uuid *vm)
{
    if (self == NULL || vm == NULL)
        return RVR_EINVAL;
    rvr_vm *me = self->vm;
    rvr_packet *req = rvr_ctl_request_new("allocate"), *r = NULL;
    if (req == NULL || rvr_packet_set_uuid(req, "vr", &self->id) != RVR_OK) {
        rvr_packet_free(req);
        return RVR_ENOMEM;
    }
    rvr_status st = rvr_ctl_call(me, addr, req, RVR_DEPLOY_CALL_MS, &r);
    if (st == RVR_OK && rvr_packet_get_uuid(r, "vm", vm) != RVR_OK)
        st = RVR_EPROTO;
    if (st == RVR_OK)
        st = hold(me->deploy, &self->id, vm);
    else {
        const char *e = NULL;
        if (r != NULL)
            rvr_packet_get_str(r, "error", &e, NULL);
        RVR_LOG(st == RVR_EEXIST ? RVR_LOG_INFO : RVR_LOG_WARN, "cannot allocate VM %s: %s",
                addr ? addr : "(this VM)", e ? e : rvr_strerror(st));
    }
    rvr_packet_free(r);
    return st;
}

rvr_status rvr_allocate(rvr_vr *self, const rvr_vm_info *vms, size_t n, size_t want,
                        rvr_uuid *got, size_t *ngot)
{
    if (self == NULL || ngot == NULL || (n > 0 && vms == NULL) || (want > 0 && got == NULL))
        return RVR_EINVAL;
    *ngot = 0;
    char id[RVR_UUID_STRLEN];
    for (size_t i = 0; i < n && *ngot < want; i++) {
        /* This VM is called directly; others by address (a UUID alone may
         * not be connected yet). */
        const char *to = rvr_uuid_eq(&vms[i].uuid, &self->vm->id) ? NULL
                         : vms[i].address != NULL ? vms[i].address : rvr_uuid_str(&vms[i].uuid, id);
        if (rvr_allocate_one(self, to, &got[*ngot]) == RVR_OK)
            (*ngot)++;
    }
    return RVR_OK;
}

static rvr_status release_call(rvr_vm *me, const rvr_uuid *vr, const rvr_uuid *vm)
{
    char id[RVR_UUID_STRLEN];
    rvr_packet *req = rvr_ctl_request_new("release"), *r = NULL;
    if (req == NULL || rvr_packet_set_uuid(req, "vr", vr) != RVR_OK) {
        rvr_packet_free(req);
        return RVR_ENOMEM;
    }
    rvr_status st = rvr_ctl_call(me, rvr_uuid_eq(vm, &me->id) ? NULL : rvr_uuid_str(vm, id), req,
                                 5000, &r);
    rvr_packet_free(r);
    return st;
}

rvr_status rvr_release(rvr_vr *self, const rvr_uuid *vm)
{
    if (self == NULL || vm == NULL)
        return RVR_EINVAL;
    rvr_held_vm *v;
    size_t k = unhold(self->vm->deploy, &self->id, vm, &v);
    free(v);
    if (k == 0)
        return RVR_ENOTFOUND;
    return release_call(self->vm, &self->id, vm);
}

void rvr_deploy_vr_ended(rvr_vr *vr)
{
    if (vr->vm->deploy == NULL)
        return;
    rvr_held_vm *v;
    size_t k = unhold(vr->vm->deploy, &vr->id, NULL, &v);
    for (size_t i = 0; i < k; i++) {
        rvr_status st = release_call(vr->vm, &vr->id, &v[i].vm);
        if (st != RVR_OK) {
            char a[RVR_UUID_STRLEN];
            RVR_LOG(RVR_LOG_INFO, "cannot release VM %s (%s); it will notice this VM is gone",
                    rvr_uuid_str(&v[i].vm, a), rvr_strerror(st));
        }
    }
    free(v);
}

/* ---- deploying ---------------------------------------------------------------- */

/* Calls spawn on VM `to` (text); the reply in *r (caller frees). */
static rvr_status spawn_call(rvr_vr *self, const char *to, const char *type, const rvr_map *args,
                             rvr_packet **r)
{
    rvr_packet *req = rvr_ctl_request_new("spawn");
    rvr_map *copy = args != NULL ? rvr_map_copy(args) : NULL;
    if (req == NULL || (args != NULL && copy == NULL) ||
        rvr_packet_set_str(req, "type", type) != RVR_OK ||
        rvr_packet_set_uuid(req, "parent", &self->id) != RVR_OK ||
        (copy != NULL && rvr_packet_set_map(req, "args", copy) != RVR_OK)) {
        rvr_map_free(copy);
        rvr_packet_free(req);
        return RVR_ENOMEM;
    }
    return rvr_ctl_call(self->vm, to, req, RVR_DEPLOY_CALL_MS, r);
}

/* "host:port" of a connected VM, or "" */
static void peer_addr(rvr_vm *me, const rvr_uuid *vm, char *buf, size_t len)
{
    rvr_net_peer_info *v;
    size_t n;
    buf[0] = '\0';
    if (me->net == NULL || rvr_net_peers(me->net, &v, &n) != RVR_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (rvr_uuid_eq(&v[i].id, vm))
            snprintf(buf, len, "%s", v[i].addr);
    free(v);
}

/* The child's address as this VM reaches it: a wildcard host becomes the
 * host of the riverd that started it. */
static void child_addr(const char *reported, const char *target_addr, char *out, size_t len)
{
    const char *colon = strrchr(reported, ':');
    const char *tcolon = strrchr(target_addr, ':');
    bool wild = strncmp(reported, "0.0.0.0:", 8) == 0 || strncmp(reported, "[::]:", 5) == 0 ||
                reported[0] == ':';
    if (wild && colon != NULL && tcolon != NULL)
        snprintf(out, len, "%.*s%s", (int)(tcolon - target_addr), target_addr, colon);
    else
        snprintf(out, len, "%s", reported);
}

static rvr_status self_program(struct rvr_deploy *d)
{
    if (d->have_self)
        return RVR_OK;
    rvr_status st = rvr_self_exe(d->self_path, sizeof d->self_path);
    if (st == RVR_OK)
        st = rvr_sha256_file(d->self_path, d->self_hash, &d->self_size);
    if (st == RVR_OK)
        d->have_self = true;
    return st;
}

static rvr_status read_file(const char *path, uint64_t size, uint8_t **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RVR_ESYS;
    uint8_t *b = malloc(size ? size : 1);
    size_t got = 0;
    while (b != NULL && got < size) {
        ssize_t n = read(fd, b + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (b == NULL)
        return RVR_ENOMEM;
    if (got != size) {
        free(b);
        return RVR_ESYS;
    }
    *out = b;
    return RVR_OK;
}

static const char *reply_error(const rvr_packet *r, rvr_status st)
{
    const char *e = NULL;
    if (r != NULL)
        rvr_packet_get_str(r, "error", &e, NULL);
    return e != NULL ? e : rvr_strerror(st);
}

/* Makes riverd `target` run this program as a child VM (sending the
 * executable when it has not cached it) and connects to the child. */
static rvr_status host_on(rvr_vr *self, const rvr_uuid *target, rvr_uuid *child)
{
    struct rvr_deploy *d = self->vm->deploy;
    char tid[RVR_UUID_STRLEN], hex[2 * RVR_SHA256_LEN + 1], taddr[RVR_ADDR_STRLEN];
    rvr_uuid_str(target, tid);
    rvr_status st = self_program(d);
    if (st != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "deploy to VM %s: cannot read this program's executable (%s)", tid,
                rvr_strerror(st));
        return st;
    }
    rvr_hex_encode(d->self_hash, RVR_SHA256_LEN, hex);
    const char *base = strrchr(d->self_path, '/') ? strrchr(d->self_path, '/') + 1 : d->self_path;
    peer_addr(self->vm, target, taddr, sizeof taddr);
    rvr_packet *r = NULL, *req = rvr_ctl_request_new("host");
    if (req == NULL || rvr_packet_set_str(req, "program", hex) != RVR_OK ||
        rvr_packet_set_u64(req, "size", d->self_size) != RVR_OK ||
        rvr_packet_set_str(req, "arch", rvr_deploy_arch()) != RVR_OK ||
        rvr_packet_set_str(req, "name", base) != RVR_OK) {
        rvr_packet_free(req);
        return RVR_ENOMEM;
    }
    st = rvr_ctl_call(self->vm, tid, req, RVR_DEPLOY_CODE_MS, &r);
    bool need = false;
    if (st == RVR_ENOTFOUND && r != NULL && rvr_packet_get_bool(r, "need_code", &need) == RVR_OK &&
        need) {
        rvr_packet_free(r);
        r = NULL;
        uint8_t *data;
        if ((st = read_file(d->self_path, d->self_size, &data)) != RVR_OK) {
            RVR_LOG(RVR_LOG_ERROR, "deploy: cannot read %s", d->self_path);
            return st;
        }
        req = rvr_ctl_request_new("code");
        if (req == NULL || rvr_packet_set_str(req, "program", hex) != RVR_OK ||
            rvr_packet_set_str(req, "arch", rvr_deploy_arch()) != RVR_OK ||
            rvr_packet_set_str(req, "name", base) != RVR_OK ||
            rvr_packet_set_bytes(req, "data", data, d->self_size) != RVR_OK) {
            free(data);
            rvr_packet_free(req);
            return RVR_ENOMEM;
        }
        free(data);
        RVR_LOG(RVR_LOG_INFO, "sending this program (%llu bytes, sha256 %.16s...) to VM %s",
                (unsigned long long)d->self_size, hex, tid);
        st = rvr_ctl_call(self->vm, tid, req, RVR_DEPLOY_CODE_MS, &r);
    }
    const char *reported = NULL;
    if (st == RVR_OK && (rvr_packet_get_uuid(r, "vm", child) != RVR_OK ||
                         rvr_packet_get_str(r, "addr", &reported, NULL) != RVR_OK))
        st = RVR_EPROTO;
    if (st != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "deploy to VM %s: %s", tid, reply_error(r, st));
        rvr_packet_free(r);
        return st;
    }
    char caddr[RVR_ADDR_STRLEN];
    child_addr(reported, taddr, caddr, sizeof caddr);
    rvr_packet_free(r);
    rvr_uuid got;
    st = rvr_net_connect(self->vm->net, caddr, RVR_DEPLOY_CALL_MS, &got);
    if (st == RVR_OK && !rvr_uuid_eq(&got, child))
        st = RVR_ENOTFOUND;
    if (st != RVR_OK)
        RVR_LOG(RVR_LOG_ERROR, "deploy: cannot reach the child VM at %s (%s)", caddr,
                rvr_strerror(st));
    return st;
}

static bool known_host(struct rvr_deploy *d, const rvr_uuid *target, rvr_uuid *child)
{
    for (size_t i = 0; i < d->nhosts; i++)
        if (rvr_uuid_eq(&d->hosts[i].target, target)) {
            *child = d->hosts[i].child;
            return true;
        }
    return false;
}

static void remember_host(struct rvr_deploy *d, const rvr_uuid *target, const rvr_uuid *child)
{
    for (size_t i = 0; i < d->nhosts; i++)
        if (rvr_uuid_eq(&d->hosts[i].target, target)) {
            d->hosts[i].child = *child;
            return;
        }
    if (d->nhosts == d->caphosts) {
        size_t cap = d->caphosts ? d->caphosts * 2 : 8;
        rvr_remote_host *h = realloc(d->hosts, cap * sizeof *h);
        if (h == NULL)
            return;
        d->hosts = h;
        d->caphosts = cap;
    }
    d->hosts[d->nhosts++] = (rvr_remote_host){ *target, *child };
}

static void forget_host(struct rvr_deploy *d, const rvr_uuid *target)
{
    for (size_t i = 0; i < d->nhosts; i++)
        if (rvr_uuid_eq(&d->hosts[i].target, target))
            d->hosts[i] = d->hosts[--d->nhosts];
}

/* Spawns `type` with args (a map) on VM vm, pushing this program to it
 * when it is a riverd without the type. */
static rvr_status deploy_map(rvr_vr *self, const rvr_uuid *vm, const char *type,
                             const rvr_map *args, rvr_uuid *out_id)
{
    struct rvr_deploy *d = self->vm->deploy;
    char tid[RVR_UUID_STRLEN];
    rvr_uuid_str(vm, tid);
    rvr_uuid child;
    rvr_mutex_lock(&d->push_lock);
    bool hosted = known_host(d, vm, &child);
    rvr_mutex_unlock(&d->push_lock);
    rvr_packet *r = NULL;
    rvr_status st;
    if (hosted) {
        char cid[RVR_UUID_STRLEN];
        st = spawn_call(self, rvr_uuid_str(&child, cid), type, args, &r);
        if (st == RVR_OK || (st != RVR_ENOTFOUND && st != RVR_ETIMEDOUT))
            goto done;
        rvr_packet_free(r);   /* the child is gone: start over */
        r = NULL;
        hosted = false;
        rvr_mutex_lock(&d->push_lock);
        forget_host(d, vm);
        rvr_mutex_unlock(&d->push_lock);
    }
    st = spawn_call(self, tid, type, args, &r);
    bool hosting = false;
    if (st == RVR_ENOTFOUND && r != NULL && rvr_packet_get_bool(r, "hosting", &hosting) == RVR_OK) {
        const char *arch = NULL;
        rvr_packet_get_str(r, "arch", &arch, NULL);
        if (!hosting) {
            RVR_LOG(RVR_LOG_ERROR, "deploy %s to VM %s: that VM does not have the type and "
                    "does not run pushed programs (only riverd does)", type, tid);
        } else if (self->vm->secret == NULL) {
            RVR_LOG(RVR_LOG_ERROR, "deploy %s to VM %s: that VM does not have the type, and "
                    "code is sent only over an authenticated connection: give both VMs the "
                    "same cluster secret (--secret-file FILE or RIVER_SECRET_FILE)", type, tid);
        } else if (arch != NULL && strcmp(arch, rvr_deploy_arch()) != 0) {
            RVR_LOG(RVR_LOG_ERROR, "deploy %s to VM %s: architecture mismatch: that VM is %s, "
                    "this program is built for %s; no code sent", type, tid, arch,
                    rvr_deploy_arch());
            st = RVR_EINVAL;
        } else {
            rvr_packet_free(r);
            r = NULL;
            rvr_mutex_lock(&d->push_lock);
            if (!known_host(d, vm, &child) && (st = host_on(self, vm, &child)) == RVR_OK)
                remember_host(d, vm, &child);
            else if (known_host(d, vm, &child))
                st = RVR_OK;
            rvr_mutex_unlock(&d->push_lock);
            if (st == RVR_OK) {
                char cid[RVR_UUID_STRLEN];
                st = spawn_call(self, rvr_uuid_str(&child, cid), type, args, &r);
                vm = &child;
            } else {
                return st;   /* logged */
            }
        }
    }
done:
    if (st == RVR_OK) {
        rvr_uuid id;
        if (rvr_packet_get_uuid(r, "vr", &id) != RVR_OK) {
            st = RVR_EPROTO;
        } else {
            rvr_net_learn(self->vm->net, &id, hosted ? &child : vm, NULL);
            if (out_id != NULL)
                *out_id = id;
        }
    } else if (r != NULL && !rvr_packet_has(r, "hosting")) {
        RVR_LOG(RVR_LOG_ERROR, "deploy %s to VM %s: %s", type, tid, reply_error(r, st));
    }
    rvr_packet_free(r);
    return st;
}

rvr_status rvr_deploy_remote(rvr_vr *self, const rvr_uuid *vm, const rvr_vr_type *type,
                             const void *args, rvr_uuid *out_id)
{
    if (self->vm->net == NULL)
        return RVR_ENOTFOUND;
    rvr_map *m;
    rvr_status st = rvr_args_to_map(type, args, &m);
    if (st != RVR_OK)
        return st;
    st = deploy_map(self, vm, type->name, m, out_id);
    rvr_map_free(m);
    return st;
}

rvr_status rvr_deploy_by_name(rvr_vr *self, const rvr_uuid *vm, const char *type,
                              const rvr_packet *args, rvr_uuid *out_id)
{
    if (self == NULL || type == NULL)
        return RVR_EINVAL;
    const rvr_map *m = args != NULL ? rvr_packet_attrs(args) : NULL;
    if (vm != NULL && !rvr_uuid_is_nil(vm) && !rvr_uuid_eq(vm, &self->vm->id)) {
        if (self->vm->net == NULL)
            return RVR_ENOTFOUND;
        return deploy_map(self, vm, type, m, out_id);
    }
    const rvr_vr_type *t = rvr_vr_type_find(type);
    if (t == NULL) {
        RVR_LOG(RVR_LOG_ERROR, "deploy: this program has no VR type %s", type);
        return RVR_ENOTFOUND;
    }
    void *a;
    char e[300];
    rvr_status st = rvr_args_from_map(t, m, &a, e, sizeof e);
    if (st != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "deploy: %s", e);
        return st;
    }
    st = rvr_vm_spawn(self->vm, t, a, &self->id, out_id);
    rvr_args_free(t, a);
    return st;
}
