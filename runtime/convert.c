/* convert.c — see convert.h. */
#include "convert.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "value_impl.h"

#define AT(msg, off) ((char *)(msg) + (off))

static rvr_map **extra_of(const rvr_schema *s, const void *msg)
{
    return (rvr_map **)AT(msg, s->extra_offset);
}

/* ---- typed -> dynamic ------------------------------------------------------ */

static rvr_status struct_to_map(const rvr_schema *s, const void *msg, rvr_map *out,
                                unsigned budget);

/* One element of field f, at p, as a value.  `budget`: how deep it may nest. */
static rvr_status elem_to_value(const rvr_field *f, const void *p, unsigned budget, rvr_value *v)
{
    switch (f->type) {
    case RVR_F_BOOL:   *v = rvr_value_bool(*(const bool *)p); return RVR_OK;
    case RVR_F_INT32:
    case RVR_F_ENUM:   *v = rvr_value_i64(*(const int32_t *)p); return RVR_OK;
    case RVR_F_INT64:  *v = rvr_value_i64(*(const int64_t *)p); return RVR_OK;
    case RVR_F_UINT32: *v = rvr_value_u64(*(const uint32_t *)p); return RVR_OK;
    case RVR_F_UINT64: *v = rvr_value_u64(*(const uint64_t *)p); return RVR_OK;
    case RVR_F_FLOAT:  *v = rvr_value_f64(*(const float *)p); return RVR_OK;
    case RVR_F_DOUBLE: *v = rvr_value_f64(*(const double *)p); return RVR_OK;
    case RVR_F_UUID:   *v = rvr_value_uuid((const rvr_uuid *)p); return RVR_OK;
    case RVR_F_STRING: {
        const char *str = *(char *const *)p;
        return rvr_value_str(v, str != NULL ? str : "");
    }
    case RVR_F_BYTES: {
        const rvr_bytes *b = p;
        return rvr_value_bytes(v, b->data, b->len);
    }
    case RVR_F_ANY:
        return rvr_value_copy(v, p);
    case RVR_F_MESSAGE: {
        if (budget == 0)
            return RVR_ELIMIT;
        rvr_map *m = rvr_map_new();
        if (m == NULL)
            return RVR_ENOMEM;
        rvr_status st = struct_to_map(f->message, p, m, budget - 1);
        if (st != RVR_OK) {
            rvr_map_free(m);
            return st;
        }
        *v = rvr_value_map(m);
        return RVR_OK;
    }
    }
    return RVR_EINVAL;
}

static rvr_status field_to_value(const rvr_field *f, const void *msg, unsigned budget,
                                 rvr_value *v)
{
    if (!(f->flags & RVR_FIELD_ARRAY))
        return elem_to_value(f, AT(msg, f->offset), budget, v);
    if (budget == 0)
        return RVR_ELIMIT;
    const char *elems = *(char *const *)AT(msg, f->offset);
    size_t n = *(const size_t *)AT(msg, f->count_offset);
    rvr_list *l = rvr_list_new();
    if (l == NULL)
        return RVR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        rvr_value e = { RVR_T_NONE };
        rvr_status st = elem_to_value(f, elems + i * f->elem_size, budget - 1, &e);
        if (st == RVR_OK && e.type == RVR_T_NONE)
            st = RVR_ESCHEMA;   /* an unset `any` cannot be a list element */
        if (st == RVR_OK && (st = rvr_list_append(l, &e)) != RVR_OK)
            rvr_value_clear(&e);
        if (st != RVR_OK) {
            rvr_list_free(l);
            return st;
        }
    }
    *v = rvr_value_list(l);
    return RVR_OK;
}

/* `budget`: how deep the values put into `out` may nest. */
static rvr_status struct_to_map(const rvr_schema *s, const void *msg, rvr_map *out,
                                unsigned budget)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const rvr_field *f = &s->fields[i];
        rvr_value v = { RVR_T_NONE };
        rvr_status st = field_to_value(f, msg, budget, &v);
        if (st != RVR_OK)
            return st;
        if (v.type == RVR_T_NONE)
            continue;   /* an unset `any` is an absent attribute */
        if ((st = rvr_map_put(out, f->name, &v, budget)) != RVR_OK) {
            rvr_value_clear(&v);
            return st;
        }
    }
    const rvr_map *extra = s->open ? *extra_of(s, msg) : NULL;
    for (size_t i = 0; extra != NULL && i < extra->len; i++) {
        const rvr_map_entry *e = &extra->entries[i];
        if (rvr_map_get(out, e->key) != NULL)
            continue;   /* a declared field wins over an extra of the same name */
        rvr_value v;
        rvr_status st = rvr_value_copy(&v, &e->val);
        if (st == RVR_OK && (st = rvr_map_put(out, e->key, &v, budget)) != RVR_OK)
            rvr_value_clear(&v);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

rvr_status rvr_typed_to_map(const rvr_schema *s, const void *msg, rvr_map *out)
{
    if (s == NULL || msg == NULL || out == NULL)
        return RVR_EINVAL;
    return struct_to_map(s, msg, out, RVR_MAX_DEPTH);
}

/* ---- dynamic -> typed ------------------------------------------------------ */

static rvr_status map_to_struct(const rvr_schema *s, const rvr_map *attrs, void *out);

static bool as_i64(const rvr_value *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (v->type == RVR_T_INT && v->as.i >= lo && v->as.i <= hi) {
        *out = v->as.i;
        return true;
    }
    if (v->type == RVR_T_UINT && v->as.u <= (uint64_t)hi) {
        *out = (int64_t)v->as.u;
        return true;
    }
    return false;
}

static bool as_u64(const rvr_value *v, uint64_t hi, uint64_t *out)
{
    if (v->type == RVR_T_UINT && v->as.u <= hi) {
        *out = v->as.u;
        return true;
    }
    if (v->type == RVR_T_INT && v->as.i >= 0 && (uint64_t)v->as.i <= hi) {
        *out = (uint64_t)v->as.i;
        return true;
    }
    return false;
}

static bool as_f64(const rvr_value *v, double *out)
{
    switch (v->type) {
    case RVR_T_DOUBLE: *out = v->as.d; return true;
    case RVR_T_INT:    *out = (double)v->as.i; return true;
    case RVR_T_UINT:   *out = (double)v->as.u; return true;
    default:           return false;
    }
}

static bool enum_by_name(const rvr_enum_schema *e, const char *name, int32_t *out)
{
    for (size_t i = 0; e != NULL && i < e->nvalues; i++)
        if (strcmp(e->values[i].name, name) == 0) {
            *out = e->values[i].value;
            return true;
        }
    return false;
}

/* Stores value v into the element of field f at p (already initialised).
 * RVR_ESCHEMA when the types do not fit. */
static rvr_status value_to_elem(const rvr_field *f, const rvr_value *v, void *p)
{
    int64_t i;
    uint64_t u;
    double d;
    switch (f->type) {
    case RVR_F_BOOL:
        if (v->type != RVR_T_BOOL)
            return RVR_ESCHEMA;
        *(bool *)p = v->as.b;
        return RVR_OK;
    case RVR_F_INT32:
        if (!as_i64(v, INT32_MIN, INT32_MAX, &i))
            return RVR_ESCHEMA;
        *(int32_t *)p = (int32_t)i;
        return RVR_OK;
    case RVR_F_ENUM: {
        int32_t e;
        if (v->type == RVR_T_STRING) {
            if (!enum_by_name(f->enumeration, v->as.str.ptr, &e))
                return RVR_ESCHEMA;
        } else if (as_i64(v, INT32_MIN, INT32_MAX, &i)) {
            e = (int32_t)i;
        } else {
            return RVR_ESCHEMA;
        }
        *(int32_t *)p = e;
        return RVR_OK;
    }
    case RVR_F_INT64:
        if (!as_i64(v, INT64_MIN, INT64_MAX, &i))
            return RVR_ESCHEMA;
        *(int64_t *)p = i;
        return RVR_OK;
    case RVR_F_UINT32:
        if (!as_u64(v, UINT32_MAX, &u))
            return RVR_ESCHEMA;
        *(uint32_t *)p = (uint32_t)u;
        return RVR_OK;
    case RVR_F_UINT64:
        if (!as_u64(v, UINT64_MAX, &u))
            return RVR_ESCHEMA;
        *(uint64_t *)p = u;
        return RVR_OK;
    case RVR_F_FLOAT:
        if (!as_f64(v, &d))
            return RVR_ESCHEMA;
        *(float *)p = (float)d;
        return RVR_OK;
    case RVR_F_DOUBLE:
        if (!as_f64(v, &d))
            return RVR_ESCHEMA;
        *(double *)p = d;
        return RVR_OK;
    case RVR_F_UUID:
        if (v->type != RVR_T_UUID)
            return RVR_ESCHEMA;
        *(rvr_uuid *)p = v->as.uuid;
        return RVR_OK;
    case RVR_F_STRING: {
        if (v->type != RVR_T_STRING)
            return RVR_ESCHEMA;
        char *s = malloc(v->as.str.len + 1);
        if (s == NULL)
            return RVR_ENOMEM;
        memcpy(s, v->as.str.ptr, v->as.str.len + 1);
        free(*(char **)p);
        *(char **)p = s;
        return RVR_OK;
    }
    case RVR_F_BYTES: {
        const uint8_t *src;
        size_t n;
        if (v->type == RVR_T_BYTES) {
            src = v->as.bytes.ptr;
            n = v->as.bytes.len;
        } else if (v->type == RVR_T_STRING) {
            src = (const uint8_t *)v->as.str.ptr;
            n = v->as.str.len;
        } else {
            return RVR_ESCHEMA;
        }
        rvr_bytes *b = p;
        uint8_t *data = NULL;
        if (n > 0 && (data = malloc(n)) == NULL)
            return RVR_ENOMEM;
        if (n > 0)
            memcpy(data, src, n);
        free(b->data);
        b->data = data;
        b->len = n;
        return RVR_OK;
    }
    case RVR_F_ANY: {
        rvr_value c;
        rvr_status st = rvr_value_copy(&c, v);
        if (st != RVR_OK)
            return st;
        rvr_value_clear(p);
        *(rvr_value *)p = c;
        return RVR_OK;
    }
    case RVR_F_MESSAGE:
        if (v->type != RVR_T_MAP)
            return RVR_ESCHEMA;
        return map_to_struct(f->message, v->as.map, p);
    }
    return RVR_ESCHEMA;
}

static rvr_status value_to_field(const rvr_field *f, const rvr_value *v, void *msg)
{
    if (!(f->flags & RVR_FIELD_ARRAY))
        return value_to_elem(f, v, AT(msg, f->offset));
    if (v->type != RVR_T_LIST)
        return RVR_ESCHEMA;
    size_t n = rvr_list_len(v->as.list);
    if (f->bound != 0 && n > f->bound)
        return RVR_ESCHEMA;
    char *elems = n ? calloc(n, f->elem_size) : NULL;
    if (n > 0 && elems == NULL)
        return RVR_ENOMEM;
    /* Hand the array to the message first, so clear() frees it on failure. */
    char **slot = (char **)AT(msg, f->offset);
    size_t *count = (size_t *)AT(msg, f->count_offset);
    *slot = elems;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        void *e = elems + i * f->elem_size;
        if (f->type == RVR_F_MESSAGE)
            f->message->init(e);
        rvr_status st = value_to_elem(f, rvr_list_get(v->as.list, i), e);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

/* Fills an initialised message from attributes. */
static rvr_status map_to_struct(const rvr_schema *s, const rvr_map *attrs, void *out)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const rvr_field *f = &s->fields[i];
        const rvr_value *v = rvr_map_get(attrs, f->name);
        if (v == NULL)
            continue;   /* missing: keeps its default */
        rvr_status st = value_to_field(f, v, out);
        if (st != RVR_OK)
            return st;
    }
    if (!s->open)
        return RVR_OK;
    for (uint32_t i = 0; i < attrs->len; i++) {
        const rvr_map_entry *e = &attrs->entries[i];
        bool declared = false;
        for (size_t k = 0; k < s->nfields && !declared; k++)
            declared = strcmp(s->fields[k].name, e->key) == 0;
        if (declared)
            continue;
        rvr_map **extra = extra_of(s, out);
        if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
            return RVR_ENOMEM;
        rvr_value v;
        rvr_status st = rvr_value_copy(&v, &e->val);
        if (st == RVR_OK && (st = rvr_map_set(*extra, e->key, &v)) != RVR_OK)
            rvr_value_clear(&v);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

rvr_status rvr_map_to_typed(const rvr_schema *s, const rvr_map *attrs, void *out)
{
    if (s == NULL || attrs == NULL || out == NULL)
        return RVR_EINVAL;
    s->init(out);
    rvr_status st = map_to_struct(s, attrs, out);
    if (st != RVR_OK)
        s->clear(out);
    return st;
}

/* ---- one version to another ---------------------------------------------- */

static const rvr_field *field_by_number(const rvr_schema *s, uint32_t number)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].number == number)
            return &s->fields[i];
    return NULL;
}

rvr_status rvr_typed_convert(const rvr_schema *from, const void *msg, const rvr_schema *to,
                             void *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    rvr_status st = from->encode(msg, &buf, &len);
    if (st != RVR_OK)
        return st;
    st = to->decode(buf, len, out);
    free(buf);
    if (st != RVR_OK)
        return st;
    if (!to->open)
        return RVR_OK;
    /* Keep what `to` does not know, by the sender's names: unknown field
     * numbers, then the sender's own extra attributes. */
    rvr_map **extra = extra_of(to, out);
    for (size_t i = 0; i < from->nfields && st == RVR_OK; i++) {
        const rvr_field *f = &from->fields[i];
        if (field_by_number(to, f->number) != NULL)
            continue;
        rvr_value v = { RVR_T_NONE };
        if ((st = field_to_value(f, msg, RVR_MAX_DEPTH, &v)) != RVR_OK)
            break;
        if (v.type == RVR_T_NONE)
            continue;   /* an unset `any` */
        if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
            st = RVR_ENOMEM;
        if (st == RVR_OK)
            st = rvr_map_set(*extra, f->name, &v);
        rvr_value_clear(&v);
    }
    const rvr_map *theirs = from->open ? *extra_of(from, msg) : NULL;
    for (uint32_t i = 0; st == RVR_OK && theirs != NULL && i < theirs->len; i++) {
        rvr_value v;
        if ((st = rvr_value_copy(&v, &theirs->entries[i].val)) != RVR_OK)
            break;
        if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
            st = RVR_ENOMEM;
        if (st == RVR_OK)
            st = rvr_map_set(*extra, theirs->entries[i].key, &v);
        rvr_value_clear(&v);
    }
    if (st != RVR_OK)
        to->clear(out);
    return st;
}
