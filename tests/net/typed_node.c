/* typed_node — a VM that test_typed starts as a child process, built twice:
 * typed_node_v1 against tnet_v1.rvr and typed_node_v2 against tnet_v2.rvr
 * (TNET_V).  Its initial VR reports "ready" to --boss like net_node, then
 * obeys:
 *
 *   send_point to k   sends a typed tnet.Point (values derived from k, extra
 *                     attributes host="node" and k) to `to`; replies
 *                     "send_point.done" {status}
 *   recv_point ms     peeks at the next tnet.Point to see how it arrived
 *                     (typed with this program's schema or dynamic), receives
 *                     it with tnet_Point_recv and replies "point": every field
 *                     and extra attribute as rvr_typed_to_map shows them, plus
 *                     _typed (bool), _version (int) and _status (int)
 *   send_mix to n     sends n rounds to `to`, back to back (they share
 *                     frames): a dynamic "mix.d" {seq i}, from round n/4 a
 *                     tnet.Point (from k = i), from n/2 a tnet.Tally {n i,
 *                     who "node"}: each schema first used amid a stream;
 *                     replies "send_mix.done" {status}
 *   stop              returns */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#if TNET_V == 1
#include "tnet_v1.rvr.h"
#else
#include "tnet_v2.rvr.h"
#endif
#include "convert.h"
#include "packet_impl.h"

typedef struct { char *boss; char *name; } node_args;
static const node_args defaults = { NULL, NULL };
static const rvr_arg_desc descs[] = {
    { "boss", RVR_ARG_STRING, offsetof(node_args, boss), NULL, "VR to report to" },
    { "name", RVR_ARG_STRING, offsetof(node_args, name), NULL, "name in reports" },
};

static char *dup_str(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (d != NULL)
        strcpy(d, s);
    return d;
}

/* The values test_typed expects, from k. */
static void fill_point(tnet_Point *pt, int64_t k)
{
    char buf[64];
    tnet_Point_init(pt);
    pt->x = (int32_t)(-10 * k);
    pt->y = (int32_t)(20 * k);
    snprintf(buf, sizeof buf, "label %lld", (long long)k);
#if TNET_V == 1
    pt->label = dup_str(buf);
    pt->old_flag = true;
#else
    pt->title = dup_str(buf);
    pt->added = 1000 + k;
    pt->moved = dup_str("moved here");
#endif
    pt->score = 1.5 * (double)k;
    pt->color = tnet_Color_BLUE;
    pt->leaf.name = dup_str("leaf");
    pt->leaf.weight = -k;
    pt->counts_count = 3;
    pt->counts = calloc(3, sizeof *pt->counts);
    for (int i = 0; i < 3; i++)
        pt->counts[i] = (uint64_t)(k + i) << 40;
    pt->tags_count = 2;
    pt->tags = calloc(2, sizeof *pt->tags);
    pt->tags[0] = dup_str("α");
    pt->tags[1] = dup_str("beta");
    pt->blob.len = 5;
    pt->blob.data = malloc(5);
    memcpy(pt->blob.data, "b\0l\0b", 5);
    memset(pt->id.bytes, (int)k, sizeof pt->id.bytes);
    rvr_value_str(&pt->note, "any note");
    pt->leaves_count = 2;
    pt->leaves = calloc(2, sizeof *pt->leaves);
    for (int i = 0; i < 2; i++) {
        tnet_Leaf_init(&pt->leaves[i]);
        pt->leaves[i].name = dup_str(i ? "second" : "first");
        pt->leaves[i].weight = i;
    }
    pt->ratio = 0.25f;
    pt->extra = rvr_map_new();
    rvr_value v;
    rvr_value_str(&v, "node");
    rvr_map_set(pt->extra, "host", &v);
    v = rvr_value_i64(k);
    rvr_map_set(pt->extra, "k", &v);
}

static void reply(rvr_vr *self, const rvr_uuid *to, rvr_packet *p)
{
    if (p != NULL && rvr_send(self, to, p) != RVR_OK) {
        fprintf(stderr, "typed_node: cannot reply %s\n", rvr_packet_tag(p));
        rvr_packet_free(p);
    }
}

static void do_send(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid to;
    int64_t k = 1;
    rvr_packet_get_uuid(cmd, "to", &to);
    rvr_packet_get_i64(cmd, "k", &k);
    tnet_Point pt;
    fill_point(&pt, k);
    rvr_status st = tnet_Point_send(self, &to, &pt);
    tnet_Point_clear(&pt);
    rvr_packet *r = rvr_packet_new("send_point.done");
    rvr_packet_set_i64(r, "status", st);
    reply(self, rvr_packet_src(cmd), r);
}

static void do_mix(rvr_vr *self, const rvr_packet *cmd)
{
    rvr_uuid to;
    int64_t n = 0;
    rvr_packet_get_uuid(cmd, "to", &to);
    rvr_packet_get_i64(cmd, "n", &n);
    rvr_status st = RVR_OK;
    for (int64_t i = 0; i < n && st == RVR_OK; i++) {
        rvr_packet *d = rvr_packet_new("mix.d");
        rvr_packet_set_i64(d, "seq", i);
        if ((st = rvr_send(self, &to, d)) == RVR_OK)
            d = NULL;
        rvr_packet_free(d);
        if (st == RVR_OK && i >= n / 4) {
            tnet_Point pt;
            fill_point(&pt, i);
            st = tnet_Point_send(self, &to, &pt);
            tnet_Point_clear(&pt);
        }
        if (st == RVR_OK && i >= n / 2) {
            tnet_Tally tally;
            tnet_Tally_init(&tally);
            tally.n = (uint64_t)i;
            tally.who = dup_str("node");
            st = tnet_Tally_send(self, &to, &tally);
            tnet_Tally_clear(&tally);
        }
    }
    rvr_packet *r = rvr_packet_new("send_mix.done");
    rvr_packet_set_i64(r, "status", st);
    reply(self, rvr_packet_src(cmd), r);
}

static void do_recv(rvr_vr *self, const rvr_packet *cmd)
{
    int64_t ms = 10000;
    rvr_packet_get_i64(cmd, "ms", &ms);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, tnet_Point_schema.tag);
    rvr_packet *peeked = NULL;
    bool typed = false;
    rvr_status st = rvr_peek(self, m, (int)ms, &peeked);
    if (st == RVR_OK) {
        /* A copy is dynamic, but names the schema of a typed original. */
        typed = peeked->schema == &tnet_Point_schema;
        rvr_packet_free(peeked);
    }
    rvr_match_free(m);
    rvr_packet *r = rvr_packet_new("point");
    tnet_Point pt;
    if (st == RVR_OK && (st = tnet_Point_recv(self, &pt, NULL, 0)) == RVR_OK) {
        rvr_map *attrs = rvr_map_new();
        st = rvr_typed_to_map(&tnet_Point_schema, &pt, attrs);
        const char *k;
        const rvr_value *v;
        for (size_t i = 0; st == RVR_OK && rvr_map_at(attrs, i, &k, &v) == RVR_OK; i++) {
            rvr_value c;
            rvr_value_copy(&c, v);
            rvr_packet_set(r, k, &c);
        }
        rvr_map_free(attrs);
        tnet_Point_clear(&pt);
    }
    rvr_packet_set_bool(r, "_typed", typed);
    rvr_packet_set_i64(r, "_version", TNET_V);
    rvr_packet_set_i64(r, "_status", st);
    reply(self, rvr_packet_src(cmd), r);
}

/* Commands: anything from the boss but a tnet.Point (those wait for recv_point). */
static bool is_command(const rvr_packet *p, void *ctx)
{
    (void)ctx;
    return strcmp(rvr_packet_tag(p), tnet_Point_schema.tag) != 0;
}

static int node_main(rvr_vr *self, const void *argp)
{
    const node_args *a = argp;
    rvr_uuid boss;
    if (a->boss == NULL || rvr_uuid_parse(a->boss, &boss) != RVR_OK) {
        fprintf(stderr, "typed_node: --boss=UUID needed\n");
        return 2;
    }
    char addr[RVR_ADDR_MAX];
    rvr_vm_address(self, addr, sizeof addr);
    rvr_packet *r = rvr_packet_new("ready");
    rvr_packet_set_str(r, "name", a->name ? a->name : "?");
    rvr_packet_set_str(r, "addr", addr);
    rvr_packet_set_uuid(r, "vm", rvr_vm_id(self));
    if (rvr_send(self, &boss, r) != RVR_OK) {
        rvr_packet_free(r);
        return 1;
    }
    rvr_match *cmds = rvr_match_new();
    rvr_match_src(cmds, &boss);
    rvr_match_fn(cmds, is_command, NULL);
    for (;;) {
        rvr_packet *p;
        if (rvr_recv(self, cmds, RVR_FOREVER, &p) != RVR_OK)
            break;
        const char *tag = rvr_packet_tag(p);
        bool stop = strcmp(tag, "stop") == 0;
        if (strcmp(tag, "send_point") == 0)
            do_send(self, p);
        else if (strcmp(tag, "send_mix") == 0)
            do_mix(self, p);
        else if (strcmp(tag, "recv_point") == 0)
            do_recv(self, p);
        rvr_packet_free(p);
        if (stop)
            break;
    }
    rvr_match_free(cmds);
    return 0;
}

static RVR_VR_TYPE(node_type, "tests.TypedNode", node_main, node_args, defaults, descs);

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &node_type);
}
