/* disc_opts.c — the discovery options of a River program's command line
 * (see discovery.h). */
#include <stdlib.h>
#include <string.h>

#include "discovery.h"

void rvr_disc_opts_free(rvr_disc_opts *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->npeers; i++)
        free(o->peers[i]);
    free(o->peers);
    rvr_map_free(o->labels);
    memset(o, 0, sizeof *o);
}

/* Matches "--name value" or "--name=value"; *used is how many argv slots. */
static bool opt(char **argv, int i, int argc, const char *name, const char **val, int *used)
{
    size_t n = strlen(name);
    if (strncmp(argv[i], name, n) != 0)
        return false;
    if (argv[i][n] == '=') {
        *val = argv[i] + n + 1;
        *used = 1;
        return true;
    }
    if (argv[i][n] != '\0')
        return false;
    *val = i + 1 < argc ? argv[i + 1] : NULL;
    *used = i + 1 < argc ? 2 : 1;
    return true;
}

static rvr_status add_label(rvr_disc_opts *o, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv || (size_t)(eq - kv) > RVR_MAX_NAME)
        return RVR_EINVAL;
    if (o->labels == NULL && (o->labels = rvr_map_new()) == NULL)
        return RVR_ENOMEM;
    char key[RVR_MAX_NAME + 1];
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    rvr_value v;
    rvr_status st = rvr_value_str(&v, eq + 1);
    if (st == RVR_OK && (st = rvr_map_set(o->labels, key, &v)) != RVR_OK)
        rvr_value_clear(&v);
    return st;
}

static rvr_status add_peer(rvr_disc_opts *o, const char *p)
{
    if (strchr(p, ':') == NULL)
        return RVR_EINVAL;
    if (o->npeers == RVR_DISC_MAX_PEERS)
        return RVR_ELIMIT;
    char **np = realloc(o->peers, (o->npeers + 1) * sizeof *np);
    if (np == NULL)
        return RVR_ENOMEM;
    o->peers = np;
    if ((np[o->npeers] = strdup(p)) == NULL)
        return RVR_ENOMEM;
    o->npeers++;
    return RVR_OK;
}

rvr_status rvr_disc_options(int *argc, char **argv, rvr_disc_opts *o, FILE *err)
{
    return rvr_disc_options_except(argc, argv, o, err, NULL, NULL);
}

rvr_status rvr_disc_options_except(int *argc, char **argv, rvr_disc_opts *o, FILE *err,
                                   bool (*is_program_opt)(const char *name, size_t len, void *ctx),
                                   void *ctx)
{
    memset(o, 0, sizeof *o);
    const char *prog = *argc > 0 ? argv[0] : "river";
    int out = *argc > 0 ? 1 : 0;
    rvr_status st = RVR_OK;
    for (int i = 1; i < *argc && st == RVR_OK;) {
        const char *val = NULL, *what = NULL;
        int used = 1;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];   /* the rest belongs to the program */
            break;
        }
        if (is_program_opt != NULL && strncmp(argv[i], "--", 2) == 0 &&
            is_program_opt(argv[i] + 2, strcspn(argv[i] + 2, "="), ctx)) {
            argv[out++] = argv[i++];   /* the program declares this option itself */
            continue;
        }
        if (opt(argv, i, *argc, "--mcast-group", &val, &used)) {
            what = "--mcast-group";
            o->cfg.group = val;
        } else if (opt(argv, i, *argc, "--mcast-if", &val, &used)) {
            what = "--mcast-if";
            o->cfg.mcast_if = val;
        } else if (opt(argv, i, *argc, "--mcast-port", &val, &used)) {
            what = "--mcast-port";
            char *end;
            long p = val != NULL ? strtol(val, &end, 10) : 0;
            if (val != NULL && (*val == '\0' || *end != '\0' || p < 1 || p > 65535)) {
                fprintf(err, "%s: --mcast-port: '%s' is not a port (1-65535)\n", prog, val);
                st = RVR_EINVAL;
            }
            o->cfg.port = (uint16_t)p;
        } else if (opt(argv, i, *argc, "--peer", &val, &used)) {
            what = "--peer";
            if (val != NULL && (st = add_peer(o, val)) != RVR_OK)
                fprintf(err, "%s: --peer: %s\n", prog,
                        st == RVR_ELIMIT ? "too many seed peers" : "expected host:port");
        } else if (opt(argv, i, *argc, "--label", &val, &used)) {
            what = "--label";
            if (val != NULL && (st = add_label(o, val)) != RVR_OK)
                fprintf(err, "%s: --label: expected key=value, got '%s'\n", prog, val);
        } else {
            argv[out++] = argv[i++];
            continue;
        }
        if (st == RVR_OK && val == NULL) {
            fprintf(err, "%s: %s needs a value\n", prog, what);
            st = RVR_EINVAL;
        }
        i += used;
    }
    if (st != RVR_OK) {
        rvr_disc_opts_free(o);
        return st;
    }
    argv[out] = NULL;   /* argv[argc] is NULL, as main() received it */
    *argc = out;
    o->cfg.peers = (const char *const *)o->peers;
    o->cfg.npeers = o->npeers;
    o->cfg.labels = o->labels;
    return RVR_OK;
}
