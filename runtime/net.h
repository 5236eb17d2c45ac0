/* net.h — the socket part of the platform layer: TCP listen/connect
 * (non-blocking, TCP_NODELAY), address parsing and formatting.  Nothing
 * here knows about River frames; transport.c builds on it.
 *
 * Addresses are written "host:port" ("[v6addr]:port" for IPv6).  The host
 * may be a name; it is resolved with getaddrinfo (numeric hosts never touch
 * the network). */
#ifndef RIVER_RUNTIME_NET_H
#define RIVER_RUNTIME_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <river/status.h>

typedef struct rvr_sockaddr {
    struct sockaddr_storage ss;
    socklen_t len;
} rvr_sockaddr;

/* Longest "host:port" text this layer produces or accepts. */
#define RVR_ADDR_STRLEN 300

/* Parses "host:port", "[v6]:port", ":port" or "port" (the host defaults to
 * default_host, which may be NULL for the wildcard address).  RVR_EINVAL for
 * a malformed address, RVR_ENOTFOUND when the host does not resolve. */
rvr_status rvr_addr_parse(const char *text, const char *default_host, rvr_sockaddr *out);
/* The same for addresses learned from the network: numeric hosts only, so
 * a peer can never make this VM look a name up. */
rvr_status rvr_addr_parse_numeric(const char *text, rvr_sockaddr *out);
/* Writes "host:port" (numeric) into buf; returns buf. */
char *rvr_addr_format(const rvr_sockaddr *a, char *buf, size_t len);
uint16_t rvr_addr_port(const rvr_sockaddr *a);
void rvr_addr_set_port(rvr_sockaddr *a, uint16_t port);
/* True for 0.0.0.0 / :: */
bool rvr_addr_is_wildcard(const rvr_sockaddr *a);
bool rvr_addr_equal(const rvr_sockaddr *a, const rvr_sockaddr *b);

/* A non-blocking listening socket bound to `a` (port 0: ephemeral), with
 * SO_REUSEADDR.  *bound receives the actual address. */
rvr_status rvr_sock_listen(const rvr_sockaddr *a, int backlog, int *fd, rvr_sockaddr *bound);
/* Accepts one connection, non-blocking and with TCP_NODELAY.  RVR_ETIMEDOUT
 * when none is pending (EAGAIN), RVR_ESYS otherwise. */
rvr_status rvr_sock_accept(int lfd, int *fd, rvr_sockaddr *peer);
/* Starts a non-blocking connect with TCP_NODELAY.  *in_progress is set when
 * the connection completes later (wait for writability, then call
 * rvr_sock_connect_result). */
rvr_status rvr_sock_connect(const rvr_sockaddr *a, int *fd, bool *in_progress);
/* The outcome of a non-blocking connect: RVR_OK or RVR_ESYS (errno set). */
rvr_status rvr_sock_connect_result(int fd);
/* The peer's and the local address of a connected socket. */
rvr_status rvr_sock_peer(int fd, rvr_sockaddr *out);
rvr_status rvr_sock_local(int fd, rvr_sockaddr *out);
void rvr_sock_close(int fd);

/* Non-blocking I/O.  Return bytes moved (>= 0), -1 with errno EAGAIN when
 * nothing can move now, or -1 with another errno on failure; a read of 0
 * bytes means the peer closed.  Signals (SIGPIPE) are never raised. */
ssize_t rvr_sock_read(int fd, void *buf, size_t len);
ssize_t rvr_sock_writev(int fd, const struct iovec *iov, int n);
ssize_t rvr_sock_write(int fd, const void *buf, size_t len);

#endif
