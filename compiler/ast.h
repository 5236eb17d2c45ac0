/* ast.h — the syntax tree of .rvr files and the compilation context.
 *
 * Every node and string lives in the context's arena and is freed with it.
 * Lists are singly linked in source order.  The checker (check.c) fills in
 * the resolved fields marked "set by check". */
#ifndef RIVERC_AST_H
#define RIVERC_AST_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"

/* A source range: first line/column (1-based) to last column (exclusive). */
typedef struct srcloc { int first_line, first_column, last_line, last_column; } srcloc;

typedef enum tkind {
    TY_NONE = 0,
    TY_BOOL, TY_INT32, TY_INT64, TY_UINT32, TY_UINT64, TY_FLOAT, TY_DOUBLE,
    TY_STRING, TY_BYTES, TY_UUID, TY_ANY,
    TY_NAMED      /* a message or enum, by name */
} tkind;

typedef struct decl decl;
typedef struct rvfile rvfile;

typedef struct typeref {
    tkind kind;
    const char *qual;     /* package qualifier ("common" in common.Point) or NULL */
    const char *name;     /* TY_NAMED: the type's name */
    srcloc loc;
    decl *target;         /* set by check */
} typeref;

typedef enum vkind { V_INT, V_FLOAT, V_STRING, V_BOOL, V_IDENT } vkind;

typedef struct constval {
    vkind kind;
    bool neg;             /* a leading '-' */
    bool overflow;        /* V_INT literal does not fit 64 bits */
    uint64_t u;           /* V_INT magnitude, V_BOOL */
    double d;             /* V_FLOAT */
    const char *s;        /* V_STRING (no NUL inside), V_IDENT */
    srcloc loc;
} constval;

typedef struct field {
    struct field *next;
    const char *name;
    srcloc loc;
    typeref type;
    bool is_array, has_bound;
    uint64_t bound;
    srcloc bound_loc;
    bool has_number;
    uint64_t number;      /* explicit (@N) or, after check, implicit */
    srcloc num_loc;
    constval *def;        /* default value or NULL */
} field;

typedef struct enumval {
    struct enumval *next;
    const char *name;
    srcloc loc;
    bool neg, overflow;
    uint64_t mag;
    int64_t value;        /* set by check */
} enumval;

typedef struct tlist { struct tlist *next; typeref t; } tlist;

typedef enum dkind { D_MESSAGE, D_ENUM, D_VR } dkind;

struct decl {
    decl *next;
    dkind kind;
    const char *name;
    srcloc loc;
    rvfile *file;
    field *fields;        /* message fields or VR parameters */
    bool open;            /* message ends with `...` */
    srcloc open_loc;
    enumval *values;
    tlist *sends, *receives;
    /* set by check */
    int cycle_state;      /* by-value containment DFS */
    field **sorted;       /* fields by number */
    size_t nfields;
    bool bad;             /* had errors: not emitted */
};

typedef struct import {
    struct import *next;
    const char *path;     /* as written */
    srcloc loc;
    rvfile *target;       /* set by load, NULL when missing */
    bool used;
} import;

struct rvfile {
    rvfile *next;         /* every loaded file, in load order */
    const char *path;     /* path used to open it and shown in diagnostics */
    const char *canon;    /* realpath, to recognise a file imported twice */
    char *src;            /* contents (owned by the context) */
    size_t len;
    const char *package;  /* "a.b" or NULL */
    srcloc pkg_loc;
    const char *prefix;   /* C prefix "a_b_" (set by check) */
    import *imports;
    decl *decls;
    strmap names;         /* declarations by name (set by check) */
    int state;            /* 0 new, 1 loading, 2 loaded */
    bool checked;
};

typedef struct ctx {
    arena *ar;
    const char **incdirs;
    size_t nincdirs;
    rvfile *files, **files_tail;
    /* diagnostics */
    unsigned nerrors, nwarnings, max_errors;
    bool werror, nowarn, hide_notes;
    FILE *out;            /* where diagnostics go (stderr) */
} ctx;

/* parse.c / parser.y: parses f->src into f; syntax errors are reported. */
void parse_file(ctx *c, rvfile *f);

/* load.c */
rvfile *load_root(ctx *c, const char *path);  /* NULL if it cannot be read */
rvfile *load_memory(ctx *c, const char *name, const char *src, size_t len);

/* check.c: semantic checks of f and everything it imports. */
void check_file(ctx *c, rvfile *f);

/* names.c */
bool is_reserved_word(const char *s);
/* Why s cannot be a name ("a reserved word in C" ...), or NULL. */
const char *reserved_reason(const char *s);
const char *tkind_name(tkind k);

#endif
