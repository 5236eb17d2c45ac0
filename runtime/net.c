/* net.c — see net.h. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- addresses ------------------------------------------------------------ */

static rvr_status resolve(const char *host, const char *port, bool numeric, rvr_sockaddr *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (host == NULL ? AI_PASSIVE : 0) | (numeric ? AI_NUMERICHOST : 0);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL)
        return rc == EAI_NONAME || rc == EAI_FAIL || rc == EAI_NODATA ? RVR_ENOTFOUND : RVR_EINVAL;
    /* Prefer IPv4 when a name has both: loopback peers usually listen there. */
    struct addrinfo *pick = res;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    memset(out, 0, sizeof *out);
    memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
    out->len = pick->ai_addrlen;
    freeaddrinfo(res);
    return RVR_OK;
}

static rvr_status parse(const char *text, const char *default_host, bool numeric, rvr_sockaddr *out)
{
    if (text == NULL || out == NULL)
        return RVR_EINVAL;
    size_t n = strlen(text);
    if (n == 0 || n >= RVR_ADDR_STRLEN)
        return RVR_EINVAL;
    char host[RVR_ADDR_STRLEN];
    const char *port;
    const char *h = NULL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return RVR_EINVAL;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        h = host;
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL) {
            port = text;
            h = default_host;
        } else {
            if (strchr(text, ':') != colon)
                return RVR_EINVAL;   /* bare IPv6 without brackets */
            memcpy(host, text, (size_t)(colon - text));
            host[colon - text] = '\0';
            h = host[0] != '\0' ? host : default_host;
            port = colon + 1;
        }
    }
    if (*port == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        atoi(port) > 65535)
        return RVR_EINVAL;
    if (h != NULL && *h == '\0')
        return RVR_EINVAL;
    return resolve(h, port, numeric, out);
}

rvr_status rvr_addr_parse(const char *text, const char *default_host, rvr_sockaddr *out)
{
    return parse(text, default_host, false, out);
}

rvr_status rvr_addr_parse_numeric(const char *text, rvr_sockaddr *out)
{
    return parse(text, NULL, true, out);
}

char *rvr_addr_format(const rvr_sockaddr *a, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(s->sin_port));
    } else if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(s->sin6_port));
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

uint16_t rvr_addr_port(const rvr_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return 0;
}

void rvr_addr_set_port(rvr_sockaddr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool rvr_addr_is_wildcard(const rvr_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return false;
}

bool rvr_addr_equal(const rvr_sockaddr *a, const rvr_sockaddr *b)
{
    char x[RVR_ADDR_STRLEN], y[RVR_ADDR_STRLEN];
    return strcmp(rvr_addr_format(a, x, sizeof x), rvr_addr_format(b, y, sizeof y)) == 0;
}

/* ---- sockets -------------------------------------------------------------- */

static int set_flags(int fd, bool nodelay)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    if (nodelay) {
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            return -1;
    }
    return 0;
}

rvr_status rvr_sock_listen(const rvr_sockaddr *a, int backlog, int *out, rvr_sockaddr *bound)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RVR_ESYS;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, backlog) < 0 ||
        set_flags(fd, false) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return RVR_ESYS;
    }
    if (bound != NULL && rvr_sock_local(fd, bound) != RVR_OK) {
        close(fd);
        return RVR_ESYS;
    }
    *out = fd;
    return RVR_OK;
}

rvr_status rvr_sock_accept(int lfd, int *out, rvr_sockaddr *peer)
{
    rvr_sockaddr tmp;
    tmp.len = sizeof tmp.ss;
    int fd = accept4(lfd, (struct sockaddr *)&tmp.ss, &tmp.len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? RVR_ETIMEDOUT : RVR_ESYS;
    if (set_flags(fd, true) < 0) {
        close(fd);
        return RVR_ESYS;
    }
    if (peer != NULL)
        *peer = tmp;
    *out = fd;
    return RVR_OK;
}

rvr_status rvr_sock_connect(const rvr_sockaddr *a, int *out, bool *in_progress)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return RVR_ESYS;
    if (set_flags(fd, true) < 0) {
        close(fd);
        return RVR_ESYS;
    }
    *in_progress = false;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            errno = e;
            return RVR_ESYS;
        }
        *in_progress = true;
    }
    *out = fd;
    return RVR_OK;
}

rvr_status rvr_sock_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return RVR_ESYS;
    if (err != 0) {
        errno = err;
        return RVR_ESYS;
    }
    return RVR_OK;
}

rvr_status rvr_sock_peer(int fd, rvr_sockaddr *out)
{
    out->len = sizeof out->ss;
    return getpeername(fd, (struct sockaddr *)&out->ss, &out->len) == 0 ? RVR_OK : RVR_ESYS;
}

rvr_status rvr_sock_local(int fd, rvr_sockaddr *out)
{
    out->len = sizeof out->ss;
    return getsockname(fd, (struct sockaddr *)&out->ss, &out->len) == 0 ? RVR_OK : RVR_ESYS;
}

void rvr_sock_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

ssize_t rvr_sock_read(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return n;
}

ssize_t rvr_sock_writev(int fd, const struct iovec *iov, int n)
{
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)n;
    ssize_t w;
    do
        w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return w;
}

ssize_t rvr_sock_write(int fd, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };
    return rvr_sock_writev(fd, &iov, 1);
}
