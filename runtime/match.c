/* match.c — building matches and testing packets against them. */
#include "match_impl.h"
#include "packet_impl.h"

#include <stdlib.h>
#include <string.h>

rvr_match *rvr_match_new(void)
{
    return calloc(1, sizeof(rvr_match));
}

void rvr_match_free(rvr_match *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nconds; i++) {
        free(m->conds[i].name);
        rvr_value_clear(&m->conds[i].val);
    }
    free(m->conds);
    free(m->tag);
    free(m);
}

rvr_status rvr_match_status(const rvr_match *m)
{
    return m == NULL ? RVR_EINVAL : m->err;
}

/* Records the first error so a chain of builder calls needs one check. */
static rvr_status fail(rvr_match *m, rvr_status st)
{
    if (m != NULL && m->err == RVR_OK)
        m->err = st;
    return st;
}

rvr_status rvr_match_tag(rvr_match *m, const char *tag)
{
    if (m == NULL)
        return RVR_EINVAL;
    if (tag == NULL || tag[0] == '\0' || strlen(tag) > RVR_MAX_NAME)
        return fail(m, RVR_EINVAL);
    char *copy = strdup(tag);
    if (copy == NULL)
        return fail(m, RVR_ENOMEM);
    free(m->tag);
    m->tag = copy;
    m->tag_len = (uint32_t)strlen(copy);
    m->tag_hash = rvr_hash_bytes(copy, m->tag_len);
    m->has_tag = true;
    return RVR_OK;
}

rvr_status rvr_match_src(rvr_match *m, const rvr_uuid *src)
{
    if (m == NULL)
        return RVR_EINVAL;
    if (src == NULL)
        return fail(m, RVR_EINVAL);
    m->src = *src;
    m->has_src = true;
    return RVR_OK;
}

/* Appends a condition; takes *val on success. */
static rvr_status add_cond(rvr_match *m, match_kind kind, const char *name, rvr_value *val,
                           rvr_value_pred pred, rvr_packet_pred fn, void *ctx)
{
    if (m == NULL)
        return RVR_EINVAL;
    if (kind != MC_FN && rvr_name_check(name) != RVR_OK)
        return fail(m, RVR_EINVAL);
    if (m->nconds == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        match_cond *c = realloc(m->conds, cap * sizeof *c);
        if (c == NULL)
            return fail(m, RVR_ENOMEM);
        m->conds = c;
        m->cap = cap;
    }
    match_cond *c = &m->conds[m->nconds];
    memset(c, 0, sizeof *c);
    if (name != NULL && (c->name = strdup(name)) == NULL)
        return fail(m, RVR_ENOMEM);
    c->kind = kind;
    if (val != NULL) {
        c->val = *val;
        val->type = RVR_T_NONE;
    }
    c->pred = pred;
    c->fn = fn;
    c->ctx = ctx;
    m->nconds++;
    return RVR_OK;
}

rvr_status rvr_match_eq(rvr_match *m, const char *name, const rvr_value *v)
{
    if (m == NULL)
        return RVR_EINVAL;
    if (v == NULL || v->type == RVR_T_NONE)
        return fail(m, RVR_EINVAL);
    rvr_value copy;
    rvr_status st = rvr_value_copy(&copy, v);
    if (st != RVR_OK)
        return fail(m, st);
    st = add_cond(m, MC_EQ, name, &copy, NULL, NULL, NULL);
    rvr_value_clear(&copy);
    return st;
}

rvr_status rvr_match_eq_i64(rvr_match *m, const char *name, int64_t v)
{
    rvr_value val = rvr_value_i64(v);
    return add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
}

rvr_status rvr_match_eq_u64(rvr_match *m, const char *name, uint64_t v)
{
    rvr_value val = rvr_value_u64(v);
    return add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
}

rvr_status rvr_match_eq_bool(rvr_match *m, const char *name, bool v)
{
    rvr_value val = rvr_value_bool(v);
    return add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
}

rvr_status rvr_match_eq_f64(rvr_match *m, const char *name, double v)
{
    rvr_value val = rvr_value_f64(v);
    return add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
}

rvr_status rvr_match_eq_uuid(rvr_match *m, const char *name, const rvr_uuid *v)
{
    if (v == NULL)
        return fail(m, RVR_EINVAL);
    rvr_value val = rvr_value_uuid(v);
    return add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
}

rvr_status rvr_match_eq_str(rvr_match *m, const char *name, const char *s)
{
    if (m == NULL)
        return RVR_EINVAL;
    rvr_value val;
    rvr_status st = rvr_value_str(&val, s);
    if (st != RVR_OK)
        return fail(m, st);
    st = add_cond(m, MC_EQ, name, &val, NULL, NULL, NULL);
    rvr_value_clear(&val);
    return st;
}

rvr_status rvr_match_has(rvr_match *m, const char *name)
{
    return add_cond(m, MC_HAS, name, NULL, NULL, NULL, NULL);
}

rvr_status rvr_match_pred(rvr_match *m, const char *name, rvr_value_pred fn, void *ctx)
{
    if (fn == NULL)
        return fail(m, RVR_EINVAL);
    return add_cond(m, MC_PRED, name, NULL, fn, NULL, ctx);
}

rvr_status rvr_match_fn(rvr_match *m, rvr_packet_pred fn, void *ctx)
{
    if (fn == NULL)
        return fail(m, RVR_EINVAL);
    return add_cond(m, MC_FN, NULL, NULL, NULL, fn, ctx);
}

bool rvr_match_test(const rvr_match *m, const rvr_packet *p)
{
    if (m == NULL)
        return true;
    if (p == NULL || m->err != RVR_OK)
        return false;
    if (m->has_tag && (p->tag_len != m->tag_len || !rvr_key_eq(p->tag, m->tag, m->tag_len)))
        return false;
    if (m->has_src && !rvr_uuid_same(&p->src, &m->src))
        return false;
    for (size_t i = 0; i < m->nconds; i++) {
        const match_cond *c = &m->conds[i];
        /* A typed packet shows its fields as attributes only on demand. */
        if (p->body != NULL && !p->materialized && !c->raw && rvr_packet_materialize(p) != RVR_OK)
            return false;
        if (c->kind == MC_FN) {
            if (!c->fn(p, c->ctx))
                return false;
            continue;
        }
        if (rvr_packet_unraw(p) != RVR_OK)
            return false;
        const rvr_value *v = rvr_map_get(&p->attrs, c->name);
        if (v == NULL)
            return false;
        if (c->kind == MC_EQ && !rvr_value_equal(v, &c->val))
            return false;
        if (c->kind == MC_PRED && !c->pred(v, c->ctx))
            return false;
    }
    return true;
}
