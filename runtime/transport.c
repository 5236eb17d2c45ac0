/* transport.c — see transport.h: configuration, peers, seeds, start and
 * stop, sending.  The I/O thread and receive-side polling are in
 * ioloop.c, name resolution in resolve.c. */
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
    /* 8 MiB: with receive-side flow control, more only keeps more buffers
     * in flight (fresh large ones cost page faults: 1 MiB transfers ran
     * 10-30% slower with 64 MiB). */
    cfg->max_queue = env_size("RIVER_MAX_QUEUE", (size_t)8 << 20, 4096, SIZE_MAX / 2);
    cfg->resolve_ms = (int)env_size("RIVER_RESOLVE_MS", 2000, 0, 3600000);
    cfg->max_conns = env_size("RIVER_MAX_CONNS", 1024, 1, 1000000);
    cfg->coalesce_ns = (uint64_t)env_size("RIVER_COALESCE_US", 5, 0, 1000000) * 1000u;
    /* 256 KiB: a quarter fewer system calls per message than 64 KiB on
     * the sending side, and as many fewer wake-ups of the receiver (one-way
     * 64-byte streams about 10% faster); a stream's batch is still written
     * within RIVER_FLUSH_US of its start unless its sender keeps adding. */
    cfg->batch_bytes = env_size("RIVER_BATCH_BYTES", RVR_BATCH_DEFAULT, 1, (size_t)64 << 20);
    cfg->flush_ns = (uint64_t)env_size("RIVER_FLUSH_US", 100, 1, 1000000) * 1000u;
    cfg->mailbox_high = env_size("RIVER_MAILBOX_HIGH", 1024, 0, SIZE_MAX / 2);
    cfg->mailbox_high_bytes = env_size("RIVER_MAILBOX_HIGH_BYTES", (size_t)4 << 20, 0, SIZE_MAX / 2);
    cfg->flow_stall_ns = (uint64_t)env_size("RIVER_FLOW_STALL_MS", 20, 1, 3600000) * 1000000u;
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
        rvr_spin_init(&p->q_lock);
        rvr_mutex_init(&p->room_lock);
        rvr_cond_init(&p->room_cond);
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
void rvr_net_connect_peer(rvr_net *net, peer *p, uint64_t now)
{
    rvr_mutex_lock(&net->lock);
    bool has_addr = p->has_addr;
    rvr_sockaddr addr = p->addr;
    rvr_mutex_unlock(&net->lock);
    rvr_spin_lock(&p->q_lock);
    bool go = p->need_connect && p->wconn == NULL && p->out == NULL && p->retry_at <= now;
    if (go || p->wconn != NULL || p->out != NULL)
        p->need_connect = false;
    rvr_spin_unlock(&p->q_lock);
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
            rvr_spin_lock(&p->q_lock);
            p->out = c;
            rvr_spin_unlock(&p->q_lock);
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

void rvr_net_connect_seeds(rvr_net *net, uint64_t now)
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
        rvr_mutex_destroy(&p->room_lock);
        rvr_cond_destroy(&p->room_cond);
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
    /* A batch is written before its sender must wait for room. */
    if (net->cfg.batch_bytes == 0)
        net->cfg.batch_bytes = RVR_BATCH_DEFAULT;
    if (net->cfg.batch_bytes > net->cfg.max_queue / 2)
        net->cfg.batch_bytes = net->cfg.max_queue / 2;
    net->lim = cfg->limits;
    net->flush_gap = net->cfg.flush_ns;
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
    if (st == RVR_OK) {
        net->naming_gen = rvr_naming_gen_at(net->naming);
        st = rvr_ctl_new(net, &net->ctl);
    }
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
    /* Published before the I/O thread starts: what it and the threads it
     * starts (control, allocation watch) read of vm->net is then ordered. */
    *out = net;
    int rc = rvr_thread_start(&net->thread, rvr_net_io_main, net);
    if (rc != 0) {
        *out = NULL;
        RVR_LOG(RVR_LOG_ERROR, "cannot start the I/O thread: %s", strerror(rc));
        net_free(net);
        return RVR_ESYS;
    }
    RVR_LOG(RVR_LOG_DEBUG, "listening on %s", net->addr_text);
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
        rvr_spin_lock(&p->q_lock);
        if (p->wconn != NULL)
            ready[n++] = p;
        rvr_spin_unlock(&p->q_lock);
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
    return rvr_route_valid(net, route, dst);
}

rvr_status rvr_net_send(rvr_net *net, const rvr_uuid *dst, rvr_packet *p, rvr_net_route *route,
                        bool valid)
{
    if (atomic_load(&net->stopping))
        return RVR_ECLOSED;
    peer *pe;
    if (valid || rvr_net_route_valid(net, route, dst)) {
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
            route->head_len = 0;   /* its dst changed */
        }
    }
    size_t limit = rvr_peer_limit(net, pe);
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
        rvr_spin_lock(&p->q_lock);
        bool up = p->wconn != NULL;
        rvr_spin_unlock(&p->q_lock);
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

