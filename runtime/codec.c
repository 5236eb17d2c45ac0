/* codec.c — protobuf encoding of dynamic values (see river/codec.h), with
 * nanopb's stream primitives.  Decoding never trusts a length: every one is
 * checked against the bytes actually left before anything is allocated. */
#include <river/codec.h>

#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "value_impl.h"

enum { F_BOOL = 1, F_INT, F_UINT, F_DOUBLE, F_STRING, F_BYTES, F_UUID, F_LIST, F_MAP };
enum { F_ITEMS = 1 };                 /* List */
enum { F_ENTRIES = 1 };               /* Map */
enum { F_KEY = 1, F_VALUE = 2 };      /* Entry */

/* ---- buffers ---------------------------------------------------------------- */

void rvr_buf_free(rvr_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

rvr_status rvr_buf_reserve(rvr_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return RVR_OK;
    if (n > SIZE_MAX / 2 - b->len)
        return RVR_ELIMIT;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (d == NULL)
        return RVR_ENOMEM;
    b->data = d;
    b->cap = cap;
    return RVR_OK;
}

rvr_status rvr_buf_append(rvr_buf *b, const void *p, size_t n)
{
    rvr_status st = rvr_buf_reserve(b, n);
    if (st != RVR_OK)
        return st;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return RVR_OK;
}

/* ---- encoding ---------------------------------------------------------------
 * Written straight into the buffer in one pass: every submessage's length
 * is computed first (rvr_value_enc_size), which walks a subtree again at
 * each level above it, so the cost is the encoding's size times the depth
 * (at most RVR_MAX_DEPTH) rather than the 2^depth of sizing each
 * submessage by a dry run of its own encoder. */

static uint64_t zigzag(int64_t i) { return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63); }

static size_t list_body_size(const rvr_list *l)
{
    size_t n = 0;
    for (size_t i = 0, k = rvr_list_len(l); i < k; i++)
        n += rvr_enc_ld(rvr_value_enc_size(rvr_list_get(l, i)));
    return n;
}

size_t rvr_value_enc_size(const rvr_value *v)
{
    switch (v->type) {
    case RVR_T_BOOL: return 2;
    case RVR_T_INT: return 1 + rvr_enc_vlen(zigzag(v->as.i));
    case RVR_T_UINT: return 1 + rvr_enc_vlen(v->as.u);
    case RVR_T_DOUBLE: return 9;
    case RVR_T_STRING: return rvr_enc_ld(v->as.str.len);
    case RVR_T_BYTES: return rvr_enc_ld(v->as.bytes.len);
    case RVR_T_UUID: return rvr_enc_ld(16);
    case RVR_T_LIST: return rvr_enc_ld(list_body_size(v->as.list));
    case RVR_T_MAP: return rvr_enc_ld(rvr_map_enc_size(v->as.map));
    default: return 0;
    }
}

size_t rvr_map_enc_size(const rvr_map *m)
{
    size_t n = 0;
    for (uint32_t i = 0; i < m->len; i++)
        n += rvr_enc_ld(rvr_enc_ld(m->entries[i].keylen) + rvr_enc_ld(rvr_value_enc_size(&m->entries[i].val)));
    return n;
}

/* Tag byte of field f, wire type wt. */
#define TAG(f, wt) ((uint8_t)((f) << 3 | (wt)))

static uint8_t *put_span(uint8_t *q, uint8_t tag, const void *p, size_t n)
{
    *q++ = tag;
    q = rvr_enc_varint(q, n);
    if (n > 0)
        memcpy(q, p, n);
    return q + n;
}

uint8_t *rvr_value_enc_put(uint8_t *q, const rvr_value *v)
{
    switch (v->type) {
    case RVR_T_BOOL:
        *q++ = TAG(F_BOOL, 0);
        *q++ = v->as.b ? 1 : 0;
        return q;
    case RVR_T_INT:
        *q++ = TAG(F_INT, 0);
        return rvr_enc_varint(q, zigzag(v->as.i));
    case RVR_T_UINT:
        *q++ = TAG(F_UINT, 0);
        return rvr_enc_varint(q, v->as.u);
    case RVR_T_DOUBLE: {
        uint64_t x;
        memcpy(&x, &v->as.d, 8);
        *q++ = TAG(F_DOUBLE, 1);
        return rvr_enc_fixed64(q, x);
    }
    case RVR_T_STRING:
        return put_span(q, TAG(F_STRING, 2), v->as.str.ptr, v->as.str.len);
    case RVR_T_BYTES:
        return put_span(q, TAG(F_BYTES, 2), v->as.bytes.ptr, v->as.bytes.len);
    case RVR_T_UUID:
        return put_span(q, TAG(F_UUID, 2), v->as.uuid.bytes, 16);
    case RVR_T_LIST: {
        const rvr_list *l = v->as.list;
        *q++ = TAG(F_LIST, 2);
        q = rvr_enc_varint(q, list_body_size(l));
        for (size_t i = 0, k = rvr_list_len(l); i < k; i++) {
            const rvr_value *it = rvr_list_get(l, i);
            *q++ = TAG(F_ITEMS, 2);
            q = rvr_enc_varint(q, rvr_value_enc_size(it));
            q = rvr_value_enc_put(q, it);
        }
        return q;
    }
    case RVR_T_MAP:
        *q++ = TAG(F_MAP, 2);
        q = rvr_enc_varint(q, rvr_map_enc_size(v->as.map));
        return rvr_map_enc_put(q, v->as.map);
    default:
        return q;
    }
}

uint8_t *rvr_map_enc_put(uint8_t *q, const rvr_map *m)
{
    for (uint32_t i = 0; i < m->len; i++) {
        const rvr_map_entry *e = &m->entries[i];
        size_t vs = rvr_value_enc_size(&e->val);
        *q++ = TAG(F_ENTRIES, 2);
        q = rvr_enc_varint(q, rvr_enc_ld(e->keylen) + rvr_enc_ld(vs));
        q = put_span(q, TAG(F_KEY, 2), e->key, e->keylen);
        *q++ = TAG(F_VALUE, 2);
        q = rvr_enc_varint(q, vs);
        q = rvr_value_enc_put(q, &e->val);
    }
    return q;
}

rvr_status rvr_value_encode(const rvr_value *v, rvr_buf *out)
{
    if (v == NULL || out == NULL || v->type == RVR_T_NONE || v->type > RVR_T_MAP)
        return RVR_EINVAL;
    size_t n = rvr_value_enc_size(v);
    rvr_status st = rvr_buf_reserve(out, n);
    if (st != RVR_OK)
        return st;
    out->len = (size_t)(rvr_value_enc_put(out->data + out->len, v) - out->data);
    return RVR_OK;
}

rvr_status rvr_map_encode(const rvr_map *m, rvr_buf *out)
{
    if (m == NULL || out == NULL)
        return RVR_EINVAL;
    size_t n = rvr_map_enc_size(m);
    rvr_status st = rvr_buf_reserve(out, n);
    if (st != RVR_OK)
        return st;
    out->len = (size_t)(rvr_map_enc_put(out->data + out->len, m) - out->data);
    return RVR_OK;
}

/* ---- decoding --------------------------------------------------------------- */

/* A field's key.  Field number 0 is malformed (nanopb alone reads it as a
 * field to skip), as is a varint longer than 10 bytes or over 64 bits:
 * the same rules as the MSG decoder (wire_msg.c). */
static bool get_tag(pb_istream_t *is, pb_wire_type_t *wt, uint32_t *field)
{
    uint64_t k;
    size_t left = is->bytes_left;
    if (!pb_decode_varint(is, &k))
        return false;
    if (k >> 32 != 0) {
        /* Past 32 bits only the 10-byte sign extension of bit 31 (a
         * negative int32 written as int64) is allowed. */
        if ((k >> 31 & 1) == 0 || k >> 32 != 0xffffffffu || left - is->bytes_left != 10)
            return false;
        k &= 0xffffffffu;
    }
    if (k >> 3 == 0)
        return false;
    *field = (uint32_t)(k >> 3);
    *wt = (pb_wire_type_t)(k & 7);
    return true;
}

static bool skip_field(pb_istream_t *is, pb_wire_type_t wt)
{
    uint64_t v;
    if (wt == PB_WT_VARINT)
        return pb_decode_varint(is, &v);   /* bounded, unlike pb_skip_field's */
    return pb_skip_field(is, wt);
}

static rvr_status dec_value(pb_istream_t *is, unsigned budget, rvr_value *out);
static rvr_status dec_map(pb_istream_t *is, unsigned budget, rvr_map *m, unsigned put_depth);

/* Reads a length-delimited payload into a fresh NUL-terminated buffer. */
static rvr_status read_blob(pb_istream_t *is, size_t max, uint8_t **out, size_t *len)
{
    uint64_t n;
    if (!pb_decode_varint(is, &n) || n > is->bytes_left)
        return RVR_EPROTO;
    if (n > max)
        return RVR_ELIMIT;
    uint8_t *p = malloc((size_t)n + 1);
    if (p == NULL)
        return RVR_ENOMEM;
    if (!pb_read(is, p, (size_t)n)) {
        free(p);
        return RVR_EPROTO;
    }
    p[n] = '\0';
    *out = p;
    *len = (size_t)n;
    return RVR_OK;
}

static rvr_status open_sub(pb_istream_t *is, pb_istream_t *sub)
{
    return pb_make_string_substream(is, sub) ? RVR_OK : RVR_EPROTO;
}

static rvr_status close_sub(pb_istream_t *is, pb_istream_t *sub, rvr_status st)
{
    if (!pb_close_string_substream(is, sub) && st == RVR_OK)
        st = RVR_EPROTO;
    return st;
}

static rvr_status dec_list(pb_istream_t *is, unsigned budget, rvr_list *l)
{
    while (is->bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        if (!get_tag(is, &wt, &field))
            return RVR_EPROTO;
        if (field != F_ITEMS || wt != PB_WT_STRING) {
            if (!skip_field(is, wt))
                return RVR_EPROTO;
            continue;
        }
        pb_istream_t sub;
        rvr_value v = { RVR_T_NONE };
        rvr_status st = open_sub(is, &sub);
        if (st != RVR_OK)
            return st;
        st = close_sub(is, &sub, dec_value(&sub, budget, &v));
        if (st == RVR_OK && (st = rvr_list_append(l, &v)) != RVR_OK)
            rvr_value_clear(&v);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

static rvr_status dec_scalar(pb_istream_t *is, uint32_t field, pb_wire_type_t wt, rvr_value *v)
{
    static const pb_wire_type_t want[] = {
        [F_BOOL] = PB_WT_VARINT, [F_INT] = PB_WT_VARINT, [F_UINT] = PB_WT_VARINT,
        [F_DOUBLE] = PB_WT_64BIT, [F_STRING] = PB_WT_STRING, [F_BYTES] = PB_WT_STRING,
        [F_UUID] = PB_WT_STRING,
    };
    if (wt != want[field])
        return RVR_EPROTO;
    uint64_t u;
    switch (field) {
    case F_BOOL:
        if (!pb_decode_varint(is, &u))
            return RVR_EPROTO;
        *v = rvr_value_bool(u != 0);
        return RVR_OK;
    case F_INT: {
        int64_t i;
        if (!pb_decode_svarint(is, &i))
            return RVR_EPROTO;
        *v = rvr_value_i64(i);
        return RVR_OK;
    }
    case F_UINT:
        if (!pb_decode_varint(is, &u))
            return RVR_EPROTO;
        *v = rvr_value_u64(u);
        return RVR_OK;
    case F_DOUBLE: {
        double d;
        if (!pb_decode_fixed64(is, &d))
            return RVR_EPROTO;
        *v = rvr_value_f64(d);
        return RVR_OK;
    }
    default: {
        uint8_t *p;
        size_t n;
        rvr_status st = read_blob(is, RVR_MAX_VALUE_SIZE, &p, &n);
        if (st != RVR_OK)
            return st;
        if (field == F_UUID) {
            if (n != 16) {
                free(p);
                return RVR_EPROTO;
            }
            v->type = RVR_T_UUID;
            memcpy(v->as.uuid.bytes, p, 16);
            free(p);
        } else if (field == F_STRING) {
            if (memchr(p, '\0', n) != NULL) {   /* River strings hold no NUL */
                free(p);
                return RVR_EPROTO;
            }
            v->type = RVR_T_STRING;
            v->as.str.ptr = (char *)p;
            v->as.str.len = n;
        } else {
            v->type = RVR_T_BYTES;
            v->as.bytes.ptr = p;
            v->as.bytes.len = n;
        }
        return RVR_OK;
    }
    }
}

/* One Value message.  `budget` is the deepest nesting it may have. */
static rvr_status dec_value(pb_istream_t *is, unsigned budget, rvr_value *out)
{
    rvr_value v = { RVR_T_NONE };
    rvr_status st = RVR_OK;
    while (st == RVR_OK && is->bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        if (!get_tag(is, &wt, &field)) {
            st = RVR_EPROTO;
            break;
        }
        if (field < F_BOOL || field > F_MAP) {
            if (!skip_field(is, wt))   /* a newer peer's kind: ignore it */
                st = RVR_EPROTO;
            continue;
        }
        rvr_value_clear(&v);              /* oneof: the last one wins */
        if (field == F_LIST || field == F_MAP) {
            if (wt != PB_WT_STRING) {
                st = RVR_EPROTO;
                break;
            }
            if (budget == 0) {
                st = RVR_ELIMIT;
                break;
            }
            pb_istream_t sub;
            if ((st = open_sub(is, &sub)) != RVR_OK)
                break;
            if (field == F_LIST) {
                rvr_list *l = rvr_list_new();
                st = l ? dec_list(&sub, budget - 1, l) : RVR_ENOMEM;
                v = rvr_value_list(l);
            } else {
                rvr_map *m = rvr_map_new();
                st = m ? dec_map(&sub, budget - 1, m, RVR_MAX_DEPTH - 1) : RVR_ENOMEM;
                v = rvr_value_map(m);
            }
            if (v.as.list == NULL)
                v.type = RVR_T_NONE;
            st = close_sub(is, &sub, st);
        } else {
            st = dec_scalar(is, field, wt, &v);
        }
    }
    if (st == RVR_OK && v.type == RVR_T_NONE)
        st = RVR_EPROTO;                  /* a value must hold something */
    if (st != RVR_OK) {
        rvr_value_clear(&v);
        return st;
    }
    *out = v;
    return RVR_OK;
}

static rvr_status dec_entry(pb_istream_t *is, unsigned budget, rvr_map *m, unsigned put_depth)
{
    char *key = NULL;
    size_t keylen = 0;
    rvr_value v = { RVR_T_NONE };
    rvr_status st = RVR_OK;
    while (st == RVR_OK && is->bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        if (!get_tag(is, &wt, &field)) {
            st = RVR_EPROTO;
        } else if (field == F_KEY && wt == PB_WT_STRING) {
            free(key);
            key = NULL;
            st = read_blob(is, RVR_MAX_NAME, (uint8_t **)&key, &keylen);
            if (st == RVR_OK && (keylen == 0 || memchr(key, '\0', keylen) != NULL))
                st = RVR_EPROTO;
        } else if (field == F_VALUE && wt == PB_WT_STRING) {
            pb_istream_t sub;
            rvr_value_clear(&v);
            if ((st = open_sub(is, &sub)) == RVR_OK)
                st = close_sub(is, &sub, dec_value(&sub, budget, &v));
        } else if (!skip_field(is, wt)) {
            st = RVR_EPROTO;
        }
    }
    if (st == RVR_OK && (key == NULL || v.type == RVR_T_NONE))
        st = RVR_EPROTO;
    if (st == RVR_OK)
        st = rvr_map_put(m, key, &v, put_depth);
    free(key);
    rvr_value_clear(&v);
    return st;
}

static rvr_status dec_map(pb_istream_t *is, unsigned budget, rvr_map *m, unsigned put_depth)
{
    while (is->bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        if (!get_tag(is, &wt, &field))
            return RVR_EPROTO;
        if (field != F_ENTRIES || wt != PB_WT_STRING) {
            if (!skip_field(is, wt))
                return RVR_EPROTO;
            continue;
        }
        pb_istream_t sub;
        rvr_status st = open_sub(is, &sub);
        if (st != RVR_OK)
            return st;
        if ((st = close_sub(is, &sub, dec_entry(&sub, budget, m, put_depth))) != RVR_OK)
            return st;
    }
    return RVR_OK;
}

rvr_status rvr_value_decode(const uint8_t *p, size_t n, rvr_value *out)
{
    if ((p == NULL && n > 0) || out == NULL)
        return RVR_EINVAL;
    pb_istream_t is = pb_istream_from_buffer(p, n);
    return dec_value(&is, RVR_MAX_DEPTH, out);
}

rvr_status rvr_map_decode(const uint8_t *p, size_t n, rvr_map *out)
{
    if ((p == NULL && n > 0) || out == NULL)
        return RVR_EINVAL;
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_map tmp;
    rvr_map_init(&tmp);
    rvr_status st = dec_map(&is, RVR_MAX_DEPTH, &tmp, RVR_MAX_DEPTH);
    /* Move the entries only when all decoded, so errors leave `out` as it was. */
    for (uint32_t i = 0; st == RVR_OK && i < tmp.len; i++)
        st = rvr_map_put(out, tmp.entries[i].key, &tmp.entries[i].val, RVR_MAX_DEPTH);
    rvr_map_fini(&tmp);
    return st;
}
