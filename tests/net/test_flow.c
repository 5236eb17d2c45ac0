/* test_flow — receive-side flow control between VM processes on loopback
 * (runtime/mailbox_flow.c): a stream into a VR that takes slowly waits in
 * the socket and the sender's queue, not in the receiver's mailbox; and
 * holding a connection back never deadlocks: a selective receive whose
 * match is behind the held bytes gets it, two VRs that flood each other
 * before either receives both finish, and a stream that filled its socket
 * still ends while its sender computes.
 *
 * n1 sends.  n2 has RIVER_MAILBOX_HIGH=256 (and 1 MiB) and waits up to 5 s for a VR
 * that stopped taking (RIVER_FLOW_STALL_MS; 20 ms by default, which a
 * loaded test machine may exceed between two packets); n3 has flow control
 * off (RIVER_MAILBOX_HIGH=0), to show what the bound prevents; n4 and this
 * VM have RIVER_MAILBOX_HIGH=256 and the default stall.  All have 64 KiB
 * send queues (RIVER_MAX_QUEUE), so their senders feel the back-pressure
 * at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmtest.h"
#include "nettest.h"

#define SELF vmtest_self
#define HIGH 256
#define STREAM 20000

static node n1, n2, n3, n4;
static bool started;

static void test_start(void)
{
    const char *const bounded[] = { "RIVER_MAILBOX_HIGH=256", "RIVER_MAX_QUEUE=65536", NULL };
    const char *const patient[] = { "RIVER_MAILBOX_HIGH=256", "RIVER_MAILBOX_HIGH_BYTES=1048576",
                                    "RIVER_FLOW_STALL_MS=5000", "RIVER_MAX_QUEUE=65536", NULL };
    const char *const unbounded[] = { "RIVER_MAILBOX_HIGH=0", "RIVER_MAX_QUEUE=65536", NULL };
    unsetenv("RIVER_MAILBOX_HIGH");   /* ours (read at start), not the nodes' */
    CU_ASSERT_FATAL(node_start(SELF, &n1, "f1", bounded, NULL));
    CU_ASSERT_FATAL(node_start(SELF, &n2, "f2", patient, NULL));
    CU_ASSERT_FATAL(node_start(SELF, &n3, "f3", unbounded, NULL));
    CU_ASSERT_FATAL(node_start(SELF, &n4, "f4", bounded, NULL));
    started = true;
}

/* n1 streams n packets of `size` extra bytes to `to`, which sleeps
 * delay_us after each; returns the most packets that waited in its mailbox
 * at once (or UINT64_MAX on loss). */
static uint64_t slow_stream(const node *to, uint64_t n, uint64_t size, uint64_t delay_us)
{
    rvr_packet *e = node_expect_cmd(n, &n1.vr, NULL);
    rvr_packet_set_u64(e, "delay_us", delay_us);
    rvr_packet_set_bool(e, "announce", true);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &to->vr, e), RVR_OK);
    /* The stream starts once `to` takes it: packets that came before would
     * wait behind its command loop, past which nothing is held. */
    rvr_packet *go = await_tag(SELF, "expect.start", &to->vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(go);
    rvr_packet_free(go);
    rvr_packet *b = node_cmd("burst", &to->vr, n);
    rvr_packet_set_u64(b, "size", size);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n1.vr, b), RVR_OK);
    uint64_t most = UINT64_MAX;
    CU_ASSERT(node_done_ok(SELF, &n1.vr, "burst.done", n, NULL));
    if (!node_done_ok(SELF, &to->vr, "expect.done", n, &most))
        return UINT64_MAX;
    return most;
}

/* The sender is far faster than the receiver: with flow control the
 * backlog the receiver holds stays at the mark (plus one batch of 64
 * decoded from the last read); without it, it grows with the stream. */
static void test_slow_receiver_bounded(void)
{
    CU_ASSERT_FATAL(started);
    uint64_t most = slow_stream(&n2, STREAM, 0, 20);
    printf("\n    most waiting: %llu with RIVER_MAILBOX_HIGH=%d", (unsigned long long)most, HIGH);
    CU_ASSERT(most <= HIGH + 64);
    CU_ASSERT(most >= HIGH / 2);   /* it did fill up: the sender was held back */
    uint64_t unbounded = slow_stream(&n3, STREAM, 0, 20);
    printf(", %llu without flow control ", (unsigned long long)unbounded);
    CU_ASSERT(unbounded != UINT64_MAX && unbounded > 4 * HIGH);
}

/* The same with 16 KiB packets into n2, whose byte mark is 1 MiB: that
 * mark holds first, at 64 packets (plus one batch), far below 256.  The
 * receiver sleeps 3 ms per packet, longer than a kept lease lasts unused
 * (RVR_LEASE_IDLE_NS): the I/O thread reads for it and fills its mailbox
 * to the mark, however slowly a loaded machine (or a sanitizer) runs the
 * sender.  (A VR that reads its stream itself reads one buffer, 16 of
 * these packets, once it has taken everything: below the mark.) */
static void test_slow_receiver_bytes(void)
{
    CU_ASSERT_FATAL(started);
    uint64_t most = slow_stream(&n2, 300, 16384, 3000);
    printf("\n    most waiting: %llu packets of 16 KiB with RIVER_MAILBOX_HIGH_BYTES=1 MiB ",
           (unsigned long long)most);
    CU_ASSERT(most <= 64 + 64);
    CU_ASSERT(most >= 32);
}

/* This VM (a default, 8 MiB send queue) streams 16 MiB into n2 faster
 * than n2 takes, so n2 is held at its mark, our socket fills and our
 * writes wait for room (EPOLLOUT); then we "compute" for 5 s
 * without calling River.  The stream's end does not wait for that: the
 * I/O thread writes it, and n2's "expect.done" is here when we look (the
 * margin of a loaded machine: n2 takes about 0.2 s). */
static void test_blocked_stream_then_compute(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 1000;   /* 16 MiB: far more than n2's mark and our socket hold */
    static uint8_t pad[16384];
    rvr_uuid me = *rvr_self(SELF);
    rvr_packet *e = node_expect_cmd(n, &me, NULL);
    rvr_packet_set_u64(e, "delay_us", 20);
    rvr_packet_set_bool(e, "announce", true);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n2.vr, e), RVR_OK);
    rvr_packet *go = await_tag(SELF, "expect.start", &n2.vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(go);
    rvr_packet_free(go);
    for (uint64_t i = 0; i < n; i++) {
        rvr_packet *p = rvr_packet_new("seq");
        rvr_packet_set_u64(p, "seq", i);
        rvr_packet_set_bytes(p, "pad", pad, sizeof pad);
        CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n2.vr, p), RVR_OK);
    }
    usleep(5000 * 1000);   /* computing: no send, no receive */
    rvr_match *m = rvr_match_new();
    rvr_match_src(m, &n2.vr);
    rvr_match_tag(m, "expect.done");
    rvr_packet *done = NULL;
    CU_ASSERT_EQUAL(rvr_recv(SELF, m, 0, &done), RVR_OK);
    bool ok = false;
    uint64_t got = 0;
    if (done == NULL)   /* not there yet: wait, so the next test starts clean */
        rvr_recv(SELF, m, 60000, &done);
    rvr_packet_get_bool(done, "ok", &ok);
    rvr_packet_get_u64(done, "got", &got);
    CU_ASSERT(ok && got == n);
    rvr_packet_free(done);
    rvr_match_free(m);
}

/* This VM (RIVER_MAILBOX_HIGH=256 too) waits for one "last" packet, which
 * n1 sends after 5,000 "seq": the connection is held once our mailbox
 * holds 256 of them, but we wait past them, so it is read on and "last"
 * arrives.  Then the 5,000 come, in order. */
static void test_selective_past_full_mailbox(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 5000;
    CU_ASSERT_FATAL(node_ping(SELF, &n1));   /* we take packets: we are consuming */
    rvr_uuid me = *rvr_self(SELF);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n1.vr, node_cmd("burst", &me, n)), RVR_OK);
    rvr_packet *last = node_cmd("burst", &me, 1);
    rvr_packet_set_str(last, "tag", "last");
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &n1.vr, last), RVR_OK);
    rvr_packet *p = await_tag(SELF, "last", &n1.vr, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rvr_packet_free(p);
    CU_ASSERT(node_done_ok(SELF, &n1.vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &n1.vr, "burst.done", 1, NULL));
    CU_ASSERT_EQUAL(rvr_pending(SELF), n);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "seq");
    uint64_t next = 0;
    for (rvr_packet *q; next < n && rvr_recv(SELF, m, 10000, &q) == RVR_OK; next++) {
        uint64_t seq = UINT64_MAX;
        rvr_packet_get_u64(q, "seq", &seq);
        rvr_packet_free(q);
        if (seq != next)
            break;
    }
    rvr_match_free(m);
    CU_ASSERT_EQUAL(next, n);
}

/* n1 and n4 each send 30,000 to the other before receiving any: both
 * senders block on full queues, neither VR takes, so no connection may
 * stay held; both bursts finish and every packet arrives in order. */
static void test_mutual_flood(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT(node_swap(SELF, &n1, &n4, 30000));
}

static void test_stop(void)
{
    CU_ASSERT(node_stop(SELF, &n1));
    CU_ASSERT(node_stop(SELF, &n2));
    CU_ASSERT(node_stop(SELF, &n3));
    CU_ASSERT(node_stop(SELF, &n4));
    node_kill_all();
}

static const CU_TestInfo tests[] = {
    { "four VMs start", test_start },
    { "a slow receiver's mailbox stays at its mark", test_slow_receiver_bounded },
    { "the same by bytes, with 16 KiB packets", test_slow_receiver_bytes },
    { "a stream that filled its socket ends while its sender computes",
      test_blocked_stream_then_compute },
    { "selective receive past a full mailbox", test_selective_past_full_mailbox },
    { "two VRs flood each other before receiving", test_mutual_flood },
    { "nodes stop cleanly", test_stop },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("flow", tests);
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    setenv("RIVER_MAILBOX_HIGH", "256", 1);
    return vmtest_main(argc, argv, suites);
}
