/* main.c — the riverc driver: options, compiling each input, writing the
 * outputs and the dependency file. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"
#include "emit.h"

static void usage(FILE *out)
{
    fputs("Usage: riverc [options] FILE.rvr...\n"
          "Compile River interface files into C: for each FILE.rvr, write FILE.rvr.h and\n"
          "FILE.rvr.c (typed messages, nanopb marshalling, VR descriptors).\n"
          "\n"
          "Options:\n"
          "  -o, --out-dir DIR   write the outputs into DIR (default: the current directory)\n"
          "  -I DIR              look for imported files in DIR (repeatable; after the\n"
          "                      importing file's own directory)\n"
          "  -M, --depfile FILE  write make dependencies of the outputs on every .rvr read\n"
          "      --emit-proto    also write FILE.proto, the equivalent proto3 definitions\n"
          "      --check         check the inputs only; write nothing\n"
          "  -Werror             treat warnings as errors\n"
          "  -w                  suppress warnings\n"
          "      --max-errors N  list at most N errors (default 100; 0: no limit)\n"
          "  -h, --help          show this help and exit\n"
          "  -V, --version       show the version and exit\n"
          "\n"
          "Exit status: 0 on success, 1 when an input has errors, 2 on bad usage.\n",
          out);
}

static const char *stem_of(ctx *c, const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 4 && !strcmp(b + n - 4, ".rvr"))
        n -= 4;
    return ar_strndup(c->ar, b, n);
}

/* Writes data to path through a temporary file and rename(2). */
static bool write_output(ctx *c, const char *path, const strbuf *data)
{
    char *tmp = ar_printf(c->ar, "%s.tmp%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        diag_plain(c, "cannot write '%s': %s", tmp, strerror(errno));
        return false;
    }
    bool ok = fwrite(data->data, 1, data->len, fp) == data->len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        diag_plain(c, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

/* Appends every file f depends on (itself and its imports, once each). */
static void collect_deps(const rvfile *f, const rvfile **deps, size_t *n, size_t max)
{
    for (size_t i = 0; i < *n; i++)
        if (deps[i] == f)
            return;
    if (*n < max)
        deps[(*n)++] = f;
    for (const import *im = f->imports; im; im = im->next)
        if (im->target)
            collect_deps(im->target, deps, n, max);
}

static void dep_escape(strbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '#')
            sb_put(b, "\\", 1);
        if (*s == '$')
            sb_put(b, "$", 1);
        sb_put(b, s, 1);
    }
}

int main(int argc, char **argv)
{
    enum { OPT_PROTO = 256, OPT_CHECK, OPT_MAXERR };
    static const struct option longopts[] = {
        { "out-dir", required_argument, NULL, 'o' },
        { "depfile", required_argument, NULL, 'M' },
        { "emit-proto", no_argument, NULL, OPT_PROTO },
        { "check", no_argument, NULL, OPT_CHECK },
        { "max-errors", required_argument, NULL, OPT_MAXERR },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    ctx c = { 0 };
    c.ar = arena_new();
    c.files_tail = &c.files;
    c.out = stderr;
    c.max_errors = 100;
    const char *outdir = NULL, *depfile = NULL;
    bool proto = false, check_only = false, nowarn = false;
    c.incdirs = xmalloc((size_t)argc * sizeof *c.incdirs);
    int opt, status = 0;
    while ((opt = getopt_long(argc, argv, "o:I:M:W:whV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': outdir = optarg; break;
        case 'I': c.incdirs[c.nincdirs++] = optarg; break;
        case 'M': depfile = optarg; break;
        case 'W':
            if (!strcmp(optarg, "error")) {
                c.werror = true;
                break;
            }
            if (!strcmp(optarg, "all") || !strcmp(optarg, "no-error")) {
                c.werror = c.werror && strcmp(optarg, "no-error");
                break;
            }
            fprintf(stderr, "riverc: unknown option '-W%s'\n", optarg);
            status = 2;
            goto done;
        case 'w': nowarn = true; break;
        case OPT_PROTO: proto = true; break;
        case OPT_CHECK: check_only = true; break;
        case OPT_MAXERR: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 0) {
                fprintf(stderr, "riverc: --max-errors needs a number, not '%s'\n", optarg);
                status = 2;
                goto done;
            }
            c.max_errors = n ? (unsigned)n : ~0u;
            break;
        }
        case 'h': usage(stdout); goto done;
        case 'V': printf("riverc (River in C) %s\n", RIVERC_VERSION); goto done;
        default:
            fputs("Try 'riverc --help' for more information.\n", stderr);
            status = 2;
            goto done;
        }
    }
    if (optind >= argc) {
        fputs("riverc: no input files\nTry 'riverc --help' for more information.\n", stderr);
        status = 2;
        goto done;
    }
    c.nowarn = nowarn;
    strbuf deps = {0};
    for (int i = optind; i < argc; i++) {
        unsigned before = c.nerrors;
        rvfile *f = load_root(&c, argv[i]);
        if (!f)
            continue;
        check_file(&c, f);
        if (c.nerrors != before || check_only)
            continue;
        const char *stem = stem_of(&c, argv[i]);
        const char *base = outdir ? ar_printf(c.ar, "%s/%s", outdir, stem) : stem;
        const char *outs[3] = { ar_printf(c.ar, "%s.rvr.h", base),
                                ar_printf(c.ar, "%s.rvr.c", base),
                                proto ? ar_printf(c.ar, "%s.proto", base) : NULL };
        strbuf b = {0};
        emit_header(&c, f, stem, &b);
        bool ok = write_output(&c, outs[0], &b);
        b.len = 0;
        emit_source(&c, f, stem, &b);
        ok = ok && write_output(&c, outs[1], &b);
        if (proto && ok) {
            b.len = 0;
            emit_proto(&c, f, stem, &b);
            ok = write_output(&c, outs[2], &b);
        }
        sb_free(&b);
        if (!ok || !depfile)
            continue;
        const rvfile *list[1024];
        size_t n = 0;
        collect_deps(f, list, &n, 1024);
        for (int k = 0; k < 3 && outs[k]; k++) {
            if (k)
                sb_puts(&deps, " ");
            dep_escape(&deps, outs[k]);
        }
        sb_puts(&deps, ":");
        for (size_t k = 0; k < n; k++) {
            sb_puts(&deps, " \\\n  ");
            dep_escape(&deps, list[k]->path);
        }
        sb_puts(&deps, "\n");
        for (size_t k = 1; k < n; k++) {   /* like gcc -MP: deleted imports do not break make */
            sb_puts(&deps, "\n");
            dep_escape(&deps, list[k]->path);
            sb_puts(&deps, ":\n");
        }
    }
    if (depfile && c.nerrors == 0)
        write_output(&c, depfile, &deps);
    sb_free(&deps);
    status = c.nerrors ? 1 : 0;
done:
    free(c.incdirs);
    arena_free(c.ar);
    return status;
}
