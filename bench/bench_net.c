/* bench_net — messaging between two VM processes against raw TCP.
 *
 * Measures, in one run on the same machine:
 *   1. round trip of a 64-byte message (ping-pong),
 *   2. one-way throughput of 64-byte messages,
 *   3. bandwidth with 1 MiB messages,
 * first over raw TCP between two processes (TCP_NODELAY, one write per
 * message, blocking reads; the round trip also with busy-polling reads),
 * then between two River VMs (a VR in each, dynamic packets carrying a
 * bytes attribute of that size), and prints each figure with River's ratio
 * to the raw TCP baseline.  Targets: round trip <= 1.25x, one-way >= 0.5x,
 * bandwidth >= 0.8x.
 *
 *   bench_net [--rounds=N] [--messages=N] [--mib=N]
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <river/river.h>

#define SMALL 64
#define BIG (1u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- raw TCP baseline ------------------------------------------------------- */

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static bool read_full(int fd, void *p, size_t n, bool spin)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = recv(fd, c, n, spin ? MSG_DONTWAIT : 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return false;
        c += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

enum { ECHO, ECHO_SPIN, SINK_SMALL, SINK_BIG };

/* The server process: accepts one connection and serves it. */
static void tcp_server(int lfd, int mode, long count)
{
    int fd = accept(lfd, NULL, NULL);
    nodelay(fd);
    static char buf[BIG];
    if (mode == ECHO || mode == ECHO_SPIN) {
        while (read_full(fd, buf, SMALL, mode == ECHO_SPIN) && write_full(fd, buf, SMALL))
            ;
    } else {
        /* Reads what the messages add up to, in large reads, then acks. */
        size_t total = (size_t)count * (mode == SINK_SMALL ? SMALL : BIG);
        while (total > 0) {
            ssize_t r = recv(fd, buf, total < sizeof buf ? total : sizeof buf, 0);
            if (r <= 0)
                break;
            total -= (size_t)r;
        }
        write_full(fd, "k", 1);
    }
    _exit(0);
}

static int tcp_start(int mode, long count, pid_t *pid)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    if ((*pid = fork()) == 0)
        tcp_server(lfd, mode, count);
    close(lfd);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    nodelay(fd);
    return fd;
}

static void tcp_stop(int fd, pid_t pid)
{
    close(fd);
    waitpid(pid, NULL, 0);
}

/* Microseconds per round trip. */
static double tcp_rtt(long rounds, bool spin)
{
    pid_t pid;
    int fd = tcp_start(spin ? ECHO_SPIN : ECHO, 0, &pid);
    char buf[SMALL] = { 0 };
    for (int i = 0; i < 1000; i++)   /* warm up */
        if (!write_full(fd, buf, SMALL) || !read_full(fd, buf, SMALL, spin))
            return -1;
    double t = now_s();
    for (long i = 0; i < rounds; i++)
        if (!write_full(fd, buf, SMALL) || !read_full(fd, buf, SMALL, spin))
            return -1;
    t = now_s() - t;
    tcp_stop(fd, pid);
    return t / (double)rounds * 1e6;
}

/* Messages (or bytes, for big) per second, one write per message. */
static double tcp_oneway(long count, bool big)
{
    pid_t pid;
    int fd = tcp_start(big ? SINK_BIG : SINK_SMALL, count, &pid);
    size_t size = big ? BIG : SMALL;
    char *buf = calloc(1, size);
    double t = now_s();
    for (long i = 0; i < count; i++)
        if (!write_full(fd, buf, size))
            return -1;
    char ack;
    if (!read_full(fd, &ack, 1, false))
        return -1;
    t = now_s() - t;
    tcp_stop(fd, pid);
    free(buf);
    return (double)count * (big ? (double)size : 1.0) / t;
}

/* ---- River: two VMs ---------------------------------------------------------- */

typedef struct {
    char *role, *boss;
    int64_t rounds, messages, mib;
} bench_args;
static const bench_args defaults = { NULL, NULL, 20000, 500000, 1000 };
static const rvr_arg_desc descs[] = {
    { "role", RVR_ARG_STRING, offsetof(bench_args, role), NULL, "internal: server" },
    { "boss", RVR_ARG_STRING, offsetof(bench_args, boss), NULL, "internal: the client VR" },
    { "rounds", RVR_ARG_INT64, offsetof(bench_args, rounds), "20000", "round trips" },
    { "messages", RVR_ARG_INT64, offsetof(bench_args, messages), "500000", "one-way messages" },
    { "mib", RVR_ARG_INT64, offsetof(bench_args, mib), "1000", "MiB for the bandwidth test" },
};

static uint8_t *blob;

static rvr_packet *msg(const char *tag, size_t size)
{
    rvr_packet *p = rvr_packet_new(tag);
    rvr_packet_set_bytes(p, "data", blob, size);
    return p;
}

static bool send_p(rvr_vr *self, const rvr_uuid *to, rvr_packet *p)
{
    rvr_status st = rvr_send(self, to, p);
    if (st != RVR_OK) {
        fprintf(stderr, "bench_net: send: %s\n", rvr_strerror(st));
        rvr_packet_free(p);
        return false;
    }
    return true;
}

/* The server VR: echoes pings, counts one-way messages and acks each batch. */
static int server(rvr_vr *self, const bench_args *a)
{
    rvr_uuid boss;
    if (a->boss == NULL || rvr_uuid_parse(a->boss, &boss) != RVR_OK)
        return 2;
    if (!send_p(self, &boss, rvr_packet_new("ready")))
        return 1;
    int64_t got = 0, want = 0;
    for (;;) {
        rvr_packet *p;
        if (rvr_recv(self, NULL, RVR_FOREVER, &p) != RVR_OK)
            return 0;
        const char *tag = rvr_packet_tag(p);
        if (tag[0] == 'p') {                    /* ping */
            rvr_packet_set_tag(p, "pong");
            if (!send_p(self, &boss, p))
                return 1;
            continue;
        }
        if (tag[0] == 'e') {                    /* expect n */
            rvr_packet_get_i64(p, "n", &want);
            got = 0;
        } else if (tag[0] == 'm') {             /* one-way */
            got++;
        } else if (tag[0] == 'q') {             /* quit */
            rvr_packet_free(p);
            return 0;
        }
        rvr_packet_free(p);
        if (want > 0 && got == want) {
            want = 0;
            if (!send_p(self, &boss, rvr_packet_new("done")))
                return 1;
        }
    }
}

static rvr_uuid start_server(rvr_vr *self, pid_t *pid)
{
    char boss[RVR_UUID_STRLEN + 8], peer[RVR_ADDR_MAX + 8], addr[RVR_ADDR_MAX], id[RVR_UUID_STRLEN];
    rvr_vm_address(self, addr, sizeof addr);
    snprintf(boss, sizeof boss, "--boss=%s", rvr_uuid_str(rvr_self(self), id));
    snprintf(peer, sizeof peer, "--peer=%s", addr);
    char *argv[] = { "bench_net", "--role=server", boss, peer, NULL };
    if ((*pid = fork()) == 0) {
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "ready");
    rvr_packet *p = NULL;
    rvr_uuid srv = { { 0 } };
    if (rvr_recv(self, m, 20000, &p) == RVR_OK)
        srv = *rvr_packet_src(p);
    rvr_packet_free(p);
    rvr_match_free(m);
    return srv;
}

static double river_rtt(rvr_vr *self, const rvr_uuid *srv, long rounds)
{
    double t = 0;
    for (long i = -1000; i < rounds; i++) {   /* 1000 rounds of warm-up */
        if (i == 0)
            t = now_s();
        rvr_packet *p = msg("ping", SMALL);
        if (!send_p(self, srv, p) || rvr_recv(self, NULL, 10000, &p) != RVR_OK)
            return -1;
        rvr_packet_free(p);
    }
    return (now_s() - t) / (double)rounds * 1e6;
}

static double river_oneway(rvr_vr *self, const rvr_uuid *srv, long count, size_t size)
{
    rvr_packet *e = rvr_packet_new("expect");
    rvr_packet_set_i64(e, "n", count);
    if (!send_p(self, srv, e))
        return -1;
    double t = now_s();
    for (long i = 0; i < count; i++)
        if (!send_p(self, srv, msg("m", size)))
            return -1;
    rvr_packet *d;
    if (rvr_recv(self, NULL, 120000, &d) != RVR_OK)
        return -1;
    rvr_packet_free(d);
    t = now_s() - t;
    return (double)count * (size == BIG ? (double)size : 1.0) / t;
}

static void row(const char *what, double river, double base, const char *unit, bool lower_better,
                double target)
{
    double ratio = river / base;
    printf("  %-26s river %10.2f %-7s tcp %10.2f %-7s ratio %5.2f (target %s %.2f)\n", what, river,
           unit, base, unit, ratio, lower_better ? "<=" : ">=", target);
}

static double base_rtt, base_spin_rtt, base_oneway, base_bw;

static int client(rvr_vr *self, const bench_args *a)
{
    pid_t pid;
    rvr_uuid srv = start_server(self, &pid);
    if (rvr_uuid_is_nil(&srv)) {
        fprintf(stderr, "bench_net: the server VM did not start\n");
        return 1;
    }
    double rtt = river_rtt(self, &srv, (long)a->rounds);
    double ow = river_oneway(self, &srv, (long)a->messages, SMALL);
    double bw = river_oneway(self, &srv, (long)a->mib, BIG);
    send_p(self, &srv, rvr_packet_new("quit"));
    waitpid(pid, NULL, 0);
    printf("bench_net: two VM processes over loopback TCP, against raw TCP between two processes\n");
    row("64 B round trip", rtt, base_rtt, "us", true, 1.25);
    printf("  %-26s raw TCP with busy-polling reads: %.2f us (river/that = %.2f)\n", "",
           base_spin_rtt, rtt / base_spin_rtt);
    row("64 B one-way", ow / 1e3, base_oneway / 1e3, "kmsg/s", false, 0.5);
    row("1 MiB bandwidth", bw / (1 << 20), base_bw / (1 << 20), "MiB/s", false, 0.8);
    return rtt > 0 && ow > 0 && bw > 0 ? 0 : 1;
}

static int bench_main(rvr_vr *self, const void *args)
{
    const bench_args *a = args;
    if (a->role != NULL && strcmp(a->role, "server") == 0)
        return server(self, a);
    return client(self, a);
}

static RVR_VR_TYPE(bench_type, "bench.Net", bench_main, bench_args, defaults, descs);

static long opt(int argc, char **argv, const char *name, long def)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return atol(argv[i] + n + 1);
    return def;
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 0);
    setenv("RIVER_DISCOVERY", "off", 0);
    blob = calloc(1, BIG);
    bool server_role = false;
    for (int i = 1; i < argc; i++)
        server_role |= strcmp(argv[i], "--role=server") == 0;
    if (!server_role) {
        /* The baselines run first, while this process has no threads (fork). */
        long rounds = opt(argc, argv, "--rounds", 20000);
        base_rtt = tcp_rtt(rounds, false);
        base_spin_rtt = tcp_rtt(rounds, true);
        base_oneway = tcp_oneway(opt(argc, argv, "--messages", 500000), false);
        base_bw = tcp_oneway(opt(argc, argv, "--mib", 1000), true);
    }
    return rvr_main(argc, argv, &bench_type);
}
