/* packet_get.c — reading a dynamic message's attributes (packet.h): in
 * place from a received packet's raw entries when they hold it, else from
 * its attribute map. */
#include <river/packet.h>

#include "packet_impl.h"
#include "wire_raw.h"

/* Attribute `name` of type t into *v (a shallow copy); `out` is the
 * caller's, only checked.  Raw attributes are read in place, but for a
 * string, which callers get NUL-terminated: that one needs the map. */
/* Inline in each getter: a call more cost a fifth of a wire-form get. */
static inline __attribute__((always_inline)) rvr_status lookup(const rvr_packet *p, const char *name,
                                                               rvr_type t, const void *out,
                                                               rvr_value *v)
{
    if (p == NULL || name == NULL || out == NULL)
        return RVR_EINVAL;
    if (p->raw != NULL && t != RVR_T_STRING) {
        if (!rvr_wire_raw_find(p->raw, p->raw_len, name, v))
            return RVR_ENOATTR;
    } else {
        const rvr_value *mv;
        rvr_status st = rvr_packet_get(p, name, &mv);
        if (st != RVR_OK)
            return st;
        *v = *mv;
    }
    return v->type == t ? RVR_OK : RVR_ETYPE;
}

rvr_status rvr_packet_get(const rvr_packet *p, const char *name, const rvr_value **out)
{
    if (p == NULL || name == NULL || out == NULL)
        return RVR_EINVAL;
    rvr_status st = rvr_packet_unraw(p);
    if (st != RVR_OK)
        return st;
    const rvr_value *v = rvr_map_get(&p->attrs, name);
    if (v == NULL)
        return RVR_ENOATTR;
    *out = v;
    return RVR_OK;
}

rvr_status rvr_packet_get_bool(const rvr_packet *p, const char *name, bool *out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_BOOL, out, &v);
    if (st == RVR_OK)
        *out = v.as.b;
    return st;
}

rvr_status rvr_packet_get_i64(const rvr_packet *p, const char *name, int64_t *out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_INT, out, &v);
    if (st == RVR_OK)
        *out = v.as.i;
    return st;
}

rvr_status rvr_packet_get_u64(const rvr_packet *p, const char *name, uint64_t *out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_UINT, out, &v);
    if (st == RVR_OK)
        *out = v.as.u;
    return st;
}

rvr_status rvr_packet_get_f64(const rvr_packet *p, const char *name, double *out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_DOUBLE, out, &v);
    if (st == RVR_OK)
        *out = v.as.d;
    return st;
}

rvr_status rvr_packet_get_str(const rvr_packet *p, const char *name,
                              const char **out, size_t *len)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_STRING, out, &v);
    if (st == RVR_OK) {
        *out = v.as.str.ptr;
        if (len != NULL)
            *len = v.as.str.len;
    }
    return st;
}

rvr_status rvr_packet_get_bytes(const rvr_packet *p, const char *name,
                                const uint8_t **out, size_t *len)
{
    if (p != NULL && name != NULL && out != NULL && p->raw != NULL) {
        /* Received bytes, read in place (most receives); anything else,
         * or no such attribute, as below. */
        size_t vn, w;
        const uint8_t *at = rvr_wire_raw_at(p->raw, p->raw_len, name, &vn);
        if (at != NULL && at[0] == (F_BYTES << 3 | WT_STRING)) {
            size_t n = raw_len(at + 1, &w);
            *out = at + 1 + w;
            if (len != NULL)
                *len = n;
            return RVR_OK;
        }
    }
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_BYTES, out, &v);
    if (st == RVR_OK) {
        *out = v.as.bytes.ptr;
        if (len != NULL)
            *len = v.as.bytes.len;
    }
    return st;
}

rvr_status rvr_packet_get_uuid(const rvr_packet *p, const char *name, rvr_uuid *out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_UUID, out, &v);
    if (st == RVR_OK)
        *out = v.as.uuid;
    return st;
}

rvr_status rvr_packet_get_list(const rvr_packet *p, const char *name,
                               const rvr_list **out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_LIST, out, &v);
    if (st == RVR_OK)
        *out = v.as.list;
    return st;
}

rvr_status rvr_packet_get_map(const rvr_packet *p, const char *name,
                              const rvr_map **out)
{
    rvr_value v;
    rvr_status st = lookup(p, name, RVR_T_MAP, out, &v);
    if (st == RVR_OK)
        *out = v.as.map;
    return st;
}
