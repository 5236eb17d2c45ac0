/* disc_net.c — see disc_net.h. */
#include "disc_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static bool parse_port(const char *s, uint16_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

rvr_status rvr_disc_parse_addr(const char *s, struct sockaddr_in *out)
{
    if (s == NULL || strlen(s) >= RVR_DISC_MAX_ADDR)
        return RVR_EINVAL;
    const char *colon = strrchr(s, ':');
    uint16_t port;
    if (colon == NULL || !parse_port(colon + 1, &port))
        return RVR_EINVAL;
    char host[RVR_DISC_MAX_ADDR];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons(port);
    if (host[0] == '\0') {
        out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return RVR_OK;
    }
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
        return RVR_OK;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return RVR_ENOTFOUND;
    out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return RVR_OK;
}

void rvr_disc_addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
}

static rvr_status add_peer(rvr_disc_net *net, const char *s, size_t len)
{
    char buf[RVR_DISC_MAX_ADDR];
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return RVR_OK;
    if (len >= sizeof buf) {
        RVR_LOG(RVR_LOG_WARN, "discovery: peer address too long (%zu bytes); ignored", len);
        return RVR_OK;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct sockaddr_in a;
    rvr_status st = rvr_disc_parse_addr(buf, &a);
    if (st != RVR_OK) {
        /* A peer that is down or misspelt must not stop the VM: the others
         * may still answer. */
        RVR_LOG(RVR_LOG_WARN, "discovery: peer '%s' %s; ignored", buf,
                st == RVR_EINVAL ? "is not host:port" : "does not resolve");
        return RVR_OK;
    }
    for (size_t i = 0; i < net->npeers; i++)
        if (net->peers[i].sin_addr.s_addr == a.sin_addr.s_addr && net->peers[i].sin_port == a.sin_port)
            return RVR_OK;
    if (net->npeers == RVR_DISC_MAX_PEERS)
        return RVR_ELIMIT;
    net->peers[net->npeers++] = a;
    return RVR_OK;
}

static bool name_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (e != NULL);
    }
    return false;
}

/* Picks the interfaces: up, MULTICAST, with an IPv4 address, and named in
 * `only` when given. */
static void pick_ifs(rvr_disc_net *net, const char *only)
{
    struct ifaddrs *ifs;
    net->nifs = 0;
    if (getifaddrs(&ifs) != 0) {
        RVR_LOG(RVR_LOG_WARN, "discovery: cannot list interfaces: %s", strerror(errno));
        return;
    }
    for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
            continue;
        if (only != NULL && !name_listed(only, i->ifa_name))
            continue;
        if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_MULTICAST) == 0) {
            if (only != NULL)
                RVR_LOG(RVR_LOG_WARN, "discovery: interface %s is %s; multicast not used on it",
                        i->ifa_name, (i->ifa_flags & IFF_UP) ? "not multicast-capable" : "down");
            continue;
        }
        int idx = (int)if_nametoindex(i->ifa_name);
        bool dup = idx == 0;
        for (size_t k = 0; k < net->nifs && !dup; k++)
            dup = net->ifindex[k] == idx;
        if (dup)
            continue;
        if (net->nifs == RVR_DISC_MAX_IFS) {
            RVR_LOG(RVR_LOG_WARN, "discovery: more than %d interfaces; %s not used",
                    RVR_DISC_MAX_IFS, i->ifa_name);
            continue;
        }
        net->ifindex[net->nifs++] = idx;
    }
    freeifaddrs(ifs);
}

rvr_status rvr_disc_net_resolve(const rvr_disc_config *cfg, rvr_disc_net *out)
{
    static const rvr_disc_config none;
    if (cfg == NULL)
        cfg = &none;
    memset(out, 0, sizeof *out);

    const char *group = cfg->group != NULL ? cfg->group : getenv("RIVER_MCAST_GROUP");
    if (group == NULL || *group == '\0')
        group = RVR_DISC_DEFAULT_GROUP;
    out->mcast = strcmp(group, "off") != 0;
    if (out->mcast && (inet_pton(AF_INET, group, &out->group) != 1 ||
                       !IN_MULTICAST(ntohl(out->group.s_addr)))) {
        RVR_LOG(RVR_LOG_ERROR, "discovery: '%s' is not an IPv4 multicast group", group);
        return RVR_EINVAL;
    }

    out->port = cfg->port;
    const char *env = getenv("RIVER_MCAST_PORT");
    if (out->port == 0 && env != NULL && *env != '\0' && !parse_port(env, &out->port)) {
        RVR_LOG(RVR_LOG_ERROR, "discovery: RIVER_MCAST_PORT='%s' is not a port", env);
        return RVR_EINVAL;
    }
    if (out->port == 0)
        out->port = RVR_DISC_DEFAULT_PORT;

    rvr_status st = RVR_OK;
    for (size_t i = 0; st == RVR_OK && i < cfg->npeers; i++)
        if (cfg->peers[i] != NULL)
            st = add_peer(out, cfg->peers[i], strlen(cfg->peers[i]));
    env = getenv("RIVER_PEERS");
    for (const char *p = env; st == RVR_OK && p != NULL && *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        st = add_peer(out, p, len);
        p += len + (e != NULL);
    }
    if (st != RVR_OK) {
        RVR_LOG(RVR_LOG_ERROR, "discovery: more than %d seed peers", RVR_DISC_MAX_PEERS);
        return st;
    }

    if (out->mcast) {
        const char *only = cfg->mcast_if != NULL ? cfg->mcast_if : getenv("RIVER_MCAST_IF");
        pick_ifs(out, only != NULL && *only != '\0' ? only : NULL);
        if (out->nifs == 0) {
            RVR_LOG(RVR_LOG_INFO, "discovery: no multicast-capable interface; seed peers only");
            out->mcast = false;
        }
    }
    return RVR_OK;
}

static void set_int(int fd, int level, int opt, int v)
{
    if (setsockopt(fd, level, opt, &v, sizeof v) != 0)
        RVR_LOG(RVR_LOG_DEBUG, "discovery: setsockopt(%d, %d): %s", level, opt, strerror(errno));
}

rvr_status rvr_disc_udp_socket(uint16_t port, int *out)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RVR_ESYS;
    /* TTL 1: probes never leave the link, whatever the routing says. */
    set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 1);
    set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return e == EADDRINUSE ? RVR_EEXIST : RVR_ESYS;
    }
    *out = fd;
    return RVR_OK;
}

rvr_status rvr_disc_mcast_socket(const rvr_disc_net *net, int *out)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RVR_ESYS;
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
#ifdef SO_REUSEPORT
    set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#endif
#ifdef IP_MULTICAST_ALL
    /* Only this group, not every group some other socket of the host joined. */
    set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
    /* Bound to the group, not INADDR_ANY: unicast to the port is not ours. */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(net->port), .sin_addr = net->group };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return RVR_ESYS;
    }
    size_t joined = 0;
    for (size_t i = 0; i < net->nifs; i++) {
        struct ip_mreqn m = { .imr_multiaddr = net->group, .imr_ifindex = net->ifindex[i] };
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0)
            joined++;
        else
            RVR_LOG(RVR_LOG_WARN, "discovery: cannot join the group on interface %d: %s",
                    net->ifindex[i], strerror(errno));
    }
    if (joined == 0) {
        close(fd);
        errno = ENODEV;
        return RVR_ESYS;
    }
    *out = fd;
    return RVR_OK;
}

bool rvr_disc_send_mcast(int fd, const rvr_disc_net *net, const void *p, size_t n)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(net->port), .sin_addr = net->group };
    bool sent = false;
    for (size_t i = 0; i < net->nifs; i++) {
        struct ip_mreqn m = { .imr_ifindex = net->ifindex[i] };
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0)
            continue;
        if (sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)n)
            sent = true;
        else
            RVR_LOG(RVR_LOG_DEBUG, "discovery: multicast on interface %d: %s", net->ifindex[i],
                    strerror(errno));
    }
    return sent;
}
