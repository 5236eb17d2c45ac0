/* clash.c — generated-identifier clashes and by-value containment cycles. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "diag.h"

const char *file_prefix(ctx *c, const rvfile *f)
{
    if (f->prefix)
        return f->prefix;
    const char *p = f->package ? f->package : "";
    char *s = ar_printf(c->ar, "%s_", p);
    for (char *q = s; *q; q++)
        if (*q == '.')
            *q = '_';
    return s;
}

size_t generated_names(ctx *c, const decl *d, const char **out, size_t max)
{
    static const char *const msg_suffixes[] = {
        "", "_init", "_clear", "_encode", "_decode", "_send", "_recv", "_schema", "_msg",
        "_field_info", "_submsg_info", "_FIELDLIST", "_CALLBACK", "_DEFAULT", "_fields_", "_cb_",
        "_init_v_", "_clear_v_", "_encode_v_", "_decode_v_",
    };
    static const char *const enum_suffixes[] = { "", "_schema", "_values_", "_size_check_" };
    static const char *const vr_suffixes[] = {
        "_args", "_type", "_main", "_deploy", "_recv_any", "_msg", "_msg_clear", "_MSG_NONE",
        "_defaults_", "_arg_descs_", "_receives_", "_main_", "_kind",
    };
    const char *pre = file_prefix(c, d->file);
    size_t n = 0;
#define ADD(...) do { if (n < max) out[n++] = ar_printf(c->ar, __VA_ARGS__); } while (0)
    switch (d->kind) {
    case D_MESSAGE:
        for (size_t i = 0; i < sizeof msg_suffixes / sizeof *msg_suffixes; i++)
            ADD("%s%s%s", pre, d->name, msg_suffixes[i]);
        break;
    case D_ENUM:
        for (size_t i = 0; i < sizeof enum_suffixes / sizeof *enum_suffixes; i++)
            ADD("%s%s%s", pre, d->name, enum_suffixes[i]);
        for (const enumval *v = d->values; v; v = v->next)
            ADD("%s%s_%s", pre, d->name, v->name);
        break;
    case D_VR:
        for (size_t i = 0; i < sizeof vr_suffixes / sizeof *vr_suffixes; i++)
            ADD("%s%s%s", pre, d->name, vr_suffixes[i]);
        for (const tlist *t = d->receives; t; t = t->next)
            if (t->t.kind == TY_NAMED)
                ADD("%s%s_MSG_%s", pre, d->name, t->t.name);
        break;
    }
#undef ADD
    return n;
}

struct entry { struct entry *next; const char *name; const decl *d; };

void check_clashes(ctx *c, rvfile *f)
{
    enum { NB = 1024 };
    struct entry *tab[NB] = {0};
    const char *names[4096];
    /* this file and every loaded file with the same package share a prefix */
    for (rvfile *g = c->files; g; g = g->next) {
        bool same = g == f || (g->package && f->package && !strcmp(g->package, f->package));
        if (!same)
            continue;
        for (decl *d = g->decls; d; d = d->next) {
            if (!d->name)
                continue;
            size_t n = generated_names(c, d, names, sizeof names / sizeof *names);
            for (size_t i = 0; i < n; i++) {
                uint64_t h = fnv1a64(names[i], strlen(names[i]), FNV64_INIT) % NB;
                struct entry *e;
                for (e = tab[h]; e; e = e->next)
                    if (!strcmp(e->name, names[i]))
                        break;
                if (e) {
                    if (e->d == d || (e->d->name && !strcmp(e->d->name, d->name)
                                      && e->d->file == d->file))
                        break;    /* a duplicate name: reported elsewhere */
                    if (g != f && e->d->file != f)
                        break;    /* both elsewhere: reported there */
                    const decl *here = g == f ? d : e->d, *other = g == f ? e->d : d;
                    diag_error(c, here->file, here->loc,
                               "'%s' generates the C identifier '%s', which '%s' also generates",
                               here->name, names[i], other->name);
                    diag_note(c, other->file, other->loc, "'%s' is declared here", other->name);
                    break;
                }
                e = ar_alloc(c->ar, sizeof *e);
                e->name = names[i];
                e->d = d;
                e->next = tab[h];
                tab[h] = e;
            }
        }
    }
}

/* ---- by-value containment -------------------------------------------------- */

static bool visit(ctx *c, decl *d, decl **stack, size_t depth)
{
    if (d->cycle_state == 2)
        return false;
    if (d->cycle_state == 1) {
        /* a cycle: stack[k..depth) */
        size_t k = 0;
        while (k < depth && stack[k] != d)
            k++;
        strbuf b = {0};
        for (size_t i = k; i < depth; i++)
            sb_printf(&b, "%s -> ", stack[i]->name);
        sb_puts(&b, d->name);
        diag_error(c, d->file, d->loc, "message '%s' contains itself by value (%s)", d->name,
                   b.data);
        diag_note(c, d->file, d->loc,
                  "a message may refer to itself only through an array ('%s items[];')", d->name);
        sb_free(&b);
        d->bad = true;
        return true;
    }
    if (depth >= MAX_NESTING) {
        diag_error(c, d->file, d->loc, "messages nest by value more than %d levels deep here",
                   MAX_NESTING);
        d->bad = true;
        return true;
    }
    d->cycle_state = 1;
    stack[depth] = d;
    bool found = false;
    for (field *fl = d->fields; fl && !found; fl = fl->next)
        if (fl->type.kind == TY_NAMED && !fl->is_array && fl->type.target
            && fl->type.target->kind == D_MESSAGE)
            found = visit(c, fl->type.target, stack, depth + 1);
    d->cycle_state = 2;
    return found;
}

void check_cycles(ctx *c, rvfile *f)
{
    decl **stack = xmalloc((MAX_NESTING + 1) * sizeof *stack);
    for (decl *d = f->decls; d; d = d->next)
        if (d->kind == D_MESSAGE && d->name)
            visit(c, d, stack, 0);
    free(stack);
}
