/* conn_msg.c — MSG frames on a connection: decoding (wire_msg.c), the
 * typed conversion, naming what the sender taught us, and delivery to local
 * VRs in batches (struct conn: dvr, batch), with a "river.undeliverable"
 * notice back to the sender when the VR is gone.  The read side, so under
 * net->io_lock (transport_impl.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bigbuf.h"
#include "control.h"
#include "packet_impl.h"
#include "transport_impl.h"

static void dispatch_msg(rvr_net *net, conn *c, const rvr_wire_msg *h, rvr_packet *pkt);
static void flow_resume(void *ctx);
static void watch_reads(rvr_net *net, conn *c, bool on);

static void bad_msg(rvr_net *net, conn *c, rvr_status st)
{
    rvr_conn_fail(net, c, RVR_LOG_WARN, "bad message frame: %s",
                  st == RVR_ELIMIT ? "over a limit (attributes, depth, sizes)"
                                   : st == RVR_ENOMEM ? "out of memory" : "malformed envelope");
}

void rvr_conn_on_msg(rvr_net *net, conn *c, const uint8_t *payload, size_t n)
{
    rvr_wire_msg h;
    rvr_packet *pkt;
    /* A stream's frames by comparison with the last one; else the common
     * shape decoded, and kept when it looks like a stream.  Either way
     * c->rx holds the frame's src and dst after (wire.h). */
    pkt = rvr_wire_shape_get(&c->shape, payload, n, &c->rx);
    if (pkt == NULL && (pkt = rvr_wire_get_small(payload, n, net->lim.max_attrs, &c->rx)) != NULL)
        rvr_wire_shape_learn(&c->shape, payload, n);
    if (pkt != NULL) {
        pkt->wire_len = (uint32_t)n;
        /* A stream from one VR to one VR here: nothing to learn, its
         * mailbox at hand. */
        if (c->dvr != NULL && rvr_uuid_same(&c->rx.dst, &c->dvr_id) &&
            rvr_uuid_same(&pkt->src, &c->last_src)) {
            c->batch[c->nbatch++] = pkt;
            if (c->nbatch == RVR_CONN_BATCH)
                rvr_conn_deliver(net, c);
            return;
        }
        h.src = pkt->src;
        h.dst = c->rx.dst;
        h.tag = pkt->tag;
        h.tag_len = pkt->tag_len;
        h.schema = 0;
        h.body = NULL;
        h.body_len = 0;
        dispatch_msg(net, c, &h, pkt);
        return;
    }
    rvr_status st = rvr_wire_get_msg_in(payload, n, &net->lim, &c->rx, &h, &pkt);
    if (st != RVR_OK) {
        bad_msg(net, c, st);
        return;
    }
    pkt->wire_len = (uint32_t)n;   /* n <= max_frame < 4 GiB */
    dispatch_msg(net, c, &h, pkt);
}

size_t rvr_conn_on_stream(rvr_net *net, conn *c, const uint8_t *buf, size_t avail)
{
    /* The run goes where rvr_conn_on_msg's stream path sends a frame: from
     * the VR whose name was learned last to the VR whose mailbox is at
     * hand.  Its frames name the kept frame's src and dst, or leave them
     * out (c->rx's). */
    const rvr_wire_shape *s = &c->shape;
    rvr_wire_ids ids = c->rx;
    if (s->ids_len != 0)
        rvr_wire_ids_take(&ids, s->bytes);
    if (c->dvr == NULL || !ids.set || s->len > net->lim.max_frame ||
        !rvr_uuid_same(&ids.dst, &c->dvr_id) || !rvr_uuid_same(&ids.src, &c->last_src))
        return 0;
    size_t used = 0;
    while (c->held == NULL && c->dvr != NULL && c->state == C_READY) {
        size_t room = RVR_CONN_BATCH - c->nbatch, u;
        size_t k = rvr_wire_shape_run(s, buf + used, avail - used, &c->rx, c->batch + c->nbatch,
                                      room, &u);
        c->nbatch += (unsigned)k;
        used += u;
        if (c->nbatch == RVR_CONN_BATCH)
            rvr_conn_deliver(net, c);
        if (k < room)
            break;
    }
    return used;
}

void rvr_conn_on_big_msg(rvr_net *net, conn *c)
{
    uint8_t *tail = c->big;
    c->big = NULL;
    rvr_wire_msg h;
    rvr_packet *pkt;
    rvr_status st = rvr_wire_get_msg_tail(c->rbuf + c->rpos + RVR_WIRE_HDR_LEN, c->big_off, tail,
                                          c->big_len, &net->lim, &c->rx, &h, &pkt);
    if (st != RVR_OK) {
        rvr_big_free(tail);
        bad_msg(net, c, st);
        return;
    }
    pkt->wire_len = (uint32_t)(c->big_off + c->big_len);
    dispatch_msg(net, c, &h, pkt);
    rvr_conn_deliver(net, c);
    c->rlen = c->rpos = 0;
    c->after_big = true;
}

/* pkt (to the local dst) cannot be delivered (st): its sender is told. */
static void undeliverable(rvr_net *net, conn *c, const rvr_uuid *dst, rvr_packet *pkt,
                          rvr_status st)
{
    const char *why = st == RVR_ENOTFOUND ? "no such VR" : "the VR is ending or the VM stopping";
    rvr_uuid src = pkt->src;
    bool notice = strcmp(pkt->tag, RVR_UNDELIVERABLE_TAG) == 0;
    rvr_packet *note = notice ? NULL   /* never a notice about a notice */
                              : rvr_undeliverable_new(dst, pkt->tag, pkt->tag_len, &net->vm->id, why);
    rvr_packet_free(pkt);
    if (notice)
        return;
    if (note == NULL || rvr_peer_send_packet(net, c->peer, &src, note, SIZE_MAX, false) != RVR_OK) {
        char a[RVR_UUID_STRLEN];
        RVR_LOG(RVR_LOG_WARN, "cannot tell %s its message was undeliverable (%s)",
                rvr_uuid_str(&src, a), why);
        rvr_packet_free(note);
    }
}

void rvr_conn_deliver(rvr_net *net, conn *c)
{
    unsigned n = c->nbatch;
    if (n == 0)
        return;
    c->nbatch = 0;
    rvr_status why = RVR_OK;
    size_t k = rvr_mailbox_push_many(&c->dvr->mb, c->batch, n, &why);
    if (k == n) {
        size_t high = net->cfg.mailbox_high;
        bool own = rvr_mailbox_owner_reads(&c->dvr->mb);
        if (own && high > RVR_OWN_HIGH)
            high = RVR_OWN_HIGH;
        if (c->held == NULL && high != 0 && net->cfg.mailbox_high_bytes != 0 &&
            rvr_mailbox_flow_full(&c->dvr->mb, high, net->cfg.mailbox_high_bytes,
                                  net->cfg.flow_stall_ns, flow_resume, net)) {
            rvr_vr_ref(c->dvr);   /* not read until this mailbox drains */
            c->held = c->dvr;
            atomic_fetch_add_explicit(&net->nheld, 1, memory_order_relaxed);
            /* Read by the VR itself, which reads only when it has drained
             * its mailbox: no arrival wakes anyone meanwhile, so epoll
             * need not be told (two system calls per hold). */
            c->held_watched = own;
            if (!c->held_watched)
                watch_reads(net, c, false);
        }
        return;
    }
    rvr_vr_unref(c->dvr);   /* ending: look it up again next time */
    c->dvr = NULL;
    for (size_t i = k; i < n; i++)
        undeliverable(net, c, &c->dvr_id, c->batch[i], why);
}

/* ---- flow control (mailbox_flow.c) ----------------------------------------- */

/* While held, arrivals on c need not wake anyone (nobody reads them):
 * epoll watches it for writing only. */
static void watch_reads(rvr_net *net, conn *c, bool on)
{
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.ptr = c };
    if (on)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    epoll_ctl(net->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Called by a VR that drained its mailbox or waits: the I/O thread looks. */
static void flow_resume(void *ctx)
{
    rvr_net *net = ctx;
    uint64_t one = 1;
    ssize_t w = write(net->wakefd, &one, sizeof one);
    (void)w;   /* a full counter still wakes the thread */
}

void rvr_conn_unhold(rvr_net *net, conn *c)
{
    if (c->held == NULL)
        return;
    if (c->state != C_CLOSED && !c->held_watched)
        watch_reads(net, c, true);
    rvr_vr_unref(c->held);
    c->held = NULL;
    c->reparse = true;
    atomic_fetch_sub_explicit(&net->nheld, 1, memory_order_relaxed);
}

void rvr_conn_flow_check(rvr_net *net)
{
    for (conn *c = net->conns; c != NULL; c = c->next) {
        if (c->held == NULL || !rvr_mailbox_flow_open(&c->held->mb, net->cfg.flow_stall_ns))
            continue;
        rvr_conn_unhold(net, c);
        if (!c->on_again) {
            c->on_again = true;   /* read it now: no new edge comes for what waits */
            c->again_next = net->again;
            net->again = c;
        }
    }
}

/* Queues pkt for the local VR dst (batched, see struct conn). */
static void deliver(rvr_net *net, conn *c, const rvr_uuid *dst, rvr_packet *pkt)
{
    if (c->dvr == NULL || !rvr_uuid_same(&c->dvr_id, dst)) {
        rvr_conn_deliver(net, c);
        if (c->dvr != NULL)
            rvr_vr_unref(c->dvr);
        c->dvr_id = *dst;
        if ((c->dvr = rvr_vm_ref_vr(net->vm, dst)) == NULL) {
            undeliverable(net, c, dst, pkt, RVR_ENOTFOUND);
            return;
        }
    }
    c->batch[c->nbatch++] = pkt;
    if (c->nbatch == RVR_CONN_BATCH)
        rvr_conn_deliver(net, c);
}

static void dispatch_msg(rvr_net *net, conn *c, const rvr_wire_msg *h, rvr_packet *pkt)
{
    rvr_status st;
    peer *p = c->peer;
    if (!rvr_uuid_same(&h->src, &c->last_src)) {
        rvr_naming_learn(net->naming, &h->src, &p->id);
        c->last_src = h->src;
    }
    if (h->schema == 0 && h->body_len == 0 && rvr_uuid_same(&h->dst, &net->vm->id)) {
        rvr_conn_deliver(net, c);
        rvr_ctl_incoming(net, &p->id, pkt);   /* to the VM itself: its control plane */
        return;
    }
    if (h->schema != 0 || h->body_len > 0) {
        st = rvr_typed_from_wire(pkt, h->schema, h->body, h->body_len,
                                 rvr_sdesc_table_find(&c->schemas, h->schema), &net->lim);
        if (st != RVR_OK) {
            rvr_packet_free(pkt);
            rvr_conn_fail(net, c, RVR_LOG_WARN, "bad typed message %.*s (schema %016llx): %s",
                          (int)h->tag_len, h->tag, (unsigned long long)h->schema,
                          st == RVR_ENOTFOUND ? "its schema was never described (SCHEMA frame)"
                          : st == RVR_ELIMIT ? "over a limit (depth, array bound, attributes)"
                          : st == RVR_ENOMEM ? "out of memory" : "malformed body");
            return;
        }
    }
    deliver(net, c, &h->dst, pkt);
}
