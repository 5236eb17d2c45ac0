/* schema_dyn.c — a received typed message becomes a packet (see
 * schema_wire.h): decoded with the receiver's own schema when it knows the
 * message (same or other version), else decoded generically with the
 * sender's description into attributes named as the sender declared them.
 *
 * The generic decoder gives the same attributes as the sender's own
 * dynamic view of the message (convert.c, rvr_typed_to_map): every declared
 * field, missing ones with their zero value (River encoders always write a
 * field with a non-zero default); arrays as lists, nested messages as maps,
 * enums as ints, int32/int64 as int, uint32/uint64 as uint, float/double as
 * double, an unset `any` absent.  Limits: nesting (lists and maps) at most
 * the connection's max_depth, array bounds of the description, list
 * lengths RVR_MAX_LIST, UTF-8 strings without NUL. */
#include "schema_wire.h"

#include <pb.h>
#include <pb_decode.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "packet_impl.h"
#include "value_impl.h"

static rvr_status dec_msg(const rvr_sdesc *d, const rvr_sdesc_msg *m, const uint8_t *p,
                          size_t n, unsigned budget, const rvr_schema *skip, rvr_map *out);

static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool is_scalar(uint32_t t)
{
    return t != RVR_F_STRING && t != RVR_F_BYTES && t != RVR_F_UUID && t != RVR_F_MESSAGE &&
           t != RVR_F_ANY;
}

static pb_wire_type_t scalar_wt(uint32_t t)
{
    return t == RVR_F_FLOAT ? PB_WT_32BIT : t == RVR_F_DOUBLE ? PB_WT_64BIT : PB_WT_VARINT;
}

/* One scalar (no tag) as a value. */
static rvr_status dec_scalar(pb_istream_t *is, uint32_t t, rvr_value *v)
{
    if (t == RVR_F_FLOAT) {
        float f;
        if (!pb_decode_fixed32(is, &f))
            return RVR_EPROTO;
        *v = rvr_value_f64(f);
        return RVR_OK;
    }
    if (t == RVR_F_DOUBLE) {
        double x;
        if (!pb_decode_fixed64(is, &x))
            return RVR_EPROTO;
        *v = rvr_value_f64(x);
        return RVR_OK;
    }
    uint64_t u;
    if (!pb_decode_varint(is, &u))
        return RVR_EPROTO;
    switch (t) {
    case RVR_F_BOOL: *v = rvr_value_bool(u != 0); break;
    case RVR_F_INT32:
    case RVR_F_ENUM: *v = rvr_value_i64((int32_t)(uint32_t)u); break;
    case RVR_F_INT64: *v = rvr_value_i64((int64_t)u); break;
    case RVR_F_UINT32: *v = rvr_value_u64((uint32_t)u); break;
    default: *v = rvr_value_u64(u); break;
    }
    return RVR_OK;
}

/* One length-delimited element (p, n) of a non-scalar type as a value;
 * NONE for an empty `any`.  `budget`: how deep the value may nest. */
static rvr_status dec_ld(const rvr_sdesc *d, const rvr_sdesc_field *f, const uint8_t *p, size_t n,
                         unsigned budget, rvr_value *v)
{
    rvr_status st;
    switch (f->type) {
    case RVR_F_STRING:
        if (!utf8_ok(p, n) || memchr(p, '\0', n) != NULL)
            return RVR_EPROTO;
        return rvr_value_strn(v, (const char *)p, n);
    case RVR_F_BYTES:
        return rvr_value_bytes(v, p, n);
    case RVR_F_UUID: {
        rvr_uuid u;
        if (n != 0 && n != 16)
            return RVR_EPROTO;
        memset(&u, 0, sizeof u);
        if (n == 16)
            memcpy(u.bytes, p, 16);
        *v = rvr_value_uuid(&u);
        return RVR_OK;
    }
    case RVR_F_ANY:
        if (n == 0) {
            v->type = RVR_T_NONE;
            return RVR_OK;
        }
        if ((st = rvr_value_decode(p, n, v)) != RVR_OK)
            return st == RVR_ENOMEM || st == RVR_ELIMIT ? st : RVR_EPROTO;
        if (rvr_value_depth(v) > budget) {
            rvr_value_clear(v);
            return RVR_ELIMIT;
        }
        return RVR_OK;
    case RVR_F_MESSAGE: {
        if (budget == 0)
            return RVR_ELIMIT;
        rvr_map *m = rvr_map_new();
        if (m == NULL)
            return RVR_ENOMEM;
        if ((st = dec_msg(d, &d->msgs[f->ref], p, n, budget - 1, NULL, m)) != RVR_OK) {
            rvr_map_free(m);
            return st;
        }
        *v = rvr_value_map(m);
        return RVR_OK;
    }
    default:
        return RVR_EPROTO;
    }
}

/* The zero value of a missing single field (NONE for `any`). */
static rvr_status zero_of(const rvr_sdesc *d, const rvr_sdesc_field *f, unsigned budget,
                          rvr_value *v)
{
    if (is_scalar(f->type)) {
        switch (f->type) {
        case RVR_F_BOOL: *v = rvr_value_bool(false); break;
        case RVR_F_INT32: case RVR_F_INT64: case RVR_F_ENUM: *v = rvr_value_i64(0); break;
        case RVR_F_UINT32: case RVR_F_UINT64: *v = rvr_value_u64(0); break;
        default: *v = rvr_value_f64(0); break;
        }
        return RVR_OK;
    }
    return dec_ld(d, f, (const uint8_t *)"", 0, budget, v);
}

static rvr_status list_add(const rvr_sdesc_field *f, rvr_value *slot, rvr_value *e)
{
    if (slot->type == RVR_T_NONE) {
        rvr_list *l = rvr_list_new();
        if (l == NULL)
            return RVR_ENOMEM;
        *slot = rvr_value_list(l);
    }
    size_t len = rvr_list_len(slot->as.list);
    if ((f->bound != 0 && len >= f->bound) || len >= RVR_MAX_LIST)
        return RVR_ELIMIT;
    return rvr_list_append(slot->as.list, e);
}

/* One occurrence of field f (its tag already read) into *slot. */
static rvr_status dec_field(const rvr_sdesc *d, const rvr_sdesc_field *f, pb_istream_t *is,
                            pb_wire_type_t wt, unsigned budget, rvr_value *slot)
{
    bool array = (f->flags & RVR_FIELD_ARRAY) != 0;
    rvr_value v = { RVR_T_NONE };
    rvr_status st = RVR_OK;
    if (array && budget == 0)
        return RVR_ELIMIT;
    unsigned eb = array ? budget - 1 : budget;
    if (is_scalar(f->type) && wt == scalar_wt(f->type)) {
        if ((st = dec_scalar(is, f->type, &v)) != RVR_OK)
            return st;
    } else if (wt == PB_WT_STRING) {
        uint64_t len;
        if (!pb_decode_varint(is, &len) || len > is->bytes_left)
            return RVR_EPROTO;
        const uint8_t *p = (const uint8_t *)is->state;
        if (!pb_read(is, NULL, (size_t)len))
            return RVR_EPROTO;
        if (is_scalar(f->type)) {
            if (!array)
                return RVR_EPROTO;   /* packed, but not an array */
            pb_istream_t ps = pb_istream_from_buffer(p, (size_t)len);
            while (ps.bytes_left > 0 && st == RVR_OK) {
                if ((st = dec_scalar(&ps, f->type, &v)) == RVR_OK)
                    st = list_add(f, slot, &v);
            }
            return st;
        }
        if ((st = dec_ld(d, f, p, (size_t)len, eb, &v)) != RVR_OK)
            return st;
    } else {
        return RVR_EPROTO;   /* wrong wire type */
    }
    if (!array) {
        rvr_value_clear(slot);   /* the last occurrence wins */
        *slot = v;
        return RVR_OK;
    }
    if (v.type == RVR_T_NONE)
        return RVR_OK;           /* an empty `any` element: nothing to list */
    if ((st = list_add(f, slot, &v)) != RVR_OK)
        rvr_value_clear(&v);
    return st;
}

static const rvr_sdesc_field *field_of(const rvr_sdesc_msg *m, uint32_t number)
{
    size_t lo = 0, hi = m->nfields;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->fields[mid].number == number)
            return &m->fields[mid];
        if (m->fields[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool schema_has(const rvr_schema *s, uint32_t number)
{
    for (size_t i = 0; s != NULL && i < s->nfields; i++)
        if (s->fields[i].number == number)
            return true;
    return false;
}

static rvr_status dec_msg(const rvr_sdesc *d, const rvr_sdesc_msg *m, const uint8_t *p,
                          size_t n, unsigned budget, const rvr_schema *skip, rvr_map *out)
{
    rvr_value *vals = calloc(m->nfields ? m->nfields : 1, sizeof *vals);
    if (vals == NULL)
        return RVR_ENOMEM;
    rvr_status st = RVR_OK;
    pb_istream_t is = pb_istream_from_buffer(p, n);
    while (st == RVR_OK && is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t number;
        bool eof;
        if (!pb_decode_tag(&is, &wt, &number, &eof)) {
            st = RVR_EPROTO;
            break;
        }
        const rvr_sdesc_field *f = field_of(m, number);
        if (f == NULL || schema_has(skip, number))
            st = pb_skip_field(&is, wt) ? RVR_OK : RVR_EPROTO;
        else
            st = dec_field(d, f, &is, wt, budget, &vals[f - m->fields]);
    }
    for (size_t i = 0; st == RVR_OK && i < m->nfields; i++) {
        const rvr_sdesc_field *f = &m->fields[i];
        if (schema_has(skip, f->number))
            continue;
        if (vals[i].type == RVR_T_NONE) {
            if (f->flags & RVR_FIELD_ARRAY) {
                rvr_list *l = budget > 0 ? rvr_list_new() : NULL;
                if (l == NULL) {
                    st = budget > 0 ? RVR_ENOMEM : RVR_ELIMIT;
                    break;
                }
                vals[i] = rvr_value_list(l);
            } else if ((st = zero_of(d, f, budget, &vals[i])) != RVR_OK) {
                break;
            }
            if (vals[i].type == RVR_T_NONE)
                continue;   /* an unset `any` is an absent attribute */
        }
        st = rvr_map_put(out, f->name, &vals[i], budget);
    }
    for (size_t i = 0; i < m->nfields; i++)
        rvr_value_clear(&vals[i]);
    free(vals);
    return st;
}

rvr_status rvr_sdesc_decode(const rvr_sdesc *d, const uint8_t *body, size_t len,
                            unsigned max_depth, const rvr_schema *skip, rvr_map *out)
{
    if (d == NULL || out == NULL || (body == NULL && len > 0))
        return RVR_EINVAL;
    return dec_msg(d, &d->msgs[0], body != NULL ? body : (const uint8_t *)"", len, max_depth,
                   skip, out);
}

/* ---- the three cases ---------------------------------------------------------- */

/* Moves every entry of src that dst lacks to dst, then empties src. */
static rvr_status merge_into(rvr_map *dst, rvr_map *src)
{
    rvr_status st = rvr_map_own(src);   /* its values move out of a packet's block */
    for (uint32_t i = 0; i < src->len && st == RVR_OK; i++) {
        rvr_map_entry *e = &src->entries[i];
        if (rvr_map_get(dst, e->key) == NULL)
            st = rvr_map_put(dst, e->key, &e->val, RVR_MAX_DEPTH);
    }
    rvr_map_fini(src);
    rvr_map_init(src);
    return st;
}

/* The packet's attributes (the sender's extras) become the message's. */
static rvr_status take_extra(const rvr_schema *s, void *msg, rvr_packet *pkt)
{
    if (pkt->attrs.len == 0)
        return RVR_OK;
    if (!s->open) {
        RVR_LOG(RVR_LOG_DEBUG, "dropping %u attributes sent with the closed message %s",
                pkt->attrs.len, s->name);
        rvr_map_fini(&pkt->attrs);
        rvr_map_init(&pkt->attrs);
        return RVR_OK;
    }
    rvr_map **extra = (rvr_map **)((char *)msg + s->extra_offset);
    if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
        return RVR_ENOMEM;
    /* The sender's own extras win over its unknown fields, as in convert.c.
     * Their values move out of the packet's block. */
    rvr_status st = rvr_map_own(&pkt->attrs);
    for (uint32_t i = 0; i < pkt->attrs.len && st == RVR_OK; i++)
        st = rvr_map_put(*extra, pkt->attrs.entries[i].key, &pkt->attrs.entries[i].val,
                         RVR_MAX_DEPTH);
    rvr_map_fini(&pkt->attrs);
    rvr_map_init(&pkt->attrs);
    return st;
}

/* (a) and (b): decodes with the local schema s. */
static rvr_status decode_local(rvr_packet *pkt, const rvr_schema *s, bool same, const uint8_t *body,
                               size_t len, const rvr_sdesc *d, const rvr_wire_limits *lim)
{
    void *msg = rvr_body_alloc(s->size);
    if (msg == NULL)
        return RVR_ENOMEM;
    rvr_status st = s->decode(body != NULL ? body : (const uint8_t *)"", len, msg);
    if (st != RVR_OK) {
        rvr_body_free(msg, s->size);
        return st;
    }
    if (!same && s->open) {
        /* The sender's fields this version does not know, by its names. */
        rvr_map **extra = (rvr_map **)((char *)msg + s->extra_offset);
        if (*extra == NULL && (*extra = rvr_map_new()) == NULL)
            st = RVR_ENOMEM;
        if (st == RVR_OK)
            st = rvr_sdesc_decode(d, body, len, lim->max_depth, s, *extra);
    }
    if (st == RVR_OK)
        st = take_extra(s, msg, pkt);
    if (st != RVR_OK) {
        s->clear(msg);
        rvr_body_free(msg, s->size);
        return st;
    }
    pkt->schema = s;
    pkt->body = msg;
    pkt->materialized = false;
    return RVR_OK;
}

rvr_status rvr_typed_from_wire(rvr_packet *pkt, uint64_t fingerprint, const uint8_t *body,
                               size_t len, rvr_sdesc *d, const rvr_wire_limits *lim)
{
    const rvr_schema *s;
    if (d != NULL) {
        if (d->local == NULL)
            d->local = rvr_schema_find(d->msgs[0].name);
        s = d->local;
    } else {
        s = rvr_schema_find(pkt->tag);
    }
    rvr_status st;
    if (s != NULL && s->fingerprint == fingerprint) {
        st = decode_local(pkt, s, true, body, len, d, lim);                  /* (a) */
        if (st == RVR_OK || d == NULL)
            return st;
    } else if (s != NULL && d != NULL) {
        if (decode_local(pkt, s, false, body, len, d, lim) == RVR_OK)       /* (b) */
            return RVR_OK;
        RVR_LOG(RVR_LOG_DEBUG, "%s: this VM's version cannot decode the sender's; "
                "reading it by attribute name", s->name);
    }
    if (d == NULL)
        return RVR_ENOTFOUND;
    rvr_map m;                                                               /* (c) */
    rvr_map_init(&m);
    st = rvr_sdesc_decode(d, body, len, lim->max_depth, NULL, &m);
    if (st == RVR_OK)
        st = merge_into(&m, &pkt->attrs);   /* declared fields win over extras */
    if (st == RVR_OK && m.len > lim->max_attrs)
        st = RVR_ELIMIT;
    if (st != RVR_OK) {
        rvr_map_fini(&m);
        return st;
    }
    rvr_map_fini(&pkt->attrs);
    pkt->attrs = m;
    return RVR_OK;
}
