/* discovery.c — a VM's discovery endpoint (see discovery.h). */
#include "discovery.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sysinfo.h"

typedef struct known_vm {
    rvr_uuid id;
    char addr[RVR_DISC_MAX_ADDR];
    rvr_map *attrs;
    uint64_t seen_ns;        /* when last heard of, directly or through a peer */
} known_vm;

struct rvr_disc {
    rvr_vm *vm;
    rvr_disc_net net;
    int ufd, mfd, wake[2];
    pthread_t th;
    rvr_mutex lock;          /* guards everything below */
    char status[32];
    rvr_sysinfo sys;
    char address[RVR_DISC_MAX_ADDR];
    char program[128];
    rvr_map *labels;
    known_vm *known;         /* RVR_DISC_MAX_KNOWN slots */
    size_t nknown;
    uint64_t nonce[2];       /* the last two announces: replies to older ones are stale */
    int announce_ms, announce_step;
    uint64_t next_announce_ns;
    uint64_t dyn_ns;         /* load and memory are re-read at most once a second */
    double load;
    uint64_t mem_free;
};

#define MS 1000000u

static uint64_t random64(void)
{
    rvr_uuid u = rvr_uuid_generate();
    uint64_t v;
    memcpy(&v, u.bytes, sizeof v);
    return v;
}

/* ---- the VM's own info ------------------------------------------------------ */

static rvr_status put_str(rvr_map *m, const char *k, const char *s)
{
    rvr_value v;
    rvr_status st = rvr_value_str(&v, s);
    if (st == RVR_OK && (st = rvr_map_set(m, k, &v)) != RVR_OK)
        rvr_value_clear(&v);
    return st;
}

static rvr_status put_val(rvr_map *m, const char *k, rvr_value v)
{
    return rvr_map_set(m, k, &v);
}

/* Called with d->lock held. */
static rvr_status self_info(struct rvr_disc *d, rvr_disc_vm *out)
{
    memset(out, 0, sizeof *out);
    out->uuid = d->vm->id;
    memcpy(out->address, d->address, sizeof out->address);
    uint64_t now = rvr_now_ns();
    if (d->dyn_ns == 0 || now - d->dyn_ns >= 1000 * MS) {
        d->load = rvr_sysinfo_load();
        d->mem_free = rvr_sysinfo_mem_free();
        d->dyn_ns = now;
    }
    rvr_map *m = rvr_map_new(), *labels = d->labels != NULL ? rvr_map_copy(d->labels) : rvr_map_new();
    rvr_status st = m != NULL && labels != NULL ? RVR_OK : RVR_ENOMEM;
    if (st == RVR_OK) st = put_str(m, "host", d->sys.host);
    if (st == RVR_OK) st = put_str(m, "arch", d->sys.arch);
    if (st == RVR_OK) st = put_str(m, "os", d->sys.os);
    if (st == RVR_OK) st = put_val(m, "cores", rvr_value_u64(d->sys.cores));
    if (st == RVR_OK) st = put_val(m, "load", rvr_value_f64(d->load));
    if (st == RVR_OK) st = put_val(m, "mem_free", rvr_value_u64(d->mem_free));
    if (st == RVR_OK) st = put_val(m, "mem_total", rvr_value_u64(d->sys.mem_total));
    if (st == RVR_OK) st = put_str(m, "user", d->sys.user);
    if (st == RVR_OK) st = put_val(m, "pid", rvr_value_u64((uint64_t)getpid()));
    if (st == RVR_OK) st = put_str(m, "status", d->status);
    if (st == RVR_OK) st = put_str(m, "program", d->program);
    if (st == RVR_OK) {
        rvr_value lv = rvr_value_map(labels);
        if ((st = rvr_map_set(m, "labels", &lv)) == RVR_OK)
            labels = NULL;
    }
    rvr_map_free(labels);
    if (st != RVR_OK) {
        rvr_map_free(m);
        return st;
    }
    out->attrs = m;
    return RVR_OK;
}

/* ---- the table of known VMs ------------------------------------------------- */

/* An address with an empty or loopback host, heard from `from`, is given
 * the host of `from`: a VM advertising ":7001" is at the address its
 * datagrams come from, and a loopback address relayed from another host
 * means that host. */
static void fill_host(char *addr, const struct sockaddr_in *from)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL)
        return;
    bool empty = colon == addr;
    bool loop = strncmp(addr, "127.", 4) == 0 || strncmp(addr, "localhost:", 10) == 0;
    bool from_loop = (ntohl(from->sin_addr.s_addr) >> 24) == 127;
    if (!empty && !(loop && !from_loop))
        return;
    char ip[INET_ADDRSTRLEN], tmp[RVR_DISC_MAX_ADDR];
    inet_ntop(AF_INET, &from->sin_addr, ip, sizeof ip);
    snprintf(tmp, sizeof tmp, "%s%s", ip, colon);
    memcpy(addr, tmp, sizeof tmp);
}

static void expire(struct rvr_disc *d, uint64_t now)
{
    for (size_t i = 0; i < d->nknown;) {
        if (now - d->known[i].seen_ns > (uint64_t)RVR_DISC_KNOWN_TTL_MS * MS) {
            rvr_map_free(d->known[i].attrs);
            d->known[i] = d->known[--d->nknown];
        } else {
            i++;
        }
    }
}

/* Takes v->attrs.  Called with d->lock held. */
static void merge(struct rvr_disc *d, rvr_disc_vm *v, const struct sockaddr_in *from, uint64_t now)
{
    if (rvr_uuid_eq(&v->uuid, &d->vm->id))
        return;
    /* Ages grow as an entry is relayed, so a VM that is gone fades out of
     * every table instead of bouncing between peers forever. */
    if (v->age_ms >= RVR_DISC_KNOWN_TTL_MS)
        return;
    uint64_t seen = now - (uint64_t)v->age_ms * MS;
    fill_host(v->address, from);
    known_vm *k = NULL;
    for (size_t i = 0; i < d->nknown && k == NULL; i++)
        if (rvr_uuid_eq(&d->known[i].id, &v->uuid))
            k = &d->known[i];
    if (k != NULL && k->seen_ns >= seen)
        return;
    if (k == NULL && d->nknown < RVR_DISC_MAX_KNOWN)
        k = &d->known[d->nknown++];
    if (k == NULL) {
        known_vm *oldest = &d->known[0];
        for (size_t i = 1; i < d->nknown; i++)
            if (d->known[i].seen_ns < oldest->seen_ns)
                oldest = &d->known[i];
        if (oldest->seen_ns >= seen) {
            RVR_LOG(RVR_LOG_DEBUG, "discovery: table full (%d VMs); %s not remembered",
                    RVR_DISC_MAX_KNOWN, v->address);
            return;
        }
        k = oldest;
    }
    rvr_map_free(k->attrs);
    k->id = v->uuid;
    memcpy(k->addr, v->address, sizeof k->addr);
    k->attrs = v->attrs;
    v->attrs = NULL;
    k->seen_ns = seen;
}

/* ---- answering -------------------------------------------------------------- */

typedef struct reply_ctx { int fd; const struct sockaddr_in *to; } reply_ctx;

static rvr_status emit(void *arg, const uint8_t *p, size_t n)
{
    reply_ctx *c = arg;
    if (sendto(c->fd, p, n, 0, (const struct sockaddr *)c->to, sizeof *c->to) != (ssize_t)n)
        RVR_LOG(RVR_LOG_DEBUG, "discovery: reply not sent: %s", strerror(errno));
    return RVR_OK;   /* a lost reply is like a lost datagram: the prober retries */
}

static void reply(struct rvr_disc *d, const rvr_disc_msg *m, const struct sockaddr_in *from)
{
    rvr_buf self = { 0 }, *known = NULL;
    size_t nk = 0;
    rvr_disc_vm me;
    rvr_mutex_lock(&d->lock);
    rvr_status st = self_info(d, &me);
    if (st == RVR_OK) {
        st = rvr_disc_encode_vm(&me, &self);
        rvr_disc_vm_clear(&me);
    }
    if (st == RVR_OK && m->want_known && d->nknown > 0) {
        known = calloc(d->nknown, sizeof *known);
        uint64_t now = rvr_now_ns();
        for (size_t i = 0; known != NULL && i < d->nknown; i++) {
            const known_vm *k = &d->known[i];
            if (m->has_sender && rvr_uuid_eq(&k->id, &m->sender.uuid))
                continue;   /* the asker knows itself */
            rvr_disc_vm v = { .uuid = k->id, .attrs = k->attrs,
                              .age_ms = (uint32_t)((now - k->seen_ns) / MS) };
            memcpy(v.address, k->addr, sizeof v.address);
            if (rvr_disc_encode_vm(&v, &known[nk]) == RVR_OK)
                nk++;
        }
    }
    rvr_mutex_unlock(&d->lock);
    if (st == RVR_OK) {
        reply_ctx c = { d->ufd, from };
        rvr_disc_pack_reply(m->nonce, &self, known, nk, emit, &c);
    } else {
        RVR_LOG(RVR_LOG_WARN, "discovery: cannot build a reply: %s", rvr_strerror(st));
    }
    for (size_t i = 0; i < nk; i++)
        rvr_buf_free(&known[i]);
    free(known);
    rvr_buf_free(&self);
}

static void handle(struct rvr_disc *d, bool unicast, const uint8_t *p, size_t n,
                   const struct sockaddr_in *from)
{
    char src[64];
    rvr_disc_msg m;
    rvr_status st = rvr_disc_decode(p, n, &m);
    if (st != RVR_OK) {
        /* Anyone can send to the port: drop quietly, say why at debug level. */
        rvr_disc_addr_str(from, src, sizeof src);
        RVR_LOG(RVR_LOG_DEBUG, "discovery: ignored a %zu-byte datagram from %s: %s", n, src,
                rvr_strerror(st));
        return;
    }
    uint64_t now = rvr_now_ns();
    if (m.kind == RVR_DISC_PROBE) {
        if (unicast && m.has_sender) {   /* an announce: remember the peer */
            rvr_mutex_lock(&d->lock);
            m.sender.age_ms = 0;
            merge(d, &m.sender, from, now);
            rvr_mutex_unlock(&d->lock);
        }
        reply(d, &m, from);
    } else if (unicast && (m.nonce == d->nonce[0] || m.nonce == d->nonce[1])) {
        rvr_mutex_lock(&d->lock);
        m.sender.age_ms = 0;
        merge(d, &m.sender, from, now);
        for (size_t i = 0; i < m.nknown; i++)
            merge(d, &m.known[i], from, now);
        rvr_mutex_unlock(&d->lock);
    } else {
        rvr_disc_addr_str(from, src, sizeof src);
        RVR_LOG(RVR_LOG_DEBUG, "discovery: ignored an unexpected reply from %s", src);
    }
    rvr_disc_msg_clear(&m);
}

static void drain(struct rvr_disc *d, int fd, bool unicast)
{
    static const int burst = 64;   /* then let the other socket and the timer run */
    uint8_t *buf = malloc(RVR_DISC_MAX_DATAGRAM + 1);
    if (buf == NULL)
        return;
    for (int i = 0; i < burst; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        /* MSG_TRUNC returns the real length, so an oversized datagram is
         * recognised instead of being read as a truncated one. */
        ssize_t n = recvfrom(fd, buf, RVR_DISC_MAX_DATAGRAM + 1, MSG_TRUNC,
                             (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (fl != sizeof from || from.sin_family != AF_INET)
            continue;
        if ((size_t)n > RVR_DISC_MAX_DATAGRAM) {
            char src[64];
            rvr_disc_addr_str(&from, src, sizeof src);
            RVR_LOG(RVR_LOG_DEBUG, "discovery: ignored a %zd-byte datagram from %s (limit %d)",
                    n, src, RVR_DISC_MAX_DATAGRAM);
            continue;
        }
        handle(d, unicast, buf, (size_t)n, &from);
    }
    free(buf);
}

static void announce(struct rvr_disc *d)
{
    static const int steps_ms[] = { 200, 300, 500, 1000 };   /* 0.2, 0.5, 1, 2 s */
    rvr_buf b = { 0 };
    rvr_disc_vm me;
    rvr_mutex_lock(&d->lock);
    d->nonce[1] = d->nonce[0];
    d->nonce[0] = random64();
    uint64_t nonce = d->nonce[0];
    rvr_status st = self_info(d, &me);
    int step = d->announce_step < 4 ? steps_ms[d->announce_step++] : d->announce_ms;
    d->next_announce_ns = rvr_now_ns() + (uint64_t)step * MS;
    rvr_mutex_unlock(&d->lock);
    if (st == RVR_OK) {
        st = rvr_disc_encode_probe(nonce, true, &me, &b);
        rvr_disc_vm_clear(&me);
    }
    for (size_t i = 0; st == RVR_OK && i < d->net.npeers; i++)
        if (sendto(d->ufd, b.data, b.len, 0, (struct sockaddr *)&d->net.peers[i],
                   sizeof d->net.peers[i]) != (ssize_t)b.len)
            RVR_LOG(RVR_LOG_DEBUG, "discovery: announce not sent: %s", strerror(errno));
    rvr_buf_free(&b);
}

static void *disc_thread(void *arg)
{
    struct rvr_disc *d = arg;
    for (;;) {
        int timeout = -1;
        if (d->net.npeers > 0) {
            uint64_t now = rvr_now_ns();
            if (now >= d->next_announce_ns)
                announce(d);
            timeout = (int)((d->next_announce_ns - rvr_now_ns()) / MS) + 1;
        }
        struct pollfd pf[3] = { { d->wake[0], POLLIN, 0 }, { d->ufd, POLLIN, 0 }, { d->mfd, POLLIN, 0 } };
        int np = d->mfd >= 0 ? 3 : 2;
        int rc = poll(pf, (nfds_t)np, timeout < 0 || timeout > 5000 ? 5000 : timeout);
        if (rc < 0 && errno != EINTR) {
            RVR_LOG(RVR_LOG_ERROR, "discovery: poll: %s; discovery stops", strerror(errno));
            break;
        }
        if (rc > 0 && (pf[0].revents & POLLIN))
            break;
        if (rc > 0 && pf[1].revents)
            drain(d, d->ufd, true);
        if (rc > 0 && np == 3 && pf[2].revents)
            drain(d, d->mfd, false);
        rvr_mutex_lock(&d->lock);
        expire(d, rvr_now_ns());
        rvr_mutex_unlock(&d->lock);
    }
    return NULL;
}

/* ---- starting and stopping -------------------------------------------------- */

static void disc_free(struct rvr_disc *d)
{
    if (d->ufd >= 0) close(d->ufd);
    if (d->mfd >= 0) close(d->mfd);
    if (d->wake[0] >= 0) close(d->wake[0]);
    if (d->wake[1] >= 0) close(d->wake[1]);
    for (size_t i = 0; i < d->nknown; i++)
        rvr_map_free(d->known[i].attrs);
    free(d->known);
    rvr_map_free(d->labels);
    rvr_mutex_destroy(&d->lock);
    free(d);
}

/* The advertised address: "host:port", ":port", or "0.0.0.0:port"/"*:port"
 * (the listener's wildcard, advertised as ":port"). */
static rvr_status set_address(struct rvr_disc *d, const char *adv, uint16_t *port)
{
    *port = 0;
    d->address[0] = '\0';
    if (adv == NULL || *adv == '\0')
        return RVR_OK;
    const char *colon = strrchr(adv, ':');
    if (colon == NULL || strlen(adv) >= sizeof d->address)
        return RVR_EINVAL;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return RVR_EINVAL;
    *port = (uint16_t)p;
    size_t hl = (size_t)(colon - adv);
    bool wild = (hl == 7 && strncmp(adv, "0.0.0.0", 7) == 0) || (hl == 1 && adv[0] == '*');
    snprintf(d->address, sizeof d->address, "%s", wild ? colon : adv);
    return RVR_OK;
}

rvr_status rvr_disc_start(rvr_vm *vm, const rvr_disc_config *cfg)
{
    static const rvr_disc_config none;
    if (vm == NULL)
        return RVR_EINVAL;
    if (vm->disc != NULL)
        return RVR_EEXIST;
    if (cfg == NULL)
        cfg = &none;
    struct rvr_disc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return RVR_ENOMEM;
    d->vm = vm;
    d->ufd = d->mfd = d->wake[0] = d->wake[1] = -1;
    rvr_mutex_init(&d->lock);
    snprintf(d->status, sizeof d->status, "available");
    rvr_sysinfo_static(&d->sys);
    const char *prog = cfg->program != NULL ? cfg->program : "river";
    if (strrchr(prog, '/') != NULL)
        prog = strrchr(prog, '/') + 1;
    if (strncmp(prog, "lt-", 3) == 0)
        prog += 3;   /* libtool's wrapper name is not the program's */
    snprintf(d->program, sizeof d->program, "%s", prog);
    d->announce_ms = cfg->announce_ms > 0 ? cfg->announce_ms : 5000;

    uint16_t uport;
    rvr_status st = set_address(d, cfg->advertise, &uport);
    if (st != RVR_OK)
        RVR_LOG(RVR_LOG_ERROR, "discovery: advertised address '%s' is not host:port", cfg->advertise);
    if (st == RVR_OK && cfg->labels != NULL) {
        d->labels = rvr_map_copy(cfg->labels);
        if (d->labels == NULL)
            st = RVR_ENOMEM;
    }
    if (st == RVR_OK && (d->known = calloc(RVR_DISC_MAX_KNOWN, sizeof *d->known)) == NULL)
        st = RVR_ENOMEM;
    if (st == RVR_OK)
        st = rvr_disc_net_resolve(cfg, &d->net);
    if (st == RVR_OK && pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        st = RVR_ESYS;
    if (st == RVR_OK && (st = rvr_disc_udp_socket(uport, &d->ufd)) != RVR_OK)
        RVR_LOG(RVR_LOG_ERROR, "discovery: cannot bind UDP port %u: %s", uport, strerror(errno));
    if (st == RVR_OK && uport == 0) {
        /* No port named (no TCP listener yet, or a test): advertise the one
         * the system gave the socket, with the host given, if any. */
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        getsockname(d->ufd, (struct sockaddr *)&a, &al);
        char *colon = strrchr(d->address, ':');
        size_t hl = colon != NULL ? (size_t)(colon - d->address) : 0;
        snprintf(d->address + hl, sizeof d->address - hl, ":%u", (unsigned)ntohs(a.sin_port));
    }
    if (st == RVR_OK) {
        /* Refuse now what could never be sent: an info past the limit. */
        rvr_disc_vm me;
        rvr_buf b = { 0 };
        st = self_info(d, &me);
        if (st == RVR_OK) {
            st = rvr_disc_encode_vm(&me, &b);
            rvr_disc_vm_clear(&me);
        }
        rvr_buf_free(&b);
        if (st == RVR_ELIMIT)
            RVR_LOG(RVR_LOG_ERROR, "discovery: the VM's info (labels included) exceeds %d bytes",
                    RVR_DISC_MAX_INFO);
    }
    if (st == RVR_OK && d->net.mcast && rvr_disc_mcast_socket(&d->net, &d->mfd) != RVR_OK)
        RVR_LOG(RVR_LOG_WARN, "discovery: no multicast (%s); answering seed peers only",
                strerror(errno));
    if (st == RVR_OK && rvr_thread_start(&d->th, disc_thread, d) != 0)
        st = RVR_ESYS;
    if (st != RVR_OK) {
        disc_free(d);
        return st;
    }
    /* Published atomically: the control thread (allocation status) may
     * already run and read it. */
    __atomic_store_n(&vm->disc, d, __ATOMIC_RELEASE);
    char id[RVR_UUID_STRLEN], g[INET_ADDRSTRLEN];
    RVR_LOG(RVR_LOG_INFO, "discovery: VM %s at %s; multicast %s:%u%s; %zu seed peer(s)",
            rvr_uuid_str(&vm->id, id), d->address, inet_ntop(AF_INET, &d->net.group, g, sizeof g),
            (unsigned)d->net.port, d->mfd >= 0 ? "" : " (off)", d->net.npeers);
    return RVR_OK;
}

void rvr_disc_stop(rvr_vm *vm)
{
    if (vm == NULL || vm->disc == NULL)
        return;
    struct rvr_disc *d = vm->disc;
    ssize_t w = write(d->wake[1], "x", 1);
    (void)w;   /* a full pipe already wakes the thread */
    pthread_join(d->th, NULL);
    vm->disc = NULL;
    disc_free(d);
}

void rvr_disc_set_status(rvr_vm *vm, const char *status)
{
    struct rvr_disc *d = vm != NULL ? __atomic_load_n(&vm->disc, __ATOMIC_ACQUIRE) : NULL;
    if (d == NULL || status == NULL)
        return;
    rvr_mutex_lock(&d->lock);
    snprintf(d->status, sizeof d->status, "%s", status);
    rvr_mutex_unlock(&d->lock);
}

rvr_status rvr_disc_snapshot(struct rvr_disc *d, rvr_disc_net *net, rvr_disc_vm *self,
                             char (**known)[RVR_DISC_MAX_ADDR], size_t *nknown)
{
    *known = NULL;
    *nknown = 0;
    *net = d->net;   /* written only before the thread started */
    rvr_mutex_lock(&d->lock);
    rvr_status st = self_info(d, self);
    if (st == RVR_OK && d->nknown > 0) {
        *known = malloc(d->nknown * sizeof **known);
        if (*known == NULL)
            st = RVR_ENOMEM;
        for (size_t i = 0; st == RVR_OK && i < d->nknown; i++)
            memcpy((*known)[(*nknown)++], d->known[i].addr, RVR_DISC_MAX_ADDR);
    }
    rvr_mutex_unlock(&d->lock);
    if (st != RVR_OK)
        rvr_disc_vm_clear(self);
    return st;
}
