/* ioloop.c — the I/O thread and receive-side polling (see the top of
 * transport_impl.h for who reads the sockets when): one round of epoll
 * events (accepts, reads, writability), the timers (coalesced sends due,
 * connect retries, the handshake deadline), closed connections, and the
 * lease a busy-polling VR takes on the sockets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "transport_impl.h"

#define HANDSHAKE_NS (10ull * 1000000000ull)   /* a connection must say HELLO within this */
#define STOP_FLUSH_NS (1000000000ull)         /* rvr_net_stop writes queues this long at most */

static uint64_t lease_check(rvr_net *net, uint64_t now);

static void accept_all(rvr_net *net, uint64_t now)
{
    for (;;) {
        int fd;
        rvr_sockaddr from;
        rvr_status st = rvr_sock_accept(net->lfd, &fd, &from);
        if (st == RVR_ETIMEDOUT)
            return;
        if (st != RVR_OK) {
            RVR_LOG(RVR_LOG_WARN, "accept failed: %s", strerror(errno));
            return;
        }
        size_t n = 0;
        for (conn *c = net->conns; c != NULL; c = c->next)
            n++;
        char a[RVR_ADDR_STRLEN];
        if (atomic_load(&net->stopping) || n >= net->cfg.max_conns) {
            RVR_LOG(RVR_LOG_WARN, "refusing a connection from %s: %s", rvr_addr_format(&from, a, sizeof a),
                    n >= net->cfg.max_conns ? "too many connections" : "stopping");
            rvr_sock_close(fd);
            continue;
        }
        conn *c = rvr_conn_new(net, fd, false);
        if (c == NULL) {
            rvr_sock_close(fd);
            continue;
        }
        c->born_ns = now;
        rvr_conn_start(net, c);
    }
}

/* Peers waiting to be connected; the earliest retry time in *next. */
static void connect_due(rvr_net *net, uint64_t now, uint64_t *next)
{
    peer *todo[256];
    int n = 0;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL && n < 256; p = p->next) {
        rvr_spin_lock(&p->q_lock);
        if (p->need_connect) {
            if (p->retry_at > now && p->wconn == NULL && p->out == NULL) {
                if (*next == 0 || p->retry_at < *next)
                    *next = p->retry_at;
            } else {
                todo[n++] = p;
            }
        }
        rvr_spin_unlock(&p->q_lock);
    }
    rvr_mutex_unlock(&net->lock);
    for (int i = 0; i < n; i++)
        rvr_net_connect_peer(net, todo[i], now);
}

static bool all_written(rvr_net *net)
{
    bool done = true;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL && done; p = p->next) {
        rvr_spin_lock(&p->q_lock);
        done = p->qhead == NULL || (p->wconn == NULL && p->out == NULL && !p->need_connect);
        rvr_spin_unlock(&p->q_lock);
    }
    rvr_mutex_unlock(&net->lock);
    return done;
}

/* Handles the events one epoll_wait returned, then what the I/O thread does
 * every round: connections left readable, connects, the handshake deadline
 * and closed connections.  With io_lock held.  `vr`: called by a polling
 * VR (not the I/O thread). */
static void io_round(rvr_net *net, const struct epoll_event *evs, int n, bool vr)
{
    uint64_t now = rvr_now_ns();
    bool repoke = false;
    for (int i = 0; i < n; i++) {
        void *ptr = evs[i].data.ptr;
        if (ptr == &net->wakefd) {
            uint64_t v;
            ssize_t r = read(net->wakefd, &v, sizeof v);
            (void)r;
        } else if (ptr == &net->pokefd) {
            uint64_t v;
            ssize_t r = read(net->pokefd, &v, sizeof v);
            (void)r;
            /* Meant for the polling VR: the I/O thread got it first. */
            repoke |= !vr && atomic_load(&net->poll_token);
        } else if (ptr == &net->lfd) {
            accept_all(net, now);
        } else {
            rvr_conn_event(net, ptr, evs[i].events);
        }
    }
    if (atomic_load_explicit(&net->nheld, memory_order_relaxed) > 0)
        rvr_conn_flow_check(net);   /* mailboxes drained: read those connections again */
    net->flush_at = rvr_net_flush(net, false);   /* coalesced sends that are due */
    conn *again = net->again;
    net->again = NULL;
    while (again != NULL) {
        conn *c = again;
        again = c->again_next;
        c->on_again = false;
        rvr_conn_read(net, c);
    }
    bool due = net->next_retry != 0 && net->next_retry <= now;
    if (atomic_exchange(&net->cmd_connect, false) || due) {
        net->next_retry = 0;
        connect_due(net, now, &net->next_retry);
        rvr_net_connect_seeds(net, now);
    }
    if (now >= net->next_sweep) {
        net->next_sweep = now + 1000000000u;
        for (conn *c = net->conns, *nx; c != NULL; c = nx) {
            nx = c->next;
            if (c->state != C_READY && now - c->born_ns > HANDSHAKE_NS)
                rvr_conn_fail(net, c, RVR_LOG_WARN, "no handshake within %llu s",
                              HANDSHAKE_NS / 1000000000ull);
        }
    }
    /* Another thread between epoll_wait and its events may still name a
     * closed connection: free them when we are alone. */
    if (atomic_load(&net->poll_busy) == 1) {
        while (net->dead != NULL) {
            conn *c = net->dead;
            net->dead = c->next;
            rvr_conn_unref(c);
        }
    }
    if (vr && (net->again != NULL || net->dead != NULL || net->next_retry != 0 ||
               net->flush_at != 0)) {
        uint64_t one = 1;   /* the I/O thread carries on */
        ssize_t w = write(net->wakefd, &one, sizeof one);
        (void)w;
    }
    if (repoke) {
        rvr_net_poke(net);
        rvr_thread_yield();   /* let the VR run and take it */
    }
}

/* epoll_wait with a timeout in nanoseconds: coalesced sends are due within
 * microseconds.  epoll_pwait2 (Linux 5.11) where the kernel has it, else
 * rounded up to a millisecond. */
static int wait_events(int ep, struct epoll_event *evs, int n, uint64_t ns)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    static _Atomic bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
        int r = epoll_pwait2(ep, evs, n, &ts, NULL);
        if (r >= 0 || errno != ENOSYS)
            return r;
        atomic_store(&no_pwait2, true);
    }
#endif
    return epoll_wait(ep, evs, n, (int)((ns + 999999u) / 1000000u));
}

void *rvr_net_io_main(void *arg)
{
    rvr_net *net = arg;
    struct epoll_event evs[64];
    uint64_t stop_at = 0;
    for (;;) {
        rvr_mutex_lock(&net->io_lock);
        uint64_t now = rvr_now_ns(), next_retry = net->next_retry, flush_at = net->flush_at;
        uint64_t timeout = 1000000000u;
        if (net->again != NULL || net->dead != NULL)
            timeout = net->again != NULL ? 0 : 10000000u;
        else if (next_retry != 0)
            timeout = next_retry <= now ? 0 : next_retry - now + 1000000u;
        if (flush_at != 0 && (flush_at <= now || flush_at - now < timeout))
            timeout = flush_at <= now ? 0 : flush_at - now;
        if (atomic_load_explicit(&net->nheld, memory_order_relaxed) > 0 &&
            timeout > net->cfg.flow_stall_ns / 2)
            timeout = net->cfg.flow_stall_ns / 2;   /* a VR may stop taking without telling */
        rvr_mutex_unlock(&net->io_lock);
        uint64_t lease_next = lease_check(net, now);
        if (lease_next < timeout)
            timeout = lease_next;
        if (stop_at != 0 && timeout > 10000000u)
            timeout = 10000000u;
        atomic_fetch_add(&net->poll_busy, 1);
        struct epoll_event top[2];
        int k = wait_events(net->ep_io, top, 2, timeout), n = 0;
        for (int i = 0; i < k; i++) {
            if (top[i].data.ptr == &net->wakefd) {
                uint64_t v;
                ssize_t r = read(net->wakefd, &v, sizeof v);
                (void)r;
            } else {
                n = epoll_wait(net->ep, evs, 64, 0);   /* the sockets are ready */
            }
        }
        atomic_store_explicit(&net->io_active, n > 0, memory_order_relaxed);
        rvr_mutex_lock(&net->io_lock);
        io_round(net, evs, n > 0 ? n : 0, false);
        bool more = net->again != NULL;
        rvr_mutex_unlock(&net->io_lock);
        atomic_store_explicit(&net->io_active, more, memory_order_relaxed);
        atomic_fetch_sub(&net->poll_busy, 1);
        now = rvr_now_ns();
        if (atomic_load(&net->stopping)) {
            if (stop_at == 0)
                stop_at = now + STOP_FLUSH_NS;
            if (all_written(net) || now >= stop_at)
                break;
        }
    }
    /* rvr_net_stop runs when no VR is left, so nobody else polls now. */
    rvr_mutex_lock(&net->io_lock);
    while (net->conns != NULL)
        rvr_conn_fail(net, net->conns, RVR_LOG_DEBUG, "the VM is stopping");
    while (net->dead != NULL) {
        conn *c = net->dead;
        net->dead = c->next;
        rvr_conn_unref(c);
    }
    rvr_mutex_unlock(&net->io_lock);
    return NULL;
}

bool rvr_net_poll(rvr_net *net, int timeout_ms, const _Atomic uint64_t *news, uint64_t seen)
{
    bool no = false;
    /* The VR is about to wait: what it sent must not wait with it. */
    rvr_net_flush(net, true);
    /* The I/O thread is busy reading (a stream): it delivers, the VR
     * parks, and reading and consuming run on two threads. */
    if (atomic_load_explicit(&net->io_active, memory_order_relaxed) ||
        atomic_load_explicit(&net->poll_token, memory_order_relaxed) ||
        !atomic_compare_exchange_strong(&net->poll_token, &no, true))
        return false;
    atomic_fetch_add(&net->poll_busy, 1);
    /* The sockets are in use: a kept lease stays. */
    atomic_store_explicit(&net->kept_ns, rvr_now_ns(), memory_order_relaxed);
    /* A push between the caller's last look and our taking the token poked
     * nobody we would hear (the I/O thread may have taken the poke, seeing
     * no token): look again.  From now on its re-poke reaches us. */
    if (atomic_load_explicit(&net->nheld, memory_order_relaxed) > 0) {
        /* A connection may be held for the caller's mailbox, now drained:
         * read it here (no event comes for bytes already waiting). */
        rvr_mutex_lock(&net->io_lock);
        io_round(net, NULL, 0, true);
        rvr_mutex_unlock(&net->io_lock);
    }
    if (!atomic_load(&net->stopping) && atomic_load(news) == seen) {
        struct epoll_event evs[32];
        int n = epoll_wait(net->ep, evs, 32, timeout_ms);
        if (n > 0) {
            rvr_mutex_lock(&net->io_lock);
            io_round(net, evs, n, true);
            rvr_mutex_unlock(&net->io_lock);
        }
    }
    atomic_fetch_sub(&net->poll_busy, 1);
    atomic_store(&net->poll_token, false);
    return true;
}

/* With lease_lock held.  The first lease takes the sockets from the I/O
 * thread; the last one gives them back (if some are ready by then, that
 * wakes it). */
static void lease_get_locked(rvr_net *net)
{
    if (net->leases++ == 0)
        epoll_ctl(net->ep_io, EPOLL_CTL_DEL, net->ep, NULL);
}

static void lease_put_locked(rvr_net *net)
{
    struct epoll_event eev = { .events = EPOLLIN, .data.ptr = &net->ep };
    if (--net->leases == 0)
        epoll_ctl(net->ep_io, EPOLL_CTL_ADD, net->ep, &eev);
}

void rvr_net_lease(rvr_net *net, bool on)
{
    rvr_mutex_lock(&net->lease_lock);
    if (on)
        lease_get_locked(net);
    else
        lease_put_locked(net);
    rvr_mutex_unlock(&net->lease_lock);
}

void rvr_net_lease_keep(rvr_net *net, _Atomic bool *kept)
{
    bool first = false;
    rvr_mutex_lock(&net->lease_lock);
    if (net->kept == NULL) {
        net->kept = kept;
        atomic_store(kept, true);
        atomic_store_explicit(&net->kept_ns, rvr_now_ns(), memory_order_relaxed);
        first = true;
    } else {
        lease_put_locked(net);   /* another VR keeps one */
    }
    rvr_mutex_unlock(&net->lease_lock);
    if (first)
        rvr_net_wake(net);   /* the I/O thread starts watching its use */
}

void rvr_net_lease_drop(rvr_net *net, _Atomic bool *kept)
{
    rvr_mutex_lock(&net->lease_lock);
    if (net->kept == kept && atomic_load(kept)) {
        atomic_store(kept, false);
        net->kept = NULL;
        lease_put_locked(net);
    }
    rvr_mutex_unlock(&net->lease_lock);
}

/* The I/O thread: takes back a kept lease unused for RVR_LEASE_IDLE_NS.
 * Returns the time until it looks again (UINT64_MAX: none is kept). */
static uint64_t lease_check(rvr_net *net, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    rvr_mutex_lock(&net->lease_lock);
    if (net->kept != NULL) {
        uint64_t used = atomic_load_explicit(&net->kept_ns, memory_order_relaxed);
        if (used + RVR_LEASE_IDLE_NS <= now) {
            atomic_store(net->kept, false);
            net->kept = NULL;
            lease_put_locked(net);
        } else {
            next = used + RVR_LEASE_IDLE_NS - now;
        }
    }
    rvr_mutex_unlock(&net->lease_lock);
    return next;
}

void rvr_net_poke(rvr_net *net)
{
    uint64_t one = 1;
    ssize_t w = write(net->pokefd, &one, sizeof one);
    (void)w;
}
