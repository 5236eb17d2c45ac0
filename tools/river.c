/* river.c — the River command-line client.
 *
 *   river vms    discover VMs and list them with their attributes
 *   river ps     list the VRs of each VM (river_ctl.c)
 *   river send   send a dynamic packet to a VR (river_ctl.c)
 *   river kill   ask a VR to stop (river_ctl.c)
 *
 * Exit status: 0 on success, 1 when the command failed (or `vms --count N`
 * found fewer than N), 2 for a usage error (ps, send and kill: see river_ctl.c). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <river/river.h>

#include "log.h"
#include "river_cli.h"
#include "river_keygen.h"

const char *prog = "river";

static void usage(FILE *f)
{
    fprintf(f,
        "usage: %s [--help] COMMAND [OPTIONS]\n"
        "\n"
        "Commands:\n"
        "  vms     discover the VMs on the LAN and through seed peers; list them\n"
        "  ps      list the VRs of each VM (with their type names)\n"
        "  send    send a dynamic packet to a VR: river send UUID tag=T key=value...\n"
        "  kill    ask a VR to stop (its receives return RVR_ECLOSED)\n"
        "  keygen  write a new cluster secret (mode 0600): river keygen [--force] FILE\n"
        "\n"
        "`%s COMMAND --help` describes each command.\n"
        "Environment: RIVER_PEERS (comma-separated host:port seeds), RIVER_MCAST_GROUP,\n"
        "RIVER_MCAST_PORT, RIVER_MCAST_IF, RIVER_LOG (error|warn|info|debug).\n", prog, prog);
}

static void vms_usage(FILE *f)
{
    fprintf(f,
        "usage: %s vms [OPTIONS]\n"
        "\n"
        "Sends a discovery probe (UDP multicast, and unicast to each seed peer), waits\n"
        "for the replies and prints the VMs that answered, one per line.\n"
        "\n"
        "Options:\n"
        "  --timeout MS          how long to wait for replies (default 1000)\n"
        "  --count N             stop as soon as N VMs have answered; exit 1 if fewer did\n"
        "  --filter EXPR         keep the VMs where EXPR holds; repeatable (all must hold).\n"
        "                        EXPR is KEY=V, KEY!=V, KEY<X, KEY<=X, KEY>X or KEY>=X; KEY is\n"
        "                        an attribute (host, arch, os, cores, load, mem_free,\n"
        "                        mem_total, user, pid, status, program), a label, uuid\n"
        "                        or address.  Quote it: --filter 'cores>=4'\n"
        "  --peer HOST:PORT      a seed peer to ask (repeatable; adds to RIVER_PEERS)\n"
        "  --mcast-group G       multicast group (default %s; \"off\": seeds only)\n"
        "  --mcast-port P        multicast port (default %d)\n"
        "  --mcast-if IF[,IF]    interfaces to probe on (default: every multicast one)\n"
        "  --json                one JSON array, one VM object per line, for scripts\n"
        "  --log-level L         error, warn, info or debug (default warn)\n"
        "  --help                this text\n", prog, RVR_DISC_DEFAULT_GROUP, RVR_DISC_DEFAULT_PORT);
}

/* ---- printing values ---------------------------------------------------- */

void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void json_value(FILE *f, const rvr_value *v)
{
    char buf[RVR_UUID_STRLEN];
    switch (v->type) {
    case RVR_T_BOOL: fputs(v->as.b ? "true" : "false", f); break;
    case RVR_T_INT: fprintf(f, "%" PRId64, v->as.i); break;
    case RVR_T_UINT: fprintf(f, "%" PRIu64, v->as.u); break;
    case RVR_T_DOUBLE:
        if (isfinite(v->as.d)) fprintf(f, "%.17g", v->as.d); else fputs("null", f);
        break;
    case RVR_T_STRING: json_str(f, v->as.str.ptr, v->as.str.len); break;
    case RVR_T_BYTES:   /* as hex: JSON has no bytes */
        fputc('"', f);
        for (size_t i = 0; i < v->as.bytes.len; i++)
            fprintf(f, "%02x", v->as.bytes.ptr[i]);
        fputc('"', f);
        break;
    case RVR_T_UUID: fprintf(f, "\"%s\"", rvr_uuid_str(&v->as.uuid, buf)); break;
    case RVR_T_LIST:
        fputc('[', f);
        for (size_t i = 0; i < rvr_list_len(v->as.list); i++) {
            if (i > 0) fputc(',', f);
            json_value(f, rvr_list_get(v->as.list, i));
        }
        fputc(']', f);
        break;
    case RVR_T_MAP: {
        fputc('{', f);
        const char *k;
        const rvr_value *e;
        for (size_t i = 0; rvr_map_at(v->as.map, i, &k, &e) == RVR_OK; i++) {
            if (i > 0) fputc(',', f);
            json_str(f, k, strlen(k));
            fputc(':', f);
            json_value(f, e);
        }
        fputc('}', f);
        break;
    }
    default: fputs("null", f);
    }
}

/* A short text form for the table. */
void text_value(char *buf, size_t cap, const rvr_value *v)
{
    buf[0] = '\0';
    if (v == NULL)
        snprintf(buf, cap, "-");
    else if (v->type == RVR_T_STRING)
        snprintf(buf, cap, "%s", v->as.str.ptr);
    else if (v->type == RVR_T_UINT)
        snprintf(buf, cap, "%" PRIu64, v->as.u);
    else if (v->type == RVR_T_INT)
        snprintf(buf, cap, "%" PRId64, v->as.i);
    else if (v->type == RVR_T_DOUBLE)
        snprintf(buf, cap, "%.2f", v->as.d);
    else if (v->type == RVR_T_BOOL)
        snprintf(buf, cap, "%s", v->as.b ? "true" : "false");
    else
        snprintf(buf, cap, "(%s)", rvr_type_name(v->type));
}

static void human_bytes(char *buf, size_t cap, const rvr_value *v)
{
    if (v == NULL || v->type != RVR_T_UINT) {
        text_value(buf, cap, v);
        return;
    }
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double x = (double)v->as.u;
    int u = 0;
    while (x >= 1024 && u < 4)
        x /= 1024, u++;
    snprintf(buf, cap, u == 0 ? "%.0f%s" : "%.1f%s", x, units[u]);
}

static int by_host_address(const void *a, const void *b)
{
    const rvr_vm_info *x = a, *y = b;
    const rvr_value *hx = rvr_map_get(x->attrs, "host"), *hy = rvr_map_get(y->attrs, "host");
    const char *sx = hx != NULL && hx->type == RVR_T_STRING ? hx->as.str.ptr : "";
    const char *sy = hy != NULL && hy->type == RVR_T_STRING ? hy->as.str.ptr : "";
    int c = strcmp(sx, sy);
    return c != 0 ? c : strcmp(x->address, y->address);
}

static void print_table(const rvr_vm_info *v, size_t n)
{
    printf("%-36s  %-21s  %-16s  %-7s  %5s  %6s  %9s  %-10s  %-9s  %-12s  %s\n", "UUID", "ADDRESS",
           "HOST", "ARCH", "CORES", "LOAD", "MEM_FREE", "USER", "STATUS", "PROGRAM", "LABELS");
    for (size_t i = 0; i < n; i++) {
        char id[RVR_UUID_STRLEN], host[64], arch[32], cores[16], load[16], mem[16], user[32],
            status[16], program[64], labels[512] = "";
        const rvr_map *a = v[i].attrs;
        text_value(host, sizeof host, rvr_map_get(a, "host"));
        text_value(arch, sizeof arch, rvr_map_get(a, "arch"));
        text_value(cores, sizeof cores, rvr_map_get(a, "cores"));
        text_value(load, sizeof load, rvr_map_get(a, "load"));
        human_bytes(mem, sizeof mem, rvr_map_get(a, "mem_free"));
        text_value(user, sizeof user, rvr_map_get(a, "user"));
        text_value(status, sizeof status, rvr_map_get(a, "status"));
        text_value(program, sizeof program, rvr_map_get(a, "program"));
        const rvr_value *l = rvr_map_get(a, "labels");
        const char *k;
        const rvr_value *e;
        size_t used = 0;
        for (size_t j = 0; l != NULL && l->type == RVR_T_MAP &&
                           rvr_map_at(l->as.map, j, &k, &e) == RVR_OK && used < sizeof labels; j++) {
            char val[256];
            text_value(val, sizeof val, e);
            used += (size_t)snprintf(labels + used, sizeof labels - used, "%s%s=%s", j ? "," : "", k, val);
        }
        printf("%-36s  %-21s  %-16s  %-7s  %5s  %6s  %9s  %-10s  %-9s  %-12s  %s\n",
               rvr_uuid_str(&v[i].uuid, id), v[i].address, host, arch, cores, load, mem, user,
               status, program, labels[0] ? labels : "-");
    }
}

static void print_json(const rvr_vm_info *v, size_t n)
{
    /* One VM per line, so `grep -c` and line-oriented tools work too. */
    printf("[\n");
    for (size_t i = 0; i < n; i++) {
        char id[RVR_UUID_STRLEN];
        printf("{\"uuid\":\"%s\",\"address\":", rvr_uuid_str(&v[i].uuid, id));
        json_str(stdout, v[i].address, strlen(v[i].address));
        printf(",\"attrs\":");
        rvr_value m = rvr_value_map(v[i].attrs);
        json_value(stdout, &m);
        printf("}%s\n", i + 1 < n ? "," : "");
    }
    printf("]\n");
}

/* ---- commands ------------------------------------------------------------- */

/* "--name value" or "--name=value". */
const char *optval(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, name);
        exit(2);
    }
    return argv[++*i];
}

long number(const char *opt, const char *s, long min, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: %s: '%s' is not a number in %ld..%ld\n", prog, opt, s, min, max);
        exit(2);
    }
    return v;
}

static int cmd_vms(int argc, char **argv)
{
    rvr_disc_config cfg = { 0 };
    const char *peers[RVR_DISC_MAX_PEERS];
    bool json = false;
    int timeout = 1000;
    long count = 0;
    rvr_vm_filter *f = rvr_vm_filter_new();
    if (f == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            vms_usage(stdout);
            rvr_vm_filter_free(f);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((v = optval(argc, argv, &i, "--timeout")) != NULL) {
            timeout = (int)number("--timeout", v, 0, 3600000);
        } else if ((v = optval(argc, argv, &i, "--count")) != NULL) {
            count = number("--count", v, 1, RVR_DISC_MAX_RESULTS);
        } else if ((v = optval(argc, argv, &i, "--filter")) != NULL) {
            rvr_status st = rvr_vm_filter_parse(f, v);
            if (st != RVR_OK) {
                fprintf(stderr, "%s: --filter '%s': %s\n", prog, v,
                        st == RVR_ELIMIT ? "too many conditions or key too long"
                                         : "expected KEY=V, KEY!=V, KEY<X, KEY<=X, KEY>X or KEY>=X");
                rvr_vm_filter_free(f);
                return 2;
            }
        } else if ((v = optval(argc, argv, &i, "--peer")) != NULL) {
            if (cfg.npeers == RVR_DISC_MAX_PEERS) {
                fprintf(stderr, "%s: at most %d --peer\n", prog, RVR_DISC_MAX_PEERS);
                rvr_vm_filter_free(f);
                return 2;
            }
            peers[cfg.npeers++] = v;
        } else if ((v = optval(argc, argv, &i, "--mcast-group")) != NULL) {
            cfg.group = v;
        } else if ((v = optval(argc, argv, &i, "--mcast-port")) != NULL) {
            cfg.port = (uint16_t)number("--mcast-port", v, 1, 65535);
        } else if ((v = optval(argc, argv, &i, "--mcast-if")) != NULL) {
            cfg.mcast_if = v;
        } else if ((v = optval(argc, argv, &i, "--log-level")) != NULL) {
            if (rvr_log_parse_level(v) < 0) {
                fprintf(stderr, "%s: --log-level: expected error, warn, info or debug\n", prog);
                rvr_vm_filter_free(f);
                return 2;
            }
            rvr_log_threshold = rvr_log_parse_level(v);
        } else {
            fprintf(stderr, "%s vms: unknown argument '%s' (see %s vms --help)\n", prog, argv[i], prog);
            rvr_vm_filter_free(f);
            return 2;
        }
    }
    cfg.peers = peers;
    rvr_vm_filter_limit(f, (size_t)count);
    rvr_vm_info *vms;
    size_t n;
    rvr_status st = rvr_discover_standalone(&cfg, f, timeout, &vms, &n);
    rvr_vm_filter_free(f);
    if (st != RVR_OK) {
        fprintf(stderr, "%s vms: discovery failed: %s\n", prog, rvr_strerror(st));
        return 1;
    }
    qsort(vms, n, sizeof *vms, by_host_address);
    if (json)
        print_json(vms, n);
    else if (n == 0)
        printf("no VMs answered within %d ms\n", timeout);
    else
        print_table(vms, n);
    rvr_vm_info_free(vms, n);
    if (count > 0 && (long)n < count) {
        fprintf(stderr, "%s vms: %zu VM(s) answered, fewer than --count %ld\n", prog, n, count);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 0 && argv[0] != NULL) {
        prog = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
        if (strncmp(prog, "lt-", 3) == 0)
            prog += 3;
    }
    const char *env = getenv("RIVER_LOG");
    if (env != NULL && rvr_log_parse_level(env) >= 0)
        rvr_log_threshold = rvr_log_parse_level(env);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "vms") == 0)
        return cmd_vms(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return river_keygen_main(argc - 1, argv + 1);
    if (strcmp(cmd, "ps") == 0 || strcmp(cmd, "send") == 0 || strcmp(cmd, "kill") == 0)
        return cmd_vm(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return 2;
}
