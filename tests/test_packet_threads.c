/* test_packet_threads.c — packets made on one thread and freed on another.
 *
 * That is what every message does (a sender or the I/O thread allocates,
 * the receiver frees), and packets come from a pool of blocks with
 * per-thread caches and a shared depot of magazines (runtime/blockpool.c).
 * The tests hand packets from producer threads to consumer threads through
 * a plain queue, check every packet's contents on the far side, let the
 * threads end, and check that the pool does not keep (or lose) memory
 * for threads that are gone.  Run under ASan/TSan to check the hand-over.
 *
 * Public API only (<river/river.h>). */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "cutest.h"

/* ---- a bounded queue of packets ----------------------------------------------- */

#define QCAP 1024

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    rvr_packet *item[QCAP];
    size_t head, len;
    unsigned producers;     /* still running; 0 and empty: the end */
} queue;

static void queue_init(queue *q, unsigned producers)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->producers = producers;
}

static void queue_fini(queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

static void queue_put(queue *q, rvr_packet *p)
{
    pthread_mutex_lock(&q->lock);
    while (q->len == QCAP)
        pthread_cond_wait(&q->not_full, &q->lock);
    q->item[(q->head + q->len) % QCAP] = p;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static void queue_producer_done(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->producers--;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* NULL at the end. */
static rvr_packet *queue_get(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->len == 0 && q->producers > 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    rvr_packet *p = NULL;
    if (q->len > 0) {
        p = q->item[q->head];
        q->head = (q->head + 1) % QCAP;
        q->len--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return p;
}

/* ---- packets whose contents follow from a number -------------------------------- */

static char big_text[3001];
static uint8_t huge[80000];   /* values of 64 KiB and more: recycled buffers (runtime/bigbuf.c) */

/* Packet `seq` of producer `who`: small ones (all inline), ones with more
 * attributes than fit inline, ones with a long string, lists, a long tag. */
static rvr_packet *make(unsigned who, uint64_t seq)
{
    rvr_packet *p = rvr_packet_new(seq % 50 == 0 ? "a-long-tag-that-is-stored-outside-the-block" : "t");
    if (p == NULL)
        return NULL;
    bool ok = rvr_packet_set_u64(p, "seq", seq) == RVR_OK &&
              rvr_packet_set_u64(p, "who", who) == RVR_OK;
    char s[32];
    snprintf(s, sizeof s, "m%llu", (unsigned long long)seq);
    ok = ok && rvr_packet_set_str(p, "s", s) == RVR_OK;
    switch (seq % 5) {
    case 1:   /* past the inline entries */
        for (int i = 0; i < 6 && ok; i++) {
            char name[8];
            snprintf(name, sizeof name, "x%d", i);
            ok = rvr_packet_set_i64(p, name, -(int64_t)seq - i) == RVR_OK;
        }
        break;
    case 2:   /* a long value */
        ok = rvr_packet_set_strn(p, "big", big_text, 100 + seq % 2900) == RVR_OK;
        break;
    case 3: {
        rvr_list *l = rvr_list_new();
        ok = l != NULL && rvr_list_append_u64(l, seq) == RVR_OK &&
             rvr_packet_set_list(p, "l", l) == RVR_OK;
        if (!ok)
            rvr_list_free(l);
        break;
    }
    case 4:   /* replaced and removed */
        ok = rvr_packet_set_bytes(p, "b", s, strlen(s)) == RVR_OK &&
             rvr_packet_set_bytes(p, "b", big_text, 2000) == RVR_OK &&
             rvr_packet_set_bool(p, "gone", true) == RVR_OK &&
             rvr_packet_remove(p, "gone") == RVR_OK;
        break;
    default:
        break;
    }
    if (ok && seq % 97 == 0)
        ok = rvr_packet_set_bytes(p, "huge", huge, 65536 + seq % 10000) == RVR_OK;
    if (!ok) {
        rvr_packet_free(p);
        return NULL;
    }
    return p;
}

/* True when p is exactly what make(who, seq) builds, for some seq (returned). */
static bool check(const rvr_packet *p, unsigned who, uint64_t *seq_out)
{
    uint64_t seq, w;
    if (rvr_packet_get_u64(p, "seq", &seq) != RVR_OK || rvr_packet_get_u64(p, "who", &w) != RVR_OK ||
        w != who)
        return false;
    *seq_out = seq;
    const char *s;
    size_t len;
    char want[32];
    snprintf(want, sizeof want, "m%llu", (unsigned long long)seq);
    if (rvr_packet_get_str(p, "s", &s, &len) != RVR_OK || strcmp(s, want) != 0 ||
        len != strlen(want))
        return false;
    if (strcmp(rvr_packet_tag(p), seq % 50 == 0 ? "a-long-tag-that-is-stored-outside-the-block" : "t") != 0)
        return false;
    size_t count = 3;
    switch (seq % 5) {
    case 1:
        for (int i = 0; i < 6; i++) {
            char name[8];
            int64_t x;
            snprintf(name, sizeof name, "x%d", i);
            if (rvr_packet_get_i64(p, name, &x) != RVR_OK || x != -(int64_t)seq - i)
                return false;
        }
        count += 6;
        break;
    case 2:
        if (rvr_packet_get_str(p, "big", &s, &len) != RVR_OK || len != 100 + seq % 2900 ||
            memcmp(s, big_text, len) != 0 || s[len] != '\0')
            return false;
        count++;
        break;
    case 3: {
        const rvr_list *l;
        if (rvr_packet_get_list(p, "l", &l) != RVR_OK || rvr_list_len(l) != 1 ||
            rvr_list_get(l, 0)->type != RVR_T_UINT || rvr_list_get(l, 0)->as.u != seq)
            return false;
        count++;
        break;
    }
    case 4: {
        const uint8_t *b;
        if (rvr_packet_get_bytes(p, "b", &b, &len) != RVR_OK || len != 2000 ||
            memcmp(b, big_text, 2000) != 0 || rvr_packet_has(p, "gone"))
            return false;
        count++;
        break;
    }
    default:
        break;
    }
    if (seq % 97 == 0) {
        const uint8_t *b;
        if (rvr_packet_get_bytes(p, "huge", &b, &len) != RVR_OK || len != 65536 + seq % 10000 ||
            memcmp(b, huge, len) != 0)
            return false;
        count++;
    }
    const char *name;
    if (rvr_packet_count(p) != count || rvr_packet_at(p, 0, &name, NULL) != RVR_OK ||
        strcmp(name, "seq") != 0)
        return false;
    return true;
}

/* ---- producer and consumer threads -------------------------------------------- */

typedef struct producer {
    queue *q;
    unsigned who;
    uint64_t n;
    uint64_t failed;
} producer;

static void *produce(void *arg)
{
    producer *pr = arg;
    for (uint64_t i = 0; i < pr->n; i++) {
        rvr_packet *p = make(pr->who, i);
        if (p == NULL) {
            pr->failed++;
            continue;
        }
        queue_put(pr->q, p);
    }
    queue_producer_done(pr->q);
    return NULL;
}

#define MAX_PRODUCERS 4

typedef struct consumer {
    queue *q;
    uint64_t got, bad, out_of_order;
    uint64_t next[MAX_PRODUCERS];   /* per producer, what comes next */
    unsigned nproducers;
    bool keep_some;                 /* keep every 1000th packet (freed later elsewhere) */
    rvr_packet **kept;
    size_t nkept;
} consumer;

static void *consume(void *arg)
{
    consumer *c = arg;
    rvr_packet *p;
    while ((p = queue_get(c->q)) != NULL) {
        c->got++;
        bool ok = false;
        for (unsigned who = 0; who < c->nproducers && !ok; who++) {
            uint64_t seq;
            if (check(p, who, &seq)) {
                ok = true;
                /* With one consumer, each producer's packets arrive in order. */
                if (seq != c->next[who])
                    c->out_of_order++;
                c->next[who] = seq + 1;
            }
        }
        if (!ok)
            c->bad++;
        if (c->keep_some && c->got % 1000 == 0)
            c->kept[c->nkept++] = p;
        else
            rvr_packet_free(p);
    }
    return NULL;
}

static void fill_big_text(void)
{
    for (size_t i = 0; i < sizeof big_text - 1; i++)
        big_text[i] = (char)('A' + i % 23);
    big_text[sizeof big_text - 1] = '\0';
    for (size_t i = 0; i < sizeof huge; i++)
        huge[i] = (uint8_t)(i * 7 + (i >> 9));
}

/* ---- the tests ---------------------------------------------------------------- */

/* Thread A makes 200,000 packets, thread B checks and frees them; both end. */
static void test_one_to_one(void)
{
    fill_big_text();
    queue q;
    queue_init(&q, 1);
    producer pr = { .q = &q, .who = 0, .n = 200000 };
    consumer co = { .q = &q, .nproducers = 1 };
    pthread_t a, b;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&b, NULL, consume, &co), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&a, NULL, produce, &pr), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    queue_fini(&q);
    CU_ASSERT_EQUAL(pr.failed, 0);
    CU_ASSERT_EQUAL(co.got, 200000);
    CU_ASSERT_EQUAL(co.bad, 0);
    CU_ASSERT_EQUAL(co.out_of_order, 0);
    CU_ASSERT_EQUAL(co.next[0], 200000);

    /* The main thread, which took no part, still gets good packets. */
    for (uint64_t i = 0; i < 1000; i++) {
        rvr_packet *p = make(3, i);
        uint64_t seq;
        CU_ASSERT_FATAL(p != NULL);
        CU_ASSERT(check(p, 3, &seq) && seq == i);
        rvr_packet_free(p);
    }
}

/* Two producers and two consumers at once; some packets outlive the
 * threads that made and received them and are freed by the main thread. */
static void test_two_by_two(void)
{
    fill_big_text();
    for (int round = 0; round < 2; round++) {
        queue q;
        queue_init(&q, 2);
        producer pr[2] = { { .q = &q, .who = 0, .n = 40000 }, { .q = &q, .who = 1, .n = 40000 } };
        rvr_packet *kept[2][100];
        consumer co[2] = {
            { .q = &q, .nproducers = 2, .keep_some = true, .kept = kept[0] },
            { .q = &q, .nproducers = 2, .keep_some = true, .kept = kept[1] },
        };
        pthread_t tp[2], tc[2];
        for (int i = 0; i < 2; i++) {
            CU_ASSERT_EQUAL_FATAL(pthread_create(&tc[i], NULL, consume, &co[i]), 0);
            CU_ASSERT_EQUAL_FATAL(pthread_create(&tp[i], NULL, produce, &pr[i]), 0);
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(tp[i], NULL);
            pthread_join(tc[i], NULL);
        }
        queue_fini(&q);
        CU_ASSERT_EQUAL(pr[0].failed + pr[1].failed, 0);
        CU_ASSERT_EQUAL(co[0].got + co[1].got, 80000);
        CU_ASSERT_EQUAL(co[0].bad + co[1].bad, 0);
        /* The kept packets are intact after every thread that touched them ended. */
        for (int i = 0; i < 2; i++) {
            for (size_t k = 0; k < co[i].nkept; k++) {
                uint64_t seq;
                CU_ASSERT(check(co[i].kept[k], 0, &seq) || check(co[i].kept[k], 1, &seq));
                rvr_packet_free(co[i].kept[k]);
            }
        }
    }
}

#if defined(__GLIBC__) && defined(__GLIBC_MINOR__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#define HAVE_MALLINFO2 1
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}
#endif

static void *make_one(void *arg)
{
    (void)arg;
    return rvr_packet_new("from-a-short-lived-thread");
}

static void *make_and_free(void *arg)
{
    rvr_packet **batch = arg;
    for (int i = 0; i < 200; i++)
        batch[i] = rvr_packet_new("x");
    for (int i = 0; i < 200; i++)
        rvr_packet_free(batch[i]);
    return NULL;
}

/* Threads come and go: one that only allocates (a sender) and one that
 * allocates and frees.  Whatever blocks their caches hold when they end
 * must not be lost: the heap may hold the pool's bounded depot (at most 64
 * magazines of 64 blocks, 2 MiB) but must not grow with every thread. */
static void test_threads_come_and_go(void)
{
#ifdef HAVE_MALLINFO2
    enum { ROUNDS = 500 };
    rvr_packet *batch[200];
    /* Warm up: the depot may fill to its bound. */
    for (int i = 0; i < 200; i++)
        batch[i] = rvr_packet_new("warm");
    for (int i = 0; i < 200; i++)
        rvr_packet_free(batch[i]);
    size_t before = heap_in_use();
    for (int r = 0; r < ROUNDS; r++) {
        /* The main thread frees 128 blocks: a magazine for the depot. */
        for (int i = 0; i < 128; i++)
            batch[i] = rvr_packet_new("main");
        for (int i = 0; i < 128; i++)
            rvr_packet_free(batch[i]);
        /* A sender thread: allocates one packet (taking a magazine from
         * the depot into its cache), hands it over, ends. */
        pthread_t t;
        void *p = NULL;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, make_one, NULL), 0);
        pthread_join(t, &p);
        CU_ASSERT_PTR_NOT_NULL(p);
        rvr_packet_free(p);
        if (r % 10 == 0) {
            rvr_packet *b2[200];
            CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, make_and_free, b2), 0);
            pthread_join(t, NULL);
        }
    }
    size_t after = heap_in_use();
    size_t growth = after > before ? after - before : 0;
    /* Bound: the depot (64 x 64 blocks of 512 bytes plus malloc's overhead)
     * and the main thread's cache, with room to spare. */
    size_t bound = (size_t)4 << 20;
    if (growth >= bound)
        fprintf(stderr, "\n  heap grew by %zu bytes over %d short-lived sender threads "
                "(%zu bytes per thread)\n", growth, ROUNDS, growth / ROUNDS);
    CU_ASSERT(growth < bound);
#else
    fprintf(stderr, "(no mallinfo2: skipped) ");
#endif
}

static CU_TestInfo tests[] = {
    { "200,000 packets from one thread to another", test_one_to_one },
    { "two producers, two consumers", test_two_by_two },
    { "short-lived threads keep no blocks", test_threads_come_and_go },
    CU_TEST_INFO_NULL
};

int main(void)
{
    cutest_suite("packets across threads", tests);
    return cutest_run();
}
