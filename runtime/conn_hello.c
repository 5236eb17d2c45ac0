/* conn_hello.c — the handshake of a connection (see conn.c): the
 * preamble and HELLO each side writes, the choice between simultaneous
 * connections of one VM pair, and attaching the winner to its peer. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_auth.h"
#include "control.h"
#include "transport_impl.h"

static void fill_hello(rvr_net *net, rvr_wire_hello *h)
{
    memset(h, 0, sizeof *h);
    h->vm_id = net->vm->id;
    snprintf(h->listen_addr, sizeof h->listen_addr, "%s", net->addr_text);
    h->max_frame = net->lim.max_frame;
}

void rvr_conn_start(rvr_net *net, conn *c)
{
    rvr_buf b = { 0 };
    uint8_t pre[RVR_WIRE_PREAMBLE_LEN];
    rvr_wire_preamble(pre);
    rvr_status st = rvr_buf_append(&b, pre, sizeof pre);
    if (st == RVR_OK && c->initiated) {
        rvr_wire_hello h;
        fill_hello(net, &h);
        h.peer_vm_id = c->expect;
        if (!rvr_conn_auth_hello_out(net, c, &h)) {   /* failed c */
            rvr_buf_free(&b);
            return;
        }
        st = rvr_wire_put_hello(&b, &h);
    }
    if (st != RVR_OK)
        rvr_conn_fail(net, c, RVR_LOG_WARN, "cannot build the handshake: %s", rvr_strerror(st));
    else
        rvr_conn_send_now(net, c, &b, "the handshake");
    rvr_buf_free(&b);
}

/* The connection now carries p's messages. */
void rvr_conn_attach(rvr_net *net, conn *c, peer *p)
{
    char id[RVR_UUID_STRLEN];
    c->peer = p;
    c->state = C_READY;
    snprintf(c->desc, sizeof c->desc, "VM %.8s at %s", rvr_uuid_str(&p->id, id),
             p->addr_text[0] ? p->addr_text : "?");
    frame *partial = NULL;
    rvr_spin_lock(&p->q_lock);
    conn *old = p->wconn != c ? p->wconn : NULL;
    if (old != NULL)
        rvr_peer_drop_partial(p, &partial);   /* its rest must not start the new stream */
    if (p->out == c)
        p->out = NULL;
    p->wconn = c;
    p->blocked = p->kick = false;
    p->need_connect = false;
    p->dup_refusals = 0;
    rvr_spin_unlock(&p->q_lock);
    if (partial != NULL) {
        if (partial->is_msg)
            rvr_bounce_frame(net, partial, &p->id, "connection replaced");
        rvr_frame_free(partial);
    }
    if (old != NULL)
        rvr_conn_fail(net, old, RVR_LOG_INFO, "replaced by a newer connection");
    RVR_LOG(RVR_LOG_INFO, "connected to %s (%s)", c->desc, c->initiated ? "outgoing" : "incoming");
    if (c->seed >= 0) {
        rvr_net_seed_done(net, c->seed, true, p);
        c->seed = -1;
    }
    rvr_net_peer_changed(net);
    rvr_spin_lock(&p->q_lock);
    rvr_peer_drain_locked(net, p);   /* what waited for the connection */
}

static void hello_as_acceptor(rvr_net *net, conn *c, const rvr_wire_hello *h)
{
    char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN];
    rvr_wire_hello r;
    fill_hello(net, &r);
    r.peer_vm_id = h->vm_id;
    if (!rvr_uuid_is_nil(&h->peer_vm_id) && !rvr_uuid_eq(&h->peer_vm_id, &net->vm->id)) {
        r.status = RVR_HELLO_REFUSED;
        snprintf(r.reason, sizeof r.reason, "this is VM %s, not %s", rvr_uuid_str(&net->vm->id, a),
                 rvr_uuid_str(&h->peer_vm_id, b));
    }
    rvr_conn_auth_check_hello(net, c, h, &r);   /* cluster secret: both or neither */
    peer *p = NULL;
    conn *ours = NULL;
    if (r.status == RVR_HELLO_OK) {
        if ((p = rvr_peer_get(net, &h->vm_id, true)) == NULL) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "out of memory");
            return;
        }
        rvr_net_learn_addr(net, p, h->listen_addr, c);
        __atomic_store_n(&p->max_frame, h->max_frame, __ATOMIC_RELAXED);
        /* Both sides connecting at once: the smaller VM's connection wins.
         * Ours may be ready already (its HELLO answered first), while the
         * peer, larger, has dropped its own connection for ours and this
         * HELLO was on its way: accepting it would replace a working
         * connection by a dead one, and what we wrote on it would be
         * lost with it.  A connection the peer made (not ours) is
         * replaced: the peer gave it up. */
        rvr_spin_lock(&p->q_lock);
        conn *mine = p->out != NULL ? p->out
                     : p->wconn != NULL && p->wconn->initiated ? p->wconn : NULL;
        if (mine != NULL) {
            if (memcmp(net->vm->id.bytes, h->vm_id.bytes, 16) < 0) {
                r.status = RVR_HELLO_DUPLICATE;
                snprintf(r.reason, sizeof r.reason, "simultaneous connect: keeping the one from %s",
                         rvr_uuid_str(&net->vm->id, a));
            } else if (mine == p->out) {
                ours = mine;
            }
        }
        rvr_spin_unlock(&p->q_lock);
    }
    rvr_buf out = { 0 };
    rvr_status st = rvr_wire_put_hello(&out, &r);
    bool sent = st == RVR_OK && rvr_conn_send_now(net, c, &out, "the handshake");
    rvr_buf_free(&out);
    if (!sent) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "cannot answer HELLO");
        return;
    }
    if (r.status != RVR_HELLO_OK) {
        rvr_conn_fail(net, c, r.status == RVR_HELLO_DUPLICATE ? RVR_LOG_DEBUG : RVR_LOG_WARN,
                      "%s", r.reason);
        return;
    }
    if (ours != NULL) {
        /* A duplicate, not a failure: what waits in p's queue goes on this
         * connection (attached next), it must not be bounced. */
        ours->dup = true;
        rvr_conn_fail(net, ours, RVR_LOG_DEBUG, "simultaneous connect: keeping the one from %s",
                      rvr_uuid_str(&h->vm_id, b));
    }
    /* With a cluster secret, the AUTH proofs come first (conn_auth.h). */
    if (c->auth != NULL)
        rvr_conn_auth_park(c, p);
    else
        rvr_conn_attach(net, c, p);
}

static void hello_as_initiator(rvr_net *net, conn *c, const rvr_wire_hello *h)
{
    if (h->status == RVR_HELLO_DUPLICATE) {
        peer *p = rvr_peer_get(net, &h->vm_id, true);
        if (p != NULL) {
            rvr_spin_lock(&p->q_lock);
            p->dup_refusals++;
            p->retry_at = rvr_now_ns() + (uint64_t)p->dup_refusals * 100000000u;
            rvr_spin_unlock(&p->q_lock);
            if (c->peer == NULL)
                c->peer = p;
        }
        c->dup = true;
        rvr_conn_fail(net, c, RVR_LOG_DEBUG, "%s", h->reason);
        return;
    }
    if (h->status != RVR_HELLO_OK) {
        rvr_conn_fail(net, c, RVR_LOG_ERROR, "refused by the peer: %s",
                      h->reason[0] ? h->reason : "no reason given");
        return;
    }
    if (!rvr_uuid_is_nil(&c->expect) && !rvr_uuid_eq(&c->expect, &h->vm_id)) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "another VM answers at that address now");
        return;
    }
    peer *p = c->peer != NULL ? c->peer : rvr_peer_get(net, &h->vm_id, true);
    if (p == NULL) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "out of memory");
        return;
    }
    if (c->peer == NULL) {
        /* Connected by address only (a seed): now it has a name. */
        rvr_spin_lock(&p->q_lock);
        bool busy = p->wconn != NULL || p->out != NULL;
        if (!busy)
            p->out = c;
        rvr_spin_unlock(&p->q_lock);
        c->peer = p;
        if (busy) {
            /* Already connected: keep the older one. */
            if (c->seed >= 0) {
                rvr_net_seed_done(net, c->seed, true, p);
                c->seed = -1;
            }
            c->peer = NULL;   /* this connection never carried p's messages */
            rvr_conn_fail(net, c, RVR_LOG_DEBUG, "already connected to that VM");
            return;
        }
    }
    rvr_net_learn_addr(net, p, h->listen_addr, c);
    __atomic_store_n(&p->max_frame, h->max_frame, __ATOMIC_RELAXED);
    if (!rvr_conn_auth_initiator(net, c, h))
        return;   /* failed */
    if (c->auth != NULL)
        rvr_conn_auth_park(c, p);   /* attached once the acceptor's proof checks */
    else
        rvr_conn_attach(net, c, p);
}

void rvr_conn_on_hello(rvr_net *net, conn *c, const uint8_t *p, size_t n)
{
    rvr_wire_hello h;
    if (rvr_wire_get_hello(p, n, &h) != RVR_OK) {
        rvr_conn_fail(net, c, RVR_LOG_WARN, "malformed HELLO");
        return;
    }
    if (rvr_uuid_eq(&h.vm_id, &net->vm->id)) {
        rvr_conn_fail(net, c, RVR_LOG_INFO, "connected to itself");
        return;
    }
    if (c->initiated)
        hello_as_initiator(net, c, &h);
    else
        hello_as_acceptor(net, c, &h);
}

/* ---- frames ---------------------------------------------------------------- */

