/* conn.c — one TCP connection between two VMs, on the I/O thread:
 * connect completion, reading and checking frames, dispatching them, and
 * closing a connection that breaks a rule (with a logged reason, leaving
 * the VM and its other connections alone).  The handshake is in
 * conn_hello.c, MSG frames in conn_msg.c. */
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
#define RBUF_MOVE 4096u                  /* a rest this short moves to the front at once */
#define RBUF_HEAD 4096u                  /* the first read after a large value */
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

bool rvr_conn_send_now(rvr_net *net, conn *c, const rvr_buf *b, const char *what)
{
    ssize_t w = rvr_sock_write(c->fd, b->data, b->len);
    if (w == (ssize_t)b->len)
        return true;
    rvr_conn_fail(net, c, RVR_LOG_INFO, "cannot write %s: %s", what,
                  w < 0 ? strerror(errno) : "short write");
    return false;
}

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
    rvr_spin_lock(&p->q_lock);
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
    rvr_spin_unlock(&p->q_lock);
    while (bounced != NULL) {
        frame *nx = bounced->next;
        if (bounced->is_msg)
            rvr_bounce_frame(net, bounced, &p->id, "connection lost");
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
            rvr_conn_attach(net, c, ap);
        return;
    }
    if (c->state == C_HELLO) {
        if (type == RVR_FRAME_HELLO)
            rvr_conn_on_hello(net, c, p, n);
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
    size_t pos = c->rpos, need = 0;
    if (c->state == C_PREAMBLE) {
        if (c->rlen - pos < RVR_WIRE_PREAMBLE_LEN)
            return RVR_WIRE_PREAMBLE_LEN - (c->rlen - pos);
        uint16_t version;
        if (rvr_wire_check_preamble(c->rbuf + pos, &version) != RVR_OK) {
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
        pos += RVR_WIRE_PREAMBLE_LEN;
    }
    while (c->state != C_CLOSED && c->held == NULL && c->rlen - pos >= RVR_WIRE_HDR_LEN) {
        if (c->shape.len != 0 && c->dvr != NULL && c->state == C_READY) {
            /* A stream's run of frames, read together. */
            size_t used = rvr_conn_on_stream(net, c, c->rbuf + pos, c->rlen - pos);
            if (used != 0) {
                pos += used;
                continue;
            }
        }
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
        if (type == RVR_FRAME_MSG && c->state == C_READY)   /* most frames: straight there */
            rvr_conn_on_msg(net, c, c->rbuf + pos + RVR_WIRE_HDR_LEN, len);
        else
            on_frame(net, c, type, c->rbuf + pos + RVR_WIRE_HDR_LEN, len);
        pos += RVR_WIRE_HDR_LEN + (size_t)len;
    }
    rvr_conn_deliver(net, c);
    if (c->state == C_CLOSED)
        return 0;
    /* What is left starts at rpos; it moves to the front only when it is
     * short or the room behind it runs out (make_room): a connection held
     * by flow control may leave most of a read here. */
    c->rpos = pos;
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0 && c->rlen - c->rpos <= RBUF_MOVE) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    return need;
}

/* Makes room for `need` more bytes; false on ENOMEM (the caller fails). */
static bool make_room(conn *c, size_t need)
{
    if (c->rpos > 0 && (c->rlen + need > c->rcap || c->rcap - c->rlen < RBUF_DEFAULT / 4)) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
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
                              "into a frame", c->rlen - c->rpos + c->big_have);
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
        if (c->after_big) {
            /* Large values come in a row: read the next frame's head
             * alone, so that its value goes straight into a buffer of its
             * own instead of being read here and copied there. */
            c->after_big = false;
            if (c->rlen == c->rpos && want > RBUF_HEAD)
                want = RBUF_HEAD;
        }
        ssize_t n = rvr_sock_read(c->fd, c->rbuf + c->rlen, want);
        if (n == 0) {
            if (c->state != C_READY)   /* nothing at all: a peer that gave up, not a fault */
                rvr_conn_fail(net, c, c->rlen > c->rpos ? RVR_LOG_WARN : RVR_LOG_INFO,
                              "closed by the peer during the handshake (%zu bytes received)",
                              c->rlen - c->rpos);
            else if (c->rlen > c->rpos)
                rvr_conn_fail(net, c, RVR_LOG_WARN, "truncated frame: the peer closed %zu bytes "
                              "into a frame%s", c->rlen - c->rpos, need > 0 ? "" : " header");
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
