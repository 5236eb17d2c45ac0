/* resolve.c — finding VRs and VMs: WHOIS questions and answers,
 * rvr_net_locate, rvr_net_connect (by address), rvr_net_learn.
 *
 * A send to a VR that is neither local nor in the naming cache asks every
 * connected VM "WHOIS vr?" (after the seed connections have settled) and
 * waits until one answers with the VM hosting it, all have answered that
 * they do not know, or cfg.resolve_ms passes.  A VM answers from its own
 * registry (the VR runs here) or its naming cache (with the address of
 * the VM it learned). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport_impl.h"

static void send_whois(rvr_net *net, peer *p, uint8_t type, const rvr_wire_whois *w)
{
    frame *f = rvr_frame_new(RVR_WIRE_HDR_LEN + 64 + sizeof w->addr);
    if (f != NULL && rvr_wire_put_whois(&f->buf, type, w) == RVR_OK)
        rvr_peer_enqueue(net, p, f);
    else
        rvr_frame_free(f);
}

static bool lookup(rvr_net *net, const rvr_uuid *vr, rvr_uuid *vm)
{
    return rvr_naming_lookup(net->naming, vr, vm) && !rvr_uuid_eq(vm, &net->vm->id);
}

rvr_status rvr_net_locate(rvr_net *net, const rvr_uuid *vr, int timeout_ms, rvr_uuid *vm)
{
    if (lookup(net, vr, vm))
        return RVR_OK;
    if (timeout_ms == 0)
        return RVR_ENOTFOUND;
    uint64_t deadline = rvr_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 3600000) * 1000000u;
    rvr_mutex_lock(&net->lock);
    bool wake = rvr_seeds_restart(net);
    rvr_mutex_unlock(&net->lock);
    if (wake)
        rvr_net_wake(net);

    whois_req r;
    memset(&r, 0, sizeof r);
    r.vr = *vr;
    rvr_mutex_lock(&net->lock);
    while (net->seeds_pending > 0 && !atomic_load(&net->stopping) &&
           rvr_cond_wait_until(&net->cond, &net->lock, deadline))
        ;
    r.id = ++net->next_req;
    for (peer *p = net->peers; p != NULL && r.nasked < (int)(sizeof r.asked / sizeof r.asked[0]);
         p = p->next) {
        rvr_spin_lock(&p->q_lock);
        if (p->wconn != NULL)
            r.asked[r.nasked++] = p;
        rvr_spin_unlock(&p->q_lock);
    }
    r.waiting = r.nasked;
    r.next = net->reqs;
    net->reqs = &r;
    rvr_mutex_unlock(&net->lock);

    rvr_wire_whois w;
    memset(&w, 0, sizeof w);
    w.vr = *vr;
    w.req = r.id;
    for (int i = 0; i < r.nasked; i++)
        send_whois(net, r.asked[i], RVR_FRAME_WHOIS, &w);

    rvr_mutex_lock(&net->lock);
    while (!r.found && r.waiting > 0 && !atomic_load(&net->stopping) &&
           rvr_cond_wait_until(&net->cond, &net->lock, deadline))
        ;
    for (whois_req **pp = &net->reqs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == &r) {
            *pp = r.next;
            break;
        }
    rvr_mutex_unlock(&net->lock);
    if (r.found) {
        *vm = r.vm;
        return RVR_OK;
    }
    return lookup(net, vr, vm) ? RVR_OK : RVR_ENOTFOUND;
}

/* A WHOIS from c's VM: answer from the registry or the naming cache. */
void rvr_net_answer_whois(rvr_net *net, conn *c, const rvr_wire_whois *q)
{
    rvr_wire_whois a;
    memset(&a, 0, sizeof a);
    a.vr = q->vr;
    a.req = q->req;
    rvr_vr *local = rvr_vm_ref_vr(net->vm, &q->vr);
    rvr_uuid vm;
    if (local != NULL) {
        rvr_vr_unref(local);
        a.vm_id = net->vm->id;
        snprintf(a.addr, sizeof a.addr, "%s", net->addr_text);
    } else if (lookup(net, &q->vr, &vm) && !rvr_uuid_eq(&vm, &c->peer->id)) {
        peer *p = rvr_peer_get(net, &vm, false);
        if (p != NULL) {
            a.vm_id = vm;
            rvr_mutex_lock(&net->lock);
            snprintf(a.addr, sizeof a.addr, "%s", p->addr_text);
            rvr_mutex_unlock(&net->lock);
        }
    }
    send_whois(net, c->peer, RVR_FRAME_WHOIS_REPLY, &a);
}

/* A WHOIS_REPLY on c. */
void rvr_net_whois_answer(rvr_net *net, conn *c, const rvr_wire_whois *w)
{
    bool known = !rvr_uuid_is_nil(&w->vm_id) && !rvr_uuid_eq(&w->vm_id, &net->vm->id);
    if (known) {
        peer *p = rvr_peer_get(net, &w->vm_id, true);
        if (p == NULL)
            return;
        rvr_net_learn_addr(net, p, w->addr, c);
        rvr_naming_learn(net->naming, &w->vr, &w->vm_id);
    }
    rvr_mutex_lock(&net->lock);
    for (whois_req *r = net->reqs; r != NULL; r = r->next) {
        if (r->id != w->req)
            continue;
        for (int i = 0; i < r->nasked; i++)
            if (r->asked[i] == c->peer) {
                r->asked[i] = NULL;
                r->waiting--;
            }
        if (known && rvr_uuid_eq(&r->vr, &w->vr)) {
            r->found = true;
            r->vm = w->vm_id;
        }
        rvr_cond_broadcast(&net->cond);
    }
    rvr_mutex_unlock(&net->lock);
}

void rvr_net_whois_peer_lost(rvr_net *net, peer *p)
{
    rvr_mutex_lock(&net->lock);
    for (whois_req *r = net->reqs; r != NULL; r = r->next)
        for (int i = 0; i < r->nasked; i++)
            if (r->asked[i] == p) {
                r->asked[i] = NULL;
                r->waiting--;
            }
    rvr_cond_broadcast(&net->cond);
    rvr_mutex_unlock(&net->lock);
}

/* ---- connecting by address, learning ----------------------------------------- */

static bool peer_up(rvr_net *net, const rvr_uuid *id)
{
    peer *p = rvr_peer_get(net, id, false);
    if (p == NULL)
        return false;
    rvr_spin_lock(&p->q_lock);
    bool up = p->wconn != NULL;
    rvr_spin_unlock(&p->q_lock);
    return up;
}

rvr_status rvr_net_connect(rvr_net *net, const char *addr, int timeout_ms, rvr_uuid *vm)
{
    rvr_sockaddr a;
    rvr_status st = rvr_addr_parse(addr, NULL, &a);
    if (st != RVR_OK)
        return st;
    uint64_t deadline = rvr_now_ns() + (uint64_t)(timeout_ms >= 0 ? timeout_ms : 3600000) * 1000000u;
    /* A VM already connected (either way) that listens there: no second
     * connection, which would replace the first on both sides. */
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL; p = p->next) {
        if (!p->has_addr || !rvr_addr_equal(&p->addr, &a))
            continue;
        rvr_spin_lock(&p->q_lock);
        bool up = p->wconn != NULL;
        rvr_spin_unlock(&p->q_lock);
        if (up) {
            *vm = p->id;
            rvr_mutex_unlock(&net->lock);
            return RVR_OK;
        }
    }
    int i = rvr_seed_add(net, addr, &a);
    if (i < 0) {
        rvr_mutex_unlock(&net->lock);
        return RVR_ENOMEM;
    }
    if (net->seeds[i].state == S_DONE) {
        rvr_uuid id = net->seeds[i].id;
        rvr_mutex_unlock(&net->lock);
        if (peer_up(net, &id)) {
            *vm = id;
            return RVR_OK;
        }
        rvr_mutex_lock(&net->lock);
        if (net->seeds[i].state == S_DONE)
            net->seeds[i].state = S_FAILED;   /* connected once, not now: again */
    }
    bool wake = rvr_seeds_restart(net);
    rvr_mutex_unlock(&net->lock);
    if (wake)
        rvr_net_wake(net);
    rvr_mutex_lock(&net->lock);
    while ((net->seeds[i].state == S_CONNECTING || net->seeds[i].state == S_IDLE) &&
           !atomic_load(&net->stopping) && rvr_cond_wait_until(&net->cond, &net->lock, deadline))
        ;
    st = net->seeds[i].state == S_DONE ? RVR_OK
       : net->seeds[i].state == S_FAILED ? RVR_ENOTFOUND : RVR_ETIMEDOUT;
    rvr_uuid id = net->seeds[i].id;
    rvr_mutex_unlock(&net->lock);
    if (st == RVR_OK)
        *vm = id;
    return st;
}

void rvr_net_learn(rvr_net *net, const rvr_uuid *vr, const rvr_uuid *vm, const char *vm_addr)
{
    if (rvr_uuid_eq(vm, &net->vm->id))
        return;
    peer *p = rvr_peer_get(net, vm, true);
    if (p == NULL)
        return;
    if (vm_addr != NULL)
        rvr_net_learn_addr(net, p, vm_addr, NULL);
    rvr_naming_learn(net->naming, vr, vm);
}
