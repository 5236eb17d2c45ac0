/* check.h — helpers shared by the semantic checks (check.c, clash.c) and
 * the emitters. */
#ifndef RIVERC_CHECK_H
#define RIVERC_CHECK_H

#include "ast.h"

/* Field numbers: 1..MAX_FIELD_NUMBER, minus protobuf's reserved range.
 * The cap is nanopb's: pb_size_t is 16 bits in Debian's build, and a field
 * iterator keeps the tag in a pb_size_t. */
#define MAX_FIELD_NUMBER 65535u
#define PB_RESERVED_LO 19000u
#define PB_RESERVED_HI 19999u
#define MAX_ARRAY_BOUND (1u << 24)   /* RVR_MAX_LIST */
#define MAX_NAME_LEN 255             /* RVR_MAX_NAME */
#define MAX_NESTING 1000             /* messages inside messages, by value */

/* Appends the generated C identifiers of d (global names in the generated
 * header and source) to `out`, each as an arena string; returns the count. */
size_t generated_names(ctx *c, const decl *d, const char **out, size_t max);

/* Reports clashes between generated identifiers of the files' decls. */
void check_clashes(ctx *c, rvfile *f);
/* Reports messages that contain themselves by value. */
void check_cycles(ctx *c, rvfile *f);

/* The C prefix of a file ("pkg_"), derived from its package. */
const char *file_prefix(ctx *c, const rvfile *f);

#endif
