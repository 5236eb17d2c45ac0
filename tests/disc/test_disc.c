/* test_disc.c — discovery in one process: the datagram codec and its
 * limits, filters, options, and live endpoints talking over loopback
 * unicast (seed peers; multicast is off here so the test runs anywhere —
 * test_loopback.sh and test_netns.sh cover multicast). */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutest.h"
#include "discovery.h"

/* ---- helpers ---------------------------------------------------------------- */

static rvr_map *labels_of(const char *k, const char *v)
{
    rvr_map *m = rvr_map_new();
    rvr_value x;
    rvr_value_str(&x, v);
    rvr_map_set(m, k, &x);
    return m;
}

/* Starts an endpoint with multicast off, on an ephemeral port. */
static rvr_vm *node(const char *peer, const char *label)
{
    rvr_vm *vm;
    if (rvr_vm_create(&vm) != RVR_OK)
        return NULL;
    const char *peers[1] = { peer };
    rvr_map *l = labels_of("name", label);
    rvr_disc_config cfg = { .group = "off", .advertise = "127.0.0.1:0", .peers = peers,
                            .npeers = peer != NULL, .labels = l, .program = "/x/test_disc" };
    rvr_status st = rvr_disc_start(vm, &cfg);
    rvr_map_free(l);
    CU_ASSERT_EQUAL(st, RVR_OK);
    return vm;
}

static void address_of(rvr_vm *vm, char *buf)
{
    rvr_disc_net net;
    rvr_disc_vm me;
    char (*known)[RVR_DISC_MAX_ADDR];
    size_t nk;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_snapshot(vm->disc, &net, &me, &known, &nk), RVR_OK);
    strcpy(buf, me.address);
    rvr_disc_vm_clear(&me);
    free(known);
}

static void stop(rvr_vm *vm)
{
    rvr_disc_stop(vm);
    rvr_disc_stop(vm);   /* idempotent */
    rvr_vm_stop(vm, 0);
}

/* ---- the codec -------------------------------------------------------------- */

static void test_probe_roundtrip(void)
{
    rvr_disc_vm v = { .uuid = rvr_uuid_generate(), .address = "10.0.0.1:7001",
                      .attrs = labels_of("gpu", "yes"), .age_ms = 1234 };
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL(rvr_disc_encode_probe(99, true, &v, &b), RVR_OK);
    rvr_disc_msg m;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_decode(b.data, b.len, &m), RVR_OK);
    CU_ASSERT_EQUAL(m.kind, RVR_DISC_PROBE);
    CU_ASSERT_EQUAL(m.nonce, 99);
    CU_ASSERT(m.want_known);
    CU_ASSERT(m.has_sender);
    CU_ASSERT(rvr_uuid_eq(&m.sender.uuid, &v.uuid));
    CU_ASSERT_STRING_EQUAL(m.sender.address, "10.0.0.1:7001");
    CU_ASSERT_EQUAL(m.sender.age_ms, 1234);
    CU_ASSERT(rvr_map_equal(m.sender.attrs, v.attrs));
    rvr_disc_msg_clear(&m);
    rvr_buf_free(&b);
    /* A bare probe (the river command's) has no sender. */
    CU_ASSERT_EQUAL(rvr_disc_encode_probe(5, false, NULL, &b), RVR_OK);
    CU_ASSERT_EQUAL_FATAL(rvr_disc_decode(b.data, b.len, &m), RVR_OK);
    CU_ASSERT(!m.has_sender && !m.want_known);
    rvr_disc_msg_clear(&m);
    rvr_buf_free(&b);
    rvr_map_free(v.attrs);
}

typedef struct packed { rvr_buf d[64]; size_t n; } packed;

static rvr_status collect(void *ctx, const uint8_t *p, size_t n)
{
    packed *k = ctx;
    if (k->n == 64)
        return RVR_ELIMIT;
    k->d[k->n] = (rvr_buf){ 0 };
    return rvr_buf_append(&k->d[k->n++], p, n);
}

static void test_reply_packing_limits(void)
{
    enum { N = 100 };
    rvr_buf self = { 0 }, known[N];
    rvr_map *big = rvr_map_new();
    rvr_value s;
    char filler[600];
    memset(filler, 'a', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    rvr_value_str(&s, filler);
    rvr_map_set(big, "pad", &s);
    rvr_disc_vm v = { .uuid = rvr_uuid_generate(), .address = "1.2.3.4:5", .attrs = big };
    CU_ASSERT_EQUAL(rvr_disc_encode_vm(&v, &self), RVR_OK);
    for (int i = 0; i < N; i++) {
        known[i] = (rvr_buf){ 0 };
        v.uuid = rvr_uuid_generate();
        /* Half the entries are large, so both limits (bytes, count) bite. */
        v.attrs = i % 2 ? big : NULL;
        CU_ASSERT_EQUAL(rvr_disc_encode_vm(&v, &known[i]), RVR_OK);
    }
    packed k = { .n = 0 };
    CU_ASSERT_EQUAL(rvr_disc_pack_reply(7, &self, known, N, collect, &k), RVR_OK);
    CU_ASSERT(k.n >= (N + RVR_DISC_MAX_LIST - 1) / RVR_DISC_MAX_LIST);
    size_t total = 0;
    for (size_t i = 0; i < k.n; i++) {
        CU_ASSERT(k.d[i].len <= RVR_DISC_MAX_DATAGRAM);
        rvr_disc_msg m;
        CU_ASSERT_EQUAL_FATAL(rvr_disc_decode(k.d[i].data, k.d[i].len, &m), RVR_OK);
        CU_ASSERT(m.nknown <= RVR_DISC_MAX_LIST);
        CU_ASSERT(m.has_sender);
        total += m.nknown;
        rvr_disc_msg_clear(&m);
        rvr_buf_free(&k.d[i]);
    }
    CU_ASSERT_EQUAL(total, N);
    /* An empty list still gives one datagram (the sender itself). */
    k.n = 0;
    CU_ASSERT_EQUAL(rvr_disc_pack_reply(7, &self, NULL, 0, collect, &k), RVR_OK);
    CU_ASSERT_EQUAL(k.n, 1);
    rvr_buf_free(&k.d[0]);
    for (int i = 0; i < N; i++)
        rvr_buf_free(&known[i]);
    rvr_buf_free(&self);
    rvr_map_free(big);
}

static void test_info_limit(void)
{
    char filler[RVR_DISC_MAX_INFO];
    memset(filler, 'z', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    rvr_map *l = labels_of("huge", filler);
    rvr_disc_vm v = { .uuid = rvr_uuid_generate(), .address = "1.2.3.4:5", .attrs = l };
    rvr_buf b = { 0 };
    CU_ASSERT_EQUAL(rvr_disc_encode_vm(&v, &b), RVR_ELIMIT);
    rvr_buf_free(&b);
    /* An endpoint refuses labels that could never be sent. */
    rvr_vm *vm;
    CU_ASSERT_EQUAL_FATAL(rvr_vm_create(&vm), RVR_OK);
    rvr_disc_config cfg = { .group = "off", .advertise = ":0", .labels = l };
    CU_ASSERT_EQUAL(rvr_disc_start(vm, &cfg), RVR_ELIMIT);
    CU_ASSERT_PTR_NULL(vm->disc);
    rvr_vm_stop(vm, 0);
    rvr_map_free(l);
}

static void test_malformed(void)
{
    rvr_disc_vm v = { .uuid = rvr_uuid_generate(), .address = "1.2.3.4:5", .attrs = labels_of("a", "b") };
    rvr_buf self = { 0 }, kb = { 0 }, d = { 0 };
    rvr_disc_encode_vm(&v, &self);
    rvr_disc_encode_vm(&v, &kb);
    rvr_disc_put_header(&d, RVR_DISC_REPLY, 1, false);
    rvr_disc_put_vm(&d, 6, &self);
    for (int i = 0; i < 3; i++)
        rvr_disc_put_vm(&d, 7, &kb);
    rvr_disc_msg m;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_decode(d.data, d.len, &m), RVR_OK);
    CU_ASSERT_EQUAL(m.nknown, 3);
    rvr_disc_msg_clear(&m);
    /* Every truncation: an error, or (cut between fields) a shorter reply. */
    for (size_t n = 0; n < d.len; n++) {
        rvr_status st = rvr_disc_decode(d.data, n, &m);
        CU_ASSERT(st == RVR_OK || st == RVR_EPROTO || st == RVR_ELIMIT);
        if (st == RVR_OK) {
            CU_ASSERT(m.nknown < 3);
            rvr_disc_msg_clear(&m);
        }
    }
    /* Random bytes, and random bytes after a valid header. */
    srand(1);
    uint8_t buf[512];
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + (size_t)rand() % sizeof buf, off = 0;
        if (i % 2) {
            memcpy(buf, d.data, 20);
            off = 20;
        }
        for (size_t k = off; k < n; k++)
            buf[k] = (uint8_t)rand();
        if (rvr_disc_decode(buf, n, &m) == RVR_OK)
            rvr_disc_msg_clear(&m);
    }
    /* One known VM past RVR_DISC_MAX_LIST. */
    for (int i = 3; i <= RVR_DISC_MAX_LIST; i++)
        rvr_disc_put_vm(&d, 7, &kb);
    CU_ASSERT_EQUAL(rvr_disc_decode(d.data, d.len, &m), RVR_ELIMIT);
    /* Past RVR_DISC_MAX_DATAGRAM. */
    uint8_t *huge = calloc(1, RVR_DISC_MAX_DATAGRAM + 1);
    memcpy(huge, self.data, 10);
    CU_ASSERT_EQUAL(rvr_disc_decode(huge, RVR_DISC_MAX_DATAGRAM + 1, &m), RVR_ELIMIT);
    free(huge);
    /* Wrong magic; a group wire type; a 15-byte UUID; a reply without sender; empty. */
    rvr_buf p = { 0 };
    rvr_disc_encode_probe(3, false, NULL, &p);
    memcpy(buf, p.data, p.len);
    buf[2] ^= 1;
    CU_ASSERT_EQUAL(rvr_disc_decode(buf, p.len, &m), RVR_EPROTO);
    memcpy(buf, p.data, p.len);
    buf[p.len] = (9 << 3) | 3;
    CU_ASSERT_EQUAL(rvr_disc_decode(buf, p.len + 1, &m), RVR_EPROTO);
    uint8_t bad_uuid[] = { 0x0a, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x12, 1, 'x' };
    rvr_buf q = { 0 };
    rvr_disc_put_header(&q, RVR_DISC_REPLY, 1, false);
    rvr_buf inner = { .data = bad_uuid, .len = sizeof bad_uuid };
    rvr_disc_put_vm(&q, 6, &inner);
    CU_ASSERT_EQUAL(rvr_disc_decode(q.data, q.len, &m), RVR_EPROTO);
    q.len = 0;
    rvr_disc_put_header(&q, RVR_DISC_REPLY, 1, false);
    CU_ASSERT_EQUAL(rvr_disc_decode(q.data, q.len, &m), RVR_EPROTO);
    CU_ASSERT_EQUAL(rvr_disc_decode(q.data, 0, &m), RVR_EPROTO);
    /* An unknown field is skipped (newer senders may add some). */
    memcpy(buf, p.data, p.len);
    buf[p.len] = (15 << 3) | 0;
    buf[p.len + 1] = 5;
    CU_ASSERT_EQUAL(rvr_disc_decode(buf, p.len + 2, &m), RVR_OK);
    rvr_disc_msg_clear(&m);
    rvr_buf_free(&q);
    rvr_buf_free(&p);
    rvr_buf_free(&self);
    rvr_buf_free(&kb);
    rvr_buf_free(&d);
    rvr_map_free(v.attrs);
}

/* ---- filters ---------------------------------------------------------------- */

static void test_filter(void)
{
    rvr_vm_info v = { .uuid = rvr_uuid_generate(), .address = "10.1.1.1:7001", .attrs = rvr_map_new() };
    rvr_value x = rvr_value_u64(8);
    rvr_map_set(v.attrs, "cores", &x);
    x = rvr_value_f64(0.5);
    rvr_map_set(v.attrs, "load", &x);
    rvr_value_str(&x, "available");
    rvr_map_set(v.attrs, "status", &x);
    x = rvr_value_map(labels_of("gpu", "yes"));
    rvr_map_set(v.attrs, "labels", &x);
    char id[RVR_UUID_STRLEN];
    rvr_uuid_str(&v.uuid, id);

    static const struct { const char *expr; bool match; } cases[] = {
        { "cores=8", true }, { "cores==8", true }, { "cores=9", false }, { "cores!=9", true },
        { "cores>4", true }, { "cores>=8", true }, { "cores<8", false }, { "cores<=8", true },
        { "load<1", true }, { "load>0.5", false }, { "load=0.5", true },
        { "status=available", true }, { "status=allocated", false }, { "status!=allocated", true },
        { "gpu=yes", true }, { "labels.gpu=yes", true }, { "gpu=no", false },
        { "missing=1", false }, { "missing!=1", false }, { "status>1", false },
        { "address=10.1.1.1:7001", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rvr_vm_filter *f = rvr_vm_filter_new();
        CU_ASSERT_EQUAL_FATAL(rvr_vm_filter_parse(f, cases[i].expr), RVR_OK);
        if (rvr_vm_filter_match(f, &v) != cases[i].match)
            fprintf(stderr, "filter %s: expected %d\n", cases[i].expr, cases[i].match);
        CU_ASSERT_EQUAL(rvr_vm_filter_match(f, &v), cases[i].match);
        rvr_vm_filter_free(f);
    }
    /* Conditions combine with AND; uuid is a key; the typed builders. */
    rvr_vm_filter *f = rvr_vm_filter_new();
    CU_ASSERT_EQUAL(rvr_vm_filter_eq_str(f, "uuid", id), RVR_OK);
    CU_ASSERT_EQUAL(rvr_vm_filter_num(f, "cores", RVR_CMP_GE, 2), RVR_OK);
    rvr_value eight = rvr_value_i64(8);
    CU_ASSERT_EQUAL(rvr_vm_filter_eq(f, "cores", &eight), RVR_OK);
    CU_ASSERT(rvr_vm_filter_match(f, &v));
    CU_ASSERT_EQUAL(rvr_vm_filter_num(f, "load", RVR_CMP_GT, 3), RVR_OK);
    CU_ASSERT(!rvr_vm_filter_match(f, &v));
    rvr_vm_filter_free(f);
    CU_ASSERT(rvr_vm_filter_match(NULL, &v));
    /* Bad expressions and the condition limit. */
    f = rvr_vm_filter_new();
    CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "cores"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "=8"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "cores>many"), RVR_EINVAL);
    CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "cores!8"), RVR_EINVAL);
    for (int i = 0; i < RVR_DISC_MAX_FILTER; i++)
        CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "cores>1"), RVR_OK);
    CU_ASSERT_EQUAL(rvr_vm_filter_parse(f, "cores>1"), RVR_ELIMIT);
    CU_ASSERT(rvr_vm_filter_match(f, &v));
    rvr_vm_filter_free(f);
    rvr_map_free(v.attrs);
}

/* ---- options and configuration -------------------------------------------- */

static void test_options(void)
{
    char *argv[] = { "prog", "--workers=3", "--peer", "10.0.0.1:7001", "--label", "gpu=yes",
                     "--mcast-group=239.1.2.3", "--mcast-port", "9000", "--label=rack=r1",
                     "--mcast-if", "lo", "x", NULL };
    int argc = 13;
    rvr_disc_opts o;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_options(&argc, argv, &o, stderr), RVR_OK);
    CU_ASSERT_EQUAL(argc, 3);
    CU_ASSERT_STRING_EQUAL(argv[1], "--workers=3");
    CU_ASSERT_STRING_EQUAL(argv[2], "x");
    CU_ASSERT_PTR_NULL(argv[3]);
    CU_ASSERT_EQUAL(o.cfg.npeers, 1);
    CU_ASSERT_STRING_EQUAL(o.cfg.peers[0], "10.0.0.1:7001");
    CU_ASSERT_STRING_EQUAL(o.cfg.group, "239.1.2.3");
    CU_ASSERT_EQUAL(o.cfg.port, 9000);
    CU_ASSERT_STRING_EQUAL(o.cfg.mcast_if, "lo");
    CU_ASSERT_EQUAL(rvr_map_len(o.cfg.labels), 2);
    CU_ASSERT_STRING_EQUAL(rvr_map_get(o.cfg.labels, "rack")->as.str.ptr, "r1");
    rvr_disc_opts_free(&o);

    FILE *null = fopen("/dev/null", "w");
    char *bad1[] = { "p", "--label", "novalue", NULL };
    char *bad2[] = { "p", "--mcast-port", "70000", NULL };
    char *bad3[] = { "p", "--peer", NULL };
    argc = 3;
    CU_ASSERT_EQUAL(rvr_disc_options(&argc, bad1, &o, null), RVR_EINVAL);
    argc = 3;
    CU_ASSERT_EQUAL(rvr_disc_options(&argc, bad2, &o, null), RVR_EINVAL);
    argc = 2;
    CU_ASSERT_EQUAL(rvr_disc_options(&argc, bad3, &o, null), RVR_EINVAL);
    fclose(null);
}

static void test_resolve(void)
{
    rvr_disc_net net;
    const char *peers[] = { "127.0.0.1:7001", "127.0.0.2:7002", "127.0.0.1:7001", "nonsense" };
    setenv("RIVER_PEERS", "127.0.0.1:7003, 127.0.0.1:7004", 1);
    rvr_disc_config cfg = { .group = "off", .peers = peers, .npeers = 4 };
    CU_ASSERT_EQUAL(rvr_disc_net_resolve(&cfg, &net), RVR_OK);
    CU_ASSERT(!net.mcast);
    CU_ASSERT_EQUAL(net.npeers, 4);   /* the duplicate and the bad one left out */
    unsetenv("RIVER_PEERS");
    cfg = (rvr_disc_config){ .group = "10.0.0.1" };
    CU_ASSERT_EQUAL(rvr_disc_net_resolve(&cfg, &net), RVR_EINVAL);
    cfg = (rvr_disc_config){ .group = "239.9.9.9", .port = 1234, .mcast_if = "no-such-if0" };
    CU_ASSERT_EQUAL(rvr_disc_net_resolve(&cfg, &net), RVR_OK);
    CU_ASSERT(!net.mcast);   /* no usable interface: seeds only */
    CU_ASSERT_EQUAL(net.port, 1234);
    char many[RVR_DISC_MAX_PEERS + 1][32];
    const char *mp[RVR_DISC_MAX_PEERS + 1];
    for (int i = 0; i <= RVR_DISC_MAX_PEERS; i++) {
        snprintf(many[i], sizeof many[i], "127.0.0.1:%d", 1000 + i);
        mp[i] = many[i];
    }
    cfg = (rvr_disc_config){ .group = "off", .peers = mp, .npeers = RVR_DISC_MAX_PEERS + 1 };
    CU_ASSERT_EQUAL(rvr_disc_net_resolve(&cfg, &net), RVR_ELIMIT);
}

/* ---- live endpoints ---------------------------------------------------------- */

static size_t count_label(const rvr_vm_info *v, size_t n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const rvr_value *l = rvr_map_get(v[i].attrs, "labels");
        const rvr_value *x = l != NULL ? rvr_map_get(l->as.map, "name") : NULL;
        c += x != NULL && strcmp(x->as.str.ptr, name) == 0;
    }
    return c;
}

static void test_seeds_live(void)
{
    rvr_vm *a = node(NULL, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    char aaddr[RVR_DISC_MAX_ADDR], baddr[RVR_DISC_MAX_ADDR];
    address_of(a, aaddr);
    rvr_vm *b = node(aaddr, "b"), *c = node(aaddr, "c");
    address_of(b, baddr);
    CU_ASSERT_EQUAL(rvr_disc_start(a, NULL), RVR_EEXIST);

    /* Knowing only b finds a (b's seed) and c (a's other peer). */
    const char *peers[] = { baddr };
    rvr_disc_config cfg = { .group = "off", .peers = peers, .npeers = 1 };
    rvr_vm_filter *f = rvr_vm_filter_new();
    rvr_vm_filter_limit(f, 3);
    rvr_vm_info *v;
    size_t n;
    /* c may announce itself to a after a answered b: ask until it is there. */
    for (int tries = 0; tries < 50; tries++) {
        CU_ASSERT_EQUAL_FATAL(rvr_discover_standalone(&cfg, f, 2000, &v, &n), RVR_OK);
        if (n == 3)
            break;
        rvr_vm_info_free(v, n);
    }
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(count_label(v, n, "a"), 1);
    CU_ASSERT_EQUAL(count_label(v, n, "b"), 1);
    CU_ASSERT_EQUAL(count_label(v, n, "c"), 1);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(strncmp(v[i].address, "127.0.0.1:", 10), 0);
        CU_ASSERT_PTR_NOT_NULL(rvr_map_get(v[i].attrs, "cores"));
        CU_ASSERT_PTR_NOT_NULL(rvr_map_get(v[i].attrs, "mem_free"));
        const rvr_value *p = rvr_map_get(v[i].attrs, "program");
        CU_ASSERT(p != NULL && strcmp(p->as.str.ptr, "test_disc") == 0);
    }
    rvr_vm_info_free(v, n);

    /* Status is advertised and filterable. */
    rvr_disc_set_status(c, "allocated");
    rvr_vm_filter_free(f);
    f = rvr_vm_filter_new();
    rvr_vm_filter_parse(f, "status=allocated");
    rvr_vm_filter_limit(f, 1);
    CU_ASSERT_EQUAL(rvr_discover_standalone(&cfg, f, 10000, &v, &n), RVR_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(count_label(v, n, "c"), 1);
    rvr_vm_info_free(v, n);
    rvr_vm_filter_free(f);

    /* From a VR: its own VM is included, and what its endpoint knows is
     * probed without naming any peer. */
    rvr_vr *vr;
    static RVR_VR_TYPE_NOARGS(t, "test.Disc", NULL);
    CU_ASSERT_EQUAL_FATAL(rvr_vm_add_vr(b, &t, NULL, NULL, &vr), RVR_OK);
    f = rvr_vm_filter_new();
    rvr_vm_filter_limit(f, 3);
    for (int tries = 0; tries < 50; tries++) {
        CU_ASSERT_EQUAL_FATAL(rvr_discover(vr, f, 2000, &v, &n), RVR_OK);
        if (n == 3)
            break;
        rvr_vm_info_free(v, n);
    }
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(count_label(v, n, "b"), 1);
    rvr_vm_info_free(v, n);
    rvr_vm_filter_parse(f, "name=b");
    CU_ASSERT_EQUAL(rvr_discover(vr, f, 0, &v, &n), RVR_OK);   /* poll: itself only */
    CU_ASSERT_EQUAL(n, 1);
    rvr_vm_info_free(v, n);
    CU_ASSERT_EQUAL(rvr_discover(vr, f, -1, &v, &n), RVR_EINVAL);
    rvr_vm_filter_free(f);
    rvr_vm_remove_vr(b, vr);
    rvr_vr_unref(vr);
    stop(c);
    stop(b);
    stop(a);
}

/* An endpoint told of more VMs than RVR_DISC_MAX_KNOWN keeps that many and
 * lists them in datagrams within the limits. */
static void test_known_limit(void)
{
    rvr_vm *a = node(NULL, "a");
    char aaddr[RVR_DISC_MAX_ADDR];
    address_of(a, aaddr);
    struct sockaddr_in to;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_parse_addr(aaddr, &to), RVR_OK);
    int fd;
    CU_ASSERT_EQUAL_FATAL(rvr_disc_udp_socket(0, &fd), RVR_OK);
    uint8_t *buf = malloc(RVR_DISC_MAX_DATAGRAM + 1);
    size_t total = 0;
    for (int round = 0; round < 100 && total < RVR_DISC_MAX_KNOWN; round++) {
        for (int i = 0; i < RVR_DISC_MAX_KNOWN + 50; i++) {
            rvr_disc_vm v = { .uuid = rvr_uuid_generate() };
            snprintf(v.address, sizeof v.address, "127.0.0.1:%d", 20000 + i);
            rvr_buf b = { 0 };
            rvr_disc_encode_probe(1, false, &v, &b);
            sendto(fd, b.data, b.len, 0, (struct sockaddr *)&to, sizeof to);
            rvr_buf_free(&b);
            /* Drain the replies as we go so our socket does not overflow. */
            while (recv(fd, buf, RVR_DISC_MAX_DATAGRAM + 1, MSG_DONTWAIT) > 0)
                ;
        }
        rvr_buf p = { 0 };
        rvr_disc_encode_probe(77, true, NULL, &p);
        sendto(fd, p.data, p.len, 0, (struct sockaddr *)&to, sizeof to);
        rvr_buf_free(&p);
        total = 0;
        struct pollfd pf = { fd, POLLIN, 0 };
        while (poll(&pf, 1, 500) > 0) {
            ssize_t r = recv(fd, buf, RVR_DISC_MAX_DATAGRAM + 1, MSG_TRUNC);
            CU_ASSERT(r > 0 && r <= RVR_DISC_MAX_DATAGRAM);
            rvr_disc_msg m;
            if (r > 0 && rvr_disc_decode(buf, (size_t)r, &m) == RVR_OK) {
                if (m.kind == RVR_DISC_REPLY && m.nonce == 77) {
                    CU_ASSERT(m.nknown <= RVR_DISC_MAX_LIST);
                    total += m.nknown;
                }
                rvr_disc_msg_clear(&m);
            }
        }
    }
    CU_ASSERT_EQUAL(total, RVR_DISC_MAX_KNOWN);
    free(buf);
    close(fd);
    stop(a);
}

int main(void)
{
    static CU_TestInfo codec[] = {
        { "probe round trip", test_probe_roundtrip },
        { "reply packing: datagram and list limits", test_reply_packing_limits },
        { "VM info size limit", test_info_limit },
        { "malformed datagrams", test_malformed },
        CU_TEST_INFO_NULL,
    };
    static CU_TestInfo config[] = {
        { "filters", test_filter },
        { "command-line options", test_options },
        { "configuration and environment", test_resolve },
        CU_TEST_INFO_NULL,
    };
    static CU_TestInfo live[] = {
        { "seed peers, status, rvr_discover from a VR", test_seeds_live },
        { "known-VM table limit", test_known_limit },
        CU_TEST_INFO_NULL,
    };
    cutest_suite("disc codec", codec);
    cutest_suite("disc config", config);
    cutest_suite("disc live", live);
    return cutest_run();
}
