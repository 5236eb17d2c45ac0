/* conn.c — one TCP connection between two VMs, on the I/O thread:
 * connect completion, the handshake (preamble, HELLO, the choice between
 * simultaneous connections), reading and checking frames, dispatching
 * them, and closing a connection that breaks a rule (with a logged reason,
 * leaving the VM and its other connections alone). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bigbuf.h"
#include "conn_auth.h"
#include "control.h"
#include "packet_impl.h"
#include "transport_impl.h"

#define RBUF_DEFAULT (256u * 1024u)
#define RBUF_KEEP (4u * 1024u * 1024u)   /* larger buffers shrink back after use */
#define READS_PER_EVENT 16               /* then other connections get a turn */

conn *rvr_conn_new(rvr_net *net, int fd, bool initiated)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if ((c->rbuf = malloc(RBUF_DEFAULT)) == NULL) {
        free(c);
        return NULL;
    }
    c->rcap = RBUF_DEFAULT;
    c->fd = fd;
    atomic_init(&c->refs, 1);
    c->initiated = initiated;
    c->state = initiated ? C_CONNECTING : C_PREAMBLE;
    c->seed = -1;
    if (rvr_sock_peer(fd, &c->remote) == RVR_OK)
        rvr_addr_format(&c->remote, c->desc, sizeof c->desc);
    else
        snprintf(c->desc, sizeof c->desc, "(connecting)");
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
    if (epoll_ctl(net->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c->rbuf);
        free(c);
        return NULL;
    }
    c->next = net->conns;
    net->conns = c;
    return c;
}

void rvr_conn_ref(conn *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void rvr_conn_unref(conn *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    rvr_sock_close(c->fd);
    for (unsigned i = 0; i < c->nbatch; i++)
        rvr_packet_free(c->batch[i]);   /* not reached: batches are pushed before closing */
    if (c->dvr != NULL)
        rvr_vr_unref(c->dvr);
    rvr_sdesc_table_fini(&c->schemas);
    free(c->described);
    free(c->rbuf);
    rvr_big_free(c->big);
    rvr_conn_auth_free(c);
    free(c);
}

/* ---- failure ------------------------------------------------------------- */

void rvr_conn_fail(rvr_net *net, conn *c, rvr_log_level lvl, const char *fmt, ...)
{
    if (c->state == C_CLOSED)
        return;
    rvr_conn_deliver(net, c);   /* the messages before the failure were good */
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    RVR_LOG(lvl, "connection with %s closed: %s", c->desc, reason);
    bool was_ready = c->state == C_READY;
    c->state = C_CLOSED;
    rvr_conn_unhold(net, c);
    epoll_ctl(net->ep, EPOLL_CTL_DEL, c->fd, NULL);
    shutdown(c->fd, SHUT_RDWR);
    for (conn **pp = &net->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->next = net->dead;   /* freed after this round of events */
    net->dead = c;
    if (c->seed >= 0) {
        rvr_net_seed_done(net, c->seed, c->dup, c->peer);
        c->seed = -1;
    }
    peer *p = c->peer;
    if (p == NULL)
        return;
    frame *bounced = NULL;
    bool bounce_all = false, wake = false;
    rvr_mutex_lock(&p->q_lock);
    if (p->wconn == c) {
        p->wconn = NULL;
        p->blocked = p->kick = false;
        rvr_peer_drop_partial(p, &bounced);
        if (p->qhead != NULL) {
            if (!c->bye && p->has_addr && !atomic_load(&net->stopping))
                p->need_connect = wake = true;   /* it was working: try again */
            else
                bounce_all = true;
        }
    } else if (p->out == c) {
        p->out = NULL;
        if (c->dup)
            p->need_connect = wake = true;   /* after retry_at, unless theirs arrives */
        else if (p->wconn == NULL && p->qhead != NULL)
            bounce_all = true;               /* the VM cannot be reached */
    }
    rvr_mutex_unlock(&p->q_lock);
    while (bounced != NULL) {
        frame *nx = bounced->next;
        if (bounced->is_msg)
            rvr_bounce_frame(net, bounced->buf.data + RVR_WIRE_HDR_LEN,
                             bounced->buf.len - RVR_WIRE_HDR_LEN, &p->id, "connection lost");
        rvr_frame_free(bounced);
        bounced = nx;
    }
    if (bounce_all) {
        rvr_peer_bounce_all(net, p, reason);
        if (!c->dup)
            rvr_naming_forget_vm(net->naming, &p->id);
    }
    if (c->bye)
        rvr_naming_forget_vm(net->naming, &p->id);
    if (was_ready || c->bye)
        rvr_net_whois_peer_lost(net, p);
    if (wake)
        atomic_store(&net->cmd_connect, true);
    rvr_net_peer_changed(net);
}

/* ---- handshake ------------------------------------------------------------- */

static void fill_hello(rvr_net *net, rvr_wire_hello *h)
{
    memset(h, 0, sizeof *h);
    h->vm_id = net->vm->id;
    snprintf(h->listen_addr, sizeof h->listen_addr, "%s", net->addr_text);
    h->max_frame = net->lim.max_frame;
}

static bool send_now(rvr_net *net, conn *c, const rvr_buf *b)
{
    ssize_t w = rvr_sock_write(c->fd, b->data, b->len);
    if (w == (ssize_t)b->len)
        return true;
    /* A few dozen bytes on a fresh socket: anything else means it is broken. */
    rvr_conn_fail(net, c, RVR_LOG_INFO, "cannot write the handshake: %s",
                  w < 0 ? strerror(errno) : "short write");
    return false;
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
        send_now(net, c, &b);
    rvr_buf_free(&b);
}

/* The connection now carries p's messages. */
static void attach(rvr_net *net, conn *c, peer *p)
{
    char id[RVR_UUID_STRLEN];
    c->peer = p;
    c->state = C_READY;
    snprintf(c->desc, sizeof c->desc, "VM %.8s at %s", rvr_uuid_str(&p->id, id),
             p->addr_text[0] ? p->addr_text : "?");
    frame *partial = NULL;
    rvr_mutex_lock(&p->q_lock);
    conn *old = p->wconn != c ? p->wconn : NULL;
    if (old != NULL)
        rvr_peer_drop_partial(p, &partial);   /* its rest must not start the new stream */
    if (p->out == c)
        p->out = NULL;
    p->wconn = c;
    p->blocked = p->kick = false;
    p->need_connect = false;
    p->dup_refusals = 0;
    rvr_mutex_unlock(&p->q_lock);
    if (partial != NULL) {
        if (partial->is_msg)
            rvr_bounce_frame(net, partial->buf.data + RVR_WIRE_HDR_LEN,
                             partial->buf.len - RVR_WIRE_HDR_LEN, &p->id, "connection replaced");
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
    rvr_mutex_lock(&p->q_lock);
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
        /* Both sides connecting at once: the smaller VM's connection wins. */
        rvr_mutex_lock(&p->q_lock);
        if (p->out != NULL) {
            if (memcmp(net->vm->id.bytes, h->vm_id.bytes, 16) < 0) {
                r.status = RVR_HELLO_DUPLICATE;
                snprintf(r.reason, sizeof r.reason, "simultaneous connect: keeping the one from %s",
                         rvr_uuid_str(&net->vm->id, a));
            } else {
                ours = p->out;
            }
        }
        rvr_mutex_unlock(&p->q_lock);
    }
    rvr_buf out = { 0 };
    rvr_status st = rvr_wire_put_hello(&out, &r);
    bool sent = st == RVR_OK && send_now(net, c, &out);
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
    if (ours != NULL)
        rvr_conn_fail(net, ours, RVR_LOG_DEBUG, "simultaneous connect: keeping the one from %s",
                      rvr_uuid_str(&h->vm_id, b));
    /* With a cluster secret, the AUTH proofs come first (conn_auth.h). */
    if (c->auth != NULL)
        rvr_conn_auth_park(c, p);
    else
        attach(net, c, p);
}

static void hello_as_initiator(rvr_net *net, conn *c, const rvr_wire_hello *h)
{
    if (h->status == RVR_HELLO_DUPLICATE) {
        peer *p = rvr_peer_get(net, &h->vm_id, true);
        if (p != NULL) {
            rvr_mutex_lock(&p->q_lock);
            p->dup_refusals++;
            p->retry_at = rvr_now_ns() + (uint64_t)p->dup_refusals * 100000000u;
            rvr_mutex_unlock(&p->q_lock);
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
        rvr_mutex_lock(&p->q_lock);
        bool busy = p->wconn != NULL || p->out != NULL;
        if (!busy)
            p->out = c;
        rvr_mutex_unlock(&p->q_lock);
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
        attach(net, c, p);
}

static void on_hello(rvr_net *net, conn *c, const uint8_t *p, size_t n)
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

static void on_schema(rvr_net *net, conn *c, const uint8_t *p, size_t n)
{
    rvr_sdesc *d;
    rvr_status st = rvr_sdesc_parse(p, n, &d);
    if (st == RVR_OK)
        st = rvr_sdesc_table_add(&c->schemas, d);
    if (st != RVR_OK)
        rvr_conn_fail(net, c, RVR_LOG_WARN, "bad SCHEMA frame: %s",
                      st == RVR_ELIMIT ? "over a limit (types, enum values, descriptions per "
                                         "connection, name length)"
                      : st == RVR_ENOMEM ? "out of memory" : "malformed or inconsistent description");
}

static void on_frame(rvr_net *net, conn *c, uint8_t type, const uint8_t *p, size_t n)
{
    if (c->state == C_HELLO && (rvr_conn_auth_pending(c) || type == RVR_FRAME_AUTH)) {
        peer *ap = NULL;
        if (type != RVR_FRAME_AUTH)
            rvr_conn_fail(net, c, RVR_LOG_WARN, "expected AUTH, got a frame of type %u", type);
        else if ((ap = rvr_conn_auth_frame(net, c, p, n)) != NULL)
            attach(net, c, ap);
        return;
    }
    if (c->state == C_HELLO) {
        if (type == RVR_FRAME_HELLO)
            on_hello(net, c, p, n);
        else
            rvr_conn_fail(net, c, RVR_LOG_WARN, "expected HELLO, got a frame of type %u", type);
        return;
    }
    rvr_wire_whois w;
    char reason[200];
    if (type == RVR_FRAME_MSG) {
        rvr_conn_on_msg(net, c, p, n);
        return;
    }
    rvr_conn_deliver(net, c);   /* what came before goes first */
    switch (type) {
    case RVR_FRAME_SCHEMA:
        on_schema(net, c, p, n);
        return;
    case RVR_FRAME_WHOIS:
    case RVR_FRAME_WHOIS_REPLY:
        if (rvr_wire_get_whois(p, n, &w) != RVR_OK) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "malformed WHOIS");
        } else if (type == RVR_FRAME_WHOIS) {
            rvr_net_answer_whois(net, c, &w);
        } else {
            rvr_net_whois_answer(net, c, &w);
        }
        return;
    case RVR_FRAME_BYE:
        if (rvr_wire_get_bye(p, n, reason, sizeof reason) != RVR_OK) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "malformed BYE");
            return;
        }
        c->bye = true;
        rvr_conn_fail(net, c, RVR_LOG_INFO, "the VM said goodbye%s%s", reason[0] ? ": " : "", reason);
        return;
    case RVR_FRAME_HELLO:
        rvr_conn_fail(net, c, RVR_LOG_WARN, "a second HELLO");
        return;
    case RVR_FRAME_AUTH:
        (void)rvr_conn_auth_frame(net, c, p, n);   /* a late refusal, or out of order: closes */
        return;
    default:
        rvr_conn_fail(net, c, RVR_LOG_WARN, "unknown frame type %u", type);
        return;
    }
}

/* Takes the complete frames out of rbuf.  Returns how many more bytes the
 * frame in progress needs (0 when unknown). */
static size_t parse(rvr_net *net, conn *c)
{
    size_t pos = 0, need = 0;
    if (c->state == C_PREAMBLE) {
        if (c->rlen < RVR_WIRE_PREAMBLE_LEN)
            return RVR_WIRE_PREAMBLE_LEN - c->rlen;
        uint16_t version;
        if (rvr_wire_check_preamble(c->rbuf, &version) != RVR_OK) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "wrong magic: not a River peer");
            return 0;
        }
        if (version != RVR_WIRE_VERSION) {
            rvr_conn_fail(net, c, RVR_LOG_ERROR,
                          "protocol version mismatch: the peer speaks River protocol %u, "
                          "this VM speaks %u", version, RVR_WIRE_VERSION);
            return 0;
        }
        c->state = C_HELLO;
        pos = RVR_WIRE_PREAMBLE_LEN;
    }
    while (c->state != C_CLOSED && c->held == NULL && c->rlen - pos >= RVR_WIRE_HDR_LEN) {
        uint32_t len;
        uint8_t type;
        rvr_wire_header(c->rbuf + pos, &len, &type);
        if (len > net->lim.max_frame) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "frame of %u bytes exceeds the limit of %zu",
                          len, net->lim.max_frame);
            return 0;
        }
        size_t have = c->rlen - pos - RVR_WIRE_HDR_LEN;
        if (have < len) {
            need = len - have;
            /* A large MSG ending with a large value: that value is read
             * into a buffer of its own, which the packet then keeps. */
            size_t off;
            if (type == RVR_FRAME_MSG && c->state == C_READY && len >= 2 * RVR_FRAME_EXT_MIN &&
                rvr_wire_msg_tail(c->rbuf + pos + RVR_WIRE_HDR_LEN, have, len, RVR_FRAME_EXT_MIN,
                                  &off) &&
                (c->big = rvr_big_alloc(len - off + 1)) != NULL) {
                size_t got = have - off;   /* < len - off: the frame is incomplete */
                memcpy(c->big, c->rbuf + pos + RVR_WIRE_HDR_LEN + off, got);
                c->big_len = len - off;
                c->big_have = got;
                c->big_off = off;
                c->rlen = pos + RVR_WIRE_HDR_LEN + off;
                need = c->big_len - got;
            }
            break;
        }
        on_frame(net, c, type, c->rbuf + pos + RVR_WIRE_HDR_LEN, len);
        pos += RVR_WIRE_HDR_LEN + (size_t)len;
    }
    rvr_conn_deliver(net, c);
    if (c->state == C_CLOSED)
        return 0;
    if (pos > 0) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }
    return need;
}

/* Makes room for `need` more bytes; false on ENOMEM (the caller fails). */
static bool make_room(conn *c, size_t need)
{
    size_t want = c->rlen + (need > 0 ? need : 1);
    if (want <= c->rcap) {
        if (c->rcap > RBUF_KEEP && c->rlen == 0 && need == 0) {
            uint8_t *b = realloc(c->rbuf, RBUF_DEFAULT);   /* shrink after a big frame */
            if (b != NULL) {
                c->rbuf = b;
                c->rcap = RBUF_DEFAULT;
            }
        }
        return true;
    }
    uint8_t *b = realloc(c->rbuf, want);
    if (b == NULL)
        return false;
    c->rbuf = b;
    c->rcap = want;
    return true;
}

void rvr_conn_read(rvr_net *net, conn *c)
{
    size_t need = 0;
    /* A polling VR reads as much as the I/O thread would: handing a stream
     * over to the I/O thread after one read cost a wake-up per read on both
     * sides (1 MiB transfers ran at 0.6x raw TCP, now about 1x). */
    if (c->reparse && c->held == NULL && c->state == C_READY && c->big == NULL) {
        c->reparse = false;   /* frames read before a hold */
        need = parse(net, c);
    }
    for (int i = 0; i < READS_PER_EVENT; i++) {
        /* Held (flow control): rvr_conn_flow_check reads it again. */
        if (c->state == C_CLOSED || c->state == C_CONNECTING || c->held != NULL)
            return;
        if (c->big != NULL) {
            /* The rest of a large value, into its own buffer. */
            size_t want = c->big_len - c->big_have;
            ssize_t n = rvr_sock_read(c->fd, c->big + c->big_have, want);
            if (n == 0) {
                rvr_conn_fail(net, c, RVR_LOG_WARN, "truncated frame: the peer closed %zu bytes "
                              "into a frame", c->rlen + c->big_have);
                return;
            }
            if (n < 0) {
                if (errno != EAGAIN)
                    rvr_conn_fail(net, c, RVR_LOG_INFO, "read failed: %s", strerror(errno));
                return;
            }
            c->big_have += (size_t)n;
            need = 0;
            if (c->big_have == c->big_len)
                rvr_conn_on_big_msg(net, c);
            else
                need = c->big_len - c->big_have;
            if ((size_t)n < want && !c->hup)
                return;
            continue;
        }
        if (!make_room(c, need)) {
            rvr_conn_fail(net, c, RVR_LOG_WARN, "out of memory for a frame of %zu bytes", need);
            return;
        }
        /* A large frame is read up to its end only, so nothing is moved after it. */
        size_t room = c->rcap - c->rlen;
        size_t want = need > RBUF_DEFAULT / 4 && need < room ? need : room;
        ssize_t n = rvr_sock_read(c->fd, c->rbuf + c->rlen, want);
        if (n == 0) {
            if (c->state != C_READY)
                rvr_conn_fail(net, c, RVR_LOG_WARN, "closed by the peer during the handshake "
                              "(%zu bytes received)", c->rlen);
            else if (c->rlen > 0)
                rvr_conn_fail(net, c, RVR_LOG_WARN, "truncated frame: the peer closed %zu bytes "
                              "into a frame%s", c->rlen, need > 0 ? "" : " header");
            else
                rvr_conn_fail(net, c, RVR_LOG_INFO, "closed by the peer");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN)
                rvr_conn_fail(net, c, RVR_LOG_INFO, "read failed: %s", strerror(errno));
            return;
        }
        c->rlen += (size_t)n;
        need = parse(net, c);
        if ((size_t)n < want && !c->hup)
            return;   /* drained; the next arrival raises a new edge */
    }
    if (c->state != C_CLOSED && c->held == NULL && !c->on_again) {
        c->on_again = true;   /* more to read: after the other connections */
        c->again_next = net->again;
        net->again = c;
    }
}

void rvr_conn_event(rvr_net *net, conn *c, uint32_t events)
{
    if (c->state == C_CLOSED)
        return;
    if (c->state == C_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (rvr_sock_connect_result(c->fd) != RVR_OK) {
            rvr_conn_fail(net, c, RVR_LOG_INFO, "cannot connect: %s", strerror(errno));
            return;
        }
        if (rvr_sock_peer(c->fd, &c->remote) == RVR_OK)
            rvr_addr_format(&c->remote, c->desc, sizeof c->desc);
        c->state = C_PREAMBLE;
        rvr_conn_start(net, c);
    }
    /* After a hang-up, a short read no longer means "drained": read to EOF. */
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        c->hup = true;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        rvr_conn_read(net, c);
    if (c->state == C_READY && (events & EPOLLOUT))
        rvr_peer_writable(net, c->peer, c);
}
