/* check.c — semantic checks (docs/language.md §3–§7).
 *
 * For each file, after its imports: the package, identifier rules, duplicate
 * names, type resolution, field numbers, array bounds, defaults, enum values,
 * VR parameters and message lists, by-value cycles, clashes between
 * generated C identifiers, and unused imports.  Every error is reported;
 * a declaration with errors is marked `bad`. */
#include <math.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "diag.h"

#define ERR(d, loc, ...) do { diag_error(c, f, loc, __VA_ARGS__); if (d) (d)->bad = true; } while (0)

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        size_t len = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = len == 1 ? ch : len == 2 ? ch & 0x1f : len == 3 ? ch & 0x0f : ch & 0x07;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Identifier rules shared by every name a .rvr file declares. */
static void check_ident(ctx *c, rvfile *f, decl *d, const char *name, srcloc loc, const char *what)
{
    if (name[0] == '_')
        ERR(d, loc, "%s name '%s' begins with '_', which is reserved for generated code", what, name);
    else if (strstr(name, "__"))
        ERR(d, loc, "%s name '%s' contains '__', which is reserved in C++", what, name);
    else if (reserved_reason(name))
        ERR(d, loc, "%s name '%s' is %s", what, name, reserved_reason(name));
    else if (strlen(name) > MAX_NAME_LEN)
        ERR(d, loc, "%s name is longer than %d characters", what, MAX_NAME_LEN);
}

static decl *find_decl(const rvfile *f, const char *name)
{
    return strmap_get(&f->names, name);
}

/* Resolves a named type in f: own declarations first, then the imports. */
static void resolve(ctx *c, rvfile *f, typeref *t)
{
    if (t->kind != TY_NAMED || t->target)
        return;
    if (t->qual) {
        bool pkg_seen = f->package && !strcmp(f->package, t->qual);
        if (pkg_seen)
            t->target = find_decl(f, t->name);
        for (import *im = f->imports; im && !t->target; im = im->next) {
            if (!im->target || !im->target->package || strcmp(im->target->package, t->qual))
                continue;
            pkg_seen = true;
            im->used = true;
            t->target = find_decl(im->target, t->name);
        }
        if (!pkg_seen)
            diag_error(c, f, t->loc, "unknown package '%s' (is the file that declares it imported?)",
                       t->qual);
        else if (!t->target)
            diag_error(c, f, t->loc, "unknown type '%s.%s'", t->qual, t->name);
        return;
    }
    if ((t->target = find_decl(f, t->name)))
        return;
    import *found = NULL;
    for (import *im = f->imports; im; im = im->next) {
        decl *d = im->target ? find_decl(im->target, t->name) : NULL;
        if (!d || d == t->target)
            continue;
        if (t->target) {
            im->used = true;
            found->used = true;
            diag_error(c, f, t->loc, "type '%s' is ambiguous", t->name);
            diag_note(c, t->target->file, t->target->loc, "one candidate is declared here");
            diag_note(c, d->file, d->loc, "another candidate is declared here");
            t->target = NULL;
            return;
        }
        t->target = d;
        found = im;
    }
    if (found)
        found->used = true;
    else
        diag_error(c, f, t->loc, "unknown type '%s'", t->name);
}

static const char *type_text(ctx *c, const typeref *t)
{
    if (t->kind != TY_NAMED)
        return tkind_name(t->kind);
    return t->qual ? ar_printf(c->ar, "%s.%s", t->qual, t->name) : t->name;
}

static const enumval *find_enumval(const decl *e, const char *name)
{
    for (const enumval *v = e->values; v; v = v->next)
        if (!strcmp(v->name, name))
            return v;
    return NULL;
}

/* Is the default `v` acceptable for a value of type t? */
static void check_default(ctx *c, rvfile *f, decl *d, const typeref *t, bool is_array,
                          const constval *v)
{
    const char *tn = type_text(c, t);
    if (is_array) {
        ERR(d, v->loc, "an array cannot have a default");
        return;
    }
    if (v->kind == V_INT && v->overflow) {
        ERR(d, v->loc, "integer literal is too large");
        return;
    }
    switch (t->kind) {
    case TY_BOOL:
        if (v->kind != V_BOOL)
            ERR(d, v->loc, "default of a bool must be true or false");
        return;
    case TY_INT32: case TY_INT64: case TY_UINT32: case TY_UINT64: {
        if (v->kind != V_INT) {
            ERR(d, v->loc, "default of an %s must be an integer", tn);
            return;
        }
        bool ok;
        switch (t->kind) {
        case TY_INT32:  ok = v->neg ? v->u <= 0x80000000u : v->u <= 0x7fffffffu; break;
        case TY_INT64:  ok = v->neg ? v->u <= 0x8000000000000000u : v->u <= INT64_MAX; break;
        case TY_UINT32: ok = (!v->neg || v->u == 0) && v->u <= 0xffffffffu; break;
        default:        ok = !v->neg || v->u == 0; break;
        }
        if (!ok)
            ERR(d, v->loc, "default %s%llu is out of range for %s", v->neg ? "-" : "",
                (unsigned long long)v->u, tn);
        return;
    }
    case TY_FLOAT: case TY_DOUBLE:
        if (v->kind == V_IDENT && (!strcmp(v->s, "inf") || (!strcmp(v->s, "nan") && !v->neg)))
            return;
        if (v->kind == V_FLOAT && t->kind == TY_FLOAT && isfinite(v->d) && v->d > FLT_MAX)
            ERR(d, v->loc, "default is out of range for float");
        else if (v->kind == V_FLOAT && !isfinite(v->d))
            ERR(d, v->loc, "default is out of range for %s (write inf for infinity)", tn);
        else if (v->kind != V_FLOAT && v->kind != V_INT)
            ERR(d, v->loc, "default of a %s must be a number, inf or nan", tn);
        return;
    case TY_STRING:
        if (v->kind != V_STRING)
            ERR(d, v->loc, "default of a string must be a string literal");
        else if (!utf8_valid((const unsigned char *)v->s, strlen(v->s)))
            ERR(d, v->loc, "default string is not valid UTF-8");
        return;
    case TY_NAMED:
        if (!t->target)
            return;
        if (t->target->kind == D_ENUM) {
            if (v->kind != V_IDENT || v->neg)
                ERR(d, v->loc, "default of enum '%s' must be one of its values", tn);
            else if (!find_enumval(t->target, v->s)) {
                ERR(d, v->loc, "'%s' is not a value of enum '%s'", v->s, tn);
                diag_note(c, t->target->file, t->target->loc, "'%s' is declared here", tn);
            }
            return;
        }
        ERR(d, v->loc, "a field of message type '%s' cannot have a default", tn);
        return;
    default:
        ERR(d, v->loc, "a value of type '%s' cannot have a default", tn);
        return;
    }
}

static int cmp_number(const void *a, const void *b)
{
    const field *x = *(const field *const *)a, *y = *(const field *const *)b;
    return x->number < y->number ? -1 : x->number > y->number;
}

static void check_message(ctx *c, rvfile *f, decl *d)
{
    uint64_t next = 1;
    size_t n = 0;
    strmap names = { .ar = c->ar }, numbers = { .ar = c->ar };
    for (field *fl = d->fields; fl; fl = fl->next, n++) {
        check_ident(c, f, d, fl->name, fl->loc, "field");
        field *p = strmap_get(&names, fl->name);
        if (p) {
            ERR(d, fl->loc, "duplicate field '%s' in message '%s'", fl->name, d->name);
            diag_note(c, f, p->loc, "'%s' was declared here", p->name);
        } else {
            strmap_put(&names, fl->name, fl);
        }
        resolve(c, f, &fl->type);
        if (fl->type.kind == TY_NAMED && fl->type.target && fl->type.target->kind == D_VR) {
            ERR(d, fl->type.loc, "'%s' is a vr, not a message or enum", fl->type.name);
            fl->type.target = NULL;
        }
        if (fl->type.kind == TY_NAMED && !fl->type.target)
            d->bad = true;
        bool valid = true;
        if (fl->has_number) {
            valid = false;
            if (fl->number == 0 || fl->number > MAX_FIELD_NUMBER)
                ERR(d, fl->num_loc, "field number %llu is out of range (1 to %u)",
                    (unsigned long long)fl->number, MAX_FIELD_NUMBER);
            else if (fl->number >= PB_RESERVED_LO && fl->number <= PB_RESERVED_HI)
                ERR(d, fl->num_loc, "field numbers %u to %u are reserved by protobuf",
                    PB_RESERVED_LO, PB_RESERVED_HI);
            else
                valid = true;
        } else {
            fl->number = next;
            fl->num_loc = fl->loc;
            if (next > MAX_FIELD_NUMBER) {
                ERR(d, fl->loc, "implicit field number %llu is out of range (1 to %u)",
                    (unsigned long long)next, MAX_FIELD_NUMBER);
                valid = false;
            } else if (next >= PB_RESERVED_LO && next <= PB_RESERVED_HI) {
                ERR(d, fl->loc, "implicit field number %llu is reserved by protobuf",
                    (unsigned long long)next);
                valid = false;
            }
        }
        if (valid) {
            next = fl->number + 1;
            const char *key = ar_printf(c->ar, "%llu", (unsigned long long)fl->number);
            if ((p = strmap_get(&numbers, key))) {
                ERR(d, fl->has_number ? fl->num_loc : fl->loc,
                    "field number %llu of '%s' is already used by '%s'",
                    (unsigned long long)fl->number, fl->name, p->name);
                diag_note(c, f, p->loc, "'%s' was declared here", p->name);
            } else {
                strmap_put(&numbers, key, fl);
            }
        }
        if (fl->has_bound && (fl->bound == 0 || fl->bound > MAX_ARRAY_BOUND))
            ERR(d, fl->bound_loc, "array bound must be between 1 and %u", MAX_ARRAY_BOUND);
        if (fl->def)
            check_default(c, f, d, &fl->type, fl->is_array, fl->def);
        if (d->open && !strcmp(fl->name, "extra")) {
            ERR(d, fl->loc, "field 'extra' clashes with the member that holds the extra "
                "attributes of an open-ended message");
            diag_note(c, f, d->open_loc, "the message is open-ended here");
        }
    }
    /* members the generated struct adds */
    for (field *p = d->fields; p; p = p->next) {
        field *q = p->is_array ? strmap_get(&names, ar_printf(c->ar, "%s_count", p->name)) : NULL;
        if (q) {
            ERR(d, q->loc, "field '%s' clashes with the count member of array '%s'",
                q->name, p->name);
            diag_note(c, f, p->loc, "'%s' was declared here", p->name);
        }
    }
    d->nfields = n;
    d->sorted = ar_alloc(c->ar, (n ? n : 1) * sizeof *d->sorted);
    n = 0;
    for (field *fl = d->fields; fl; fl = fl->next)
        d->sorted[n++] = fl;
    qsort(d->sorted, n, sizeof *d->sorted, cmp_number);
}

static void check_enum(ctx *c, rvfile *f, decl *d)
{
    bool zero = false;
    strmap names = { .ar = c->ar }, values = { .ar = c->ar };
    if (!d->values)
        ERR(d, d->loc, "enum '%s' has no values", d->name);
    for (enumval *v = d->values; v; v = v->next) {
        check_ident(c, f, d, v->name, v->loc, "enum value");
        if (v->overflow || (v->neg ? v->mag > 0x80000000u : v->mag > 0x7fffffffu)) {
            ERR(d, v->loc, "value of '%s' is out of range for an enum (32-bit signed)", v->name);
            continue;
        }
        v->value = v->neg ? -(int64_t)v->mag : (int64_t)v->mag;
        zero |= v->value == 0;
        enumval *p = strmap_get(&names, v->name);
        const char *key = ar_printf(c->ar, "%lld", (long long)v->value);
        if (p) {
            ERR(d, v->loc, "duplicate value name '%s' in enum '%s'", v->name, d->name);
            diag_note(c, f, p->loc, "'%s' was declared here", p->name);
        } else if ((p = strmap_get(&values, key))) {
            ERR(d, v->loc, "'%s' has the same value (%lld) as '%s'", v->name,
                (long long)v->value, p->name);
            diag_note(c, f, p->loc, "'%s' was declared here", p->name);
        }
        if (!strmap_get(&names, v->name))
            strmap_put(&names, v->name, v);
        if (!strmap_get(&values, key))
            strmap_put(&values, key, v);
    }
    if (d->values && !zero)
        ERR(d, d->loc, "enum '%s' has no value equal to 0 (the value of a field that was not set)",
            d->name);
}

static void check_msglist(ctx *c, rvfile *f, decl *d, tlist *list, const char *verb, bool recv)
{
    for (tlist *t = list; t; t = t->next) {
        if (t->t.kind != TY_NAMED) {
            ERR(d, t->t.loc, "vr '%s' %s '%s', which is not a message", d->name, verb,
                tkind_name(t->t.kind));
            continue;
        }
        resolve(c, f, &t->t);
        if (!t->t.target) {
            d->bad = true;
            continue;
        }
        if (t->t.target->kind != D_MESSAGE) {
            ERR(d, t->t.loc, "vr '%s' %s '%s', which is %s, not a message", d->name, verb,
                type_text(c, &t->t), t->t.target->kind == D_ENUM ? "an enum" : "a vr");
            t->t.target = NULL;
            continue;
        }
        for (tlist *p = list; p != t; p = p->next) {
            if (p->t.target == t->t.target) {
                diag_warning(c, f, t->t.loc, "'%s' is listed twice", type_text(c, &t->t));
                diag_note(c, f, p->t.loc, "first listed here");
                break;
            }
            if (recv && p->t.target && !strcmp(p->t.target->name, t->t.target->name)) {
                ERR(d, t->t.loc, "vr '%s' receives two messages named '%s'", d->name,
                    t->t.name);
                diag_note(c, f, p->t.loc, "the other one is listed here");
                break;
            }
        }
    }
}

static void check_vr(ctx *c, rvfile *f, decl *d)
{
    strmap names = { .ar = c->ar };
    for (field *p = d->fields; p; p = p->next) {
        check_ident(c, f, d, p->name, p->loc, "parameter");
        field *q = strmap_get(&names, p->name);
        if (q) {
            ERR(d, p->loc, "duplicate parameter '%s' of vr '%s'", p->name, d->name);
            diag_note(c, f, q->loc, "'%s' was declared here", q->name);
        } else {
            strmap_put(&names, p->name, p);
        }
        switch (p->type.kind) {
        case TY_BOOL: case TY_INT32: case TY_INT64: case TY_UINT32: case TY_UINT64:
        case TY_FLOAT: case TY_DOUBLE: case TY_STRING:
            if (p->def)
                check_default(c, f, d, &p->type, false, p->def);
            break;
        default:
            ERR(d, p->type.loc, "parameter '%s' has type '%s'; vr parameters are bool, "
                "integers, float, double or string", p->name, type_text(c, &p->type));
        }
        if (p->type.kind == TY_NAMED) {
            resolve(c, f, &p->type);   /* marks the import used; the error is above */
            p->type.target = NULL;
        }
    }
    check_msglist(c, f, d, d->sends, "sends", false);
    check_msglist(c, f, d, d->receives, "receives", true);
}

void check_file(ctx *c, rvfile *f)
{
    if (f->checked)
        return;
    f->checked = true;
    for (import *im = f->imports; im; im = im->next)
        if (im->target)
            check_file(c, im->target);

    if (!f->package) {
        srcloc l = {1, 1, 1, 2};
        diag_error(c, f, l, "missing package declaration (for example 'package %s;' first)",
                   "mypkg");
    } else {
        const char *p = f->package;
        while (*p) {
            const char *e = strchr(p, '.');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            check_ident(c, f, NULL, ar_strndup(c->ar, p, n), f->pkg_loc, "package");
            p += n + (e != NULL);
        }
    }
    f->prefix = file_prefix(c, f);

    strmap names = { .ar = c->ar };
    for (decl *d = f->decls; d; d = d->next) {
        if (!d->name)
            continue;
        check_ident(c, f, d, d->name, d->loc, d->kind == D_MESSAGE ? "message"
                    : d->kind == D_ENUM ? "enum" : "vr");
        decl *p = strmap_get(&names, d->name);
        if (p) {
            ERR(d, d->loc, "redefinition of '%s'", d->name);
            diag_note(c, f, p->loc, "previous definition of '%s' is here", p->name);
        } else {
            strmap_put(&names, d->name, d);
        }
    }
    f->names = names;
    for (decl *d = f->decls; d; d = d->next)
        if (d->kind == D_ENUM)
            check_enum(c, f, d);
    for (decl *d = f->decls; d; d = d->next) {
        if (d->kind == D_MESSAGE)
            check_message(c, f, d);
        else if (d->kind == D_VR)
            check_vr(c, f, d);
    }
    check_cycles(c, f);
    check_clashes(c, f);
    for (import *im = f->imports; im; im = im->next)
        if (im->target && !im->used)
            diag_warning(c, f, im->loc, "'%s' is imported but none of its declarations is used",
                         im->path);
}
