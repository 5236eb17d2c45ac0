/* bench_net — messaging between two VM processes against raw TCP.
 *
 * Measures, in one run on the same machine:
 *   1. round trip of a 64-byte message (ping-pong; --size: another size),
 *   2. one-way throughput of 64-byte messages, as dynamic packets and as
 *      typed messages (net.rvr: a sequence number and the data),
 *   3. bandwidth with 1 MiB messages, their data copied into each packet
 *      (rvr_packet_set_bytes) and given to it (rvr_packet_give_bytes: no
 *      copy, as the raw TCP sender writes its buffer),
 * between two River VMs (a VR in each, dynamic packets carrying a bytes
 * attribute of that size) and over raw TCP between two processes
 * (TCP_NODELAY) doing the same work: every message is a frame with a
 * 5-byte header (length, type) like River's, the reader reads into a
 * buffer and takes the frames out of it one by one.  The raw round trip
 * blocks in recv (the same as a parked River receiver; also shown with
 * busy-polling reads); the raw one-way figure is given with one write per
 * message and with batched writes (64 frames per write).  The raw 1 MiB
 * sender resends one untouched buffer; it is also shown writing fresh data
 * into it before each send, which is what River's copying send does.
 *
 * Each figure is measured --reps times, River and raw TCP alternately (so
 * load changes hit both), with warm-up; the medians and their ratio are
 * printed, with the load average before and after.  Targets: round trip
 * <= 1.25x, one-way >= 0.5x, bandwidth >= 0.8x.  Under the one-way and
 * bandwidth rows, the CPU time (user and system, getrusage) that each
 * message or MiB cost the sending and the receiving process, River's and
 * raw TCP's: steadier than throughput on a noisy machine, and it shows
 * which side and which part (ours or the kernel's) a message costs.
 *
 *   bench_net [--rounds=N] [--messages=N] [--mib=N] [--reps=N]
 *             [--only=rtt|oneway|dynamic|typed|bw]
 *             [--size=N]
 *
 * --size sets the message size of the round trip and one-way tests (64 by
 * default; `make bench` also runs the one-way test at 256 bytes).
 *
 * BENCH_DEBUG=1 also prints, for each one-way batch, when the sender had
 * sent everything and when the receiver's "done" came: which side limits.
 * `make bench` runs bench_zmq (ZeroMQ, same figures) next when built.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <river/river.h>

#include "bench_util.h"
#include "net.rvr.h"

#define SMALL_MAX 4096   /* the largest --size */
#define BIG (1u << 20)
#define HDR 5
#define BATCH 64

/* ---- raw TCP baseline ------------------------------------------------------- */

/* Bytes per message of the round trip and one-way tests (--size). */
static size_t small = 64;

/* cpu[0], cpu[1]: what sending and receiving `count` messages cost, per message. */
static void per_message(cpu_use *cpu, cpu_use sent, cpu_use got, long count)
{
    cpu[0].user_ns = sent.user_ns / (double)count;
    cpu[0].sys_ns = sent.sys_ns / (double)count;
    cpu[1].user_ns = got.user_ns / (double)count;
    cpu[1].sys_ns = got.sys_ns / (double)count;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

static void put_hdr(uint8_t *h, uint32_t len)
{
    h[0] = (uint8_t)(len >> 24);
    h[1] = (uint8_t)(len >> 16);
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    h[4] = 3;   /* MSG */
}

/* A framed reader: reads into a buffer, hands out complete frames. */
typedef struct {
    int fd;
    bool spin;
    uint8_t *buf;
    size_t cap, start, end;
    uint64_t sum;   /* touches every payload, as a receiver would */
} freader;

static void fr_init(freader *r, int fd, bool spin)
{
    r->fd = fd;
    r->spin = spin;
    r->cap = BIG + 256 * 1024;
    r->buf = malloc(r->cap);
    r->start = r->end = 0;
    r->sum = 0;
}

/* Next frame's payload into *out (valid until the next call); false at EOF. */
static bool fr_next(freader *r, uint8_t **out, uint32_t *len)
{
    for (;;) {
        size_t have = r->end - r->start;
        if (have >= HDR) {
            const uint8_t *h = r->buf + r->start;
            uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            if (have >= HDR + (size_t)n) {
                *out = r->buf + r->start + HDR;
                *len = n;
                r->sum += (*out)[0] + (n > 0 ? (*out)[n - 1] : 0);
                r->start += HDR + n;
                return true;
            }
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, have);
            r->start = 0;
            r->end = have;
        }
        ssize_t g = recv(r->fd, r->buf + r->end, r->cap - r->end, r->spin ? MSG_DONTWAIT : 0);
        if (g < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (g <= 0)
            return false;
        r->end += (size_t)g;
    }
}

enum { ECHO, ECHO_SPIN, SINK };

/* The server process: accepts one connection and serves it: echoes each
 * frame, or counts `count` frames and answers one byte. */
static void tcp_server(int lfd, int mode, long count)
{
    int fd = accept(lfd, NULL, NULL);
    nodelay(fd);
    freader r;
    fr_init(&r, fd, mode == ECHO_SPIN);
    static uint8_t out[HDR + SMALL_MAX];
    uint8_t *p;
    uint32_t n;
    if (mode == ECHO || mode == ECHO_SPIN) {
        while (fr_next(&r, &p, &n) && n <= SMALL_MAX) {
            put_hdr(out, n);
            memcpy(out + HDR, p, n);
            if (!write_full(fd, out, HDR + n))
                break;
        }
    } else {
        for (;;) {
            cpu_use c0 = { 0, 0 };
            for (long i = 0; i < count; i++) {
                if (!fr_next(&r, &p, &n))
                    _exit(0);
                if (i == 0)
                    c0 = cpu_now();   /* from the first frame: waiting costs no CPU */
            }
            cpu_use used = cpu_since(c0);
            uint8_t ack[1 + sizeof used] = { 'k' };
            memcpy(ack + 1, &used, sizeof used);
            write_full(fd, ack, sizeof ack);
        }
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
    /* Forked from a threaded process: the child calls malloc once (glibc
     * makes that safe after fork), then only makes system calls. */
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
    if (fd < 0)
        return -1;
    freader r;
    fr_init(&r, fd, spin);
    static uint8_t out[HDR + SMALL_MAX];
    uint8_t *p;
    uint32_t n;
    put_hdr(out, (uint32_t)small);
    double t = 0;
    for (long i = -1000; i < rounds; i++) {   /* 1000 rounds of warm-up */
        if (i == 0)
            t = now_s();
        if (!write_full(fd, out, HDR + small) || !fr_next(&r, &p, &n))
            return -1;
    }
    t = now_s() - t;
    tcp_stop(fd, pid);
    free(r.buf);
    return t / (double)rounds * 1e6;
}

/* Messages (or bytes, for big) per second: one write per message, or
 * `batch` frames per write; `fresh`: the sender writes each message's data
 * before sending it, as a producer of new data would (else it sends the
 * same untouched buffer again).  With `cpu`, the CPU each message cost the
 * sender (cpu[0]) and the receiver (cpu[1]). */
static double tcp_oneway(long count, bool big, int batch, bool fresh, cpu_use *cpu)
{
    pid_t pid;
    int fd = tcp_start(SINK, count, &pid);
    if (fd < 0)
        return -1;
    size_t size = big ? BIG : small;
    uint8_t *buf = calloc((size_t)batch, HDR + size);
    for (int k = 0; k < batch; k++)
        put_hdr(buf + (size_t)k * (HDR + size), (uint32_t)size);
    uint8_t ack[1 + sizeof(cpu_use)];
    double t = 0;
    cpu_use sent = { 0, 0 }, got;
    for (int round = 0; round < 2; round++) {   /* the first round warms up */
        t = now_s();
        cpu_use c0 = cpu_now();
        for (long i = 0; i < count; i += batch) {
            long k = count - i < batch ? count - i : batch;
            for (long j = 0; fresh && j < k; j++)
                memset(buf + (size_t)j * (HDR + size) + HDR, (int)(i + j), size);
            if (!write_full(fd, buf, (size_t)k * (HDR + size)))
                return -1;
        }
        sent = cpu_since(c0);
        if (recv(fd, ack, sizeof ack, MSG_WAITALL) != (ssize_t)sizeof ack)
            return -1;
        t = now_s() - t;
    }
    memcpy(&got, ack + 1, sizeof got);
    if (cpu != NULL)
        per_message(cpu, sent, got, count);
    tcp_stop(fd, pid);
    free(buf);
    return (double)count * (big ? (double)size : 1.0) / t;
}

/* ---- River: two VMs ---------------------------------------------------------- */

typedef struct {
    char *role, *boss, *only;
    int64_t rounds, messages, mib, reps, size;
    bool base;
} bench_args;
static const bench_args defaults = { NULL, NULL, NULL, 20000, 200000, 500, 5, 64, true };
static const rvr_arg_desc descs[] = {
    { "role", RVR_ARG_STRING, offsetof(bench_args, role), NULL, "internal: server" },
    { "boss", RVR_ARG_STRING, offsetof(bench_args, boss), NULL, "internal: the client VR" },
    { "only", RVR_ARG_STRING, offsetof(bench_args, only), NULL,
      "rtt, oneway (dynamic and typed), dynamic, typed or bw: only that" },
    { "rounds", RVR_ARG_INT64, offsetof(bench_args, rounds), "20000", "round trips" },
    { "messages", RVR_ARG_INT64, offsetof(bench_args, messages), "200000", "one-way messages" },
    { "mib", RVR_ARG_INT64, offsetof(bench_args, mib), "500", "MiB for the bandwidth test" },
    { "reps", RVR_ARG_INT64, offsetof(bench_args, reps), "5", "repetitions (medians are shown)" },
    { "size", RVR_ARG_INT64, offsetof(bench_args, size), "64",
      "bytes of data per message in the round trip and one-way tests (1..4096)" },
    { "base", RVR_ARG_BOOL, offsetof(bench_args, base), "true", "false: River only (for profiling)" },
};

static uint8_t *blob;

/* `give`: the data goes in without a copy (rvr_packet_give_bytes), as
 * the raw TCP sender writes its buffer without one; else it is copied
 * (rvr_packet_set_bytes). */
static rvr_packet *msg(const char *tag, size_t size, bool give)
{
    rvr_packet *p = rvr_packet_new(tag);
    void *buf = give ? rvr_bytes_alloc(size) : NULL;
    if (buf != NULL && rvr_packet_give_bytes(p, "data", buf, size) == RVR_OK)
        return p;
    rvr_bytes_free(buf);
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
    cpu_use c0 = { 0, 0 };
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
            bool typed = false;
            rvr_packet_get_bool(p, "typed", &typed);
            got = 0;
            c0 = cpu_now();
            /* Typed: n Ticks, each received into its struct. */
            for (benchnet_Tick t; typed && got < want; got++) {
                if (benchnet_Tick_recv(self, &t, NULL, RVR_FOREVER) != RVR_OK)
                    return 1;
                benchnet_Tick_clear(&t);
            }
        } else if (tag[0] == 'm') {             /* one-way */
            const uint8_t *d;
            size_t n;
            if (rvr_packet_get_bytes(p, "data", &d, &n) == RVR_OK)
                got++;
        } else if (tag[0] == 'q') {             /* quit */
            rvr_packet_free(p);
            return 0;
        }
        rvr_packet_free(p);
        if (want > 0 && got == want) {
            want = 0;
            cpu_use used = cpu_since(c0);
            rvr_packet *d = rvr_packet_new("done");
            rvr_packet_set_f64(d, "user_ns", used.user_ns);
            rvr_packet_set_f64(d, "sys_ns", used.sys_ns);
            if (!send_p(self, &boss, d))
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
        /* BENCH_EXE: this program's path, for tools (valgrind) under
         * which /proc/self/exe is the tool itself. */
        const char *exe = getenv("BENCH_EXE");
        execv(exe != NULL ? exe : "/proc/self/exe", argv);
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
        rvr_packet *p = msg("ping", small, false);
        if (!send_p(self, srv, p) || rvr_recv(self, NULL, 10000, &p) != RVR_OK)
            return -1;
        rvr_packet_free(p);
    }
    return (now_s() - t) / (double)rounds * 1e6;
}

/* Seconds to send `count` messages and hear that all arrived; with `cpu`,
 * what each cost the sender's and the receiver's process. */
/* A Tick of `size` bytes of data, sent typed: its data is the struct's
 * (malloc'ed), as the generated send takes it. */
static bool send_tick(rvr_vr *self, const rvr_uuid *to, long seq, size_t size)
{
    benchnet_Tick t = { .seq = (uint64_t)seq, .data = { malloc(size), size } };
    if (t.data.data == NULL)
        return false;
    memcpy(t.data.data, blob, size);
    rvr_status st = benchnet_Tick_send(self, to, &t);
    if (st != RVR_OK) {
        fprintf(stderr, "bench_net: typed send: %s\n", rvr_strerror(st));
        benchnet_Tick_clear(&t);
        return false;
    }
    return true;
}

/* How river_batch sends: dynamic packets (data copied or given), or typed. */
enum { COPIED, GIVEN, TYPED };

static double river_batch(rvr_vr *self, const rvr_uuid *srv, long count, size_t size, int how,
                          cpu_use *cpu)
{
    rvr_packet *e = rvr_packet_new("expect");
    rvr_packet_set_i64(e, "n", count);
    rvr_packet_set_bool(e, "typed", how == TYPED);
    if (!send_p(self, srv, e))
        return -1;
    double t = now_s();
    cpu_use c0 = cpu_now();
    for (long i = 0; i < count; i++)
        if (how == TYPED ? !send_tick(self, srv, i, size)
                         : !send_p(self, srv, msg("m", size, how == GIVEN)))
            return -1;
    double sent = now_s() - t;
    cpu_use mine = cpu_since(c0), theirs = { 0, 0 };
    rvr_packet *d;
    if (rvr_recv(self, NULL, 120000, &d) != RVR_OK)
        return -1;
    rvr_packet_get_f64(d, "user_ns", &theirs.user_ns);
    rvr_packet_get_f64(d, "sys_ns", &theirs.sys_ns);
    rvr_packet_free(d);
    if (cpu != NULL)
        per_message(cpu, mine, theirs, count);
    if (getenv("BENCH_DEBUG"))
        fprintf(stderr, "sent in %.3f s, done at %.3f s\n", sent, now_s() - t);
    return now_s() - t;
}

static double river_oneway(rvr_vr *self, const rvr_uuid *srv, long count, size_t size, int how,
                           cpu_use *cpu)
{
    if (river_batch(self, srv, count / 10 + 1, size, how, NULL) < 0)   /* warm-up */
        return -1;
    double t = river_batch(self, srv, count, size, how, cpu);
    return t < 0 ? -1 : (double)count * (size == BIG ? (double)size : 1.0) / t;
}

static void row(const char *what, const double *river, const double *base, int n, double scale,
                const char *unit, bool lower_better, double target)
{
    double r = median(river, n) * scale, b = median(base, n) * scale;
    printf("  %-22s river %10.2f %-7s tcp %10.2f %-7s ratio %5.2f (target %s %.2f)\n", what, r, unit,
           b, unit, r / b, lower_better ? "<=" : ">=", target);
    printf("  %-22s  each run (river/tcp):", "");
    for (int i = 0; i < n; i++)
        printf(" %.0f/%.0f", river[i] * scale, base[i] * scale);
    printf("\n");
}

/* Median CPU per message (`what`, in `unit`: ns times `scale`), each side,
 * user and system, beside raw TCP's (`tcp_name`): where a message's cost
 * goes. */
static void cpu_rows(const char *what, const char *unit, double scale, const char *tcp_name,
                     cpu_use river[][2], cpu_use tcp[][2], int n, bool base)
{
    static const char *const side[2] = { "sender", "receiver" };
    for (int k = 0; k < 2; k++) {
        double ru[MAXREPS], rs[MAXREPS], tu[MAXREPS], ts[MAXREPS];
        for (int i = 0; i < n; i++) {
            ru[i] = river[i][k].user_ns * scale;
            rs[i] = river[i][k].sys_ns * scale;
            tu[i] = tcp[i][k].user_ns * scale;
            ts[i] = tcp[i][k].sys_ns * scale;
        }
        printf("    CPU %s, %-8s river %4.0f %s (user %4.0f, system %4.0f)", what, side[k],
               median(ru, n) + median(rs, n), unit, median(ru, n), median(rs, n));
        if (base)
            printf("   %s %4.0f %s (user %3.0f, system %4.0f)", tcp_name,
                   median(tu, n) + median(ts, n), unit, median(tu, n), median(ts, n));
        printf("\n");
    }
}

static int client(rvr_vr *self, const bench_args *a)
{
    int reps = a->reps < 1 ? 1 : a->reps > MAXREPS ? MAXREPS : (int)a->reps;
    small = a->size < 1 ? 1 : a->size > SMALL_MAX ? SMALL_MAX : (size_t)a->size;
    char rtt_name[32], ow_name[32];
    snprintf(rtt_name, sizeof rtt_name, "%zu B round trip", small);
    snprintf(ow_name, sizeof ow_name, "%zu B one-way", small);
    bool all = a->only == NULL, ok = true, base = a->base;
    bool do_rtt = all || strcmp(a->only, "rtt") == 0;
    bool do_ow = all || strcmp(a->only, "oneway") == 0 || strcmp(a->only, "dynamic") == 0;
    bool do_typed = all || strcmp(a->only, "oneway") == 0 || strcmp(a->only, "typed") == 0;
    bool do_bw = all || strcmp(a->only, "bw") == 0;
    char load0[128], load1[128];
    loadavg(load0, sizeof load0);
    pid_t pid;
    rvr_uuid srv = start_server(self, &pid);
    if (rvr_uuid_is_nil(&srv)) {
        fprintf(stderr, "bench_net: the server VM did not start\n");
        return 1;
    }
    double rtt[MAXREPS], b_rtt[MAXREPS], b_srtt[MAXREPS], ow[MAXREPS], b_ow[MAXREPS],
        b_owb[MAXREPS], owt[MAXREPS], bw[MAXREPS], bwg[MAXREPS], b_bw[MAXREPS], b_bwf[MAXREPS];
    cpu_use c_ow[MAXREPS][2] = { { { 0, 0 } } }, c_owb[MAXREPS][2] = { { { 0, 0 } } },
            c_owt[MAXREPS][2] = { { { 0, 0 } } };
    cpu_use c_bw[MAXREPS][2] = { { { 0, 0 } } }, c_bwg[MAXREPS][2] = { { { 0, 0 } } },
            c_bwt[MAXREPS][2] = { { { 0, 0 } } };
    for (int i = 0; i < reps; i++) {
        /* River and raw TCP alternately, the order swapped every repetition. */
        bool river_first = i % 2 == 0;
        if (do_rtt) {
            if (river_first)
                rtt[i] = river_rtt(self, &srv, (long)a->rounds);
            b_rtt[i] = base ? tcp_rtt((long)a->rounds, false) : 1;
            b_srtt[i] = base ? tcp_rtt((long)a->rounds, true) : 1;
            if (!river_first)
                rtt[i] = river_rtt(self, &srv, (long)a->rounds);
            ok &= rtt[i] > 0 && b_rtt[i] > 0 && b_srtt[i] > 0;
        }
        if (do_ow) {
            if (river_first)
                ow[i] = river_oneway(self, &srv, (long)a->messages, small, COPIED, c_ow[i]);
            b_ow[i] = base ? tcp_oneway((long)a->messages, false, 1, false, NULL) : 1;
            b_owb[i] = base ? tcp_oneway((long)a->messages, false, BATCH, false, c_owb[i]) : 1;
            if (!river_first)
                ow[i] = river_oneway(self, &srv, (long)a->messages, small, COPIED, c_ow[i]);
            ok &= ow[i] > 0 && b_ow[i] > 0 && b_owb[i] > 0;
        }
        if (do_typed) {
            if (!do_ow)
                b_owb[i] = base ? tcp_oneway((long)a->messages, false, BATCH, false, c_owb[i]) : 1;
            owt[i] = river_oneway(self, &srv, (long)a->messages, small, TYPED, c_owt[i]);
            ok &= owt[i] > 0 && b_owb[i] > 0;
        }
        if (do_bw) {
            if (river_first) {
                bw[i] = river_oneway(self, &srv, (long)a->mib, BIG, COPIED, c_bw[i]);
                bwg[i] = river_oneway(self, &srv, (long)a->mib, BIG, GIVEN, c_bwg[i]);
            }
            b_bw[i] = base ? tcp_oneway((long)a->mib, true, 1, false, c_bwt[i]) : 1;
            b_bwf[i] = base ? tcp_oneway((long)a->mib, true, 1, true, NULL) : 1;
            if (!river_first) {
                bwg[i] = river_oneway(self, &srv, (long)a->mib, BIG, GIVEN, c_bwg[i]);
                bw[i] = river_oneway(self, &srv, (long)a->mib, BIG, COPIED, c_bw[i]);
            }
            ok &= bw[i] > 0 && bwg[i] > 0 && b_bw[i] > 0 && b_bwf[i] > 0;
        }
    }
    send_p(self, &srv, rvr_packet_new("quit"));
    waitpid(pid, NULL, 0);
    loadavg(load1, sizeof load1);
    printf("bench_net: two VM processes over loopback TCP against raw TCP between two processes "
           "(medians of %d runs)\n  load average before: %s; after: %s\n", reps, load0, load1);
    if (do_rtt) {
        row(rtt_name, rtt, b_rtt, reps, 1, "us", true, 1.25);
        row("  vs busy-polling TCP", rtt, b_srtt, reps, 1, "us", true, 1.25);
    }
    if (do_ow) {
        row(ow_name, ow, b_ow, reps, 1e-3, "kmsg/s", false, 0.5);
        row("  vs batched TCP", ow, b_owb, reps, 1e-3, "kmsg/s", false, 0.5);
        cpu_rows("per msg", "ns", 1, "batched tcp", c_ow, c_owb, reps, base);
    }
    if (do_typed) {
        char typed_name[40];
        snprintf(typed_name, sizeof typed_name, "%zu B one-way, typed", small);
        row(typed_name, owt, b_owb, reps, 1e-3, "kmsg/s", false, 0.5);
        printf("  %-22s  (vs batched TCP; net.rvr's Tick {seq, data})\n", "");
        cpu_rows("per msg", "ns", 1, "batched tcp", c_owt, c_owb, reps, base);
    }
    if (do_bw) {
        row("1 MiB bandwidth", bw, b_bw, reps, 1.0 / (1 << 20), "MiB/s", false, 0.8);
        cpu_rows("per MiB", "us", 1e-3, "tcp", c_bw, c_bwt, reps, base);
        row("  vs tcp, fresh data", bw, b_bwf, reps, 1.0 / (1 << 20), "MiB/s", false, 0.8);
        row("  given, not copied", bwg, b_bw, reps, 1.0 / (1 << 20), "MiB/s", false, 0.8);
        cpu_rows("per MiB", "us", 1e-3, "tcp", c_bwg, c_bwt, reps, base);
    }
    return ok ? 0 : 1;
}

static int bench_main(rvr_vr *self, const void *args)
{
    const bench_args *a = args;
    if (a->role != NULL && strcmp(a->role, "server") == 0)
        return server(self, a);
    return client(self, a);
}

static RVR_VR_TYPE(bench_type, "bench.Net", bench_main, bench_args, defaults, descs);

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 0);
    setenv("RIVER_DISCOVERY", "off", 0);
    blob = calloc(1, BIG);
    return rvr_main(argc, argv, &bench_type);
}
