/* pbsupport.c — protobuf marshalling for riverc-generated code; see
 * <river/pbsupport.h>.
 *
 * Encoding walks the rvr_schema (field offsets, types, bounds, nested
 * schemas) and appends to an rvr_buf.  A length-delimited record gets one
 * reserved length byte; when its contents reach 128 bytes they move right
 * by the extra length bytes (memmove), so each field is visited once and
 * the output equals nanopb's from the generated descriptor byte for byte.
 *
 * Decoding is nanopb's, with the field callbacks of generated code calling
 * the rvr_pb_dec_* helpers; the reason of a failure and the nesting depth
 * are thread-local. */
#include <stdlib.h>
#include <string.h>
#include <pb.h>
#include <pb_common.h>
#include <pb_decode.h>
#include <river/codec.h>
#include <river/pbsupport.h>

#include "pbfast.h"
#include "value_impl.h"

/* ---- encoding -------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 };

#define FIRST_CAP 256     /* most messages fit: one malloc */

static rvr_status grow(rvr_buf *b, size_t n)
{
    return rvr_buf_reserve(b, n);
}

/* Room for n more bytes. */
static inline rvr_status need(rvr_buf *b, size_t n)
{
    return n <= b->cap - b->len ? RVR_OK : grow(b, n);
}

/* Appends a varint; the caller has made room for 10 bytes. */
static inline void varint_(rvr_buf *b, uint64_t v)
{
    b->len = (size_t)(rvr_enc_varint(b->data + b->len, v) - b->data);
}

static inline void fixed_(rvr_buf *b, uint64_t v, int n)
{
    uint8_t *p = b->data + b->len;
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
    b->len += (size_t)n;
}

/* Tag and length-delimited contents of known size. */
static rvr_status put_len(rvr_buf *b, uint32_t num, const void *p, size_t n)
{
    rvr_status st = need(b, 15 + n);
    if (st != RVR_OK)
        return st;
    varint_(b, (uint64_t)num << 3 | WT_LEN);
    varint_(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return RVR_OK;
}

/* Opens a length-delimited record of unknown size: the tag and one length
 * byte; *at receives where the length goes. */
static rvr_status open_len(rvr_buf *b, uint32_t num, size_t *at)
{
    rvr_status st = need(b, 6);
    if (st != RVR_OK)
        return st;
    varint_(b, (uint64_t)num << 3 | WT_LEN);
    *at = b->len++;
    return RVR_OK;
}

/* Closes it: writes the length, moving the contents when it needs more
 * than the one byte reserved. */
static rvr_status close_len(rvr_buf *b, size_t at)
{
    size_t n = b->len - at - 1, k = rvr_enc_vlen(n);
    rvr_status st;
    if (k == 1) {
        b->data[at] = (uint8_t)n;
        return RVR_OK;
    }
    if ((st = need(b, k - 1)) != RVR_OK)
        return st;
    memmove(b->data + at + k, b->data + at + 1, n);
    b->len = at;
    varint_(b, n);
    b->len += n;
    return RVR_OK;
}

/* The value of a scalar of type k at p as its varint (INT32 and ENUM sign
 * extended to 64 bits, as protobuf requires), or its bits (FLOAT, DOUBLE). */
static inline uint64_t scalar_bits(rvr_ftype k, const void *p)
{
    int32_t i32;
    uint32_t u32;
    uint64_t u64;
    switch (k) {
    case RVR_F_BOOL: return *(const bool *)p ? 1u : 0u;
    case RVR_F_INT32: case RVR_F_ENUM:
        memcpy(&i32, p, 4);
        return (uint64_t)(int64_t)i32;
    case RVR_F_UINT32: case RVR_F_FLOAT:
        memcpy(&u32, p, 4);
        return u32;
    default: /* INT64, UINT64, DOUBLE */
        memcpy(&u64, p, 8);
        return u64;
    }
}

/* One scalar value without a tag; room for 10 bytes made by the caller. */
static inline void scalar_(rvr_buf *b, rvr_ftype k, uint64_t v)
{
    if (k == RVR_F_FLOAT)
        fixed_(b, v, 4);
    else if (k == RVR_F_DOUBLE)
        fixed_(b, v, 8);
    else
        varint_(b, v);
}

static inline bool is_scalar(rvr_ftype k)
{
    return k != RVR_F_STRING && k != RVR_F_BYTES && k != RVR_F_UUID && k != RVR_F_MESSAGE
        && k != RVR_F_ANY;
}

/* Whether a zero scalar is written anyway: riverc makes scalars with a
 * non-zero default nanopb CALLBACK fields (always written, or decoding
 * would restore the default) and the others STATIC (omitted when zero).
 * Asked only for a zero value with a declared default, which is rare. */
static bool written_when_zero(const rvr_schema *s, const rvr_field *f, const void *m)
{
    pb_field_iter_t it;
    if (!(f->flags & RVR_FIELD_DEFAULT) || !s->pb_desc)
        return false;
    if (!pb_field_iter_begin_const(&it, (const pb_msgdesc_t *)s->pb_desc, m)
        || !pb_field_iter_find(&it, f->number))
        return false;
    return PB_ATYPE(it.type) == PB_ATYPE_CALLBACK;
}

static rvr_status put_fields(rvr_buf *b, const rvr_schema *s, const void *m);

static rvr_status put_string(rvr_buf *b, uint32_t num, const char *s)
{
    return put_len(b, num, s ? s : "", s ? strlen(s) : 0);
}

static rvr_status put_bytes(rvr_buf *b, uint32_t num, const rvr_bytes *v)
{
    if (v->len && !v->data)
        return RVR_EINVAL;
    return put_len(b, num, v->data, v->len);
}

static rvr_status put_msg(rvr_buf *b, uint32_t num, const rvr_schema *sub, const void *m)
{
    size_t at;
    rvr_status st = open_len(b, num, &at);
    if (st == RVR_OK)
        st = put_fields(b, sub, m);
    return st == RVR_OK ? close_len(b, at) : st;
}

/* `any`: NONE is an empty record (written only in arrays). */
static rvr_status put_any(rvr_buf *b, uint32_t num, const rvr_value *v)
{
    size_t at;
    rvr_status st = open_len(b, num, &at);
    if (st == RVR_OK && v->type != RVR_T_NONE)
        st = rvr_value_encode(v, b);
    return st == RVR_OK ? close_len(b, at) : st;
}

static rvr_status put_array(rvr_buf *b, const rvr_field *f, const void *m)
{
    const char *p;
    size_t n, i, at;
    rvr_status st = RVR_OK;
    memcpy(&p, (const char *)m + f->offset, sizeof p);
    memcpy(&n, (const char *)m + f->count_offset, sizeof n);
    if (f->bound && n > f->bound)
        return RVR_ELIMIT;
    if (n == 0)
        return RVR_OK;
    if (!p)
        return RVR_EINVAL;
    if (is_scalar(f->type)) {   /* packed: one record of all the values */
        if ((st = open_len(b, f->number, &at)) != RVR_OK)
            return st;
        for (i = 0; i < n; i++, p += f->elem_size) {
            if ((st = need(b, 10)) != RVR_OK)
                return st;
            scalar_(b, f->type, scalar_bits(f->type, p));
        }
        return close_len(b, at);
    }
    for (i = 0; i < n && st == RVR_OK; i++, p += f->elem_size) {
        switch (f->type) {
        case RVR_F_STRING: st = put_string(b, f->number, *(char *const *)p); break;
        case RVR_F_BYTES: st = put_bytes(b, f->number, (const rvr_bytes *)p); break;
        case RVR_F_UUID: st = put_len(b, f->number, p, sizeof(rvr_uuid)); break;
        case RVR_F_MESSAGE: st = put_msg(b, f->number, f->message, p); break;
        default: st = put_any(b, f->number, (const rvr_value *)p); break;
        }
    }
    return st;
}

static rvr_status put_single(rvr_buf *b, const rvr_schema *s, const rvr_field *f,
                             const void *m)
{
    const char *p = (const char *)m + f->offset;
    const char *str;
    rvr_status st;
    uint64_t v;
    switch (f->type) {
    case RVR_F_STRING:
        memcpy(&str, p, sizeof str);
        if ((!str || !*str) && !(f->flags & RVR_FIELD_DEFAULT))
            return RVR_OK;
        return put_string(b, f->number, str);
    case RVR_F_BYTES:
        if (((const rvr_bytes *)p)->len == 0)
            return RVR_OK;
        return put_bytes(b, f->number, (const rvr_bytes *)p);
    case RVR_F_UUID:
        return put_len(b, f->number, p, sizeof(rvr_uuid));
    case RVR_F_MESSAGE:
        return put_msg(b, f->number, f->message, p);
    case RVR_F_ANY:
        if (((const rvr_value *)p)->type == RVR_T_NONE)
            return RVR_OK;
        return put_any(b, f->number, (const rvr_value *)p);
    default:
        v = scalar_bits(f->type, p);
        if (v == 0 && !written_when_zero(s, f, m))
            return RVR_OK;
        if ((st = need(b, 13)) != RVR_OK)
            return st;
        varint_(b, (uint64_t)f->number << 3
                       | (f->type == RVR_F_FLOAT ? WT_32BIT
                          : f->type == RVR_F_DOUBLE ? WT_64BIT : WT_VARINT));
        scalar_(b, f->type, v);
        return RVR_OK;
    }
}

/* The fields of *m, by increasing number (the order of s->fields). */
static rvr_status put_fields(rvr_buf *b, const rvr_schema *s, const void *m)
{
    rvr_status st = RVR_OK;
    for (size_t i = 0; i < s->nfields && st == RVR_OK; i++) {
        const rvr_field *f = &s->fields[i];
        st = f->flags & RVR_FIELD_ARRAY ? put_array(b, f, m) : put_single(b, s, f, m);
    }
    return st;
}

rvr_status rvr_pb_encode(const rvr_schema *s, const void *msg, uint8_t **buf, size_t *len)
{
    rvr_buf b = { NULL, 0, 0 };
    rvr_status st;
    if (!s || !msg || !buf || !len)
        return RVR_EINVAL;
    if (!(b.data = (uint8_t *)malloc(FIRST_CAP)))
        return RVR_ENOMEM;
    b.cap = FIRST_CAP;
    st = put_fields(&b, s, msg);
    if (st != RVR_OK) {
        free(b.data);
        return st;
    }
    *buf = b.data;
    *len = b.len;
    return RVR_OK;
}

rvr_status rvr_pb_encode_buf(const rvr_schema *s, const void *msg, rvr_buf *b)
{
    b->len = 0;
    return put_fields(b, s, msg);
}

/* ---- decoding -------------------------------------------------------------- */

static _Thread_local rvr_status dec_err;  /* why the current decode fails */
static _Thread_local int dec_depth;       /* its message nesting */

bool rvr_pb_fail(rvr_status st)
{
    if (dec_err == RVR_OK)
        dec_err = st;
    return false;
}

char *rvr_pb_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = (char *)malloc(n);
    return p ? (char *)memcpy(p, s, n) : NULL;
}

bool rvr_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    uint32_t cp;
    while (i < n) {
        unsigned char c = s[i];
        len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || len > n - i)
            return false;
        cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

bool rvr_pb_dec_scalar(pb_istream_t *is, rvr_ftype k, void *p)
{
    uint64_t v = 0;
    if (k == RVR_F_FLOAT)
        return pb_decode_fixed32(is, p);
    if (k == RVR_F_DOUBLE)
        return pb_decode_fixed64(is, p);
    if (!pb_decode_varint(is, &v))
        return false;
    switch (k) {
    case RVR_F_BOOL: *(bool *)p = v != 0; break;
    case RVR_F_INT32: case RVR_F_ENUM: *(int32_t *)p = (int32_t)(uint32_t)v; break;
    case RVR_F_INT64: *(int64_t *)p = (int64_t)v; break;
    case RVR_F_UINT32: *(uint32_t *)p = (uint32_t)v; break;
    default: *(uint64_t *)p = v; break;
    }
    return true;
}

bool rvr_pb_dec_string(pb_istream_t *is, char **out)
{
    size_t n = is->bytes_left;
    char *s = (char *)malloc(n + 1);
    if (!s)
        return rvr_pb_fail(RVR_ENOMEM);
    if (!pb_read(is, (pb_byte_t *)s, n)) {
        free(s);
        return false;
    }
    s[n] = 0;
    if (memchr(s, 0, n) || !rvr_utf8_ok((const unsigned char *)s, n)) {
        free(s);
        return rvr_pb_fail(RVR_EPROTO);
    }
    free(*out);
    *out = s;
    return true;
}

bool rvr_pb_dec_bytes(pb_istream_t *is, rvr_bytes *out)
{
    size_t n = is->bytes_left;
    uint8_t *p = NULL;
    if (n && !(p = (uint8_t *)malloc(n)))
        return rvr_pb_fail(RVR_ENOMEM);
    if (!pb_read(is, p, n)) {
        free(p);
        return false;
    }
    free(out->data);
    out->data = p;
    out->len = n;
    return true;
}

static bool dec_uuid(pb_istream_t *is, rvr_uuid *u)
{
    if (is->bytes_left == 0) {
        memset(u, 0, sizeof *u);
        return true;
    }
    if (is->bytes_left != sizeof u->bytes)
        return rvr_pb_fail(RVR_EPROTO);
    return pb_read(is, u->bytes, sizeof u->bytes);
}

bool rvr_pb_dec_any(pb_istream_t *is, rvr_value *v)
{
    size_t n = is->bytes_left;
    uint8_t *b = (uint8_t *)malloc(n ? n : 1);
    rvr_status st = RVR_OK;
    if (!b)
        return rvr_pb_fail(RVR_ENOMEM);
    if (!pb_read(is, b, n)) {
        free(b);
        return false;
    }
    rvr_value_clear(v);
    if (n)
        st = rvr_value_decode(b, n, v);
    free(b);
    return st == RVR_OK ? true
                        : rvr_pb_fail(st == RVR_ENOMEM || st == RVR_ELIMIT ? st : RVR_EPROTO);
}

bool rvr_pb_dec_msg(pb_istream_t *is, const rvr_schema *s, void *m)
{
    bool ok;
    if (dec_depth >= RVR_PB_MAX_DEPTH)
        return rvr_pb_fail(RVR_ELIMIT);
    dec_depth++;
    ok = pb_decode_ex(is, (const pb_msgdesc_t *)s->pb_desc, m, PB_DECODE_NOINIT);
    dec_depth--;
    return ok;
}

/* Appends one zeroed element to the array whose pointer is at *arrp.
 * Capacity follows the count: 4, then doubling at each power of two. */
static void *push(void *arrp, size_t *count, size_t esz, size_t bound)
{
    size_t n = *count;
    void *a, *e;
    memcpy(&a, arrp, sizeof a);
    if (bound && n >= bound) {
        rvr_pb_fail(RVR_ELIMIT);
        return NULL;
    }
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n ? 2 * n : 4;
        if (cap > SIZE_MAX / esz || !(a = realloc(a, cap * esz))) {
            rvr_pb_fail(RVR_ENOMEM);
            return NULL;
        }
        memcpy(arrp, &a, sizeof a);
    }
    e = (char *)a + n * esz;
    memset(e, 0, esz);
    *count = n + 1;
    return e;
}

bool rvr_pb_dec_elem(pb_istream_t *is, rvr_ftype k, void *arrp, size_t *count, size_t esz,
                     size_t bound, const rvr_schema *sub)
{
    void *e = push(arrp, count, esz, bound);
    if (!e)
        return false;
    switch (k) {
    case RVR_F_STRING: return rvr_pb_dec_string(is, (char **)e);
    case RVR_F_BYTES: return rvr_pb_dec_bytes(is, (rvr_bytes *)e);
    case RVR_F_UUID: return dec_uuid(is, (rvr_uuid *)e);
    case RVR_F_MESSAGE: sub->init(e); return rvr_pb_dec_msg(is, sub, e);
    case RVR_F_ANY: return rvr_pb_dec_any(is, (rvr_value *)e);
    default: return rvr_pb_dec_scalar(is, k, e);
    }
}

rvr_status rvr_pb_decode(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg)
{
    rvr_status st;
    if (s != NULL && msg != NULL && rvr_pb_decode_fast(s, buf, len, msg, &st))
        return st;   /* the common shape, without nanopb (pbfast.c) */
    return rvr_pb_decode_general(s, buf, len, msg);
}

rvr_status rvr_pb_decode_general(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg)
{
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    rvr_status outer_err = dec_err, st = RVR_OK;
    int outer_depth = dec_depth;
    if (!s || !msg || (!buf && len))
        return RVR_EINVAL;
    dec_err = RVR_OK;
    dec_depth = 0;
    if (!pb_decode_ex(&is, (const pb_msgdesc_t *)s->pb_desc, msg, PB_DECODE_NOINIT))
        st = dec_err != RVR_OK ? dec_err : RVR_EPROTO;
    dec_err = outer_err;
    dec_depth = outer_depth;
    return st;
}
