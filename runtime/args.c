/* args.c — see args.h. */
#include "args.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *kind_name(rvr_arg_kind k)
{
    static const char *const names[] = { "bool", "int32", "int64", "uint32", "uint64",
                                         "float", "double", "string" };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static char **str_member(const rvr_arg_desc *d, void *args)
{
    return (char **)((char *)args + d->offset);
}

void rvr_args_free(const rvr_vr_type *t, void *args)
{
    if (args == NULL)
        return;
    for (size_t i = 0; i < t->nargs; i++)
        if (t->args[i].kind == RVR_ARG_STRING)
            free(*str_member(&t->args[i], args));
    free(args);
}

rvr_status rvr_args_copy(const rvr_vr_type *t, const void *src, void **out)
{
    *out = NULL;
    if (t->args_size == 0)
        return RVR_OK;
    if (src == NULL)
        src = t->defaults;
    void *a = calloc(1, t->args_size);
    if (a == NULL)
        return RVR_ENOMEM;
    if (src != NULL)
        memcpy(a, src, t->args_size);
    for (size_t i = 0; i < t->nargs; i++) {
        if (t->args[i].kind != RVR_ARG_STRING)
            continue;
        char **s = str_member(&t->args[i], a);
        if (*s != NULL && (*s = strdup(*s)) == NULL) {
            /* Members after i still point into src: clear them before freeing. */
            for (size_t j = i + 1; j < t->nargs; j++)
                if (t->args[j].kind == RVR_ARG_STRING)
                    *str_member(&t->args[j], a) = NULL;
            rvr_args_free(t, a);
            return RVR_ENOMEM;
        }
    }
    *out = a;
    return RVR_OK;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = false;
    else
        return false;
    return true;
}

/* Stores text `v` into the member described by d; false if it does not parse
 * or is out of range for the member's type. */
static bool store(const rvr_arg_desc *d, void *args, const char *v)
{
    char *end;
    void *p = (char *)args + d->offset;
    errno = 0;
    switch (d->kind) {
    case RVR_ARG_BOOL:
        return parse_bool(v, (bool *)p);
    case RVR_ARG_INT32:
    case RVR_ARG_INT64: {
        long long x = strtoll(v, &end, 0);
        if (*v == '\0' || *end != '\0' || errno == ERANGE)
            return false;
        if (d->kind == RVR_ARG_INT32) {
            if (x < INT32_MIN || x > INT32_MAX)
                return false;
            *(int32_t *)p = (int32_t)x;
        } else {
            *(int64_t *)p = x;
        }
        return true;
    }
    case RVR_ARG_UINT32:
    case RVR_ARG_UINT64: {
        if (strchr(v, '-') != NULL)
            return false;
        unsigned long long x = strtoull(v, &end, 0);
        if (*v == '\0' || *end != '\0' || errno == ERANGE)
            return false;
        if (d->kind == RVR_ARG_UINT32) {
            if (x > UINT32_MAX)
                return false;
            *(uint32_t *)p = (uint32_t)x;
        } else {
            *(uint64_t *)p = x;
        }
        return true;
    }
    case RVR_ARG_FLOAT:
    case RVR_ARG_DOUBLE: {
        double x = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno == ERANGE)
            return false;
        if (d->kind == RVR_ARG_FLOAT)
            *(float *)p = (float)x;
        else
            *(double *)p = x;
        return true;
    }
    case RVR_ARG_STRING: {
        char *s = strdup(v);
        if (s == NULL)
            return false;
        free(*(char **)p);
        *(char **)p = s;
        return true;
    }
    }
    return false;
}

/* The VM's own options (see rvr_common_opts). */
static const char *const vm_opt_names[] = { "port", "bind", "max-vrs", "max-frame",
                                             "secret-file" };
static const char *const vm_opt_help[] = {
    "takes a TCP port (0-65535)", "takes a host name or address",
    "takes a number of VRs (0: no limit)", "takes a frame size in bytes (1024-4294967295)",
    "takes the path of a cluster secret (river keygen)",
};

static int vm_option(const char *name, size_t len)
{
    for (int i = 0; i < 5; i++)
        if (strlen(vm_opt_names[i]) == len && strncmp(vm_opt_names[i], name, len) == 0)
            return i;
    return -1;
}

static bool store_vm_option(rvr_common_opts *c, int which, const char *v)
{
    if (v == NULL || *v == '\0')
        return false;
    if (which == 1) {
        c->bind = v;
        return true;
    }
    if (which == 4) {
        c->secret_file = v;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end != '\0' || errno == ERANGE || strchr(v, '-') != NULL)
        return false;
    switch (which) {
    case 0:
        if (x > 65535)
            return false;
        c->port = (int)x;
        return true;
    case 2:
        if (x > 1000000000ull)
            return false;
        c->max_vrs = (long long)x;
        return true;
    default:
        if (x < 1024 || x > 4294967295ull)
            return false;
        c->max_frame = (long long)x;
        return true;
    }
}

static const rvr_arg_desc *find_arg(const rvr_vr_type *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->nargs; i++)
        if (strlen(t->args[i].name) == len && strncmp(t->args[i].name, name, len) == 0)
            return &t->args[i];
    return NULL;
}

rvr_status rvr_args_parse(const rvr_vr_type *t, int argc, char **argv, void **out,
                          rvr_common_opts *common, FILE *err)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "river";
    common->help = false;
    common->log_level = -1;
    common->port = -1;
    common->bind = NULL;
    common->secret_file = NULL;
    common->max_vrs = -1;
    common->max_frame = -1;
    rvr_status st = rvr_args_copy(t, NULL, out);
    if (st != RVR_OK)
        return st;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(err, "%s: unexpected argument '%s' (options are --name=value; see --help)\n", prog, a);
            goto bad;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : NULL;
        if (len == 4 && !strncmp(name, "help", 4) && !val) {
            common->help = true;
            continue;
        }
        if (len == 9 && !strncmp(name, "log-level", 9)) {
            if (!val && i + 1 < argc)
                val = argv[++i];
            if (!val || (common->log_level = rvr_log_parse_level(val)) < 0) {
                fprintf(err, "%s: --log-level takes error, warn, info or debug\n", prog);
                goto bad;
            }
            continue;
        }
        const rvr_arg_desc *d = find_arg(t, name, len);
        int vmopt = d == NULL ? vm_option(name, len) : -1;
        if (vmopt >= 0) {
            if (!val && i + 1 < argc)
                val = argv[++i];
            if (!store_vm_option(common, vmopt, val)) {
                fprintf(err, "%s: option '--%.*s' %s\n", prog, (int)len, name, vm_opt_help[vmopt]);
                goto bad;
            }
            continue;
        }
        if (d == NULL) {
            fprintf(err, "%s: unknown option '--%.*s' (see --help)\n", prog, (int)len, name);
            goto bad;
        }
        if (val == NULL) {
            if (d->kind == RVR_ARG_BOOL) {
                val = "true";
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                fprintf(err, "%s: option '--%s' needs a value\n", prog, d->name);
                goto bad;
            }
        }
        if (!store(d, *out, val)) {
            fprintf(err, "%s: option '--%s': '%s' is not a valid %s\n", prog, d->name, val,
                    kind_name(d->kind));
            goto bad;
        }
    }
    return RVR_OK;
bad:
    rvr_args_free(t, *out);
    *out = NULL;
    return RVR_EINVAL;
}

void rvr_args_help(const rvr_vr_type *t, const char *prog, FILE *f)
{
    fprintf(f, "usage: %s [options]\n\nRuns the VR %s.\n\nOptions:\n", prog, t->name);
    for (size_t i = 0; i < t->nargs; i++) {
        const rvr_arg_desc *d = &t->args[i];
        char left[128];
        snprintf(left, sizeof left, "--%s=%s", d->name, kind_name(d->kind));
        fprintf(f, "  %-28s %s", left, d->help ? d->help : "");
        if (d->defval != NULL)
            fprintf(f, "%s(default: %s)", d->help ? " " : "", d->defval);
        fputc('\n', f);
    }
    fprintf(f, "\nVM options:\n");
    fprintf(f, "  %-28s %s\n", "--port=N", "TCP port to listen on (default: any free one; RIVER_PORT)");
    fprintf(f, "  %-28s %s\n", "--bind=HOST", "interface to listen on (default: all; RIVER_BIND)");
    fprintf(f, "  %-28s %s\n", "--peer=HOST:PORT", "a VM to know from the start (repeatable; RIVER_PEERS)");
    fprintf(f, "  %-28s %s\n", "--label=KEY=VALUE", "a label discovery reports (repeatable)");
    fprintf(f, "  %-28s %s\n", "--max-vrs=N", "VRs this VM runs at once (default: no limit)");
    fprintf(f, "  %-28s %s\n", "--max-frame=BYTES", "largest frame accepted (default: 64 MiB)");
    fprintf(f, "  %-28s %s\n", "--secret-file=FILE",
            "cluster secret: authenticate every connection (RIVER_SECRET_FILE)");
    fprintf(f, "  %-28s %s\n", "--log-level=LEVEL", "error, warn, info or debug (default: warn)");
    fprintf(f, "  %-28s %s\n", "--help", "show this help");
}
