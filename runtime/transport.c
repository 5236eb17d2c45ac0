/* transport.c — see transport.h: configuration, the I/O thread, peers,
 * seeds, sending, and name resolution (WHOIS). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "control.h"
#include "packet_impl.h"
#include "transport_impl.h"

#define HANDSHAKE_NS (10ull * 1000000000ull)   /* a connection must say HELLO within this */
#define STOP_FLUSH_NS (1000000000ull)         /* rvr_net_stop writes queues this long at most */

/* ---- configuration ---------------------------------------------------------- */

static size_t env_size(const char *name, size_t def, size_t min, size_t max)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return def;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v < min || v > max) {
        RVR_LOG(RVR_LOG_WARN, "ignoring %s=%s (expected %zu..%zu)", name, s, min, max);
        return def;
    }
    return (size_t)v;
}

void rvr_net_config_default(rvr_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    rvr_wire_limits_default(&cfg->limits);
    cfg->bind = getenv("RIVER_BIND");
    if (cfg->bind != NULL && *cfg->bind == '\0')
        cfg->bind = NULL;
    cfg->port = (uint16_t)env_size("RIVER_PORT", 0, 0, 65535);
    cfg->limits.max_frame = env_size("RIVER_MAX_FRAME", cfg->limits.max_frame, 1024, UINT32_MAX);
    cfg->limits.max_attrs = (uint32_t)env_size("RIVER_MAX_ATTRS", cfg->limits.max_attrs, 1, RVR_MAX_ATTRS);
    cfg->limits.max_depth = (uint32_t)env_size("RIVER_MAX_DEPTH", cfg->limits.max_depth, 0, RVR_MAX_DEPTH);
    cfg->max_queue = env_size("RIVER_MAX_QUEUE", (size_t)64 << 20, 4096, SIZE_MAX / 2);
    cfg->resolve_ms = (int)env_size("RIVER_RESOLVE_MS", 2000, 0, 3600000);
    cfg->max_conns = env_size("RIVER_MAX_CONNS", 1024, 1, 1000000);
    cfg->coalesce_ns = (uint64_t)env_size("RIVER_COALESCE_US", 5, 0, 1000000) * 1000u;
    cfg->batch_bytes = env_size("RIVER_BATCH_BYTES", (size_t)64 << 10, 1, (size_t)64 << 20);
    cfg->flush_ns = (uint64_t)env_size("RIVER_FLUSH_US", 100, 1, 1000000) * 1000u;
}

/* ---- peers ------------------------------------------------------------------- */

peer *rvr_peer_get(rvr_net *net, const rvr_uuid *id, bool create)
{
    rvr_mutex_lock(&net->lock);
    peer *p = net->peers;
    while (p != NULL && !rvr_uuid_eq(&p->id, id))
        p = p->next;
    if (p == NULL && create && (p = calloc(1, sizeof *p)) != NULL) {
        p->id = *id;
        rvr_mutex_init(&p->q_lock);
        rvr_cond_init(&p->q_cond);
        p->next = net->peers;
        net->peers = p;
    }
    rvr_mutex_unlock(&net->lock);
    return p;
}

void rvr_net_learn_addr(rvr_net *net, peer *p, const char *text, const conn *c)
{
    rvr_sockaddr a;
    if (text == NULL || text[0] == '\0')
        return;
    if (rvr_addr_parse_numeric(text, &a) != RVR_OK) {
        RVR_LOG(RVR_LOG_DEBUG, "ignoring the unusable address '%s'", text);
        return;
    }
    if (rvr_addr_is_wildcard(&a) && c != NULL) {
        uint16_t port = rvr_addr_port(&a);   /* listens everywhere: use the address it came from */
        a = c->remote;
        rvr_addr_set_port(&a, port);
    }
    rvr_mutex_lock(&net->lock);
    p->addr = a;
    p->has_addr = true;
    rvr_addr_format(&a, p->addr_text, sizeof p->addr_text);
    rvr_mutex_unlock(&net->lock);
}

void rvr_net_wake(rvr_net *net)
{
    atomic_store(&net->cmd_connect, true);
    uint64_t one = 1;
    ssize_t w = write(net->wakefd, &one, sizeof one);
    (void)w;   /* a full counter still wakes the thread */
}

void rvr_net_peer_changed(rvr_net *net)
{
    rvr_mutex_lock(&net->lock);
    rvr_cond_broadcast(&net->cond);
    rvr_mutex_unlock(&net->lock);
}

/* The I/O thread: open a connection to p if it still needs one. */
static void connect_peer(rvr_net *net, peer *p, uint64_t now)
{
    rvr_mutex_lock(&net->lock);
    bool has_addr = p->has_addr;
    rvr_sockaddr addr = p->addr;
    rvr_mutex_unlock(&net->lock);
    rvr_mutex_lock(&p->q_lock);
    bool go = p->need_connect && p->wconn == NULL && p->out == NULL && p->retry_at <= now;
    if (go || p->wconn != NULL || p->out != NULL)
        p->need_connect = false;
    rvr_mutex_unlock(&p->q_lock);
    if (!go)
        return;
    char why[128];
    int fd;
    bool in_progress;
    if (!has_addr) {
        snprintf(why, sizeof why, "no address is known for the VM");
    } else if (rvr_sock_connect(&addr, &fd, &in_progress) != RVR_OK) {
        snprintf(why, sizeof why, "cannot connect: %s", strerror(errno));
    } else {
        conn *c = rvr_conn_new(net, fd, true);
        if (c == NULL) {
            rvr_sock_close(fd);
            snprintf(why, sizeof why, "out of memory");
        } else {
            c->peer = p;
            c->expect = p->id;
            c->born_ns = now;
            rvr_addr_format(&addr, c->desc, sizeof c->desc);
            rvr_mutex_lock(&p->q_lock);
            p->out = c;
            rvr_mutex_unlock(&p->q_lock);
            if (!in_progress) {
                c->state = C_PREAMBLE;
                rvr_conn_start(net, c);
            }
            return;
        }
    }
    char id[RVR_UUID_STRLEN];
    RVR_LOG(RVR_LOG_INFO, "VM %s unreachable: %s", rvr_uuid_str(&p->id, id), why);
    rvr_peer_bounce_all(net, p, why);
    rvr_naming_forget_vm(net->naming, &p->id);
    rvr_net_peer_changed(net);
}

/* ---- seeds ----------------------------------------------------------------------- */

void rvr_net_seed_done(rvr_net *net, int i, bool ok, peer *p)
{
    rvr_mutex_lock(&net->lock);
    seed *s = &net->seeds[i];
    if (s->state == S_CONNECTING) {
        s->state = ok ? S_DONE : S_FAILED;
        if (ok && p != NULL)
            s->id = p->id;
        net->seeds_pending--;
        rvr_cond_broadcast(&net->cond);
    }
    rvr_mutex_unlock(&net->lock);
}

static void connect_seeds(rvr_net *net, uint64_t now)
{
    int todo[64], n = 0;
    rvr_mutex_lock(&net->lock);
    if (net->seeds_retry) {
        net->seeds_retry = false;
        for (int i = 0; i < net->nseeds; i++)
            if (net->seeds[i].state == S_IDLE) {
                if (n == 64) {
                    net->seeds_retry = true;   /* the rest next round */
                    break;
                }
                net->seeds[i].state = S_CONNECTING;
                todo[n++] = i;
            }
    }
    rvr_mutex_unlock(&net->lock);
    for (int k = 0; k < n; k++) {
        int i = todo[k], fd;
        bool in_progress;
        if (rvr_sock_connect(&net->seeds[i].addr, &fd, &in_progress) != RVR_OK) {
            RVR_LOG(RVR_LOG_INFO, "cannot connect to %s: %s", net->seeds[i].text, strerror(errno));
            rvr_net_seed_done(net, i, false, NULL);
            continue;
        }
        conn *c = rvr_conn_new(net, fd, true);
        if (c == NULL) {
            rvr_sock_close(fd);
            rvr_net_seed_done(net, i, false, NULL);
            continue;
        }
        c->seed = i;
        c->born_ns = now;
        snprintf(c->desc, sizeof c->desc, "%s", net->seeds[i].text);
        if (!in_progress) {
            c->state = C_PREAMBLE;
            rvr_conn_start(net, c);
        }
    }
}

int rvr_seed_add(rvr_net *net, const char *text, const rvr_sockaddr *a)
{
    for (int i = 0; i < net->nseeds; i++)
        if (rvr_addr_equal(&net->seeds[i].addr, a))
            return i;
    seed *s = realloc(net->seeds, (size_t)(net->nseeds + 1) * sizeof *s);
    if (s == NULL)
        return -1;
    net->seeds = s;
    s = &net->seeds[net->nseeds];
    memset(s, 0, sizeof *s);
    snprintf(s->text, sizeof s->text, "%s", text);
    s->addr = *a;
    s->state = S_FAILED;   /* not connected; rvr_seeds_restart starts it */
    return net->nseeds++;
}

bool rvr_seeds_restart(rvr_net *net)
{
    bool any = false;
    for (int i = 0; i < net->nseeds; i++)
        if (net->seeds[i].state == S_FAILED) {
            net->seeds[i].state = S_IDLE;
            net->seeds_pending++;
            any = net->seeds_retry = true;
        }
    return any;
}

/* ---- the I/O thread ---------------------------------------------------------- */

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
        rvr_mutex_lock(&p->q_lock);
        if (p->need_connect) {
            if (p->retry_at > now && p->wconn == NULL && p->out == NULL) {
                if (*next == 0 || p->retry_at < *next)
                    *next = p->retry_at;
            } else {
                todo[n++] = p;
            }
        }
        rvr_mutex_unlock(&p->q_lock);
    }
    rvr_mutex_unlock(&net->lock);
    for (int i = 0; i < n; i++)
        connect_peer(net, todo[i], now);
}

static bool all_written(rvr_net *net)
{
    bool done = true;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL && done; p = p->next) {
        rvr_mutex_lock(&p->q_lock);
        done = p->qhead == NULL || (p->wconn == NULL && p->out == NULL && !p->need_connect);
        rvr_mutex_unlock(&p->q_lock);
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
        connect_seeds(net, now);
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

static void *io_main(void *arg)
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
        rvr_mutex_unlock(&net->io_lock);
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
    /* A push between the caller's last look and our taking the token poked
     * nobody we would hear (the I/O thread may have taken the poke, seeing
     * no token): look again.  From now on its re-poke reaches us. */
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

void rvr_net_lease(rvr_net *net, bool on)
{
    rvr_mutex_lock(&net->lease_lock);
    int was = net->leases;
    net->leases += on ? 1 : -1;
    struct epoll_event eev = { .events = EPOLLIN, .data.ptr = &net->ep };
    /* The first lease takes the sockets from the I/O thread; the last one
     * gives them back (if some are ready by then, that wakes it). */
    if (on && was == 0)
        epoll_ctl(net->ep_io, EPOLL_CTL_DEL, net->ep, NULL);
    else if (!on && was == 1)
        epoll_ctl(net->ep_io, EPOLL_CTL_ADD, net->ep, &eev);
    rvr_mutex_unlock(&net->lease_lock);
}

void rvr_net_poke(rvr_net *net)
{
    uint64_t one = 1;
    ssize_t w = write(net->pokefd, &one, sizeof one);
    (void)w;
}

/* ---- start and stop ------------------------------------------------------------ */

static void net_free(rvr_net *net)
{
    while (net->peers != NULL) {
        peer *p = net->peers;
        net->peers = p->next;
        for (frame *f = p->qhead, *nx; f != NULL; f = nx) {
            nx = f->next;
            rvr_frame_free(f);
        }
        rvr_mutex_destroy(&p->q_lock);
        rvr_cond_destroy(&p->q_cond);
        free(p);
    }
    if (net->ep >= 0)
        close(net->ep);
    if (net->ep_io >= 0)
        close(net->ep_io);
    rvr_mutex_destroy(&net->lease_lock);
    if (net->wakefd >= 0)
        close(net->wakefd);
    if (net->pokefd >= 0)
        close(net->pokefd);
    rvr_mutex_destroy(&net->io_lock);
    rvr_sock_close(net->lfd);
    rvr_naming_free(net->naming);
    rvr_ctl_free(net->ctl);
    rvr_mutex_destroy(&net->lock);
    rvr_cond_destroy(&net->cond);
    free(net->seeds);
    free(net);
}

rvr_status rvr_net_start(struct rvr_vm *vm, const rvr_net_config *cfg, rvr_net **out)
{
    rvr_net *net = calloc(1, sizeof *net);
    if (net == NULL)
        return RVR_ENOMEM;
    net->vm = vm;
    net->cfg = *cfg;
    net->cfg.bind = NULL;      /* not kept: only used here */
    net->cfg.peers = NULL;
    net->lim = cfg->limits;
    net->ep = net->ep_io = net->wakefd = net->lfd = net->pokefd = -1;
    rvr_mutex_init(&net->lease_lock);
    rvr_mutex_init(&net->io_lock);
    atomic_init(&net->poll_busy, 0);
    atomic_init(&net->poll_token, false);
    atomic_init(&net->io_active, false);
    rvr_mutex_init(&net->lock);
    rvr_cond_init(&net->cond);
    atomic_init(&net->stopping, false);
    atomic_init(&net->cmd_connect, false);
    atomic_init(&net->flush_req, false);
    rvr_status st = rvr_naming_new(&net->naming);
    if (st == RVR_OK)
        st = rvr_ctl_new(net, &net->ctl);
    if (st != RVR_OK) {
        net_free(net);
        return st;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)cfg->port);
    rvr_sockaddr la;
    if ((st = rvr_addr_parse(port, cfg->bind, &la)) != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "cannot listen on %s:%s: bad address", cfg->bind ? cfg->bind : "*", port);
        net_free(net);
        return st;
    }
    if ((st = rvr_sock_listen(&la, 128, &net->lfd, &net->bound)) != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "cannot listen on %s:%s: %s", cfg->bind ? cfg->bind : "*", port,
                strerror(errno));
        net_free(net);
        return st;
    }
    rvr_addr_format(&net->bound, net->addr_text, sizeof net->addr_text);
    for (size_t i = 0; i < cfg->npeers; i++) {
        rvr_sockaddr a;
        if (rvr_addr_parse(cfg->peers[i], NULL, &a) != RVR_OK) {
            RVR_LOG(RVR_LOG_ERROR, "bad peer address '%s' (expected host:port)", cfg->peers[i]);
            net_free(net);
            return RVR_EINVAL;
        }
        if (rvr_seed_add(net, cfg->peers[i], &a) < 0) {
            net_free(net);
            return RVR_ENOMEM;
        }
    }
    rvr_seeds_restart(net);
    net->ep = epoll_create1(EPOLL_CLOEXEC);
    net->ep_io = epoll_create1(EPOLL_CLOEXEC);
    net->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    net->pokefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = { .events = EPOLLIN, .data.ptr = &net->wakefd };
    struct epoll_event eev = { .events = EPOLLIN, .data.ptr = &net->ep };
    struct epoll_event pev = { .events = EPOLLIN | EPOLLET, .data.ptr = &net->pokefd };
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = &net->lfd };
    if (net->ep < 0 || net->ep_io < 0 || net->wakefd < 0 || net->pokefd < 0 ||
        epoll_ctl(net->ep_io, EPOLL_CTL_ADD, net->wakefd, &wev) < 0 ||
        epoll_ctl(net->ep_io, EPOLL_CTL_ADD, net->ep, &eev) < 0 ||
        epoll_ctl(net->ep, EPOLL_CTL_ADD, net->pokefd, &pev) < 0 ||
        epoll_ctl(net->ep, EPOLL_CTL_ADD, net->lfd, &lev) < 0) {
        net_free(net);
        return RVR_ESYS;
    }
    atomic_store(&net->cmd_connect, true);   /* the seeds, first thing */
    int rc = pthread_create(&net->thread, NULL, io_main, net);
    if (rc != 0) {
        RVR_LOG(RVR_LOG_ERROR, "cannot start the I/O thread: %s", strerror(rc));
        net_free(net);
        return RVR_ESYS;
    }
    RVR_LOG(RVR_LOG_DEBUG, "listening on %s", net->addr_text);
    *out = net;
    return RVR_OK;
}

void rvr_net_stop(rvr_net *net)
{
    if (net == NULL)
        return;
    rvr_ctl_stop(net->ctl);   /* no handler runs from here on; callers return */
    /* Every connected VM hears goodbye after what was queued for it. */
    peer *ready[256];
    int n = 0;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL && n < 256; p = p->next) {
        rvr_mutex_lock(&p->q_lock);
        if (p->wconn != NULL)
            ready[n++] = p;
        rvr_mutex_unlock(&p->q_lock);
    }
    rvr_mutex_unlock(&net->lock);
    for (int i = 0; i < n; i++) {
        frame *f = rvr_frame_new(64);
        if (f != NULL && rvr_wire_put_bye(&f->buf, "the VM is stopping") == RVR_OK)
            rvr_peer_enqueue(net, ready[i], f);
        else
            rvr_frame_free(f);
    }
    atomic_store(&net->stopping, true);
    rvr_net_wake(net);
    pthread_join(net->thread, NULL);
    net_free(net);
}

/* ---- sending ---------------------------------------------------------------------- */

bool rvr_net_route_valid(rvr_net *net, const rvr_net_route *route, const rvr_uuid *dst)
{
    return route != NULL && route->peer != NULL && rvr_uuid_eq(&route->dst, dst) &&
           route->gen == rvr_naming_gen(net->naming);
}

rvr_status rvr_net_send(rvr_net *net, const rvr_uuid *dst, rvr_packet *p, rvr_net_route *route)
{
    if (atomic_load(&net->stopping))
        return RVR_ECLOSED;
    peer *pe;
    if (rvr_net_route_valid(net, route, dst)) {
        pe = route->peer;   /* peers live as long as the transport */
    } else {
        uint64_t gen = rvr_naming_gen(net->naming);   /* before: a change meanwhile shows */
        rvr_uuid vmid;
        rvr_status st = rvr_net_locate(net, dst, net->cfg.resolve_ms, &vmid);
        if (st != RVR_OK)
            return st;
        if ((pe = rvr_peer_get(net, &vmid, false)) == NULL)
            return RVR_ENOTFOUND;
        if (route != NULL) {
            route->dst = *dst;
            route->peer = pe;
            route->gen = gen;
        }
    }
    uint64_t theirs = __atomic_load_n(&pe->max_frame, __ATOMIC_RELAXED);
    size_t limit = net->lim.max_frame;
    if (theirs != 0 && theirs < limit)
        limit = (size_t)theirs;
    if (p->body != NULL)
        return rvr_peer_send_typed(net, pe, dst, p, limit);
    return rvr_peer_send_packet(net, pe, dst, p, limit, true);
}

const char *rvr_net_address(const rvr_net *net)
{
    return net->addr_text;
}

rvr_status rvr_net_peers(rvr_net *net, rvr_net_peer_info **out, size_t *n)
{
    size_t cap = 0, k = 0;
    rvr_mutex_lock(&net->lock);
    for (peer *p = net->peers; p != NULL; p = p->next)
        cap++;
    rvr_net_peer_info *v = malloc((cap ? cap : 1) * sizeof *v);
    for (peer *p = net->peers; v != NULL && p != NULL; p = p->next) {
        rvr_mutex_lock(&p->q_lock);
        bool up = p->wconn != NULL;
        rvr_mutex_unlock(&p->q_lock);
        if (up) {
            v[k].id = p->id;
            snprintf(v[k].addr, sizeof v[k].addr, "%s", p->addr_text);
            k++;
        }
    }
    rvr_mutex_unlock(&net->lock);
    if (v == NULL)
        return RVR_ENOMEM;
    *out = v;
    *n = k;
    return RVR_OK;
}

