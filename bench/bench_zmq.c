/* bench_zmq — bench_net's three figures over ZeroMQ, to set beside River's.
 *
 * Measures, between two processes over loopback TCP with libzmq:
 *   1. round trip of a 64-byte message (ping-pong),
 *   2. one-way throughput of 64-byte messages,
 *   3. bandwidth with 1 MiB messages,
 * with bench_net's methodology: 1000 rounds of warm-up before the round
 * trips; before each one-way run a batch of a tenth of its size; the
 * receiver touches the first and last byte of every message and answers
 * one message at the end of each batch (the clock stops on that answer).
 *
 * PAIR sockets throughout: one bidirectional connection per measurement
 * is what a River VR pair and bench_net's raw TCP use (PUSH/PULL would need
 * a second connection for the acknowledgement; REQ/REP adds an envelope
 * frame to every message).  libzmq sets TCP_NODELAY itself.
 *
 * Senders use zmq_send from one reused buffer, which copies it into a new
 * message each time, as rvr_packet_set_bytes copies into a packet; the
 * bandwidth is also given zero-copy (zmq_msg_init_data over that buffer).
 *
 * Each figure is measured --reps times, interleaved (so load changes hit
 * all of them); the medians are printed, with the load average before and
 * after.  Standalone (no libriver): it builds wherever libzmq does.
 *
 *   bench_zmq [--rounds=N] [--messages=N] [--mib=N] [--reps=N] [--only=rtt|oneway|bw]
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bench_util.h"

#define SMALL 64
#define BIG (1u << 20)
#define WARMUP_ROUNDS 1000
#define TIMEOUT_MS 120000   /* a dead peer fails the run instead of hanging it */

static long rounds = 20000, messages = 2000000, mib = 500, reps = 5;
static const char *only;
static uint8_t *blob;
static volatile uint64_t touched;   /* volatile: the touches must not be optimised away */

/* ---- the peer process -------------------------------------------------------- */

enum { ECHO, SINK };

typedef struct {
    void *ctx, *sock;
    pid_t pid;
} zlink;

static void *open_pair(void *ctx, int linger)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    int t = TIMEOUT_MS;
    if (s != NULL) {
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t);
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &t, sizeof t);
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    }
    return s;
}

static bool recv_touch(void *s)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    const uint8_t *d = zmq_msg_data(&m);
    size_t n = zmq_msg_size(&m);
    touched += n > 0 ? d[0] + d[n - 1] : 0;
    zmq_msg_close(&m);
    return true;
}

/* The peer binds and reports its endpoint through `wfd`, then echoes
 * `count` messages (ECHO), or takes batches of `warm` then `count`
 * messages and answers one byte after each (SINK). */
static void peer(int wfd, int mode, long warm, long count)
{
    void *ctx = zmq_ctx_new();
    /* Linger long enough for the last answer to leave, not forever. */
    void *s = open_pair(ctx, 5000);
    char ep[256];
    size_t len = sizeof ep;
    if (s == NULL || zmq_bind(s, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0 ||
        write(wfd, ep, strlen(ep)) != (ssize_t)strlen(ep))
        _exit(1);
    close(wfd);
    int rc = 0;
    if (mode == ECHO) {
        zmq_msg_t m;
        for (long i = 0; i < count && rc == 0; i++) {
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s, 0) < 0 || zmq_msg_send(&m, s, 0) < 0)
                rc = 1;
            if (rc)
                zmq_msg_close(&m);   /* a sent message is the socket's */
        }
    } else {
        long batch[2] = { warm, count };
        for (int b = 0; b < 2 && rc == 0; b++) {
            for (long i = 0; i < batch[b] && rc == 0; i++)
                rc = !recv_touch(s);
            if (rc == 0 && zmq_send(s, "k", 1, 0) != 1)
                rc = 1;
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    _exit(rc);
}

/* Forks the peer, then creates this side's context: libzmq contexts do not
 * survive fork, so none exists in this process when it forks (each
 * measurement has its own, terminated in link_close). */
static bool link_open(zlink *l, int mode, long warm, long count)
{
    int p[2];
    char ep[256];
    size_t have = 0;
    l->ctx = l->sock = NULL;
    if (pipe(p) != 0)
        return false;
    if ((l->pid = fork()) == 0) {
        close(p[0]);
        peer(p[1], mode, warm, count);
    }
    close(p[1]);
    if (l->pid < 0) {
        close(p[0]);
        return false;
    }
    for (ssize_t g; have < sizeof ep - 1 && (g = read(p[0], ep + have, sizeof ep - 1 - have)) > 0;)
        have += (size_t)g;
    close(p[0]);
    ep[have] = '\0';
    l->ctx = zmq_ctx_new();
    l->sock = open_pair(l->ctx, 0);
    return have > 0 && l->sock != NULL && zmq_connect(l->sock, ep) == 0;
}

/* On failure the peer may be blocked waiting for us: end it. */
static void link_close(zlink *l, bool ok)
{
    if (l->sock != NULL)
        zmq_close(l->sock);
    if (l->ctx != NULL)
        zmq_ctx_term(l->ctx);
    if (l->pid > 0) {
        int st = 0;
        if (!ok)
            kill(l->pid, SIGKILL);
        waitpid(l->pid, &st, 0);
    }
}

/* ---- the measurements -------------------------------------------------------- */

/* Microseconds per round trip. */
static double zmq_rtt(long n)
{
    zlink l;
    bool ok = link_open(&l, ECHO, 0, n + WARMUP_ROUNDS);
    uint8_t in[SMALL];
    double t = 0;
    for (long i = -WARMUP_ROUNDS; ok && i < n; i++) {
        if (i == 0)
            t = now_s();
        ok = zmq_send(l.sock, blob, SMALL, 0) == SMALL && zmq_recv(l.sock, in, sizeof in, 0) == SMALL;
    }
    t = now_s() - t;
    link_close(&l, ok);
    return ok ? t / (double)n * 1e6 : -1;
}

static bool send_batch(void *s, long count, size_t size, bool zcopy)
{
    for (long i = 0; i < count; i++) {
        if (zcopy) {
            /* No free function: the buffer outlives every message. */
            zmq_msg_t m;
            zmq_msg_init_data(&m, blob, size, NULL, NULL);
            if (zmq_msg_send(&m, s, 0) < 0) {
                zmq_msg_close(&m);
                return false;
            }
        } else if (zmq_send(s, blob, size, 0) != (int)size) {
            return false;
        }
    }
    char ack;
    return zmq_recv(s, &ack, 1, 0) == 1;
}

/* Messages (or bytes, for BIG) per second. */
static double zmq_oneway(long count, size_t size, bool zcopy)
{
    zlink l;
    long warm = count / 10 + 1;
    bool ok = link_open(&l, SINK, warm, count) && send_batch(l.sock, warm, size, zcopy);
    double t = now_s();
    ok = ok && send_batch(l.sock, count, size, zcopy);
    t = now_s() - t;
    link_close(&l, ok);
    return ok ? (double)count * (size == BIG ? (double)size : 1.0) / t : -1;
}

/* ---- report ------------------------------------------------------------------ */

/* The number lines up with bench_net's river column. */
static void row(const char *what, const double *v, int n, double scale, const char *unit)
{
    printf("  %-22s zeromq %9.2f %s\n", what, median(v, n) * scale, unit);
    printf("  %-22s  each run:", "");
    for (int i = 0; i < n; i++)
        printf(" %.0f", v[i] * scale);
    printf("\n");
}

static bool parse_args(int argc, char **argv)
{
    static const struct {
        const char *name;
        long *v;
    } opts[] = { { "--rounds=", &rounds }, { "--messages=", &messages },
                 { "--mib=", &mib }, { "--reps=", &reps } };
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
            size_t n = strlen(opts[k].name);
            if (strncmp(argv[i], opts[k].name, n) == 0) {
                char *end;
                *opts[k].v = strtol(argv[i] + n, &end, 10);
                known = end != argv[i] + n && *end == '\0' && *opts[k].v > 0;
            }
        }
        if (strncmp(argv[i], "--only=", 7) == 0) {
            only = argv[i] + 7;
            known = strcmp(only, "rtt") == 0 || strcmp(only, "oneway") == 0 ||
                    strcmp(only, "bw") == 0;
        }
        if (!known) {
            fprintf(stderr, "bench_zmq: bad argument '%s'\nusage: bench_zmq [--rounds=N] "
                    "[--messages=N] [--mib=N] [--reps=N] [--only=rtt|oneway|bw]\n", argv[i]);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv))
        return 2;
    int n = reps > MAXREPS ? MAXREPS : (int)reps;
    bool all = only == NULL, ok = true;
    bool do_rtt = all || strcmp(only, "rtt") == 0;
    bool do_ow = all || strcmp(only, "oneway") == 0;
    bool do_bw = all || strcmp(only, "bw") == 0;
    blob = calloc(1, BIG);
    if (blob == NULL)
        return 1;
    memset(blob, 'x', BIG);
    char load0[128], load1[128];
    loadavg(load0, sizeof load0);
    double rtt[MAXREPS], ow[MAXREPS], bw[MAXREPS], bwz[MAXREPS];
    for (int i = 0; i < n; i++) {
        if (do_rtt)
            ok &= (rtt[i] = zmq_rtt(rounds)) > 0;
        if (do_ow)
            ok &= (ow[i] = zmq_oneway(messages, SMALL, false)) > 0;
        if (do_bw) {
            /* Copying and zero-copy alternately, the order swapped every repetition. */
            for (int k = 0; k < 2; k++) {
                bool zcopy = (k + i) % 2 == 1;
                double *v = zcopy ? bwz : bw;
                ok &= (v[i] = zmq_oneway(mib, BIG, zcopy)) > 0;
            }
        }
    }
    loadavg(load1, sizeof load1);
    int maj, min, pat;
    zmq_version(&maj, &min, &pat);
    printf("bench_zmq: ZeroMQ %d.%d.%d, PAIR sockets between two processes over loopback TCP "
           "(medians of %d runs)\n  load average before: %s; after: %s\n", maj, min, pat, n, load0,
           load1);
    if (do_rtt)
        row("64 B round trip", rtt, n, 1, "us");
    if (do_ow)
        row("64 B one-way", ow, n, 1e-3, "kmsg/s");
    if (do_bw) {
        row("1 MiB bandwidth", bw, n, 1.0 / (1 << 20), "MiB/s (zmq_send: copied)");
        row("  zero-copy send", bwz, n, 1.0 / (1 << 20), "MiB/s (zmq_msg_init_data)");
    }
    if (!ok)
        fprintf(stderr, "bench_zmq: some runs failed (shown as negative)\n");
    return ok ? 0 : 1;
}
