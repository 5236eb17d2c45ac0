/* emit_common.h — what the emitters share: C names and types of .rvr
 * declarations, how each field is marshalled, defaults as C, fingerprints. */
#ifndef RIVERC_EMIT_COMMON_H
#define RIVERC_EMIT_COMMON_H

#include "ast.h"
#include "check.h"
#include "emit.h"

/* C name of a declaration: prefix + name ("pi_Work"). */
const char *cname(ctx *c, const decl *d);
/* C type of one value of t (the element type for arrays). */
const char *ctype(ctx *c, const typeref *t);
/* rvr_ftype constant name ("RVR_F_UINT64"). */
const char *ftype_const(const typeref *t);
/* Whether the field goes through the generated nanopb callback (strings,
 * bytes, any, nested messages, arrays, scalars with a non-zero default) or
 * is a plain nanopb STATIC field. */
bool field_is_callback(const field *fl);
/* The nanopb LTYPE used in the FIELDLIST X-macro ("UINT64", "BYTES" ...). */
const char *pb_ltype(const field *fl);
/* The default of fl (or p) as a C expression, or NULL when zero/none. */
const char *default_expr(ctx *c, const typeref *t, const constval *v);
/* The default as written in the .rvr source (for descriptors and help). */
const char *default_text(ctx *c, const typeref *t, const constval *v);
/* Fingerprint of a message: FNV-1a 64 of its canonical form. */
uint64_t message_fingerprint(ctx *c, const decl *d);
/* "pkg.Name" */
const char *full_name(ctx *c, const decl *d);
/* Include-guard macro for a stem ("PI_RVR_H"). */
const char *guard_name(ctx *c, const char *stem);
/* C string literal for s (escaped, in quotes). */
const char *c_string(ctx *c, const char *s);

#endif
