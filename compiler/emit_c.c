/* emit_c.c — the generated source NAME.rvr.c: nanopb descriptors
 * (PB_BIND/FIELDLIST X-macros, no protoc) and per-message callbacks for
 * decoding, init/clear/encode/decode/send/recv, the rvr_schema constants,
 * VR descriptors and helpers, and registration.  The generic marshalling
 * is libriver's <river/pbsupport.h> (rvr_pb_*): nothing generated is
 * static support code shared by every file. */
#include <inttypes.h>
#include <string.h>
#include "emit_common.h"

static bool has_callbacks(const decl *d)
{
    for (const field *fl = d->fields; fl; fl = fl->next)
        if (field_is_callback(fl))
            return true;
    return false;
}

static bool is_message(const typeref *t)
{
    return t->kind == TY_NAMED && t->target->kind == D_MESSAGE;
}

static const char *sub_schema(ctx *c, const typeref *t)
{
    return is_message(t) ? ar_printf(c->ar, "&%s_schema", cname(c, t->target)) : "NULL";
}

static void emit_fieldlist(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    sb_printf(o, "#define %s_FIELDLIST(X__, a__)", n);
    for (size_t i = 0; i < d->nfields; i++) {
        const field *fl = d->sorted[i];
        bool cb = field_is_callback(fl);
        sb_printf(o, " \\\n    X__(a__, %-9s %-9s %-19s %s, %llu)", cb ? "CALLBACK," : "STATIC,",
                  fl->is_array ? "REPEATED," : "SINGULAR,",
                  ar_printf(c->ar, "%s,", pb_ltype(fl)), fl->name,
                  (unsigned long long)fl->number);
    }
    sb_puts(o, "\n");
    sb_printf(o, "#define %s_CALLBACK %s\n", n, has_callbacks(d) ? ar_printf(c->ar, "%s_cb_", n)
                                                                  : "NULL");
    sb_printf(o, "#define %s_DEFAULT NULL\n", n);
    sb_printf(o, "PB_BIND(%s, %s, 4)\n\n", n, n);
}

/* The nanopb field callback: decoding only (rvr_pb_encode walks the schema
 * and never runs nanopb's encoder on these descriptors). */
static void emit_callback(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    sb_printf(o, "static bool %s_cb_(pb_istream_t *is, pb_ostream_t *os, const pb_field_iter_t *f)\n"
              "{\n    %s *m = (%s *)f->message;\n    (void)os;\n    if (!is)\n"
              "        return false; /* encoding is rvr_pb_encode's, never nanopb's */\n    switch (f->tag) {\n", n, n, n);
    for (size_t i = 0; i < d->nfields; i++) {
        const field *fl = d->sorted[i];
        if (!field_is_callback(fl))
            continue;
        const char *nm = fl->name, *k = ftype_const(&fl->type);
        sb_printf(o, "    case %llu: /* %s */\n", (unsigned long long)fl->number, nm);
        if (fl->is_array) {
            const char *bound = fl->has_bound ? ar_printf(c->ar, "%llu", (unsigned long long)fl->bound)
                                              : "0";
            sb_printf(o, "        return rvr_pb_dec_elem(is, %s, &m->%s, &m->%s_count, sizeof *m->%s, "
                      "%s, %s);\n", k, nm, nm, nm, bound, sub_schema(c, &fl->type));
            continue;
        }
        switch (fl->type.kind) {
        case TY_STRING:
            sb_printf(o, "        return rvr_pb_dec_string(is, &m->%s);\n", nm);
            break;
        case TY_BYTES:
            sb_printf(o, "        return rvr_pb_dec_bytes(is, &m->%s);\n", nm);
            break;
        case TY_ANY:
            sb_printf(o, "        return rvr_pb_dec_any(is, &m->%s);\n", nm);
            break;
        default:
            if (is_message(&fl->type))
                sb_printf(o, "        return rvr_pb_dec_msg(is, %s, &m->%s);\n",
                          sub_schema(c, &fl->type), nm);
            else
                sb_printf(o, "        return rvr_pb_dec_scalar(is, %s, &m->%s);\n", k, nm);
        }
    }
    sb_puts(o, "    default:\n        return true;\n    }\n}\n\n");
}

static void emit_init_clear(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    sb_printf(o, "void %s_init(%s *m)\n{\n    memset(m, 0, sizeof *m);\n", n, n);
    for (const field *fl = d->fields; fl; fl = fl->next) {
        if (fl->is_array)
            continue;
        if (is_message(&fl->type)) {
            sb_printf(o, "    %s_init(&m->%s);\n", cname(c, fl->type.target), fl->name);
            continue;
        }
        const char *e = default_expr(c, &fl->type, fl->def);
        if (!e)
            continue;
        if (fl->type.kind == TY_STRING)
            sb_printf(o, "    m->%s = rvr_pb_strdup(%s);\n", fl->name, e);
        else
            sb_printf(o, "    m->%s = %s;\n", fl->name, e);
    }
    sb_puts(o, "}\n\n");

    sb_printf(o, "void %s_clear(%s *m)\n{\n", n, n);
    bool loops = false;
    for (const field *fl = d->fields; fl; fl = fl->next)
        loops |= fl->is_array && (fl->type.kind == TY_STRING || fl->type.kind == TY_BYTES
                                  || fl->type.kind == TY_ANY || is_message(&fl->type));
    if (loops)
        sb_puts(o, "    size_t i;\n");
    sb_puts(o, "    if (!m)\n        return;\n");
    for (const field *fl = d->fields; fl; fl = fl->next) {
        const char *nm = fl->name;
        if (fl->is_array) {
            const char *each = NULL;
            switch (fl->type.kind) {
            case TY_STRING: each = ar_printf(c->ar, "free(m->%s[i])", nm); break;
            case TY_BYTES:  each = ar_printf(c->ar, "free(m->%s[i].data)", nm); break;
            case TY_ANY:    each = ar_printf(c->ar, "rvr_value_clear(&m->%s[i])", nm); break;
            default:
                if (is_message(&fl->type))
                    each = ar_printf(c->ar, "%s_clear(&m->%s[i])", cname(c, fl->type.target), nm);
            }
            if (each)
                sb_printf(o, "    for (i = 0; m->%s && i < m->%s_count; i++)\n        %s;\n", nm, nm,
                          each);
            sb_printf(o, "    free(m->%s);\n", nm);
            continue;
        }
        switch (fl->type.kind) {
        case TY_STRING: sb_printf(o, "    free(m->%s);\n", nm); break;
        case TY_BYTES:  sb_printf(o, "    free(m->%s.data);\n", nm); break;
        case TY_ANY:    sb_printf(o, "    rvr_value_clear(&m->%s);\n", nm); break;
        default:
            if (is_message(&fl->type))
                sb_printf(o, "    %s_clear(&m->%s);\n", cname(c, fl->type.target), nm);
        }
    }
    if (d->open)
        sb_puts(o, "    rvr_map_free(m->extra);\n");
    sb_puts(o, "    memset(m, 0, sizeof *m);\n}\n\n");
}

static void emit_functions(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    sb_printf(o, "rvr_status %s_encode(const %s *m, uint8_t **buf, size_t *len)\n{\n"
              "    return rvr_pb_encode(&%s_schema, m, buf, len);\n}\n\n", n, n, n);
    sb_printf(o, "rvr_status %s_decode(const uint8_t *buf, size_t len, %s *m)\n{\n"
              "    rvr_status st;\n    if (!m)\n        return RVR_EINVAL;\n    %s_init(m);\n"
              "    st = rvr_pb_decode(&%s_schema, buf, len, m);\n    if (st != RVR_OK)\n"
              "        %s_clear(m);\n    return st;\n}\n\n", n, n, n, n, n);
    sb_printf(o, "rvr_status %s_send(rvr_vr *self, const rvr_uuid *dst, %s *m)\n{\n"
              "    return rvr_send_typed(self, dst, &%s_schema, m);\n}\n\n", n, n, n);
    sb_printf(o, "rvr_status %s_recv(rvr_vr *self, %s *out, const rvr_match *extra, int timeout_ms)\n"
              "{\n    return rvr_recv_typed(self, &%s_schema, extra, timeout_ms, out);\n}\n\n",
              n, n, n);
}

static void emit_schema(ctx *c, const rvfile *f, const char *stem, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    if (d->nfields) {
        sb_printf(o, "static const rvr_field %s_fields_[] = {\n", n);
        for (size_t i = 0; i < d->nfields; i++) {
            const field *fl = d->sorted[i];
            const typeref *t = &fl->type;
            bool en = t->kind == TY_NAMED && t->target->kind == D_ENUM;
            const char *flags = fl->is_array ? (fl->def ? "RVR_FIELD_ARRAY | RVR_FIELD_DEFAULT"
                                                        : "RVR_FIELD_ARRAY")
                                             : fl->def ? "RVR_FIELD_DEFAULT" : "0";
            sb_printf(o, "    { \"%s\", %llu, %s, %s,\n      offsetof(%s, %s), ", fl->name,
                      (unsigned long long)fl->number, ftype_const(t), flags, n, fl->name);
            if (fl->is_array)
                sb_printf(o, "offsetof(%s, %s_count), ", n, fl->name);
            else
                sb_puts(o, "0, ");
            sb_printf(o, "sizeof(%s), %llu, %s, %s,\n", ctype(c, t),
                      (unsigned long long)(fl->has_bound ? fl->bound : 0), sub_schema(c, t),
                      en ? ar_printf(c->ar, "&%s_schema", cname(c, t->target)) : "NULL");
            const char *txt = default_text(c, t, fl->def);
            sb_printf(o, "      %s, ", txt ? c_string(c, txt) : "NULL");
            /* rvr_default { b, i, u, d, s } */
            const char *b = "false", *iv = "0", *u = "0", *dv = "0.0", *s = "NULL";
            if (fl->def) {
                const char *e = default_expr(c, t, fl->def);
                switch (t->kind) {
                case TY_BOOL: b = e ? "true" : "false"; break;
                case TY_INT32: case TY_INT64: iv = e ? e : "0"; break;
                case TY_UINT32: case TY_UINT64: u = e ? e : "0"; break;
                case TY_FLOAT: case TY_DOUBLE: dv = e ? e : "0.0"; break;
                case TY_STRING: s = c_string(c, fl->def->s); break;
                default: iv = e ? e : "0"; break;
                }
            }
            sb_printf(o, "{ %s, %s, %s, %s, %s } },\n", b, iv, u, dv, s);
        }
        sb_puts(o, "};\n\n");
    }
    sb_printf(o, "static void %s_init_v_(void *m) { %s_init((%s *)m); }\n", n, n, n);
    sb_printf(o, "static void %s_clear_v_(void *m) { %s_clear((%s *)m); }\n", n, n, n);
    sb_printf(o, "static rvr_status %s_encode_v_(const void *m, uint8_t **buf, size_t *len)\n"
              "{\n    return %s_encode((const %s *)m, buf, len);\n}\n", n, n, n);
    sb_printf(o, "static rvr_status %s_decode_v_(const uint8_t *buf, size_t len, void *m)\n"
              "{\n    return %s_decode(buf, len, (%s *)m);\n}\n\n", n, n, n);
    const char *fn = full_name(c, d);
    sb_printf(o, "const rvr_schema %s_schema = {\n    RVR_SCHEMA_ABI, \"%s\", \"%s\", "
              "UINT64_C(0x%016" PRIx64 "), \"%s.rvr\",\n", n, fn, fn,
              message_fingerprint(c, d), stem);
    sb_printf(o, "    sizeof(%s), %s, %zu, %s, %s,\n", n,
              d->nfields ? ar_printf(c->ar, "%s_fields_", n) : "NULL", d->nfields,
              d->open ? "true" : "false",
              d->open ? ar_printf(c->ar, "offsetof(%s, extra)", n) : "0");
    sb_printf(o, "    %s_init_v_, %s_clear_v_, %s_encode_v_, %s_decode_v_, &%s_msg\n};\n\n",
              n, n, n, n, n);
    (void)f;
}

static void emit_enum(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    size_t nv = 0;
    sb_printf(o, "/* ---- enum %s ---- */\n", d->name);
    sb_printf(o, "typedef char %s_size_check_[sizeof(%s) == sizeof(int32_t) ? 1 : -1];\n", n, n);
    sb_printf(o, "static const rvr_enum_value %s_values_[] = {\n", n);
    for (const enumval *v = d->values; v; v = v->next, nv++)
        sb_printf(o, "    { \"%s\", %s },\n", v->name,
                  v->value == INT32_MIN ? "(-2147483647 - 1)"
                                        : ar_printf(c->ar, "%lld", (long long)v->value));
    sb_printf(o, "};\nconst rvr_enum_schema %s_schema = { \"%s\", %s_values_, %zu };\n\n", n,
              full_name(c, d), n, nv);
}

static const char *arg_kind(tkind k)
{
    switch (k) {
    case TY_BOOL: return "RVR_ARG_BOOL";
    case TY_INT32: return "RVR_ARG_INT32";
    case TY_INT64: return "RVR_ARG_INT64";
    case TY_UINT32: return "RVR_ARG_UINT32";
    case TY_UINT64: return "RVR_ARG_UINT64";
    case TY_FLOAT: return "RVR_ARG_FLOAT";
    case TY_DOUBLE: return "RVR_ARG_DOUBLE";
    default: return "RVR_ARG_STRING";
    }
}

static void emit_vr(ctx *c, const decl *d, strbuf *o)
{
    const char *n = cname(c, d);
    sb_printf(o, "/* ---- vr %s ---- */\n", d->name);
    sb_printf(o, "static int %s_main_(rvr_vr *self, const void *args)\n{\n"
              "    return %s_main(self, (const %s_args *)args);\n}\n\n", n, n, n);
    if (d->fields) {
        size_t np = 0;
        sb_printf(o, "static const %s_args %s_defaults_ = {", n, n);
        for (const field *p = d->fields; p; p = p->next) {
            const char *e = default_expr(c, &p->type, p->def);
            if (p->type.kind == TY_STRING && e)
                e = ar_printf(c->ar, "(char *)%s", e);
            sb_printf(o, "%s %s", p == d->fields ? "" : ",", e ? e : p->type.kind == TY_STRING
                                                                   ? "NULL" : "0");
        }
        sb_puts(o, " };\n");
        sb_printf(o, "static const rvr_arg_desc %s_arg_descs_[] = {\n", n);
        for (const field *p = d->fields; p; p = p->next, np++) {
            const char *t = default_text(c, &p->type, p->def);
            sb_printf(o, "    { \"%s\", %s, offsetof(%s_args, %s), %s, NULL },\n", p->name,
                      arg_kind(p->type.kind), n, p->name, t ? c_string(c, t) : "NULL");
        }
        sb_puts(o, "};\n");
        sb_printf(o, "const rvr_vr_type %s_type = {\n    \"%s\", %s_main_, sizeof(%s_args), "
                  "&%s_defaults_, %s_arg_descs_, %zu\n};\n\n", n, full_name(c, d), n, n, n, n, np);
    } else {
        sb_printf(o, "const rvr_vr_type %s_type = { \"%s\", %s_main_, 0, NULL, NULL, 0 };\n\n", n,
                  full_name(c, d), n);
    }
    sb_printf(o, "rvr_status %s_deploy(rvr_vr *self, const rvr_uuid *vm, const %s_args *args, "
              "rvr_uuid *out_id)\n{\n    return rvr_spawn(self, vm, &%s_type, args, out_id);\n}\n\n",
              n, n, n);
    if (!d->receives)
        return;
    size_t nr = 0;
    sb_printf(o, "static const rvr_schema *const %s_receives_[] = {\n", n);
    for (const tlist *t = d->receives; t; t = t->next)
        if (t->t.target) {
            sb_printf(o, "    &%s_schema,\n", cname(c, t->t.target));
            nr++;
        }
    sb_puts(o, "};\n\n");
    sb_printf(o, "rvr_status %s_recv_any(rvr_vr *self, %s_msg *out, int timeout_ms)\n{\n"
              "    size_t which = 0;\n    rvr_status st;\n    memset(out, 0, sizeof *out);\n"
              "    st = rvr_recv_typed_any(self, %s_receives_, %zu, timeout_ms, &which, &out->u);\n"
              "    if (st == RVR_OK)\n        out->kind = (%s_kind)(which + 1);\n    return st;\n}\n\n",
              n, n, n, nr, n);
    sb_printf(o, "void %s_msg_clear(%s_msg *m)\n{\n    switch (m->kind) {\n", n, n);
    for (const tlist *t = d->receives; t; t = t->next)
        if (t->t.target)
            sb_printf(o, "    case %s_MSG_%s:\n        %s_clear(&m->u.%s);\n        break;\n", n,
                      t->t.target->name, cname(c, t->t.target), t->t.target->name);
    sb_printf(o, "    default:\n        break;\n    }\n    m->kind = %s_MSG_NONE;\n}\n\n", n);
}

void emit_source(ctx *c, const rvfile *f, const char *stem, strbuf *o)
{
    const char *b = strrchr(f->path, '/');
    sb_printf(o, "/* %s.rvr.c -- generated by riverc %s from %s.  Do not edit.\n"
              " * Link with libriver and the nanopb 0.4 runtime (-lprotobuf-nanopb). */\n",
              stem, RIVERC_VERSION, b ? b + 1 : f->path);
    sb_puts(o, "#include <math.h>\n#include <stdlib.h>\n#include <string.h>\n"
               "#include <river/pbsupport.h>\n");
    sb_printf(o, "#include \"%s.rvr.h\"\n\n", stem);
    for (const decl *d = f->decls; d; d = d->next)
        if (d->kind == D_ENUM)
            emit_enum(c, d, o);
    bool any_msg = false;
    for (const decl *d = f->decls; d; d = d->next)
        if (d->kind == D_MESSAGE && has_callbacks(d)) {
            if (!any_msg)
                sb_puts(o, "/* ---- nanopb descriptors ---- */\n");
            any_msg = true;
            const char *n = cname(c, d);
            sb_printf(o, "static bool %s_cb_(pb_istream_t *is, pb_ostream_t *os, "
                      "const pb_field_iter_t *f);\n", n);
        }
    if (any_msg)
        sb_puts(o, "\n");
    for (const decl *d = f->decls; d; d = d->next)
        if (d->kind == D_MESSAGE)
            emit_fieldlist(c, d, o);
    for (const decl *d = f->decls; d; d = d->next) {
        if (d->kind != D_MESSAGE)
            continue;
        sb_printf(o, "/* ---- message %s ---- */\n", d->name);
        if (has_callbacks(d))
            emit_callback(c, d, o);
        emit_init_clear(c, d, o);
        emit_functions(c, d, o);
        emit_schema(c, f, stem, d, o);
    }
    for (const decl *d = f->decls; d; d = d->next)
        if (d->kind == D_VR)
            emit_vr(c, d, o);
    bool msgs = false;
    for (const decl *d = f->decls; d; d = d->next)
        msgs |= d->kind == D_MESSAGE;
    if (msgs) {
        sb_puts(o, "/* ---- registration: the runtime learns these schemas at start-up ---- */\n"
                   "#if defined(__GNUC__)\nstatic void rvr_register_(void) __attribute__((constructor));\n"
                   "static void rvr_register_(void)\n{\n");
        for (const decl *d = f->decls; d; d = d->next)
            if (d->kind == D_MESSAGE)
                sb_printf(o, "    (void)rvr_schema_register(&%s_schema);\n", cname(c, d));
        sb_puts(o, "}\n#endif\n");
    }
}
