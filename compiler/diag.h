/* diag.h — gcc-style diagnostics:
 *
 *   file:line:col: error: message
 *       3 |     Foo x;
 *         |     ^~~
 *
 * Errors count towards the exit status; warnings become errors with -Werror;
 * notes follow the diagnostic they explain.  After ctx->max_errors errors
 * further ones are counted but not printed. */
#ifndef RIVERC_DIAG_H
#define RIVERC_DIAG_H

#include "ast.h"

void diag_error(ctx *c, const rvfile *f, srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warning(ctx *c, const rvfile *f, srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_note(ctx *c, const rvfile *f, srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Start of line `line` (1-based) of f's source, or NULL past the end. */
const char *diag_src_line(const rvfile *f, int line);
/* A diagnostic without a location ("riverc: error: ..."). */
void diag_plain(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
