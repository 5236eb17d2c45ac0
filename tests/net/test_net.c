/* test_net — VRs in different VM processes on loopback: dynamic messages
 * both ways, 100,000 messages with FIFO per pair, the end of a stream sent
 * while its sender computes, selective receive across VMs, undeliverable
 * notices, simultaneous connects, kill -9 of a VM mid-run.
 *
 * The test program is a VM itself (vmtest); it starts three net_node VMs
 * that know it as their --peer and finds the other nodes through WHOIS. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmtest.h"
#include "nettest.h"
#include "vm.h"   /* a VR's mailbox: whether it keeps a lease */

static node nodes[3];
static bool started;

#define SELF vmtest_self

static void test_start(void)
{
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i + 1);
        CU_ASSERT_FATAL(node_start(SELF, &nodes[i], name, NULL, NULL));
    }
    started = true;
    rvr_peer_info *peers;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rvr_vm_peers(SELF, &peers, &n), RVR_OK);
    CU_ASSERT_EQUAL(n, 3);
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (int j = 0; j < 3; j++)
            known |= rvr_uuid_eq(&peers[i].id, &nodes[j].vm);
        CU_ASSERT(known);
    }
    free(peers);
    rvr_uuid vm;
    CU_ASSERT_EQUAL(rvr_locate(SELF, &nodes[1].vr, 1000, &vm), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&vm, &nodes[1].vm));
}

/* Every type of value, nested, and a 5 MiB bytes value (larger than
 * nanopb's 16-bit sizes could carry), there and back. */
static void test_echo_types(void)
{
    CU_ASSERT_FATAL(started);
    rvr_packet *p = rvr_packet_new("echo");
    rvr_packet_set_bool(p, "b", true);
    rvr_packet_set_i64(p, "i", -1234567890123LL);
    rvr_packet_set_u64(p, "u", UINT64_MAX);
    rvr_packet_set_f64(p, "d", 3.25);
    rvr_packet_set_str(p, "s", "héllo wörld");
    rvr_packet_set_bytes(p, "by", "a\0b\0c", 5);
    rvr_uuid u = rvr_uuid_generate();
    rvr_packet_set_uuid(p, "id", &u);
    rvr_list *l = rvr_list_new();
    rvr_list_append_i64(l, 1);
    rvr_list_append_str(l, "two");
    rvr_map *inner = rvr_map_new();
    rvr_value v = rvr_value_f64(0.5);
    rvr_map_set(inner, "half", &v);
    v = rvr_value_map(inner);
    rvr_list_append(l, &v);
    rvr_packet_set_list(p, "list", l);
    size_t big = 5u << 20;
    unsigned char *blob = malloc(big);
    for (size_t i = 0; i < big; i++)
        blob[i] = (unsigned char)(i * 7 + (i >> 13));
    rvr_packet_set_bytes(p, "big", blob, big);
    for (int k = 0; k < 3; k++) {
        rvr_packet *c = rvr_packet_copy(p);
        CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[k].vr, c), RVR_OK);
        rvr_packet *r = await_tag(SELF, "echo.reply", &nodes[k].vr, 20000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT(rvr_map_equal(rvr_packet_attrs(r), rvr_packet_attrs(p)));
        const uint8_t *got;
        size_t n;
        CU_ASSERT_EQUAL(rvr_packet_get_bytes(r, "big", &got, &n), RVR_OK);
        CU_ASSERT(n == big && memcmp(got, blob, big) == 0);
        rvr_packet_free(r);
    }
    free(blob);
    rvr_packet_free(p);
}

/* Node-to-node: n1 and n3 each send 50,000 to n2 at once (they find n2
 * through WHOIS); n2 checks that every message came, once, in order per
 * sender. */
static void test_fifo_100k(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 50000;
    rvr_packet *e = node_expect_cmd(n, &nodes[0].vr, &nodes[2].vr);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[1].vr, e), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, node_cmd("burst", &nodes[1].vr, n)), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[2].vr, node_cmd("burst", &nodes[1].vr, n)), RVR_OK);
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[2].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[1].vr, "expect.done", 2 * n, NULL));
}

/* Mid-size messages (300 bytes of data: two-byte lengths inside the
 * attributes' wire form, read by comparison once a stream is seen) from
 * two nodes to a third: all there, whole, FIFO per pair. */
static void test_fifo_mid(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 20000;
    rvr_packet *e = node_expect_cmd(n, &nodes[0].vr, &nodes[2].vr);
    rvr_packet_set_u64(e, "size", 300);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[1].vr, e), RVR_OK);
    for (int k = 0; k <= 2; k += 2) {
        rvr_packet *b = node_cmd("burst", &nodes[1].vr, n);
        rvr_packet_set_u64(b, "size", 300);
        CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[k].vr, b), RVR_OK);
    }
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[2].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[1].vr, "expect.done", 2 * n, NULL));
}

/* n1 streams 3,000 messages here (coalesced into batches), then computes
 * for 4 s without calling River: the last batch must not wait for it.  The
 * I/O thread writes it within 800 us of the last send (docs/runtime.md);
 * 3 s is the margin of a loaded machine, not a measurement. */
static void test_stream_then_compute(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 3000;
    rvr_uuid me = *rvr_self(SELF);
    rvr_packet *b = node_cmd("burst", &me, n);
    rvr_packet_set_u64(b, "then_ms", 4000);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, b), RVR_OK);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "seq");
    rvr_match_src(m, &nodes[0].vr);
    uint64_t got = 0;
    for (rvr_packet *p; got < n && rvr_recv(SELF, m, 3000, &p) == RVR_OK; got++) {
        uint64_t seq = UINT64_MAX;
        rvr_packet_get_u64(p, "seq", &seq);
        rvr_packet_free(p);
        if (seq != got)
            break;
    }
    rvr_match_free(m);
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL));
}

/* A VR that reads a stream itself keeps the sockets from the I/O thread
 * (a kept lease, transport.h) past the stream.  When it then computes
 * without calling River, the I/O thread must take them back: a message
 * for another VR of this VM, parked by then, arrives while the first one
 * still computes. */
static rvr_uuid late_waiter_id;
static _Atomic bool late_got;

static int late_waiter(rvr_vr *self, const void *args)
{
    (void)args;
    rvr_packet *p = await_tag(self, "late", NULL, 10000);
    atomic_store(&late_got, p != NULL);
    rvr_packet_free(p);
    return 0;
}

/* Asks n2, after 300 ms (the waiter has parked), to send "late" to it. */
static int late_trigger(rvr_vr *self, const void *args)
{
    (void)args;
    usleep(300000);
    rvr_packet *b = node_cmd("burst", &late_waiter_id, 1);
    rvr_packet_set_str(b, "tag", "late");
    return rvr_send(self, &nodes[1].vr, b) == RVR_OK ? 0 : 1;
}

static RVR_VR_TYPE_NOARGS(late_waiter_type, "test.LateWaiter", late_waiter);
static RVR_VR_TYPE_NOARGS(late_trigger_type, "test.LateTrigger", late_trigger);

/* n1 streams n "seq" packets here: true when all came and its burst.done
 * says so. */
static bool stream_from_n1(uint64_t n)
{
    rvr_uuid me = *rvr_self(SELF);
    if (rvr_send(SELF, &nodes[0].vr, node_cmd("burst", &me, n)) != RVR_OK)
        return false;
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "seq");
    uint64_t got = 0;
    for (rvr_packet *p; got < n && rvr_recv(SELF, m, 10000, &p) == RVR_OK; got++)
        rvr_packet_free(p);
    rvr_match_free(m);
    return got == n && node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL);
}

static void test_kept_lease_taken_back(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(SELF, NULL, &late_waiter_type, NULL, &late_waiter_id), RVR_OK);
    CU_ASSERT(stream_from_n1(3000));
    /* This VR read the stream itself and kept the sockets (on a slow
     * machine it may have lost them since, waiting for "burst.done": then
     * another stream gets it back): the case under test. */
    for (int i = 0; i < 20 && !atomic_load(&SELF->mb.kept); i++)
        CU_ASSERT(stream_from_n1(500));
    CU_ASSERT_FATAL(atomic_load(&SELF->mb.kept));
    rvr_uuid trig;
    CU_ASSERT_EQUAL_FATAL(rvr_spawn(SELF, NULL, &late_trigger_type, NULL, &trig), RVR_OK);
    for (int i = 0; i < 30 && !atomic_load(&late_got); i++)
        usleep(100000);   /* computing: 3 s without a call into River */
    CU_ASSERT(atomic_load(&late_got));
}

/* Both ways at once between this VM and n1: 20,000 each. */
static void test_both_ways(void)
{
    CU_ASSERT_FATAL(started);
    const uint64_t n = 20000;
    rvr_uuid me = *rvr_self(SELF);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, node_expect_cmd(n, &me, NULL)), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, node_cmd("burst", &me, n)), RVR_OK);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "seq");
    rvr_match_src(m, &nodes[0].vr);
    uint64_t next = 0;
    for (uint64_t i = 0; i < n; i++) {
        rvr_packet *p = rvr_packet_new("seq");
        rvr_packet_set_u64(p, "seq", i);
        CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, p), RVR_OK);
        rvr_packet *q;
        while (rvr_recv(SELF, m, 0, &q) == RVR_OK) {   /* take what came meanwhile */
            uint64_t s = UINT64_MAX;
            rvr_packet_get_u64(q, "seq", &s);
            CU_ASSERT_EQUAL(s, next);
            next++;
            rvr_packet_free(q);
        }
    }
    while (next < n) {
        rvr_packet *q;
        if (rvr_recv(SELF, m, 30000, &q) != RVR_OK)
            break;
        uint64_t s = UINT64_MAX;
        rvr_packet_get_u64(q, "seq", &s);
        CU_ASSERT_EQUAL(s, next);
        next++;
        rvr_packet_free(q);
    }
    rvr_match_free(m);
    CU_ASSERT_EQUAL(next, n);
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "expect.done", n, NULL));
}

/* n2 sends a,b,c,a,b,c (k = 1..6); we take them out of order. */
static void test_selective(void)
{
    CU_ASSERT_FATAL(started);
    rvr_uuid me = *rvr_self(SELF);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[1].vr, node_cmd("mix", &me, 0)), RVR_OK);
    rvr_packet_free(await_tag(SELF, "mix.done", &nodes[1].vr, 10000));
    CU_ASSERT_EQUAL(rvr_pending(SELF), 6);
    struct { const char *tag; int64_t eq; int64_t want; } steps[] = {
        { "c", 0, 3 }, { NULL, 5, 5 }, { "a", 0, 1 }, { NULL, 0, 2 }, { "a", 0, 4 }, { "c", 0, 6 },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        rvr_match *m = rvr_match_new();
        rvr_match_src(m, &nodes[1].vr);
        if (steps[i].tag != NULL)
            rvr_match_tag(m, steps[i].tag);
        if (steps[i].eq != 0)
            rvr_match_eq_i64(m, "k", steps[i].eq);
        rvr_packet *p = NULL;
        CU_ASSERT_EQUAL(rvr_recv(SELF, m, 0, &p), RVR_OK);
        int64_t k = -1;
        if (p != NULL)
            rvr_packet_get_i64(p, "k", &k);
        CU_ASSERT_EQUAL(k, steps[i].want);
        rvr_packet_free(p);
        rvr_match_free(m);
    }
    CU_ASSERT_EQUAL(rvr_pending(SELF), 0);
}

/* A VR nobody knows: RVR_ENOTFOUND.  A VR that ended on a known VM: the
 * send is accepted, then a river.undeliverable notice comes back. */
static void test_undeliverable(void)
{
    CU_ASSERT_FATAL(started);
    rvr_uuid nobody = rvr_uuid_generate();
    rvr_packet *p = rvr_packet_new("probe");
    CU_ASSERT_EQUAL(rvr_send(SELF, &nobody, p), RVR_ENOTFOUND);
    rvr_packet_free(p);

    /* A VR on n3 greets us from its own UUID (so we learn where it lives), then ends. */
    CU_ASSERT_FATAL(send_tag(SELF, &nodes[2].vr, "brief"));
    rvr_packet *h = await_tag(SELF, "brief.hello", NULL, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    rvr_uuid gone = *rvr_packet_src(h);
    rvr_packet_free(h);
    rvr_packet_free(await_tag(SELF, "brief.done", &nodes[2].vr, 10000));
    rvr_uuid vm;
    CU_ASSERT_EQUAL_FATAL(rvr_locate(SELF, &gone, 0, &vm), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&vm, &nodes[2].vm));
    p = rvr_packet_new("probe");
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &gone, p), RVR_OK);
    rvr_packet *n = await_tag(SELF, RVR_UNDELIVERABLE, &gone, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    const char *tag = NULL, *reason = NULL;
    rvr_uuid dst, where;
    CU_ASSERT_EQUAL(rvr_packet_get_str(n, "tag", &tag, NULL), RVR_OK);
    CU_ASSERT_STRING_EQUAL(tag, "probe");
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(n, "dst", &dst), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&dst, &gone));
    CU_ASSERT_EQUAL(rvr_packet_get_uuid(n, "vm", &where), RVR_OK);
    CU_ASSERT(rvr_uuid_eq(&where, &nodes[2].vm));
    CU_ASSERT_EQUAL(rvr_packet_get_str(n, "reason", &reason, NULL), RVR_OK);
    rvr_packet_free(n);
}

/* n3 streams to n2 while n2 waits (with a timeout) on a message from n3
 * that never comes; n3 is killed with SIGKILL.  n2's receive returns, and
 * n1 and n2 keep working together. */
static void test_kill9(void)
{
    CU_ASSERT_FATAL(started);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[2].vr, node_cmd("stream", &nodes[1].vr, 0)), RVR_OK);
    rvr_packet *w = rvr_packet_new("wait_on");
    rvr_packet_set_uuid(w, "from", &nodes[2].vr);
    rvr_packet_set_i64(w, "ms", 1500);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[1].vr, w), RVR_OK);
    usleep(200000);
    node_kill(&nodes[2]);
    rvr_packet *r = await_tag(SELF, "wait_on.done", &nodes[1].vr, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    int64_t st = 0;
    rvr_packet_get_i64(r, "status", &st);
    CU_ASSERT_EQUAL(st, RVR_ETIMEDOUT);
    rvr_packet_free(r);

    CU_ASSERT(node_ping(SELF, &nodes[0]));
    CU_ASSERT(node_ping(SELF, &nodes[1]));
    const uint64_t n = 1000;
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[1].vr, node_expect_cmd(n, &nodes[0].vr, NULL)), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_send(SELF, &nodes[0].vr, node_cmd("burst", &nodes[1].vr, n)), RVR_OK);
    CU_ASSERT(node_done_ok(SELF, &nodes[0].vr, "burst.done", n, NULL));
    CU_ASSERT(node_done_ok(SELF, &nodes[1].vr, "expect.done", n, NULL));

    /* A send to the dead VM's VR is refused or answered by a notice. */
    rvr_packet *p = rvr_packet_new("hello?");
    rvr_status s = rvr_send(SELF, &nodes[2].vr, p);
    if (s == RVR_OK) {
        rvr_packet *note = await_tag(SELF, RVR_UNDELIVERABLE, &nodes[2].vr, 20000);
        CU_ASSERT_PTR_NOT_NULL(note);
        rvr_packet_free(note);
    } else {
        CU_ASSERT_EQUAL(s, RVR_ENOTFOUND);
        rvr_packet_free(p);
    }
}

/* Two VMs that never talked send to each other at the same moment, so
 * each connects to the other while the other connects to it: one of the
 * two connections is kept, and nothing sent meanwhile is lost (it used to
 * be bounced back as undeliverable).  Fresh pairs, several times. */
static void test_simultaneous_connect(void)
{
    CU_ASSERT_FATAL(started);
    for (int round = 0; round < 4; round++) {
        node a, b;
        char na[16], nb[16];
        snprintf(na, sizeof na, "s%da", round);
        snprintf(nb, sizeof nb, "s%db", round);
        CU_ASSERT_FATAL(node_start(SELF, &a, na, NULL, NULL));
        CU_ASSERT_FATAL(node_start(SELF, &b, nb, NULL, NULL));
        CU_ASSERT(node_swap(SELF, &a, &b, 3000));   /* both send at once */
        CU_ASSERT(node_stop(SELF, &a));
        CU_ASSERT(node_stop(SELF, &b));
    }
}

static void test_stop(void)
{
    CU_ASSERT(node_stop(SELF, &nodes[0]));
    CU_ASSERT(node_stop(SELF, &nodes[1]));
    node_kill_all();
}

static const CU_TestInfo tests[] = {
    { "three VMs start and connect", test_start },
    { "every value type there and back (5 MiB bytes)", test_echo_types },
    { "100,000 messages node to node, FIFO per pair", test_fifo_100k },
    { "40,000 messages of 300 bytes node to node, whole and FIFO", test_fifo_mid },
    { "both directions at once", test_both_ways },
    { "a stream's last batch leaves while its sender computes", test_stream_then_compute },
    { "a VR that read a stream and computes does not keep the sockets", test_kept_lease_taken_back },
    { "selective receive across VMs", test_selective },
    { "undeliverable: ENOTFOUND or a notice", test_undeliverable },
    { "simultaneous connects lose nothing", test_simultaneous_connect },
    { "kill -9 of a VM mid-run", test_kill9 },
    { "nodes stop cleanly", test_stop },
    CU_TEST_INFO_NULL,
};

static void suites(void)
{
    cutest_suite("net", tests);
}

int main(int argc, char **argv)
{
    setenv("RIVER_BIND", "127.0.0.1", 1);
    setenv("RIVER_DISCOVERY", "off", 1);
    return vmtest_main(argc, argv, suites);
}
