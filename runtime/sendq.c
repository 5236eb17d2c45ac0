/* sendq.c — per-peer send queues: pooled frames, write combining with
 * writev, adaptive coalescing of back-to-back sends, hand-off to the I/O
 * thread on EAGAIN, and the frames of messages that will never be written
 * handed to undeliverable.c.  See transport_impl.h for the locking protocol.
 *
 * Coalescing.  A send that comes less than cfg.coalesce_ns after the end of
 * the previous send to the same peer (a stream of one-way messages) is
 * appended without writing: small MSG frames are copied into the queue's
 * unwritten tail frame, and the peer is "armed".  The batch goes out with
 * the first of: the queue reaching cfg.batch_bytes (that sender writes it),
 * the I/O thread cfg.flush_ns after the batch began (later while the
 * sender still appends, up to FLUSH_WAIT_MAX: it writes its own stream,
 * from the core where the frames are warm; during a stream the I/O thread
 * looks less often, sendq_flush.c), or a VR about to wait for the sockets
 * in rvr_recv (rvr_net_poll).  The I/O thread is woken (eventfd)
 * only when it is not already watching armed peers, so a steady stream
 * costs the sender no system call but its own writes, and the I/O thread
 * one wake-up per cfg.flush_ns at most.  A send after a pause
 * (request/response traffic) writes at once.  When the socket is full
 * (EAGAIN) the I/O thread writes once it drains, but a sender with a
 * batch's worth queued first waits a little for that itself
 * (sender_waits): a stream then keeps one thread per side busy, not three.
 * One queue per peer keeps FIFO per sender->receiver. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>

#include "packet_impl.h"
#include "transport_impl.h"

/* How long a sender waits for a full socket to drain (sender_waits). */
#define OUT_WAIT_MS 2
/* Packets up to this are encoded on the stack and appended to the queue's
 * tail frame (rvr_peer_send_packet): a quarter of a pooled frame. */
#define SMALL_FRAME (RVR_FRAME_POOL_CAP / 4)

/* ---- writing --------------------------------------------------------------- */

static size_t flen(const frame *f) { return f->buf.len + f->extbytes; }

/* The unwritten rest of f as iovecs (at most max); how many. */
static int frame_iov(const frame *f, struct iovec *iov, int max)
{
    size_t skip = f->off, pos = 0;
    int n = 0;
    for (size_t i = 0; i <= f->next_ext && n < max; i++) {
        const uint8_t *seg[2];
        size_t len[2];
        size_t end = i < f->next_ext ? f->ext[i].at : f->buf.len;
        seg[0] = f->buf.data + pos;
        len[0] = end - pos;
        seg[1] = i < f->next_ext ? f->ext[i].p : NULL;
        len[1] = i < f->next_ext ? f->ext[i].n : 0;
        pos = end;
        for (int k = 0; k < 2 && n < max; k++) {
            if (skip >= len[k]) {
                skip -= len[k];
                continue;
            }
            iov[n].iov_base = (void *)(seg[k] + skip);
            iov[n].iov_len = len[k] - skip;
            skip = 0;
            n++;
        }
    }
    return n;
}

#define MAX_IOV 256

/* Removes a partly written head frame (the connection it went to is gone:
 * the rest must not start the next connection) onto *bounced. */
static void drop_partial_head(peer *p, frame **bounced)
{
    frame *f = p->qhead;
    if (f == NULL || f->off == 0)
        return;
    p->qhead = f->next;
    if (p->qhead == NULL)
        p->qtail = NULL;
    p->qbytes -= flen(f);
    if (f->is_msg && f->next_ext == 0) {
        /* A coalesced frame: the messages written whole went out; only the
         * one cut short and those after it are undeliverable.  (They stay
         * where they are: one may have left out the src and dst that one
         * written before it named.) */
        size_t pos = 0;
        while (f->buf.len - pos >= RVR_WIRE_HDR_LEN) {
            uint32_t len;
            uint8_t type;
            rvr_wire_header(f->buf.data + pos, &len, &type);
            size_t end = pos + RVR_WIRE_HDR_LEN + (size_t)len;
            if (end > f->off || end > f->buf.len)
                break;
            pos = end;
        }
        f->bounce_from = pos;
    }
    f->next = *bounced;
    *bounced = f;
}

void rvr_peer_drop_partial(peer *p, frame **bounced)
{
    if (!p->writing)
        drop_partial_head(p, bounced);   /* else the writer does it when it returns */
}

void rvr_peer_drain_locked(rvr_net *net, peer *p)
{
    p->armed = false;   /* the writer (this thread or the one writing) takes it all */
    if (p->writing) {
        rvr_spin_unlock(&p->q_lock);
        return;
    }
    p->writing = true;
    frame *done = NULL, *bounced = NULL, *refused = NULL;
    conn *c;
    while ((c = p->wconn) != NULL && !p->blocked && p->qhead != NULL) {
        rvr_peer_describe_schemas(p, c, &refused, MAX_IOV);
        if (p->qhead == NULL)
            break;
        struct iovec iov[MAX_IOV];
        int n = 0;
        frame *last = NULL;
        for (frame *f = p->qhead; f != NULL && n < MAX_IOV; f = f->next) {
            n += frame_iov(f, iov + n, MAX_IOV - n);
            last = f;
        }
        p->wlast = last;   /* frames up to it are being written: not appended to */
        rvr_conn_ref(c);
        p->kick = false;
        rvr_spin_unlock(&p->q_lock);
        ssize_t w = rvr_sock_writev(c->fd, iov, n);
        int err = errno;
        if (w < 0 && err != EAGAIN)
            shutdown(c->fd, SHUT_RDWR);   /* the I/O thread sees it and cleans up */
        rvr_conn_unref(c);
        rvr_spin_lock(&p->q_lock);
        p->wlast = NULL;
        if (w > 0)
            p->waited = false;   /* the socket drains: a sender may wait for it again */
        size_t left = w > 0 ? (size_t)w : 0;
        while (p->qhead != NULL && left > 0) {
            frame *f = p->qhead;
            size_t rest = flen(f) - f->off;
            if (left < rest) {
                f->off += left;
                break;
            }
            left -= rest;
            p->qhead = f->next;
            if (p->qhead == NULL)
                p->qtail = NULL;
            p->qbytes -= flen(f);
            f->next = done;
            done = f;
        }
        rvr_peer_room_signal(p);
        if (p->wconn != c) {
            drop_partial_head(p, &bounced);   /* closed meanwhile; maybe replaced */
            continue;
        }
        if (w < 0) {
            if (err == EAGAIN && p->kick)
                continue;   /* room appeared while we wrote */
            p->blocked = true;   /* EAGAIN: the I/O thread resumes on EPOLLOUT */
        }
    }
    p->writing = false;
    frame *all = NULL;
    char why[sizeof p->bounce_why];   /* not zeroed: a write path, used only below */
    why[0] = '\0';
    if (p->bounce_later) {
        /* rvr_peer_bounce_all came while we wrote: ours to do now. */
        p->bounce_later = false;
        memcpy(why, p->bounce_why, sizeof why);
        all = rvr_peer_take_all_locked(p);
    }
    rvr_uuid vm = p->id;
    rvr_spin_unlock(&p->q_lock);
    rvr_bounce_frames(net, p, all, why);
    while (done != NULL) {
        frame *nx = done->next;
        rvr_frame_free(done);
        done = nx;
    }
    while (bounced != NULL) {
        frame *nx = bounced->next;
        if (bounced->is_msg)
            rvr_bounce_frame(net, bounced, &vm, "connection lost");
        rvr_frame_free(bounced);
        bounced = nx;
    }
    while (refused != NULL) {
        frame *nx = refused->next;
        rvr_bounce_frame(net, refused, &vm,
                         "its schema cannot be described on this connection (limit or memory)");
        rvr_frame_free(refused);
        refused = nx;
    }
}

static void wake_io(rvr_net *net)
{
    uint64_t one = 1;
    ssize_t w = write(net->wakefd, &one, sizeof one);
    (void)w;   /* a full counter still wakes the thread */
}

void rvr_peer_room_signal(peer *p)
{
    if (p->qwaiters == 0)
        return;
    rvr_mutex_lock(&p->room_lock);
    p->room_gen++;
    rvr_cond_broadcast(&p->room_cond);
    rvr_mutex_unlock(&p->room_lock);
}

/* With q_lock held: waits while more than cfg.max_queue bytes wait for p
 * and it is (being) connected (back-pressure).  Sleeps on room_cond with
 * q_lock released (a spin lock is not waited on), at most 100 ms at a
 * time. */
static void wait_room_locked(rvr_net *net, peer *p)
{
    while (p->qbytes > net->cfg.max_queue &&
           (p->wconn != NULL || p->out != NULL || p->need_connect) &&
           !atomic_load(&net->stopping)) {
        uint64_t gen = p->room_gen, until = rvr_now_ns() + 100000000u;
        p->qwaiters++;
        rvr_spin_unlock(&p->q_lock);
        rvr_mutex_lock(&p->room_lock);
        while (p->room_gen == gen && rvr_cond_wait_until(&p->room_cond, &p->room_lock, until))
            ;
        rvr_mutex_unlock(&p->room_lock);
        rvr_spin_lock(&p->q_lock);
        p->qwaiters--;
    }
}

/* A tail frame more small messages may be appended to (one iovec for
 * many): not one a writer is writing right now. */
static bool appendable(const peer *p, const frame *t)
{
    return t != NULL && t->is_msg && t->next_ext == 0 && t->off == 0 && t != p->wlast;
}

/* A peer was armed: the I/O thread watches for its batch's flush time,
 * woken unless it watches already. */
static inline void watch_armed(rvr_net *net)
{
    if (!atomic_load_explicit(&net->flush_req, memory_order_relaxed) &&
        !atomic_exchange(&net->flush_req, true))
        wake_io(net);
}

/* With q_lock held, p blocked (its socket full) and a batch's worth
 * queued: the sender waits up to OUT_WAIT_MS for the socket to drain, to
 * write the queue itself, from its own core.  (Left to the I/O thread, a
 * stream kept three threads busy on two cores: that thread took a fifth
 * of a core, woken by the receiver's acknowledgements, and preempted the
 * receiver.)  True when the caller may write now; q_lock is held again
 * either way.  After waiting in vain, senders leave this blocked spell to
 * the I/O thread (p->waited, until a write succeeds). */
static bool sender_waits(peer *p)
{
    conn *c = p->wconn;
    rvr_conn_ref(c);
    rvr_spin_unlock(&p->q_lock);
    struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
    int ready = poll(&pfd, 1, OUT_WAIT_MS);
    rvr_conn_unref(c);
    rvr_spin_lock(&p->q_lock);
    if (p->wconn != c || !p->blocked || p->writing)
        return false;   /* written meanwhile, or another connection: as usual */
    p->waited = ready <= 0;
    return ready > 0;
}

/* With q_lock held, after frames were appended: connects, coalesces or
 * writes (see the top of this file); releases q_lock, then frees spare.
 * `wait`: the caller (a VR's send) may wait for a full socket. */
static void appended_locked(rvr_net *net, peer *p, frame *spare, bool wait)
{
    p->appends++;
    if (p->wconn == NULL) {
        bool wake = false;
        if (p->out == NULL && !p->need_connect) {
            p->need_connect = true;
            wake = true;
        }
        rvr_spin_unlock(&p->q_lock);
        rvr_frame_free(spare);
        if (wake)
            rvr_net_wake(net);
        return;
    }
    if (wait && p->blocked && !p->writing && !p->waited && p->qbytes >= net->cfg.batch_bytes &&
        sender_waits(p))
        p->blocked = false;   /* drained: written below */
    if (p->writing || p->blocked) {
        /* Another thread is writing this queue: it writes what we appended
         * before it stops (it loops while frames wait), so a stream keeps
         * that thread writing while this one only encodes.  Or the socket
         * is full: the I/O thread writes when it drains (EPOLLOUT). */
        rvr_spin_unlock(&p->q_lock);
        rvr_frame_free(spare);
        return;
    }
    bool coalesce = false;
    if (net->cfg.coalesce_ns != 0 && p->qbytes < net->cfg.batch_bytes) {
        /* While a batch is open no clock is read: one read per batch, not
         * per message (a clock read costs as much as the rest of a send). */
        if (!(coalesce = p->armed)) {
            uint64_t now = rvr_now_ns();
            uint64_t last = __atomic_load_n(&p->last_ns, __ATOMIC_RELAXED);
            if ((coalesce = now - last < net->cfg.coalesce_ns)) {
                p->armed = true;   /* flushed by the I/O thread, or by rvr_net_poll */
                p->armed_ns = p->batch_ns = now;
                p->appends_seen = p->appends;
            }
        }
    }
    if (coalesce) {
        rvr_spin_unlock(&p->q_lock);
        rvr_frame_free(spare);
        watch_armed(net);
        return;
    }
    rvr_peer_drain_locked(net, p);
    if (net->cfg.coalesce_ns != 0)
        __atomic_store_n(&p->last_ns, rvr_now_ns(), __ATOMIC_RELAXED);
    rvr_frame_free(spare);
}

/* Appends f (taking it) and writes if nobody is; `wait`: first waits for
 * queue room (back-pressure). */
/* True if t can also carry the typed MSGs of f. */
static bool takes_schemas(const frame *t, const frame *f)
{
    unsigned add = 0;
    for (unsigned i = 0; i < f->nschemas; i++) {
        bool has = false;
        for (unsigned j = 0; j < t->nschemas && !has; j++)
            has = t->schemas[j] == f->schemas[i];
        add += !has;
    }
    return t->nschemas + add <= RVR_FRAME_SCHEMAS;
}

static void enqueue(rvr_net *net, peer *p, frame *f, bool wait)
{
    f->next = NULL;
    rvr_spin_lock(&p->q_lock);
    if (wait)
        wait_room_locked(net, p);
    frame *t = p->qtail, *spare = NULL;
    if (f->is_msg && f->next_ext == 0 && appendable(p, t) &&
        t->buf.cap - t->buf.len >= f->buf.len && takes_schemas(t, f)) {
        /* Into the unwritten tail: one buffer, one iovec for many messages. */
        memcpy(t->buf.data + t->buf.len, f->buf.data, f->buf.len);
        t->buf.len += f->buf.len;
        t->ids_at = 0;   /* f's MSGs name their src and dst: the next one too */
        for (unsigned i = 0; i < f->nschemas; i++)
            rvr_frame_add_schema(t, f->schemas[i]);
        spare = f;
    } else {
        if (t != NULL)
            t->next = f;
        else
            p->qhead = f;
        p->qtail = f;
    }
    p->qbytes += flen(f);
    appended_locked(net, p, spare, wait);
}

void rvr_peer_enqueue(rvr_net *net, peer *p, frame *f)
{
    enqueue(net, p, f, false);
}

/* Locks pe's queue (after waiting for room, with `wait`) and returns its
 * unwritten tail frame when n more bytes fit in it, the lock held; else
 * NULL, unlocked. */
static frame *tail_for(rvr_net *net, peer *pe, size_t n, bool wait)
{
    rvr_spin_lock(&pe->q_lock);
    if (wait && pe->qbytes > net->cfg.max_queue)   /* its first test, without a call */
        wait_room_locked(net, pe);
    frame *t = pe->qtail;
    if (appendable(pe, t) && t->buf.cap - t->buf.len >= n)
        return t;
    rvr_spin_unlock(&pe->q_lock);
    return NULL;
}

/* After p's n-byte frame went into tail_for's tail t: counts it, writes
 * or coalesces (releasing the lock), frees p.  `wait`: appended_locked's. */
static void tail_appended(rvr_net *net, peer *pe, frame *t, size_t n, rvr_packet *p, bool wait)
{
    t->buf.len += n;
    pe->qbytes += n;
    if (pe->armed && pe->wconn != NULL && !pe->writing && !pe->blocked &&
        pe->qbytes < net->cfg.batch_bytes) {
        /* A stream's batch still open (appended_locked's coalescing case). */
        pe->appends++;
        rvr_spin_unlock(&pe->q_lock);
        watch_armed(net);
    } else {
        appended_locked(net, pe, NULL, wait);
    }
    rvr_packet_free(p);
}

/* True when p's frame head is route's kept one: the same tag and
 * attributes' length (its src is route's VR, its dst route's). */
static inline bool head_kept(const rvr_net_route *route, const rvr_packet *p)
{
    if (route->head_len == 0 || p->raw_len != route->head_raw_len ||
        p->tag_len != route->head_tag_len)
        return false;
    const uint8_t *tag = route->head + RVR_WIRE_HDR_LEN + 38;
    for (size_t i = 0; i < p->tag_len; i++)
        if (tag[i] != (uint8_t)p->tag[i])
            return false;
    return true;
}

bool rvr_net_send_small(rvr_net *net, const rvr_uuid *src, const rvr_uuid *dst, rvr_packet *p,
                        rvr_net_route *route)
{
    if (p->raw == NULL || p->body != NULL || !rvr_route_valid(net, route, dst) ||
        atomic_load_explicit(&net->stopping, memory_order_relaxed))
        return false;
    peer *pe = route->peer;
    bool kept = head_kept(route, p);
    size_t n = kept ? route->head_len + p->raw_len : rvr_wire_raw_frame_size(p);
    if (n - RVR_WIRE_HDR_LEN > rvr_peer_limit(net, pe))
        return false;   /* rvr_net_send refuses it */
    rvr_spin_lock(&pe->q_lock);
    frame *t = pe->qtail;
    if (pe->qbytes > net->cfg.max_queue || !appendable(pe, t) || t->buf.cap - t->buf.len < n) {
        rvr_spin_unlock(&pe->q_lock);
        return false;   /* waits for room, or needs a new frame */
    }
    uint8_t *q = t->buf.data + t->buf.len;
    size_t full = RVR_WIRE_HDR_LEN + RVR_WIRE_IDS_LEN;   /* a kept head's first bytes */
    if (kept && route->head_len > full && rvr_frame_elides(t, src, dst)) {
        /* The kept head without src and dst (transport_impl.h). */
        size_t rest = route->head_len - full;
        n -= RVR_WIRE_IDS_LEN;
        rvr_wire_put_header(q, n - RVR_WIRE_HDR_LEN, RVR_FRAME_MSG);
        rvr_copy_small(q + RVR_WIRE_HDR_LEN, route->head + full, rest);
        rvr_copy_small(q + RVR_WIRE_HDR_LEN + rest, p->raw, p->raw_len);
    } else if (kept) {
        rvr_copy_small(q, route->head, route->head_len);
        rvr_copy_small(q + route->head_len, p->raw, p->raw_len);
        t->ids_at = (size_t)(q - t->buf.data) + RVR_WIRE_HDR_LEN + 2;
    } else {
        p->src = *src;
        rvr_wire_put_raw_frame(q, n, dst, p);
        size_t h = n - p->raw_len;
        route->head_len = 0;
        if (p->raw_len > 0 && h <= RVR_ROUTE_HEAD) {   /* kept for the next one */
            memcpy(route->head, q, h);
            route->head_len = (uint8_t)h;
            route->head_tag_len = (uint8_t)p->tag_len;
            route->head_raw_len = (uint16_t)p->raw_len;
        }
        n = rvr_frame_elide(t, q, n);
    }
    tail_appended(net, pe, t, n, p, true);
    return true;
}

/* rvr_peer_send_typed once the body is encoded in m. */
static rvr_status send_typed_msg(rvr_net *net, peer *pe, const rvr_wire_msg *m, rvr_packet *p,
                                 size_t limit)
{
    size_t n = rvr_wire_msg_size(m);
    if (n - RVR_WIRE_HDR_LEN > limit)
        return RVR_ELIMIT;
    /* Without extra attributes its size is exact: written straight into
     * the queue's unwritten tail, which then carries its schema too. */
    frame *t = m->attrs == NULL ? tail_for(net, pe, n, true) : NULL;
    if (t != NULL && !rvr_frame_takes(t, p->schema)) {
        rvr_spin_unlock(&pe->q_lock);
        t = NULL;
    }
    if (t != NULL) {
        rvr_buf room = { t->buf.data + t->buf.len, 0, n };
        if (rvr_wire_put_msg(&room, m) == RVR_OK && room.len == n) {
            rvr_frame_add_schema(t, p->schema);
            t->ids_at = 0;   /* typed: the next MSG names its src and dst */
            tail_appended(net, pe, t, n, p, true);
            return RVR_OK;
        }
        rvr_spin_unlock(&pe->q_lock);   /* sized wrong: the frame below reports it */
    }
    frame *f = rvr_frame_new(n);
    rvr_status st;
    if (f == NULL || (st = rvr_wire_put_msg(&f->buf, m)) != RVR_OK) {
        rvr_frame_free(f);
        return f == NULL ? RVR_ENOMEM : st;
    }
    f->is_msg = true;
    rvr_frame_add_schema(f, p->schema);
    enqueue(net, pe, f, true);
    rvr_packet_free(p);
    return RVR_OK;
}

rvr_status rvr_peer_send_typed(rvr_net *net, peer *pe, const rvr_uuid *dst, rvr_packet *p,
                               size_t limit)
{
    rvr_wire_msg m;
    rvr_status st = rvr_wire_typed_msg(dst, p, &m);
    if (st == RVR_OK)
        st = send_typed_msg(net, pe, &m, p, limit);
    rvr_wire_typed_done();
    return st;
}

rvr_status rvr_peer_send_packet(rvr_net *net, peer *pe, const rvr_uuid *dst, rvr_packet *p,
                                size_t limit, bool wait)
{
    frame *t;
    if (p->raw != NULL) {
        /* Attributes already encoded: the frame's size is known, and it is
         * written straight into the queue's tail, under the lock (a copy
         * of the same length as the one the encoding below is followed by). */
        size_t n = rvr_wire_raw_frame_size(p);
        if (n - RVR_WIRE_HDR_LEN > limit)
            return RVR_ELIMIT;
        if ((t = tail_for(net, pe, n, wait)) != NULL) {
            uint8_t *q = t->buf.data + t->buf.len;
            rvr_wire_put_raw_frame(q, n, dst, p);
            tail_appended(net, pe, t, rvr_frame_elide(t, q, n), p, wait);
            return RVR_OK;
        }
    }
    /* Small: encoded here in one pass, outside the lock, then copied into
     * the queue's unwritten tail (or a pooled frame), so the lock is held
     * for a copy, not for an encoding. */
    uint8_t small[SMALL_FRAME], *fp;
    size_t n = rvr_wire_put_packet_small(small, sizeof small, dst, p, &fp);
    if (n > 0) {
        if (n - RVR_WIRE_HDR_LEN > limit)
            return RVR_ELIMIT;
        if ((t = tail_for(net, pe, n, wait)) != NULL) {
            uint8_t *q = t->buf.data + t->buf.len;
            memcpy(q, fp, n);
            tail_appended(net, pe, t, rvr_frame_elide(t, q, n), p, wait);
            return RVR_OK;
        }
        frame *f = rvr_frame_new(n);
        if (f == NULL)
            return RVR_ENOMEM;
        memcpy(f->buf.data, fp, n);
        f->buf.len = n;
        f->is_msg = true;
        f->ids_at = RVR_WIRE_HDR_LEN + 2;   /* it names them: the next may leave them out */
        enqueue(net, pe, f, wait);
        rvr_packet_free(p);
        return RVR_OK;
    }
    rvr_wire_sized sz;
    rvr_wire_packet_sizes(dst, p, &sz);
    size_t size = sz.frame;
    if (size - RVR_WIRE_HDR_LEN > limit)
        return RVR_ELIMIT;
    frame *f;
    rvr_status st;
    if (size >= 2 * RVR_FRAME_EXT_MIN) {
        /* Large values go to writev from the packet itself: no copy. */
        if ((f = rvr_frame_new(4096)) == NULL)
            return RVR_ENOMEM;
        st = rvr_wire_put_packet_ext(&f->buf, dst, p, RVR_FRAME_EXT_MIN, f->ext, RVR_FRAME_MAX_EXT,
                                     &f->next_ext);
        if (st == RVR_OK && f->next_ext > 0) {
            for (size_t i = 0; i < f->next_ext; i++)
                f->extbytes += f->ext[i].n;
            f->hold = p;
        }
    } else {
        if ((f = rvr_frame_new(size)) == NULL)
            return RVR_ENOMEM;
        st = rvr_wire_put_packet_sized(&f->buf, dst, p, &sz);
    }
    if (st != RVR_OK) {
        f->next_ext = 0;
        rvr_frame_free(f);
        return st;
    }
    f->is_msg = true;
    bool held = f->hold != NULL;   /* then freed with the frame, once written */
    enqueue(net, pe, f, wait);
    if (!held)
        rvr_packet_free(p);
    return RVR_OK;
}
