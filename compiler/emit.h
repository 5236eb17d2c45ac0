/* emit.h — the code generators.  Each writes one output for a checked root
 * file; output depends only on the input (byte-identical on every run). */
#ifndef RIVERC_EMIT_H
#define RIVERC_EMIT_H

#include "ast.h"

/* The libriver ABI generated code is written for (configure.ac's
 * RVR_ABI_VERSION; generated headers refuse to build against another).
 * 2: marshalling moved into libriver (<river/pbsupport.h>). */
#define RIVERC_ABI 2

#ifndef RIVERC_VERSION
#define RIVERC_VERSION "0.1.0"
#endif

/* `stem` is the output name without extensions ("pi" for pi.rvr). */
void emit_header(ctx *c, const rvfile *f, const char *stem, strbuf *out);
void emit_source(ctx *c, const rvfile *f, const char *stem, strbuf *out);
void emit_proto(ctx *c, const rvfile *f, const char *stem, strbuf *out);

#endif
