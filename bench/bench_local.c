/* bench_local — intra-VM messaging against a bare mutex+condvar queue.
 *
 * Measures, in one run on the same machine:
 *   1. round trip of a 64-byte packet between two VRs (ping-pong),
 *   2. one-way throughput of 64-byte packets from one VR to another,
 * and the same two figures for a minimal queue (a linked list guarded by a
 * pthread mutex, consumers parked on a condition variable) between two
 * threads.  Prints each figure and River's ratio to the baseline.
 *
 *   bench_local [--rounds=N] [--messages=N]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <river/river.h>

#include "bench_util.h"

/* ---- baseline: a bare mutex + condvar queue -------------------------------- */

typedef struct bnode {
    struct bnode *next;
    char payload[64];
} bnode;

typedef struct bqueue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bnode *head, *tail;
} bqueue;

static void bq_init(bqueue *q)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->head = q->tail = NULL;
}

static void bq_push(bqueue *q, bnode *n)
{
    n->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

static bnode *bq_pop(bqueue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->head == NULL)
        pthread_cond_wait(&q->cond, &q->lock);
    bnode *n = q->head;
    q->head = n->next;
    if (q->head == NULL)
        q->tail = NULL;
    pthread_mutex_unlock(&q->lock);
    return n;
}

static bqueue bq_ping, bq_pong;
static long b_count;

static void *bq_echo(void *arg)
{
    (void)arg;
    for (long i = 0; i < b_count; i++)
        bq_push(&bq_pong, bq_pop(&bq_ping));
    return NULL;
}

static void *bq_sink(void *arg)
{
    (void)arg;
    for (long i = 0; i < b_count; i++)
        free(bq_pop(&bq_ping));
    return NULL;
}

static double baseline_rtt_us(long rounds)
{
    bq_init(&bq_ping);
    bq_init(&bq_pong);
    b_count = rounds;
    pthread_t th;
    pthread_create(&th, NULL, bq_echo, NULL);
    bnode *n = calloc(1, sizeof *n);
    double t0 = now_s();
    for (long i = 0; i < rounds; i++) {
        bq_push(&bq_ping, n);
        n = bq_pop(&bq_pong);
    }
    double t = now_s() - t0;
    pthread_join(th, NULL);
    free(n);
    return t / rounds * 1e6;
}

static double baseline_rate(long messages)
{
    bq_init(&bq_ping);
    b_count = messages;
    pthread_t th;
    double t0 = now_s();
    pthread_create(&th, NULL, bq_sink, NULL);
    for (long i = 0; i < messages; i++) {
        bnode *n = malloc(sizeof *n);
        memset(n->payload, 'x', sizeof n->payload);
        bq_push(&bq_ping, n);
    }
    pthread_join(th, NULL);
    return messages / (now_s() - t0);
}

/* ---- River ------------------------------------------------------------------ */

static const uint8_t payload[64] = { 1, 2, 3 };

/* Echoes every "ping" back to its sender; counts "data" packets and replies
 * "done" after the count given in the first "start" packet. */
static int echo_main(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p;
    while (rvr_recv(self, NULL, RVR_FOREVER, &p) == RVR_OK) {
        const char *tag = rvr_packet_tag(p);
        if (strcmp(tag, "ping") == 0) {
            rvr_uuid src = *rvr_packet_src(p);
            if (rvr_send(self, &src, p) != RVR_OK)
                rvr_packet_free(p);
        } else if (strcmp(tag, "start") == 0) {
            int64_t n = 0;
            rvr_uuid src = *rvr_packet_src(p);
            rvr_packet_get_i64(p, "count", &n);
            rvr_packet_free(p);
            for (int64_t i = 0; i < n; i++) {
                rvr_packet *d;
                if (rvr_recv(self, NULL, RVR_FOREVER, &d) != RVR_OK)
                    return 1;
                rvr_packet_free(d);
            }
            rvr_packet *done = rvr_packet_new("done");
            if (rvr_send(self, &src, done) != RVR_OK)
                rvr_packet_free(done);
        } else {
            rvr_packet_free(p);
        }
    }
    return 0;
}

static RVR_VR_TYPE_NOARGS(echo_type, "bench.Echo", echo_main);

typedef struct bench_args {
    int64_t rounds;
    int64_t messages;
} bench_args;

static const bench_args bench_defaults = { 200000, 2000000 };
static const rvr_arg_desc bench_descs[] = {
    { "rounds", RVR_ARG_INT64, offsetof(bench_args, rounds), "200000", "ping-pong round trips" },
    { "messages", RVR_ARG_INT64, offsetof(bench_args, messages), "2000000", "one-way messages" },
};

static int bench_main(rvr_vr *self, const void *argp)
{
    const bench_args *a = argp;
    rvr_uuid echo;
    if (rvr_spawn(self, NULL, &echo_type, NULL, &echo) != RVR_OK)
        return 1;

    /* Round trip: one packet bounces back and forth (no allocation per trip). */
    rvr_packet *p = rvr_packet_new("ping");
    rvr_packet_set_bytes(p, "data", payload, sizeof payload);
    long warm = a->rounds / 10;
    double t0 = 0;
    for (long i = 0; i < a->rounds + warm; i++) {
        if (i == warm)
            t0 = now_s();
        if (rvr_send(self, &echo, p) != RVR_OK || rvr_recv(self, NULL, RVR_FOREVER, &p) != RVR_OK)
            return 1;
    }
    double river_rtt = (now_s() - t0) / a->rounds * 1e6;
    rvr_packet_free(p);

    /* One-way: a fresh 64-byte packet per message, as a user would send. */
    rvr_packet *start = rvr_packet_new("start");
    rvr_packet_set_i64(start, "count", a->messages);
    t0 = now_s();
    if (rvr_send(self, &echo, start) != RVR_OK)
        return 1;
    for (int64_t i = 0; i < a->messages; i++) {
        rvr_packet *d = rvr_packet_new("data");
        rvr_packet_set_bytes(d, "data", payload, sizeof payload);
        if (rvr_send(self, &echo, d) != RVR_OK)
            return 1;
    }
    rvr_packet *done;
    if (rvr_recv(self, NULL, RVR_FOREVER, &done) != RVR_OK)
        return 1;
    rvr_packet_free(done);
    double river_rate = a->messages / (now_s() - t0);

    double base_rtt = baseline_rtt_us(a->rounds);
    double base_rate = baseline_rate(a->messages);

    printf("intra-VM, 64-byte payload, %" PRId64 " round trips, %" PRId64 " one-way messages\n",
           a->rounds, a->messages);
    printf("  %-34s %10.2f us   baseline %10.2f us   ratio %.2fx (target <= 1.5x)\n",
           "round trip (River / mutex+condvar)", river_rtt, base_rtt, river_rtt / base_rtt);
    printf("  %-34s %10.0f /s   baseline %10.0f /s   ratio %.2fx\n",
           "one-way (River / mutex+condvar)", river_rate, base_rate, river_rate / base_rate);
    return 0;
}

static RVR_VR_TYPE(bench_type, "bench.Local", bench_main, bench_args, bench_defaults, bench_descs);

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &bench_type);
}
