/* load.c — reading .rvr files and resolving imports.
 *
 * An import "x.rvr" is looked up relative to the importing file's
 * directory, then in each -I directory in order.  Each file is loaded once
 * (recognised by its real path); an import that leads back to a file still
 * being loaded is a cycle and is reported at the import. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "diag.h"

#define MAX_SOURCE (64u << 20)   /* larger .rvr files are refused */

static rvfile *find_loaded(ctx *c, const char *canon)
{
    for (rvfile *f = c->files; f; f = f->next)
        if (!strcmp(f->canon, canon))
            return f;
    return NULL;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads and parses `path`; returns the (possibly already loaded) file, or
 * NULL with *err set to an errno when it cannot be read. */
static rvfile *load(ctx *c, const char *path, int *err);

static void load_imports(ctx *c, rvfile *f)
{
    const char *slash = strrchr(f->path, '/');
    char *dir = slash ? ar_strndup(c->ar, f->path, (size_t)(slash - f->path + 1)) : "";
    for (import *im = f->imports; im; im = im->next) {
        if (!im->path[0]) {
            diag_error(c, f, im->loc, "empty import path");
            continue;
        }
        const char *cand = im->path[0] == '/' ? im->path : ar_printf(c->ar, "%s%s", dir, im->path);
        for (size_t i = 0; !is_regular(cand) && im->path[0] != '/' && i < c->nincdirs; i++)
            cand = ar_printf(c->ar, "%s/%s", c->incdirs[i], im->path);
        if (!is_regular(cand)) {
            diag_error(c, f, im->loc, "cannot find imported file '%s'", im->path);
            continue;
        }
        char real[PATH_MAX];
        if (realpath(cand, real)) {
            rvfile *g = find_loaded(c, real);
            if (g && g->state == 1) {
                diag_error(c, f, im->loc, "import cycle: '%s' imports '%s', which is being loaded",
                           f->path, g->path);
                continue;
            }
            for (import *p = f->imports; p != im; p = p->next)
                if (p->target == g && g) {
                    diag_warning(c, f, im->loc, "'%s' is imported twice", im->path);
                    diag_note(c, f, p->loc, "first imported here");
                    break;
                }
        }
        int err = 0;
        im->target = load(c, cand, &err);
        if (!im->target)
            diag_error(c, f, im->loc, "cannot read imported file '%s': %s", cand, strerror(err));
    }
}

static rvfile *load(ctx *c, const char *path, int *err)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        *err = errno;
        return NULL;
    }
    rvfile *f = find_loaded(c, real);
    if (f)
        return f;
    if (!is_regular(real)) {
        *err = EISDIR;
        return NULL;
    }
    size_t len;
    char *src = read_file(path, &len);
    if (!src) {
        *err = errno;
        return NULL;
    }
    if (len > MAX_SOURCE) {
        free(src);
        *err = EFBIG;
        return NULL;
    }
    f = ar_alloc(c->ar, sizeof *f);
    f->path = ar_strdup(c->ar, path);
    f->canon = ar_strdup(c->ar, real);
    f->src = ar_strndup(c->ar, src, len);
    f->len = len;
    free(src);
    *c->files_tail = f;
    c->files_tail = &f->next;
    f->state = 1;
    parse_file(c, f);
    load_imports(c, f);
    f->state = 2;
    return f;
}

rvfile *load_root(ctx *c, const char *path)
{
    int err = 0;
    rvfile *f = load(c, path, &err);
    if (!f)
        diag_plain(c, "cannot read '%s': %s", path, strerror(err));
    return f;
}

/* For the fuzzer and tests: a root file from memory, imports disabled. */
rvfile *load_memory(ctx *c, const char *name, const char *src, size_t len)
{
    rvfile *f = ar_alloc(c->ar, sizeof *f);
    f->path = ar_strdup(c->ar, name);
    f->canon = f->path;
    f->src = ar_strndup(c->ar, src, len);
    f->len = len;
    *c->files_tail = f;
    c->files_tail = &f->next;
    f->state = 1;
    parse_file(c, f);
    for (import *im = f->imports; im; im = im->next)
        diag_error(c, f, im->loc, "cannot find imported file '%s'", im->path);
    f->state = 2;
    return f;
}
