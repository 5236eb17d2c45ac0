/* emit_common.c — see emit_common.h. */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include "emit_common.h"

const char *cname(ctx *c, const decl *d)
{
    return ar_printf(c->ar, "%s%s", file_prefix(c, d->file), d->name);
}

const char *full_name(ctx *c, const decl *d)
{
    const char *pkg = d->file->package;
    return pkg ? ar_printf(c->ar, "%s.%s", pkg, d->name) : d->name;
}

const char *ctype(ctx *c, const typeref *t)
{
    switch (t->kind) {
    case TY_BOOL:   return "bool";
    case TY_INT32:  return "int32_t";
    case TY_INT64:  return "int64_t";
    case TY_UINT32: return "uint32_t";
    case TY_UINT64: return "uint64_t";
    case TY_FLOAT:  return "float";
    case TY_DOUBLE: return "double";
    case TY_STRING: return "char *";
    case TY_BYTES:  return "rvr_bytes";
    case TY_UUID:   return "rvr_uuid";
    case TY_ANY:    return "rvr_value";
    case TY_NAMED:  return cname(c, t->target);
    default:        return "void";
    }
}

const char *ftype_const(const typeref *t)
{
    switch (t->kind) {
    case TY_BOOL:   return "RVR_F_BOOL";
    case TY_INT32:  return "RVR_F_INT32";
    case TY_INT64:  return "RVR_F_INT64";
    case TY_UINT32: return "RVR_F_UINT32";
    case TY_UINT64: return "RVR_F_UINT64";
    case TY_FLOAT:  return "RVR_F_FLOAT";
    case TY_DOUBLE: return "RVR_F_DOUBLE";
    case TY_STRING: return "RVR_F_STRING";
    case TY_BYTES:  return "RVR_F_BYTES";
    case TY_UUID:   return "RVR_F_UUID";
    case TY_ANY:    return "RVR_F_ANY";
    case TY_NAMED:  return t->target->kind == D_ENUM ? "RVR_F_ENUM" : "RVR_F_MESSAGE";
    default:        return "0";
    }
}

/* A default that differs from the zero value needs explicit encoding. */
static bool nonzero_default(const field *fl)
{
    const constval *v = fl->def;
    if (!v)
        return false;
    switch (v->kind) {
    case V_INT:    return v->u != 0 || v->neg;
    case V_FLOAT:  return v->d != 0.0 || v->neg;    /* -0.0 is not 0.0 bitwise */
    case V_BOOL:   return v->u != 0;
    case V_STRING: return v->s[0] != 0;
    case V_IDENT:
        if (fl->type.kind == TY_NAMED) {
            for (const enumval *e = fl->type.target->values; e; e = e->next)
                if (!strcmp(e->name, v->s))
                    return e->value != 0;
            return true;
        }
        return true;    /* inf, nan */
    }
    return true;
}

bool field_is_callback(const field *fl)
{
    if (fl->is_array)
        return true;
    switch (fl->type.kind) {
    case TY_STRING: case TY_BYTES: case TY_ANY:
        return true;
    case TY_UUID:
        return false;
    case TY_NAMED:
        return fl->type.target->kind == D_MESSAGE || nonzero_default(fl);
    default:
        return nonzero_default(fl);
    }
}

const char *pb_ltype(const field *fl)
{
    switch (fl->type.kind) {
    case TY_BOOL:   return "BOOL";
    case TY_INT32:  return "INT32";
    case TY_INT64:  return "INT64";
    case TY_UINT32: return "UINT32";
    case TY_UINT64: return "UINT64";
    case TY_FLOAT:  return "FLOAT";
    case TY_DOUBLE: return "DOUBLE";
    case TY_STRING: return "STRING";
    case TY_UUID:   return fl->is_array ? "BYTES" : "FIXED_LENGTH_BYTES";
    case TY_NAMED:  return fl->type.target->kind == D_ENUM ? "ENUM" : "BYTES";
    default:        return "BYTES";
    }
}

static const char *double_literal(ctx *c, double d, bool neg)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", neg ? -d : d);
    if (!strpbrk(buf, ".en"))
        strcat(buf, ".0");
    return ar_strdup(c->ar, buf);
}

const char *default_expr(ctx *c, const typeref *t, const constval *v)
{
    if (!v)
        return NULL;
    switch (t->kind) {
    case TY_BOOL:
        return v->u ? "true" : NULL;
    case TY_INT32:
        if (!v->u)
            return NULL;
        if (v->neg && v->u == 0x80000000u)
            return "(-2147483647 - 1)";
        return ar_printf(c->ar, "%s%llu", v->neg ? "-" : "", (unsigned long long)v->u);
    case TY_INT64:
        if (!v->u)
            return NULL;
        if (v->neg && v->u == 0x8000000000000000u)
            return "(-INT64_C(9223372036854775807) - 1)";
        return ar_printf(c->ar, "%sINT64_C(%llu)", v->neg ? "-" : "", (unsigned long long)v->u);
    case TY_UINT32:
        return v->u ? ar_printf(c->ar, "%lluu", (unsigned long long)v->u) : NULL;
    case TY_UINT64:
        return v->u ? ar_printf(c->ar, "UINT64_C(%llu)", (unsigned long long)v->u) : NULL;
    case TY_FLOAT: case TY_DOUBLE: {
        const char *e;
        if (v->kind == V_IDENT)
            e = !strcmp(v->s, "nan") ? "NAN" : v->neg ? "-INFINITY" : "INFINITY";
        else if (v->kind == V_INT)
            e = v->u || v->neg ? double_literal(c, (double)v->u, v->neg) : NULL;
        else
            e = v->d != 0.0 || v->neg ? double_literal(c, v->d, v->neg) : NULL;
        if (e && t->kind == TY_FLOAT)
            e = ar_printf(c->ar, "(float)%s", e);
        return e;
    }
    case TY_STRING:
        return v->s[0] ? c_string(c, v->s) : NULL;
    case TY_NAMED:
        return ar_printf(c->ar, "%s_%s", cname(c, t->target), v->s);
    default:
        return NULL;
    }
}

const char *default_text(ctx *c, const typeref *t, const constval *v)
{
    if (!v)
        return NULL;
    switch (v->kind) {
    case V_BOOL:   return v->u ? "true" : "false";
    case V_INT:    return ar_printf(c->ar, "%s%llu", v->neg && v->u ? "-" : "",
                                    (unsigned long long)v->u);
    case V_FLOAT:  {
        char buf[64];
        snprintf(buf, sizeof buf, t->kind == TY_FLOAT ? "%.9g" : "%.17g", v->neg ? -v->d : v->d);
        return ar_strdup(c->ar, buf);
    }
    case V_STRING: return v->s;
    case V_IDENT:  return v->neg ? ar_printf(c->ar, "-%s", v->s) : v->s;
    }
    return NULL;
}

static void canon_type(ctx *c, strbuf *b, const typeref *t)
{
    if (t->kind == TY_NAMED)
        sb_puts(b, full_name(c, t->target));
    else
        sb_puts(b, tkind_name(t->kind));
}

uint64_t message_fingerprint(ctx *c, const decl *d)
{
    strbuf b = {0};
    sb_printf(&b, "message %s{", full_name(c, d));
    for (size_t i = 0; i < d->nfields; i++) {
        const field *fl = d->sorted[i];
        sb_printf(&b, "%llu:", (unsigned long long)fl->number);
        canon_type(c, &b, &fl->type);
        if (fl->is_array)
            sb_printf(&b, "[%llu]", (unsigned long long)(fl->has_bound ? fl->bound : 0));
        sb_printf(&b, ":%s;", fl->name);
    }
    sb_puts(&b, d->open ? "...}" : "}");
    uint64_t h = fnv1a64(b.data, b.len, FNV64_INIT);
    sb_free(&b);
    return h;
}

const char *guard_name(ctx *c, const char *stem)
{
    char *g = ar_printf(c->ar, "RVR_GEN_%s_RVR_H", stem);
    for (char *p = g; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return g;
}

const char *c_string(ctx *c, const char *s)
{
    strbuf b = {0};
    sb_puts(&b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(&b, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f || *p == '?')
            sb_printf(&b, "\\%03o", *p);   /* octal: never runs into the next char */
        else
            sb_put(&b, (const char *)p, 1);
    }
    sb_puts(&b, "\"");
    const char *r = ar_strdup(c->ar, b.data);
    sb_free(&b);
    return r;
}
