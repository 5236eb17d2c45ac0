/* value.c — dynamic values and lists (maps are in map.c).
 *
 * Depth bookkeeping: a list records the deepest rvr_value_depth of its
 * elements, so rvr_value_depth() is O(1) and an insertion can be checked
 * against RVR_MAX_DEPTH without walking the child.  Getters hand out const
 * pointers only, so a container cannot change once it sits inside another:
 * checking at insertion time is enough. */
#include <river/value.h>

#include <stdlib.h>
#include <string.h>

#include "value_impl.h"

struct rvr_list {
    rvr_value *items;
    uint32_t len, cap;
    unsigned depth;  /* deepest rvr_value_depth of any element */
};

const char *rvr_type_name(rvr_type t)
{
    switch (t) {
    case RVR_T_NONE:   return "none";
    case RVR_T_BOOL:   return "bool";
    case RVR_T_INT:    return "int";
    case RVR_T_UINT:   return "uint";
    case RVR_T_DOUBLE: return "double";
    case RVR_T_STRING: return "string";
    case RVR_T_BYTES:  return "bytes";
    case RVR_T_UUID:   return "uuid";
    case RVR_T_LIST:   return "list";
    case RVR_T_MAP:    return "map";
    }
    return "invalid";
}

/* ---- scalar constructors ------------------------------------------------- */

rvr_value rvr_value_bool(bool v)
{
    rvr_value r = { .type = RVR_T_BOOL };
    r.as.b = v;
    return r;
}

rvr_value rvr_value_i64(int64_t v)
{
    rvr_value r = { .type = RVR_T_INT };
    r.as.i = v;
    return r;
}

rvr_value rvr_value_u64(uint64_t v)
{
    rvr_value r = { .type = RVR_T_UINT };
    r.as.u = v;
    return r;
}

rvr_value rvr_value_f64(double v)
{
    rvr_value r = { .type = RVR_T_DOUBLE };
    r.as.d = v;
    return r;
}

rvr_value rvr_value_uuid(const rvr_uuid *v)
{
    rvr_value r = { .type = RVR_T_UUID };
    if (v != NULL)
        r.as.uuid = *v;  /* NULL gives the nil UUID rather than a crash */
    return r;
}

rvr_value rvr_value_list(rvr_list *l)
{
    rvr_value r = { .type = l != NULL ? RVR_T_LIST : RVR_T_NONE };
    r.as.list = l;
    return r;
}

rvr_value rvr_value_map(rvr_map *m)
{
    rvr_value r = { .type = m != NULL ? RVR_T_MAP : RVR_T_NONE };
    r.as.map = m;
    return r;
}

/* ---- copying constructors ------------------------------------------------- */

rvr_status rvr_value_strn(rvr_value *out, const char *s, size_t len)
{
    if (out == NULL)
        return RVR_EINVAL;
    out->type = RVR_T_NONE;
    if (s == NULL && len > 0)
        return RVR_EINVAL;
    if (len > RVR_MAX_VALUE_SIZE)
        return RVR_ELIMIT;
    /* The string is handed out as a C string: an inner NUL would cut it. */
    if (len > 0 && memchr(s, '\0', len) != NULL)
        return RVR_EINVAL;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return RVR_ENOMEM;
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    out->type = RVR_T_STRING;
    out->as.str.ptr = copy;
    out->as.str.len = len;
    return RVR_OK;
}

rvr_status rvr_value_str(rvr_value *out, const char *s)
{
    if (out == NULL)
        return RVR_EINVAL;
    out->type = RVR_T_NONE;
    if (s == NULL)
        return RVR_EINVAL;
    /* Bounded scan: a string past the limit is refused without reading it all. */
    size_t len = strnlen(s, RVR_MAX_VALUE_SIZE + 1);
    if (len > RVR_MAX_VALUE_SIZE)
        return RVR_ELIMIT;
    return rvr_value_strn(out, s, len);
}

rvr_status rvr_value_bytes(rvr_value *out, const void *p, size_t len)
{
    if (out == NULL)
        return RVR_EINVAL;
    out->type = RVR_T_NONE;
    if (p == NULL && len > 0)
        return RVR_EINVAL;
    if (len > RVR_MAX_VALUE_SIZE)
        return RVR_ELIMIT;
    /* Never a NULL pointer, even when empty, so getters need no special case. */
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return RVR_ENOMEM;
    if (len > 0)
        memcpy(copy, p, len);
    out->type = RVR_T_BYTES;
    out->as.bytes.ptr = copy;
    out->as.bytes.len = len;
    return RVR_OK;
}

/* ---- clear, copy, equal, depth -------------------------------------------- */

void rvr_value_clear(rvr_value *v)
{
    if (v == NULL)
        return;
    switch (v->type) {
    case RVR_T_STRING: free(v->as.str.ptr); break;
    case RVR_T_BYTES:  free(v->as.bytes.ptr); break;
    case RVR_T_LIST:   rvr_list_free(v->as.list); break;
    case RVR_T_MAP:    rvr_map_free(v->as.map); break;
    default:           break;
    }
    memset(v, 0, sizeof *v);
}

rvr_status rvr_value_copy(rvr_value *dst, const rvr_value *src)
{
    if (dst == NULL)
        return RVR_EINVAL;
    if (src == NULL) {
        dst->type = RVR_T_NONE;
        return RVR_EINVAL;
    }
    switch (src->type) {
    case RVR_T_STRING:
        return rvr_value_strn(dst, src->as.str.ptr, src->as.str.len);
    case RVR_T_BYTES:
        return rvr_value_bytes(dst, src->as.bytes.ptr, src->as.bytes.len);
    case RVR_T_LIST: {
        rvr_list *l = rvr_list_copy(src->as.list);
        *dst = rvr_value_list(l);
        return l != NULL ? RVR_OK : RVR_ENOMEM;
    }
    case RVR_T_MAP: {
        rvr_map *m = rvr_map_copy(src->as.map);
        *dst = rvr_value_map(m);
        return m != NULL ? RVR_OK : RVR_ENOMEM;
    }
    default:
        *dst = *src;  /* scalars (and NONE) hold no pointers */
        return RVR_OK;
    }
}

bool rvr_value_equal(const rvr_value *a, const rvr_value *b)
{
    if (a == NULL || b == NULL)
        return false;
    /* int and uint are one number line; a negative int equals no uint. */
    if (a->type == RVR_T_INT && b->type == RVR_T_UINT)
        return a->as.i >= 0 && (uint64_t)a->as.i == b->as.u;
    if (a->type == RVR_T_UINT && b->type == RVR_T_INT)
        return b->as.i >= 0 && (uint64_t)b->as.i == a->as.u;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case RVR_T_NONE:   return true;
    case RVR_T_BOOL:   return a->as.b == b->as.b;
    case RVR_T_INT:    return a->as.i == b->as.i;
    case RVR_T_UINT:   return a->as.u == b->as.u;
    case RVR_T_DOUBLE: return a->as.d == b->as.d;  /* NaN != NaN by IEEE */
    case RVR_T_STRING:
        return a->as.str.len == b->as.str.len &&
               (a->as.str.len == 0 ||
                memcmp(a->as.str.ptr, b->as.str.ptr, a->as.str.len) == 0);
    case RVR_T_BYTES:
        return a->as.bytes.len == b->as.bytes.len &&
               (a->as.bytes.len == 0 ||
                memcmp(a->as.bytes.ptr, b->as.bytes.ptr, a->as.bytes.len) == 0);
    case RVR_T_UUID:   return rvr_uuid_eq(&a->as.uuid, &b->as.uuid);
    case RVR_T_LIST:   return rvr_list_equal(a->as.list, b->as.list);
    case RVR_T_MAP:    return rvr_map_equal(a->as.map, b->as.map);
    }
    return false;
}

unsigned rvr_value_depth(const rvr_value *v)
{
    if (v == NULL)
        return 0;
    if (v->type == RVR_T_LIST)
        return v->as.list != NULL ? 1 + v->as.list->depth : 0;
    if (v->type == RVR_T_MAP)
        return v->as.map != NULL ? 1 + v->as.map->depth : 0;
    return 0;
}

rvr_status rvr_value_check(const rvr_value *v)
{
    if (v == NULL)
        return RVR_EINVAL;
    switch (v->type) {
    case RVR_T_BOOL: case RVR_T_INT: case RVR_T_UINT:
    case RVR_T_DOUBLE: case RVR_T_UUID:
        return RVR_OK;
    case RVR_T_STRING:
        if (v->as.str.ptr == NULL)
            return RVR_EINVAL;
        return v->as.str.len > RVR_MAX_VALUE_SIZE ? RVR_ELIMIT : RVR_OK;
    case RVR_T_BYTES:
        if (v->as.bytes.ptr == NULL && v->as.bytes.len > 0)
            return RVR_EINVAL;
        return v->as.bytes.len > RVR_MAX_VALUE_SIZE ? RVR_ELIMIT : RVR_OK;
    case RVR_T_LIST:
        return v->as.list != NULL ? RVR_OK : RVR_EINVAL;
    case RVR_T_MAP:
        return v->as.map != NULL ? RVR_OK : RVR_EINVAL;
    default:
        return RVR_EINVAL;  /* NONE is "no value", not something to store */
    }
}

/* ---- lists ------------------------------------------------------------------ */

rvr_list *rvr_list_new(void)
{
    return calloc(1, sizeof(rvr_list));
}

void rvr_list_free(rvr_list *l)
{
    if (l == NULL)
        return;
    for (uint32_t i = 0; i < l->len; i++)
        rvr_value_clear(&l->items[i]);
    free(l->items);
    free(l);
}

size_t rvr_list_len(const rvr_list *l)
{
    return l != NULL ? l->len : 0;
}

const rvr_value *rvr_list_get(const rvr_list *l, size_t i)
{
    if (l == NULL || i >= l->len)
        return NULL;
    return &l->items[i];
}

static rvr_status list_reserve(rvr_list *l, uint32_t want)
{
    if (want <= l->cap)
        return RVR_OK;
    uint32_t cap = l->cap != 0 ? l->cap : 4;
    while (cap < want)
        cap = cap > RVR_MAX_LIST / 2 ? RVR_MAX_LIST : cap * 2;
    rvr_value *items = realloc(l->items, (size_t)cap * sizeof *items);
    if (items == NULL)
        return RVR_ENOMEM;
    l->items = items;
    l->cap = cap;
    return RVR_OK;
}

rvr_status rvr_list_append(rvr_list *l, rvr_value *v)
{
    if (l == NULL)
        return RVR_EINVAL;
    rvr_status st = rvr_value_check(v);
    if (st != RVR_OK)
        return st;
    /* A list inside itself would be freed twice; deeper cycles need a
     * retained raw pointer to an owned container, which the API forbids. */
    if (v->type == RVR_T_LIST && v->as.list == l)
        return RVR_EINVAL;
    unsigned d = rvr_value_depth(v);
    if (d + 1 > RVR_MAX_DEPTH)
        return RVR_ELIMIT;
    if (l->len >= RVR_MAX_LIST)
        return RVR_ELIMIT;
    if ((st = list_reserve(l, l->len + 1)) != RVR_OK)
        return st;
    l->items[l->len++] = *v;
    if (d > l->depth)
        l->depth = d;
    memset(v, 0, sizeof *v);  /* taken: the caller's copy is now NONE */
    return RVR_OK;
}

rvr_status rvr_list_append_i64(rvr_list *l, int64_t v)
{
    rvr_value x = rvr_value_i64(v);
    return rvr_list_append(l, &x);
}

rvr_status rvr_list_append_u64(rvr_list *l, uint64_t v)
{
    rvr_value x = rvr_value_u64(v);
    return rvr_list_append(l, &x);
}

rvr_status rvr_list_append_f64(rvr_list *l, double v)
{
    rvr_value x = rvr_value_f64(v);
    return rvr_list_append(l, &x);
}

rvr_status rvr_list_append_bool(rvr_list *l, bool v)
{
    rvr_value x = rvr_value_bool(v);
    return rvr_list_append(l, &x);
}

rvr_status rvr_list_append_str(rvr_list *l, const char *s)
{
    if (l == NULL)
        return RVR_EINVAL;
    rvr_value x;
    rvr_status st = rvr_value_str(&x, s);
    if (st != RVR_OK)
        return st;
    st = rvr_list_append(l, &x);
    rvr_value_clear(&x);  /* no-op on success: x was taken */
    return st;
}

rvr_list *rvr_list_copy(const rvr_list *l)
{
    if (l == NULL)
        return NULL;
    rvr_list *c = rvr_list_new();
    if (c == NULL)
        return NULL;
    if (l->len > 0) {
        c->items = malloc((size_t)l->len * sizeof *c->items);
        if (c->items == NULL) {
            free(c);
            return NULL;
        }
        c->cap = l->len;
    }
    for (uint32_t i = 0; i < l->len; i++) {
        if (rvr_value_copy(&c->items[i], &l->items[i]) != RVR_OK) {
            rvr_list_free(c);  /* frees the c->len elements copied so far */
            return NULL;
        }
        c->len++;
    }
    c->depth = l->depth;
    return c;
}

bool rvr_list_equal(const rvr_list *a, const rvr_list *b)
{
    if (a == NULL || b == NULL || a->len != b->len)
        return false;
    for (uint32_t i = 0; i < a->len; i++)
        if (!rvr_value_equal(&a->items[i], &b->items[i]))
            return false;
    return true;
}
