/* vr.c — what a VR does: identity, send, selective receive. */
#include <stdlib.h>
#include <string.h>

#include "packet_impl.h"
#include "transport.h"
#include "vm.h"

const rvr_uuid *rvr_self(const rvr_vr *self) { return &self->id; }
const rvr_uuid *rvr_parent(const rvr_vr *self) { return &self->parent; }
const rvr_uuid *rvr_vm_id(const rvr_vr *self) { return &self->vm->id; }
const rvr_vr_type *rvr_vr_type_of(const rvr_vr *self) { return self->type; }

bool rvr_stopping(const rvr_vr *self)
{
    return atomic_load_explicit(&self->vm->stopping, memory_order_relaxed);
}

size_t rvr_pending(rvr_vr *self)
{
    return rvr_mailbox_count(&self->mb);
}

rvr_status rvr_list_vrs(rvr_vr *self, rvr_uuid **out, size_t *n)
{
    if (self == NULL || out == NULL || n == NULL)
        return RVR_EINVAL;
    rvr_vm *vm = self->vm;
    pthread_rwlock_rdlock(&vm->reg_lock);
    rvr_uuid *ids = malloc((vm->count ? vm->count : 1) * sizeof *ids);
    size_t k = 0;
    if (ids != NULL)
        for (size_t i = 0; i < vm->nslots; i++)
            for (rvr_vr *v = vm->slots[i]; v != NULL; v = v->hnext)
                ids[k++] = v->id;
    pthread_rwlock_unlock(&vm->reg_lock);
    if (ids == NULL)
        return RVR_ENOMEM;
    *out = ids;
    *n = k;
    return RVR_OK;
}

void rvr_vr_drop_dst_cache(rvr_vr *vr)
{
    for (unsigned i = 0; i < 2; i++) {
        if (vr->dst_cache[i] != NULL)
            rvr_vr_unref(vr->dst_cache[i]);
        vr->dst_cache[i] = NULL;
    }
}

/* A referenced local VR `dst`, from the cache or the registry; NULL when
 * no local VR has that UUID.  The caller drops the reference. */
static rvr_vr *local_dst(rvr_vr *self, const rvr_uuid *dst)
{
    for (unsigned i = 0; i < 2; i++) {
        rvr_vr *c = self->dst_cache[i];
        if (c != NULL && rvr_uuid_same(&c->id, dst)) {
            atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
            return c;
        }
    }
    rvr_vr *to = rvr_vm_ref_vr(self->vm, dst);
    if (to != NULL) {
        unsigned slot = self->dst_next++ & 1;
        if (self->dst_cache[slot] != NULL)
            rvr_vr_unref(self->dst_cache[slot]);
        atomic_fetch_add_explicit(&to->refs, 1, memory_order_relaxed);
        self->dst_cache[slot] = to;
    }
    return to;
}

/* Forgets a cached VR that turned out to have ended. */
static void forget_dst(rvr_vr *self, rvr_vr *gone)
{
    for (unsigned i = 0; i < 2; i++)
        if (self->dst_cache[i] == gone) {
            self->dst_cache[i] = NULL;
            rvr_vr_unref(gone);
        }
}

/* rvr_send past its common case. */
static __attribute__((noinline)) rvr_status send_other(rvr_vr *self, const rvr_uuid *dst,
                                                       rvr_packet *p)
{
    rvr_status st;
    rvr_uuid old = p->src;
    p->src = self->id;
    rvr_net *net = self->vm->net;
    /* A VR known to be remote is never local: skip the registry. */
    bool remote = net != NULL && rvr_net_route_valid(net, &self->route, dst);
    rvr_vr *to = remote ? NULL : local_dst(self, dst);
    if (to != NULL) {
        /* A local VR: straight into its mailbox, no socket involved. */
        st = rvr_mailbox_push(&to->mb, p);
        if (st == RVR_ENOTFOUND)
            forget_dst(self, to);   /* it has ended */
        rvr_vr_unref(to);
    } else if (net != NULL) {
        st = rvr_net_send(net, dst, p, &self->route, remote);   /* remote, or nowhere */
    } else {
        st = RVR_ENOTFOUND;
    }
    if (st != RVR_OK)
        p->src = old;
    return st;
}

rvr_status rvr_send(rvr_vr *self, const rvr_uuid *dst, rvr_packet *p)
{
    if (self == NULL || dst == NULL || p == NULL)
        return RVR_EINVAL;
    if (rvr_stopping(self))
        return RVR_ECLOSED;
    rvr_net *net = self->vm->net;
    if (net != NULL && rvr_net_send_small(net, &self->id, dst, p, &self->route))
        return RVR_OK;   /* the common case: a small message to a VR known to be remote */
    return send_other(self, dst, p);
}

static bool net_poll(void *net, int timeout_ms, const _Atomic uint64_t *news, uint64_t seen)
{
    return rvr_net_poll(net, timeout_ms, news, seen);
}
static void net_poke(void *net) { rvr_net_poke(net); }
static void net_lease(void *net, bool on) { rvr_net_lease(net, on); }
static void net_keep(void *net, _Atomic bool *kept) { rvr_net_lease_keep(net, kept); }
static void net_drop(void *net, _Atomic bool *kept) { rvr_net_lease_drop(net, kept); }

/* A VM with a transport: a receiver waits for the sockets itself
 * (receive-side polling, transport.h).  Set once (the transport never
 * changes), then the take; out of line, so that a receive's every call is
 * a test and a jump. */
static __attribute__((noinline)) rvr_status take_first(rvr_vr *self, const rvr_match *m,
                                                       int timeout_ms, bool peek,
                                                       rvr_packet **out)
{
    rvr_mb_poller pl = { net_poll, net_poke, net_lease, net_keep, net_drop, self->vm->net };
    rvr_mailbox_set_poller(&self->mb, &pl);
    return rvr_mailbox_take(&self->mb, m, timeout_ms, peek, out);
}

rvr_status rvr_recv(rvr_vr *self, const rvr_match *m, int timeout_ms, rvr_packet **out)
{
    if (self == NULL || out == NULL)
        return RVR_EINVAL;
    if (self->mb.poller.ctx != self->vm->net)
        return take_first(self, m, timeout_ms, false, out);
    return rvr_mailbox_take(&self->mb, m, timeout_ms, false, out);
}

rvr_status rvr_peek(rvr_vr *self, const rvr_match *m, int timeout_ms, rvr_packet **out)
{
    if (self == NULL || out == NULL)
        return RVR_EINVAL;
    if (self->mb.poller.ctx != self->vm->net)
        return take_first(self, m, timeout_ms, true, out);
    return rvr_mailbox_take(&self->mb, m, timeout_ms, true, out);
}
