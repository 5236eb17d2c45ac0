/* disc_probe.c — rvr_discover: probe, collect the replies, follow the VMs
 * they list (see river/discover.h). */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"
#include "log.h"

#define MS 1000000u

/* Probes are re-sent to what has not answered, since UDP may lose them and
 * a VM may still be starting: after these delays (ms from the first send). */
static const unsigned resend_ms[] = { 0, 250, 750, 1500, 3000 };
#define NSENDS (sizeof resend_ms / sizeof resend_ms[0])
#define SEEN_MAX (RVR_DISC_MAX_RESULTS * 4)

typedef struct target {
    struct sockaddr_in addr;
    bool answered;
    unsigned sends;
    uint64_t first_ms;               /* of the first send, from the start */
} target;

typedef struct coll {
    int fd;
    const rvr_disc_net *net;
    uint64_t nonce, start_ns;
    rvr_buf probe;
    unsigned mcast_sends;
    target *targets;                 /* RVR_DISC_MAX_PROBES */
    size_t ntargets;
    rvr_uuid *seen;                  /* every VM that answered, matching or not;
                                        SEEN_MAX, so filtered-out VMs cannot grow it */
    size_t nseen;
    rvr_vm_info *res;                /* RVR_DISC_MAX_RESULTS */
    size_t nres;
    const rvr_vm_filter *f;
} coll;

void rvr_vm_info_free(rvr_vm_info *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].address);
        rvr_map_free(v[i].attrs);
    }
    free(v);
}

static bool seen(const coll *c, const rvr_uuid *u)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (rvr_uuid_eq(&c->seen[i], u))
            return true;
    return false;
}

static void add_target(coll *c, const struct sockaddr_in *a)
{
    for (size_t i = 0; i < c->ntargets; i++)
        if (c->targets[i].addr.sin_addr.s_addr == a->sin_addr.s_addr &&
            c->targets[i].addr.sin_port == a->sin_port)
            return;
    if (c->ntargets == RVR_DISC_MAX_PROBES) {
        RVR_LOG(RVR_LOG_DEBUG, "discovery: more than %d addresses to probe; the rest are not",
                RVR_DISC_MAX_PROBES);
        return;
    }
    c->targets[c->ntargets++] = (target){ .addr = *a };
}

static void add_target_str(coll *c, const char *addr)
{
    struct sockaddr_in a;
    if (rvr_disc_parse_addr(addr, &a) == RVR_OK)
        add_target(c, &a);
}

/* An empty host means the source of the datagram (see discovery.h). */
static char *full_address(const char *addr, const struct sockaddr_in *from)
{
    char buf[RVR_DISC_MAX_ADDR + INET_ADDRSTRLEN];
    if (addr[0] == ':') {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &from->sin_addr, ip, sizeof ip);
        snprintf(buf, sizeof buf, "%s%s", ip, addr);
        return strdup(buf);
    }
    return strdup(addr);
}

/* Records a VM that answered; takes v->attrs when it is kept. */
static void add_result(coll *c, rvr_disc_vm *v, const struct sockaddr_in *from)
{
    if (seen(c, &v->uuid) || c->nseen == SEEN_MAX)
        return;
    c->seen[c->nseen++] = v->uuid;
    rvr_vm_info info = { .uuid = v->uuid, .address = full_address(v->address, from),
                         .attrs = v->attrs != NULL ? v->attrs : rvr_map_new() };
    if (info.address == NULL || info.attrs == NULL) {
        free(info.address);
        if (v->attrs == NULL)
            rvr_map_free(info.attrs);
        return;
    }
    if (!rvr_vm_filter_match(c->f, &info) || c->nres == RVR_DISC_MAX_RESULTS) {
        if (c->nres == RVR_DISC_MAX_RESULTS)
            RVR_LOG(RVR_LOG_DEBUG, "discovery: more than %d VMs; the rest are left out",
                    RVR_DISC_MAX_RESULTS);
        free(info.address);
        if (v->attrs == NULL)
            rvr_map_free(info.attrs);
        return;
    }
    v->attrs = NULL;
    c->res[c->nres++] = info;
}

static void on_reply(coll *c, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
    rvr_disc_msg m;
    char src[64];
    rvr_status st = rvr_disc_decode(p, n, &m);
    if (st != RVR_OK || m.kind != RVR_DISC_REPLY || m.nonce != c->nonce) {
        rvr_disc_addr_str(from, src, sizeof src);
        RVR_LOG(RVR_LOG_DEBUG, "discovery: ignored a datagram from %s: %s", src,
                st != RVR_OK ? rvr_strerror(st) : "not a reply to this probe");
        if (st == RVR_OK)
            rvr_disc_msg_clear(&m);
        return;
    }
    for (size_t i = 0; i < c->ntargets; i++)
        if (c->targets[i].addr.sin_addr.s_addr == from->sin_addr.s_addr &&
            c->targets[i].addr.sin_port == from->sin_port)
            c->targets[i].answered = true;
    add_result(c, &m.sender, from);
    for (size_t i = 0; i < m.nknown; i++) {
        if (seen(c, &m.known[i].uuid))
            continue;
        /* Same rule as the endpoint's table: an empty or loopback host
         * relayed from elsewhere is the relaying host. */
        char *a = full_address(m.known[i].address, from);
        if (a == NULL)
            continue;
        bool from_loop = (ntohl(from->sin_addr.s_addr) >> 24) == 127;
        struct sockaddr_in sa;
        if (rvr_disc_parse_addr(a, &sa) == RVR_OK) {
            if ((ntohl(sa.sin_addr.s_addr) >> 24) == 127 && !from_loop)
                sa.sin_addr = from->sin_addr;
            add_target(c, &sa);
        }
        free(a);
    }
    rvr_disc_msg_clear(&m);
}

/* Sends what is due; returns ms until the next send is due (-1: none). */
static int send_due(coll *c, uint64_t now)
{
    uint64_t el = (now - c->start_ns) / MS, next = UINT64_MAX;
    if (c->net->mcast && c->mcast_sends < NSENDS) {
        if (el >= resend_ms[c->mcast_sends]) {
            if (!rvr_disc_send_mcast(c->fd, c->net, c->probe.data, c->probe.len))
                RVR_LOG(RVR_LOG_DEBUG, "discovery: the multicast probe could not be sent");
            c->mcast_sends++;
        }
        if (c->mcast_sends < NSENDS)
            next = resend_ms[c->mcast_sends];
    }
    for (size_t i = 0; i < c->ntargets; i++) {
        target *t = &c->targets[i];
        if (t->answered || t->sends >= NSENDS)
            continue;
        if (t->sends == 0)
            t->first_ms = el;   /* a VM learnt from a reply starts its own schedule */
        if (el - t->first_ms >= resend_ms[t->sends]) {
            sendto(c->fd, c->probe.data, c->probe.len, 0, (struct sockaddr *)&t->addr, sizeof t->addr);
            t->sends++;
        }
        if (t->sends < NSENDS && t->first_ms + resend_ms[t->sends] < next)
            next = t->first_ms + resend_ms[t->sends];
    }
    if (next == UINT64_MAX)
        return -1;
    return next > el ? (int)(next - el) : 0;
}

static bool done(const coll *c)
{
    size_t lim = rvr_vm_filter_limit_of(c->f);
    return lim > 0 && c->nres >= lim;
}

rvr_status rvr_disc_collect(const rvr_disc_net *net, char (*extra)[RVR_DISC_MAX_ADDR],
                            size_t nextra, const rvr_disc_vm *self, const rvr_vm_filter *f,
                            int timeout_ms, rvr_vm_info **out, size_t *n)
{
    if (net == NULL || out == NULL || n == NULL || timeout_ms < 0)
        return RVR_EINVAL;
    *out = NULL;
    *n = 0;
    coll c = { .fd = -1, .net = net, .f = f, .nonce = 0 };
    rvr_uuid u = rvr_uuid_generate();
    memcpy(&c.nonce, u.bytes, sizeof c.nonce);
    c.targets = calloc(RVR_DISC_MAX_PROBES, sizeof *c.targets);
    c.seen = calloc(SEEN_MAX, sizeof *c.seen);
    c.res = calloc(RVR_DISC_MAX_RESULTS, sizeof *c.res);
    uint8_t *buf = malloc(RVR_DISC_MAX_DATAGRAM + 1);
    rvr_status st = c.targets && c.seen && c.res && buf ? RVR_OK : RVR_ENOMEM;
    if (st == RVR_OK)
        st = rvr_disc_encode_probe(c.nonce, true, NULL, &c.probe);
    if (st == RVR_OK)
        st = rvr_disc_udp_socket(0, &c.fd);
    if (st == RVR_OK && self != NULL) {
        rvr_disc_vm me = *self;
        me.attrs = self->attrs != NULL ? rvr_map_copy(self->attrs) : NULL;
        struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        add_result(&c, &me, &lo);
        rvr_map_free(me.attrs);
    }
    for (size_t i = 0; st == RVR_OK && i < net->npeers; i++)
        add_target(&c, &net->peers[i]);
    for (size_t i = 0; st == RVR_OK && i < nextra; i++)
        add_target_str(&c, extra[i]);

    c.start_ns = rvr_now_ns();
    uint64_t deadline = c.start_ns + (uint64_t)timeout_ms * MS;
    while (st == RVR_OK && !done(&c)) {
        uint64_t now = rvr_now_ns();
        if (now >= deadline)
            break;
        int wait = send_due(&c, now);
        int left = (int)((deadline - now + MS - 1) / MS);
        if (wait < 0 || wait > left)
            wait = left;
        struct pollfd pf = { c.fd, POLLIN, 0 };
        int rc = poll(&pf, 1, wait);
        if (rc < 0 && errno != EINTR) {
            st = RVR_ESYS;
            break;
        }
        for (int k = 0; rc > 0 && k < 256 && !done(&c); k++) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t r = recvfrom(c.fd, buf, RVR_DISC_MAX_DATAGRAM + 1, MSG_TRUNC,
                                 (struct sockaddr *)&from, &fl);
            if (r < 0)
                break;
            if ((size_t)r > RVR_DISC_MAX_DATAGRAM || fl != sizeof from) {
                RVR_LOG(RVR_LOG_DEBUG, "discovery: ignored a %zd-byte datagram", r);
                continue;
            }
            on_reply(&c, buf, (size_t)r, &from);
        }
    }
    if (c.fd >= 0)
        close(c.fd);
    rvr_buf_free(&c.probe);
    free(buf);
    free(c.targets);
    free(c.seen);
    if (st != RVR_OK) {
        rvr_vm_info_free(c.res, c.nres);
        return st;
    }
    if (c.nres == 0) {
        free(c.res);
        return RVR_OK;
    }
    rvr_vm_info *shrunk = realloc(c.res, c.nres * sizeof *c.res);
    *out = shrunk != NULL ? shrunk : c.res;
    *n = c.nres;
    return RVR_OK;
}

rvr_status rvr_discover_standalone(const rvr_disc_config *cfg, const rvr_vm_filter *filter,
                                   int timeout_ms, rvr_vm_info **out, size_t *n)
{
    if (out == NULL || n == NULL || timeout_ms < 0)
        return RVR_EINVAL;
    rvr_disc_net net;
    rvr_status st = rvr_disc_net_resolve(cfg, &net);
    if (st != RVR_OK)
        return st;
    return rvr_disc_collect(&net, NULL, 0, NULL, filter, timeout_ms, out, n);
}

rvr_status rvr_discover(rvr_vr *self, const rvr_vm_filter *filter, int timeout_ms,
                        rvr_vm_info **out, size_t *n)
{
    if (self == NULL || out == NULL || n == NULL || timeout_ms < 0)
        return RVR_EINVAL;
    struct rvr_disc *d = self->vm->disc;
    if (d == NULL)
        return rvr_discover_standalone(NULL, filter, timeout_ms, out, n);
    rvr_disc_net net;
    rvr_disc_vm me;
    char (*known)[RVR_DISC_MAX_ADDR];
    size_t nknown;
    rvr_status st = rvr_disc_snapshot(d, &net, &me, &known, &nknown);
    if (st != RVR_OK)
        return st;
    st = rvr_disc_collect(&net, known, nknown, &me, filter, timeout_ms, out, n);
    rvr_disc_vm_clear(&me);
    free(known);
    return st;
}
