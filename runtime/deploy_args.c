/* deploy_args.c — see deploy_args.h. */
#include "deploy_args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static void *member(const rvr_arg_desc *d, const void *args)
{
    return (char *)args + d->offset;
}

rvr_status rvr_args_to_map(const rvr_vr_type *t, const void *args, rvr_map **out)
{
    *out = NULL;
    rvr_map *m = rvr_map_new();
    if (m == NULL)
        return RVR_ENOMEM;
    if (args == NULL)
        args = t->defaults;
    rvr_status st = RVR_OK;
    for (size_t i = 0; args != NULL && i < t->nargs && st == RVR_OK; i++) {
        const rvr_arg_desc *d = &t->args[i];
        void *p = member(d, args);
        rvr_value v;
        switch (d->kind) {
        case RVR_ARG_BOOL: v = rvr_value_bool(*(bool *)p); break;
        case RVR_ARG_INT32: v = rvr_value_i64(*(int32_t *)p); break;
        case RVR_ARG_INT64: v = rvr_value_i64(*(int64_t *)p); break;
        case RVR_ARG_UINT32: v = rvr_value_u64(*(uint32_t *)p); break;
        case RVR_ARG_UINT64: v = rvr_value_u64(*(uint64_t *)p); break;
        case RVR_ARG_FLOAT: v = rvr_value_f64(*(float *)p); break;
        case RVR_ARG_DOUBLE: v = rvr_value_f64(*(double *)p); break;
        case RVR_ARG_STRING:
            if (*(char **)p == NULL)
                continue;
            if ((st = rvr_value_str(&v, *(char **)p)) != RVR_OK)
                continue;
            break;
        default: st = RVR_EINVAL; continue;
        }
        if ((st = rvr_map_set(m, d->name, &v)) != RVR_OK)
            rvr_value_clear(&v);
    }
    if (st != RVR_OK) {
        rvr_map_free(m);
        return st;
    }
    *out = m;
    return RVR_OK;
}

/* The value as a signed / unsigned integer within [lo, hi]. */
static rvr_status as_int(const rvr_value *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (v->type == RVR_T_INT)
        *out = v->as.i;
    else if (v->type == RVR_T_UINT && v->as.u <= INT64_MAX)
        *out = (int64_t)v->as.u;
    else
        return v->type == RVR_T_UINT ? RVR_ERANGE : RVR_ETYPE;
    return *out < lo || *out > hi ? RVR_ERANGE : RVR_OK;
}

static rvr_status as_uint(const rvr_value *v, uint64_t hi, uint64_t *out)
{
    if (v->type == RVR_T_UINT)
        *out = v->as.u;
    else if (v->type == RVR_T_INT && v->as.i >= 0)
        *out = (uint64_t)v->as.i;
    else
        return v->type == RVR_T_INT ? RVR_ERANGE : RVR_ETYPE;
    return *out > hi ? RVR_ERANGE : RVR_OK;
}

static rvr_status store(const rvr_arg_desc *d, void *args, const rvr_value *v)
{
    void *p = member(d, args);
    int64_t i;
    uint64_t u;
    rvr_status st;
    switch (d->kind) {
    case RVR_ARG_BOOL:
        if (v->type != RVR_T_BOOL)
            return RVR_ETYPE;
        *(bool *)p = v->as.b;
        return RVR_OK;
    case RVR_ARG_INT32:
        if ((st = as_int(v, INT32_MIN, INT32_MAX, &i)) == RVR_OK)
            *(int32_t *)p = (int32_t)i;
        return st;
    case RVR_ARG_INT64:
        if ((st = as_int(v, INT64_MIN, INT64_MAX, &i)) == RVR_OK)
            *(int64_t *)p = i;
        return st;
    case RVR_ARG_UINT32:
        if ((st = as_uint(v, UINT32_MAX, &u)) == RVR_OK)
            *(uint32_t *)p = (uint32_t)u;
        return st;
    case RVR_ARG_UINT64:
        if ((st = as_uint(v, UINT64_MAX, &u)) == RVR_OK)
            *(uint64_t *)p = u;
        return st;
    case RVR_ARG_FLOAT:
    case RVR_ARG_DOUBLE: {
        double x;
        if (v->type == RVR_T_DOUBLE)
            x = v->as.d;
        else if (v->type == RVR_T_INT)
            x = (double)v->as.i;
        else if (v->type == RVR_T_UINT)
            x = (double)v->as.u;
        else
            return RVR_ETYPE;
        if (d->kind == RVR_ARG_FLOAT)
            *(float *)p = (float)x;
        else
            *(double *)p = x;
        return RVR_OK;
    }
    case RVR_ARG_STRING: {
        if (v->type != RVR_T_STRING)
            return RVR_ETYPE;
        char *s = strdup(v->as.str.ptr);
        if (s == NULL)
            return RVR_ENOMEM;
        free(*(char **)p);
        *(char **)p = s;
        return RVR_OK;
    }
    }
    return RVR_EINVAL;
}

rvr_status rvr_args_from_map(const rvr_vr_type *t, const rvr_map *m, void **out, char *err,
                             size_t errlen)
{
    void *args;
    rvr_status st = rvr_args_copy(t, NULL, &args);
    if (st != RVR_OK)
        return st;
    size_t n = m != NULL ? rvr_map_len(m) : 0;
    for (size_t k = 0; k < n && st == RVR_OK; k++) {
        const char *key;
        const rvr_value *v;
        rvr_map_at(m, k, &key, &v);
        const rvr_arg_desc *d = NULL;
        for (size_t i = 0; i < t->nargs; i++)
            if (strcmp(t->args[i].name, key) == 0)
                d = &t->args[i];
        if (d == NULL) {
            st = RVR_ENOATTR;
            snprintf(err, errlen, "VR type %s has no argument '%s'", t->name, key);
        } else if ((st = store(d, args, v)) != RVR_OK) {
            snprintf(err, errlen, "argument '%s' of %s: %s", key, t->name,
                     st == RVR_ERANGE ? "out of range" : st == RVR_ETYPE ? "wrong type" : rvr_strerror(st));
        }
    }
    if (st != RVR_OK) {
        rvr_args_free(t, args);
        return st;
    }
    *out = args;
    return RVR_OK;
}
