/* net_node — a VM that test_net starts as a child process and drives with
 * messages.  Its initial VR reports "ready" to --boss, then obeys:
 *
 *   echo            replies "echo.reply" with the same attributes
 *   ping            replies "pong"
 *   burst  to n tag [size] [then_ms] [from]
 *                   sends n packets {seq=i, and a bytes "pad" of size bytes}
 *                   tagged `tag` to `to`, then (with then_ms) computes for
 *                   then_ms milliseconds, calling nothing of River, then
 *                   says "burst.done" {sent, status} to the asker; with
 *                   `from`, then does what "expect" does (with no other
 *                   command taken in between)
 *   expect from n [delay_us] [announce] [size]
 *                   (with announce, first says "expect.start" to the asker)
 *                   receives n "seq" packets from each VR in the list `from`
 *                   (sleeping delay_us after each), checks FIFO per sender,
 *                   replies "expect.done" {ok, got, most: the most packets
 *                   seen waiting in the mailbox}
 *   stream to       sends a "flood" packet to `to` every millisecond, forever
 *   wait_on from ms rvr_recv(src=from, tag="never", ms), replies its status
 *   brief           spawns a VR that says hello to the asker and ends;
 *                   replies "brief.done" {vr} once it is gone
 *   mix to          sends a,b,c,a,b,c (k=1..6) then "mix.done" to `to`
 *   stop            returns */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <river/river.h>

typedef struct { char *boss; char *name; } node_args;
static const node_args defaults = { NULL, NULL };
static const rvr_arg_desc descs[] = {
    { "boss", RVR_ARG_STRING, offsetof(node_args, boss), NULL, "VR to report to" },
    { "name", RVR_ARG_STRING, offsetof(node_args, name), NULL, "name in reports" },
};

typedef struct { char *to; } brief_args;
static const brief_args brief_defaults = { NULL };
static const rvr_arg_desc brief_descs[] = {
    { "to", RVR_ARG_STRING, offsetof(brief_args, to), NULL, "whom to greet" },
};

/* Says hello (from its own UUID) to `to`, and ends. */
static int brief_main(rvr_vr *self, const void *argp)
{
    const brief_args *a = argp;
    rvr_uuid to;
    if (a->to == NULL || rvr_uuid_parse(a->to, &to) != RVR_OK)
        return 2;
    rvr_packet *p = rvr_packet_new("brief.hello");
    if (p != NULL && rvr_send(self, &to, p) != RVR_OK)
        rvr_packet_free(p);
    return 0;
}
static RVR_VR_TYPE(brief_type, "tests.Brief", brief_main, brief_args, brief_defaults, brief_descs);

static void reply(rvr_vr *self, const rvr_uuid *to, rvr_packet *p)
{
    if (p != NULL && rvr_send(self, to, p) != RVR_OK) {
        fprintf(stderr, "net_node: cannot reply %s\n", rvr_packet_tag(p));
        rvr_packet_free(p);
    }
}

static void do_expect(rvr_vr *self, const rvr_packet *cmd);

static void do_burst(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid to;
    uint64_t n = 0;
    uint64_t size = 0;
    const char *tag = "seq";
    rvr_packet_get_uuid(cmd, "to", &to);
    rvr_packet_get_u64(cmd, "n", &n);
    rvr_packet_get_u64(cmd, "size", &size);
    rvr_packet_get_str(cmd, "tag", &tag, NULL);
    void *pad = size > 0 ? calloc(1, size) : NULL;
    rvr_status st = RVR_OK;
    uint64_t i;
    for (i = 0; i < n && st == RVR_OK; i++) {
        rvr_packet *p = rvr_packet_new(tag);
        rvr_packet_set_u64(p, "seq", i);
        if (pad != NULL)
            rvr_packet_set_bytes(p, "pad", pad, size);
        if ((st = rvr_send(self, &to, p)) != RVR_OK)
            rvr_packet_free(p);
    }
    free(pad);
    uint64_t then_ms = 0;
    rvr_packet_get_u64(cmd, "then_ms", &then_ms);
    if (then_ms > 0)
        usleep((useconds_t)(then_ms * 1000));   /* "computing": no send, no receive */
    rvr_packet *r = rvr_packet_new("burst.done");
    rvr_packet_set_u64(r, "sent", st == RVR_OK ? i : i - 1);
    rvr_packet_set_i64(r, "status", st);
    reply(self, rvr_packet_src(cmd), r);
    if (rvr_packet_has(cmd, "from"))
        do_expect(self, cmd);
}

static void do_expect(rvr_vr *self, const rvr_packet *cmd)
{
    const rvr_list *from = NULL;
    uint64_t n = 0, delay_us = 0, most = 0;
    rvr_packet_get_list(cmd, "from", &from);
    rvr_packet_get_u64(cmd, "n", &n);
    rvr_packet_get_u64(cmd, "delay_us", &delay_us);
    uint64_t size = 0;   /* with size: each packet's pad must be that long */
    rvr_packet_get_u64(cmd, "size", &size);
    bool announce = false;
    rvr_packet_get_bool(cmd, "announce", &announce);
    if (announce)
        reply(self, rvr_packet_src(cmd), rvr_packet_new("expect.start"));
    size_t k = from ? rvr_list_len(from) : 0;
    uint64_t *next = calloc(k + 1, sizeof *next);
    uint64_t got = 0, total = n * k;
    bool ok = next != NULL;
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "seq");
    while (ok && got < total) {
        rvr_packet *p;
        rvr_status st = rvr_recv(self, m, 30000, &p);
        if (st != RVR_OK) {
            fprintf(stderr, "net_node: expect: %s after %llu\n", rvr_strerror(st), (unsigned long long)got);
            ok = false;
            break;
        }
        uint64_t seq = UINT64_MAX;
        rvr_packet_get_u64(p, "seq", &seq);
        const uint8_t *pad = NULL;
        size_t padn = 0;
        if (size > 0 && (rvr_packet_get_bytes(p, "pad", &pad, &padn) != RVR_OK || padn != size)) {
            fprintf(stderr, "net_node: expect: seq %llu has %zu bytes of pad, not %llu\n",
                    (unsigned long long)seq, padn, (unsigned long long)size);
            ok = false;
        }
        size_t j;
        for (j = 0; j < k; j++)
            if (rvr_uuid_eq(&rvr_list_get(from, j)->as.uuid, rvr_packet_src(p)))
                break;
        if (j == k || seq != next[j]) {
            fprintf(stderr, "net_node: expect: sender %zu sent seq %llu, expected %llu\n", j,
                    (unsigned long long)seq, j < k ? (unsigned long long)next[j] : 0ull);
            ok = false;
        } else {
            next[j]++;
        }
        got++;
        rvr_packet_free(p);
        size_t waiting = rvr_pending(self);
        most = waiting > most ? waiting : most;
        if (delay_us > 0)
            usleep((useconds_t)delay_us);
    }
    rvr_match_free(m);
    free(next);
    rvr_packet *r = rvr_packet_new("expect.done");
    rvr_packet_set_bool(r, "ok", ok);
    rvr_packet_set_u64(r, "got", got);
    rvr_packet_set_u64(r, "most", most);
    reply(self, rvr_packet_src(cmd), r);
}

static void do_stream(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid to;
    rvr_packet_get_uuid(cmd, "to", &to);
    for (uint64_t i = 0; !rvr_stopping(self); i++) {
        rvr_packet *p = rvr_packet_new("flood");
        rvr_packet_set_u64(p, "seq", i);
        if (rvr_send(self, &to, p) != RVR_OK)
            rvr_packet_free(p);
        usleep(1000);
    }
}

static void do_wait_on(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid from;
    int64_t ms = 1000;
    rvr_packet_get_uuid(cmd, "from", &from);
    rvr_packet_get_i64(cmd, "ms", &ms);
    rvr_match *m = rvr_match_new();
    rvr_match_src(m, &from);
    rvr_match_tag(m, "never");
    rvr_packet *p = NULL;
    rvr_status st = rvr_recv(self, m, (int)ms, &p);
    rvr_packet_free(p);
    rvr_match_free(m);
    rvr_packet *r = rvr_packet_new("wait_on.done");
    rvr_packet_set_i64(r, "status", st);
    reply(self, rvr_packet_src(cmd), r);
}

static void do_brief(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid id;
    char to[RVR_UUID_STRLEN];
    brief_args args = { rvr_uuid_str(rvr_packet_src(cmd), to) };
    rvr_status st = rvr_spawn(self, NULL, &brief_type, &args, &id);
    for (int i = 0; i < 10000; i++) {
        rvr_uuid *ids;
        size_t n;
        bool alive = false;
        if (rvr_list_vrs(self, &ids, &n) == RVR_OK) {
            for (size_t j = 0; j < n; j++)
                alive |= rvr_uuid_eq(&ids[j], &id);
            free(ids);
        }
        if (!alive)
            break;
        usleep(1000);
    }
    rvr_packet *r = rvr_packet_new("brief.done");
    rvr_packet_set_uuid(r, "vr", &id);
    rvr_packet_set_i64(r, "status", st);
    reply(self, rvr_packet_src(cmd), r);
}

static void do_mix(rvr_vr *self, const rvr_packet *cmd)
{
    static const char *const tags[] = { "a", "b", "c" };
    rvr_uuid to;
    rvr_packet_get_uuid(cmd, "to", &to);
    for (int k = 1; k <= 6; k++) {
        rvr_packet *p = rvr_packet_new(tags[(k - 1) % 3]);
        rvr_packet_set_i64(p, "k", k);
        reply(self, &to, p);
    }
    reply(self, &to, rvr_packet_new("mix.done"));
}

static bool not_seq(const rvr_packet *p, void *ctx)
{
    (void)ctx;
    return strcmp(rvr_packet_tag(p), "seq") != 0;
}

static int node_main(rvr_vr *self, const void *argp)
{
    const node_args *a = argp;
    rvr_uuid boss;
    if (a->boss == NULL || rvr_uuid_parse(a->boss, &boss) != RVR_OK) {
        fprintf(stderr, "net_node: --boss=UUID needed\n");
        return 2;
    }
    char addr[RVR_ADDR_MAX];
    rvr_vm_address(self, addr, sizeof addr);
    rvr_packet *r = rvr_packet_new("ready");
    rvr_packet_set_str(r, "name", a->name ? a->name : "?");
    rvr_packet_set_str(r, "addr", addr);
    rvr_packet_set_uuid(r, "vm", rvr_vm_id(self));
    rvr_status st = rvr_send(self, &boss, r);
    if (st != RVR_OK) {
        fprintf(stderr, "net_node: cannot reach the boss: %s\n", rvr_strerror(st));
        rvr_packet_free(r);
        return 1;
    }
    /* Commands only: "seq" packets wait for the "expect" they belong to,
     * even when they arrive before it. */
    rvr_match *commands = rvr_match_new();
    rvr_match_fn(commands, not_seq, NULL);
    for (;;) {
        rvr_packet *p;
        if (rvr_recv(self, commands, RVR_FOREVER, &p) != RVR_OK) {
            rvr_match_free(commands);
            return 0;
        }
        const char *tag = rvr_packet_tag(p);
        if (strcmp(tag, "stop") == 0) {
            rvr_packet_free(p);
            rvr_match_free(commands);
            return 0;
        } else if (strcmp(tag, "echo") == 0) {
            rvr_packet *e = rvr_packet_copy(p);
            rvr_packet_set_tag(e, "echo.reply");
            reply(self, rvr_packet_src(p), e);
        } else if (strcmp(tag, "ping") == 0) {
            reply(self, rvr_packet_src(p), rvr_packet_new("pong"));
        } else if (strcmp(tag, "burst") == 0) {
            do_burst(self, p);
        } else if (strcmp(tag, "expect") == 0) {
            do_expect(self, p);
        } else if (strcmp(tag, "stream") == 0) {
            do_stream(self, p);
        } else if (strcmp(tag, "wait_on") == 0) {
            do_wait_on(self, p);
        } else if (strcmp(tag, "brief") == 0) {
            do_brief(self, p);
        } else if (strcmp(tag, "mix") == 0) {
            do_mix(self, p);
        }
        rvr_packet_free(p);
    }
}

static RVR_VR_TYPE(node_type, "tests.NetNode", node_main, node_args, defaults, descs);

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &node_type);
}
