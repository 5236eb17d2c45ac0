/* diag.c — see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <string.h>

enum level { L_ERROR, L_WARNING, L_NOTE };

const char *diag_src_line(const rvfile *f, int line)
{
    const char *p = f->src, *end = f->src + f->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    return p;
}

/* Prints the source line `line` of f with a caret under [col, endcol). */
static void show_line(ctx *c, const rvfile *f, int line, int col, int endcol)
{
    const char *p = diag_src_line(f, line), *end = f->src + f->len;
    if (!p)
        return;
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
        e = end;
    size_t n = (size_t)(e - p);
    if (n && p[n - 1] == '\r')
        n--;
    if (n > 512)
        n = 512;
    fprintf(c->out, " %5d | ", line);
    for (size_t i = 0; i < n; i++)
        fputc(p[i] == 0 ? ' ' : p[i], c->out);
    fputs("\n       | ", c->out);
    for (int i = 1; i < col && (size_t)(i - 1) < n; i++)
        fputc(p[i - 1] == '\t' ? '\t' : ' ', c->out);
    fputc('^', c->out);
    for (int i = col + 1; i < endcol && (size_t)(i - 1) < n; i++)
        fputc('~', c->out);
    fputc('\n', c->out);
}

static void vdiag(ctx *c, const rvfile *f, srcloc loc, enum level lv,
                  const char *fmt, va_list ap)
{
    static const char *names[] = { "error", "warning", "note" };
    if (lv == L_WARNING && c->werror)
        lv = L_ERROR;
    if (lv == L_WARNING && c->nowarn) {
        c->hide_notes = true;
        return;
    }
    if (lv == L_ERROR) {
        c->nerrors++;
        c->hide_notes = c->nerrors > c->max_errors;
        if (c->hide_notes) {
            if (c->nerrors == c->max_errors + 1)
                fprintf(c->out, "riverc: too many errors (%u), stopping the listing\n",
                        c->max_errors);
            return;
        }
    } else if (lv == L_WARNING) {
        c->nwarnings++;
        c->hide_notes = c->nerrors >= c->max_errors;
        if (c->hide_notes)
            return;
    } else if (c->hide_notes) {
        return;
    }
    if (f && loc.first_line > 0)
        fprintf(c->out, "%s:%d:%d: %s: ", f->path, loc.first_line, loc.first_column,
                names[lv]);
    else if (f)
        fprintf(c->out, "%s: %s: ", f->path, names[lv]);
    else
        fprintf(c->out, "riverc: %s: ", names[lv]);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    if (f && loc.first_line > 0) {
        int endcol = loc.last_line == loc.first_line ? loc.last_column : loc.first_column + 1;
        show_line(c, f, loc.first_line, loc.first_column, endcol);
    }
}

#define DEFINE_DIAG(fn, lv)                                                  \
    void fn(ctx *c, const rvfile *f, srcloc loc, const char *fmt, ...)      \
    {                                                                        \
        va_list ap;                                                          \
        va_start(ap, fmt);                                                   \
        vdiag(c, f, loc, lv, fmt, ap);                                       \
        va_end(ap);                                                          \
    }
DEFINE_DIAG(diag_error, L_ERROR)
DEFINE_DIAG(diag_warning, L_WARNING)
DEFINE_DIAG(diag_note, L_NOTE)

void diag_plain(ctx *c, const char *fmt, ...)
{
    srcloc none = {0, 0, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, NULL, none, L_ERROR, fmt, ap);
    va_end(ap);
}
