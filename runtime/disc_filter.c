/* disc_filter.c — filters on VM attributes (see river/discover.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"

typedef struct cond {
    char key[RVR_MAX_NAME + 1];
    rvr_vm_cmp op;
    bool numeric;        /* op is an ordering: compare with x */
    double x;
    rvr_value v;         /* for EQ/NE */
} cond;

struct rvr_vm_filter {
    cond conds[RVR_DISC_MAX_FILTER];
    size_t n;
    size_t limit;
};

rvr_vm_filter *rvr_vm_filter_new(void)
{
    return calloc(1, sizeof(rvr_vm_filter));
}

void rvr_vm_filter_free(rvr_vm_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        rvr_value_clear(&f->conds[i].v);
    free(f);
}

static cond *new_cond(rvr_vm_filter *f, const char *key, rvr_status *st)
{
    if (f == NULL || key == NULL || *key == '\0') {
        *st = RVR_EINVAL;
        return NULL;
    }
    if (strlen(key) > RVR_MAX_NAME || f->n == RVR_DISC_MAX_FILTER) {
        *st = RVR_ELIMIT;
        return NULL;
    }
    cond *c = &f->conds[f->n];
    memset(c, 0, sizeof *c);
    strcpy(c->key, key);
    *st = RVR_OK;
    return c;
}

rvr_status rvr_vm_filter_eq(rvr_vm_filter *f, const char *key, const rvr_value *v)
{
    rvr_status st;
    cond *c = new_cond(f, key, &st);
    if (c == NULL)
        return st;
    if (v == NULL)
        return RVR_EINVAL;
    if ((st = rvr_value_copy(&c->v, v)) != RVR_OK)
        return st;
    c->op = RVR_CMP_EQ;
    f->n++;
    return RVR_OK;
}

rvr_status rvr_vm_filter_eq_str(rvr_vm_filter *f, const char *key, const char *s)
{
    rvr_value v;
    rvr_status st = rvr_value_str(&v, s != NULL ? s : "");
    if (st != RVR_OK)
        return st;
    st = rvr_vm_filter_eq(f, key, &v);
    rvr_value_clear(&v);
    return st;
}

rvr_status rvr_vm_filter_num(rvr_vm_filter *f, const char *key, rvr_vm_cmp op, double x)
{
    if (op < RVR_CMP_EQ || op > RVR_CMP_GE || isnan(x))
        return RVR_EINVAL;
    rvr_status st;
    cond *c = new_cond(f, key, &st);
    if (c == NULL)
        return st;
    c->op = op;
    c->numeric = true;
    c->x = x;
    f->n++;
    return RVR_OK;
}

static bool parse_num(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

rvr_status rvr_vm_filter_parse(rvr_vm_filter *f, const char *expr)
{
    if (f == NULL || expr == NULL)
        return RVR_EINVAL;
    size_t i = strcspn(expr, "!<>=");
    if (i == 0 || expr[i] == '\0' || i > RVR_MAX_NAME)
        return i > RVR_MAX_NAME ? RVR_ELIMIT : RVR_EINVAL;
    char key[RVR_MAX_NAME + 1];
    memcpy(key, expr, i);
    key[i] = '\0';
    const char *op = expr + i, *val;
    rvr_vm_cmp cmp;
    if (op[0] == '!' && op[1] == '=') cmp = RVR_CMP_NE, val = op + 2;
    else if (op[0] == '<' && op[1] == '=') cmp = RVR_CMP_LE, val = op + 2;
    else if (op[0] == '>' && op[1] == '=') cmp = RVR_CMP_GE, val = op + 2;
    else if (op[0] == '=' && op[1] == '=') cmp = RVR_CMP_EQ, val = op + 2;
    else if (op[0] == '=') cmp = RVR_CMP_EQ, val = op + 1;
    else if (op[0] == '<') cmp = RVR_CMP_LT, val = op + 1;
    else if (op[0] == '>') cmp = RVR_CMP_GT, val = op + 1;
    else return RVR_EINVAL;
    if (cmp == RVR_CMP_EQ || cmp == RVR_CMP_NE) {
        rvr_status st = rvr_vm_filter_eq_str(f, key, val);
        if (st == RVR_OK)
            f->conds[f->n - 1].op = cmp;
        return st;
    }
    double x;
    if (!parse_num(val, strlen(val), &x))
        return RVR_EINVAL;
    return rvr_vm_filter_num(f, key, cmp, x);
}

rvr_status rvr_vm_filter_limit(rvr_vm_filter *f, size_t n)
{
    if (f == NULL)
        return RVR_EINVAL;
    f->limit = n;
    return RVR_OK;
}

size_t rvr_vm_filter_limit_of(const rvr_vm_filter *f)
{
    return f != NULL ? f->limit : 0;
}

/* ---- matching --------------------------------------------------------------- */

static const rvr_value *lookup(const rvr_vm_info *v, const char *key, rvr_value *tmp, char *buf)
{
    if (strcmp(key, "uuid") == 0) {
        rvr_uuid_str(&v->uuid, buf);
        *tmp = (rvr_value){ .type = RVR_T_STRING, .as.str = { buf, RVR_UUID_STRLEN - 1 } };
        return tmp;
    }
    if (strcmp(key, "address") == 0) {
        *tmp = (rvr_value){ .type = RVR_T_STRING, .as.str = { v->address, strlen(v->address) } };
        return tmp;
    }
    if (v->attrs == NULL)
        return NULL;
    const rvr_value *labels = rvr_map_get(v->attrs, "labels");
    const rvr_map *lm = labels != NULL && labels->type == RVR_T_MAP ? labels->as.map : NULL;
    if (strncmp(key, "labels.", 7) == 0)
        return lm != NULL ? rvr_map_get(lm, key + 7) : NULL;
    const rvr_value *a = rvr_map_get(v->attrs, key);
    if (a == NULL && lm != NULL)
        a = rvr_map_get(lm, key);
    return a;
}

static bool as_num(const rvr_value *v, double *out)
{
    switch (v->type) {
    case RVR_T_INT: *out = (double)v->as.i; return true;
    case RVR_T_UINT: *out = (double)v->as.u; return true;
    case RVR_T_DOUBLE: *out = v->as.d; return !isnan(v->as.d);
    case RVR_T_STRING: return parse_num(v->as.str.ptr, v->as.str.len, out);
    default: return false;
    }
}

static bool is_number(const rvr_value *v)
{
    return v->type == RVR_T_INT || v->type == RVR_T_UINT || v->type == RVR_T_DOUBLE;
}

static bool equal(const rvr_value *a, const rvr_value *b)
{
    if (a->type == b->type || (is_number(a) && is_number(b) &&
                               a->type != RVR_T_DOUBLE && b->type != RVR_T_DOUBLE))
        return rvr_value_equal(a, b);
    /* "8" from a command line equals cores 8; 8.0 equals 8. */
    double x, y;
    if ((is_number(a) || is_number(b)) && as_num(a, &x) && as_num(b, &y))
        return x == y;
    return false;
}

bool rvr_vm_filter_match(const rvr_vm_filter *f, const rvr_vm_info *v)
{
    if (f == NULL)
        return true;
    for (size_t i = 0; i < f->n; i++) {
        const cond *c = &f->conds[i];
        rvr_value tmp;
        char buf[RVR_UUID_STRLEN];
        const rvr_value *a = lookup(v, c->key, &tmp, buf);
        if (a == NULL)
            return false;
        if (!c->numeric) {
            if (equal(a, &c->v) != (c->op == RVR_CMP_EQ))
                return false;
            continue;
        }
        double x;
        if (!as_num(a, &x))
            return false;
        bool ok = false;
        switch (c->op) {
        case RVR_CMP_EQ: ok = x == c->x; break;
        case RVR_CMP_NE: ok = x != c->x; break;
        case RVR_CMP_LT: ok = x < c->x; break;
        case RVR_CMP_LE: ok = x <= c->x; break;
        case RVR_CMP_GT: ok = x > c->x; break;
        case RVR_CMP_GE: ok = x >= c->x; break;
        }
        if (!ok)
            return false;
    }
    return true;
}
