/* river_ctl.c — `river ps`, `river send`, `river kill`.
 *
 * Each runs a short-lived VM (no discovery endpoint of its own, so it never
 * shows in `river vms`): it finds the VMs (the --vm addresses, else a
 * discovery probe like `river vms`), connects to them, and uses the control
 * plane (runtime/control.h: ops ping, ps, kill) and ordinary sends.
 *
 * Exit status: 0 success, 1 failure (no such VR, unreachable VM ...), 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "river_cli.h"
#include "vm.h"

#define MAX_VMS 256

static struct {
    const char *cmd;
    bool json;
    int timeout;
    long count;
    const char *vms[MAX_VMS];
    size_t nvms;
    rvr_disc_config disc;
    const char *peers[RVR_DISC_MAX_PEERS];
    bool have_target;
    rvr_uuid target;
    char **kv;
    int nkv;
} O;

static void vm_usage(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "ps") == 0)
        fprintf(f, "usage: %s ps [OPTIONS]\n\n"
                "Lists the VRs running on each VM: UUID, type name, parent, messages queued.\n", prog);
    else if (strcmp(cmd, "send") == 0)
        fprintf(f, "usage: %s send [OPTIONS] UUID tag=TAG [KEY=VALUE...]\n\n"
                "Sends a dynamic packet tagged TAG to the VR UUID, wherever it runs.  A VALUE's\n"
                "type follows its syntax:\n"
                "  42, -7           int             42u            uint\n"
                "  3.5, 1e-3        double          true, false    bool\n"
                "  \"text\"           string (quote it for the shell: 'msg=\"two words\"')\n"
                "  8-4-4-4-12 hex   uuid            anything else  string\n"
                "It succeeds once the VR's VM has accepted the message (exit 1 if that VM reports\n"
                "no such VR).\n", prog);
    else
        fprintf(f, "usage: %s kill [OPTIONS] UUID\n\n"
                "Asks the VR UUID to stop: its VM closes the VR's mailbox, so its receives return\n"
                "RVR_ECLOSED (and sends to it fail); the VR is expected to return then.\n", prog);
    fprintf(f, "\nOptions:\n"
            "  --vm HOST:PORT        talk to this VM (repeatable) instead of discovering VMs\n"
            "  --timeout MS          discovery and each request (default 2000)\n"
            "  --count N             stop discovering once N VMs have answered\n"
            "  --peer HOST:PORT      a seed peer for discovery (repeatable)\n"
            "  --mcast-group G, --mcast-port P, --mcast-if IF   as for `%s vms`\n"
            "  --json                JSON output for scripts\n"
            "  --log-level L         error, warn, info or debug (default warn)\n"
            "  --help                this text\n", prog);
}

/* ---- finding and reaching VMs ---------------------------------------------- */

/* The addresses to talk to: --vm, or whoever answers a probe. */
static size_t find_vms(char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < O.nvms && n < max; i++)
        out[n++] = strdup(O.vms[i]);
    if (O.nvms > 0)
        return n;
    rvr_vm_info *v;
    size_t k;
    rvr_vm_filter *f = rvr_vm_filter_new();
    if (f != NULL)
        rvr_vm_filter_limit(f, (size_t)O.count);
    rvr_status st = f != NULL ? rvr_discover_standalone(&O.disc, f, O.timeout, &v, &k) : RVR_ENOMEM;
    rvr_vm_filter_free(f);
    if (st != RVR_OK) {
        fprintf(stderr, "%s %s: discovery failed: %s\n", prog, O.cmd, rvr_strerror(st));
        return 0;
    }
    for (size_t i = 0; i < k && n < max; i++)
        out[n++] = strdup(v[i].address);
    rvr_vm_info_free(v, k);
    return n;
}

/* Connects to every VM found, so a send or a WHOIS can reach them. */
static size_t connect_all(rvr_vr *self, char **addrs)
{
    size_t n = find_vms(addrs, MAX_VMS), up = 0;
    for (size_t i = 0; i < n; i++) {
        rvr_uuid id;
        rvr_status st = rvr_vm_connect(self, addrs[i], O.timeout, &id);
        if (st == RVR_OK)
            up++;
        else
            RVR_LOG(RVR_LOG_WARN, "cannot reach the VM at %s: %s", addrs[i], rvr_strerror(st));
    }
    return up;
}

static void free_addrs(char **a)
{
    for (size_t i = 0; i < MAX_VMS && a[i] != NULL; i++)
        free(a[i]);
}

/* ---- ps ------------------------------------------------------------------------ */

static int run_ps(rvr_vr *self)
{
    char *addrs[MAX_VMS] = { NULL };
    size_t n = find_vms(addrs, MAX_VMS);
    int rc = 0;
    if (O.json)
        printf("[\n");
    else if (n == 0)
        printf("no VMs found\n");
    for (size_t i = 0; i < n; i++) {
        rvr_packet *r = NULL;
        rvr_status st = rvr_ctl_call(self->vm, addrs[i], rvr_ctl_request_new("ps"), O.timeout, &r);
        const rvr_list *vrs = NULL;
        rvr_uuid vm;
        char id[RVR_UUID_STRLEN];
        if (st == RVR_OK && (rvr_packet_get_list(r, "vrs", &vrs) != RVR_OK ||
                             rvr_packet_get_uuid(r, "vm", &vm) != RVR_OK))
            st = RVR_EPROTO;
        if (st != RVR_OK) {
            rc = 1;
            if (O.json) {
                printf("{\"address\":");
                json_str(stdout, addrs[i], strlen(addrs[i]));
                printf(",\"error\":\"%s\"}%s\n", rvr_strerror(st), i + 1 < n ? "," : "");
            } else {
                printf("VM at %s: %s\n", addrs[i], rvr_strerror(st));
            }
            rvr_packet_free(r);
            continue;
        }
        if (O.json) {
            printf("{\"vm\":\"%s\",\"address\":", rvr_uuid_str(&vm, id));
            json_str(stdout, addrs[i], strlen(addrs[i]));
            printf(",\"vrs\":");
            rvr_value lv = { .type = RVR_T_LIST, .as.list = (rvr_list *)vrs };
            json_value(stdout, &lv);
            printf("}%s\n", i + 1 < n ? "," : "");
        } else {
            size_t k = rvr_list_len(vrs);
            printf("%sVM %s  %s  (%zu VR%s)\n", i ? "\n" : "", rvr_uuid_str(&vm, id), addrs[i], k,
                   k == 1 ? "" : "s");
            printf("  %-36s  %-24s  %7s  %s\n", "VR", "TYPE", "PENDING", "PARENT");
            for (size_t j = 0; j < k; j++) {
                const rvr_value *e = rvr_list_get(vrs, j);
                if (e->type != RVR_T_MAP)
                    continue;
                char vr[64], type[128], pending[32], parent[64];
                text_value(type, sizeof type, rvr_map_get(e->as.map, "type"));
                text_value(pending, sizeof pending, rvr_map_get(e->as.map, "pending"));
                const rvr_value *u = rvr_map_get(e->as.map, "id");
                snprintf(vr, sizeof vr, "%s", u && u->type == RVR_T_UUID ? rvr_uuid_str(&u->as.uuid, id) : "?");
                u = rvr_map_get(e->as.map, "parent");
                snprintf(parent, sizeof parent, "%s",
                         u && u->type == RVR_T_UUID && !rvr_uuid_is_nil(&u->as.uuid)
                             ? rvr_uuid_str(&u->as.uuid, id) : "-");
                printf("  %-36s  %-24s  %7s  %s\n", vr, type, pending, parent);
            }
        }
        rvr_packet_free(r);
    }
    if (O.json)
        printf("]\n");
    free_addrs(addrs);
    return rc;
}

/* ---- send ---------------------------------------------------------------------- */

/* A value typed by its syntax (see vm_usage). */
static rvr_status parse_value(const char *s, rvr_value *v)
{
    size_t n = strlen(s);
    char *end;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        return rvr_value_strn(v, s + 1, n - 2);
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *v = rvr_value_bool(s[0] == 't');
        return RVR_OK;
    }
    rvr_uuid u;
    if (rvr_uuid_parse(s, &u) == RVR_OK) {
        *v = rvr_value_uuid(&u);
        return RVR_OK;
    }
    if (n > 1 && s[n - 1] == 'u' && s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno == 0 && end == s + n - 1) {
            *v = rvr_value_u64(x);
            return RVR_OK;
        }
    }
    if (n > 0 && ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+')) {
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0') {
            *v = rvr_value_i64(x);
            return RVR_OK;
        }
        errno = 0;
        unsigned long long ux = strtoull(s, &end, 10);
        if (s[0] != '-' && errno == 0 && *end == '\0') {
            *v = rvr_value_u64(ux);   /* above INT64_MAX */
            return RVR_OK;
        }
        double d = strtod(s, &end);
        if (*end == '\0') {
            *v = rvr_value_f64(d);
            return RVR_OK;
        }
    }
    return rvr_value_str(v, s);
}

static rvr_packet *build_packet(void)
{
    const char *tag = NULL;
    for (int i = 0; i < O.nkv; i++)
        if (strncmp(O.kv[i], "tag=", 4) == 0)
            tag = O.kv[i] + 4;
    rvr_packet *p = tag != NULL ? rvr_packet_new(tag) : NULL;
    if (p == NULL) {
        fprintf(stderr, "%s send: %s\n", prog, tag == NULL ? "tag=TAG is required" : "bad tag");
        return NULL;
    }
    for (int i = 0; i < O.nkv; i++) {
        char *eq = strchr(O.kv[i], '=');
        if (eq == NULL || eq == O.kv[i]) {
            fprintf(stderr, "%s send: '%s' is not KEY=VALUE\n", prog, O.kv[i]);
            rvr_packet_free(p);
            return NULL;
        }
        if (strncmp(O.kv[i], "tag=", 4) == 0)
            continue;
        *eq = '\0';
        rvr_value v = { RVR_T_NONE };
        rvr_status st = parse_value(eq + 1, &v);
        if (st == RVR_OK && (st = rvr_packet_set(p, O.kv[i], &v)) != RVR_OK)
            rvr_value_clear(&v);
        *eq = '=';
        if (st != RVR_OK) {
            fprintf(stderr, "%s send: '%s': %s\n", prog, O.kv[i], rvr_strerror(st));
            rvr_packet_free(p);
            return NULL;
        }
    }
    return p;
}

/* Where the target VR runs, after connecting to every VM found. */
static rvr_status locate(rvr_vr *self, rvr_uuid *vm)
{
    char *addrs[MAX_VMS] = { NULL };
    connect_all(self, addrs);
    free_addrs(addrs);
    return rvr_locate(self, &O.target, O.timeout, vm);
}

static void report(rvr_status st, const rvr_uuid *vm, const char *what, const char *why)
{
    char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN];
    rvr_uuid_str(&O.target, a);
    if (O.json) {
        printf("{\"vr\":\"%s\",\"ok\":%s", a, st == RVR_OK ? "true" : "false");
        if (vm != NULL)
            printf(",\"vm\":\"%s\"", rvr_uuid_str(vm, b));
        if (st != RVR_OK) {
            printf(",\"error\":");
            json_str(stdout, why, strlen(why));
        }
        printf("}\n");
    } else if (st == RVR_OK) {
        printf("%s VR %s on VM %s\n", what, a, rvr_uuid_str(vm, b));
    } else {
        fprintf(stderr, "%s %s: VR %s: %s\n", prog, O.cmd, a, why);
    }
}

static int run_send(rvr_vr *self)
{
    rvr_packet *p = build_packet();
    if (p == NULL)
        return 2;
    rvr_uuid vm;
    rvr_status st = locate(self, &vm);
    if (st != RVR_OK) {
        rvr_packet_free(p);
        report(st, NULL, NULL, st == RVR_ENOTFOUND ? "no VM found that runs it" : rvr_strerror(st));
        return 1;
    }
    if ((st = rvr_send(self, &O.target, p)) != RVR_OK) {
        rvr_packet_free(p);
        report(st, &vm, NULL, rvr_strerror(st));
        return 1;
    }
    /* The VM answers a ping after it has handled the message: a notice, if
     * any, is here by then. */
    char id[RVR_UUID_STRLEN];
    rvr_packet *r = NULL;
    st = rvr_ctl_call(self->vm, rvr_uuid_str(&vm, id), rvr_ctl_request_new("ping"), O.timeout, &r);
    rvr_packet_free(r);
    rvr_match *m = rvr_match_new();
    rvr_match_tag(m, "river.undeliverable");
    rvr_packet *note = NULL;
    if (st == RVR_OK && rvr_recv(self, m, 0, &note) == RVR_OK) {
        const char *why = "undeliverable";
        rvr_packet_get_str(note, "reason", &why, NULL);
        report(RVR_ENOTFOUND, &vm, NULL, why);
        st = RVR_ENOTFOUND;
    } else if (st != RVR_OK) {
        report(st, &vm, NULL, "its VM did not confirm the delivery");
    } else {
        report(RVR_OK, &vm, "sent to", NULL);
    }
    rvr_packet_free(note);
    rvr_match_free(m);
    return st == RVR_OK ? 0 : 1;
}

/* ---- kill ---------------------------------------------------------------------- */

static int run_kill(rvr_vr *self)
{
    rvr_uuid vm;
    rvr_status st = locate(self, &vm);
    if (st != RVR_OK) {
        report(st, NULL, NULL, st == RVR_ENOTFOUND ? "no VM found that runs it" : rvr_strerror(st));
        return 1;
    }
    char id[RVR_UUID_STRLEN];
    rvr_packet *req = rvr_ctl_request_new("kill"), *r = NULL;
    if (req != NULL)
        rvr_packet_set_uuid(req, "vr", &O.target);
    st = rvr_ctl_call(self->vm, rvr_uuid_str(&vm, id), req, O.timeout, &r);
    const char *why = rvr_strerror(st);
    if (r != NULL)
        rvr_packet_get_str(r, "error", &why, NULL);
    report(st, &vm, "asked to stop:", why);
    rvr_packet_free(r);
    return st == RVR_OK ? 0 : 1;
}

/* ---- the command's VM ------------------------------------------------------------- */

static int cli_main(rvr_vr *self, const void *args)
{
    (void)args;
    if (strcmp(O.cmd, "ps") == 0)
        return run_ps(self);
    return strcmp(O.cmd, "send") == 0 ? run_send(self) : run_kill(self);
}

static RVR_VR_TYPE_NOARGS(cli_type, "river.Cli", cli_main);

int cmd_vm(int argc, char **argv)
{
    O.cmd = argv[0];
    O.timeout = 2000;
    O.kv = calloc((size_t)argc + 1, sizeof *O.kv);
    if (O.kv == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            vm_usage(stdout, O.cmd);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            O.json = true;
        } else if ((v = optval(argc, argv, &i, "--timeout")) != NULL) {
            O.timeout = (int)number("--timeout", v, 0, 3600000);
        } else if ((v = optval(argc, argv, &i, "--count")) != NULL) {
            O.count = number("--count", v, 1, RVR_DISC_MAX_RESULTS);
        } else if ((v = optval(argc, argv, &i, "--vm")) != NULL) {
            if (O.nvms < MAX_VMS)
                O.vms[O.nvms++] = v;
        } else if ((v = optval(argc, argv, &i, "--peer")) != NULL) {
            if (O.disc.npeers < RVR_DISC_MAX_PEERS)
                O.peers[O.disc.npeers++] = v;
        } else if ((v = optval(argc, argv, &i, "--mcast-group")) != NULL) {
            O.disc.group = v;
        } else if ((v = optval(argc, argv, &i, "--mcast-port")) != NULL) {
            O.disc.port = (uint16_t)number("--mcast-port", v, 1, 65535);
        } else if ((v = optval(argc, argv, &i, "--mcast-if")) != NULL) {
            O.disc.mcast_if = v;
        } else if ((v = optval(argc, argv, &i, "--log-level")) != NULL) {
            if (rvr_log_parse_level(v) < 0) {
                fprintf(stderr, "%s: --log-level: expected error, warn, info or debug\n", prog);
                return 2;
            }
            rvr_log_threshold = rvr_log_parse_level(v);
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "%s %s: unknown option '%s' (see %s %s --help)\n", prog, O.cmd, argv[i],
                    prog, O.cmd);
            return 2;
        } else if (strcmp(O.cmd, "ps") != 0 && !O.have_target) {
            if (rvr_uuid_parse(argv[i], &O.target) != RVR_OK) {
                fprintf(stderr, "%s %s: '%s' is not a VR UUID\n", prog, O.cmd, argv[i]);
                return 2;
            }
            O.have_target = true;
        } else if (strcmp(O.cmd, "send") == 0) {
            O.kv[O.nkv++] = argv[i];
        } else {
            fprintf(stderr, "%s %s: unexpected argument '%s' (see %s %s --help)\n", prog, O.cmd,
                    argv[i], prog, O.cmd);
            return 2;
        }
    }
    if (strcmp(O.cmd, "ps") != 0 && !O.have_target) {
        fprintf(stderr, "%s %s: which VR? (a UUID; see %s %s --help)\n", prog, O.cmd, prog, O.cmd);
        return 2;
    }
    O.disc.peers = O.peers;
    /* The command's own VM: not discoverable, gone when the command is. */
    setenv("RIVER_DISCOVERY", "off", 1);
    char *vm_argv[] = { (char *)prog, NULL };
    int rc = rvr_main(1, vm_argv, &cli_type);
    free(O.kv);
    return rc;
}
