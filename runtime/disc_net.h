/* disc_net.h — the socket side of discovery: a configuration resolved to
 * addresses, the multicast interfaces, and the sockets (IPv4). */
#ifndef RIVER_DISC_NET_H
#define RIVER_DISC_NET_H

#include <netinet/in.h>
#include <river/discover.h>

typedef struct rvr_disc_net {
    bool mcast;                          /* false: seeds only */
    struct in_addr group;
    uint16_t port;                       /* host order */
    int ifindex[RVR_DISC_MAX_IFS];       /* interfaces multicast uses */
    size_t nifs;
    struct sockaddr_in peers[RVR_DISC_MAX_PEERS];
    size_t npeers;
} rvr_disc_net;

/* Resolves cfg (NULL: defaults) with the environment as discover.h says.
 * Unresolvable peers are logged and left out; a bad group, port or too
 * many peers is RVR_EINVAL/RVR_ELIMIT.  No usable interface only turns
 * multicast off (logged). */
rvr_status rvr_disc_net_resolve(const rvr_disc_config *cfg, rvr_disc_net *out);

/* Parses "host:port" (host a name or IPv4 address; empty host: 127.0.0.1). */
rvr_status rvr_disc_parse_addr(const char *s, struct sockaddr_in *out);
/* "a.b.c.d:port". */
void rvr_disc_addr_str(const struct sockaddr_in *a, char *buf, size_t cap);

/* A non-blocking UDP socket bound to INADDR_ANY:port (0: any port), with
 * multicast sends limited to TTL 1 and looped back to this host. */
rvr_status rvr_disc_udp_socket(uint16_t port, int *out);
/* A non-blocking socket bound to group:port that joined the group on every
 * interface of `net`; several may share the port (SO_REUSEADDR/PORT). */
rvr_status rvr_disc_mcast_socket(const rvr_disc_net *net, int *out);
/* Sends a datagram to the group on each interface of `net` through fd;
 * true when at least one send went out. */
bool rvr_disc_send_mcast(int fd, const rvr_disc_net *net, const void *p, size_t n);

#endif
