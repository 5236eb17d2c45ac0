/* hosts_node — the program test_hosts.sh runs on the hosts of its network
 * namespaces (linked with tnet_v1.rvr's generated code).
 *
 *   hosts_node --mode=server [VM options]
 *     prints "ready VR-UUID" on stdout, then answers: "echo" with
 *     "echo.reply" (same attributes, plus host=--name), and a typed
 *     tnet.Point with a typed tnet.Point whose x is one more.
 *   hosts_node --mode=client --find=K=V [VM options]
 *     discovers (rvr_discover) the VMs with attribute/label K=V, finds the
 *     tests.HostsServer VR on the first one (control op ps), sends it a
 *     dynamic and a typed message, checks both replies, prints "ok ..."
 *     lines and exits 0 (1 on any failure, with the reason on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "control.h"
#include "tnet_v1.rvr.h"
#include "vm.h"

typedef struct { char *mode; char *find; char *name; int64_t timeout; } hn_args;
static const hn_args defaults = { NULL, NULL, NULL, 30000 };
static const rvr_arg_desc descs[] = {
    { "mode", RVR_ARG_STRING, offsetof(hn_args, mode), NULL, "server or client" },
    { "find", RVR_ARG_STRING, offsetof(hn_args, find), NULL, "client: the server VM's K=V" },
    { "name", RVR_ARG_STRING, offsetof(hn_args, name), NULL, "server: its host name in replies" },
    { "timeout", RVR_ARG_INT64, offsetof(hn_args, timeout), "30000", "client: ms per step" },
};

static int server(rvr_vr *self, const hn_args *a)
{
    char id[RVR_UUID_STRLEN];
    printf("ready %s\n", rvr_uuid_str(rvr_self(self), id));
    fflush(stdout);
    for (;;) {
        rvr_packet *p;
        if (rvr_peek(self, NULL, RVR_FOREVER, &p) != RVR_OK)
            return 0;
        rvr_uuid from = *rvr_packet_src(p);
        if (strcmp(rvr_packet_tag(p), tnet_Point_schema.tag) == 0) {
            rvr_packet_free(p);
            tnet_Point pt;
            if (tnet_Point_recv(self, &pt, NULL, 0) != RVR_OK)
                continue;
            pt.x += 1;
            if (tnet_Point_send(self, &from, &pt) != RVR_OK)
                fprintf(stderr, "hosts_node: cannot answer a Point\n");
            tnet_Point_clear(&pt);
            continue;
        }
        rvr_packet_free(p);
        if (rvr_recv(self, NULL, 0, &p) != RVR_OK)
            continue;
        if (strcmp(rvr_packet_tag(p), "echo") == 0) {
            rvr_packet_set_tag(p, "echo.reply");
            rvr_packet_set_str(p, "host", a->name ? a->name : "?");
            if (rvr_send(self, &from, p) == RVR_OK)
                p = NULL;
        }
        rvr_packet_free(p);
    }
}

static int fail(const char *what, rvr_status st)
{
    fprintf(stderr, "hosts_node: %s: %s\n", what, rvr_strerror(st));
    return 1;
}

static int client(rvr_vr *self, const hn_args *a)
{
    int ms = (int)a->timeout;
    rvr_vm_filter *f = rvr_vm_filter_new();
    rvr_status st = a->find ? rvr_vm_filter_parse(f, a->find) : RVR_EINVAL;
    if (st != RVR_OK)
        return fail("--find", st);
    rvr_vm_filter_limit(f, 1);
    rvr_vm_info *vms = NULL;
    size_t n = 0;
    st = rvr_discover(self, f, ms, &vms, &n);
    rvr_vm_filter_free(f);
    if (st != RVR_OK || n == 0)
        return fail("rvr_discover found no server VM", st != RVR_OK ? st : RVR_ENOTFOUND);
    printf("ok discovered %s\n", vms[0].address);
    /* Which VR is the server: ask its VM. */
    rvr_packet *r = NULL;
    st = rvr_ctl_call(self->vm, vms[0].address, rvr_ctl_request_new("ps"), ms, &r);
    rvr_vm_info_free(vms, n);
    const rvr_list *vrs = NULL;
    rvr_uuid srv = { { 0 } };
    if (st != RVR_OK || rvr_packet_get_list(r, "vrs", &vrs) != RVR_OK)
        return fail("ps", st);
    for (size_t i = 0; i < rvr_list_len(vrs); i++) {
        const rvr_map *m = rvr_list_get(vrs, i)->as.map;
        const rvr_value *t = rvr_map_get(m, "type"), *id = rvr_map_get(m, "id");
        if (t && id && strcmp(t->as.str.ptr, "tests.HostsServer") == 0)
            srv = id->as.uuid;
    }
    rvr_packet_free(r);
    if (rvr_uuid_is_nil(&srv))
        return fail("no tests.HostsServer VR on that VM", RVR_ENOTFOUND);
    printf("ok ps found the server VR\n");
    /* Dynamic, there and back. */
    rvr_packet *p = rvr_packet_new("echo");
    rvr_packet_set_i64(p, "n", 7);
    if ((st = rvr_send(self, &srv, p)) != RVR_OK)
        return fail("send echo", st);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "echo.reply");
    rvr_match_src(m, &srv);
    st = rvr_recv(self, m, ms, &p);
    rvr_match_free(m);
    int64_t v = 0;
    const char *host = "?";
    if (st != RVR_OK || rvr_packet_get_i64(p, "n", &v) != RVR_OK || v != 7)
        return fail("echo reply", st != RVR_OK ? st : RVR_EPROTO);
    rvr_packet_get_str(p, "host", &host, NULL);
    printf("ok dynamic reply from %s\n", host);
    rvr_packet_free(p);
    /* Typed, there and back. */
    tnet_Point pt;
    tnet_Point_init(&pt);
    pt.x = 41;
    pt.label = strdup("across hosts");
    if ((st = tnet_Point_send(self, &srv, &pt)) != RVR_OK)
        return fail("send Point", st);
    rvr_match *from = rvr_match_new();
    rvr_match_src(from, &srv);
    st = tnet_Point_recv(self, &pt, from, ms);
    rvr_match_free(from);
    if (st != RVR_OK || pt.x != 42 || pt.label == NULL || strcmp(pt.label, "across hosts") != 0)
        return fail("typed reply", st != RVR_OK ? st : RVR_EPROTO);
    tnet_Point_clear(&pt);
    printf("ok typed reply\n");
    return 0;
}

static int hn_main(rvr_vr *self, const void *argp)
{
    const hn_args *a = argp;
    if (a->mode != NULL && strcmp(a->mode, "server") == 0)
        return server(self, a);
    if (a->mode != NULL && strcmp(a->mode, "client") == 0)
        return client(self, a);
    fprintf(stderr, "hosts_node: --mode=server or --mode=client\n");
    return 2;
}

static RVR_VR_TYPE(hn_type, "tests.HostsServer", hn_main, hn_args, defaults, descs);

int main(int argc, char **argv)
{
    return rvr_main(argc, argv, &hn_type);
}
