/* test_stress.c — many VRs, many messages, selective receive under load.
 *
 * all-to-all: 16 VRs; each sends RIVER_STRESS_MSGS (default 10,000)
 *   messages to each of its 15 peers and receives as many from each.  They
 *   work in bursts: send a burst of rounds to every peer, then receive that
 *   burst from every peer, selectively: peers in a rotating order, and for
 *   each receive one of several matches (src only; src + tag; tag + eq on
 *   the sender's index; src + tag + eq on the sequence number; src + a
 *   predicate).  Every other burst is received tag by tag (newest tag
 *   first), i.e. out of sequence order.  A model of what is still queued
 *   says which message each receive must return, so every message is
 *   checked to arrive exactly once and in order per sender (FIFO).
 * fan-in: 15 VRs flood one receiver, which takes their messages by src in
 *   rotation while they are still arriving.
 *
 * Workers never use CUnit (it is not thread-safe): they count errors and
 * report them to the test VR, which asserts.
 *
 * RIVER_STRESS_MSGS scales the message counts (e.g. for sanitizer runs);
 * the default is the 10,000. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmtest.h"

#define NVR 16
#define NPEER (NVR - 1)
#define BURST 100
#define NTAGS 3
#define DEFAULT_MSGS 10000
/* Hang guards: a worker gives up (and reports an error) after waiting this
 * long for one message; the test VR waits this long for a report. */
#define WORKER_GUARD_MS 120000
#define REPORT_GUARD_MS (30 * 60 * 1000)

static const char *const TAGS[NTAGS] = { "t0", "t1", "t2" };

static uint32_t stress_msgs(void)
{
    const char *s = getenv("RIVER_STRESS_MSGS");
    if (s != NULL && *s != '\0') {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*end == '\0' && errno == 0 && v > 0 && v <= 100000000)
            return (uint32_t)v;
        fprintf(stderr, "test_stress: ignoring RIVER_STRESS_MSGS=%s\n", s);
    }
    return DEFAULT_MSGS;
}

/* A value only the sender of (from, seq) would put there: checks that the
 * attributes arrive intact and belong together. */
static uint64_t check_of(uint64_t from, int64_t seq)
{
    uint64_t x = (from + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)seq * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    return x;
}

static uint32_t mix(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x85EBCA6Bu ^ b * 0xC2B2AE35u ^ c * 0x27D4EB2Fu;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static rvr_packet *stress_packet(uint32_t from, int64_t seq)
{
    rvr_packet *p = rvr_packet_new(TAGS[seq % NTAGS]);
    if (p == NULL)
        return NULL;
    if (rvr_packet_set_i64(p, "seq", seq) != RVR_OK ||
        rvr_packet_set_u64(p, "from", from) != RVR_OK ||
        rvr_packet_set_u64(p, "check", check_of(from, seq)) != RVR_OK) {
        rvr_packet_free(p);
        return NULL;
    }
    return p;
}

/* ---- worker bookkeeping ------------------------------------------------------ */

typedef struct report {
    int64_t errors;
    int64_t received;
    char first[200];
} report;

static void fail(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(report *r, const char *fmt, ...)
{
    if (r->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof r->first, fmt, ap);
        va_end(ap);
    }
}

/* Sends the report to the parent; returns the VR's exit status. */
static int send_report(rvr_vr *self, const report *r)
{
    rvr_packet *p = rvr_packet_new("result");
    if (p == NULL)
        return 1;
    rvr_packet_set_i64(p, "errors", r->errors);
    rvr_packet_set_i64(p, "received", r->received);
    rvr_packet_set_str(p, "first", r->errors ? r->first : "");
    if (rvr_send(self, rvr_parent(self), p) != RVR_OK) {
        rvr_packet_free(p);
        return 1;
    }
    return 0;
}

/* Checks one received packet against what the model expects. */
static void check_packet(report *r, const rvr_packet *p, const rvr_uuid *src, uint32_t from,
                         int64_t want_seq, uint32_t me)
{
    int64_t seq = -1;
    uint64_t f = UINT64_MAX, chk = 0;
    r->received++;
    if (!rvr_uuid_eq(rvr_packet_src(p), src))
        fail(r, "VR %u: a packet from the wrong src (wanted peer %u)", me, from);
    else if (rvr_packet_get_i64(p, "seq", &seq) != RVR_OK ||
             rvr_packet_get_u64(p, "from", &f) != RVR_OK ||
             rvr_packet_get_u64(p, "check", &chk) != RVR_OK)
        fail(r, "VR %u: a packet from %u lacks an attribute", me, from);
    else if (f != from)
        fail(r, "VR %u: wanted a packet from %u, got one from %llu", me, from,
             (unsigned long long)f);
    else if (seq != want_seq)
        fail(r, "VR %u: from %u wanted seq %lld, got %lld", me, from, (long long)want_seq,
             (long long)seq);
    else if (chk != check_of(f, seq) || strcmp(rvr_packet_tag(p), TAGS[seq % NTAGS]) != 0)
        fail(r, "VR %u: packet %u/%lld corrupted", me, from, (long long)seq);
}

/* Gets the uuid list from the parent's "peers" packet. */
static bool get_peers(rvr_vr *self, rvr_uuid *ids, size_t n)
{
    rvr_match *m = rvr_match_new();
    if (m == NULL)
        return false;
    rvr_match_tag(m, "peers");
    rvr_match_src(m, rvr_parent(self));
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(self, m, RVR_FOREVER, &p);
    rvr_match_free(m);
    if (st != RVR_OK)
        return false;
    const rvr_list *l = NULL;
    bool ok = rvr_packet_get_list(p, "ids", &l) == RVR_OK && rvr_list_len(l) == n;
    for (size_t i = 0; ok && i < n; i++) {
        const rvr_value *v = rvr_list_get(l, i);
        ok = v != NULL && v->type == RVR_T_UUID;
        if (ok)
            ids[i] = v->as.uuid;
    }
    rvr_packet_free(p);
    return ok;
}

/* ---- all-to-all ---------------------------------------------------------------- */

typedef struct stress_args {
    uint32_t index;
    uint32_t msgs;
} stress_args;
static const stress_args stress_defaults = { 0, DEFAULT_MSGS };
static const rvr_arg_desc stress_descs[] = {
    { "index", RVR_ARG_UINT32, offsetof(stress_args, index), "0", NULL },
    { "msgs", RVR_ARG_UINT32, offsetof(stress_args, msgs), "10000", NULL },
};

static bool seq_tag_is(const rvr_value *v, void *ctx)
{
    return v->type == RVR_T_INT && v->as.i % NTAGS == *(const int *)ctx;
}
static const int tag_ids[NTAGS] = { 0, 1, 2 };

/* What is still to be received from one peer in the current burst. */
typedef struct peer_window {
    bool got[BURST];
    int next_any;           /* index (from base) of the oldest not received */
    int next_tag[NTAGS];    /* same, per tag */
} peer_window;

static int window_next(peer_window *w, int len, int base, int tag)
{
    int *pos = tag < 0 ? &w->next_any : &w->next_tag[tag];
    while (*pos < len && (w->got[*pos] || (tag >= 0 && (base + *pos) % NTAGS != tag)))
        (*pos)++;
    return *pos < len ? *pos : -1;
}

static int stress_main(rvr_vr *self, const void *args)
{
    const stress_args *a = args;
    const uint32_t me = a->index;
    report r = { 0 };
    rvr_uuid ids[NVR];
    rvr_match *m_src[NVR] = { NULL }, *m_src_tag[NVR][NTAGS] = { { NULL } },
              *m_tag_from[NVR][NTAGS] = { { NULL } }, *m_src_pred[NVR][NTAGS] = { { NULL } };
    peer_window win[NVR];
    int order[BURST];

    if (!get_peers(self, ids, NVR)) {
        fail(&r, "VR %u: no peer list", me);
        return send_report(self, &r);
    }
    for (uint32_t j = 0; j < NVR; j++) {
        if (j == me)
            continue;
        m_src[j] = rvr_match_new();
        rvr_match_src(m_src[j], &ids[j]);
        if (rvr_match_status(m_src[j]) != RVR_OK)
            fail(&r, "VR %u: cannot build a match", me);
        for (int t = 0; t < NTAGS; t++) {
            m_src_tag[j][t] = rvr_match_new();
            rvr_match_src(m_src_tag[j][t], &ids[j]);
            rvr_match_tag(m_src_tag[j][t], TAGS[t]);
            m_tag_from[j][t] = rvr_match_new();
            rvr_match_tag(m_tag_from[j][t], TAGS[t]);
            rvr_match_eq_u64(m_tag_from[j][t], "from", j);
            m_src_pred[j][t] = rvr_match_new();
            rvr_match_src(m_src_pred[j][t], &ids[j]);
            rvr_match_pred(m_src_pred[j][t], "seq", seq_tag_is, (void *)&tag_ids[t]);
            if (rvr_match_status(m_src_tag[j][t]) != RVR_OK ||
                rvr_match_status(m_tag_from[j][t]) != RVR_OK ||
                rvr_match_status(m_src_pred[j][t]) != RVR_OK)
                fail(&r, "VR %u: cannot build a match", me);
        }
    }

    const int64_t n = a->msgs;
    for (int64_t base = 0; base < n && r.errors == 0; base += BURST) {
        const int len = (int)(n - base < BURST ? n - base : BURST);
        /* Send this burst to every peer, in a rotating peer order. */
        for (int i = 0; i < len; i++)
            for (uint32_t o = 0; o < NPEER; o++) {
                uint32_t j = (me + 1 + (o + (uint32_t)i) % NPEER) % NVR;
                rvr_packet *p = stress_packet(me, base + i);
                rvr_status st = p ? rvr_send(self, &ids[j], p) : RVR_ENOMEM;
                if (st != RVR_OK) {
                    rvr_packet_free(p);
                    fail(&r, "VR %u: send to %u failed: %s", me, j, rvr_strerror(st));
                }
            }
        /* Receive it from every peer.  Slot (i, o): one message from peer j;
         * the tag wanted is that of round i, or, in odd bursts, tags are
         * taken newest first (2, 1, 0), which is out of sequence order. */
        memset(win, 0, sizeof win);
        if ((base / BURST) % 2 == 1) {
            int k = 0;
            for (int t = NTAGS - 1; t >= 0; t--)
                for (int x = 0; x < len; x++)
                    if ((base + x) % NTAGS == t)
                        order[k++] = x;
        } else {
            for (int x = 0; x < len; x++)
                order[x] = x;
        }
        for (int s = 0; s < len && r.errors == 0; s++) {
            const int tag = (int)((base + order[s]) % NTAGS);
            for (uint32_t o = 0; o < NPEER && r.errors == 0; o++) {
                uint32_t j = (me + 1 + (o + (uint32_t)s * 7u) % NPEER) % NVR;
                peer_window *w = &win[j];
                int mode = (int)(mix(me, (uint32_t)(base + s), o) % 5);
                int want = mode == 0 ? -1 : window_next(w, len, (int)base, tag);
                if (want < 0) {
                    mode = 0;   /* src only: the oldest from j */
                    want = window_next(w, len, (int)base, -1);
                }
                if (want < 0) {
                    fail(&r, "VR %u: model error", me);
                    break;
                }
                rvr_match *m, *own = NULL;
                switch (mode) {
                case 0:  m = m_src[j]; break;
                case 1:  m = m_src_tag[j][tag]; break;
                case 2:  m = m_tag_from[j][tag]; break;
                case 3:
                    m = own = rvr_match_new();
                    rvr_match_src(own, &ids[j]);
                    rvr_match_tag(own, TAGS[tag]);
                    rvr_match_eq_i64(own, "seq", base + want);
                    break;
                default: m = m_src_pred[j][tag]; break;
                }
                rvr_packet *p = NULL;
                rvr_status st = rvr_recv(self, m, WORKER_GUARD_MS, &p);
                rvr_match_free(own);
                if (st != RVR_OK) {
                    fail(&r, "VR %u: waiting for %u/%lld (mode %d): %s", me, j,
                         (long long)(base + want), mode, rvr_strerror(st));
                    break;
                }
                check_packet(&r, p, &ids[j], j, base + want, me);
                rvr_packet_free(p);
                w->got[want] = true;
            }
        }
    }
    /* Every peer has sent all it will send to us: nothing may be left. */
    rvr_packet *extra = NULL;
    if (r.errors == 0 && rvr_recv(self, NULL, 0, &extra) != RVR_ETIMEDOUT)
        fail(&r, "VR %u: an extra packet (duplicate?)", me);
    rvr_packet_free(extra);
    if (r.errors == 0 && r.received != n * NPEER)
        fail(&r, "VR %u: received %lld, wanted %lld", me, (long long)r.received,
             (long long)(n * NPEER));
    for (uint32_t j = 0; j < NVR; j++) {
        rvr_match_free(m_src[j]);
        for (int t = 0; t < NTAGS; t++) {
            rvr_match_free(m_src_tag[j][t]);
            rvr_match_free(m_tag_from[j][t]);
            rvr_match_free(m_src_pred[j][t]);
        }
    }
    return send_report(self, &r);
}
static RVR_VR_TYPE(stress_type, "tests.Stress", stress_main, stress_args, stress_defaults,
                   stress_descs);

/* Sends every worker the list of all workers. */
static void send_peers(const rvr_uuid *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rvr_list *l = rvr_list_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        for (size_t k = 0; k < n; k++) {
            rvr_value v = rvr_value_uuid(&ids[k]);
            CU_ASSERT_EQUAL_FATAL(rvr_list_append(l, &v), RVR_OK);
        }
        rvr_packet *p = rvr_packet_new("peers");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL_FATAL(rvr_packet_set_list(p, "ids", l), RVR_OK);
        CU_ASSERT_EQUAL_FATAL(rvr_send(vmtest_self, &ids[i], p), RVR_OK);
    }
}

/* Collects one report per worker and asserts they are all clean. */
static void collect_reports(const rvr_uuid *ids, size_t n, int64_t want_received)
{
    rvr_match *m = rvr_match_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rvr_match_tag(m, "result");
    bool *seen = calloc(n, sizeof *seen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    for (size_t k = 0; k < n; k++) {
        rvr_packet *p = NULL;
        rvr_status st = rvr_recv(vmtest_self, m, REPORT_GUARD_MS, &p);
        CU_ASSERT_EQUAL(st, RVR_OK);
        if (st != RVR_OK)
            break;
        size_t i = 0;
        while (i < n && !rvr_uuid_eq(rvr_packet_src(p), &ids[i]))
            i++;
        CU_ASSERT(i < n && !seen[i]);
        if (i < n)
            seen[i] = true;
        int64_t errors = -1, received = -1;
        const char *first = "";
        CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "errors", &errors), RVR_OK);
        CU_ASSERT_EQUAL(rvr_packet_get_i64(p, "received", &received), RVR_OK);
        rvr_packet_get_str(p, "first", &first, NULL);
        CU_ASSERT_EQUAL(errors, 0);
        CU_ASSERT_EQUAL(received, want_received);
        if (errors != 0)
            fprintf(stderr, "\n%lld error(s), the first: %s\n", (long long)errors, first);
        rvr_packet_free(p);
    }
    free(seen);
    rvr_match_free(m);
}

static void test_all_to_all(void)
{
    rvr_vr *self = vmtest_self;
    const uint32_t msgs = stress_msgs();
    rvr_uuid ids[NVR];
    for (uint32_t i = 0; i < NVR; i++) {
        stress_args a = { i, msgs };
        CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &stress_type, &a, &ids[i]), RVR_OK);
    }
    send_peers(ids, NVR);
    collect_reports(ids, NVR, (int64_t)msgs * NPEER);
    CU_ASSERT_EQUAL(rvr_pending(self), 0);
}

/* ---- fan-in ---------------------------------------------------------------------- */

typedef struct flood_args {
    uint32_t index;
    uint32_t msgs;
} flood_args;
static const flood_args flood_defaults = { 0, 0 };
static const rvr_arg_desc flood_descs[] = {
    { "index", RVR_ARG_UINT32, offsetof(flood_args, index), "0", NULL },
    { "msgs", RVR_ARG_UINT32, offsetof(flood_args, msgs), "0", NULL },
};

/* Waits for "go" {to: uuid}, then sends msgs packets to it as fast as it can. */
static int flood_main(rvr_vr *self, const void *args)
{
    const flood_args *a = args;
    report r = { 0 };
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "go");
    rvr_packet *go = NULL;
    rvr_uuid to;
    rvr_status st = rvr_recv(self, m, RVR_FOREVER, &go);
    rvr_match_free(m);
    if (st != RVR_OK || rvr_packet_get_uuid(go, "to", &to) != RVR_OK) {
        rvr_packet_free(go);
        fail(&r, "flooder %u: no go", a->index);
        return send_report(self, &r);
    }
    rvr_packet_free(go);
    for (int64_t s = 0; s < a->msgs; s++) {
        rvr_packet *p = stress_packet(a->index, s);
        st = p ? rvr_send(self, &to, p) : RVR_ENOMEM;
        if (st != RVR_OK) {
            rvr_packet_free(p);
            fail(&r, "flooder %u: send failed: %s", a->index, rvr_strerror(st));
            break;
        }
    }
    return send_report(self, &r);
}
static RVR_VR_TYPE(flood_type, "tests.Flood", flood_main, flood_args, flood_defaults,
                   flood_descs);

/* Receives every flooder's messages, by src in rotation (and every third
 * time by src + tag), checking each one is the next in its sender's order. */
static int sink_main(rvr_vr *self, const void *args)
{
    const flood_args *a = args;   /* msgs per flooder */
    report r = { 0 };
    rvr_uuid ids[NPEER];
    if (!get_peers(self, ids, NPEER)) {
        fail(&r, "sink: no peer list");
        return send_report(self, &r);
    }
    rvr_match *m_src[NPEER], *m_src_tag[NPEER][NTAGS];
    for (int j = 0; j < NPEER; j++) {
        m_src[j] = rvr_match_new();
        rvr_match_src(m_src[j], &ids[j]);
        for (int t = 0; t < NTAGS; t++) {
            m_src_tag[j][t] = rvr_match_new();
            rvr_match_src(m_src_tag[j][t], &ids[j]);
            rvr_match_tag(m_src_tag[j][t], TAGS[t]);
        }
    }
    /* Go only once we are ready: then the floods pile up while we read. */
    for (int j = 0; j < NPEER; j++) {
        rvr_packet *go = rvr_packet_new("go");
        if (go == NULL || rvr_packet_set_uuid(go, "to", rvr_self(self)) != RVR_OK ||
            rvr_send(self, &ids[j], go) != RVR_OK) {
            rvr_packet_free(go);
            fail(&r, "sink: cannot start flooder %d", j);
        }
    }
    int64_t next[NPEER] = { 0 };
    int64_t total = (int64_t)a->msgs * NPEER;
    for (int64_t k = 0, j = 0; k < total && r.errors == 0; k++) {
        j = (j + 1 + (k % 3 == 0)) % NPEER;
        while (next[j] == a->msgs)
            j = (j + 1) % NPEER;
        rvr_match *m = k % 3 == 1 ? m_src_tag[j][next[j] % NTAGS] : m_src[j];
        rvr_packet *p = NULL;
        rvr_status st = rvr_recv(self, m, WORKER_GUARD_MS, &p);
        if (st != RVR_OK) {
            fail(&r, "sink: waiting for %lld/%lld: %s", (long long)j, (long long)next[j],
                 rvr_strerror(st));
            break;
        }
        check_packet(&r, p, &ids[j], (uint32_t)j, next[j], 99);
        rvr_packet_free(p);
        next[j]++;
    }
    rvr_packet *extra = NULL;
    if (r.errors == 0 && rvr_recv(self, NULL, 0, &extra) != RVR_ETIMEDOUT)
        fail(&r, "sink: an extra packet");
    rvr_packet_free(extra);
    for (int j = 0; j < NPEER; j++) {
        rvr_match_free(m_src[j]);
        for (int t = 0; t < NTAGS; t++)
            rvr_match_free(m_src_tag[j][t]);
    }
    return send_report(self, &r);
}
static RVR_VR_TYPE(sink_type, "tests.Sink", sink_main, flood_args, flood_defaults, flood_descs);

static void test_fan_in(void)
{
    rvr_vr *self = vmtest_self;
    const uint32_t msgs = (stress_msgs() + 1) / 2;   /* keeps the sink's backlog modest */
    rvr_uuid ids[NPEER + 1];
    for (uint32_t i = 0; i < NPEER; i++) {
        flood_args a = { i, msgs };
        CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &flood_type, &a, &ids[i]), RVR_OK);
    }
    flood_args sa = { 0, msgs };
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(self, NULL, &sink_type, &sa, &ids[NPEER]), RVR_OK);
    /* The sink gets the flooders' ids (a list of NPEER). */
    rvr_list *l = rvr_list_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    for (int i = 0; i < NPEER; i++) {
        rvr_value v = rvr_value_uuid(&ids[i]);
        CU_ASSERT_EQUAL_FATAL(rvr_list_append(l, &v), RVR_OK);
    }
    rvr_packet *p = rvr_packet_new("peers");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(rvr_packet_set_list(p, "ids", l), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(self, &ids[NPEER], p), RVR_OK);
    /* Flooders report received = 0; the sink msgs * NPEER. */
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "result");
    for (int k = 0; k < NPEER + 1; k++) {
        rvr_packet *res = NULL;
        rvr_status st = rvr_recv(self, m, REPORT_GUARD_MS, &res);
        CU_ASSERT_EQUAL(st, RVR_OK);
        if (st != RVR_OK)
            break;
        int64_t errors = -1, received = -1;
        const char *first = "";
        rvr_packet_get_i64(res, "errors", &errors);
        rvr_packet_get_i64(res, "received", &received);
        rvr_packet_get_str(res, "first", &first, NULL);
        CU_ASSERT_EQUAL(errors, 0);
        if (errors != 0)
            fprintf(stderr, "\n%lld error(s), the first: %s\n", (long long)errors, first);
        bool sink = rvr_uuid_eq(rvr_packet_src(res), &ids[NPEER]);
        CU_ASSERT_EQUAL(received, sink ? (int64_t)msgs * NPEER : 0);
        rvr_packet_free(res);
    }
    rvr_match_free(m);
}

static void register_suites(void)
{
    static const CU_TestInfo tests[] = {
        { "16 VRs, all to all, selective by tag and src", test_all_to_all },
        { "15 flooders, one selective sink", test_fan_in },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("stress", tests);
}

int main(int argc, char **argv)
{
    return vmtest_main(argc, argv, register_suites);
}
