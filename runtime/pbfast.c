/* pbfast.c — see pbfast.h.
 *
 * Most typed messages are a few scalars and strings.  nanopb reads them
 * through its descriptor iterator and one generated callback per field
 * that is not a plain scalar: about a thousand instructions for a
 * sequence number and a bytes value, a third of what receiving the message
 * costs.  Here one pass checks the input against the schema (each field at
 * most once, declared, with its wire type and a value the general decoder
 * stores unchanged), and a second writes the fields.  Anything else goes
 * to the general decoder with the message untouched, so that decoder stays
 * the one definition of every other case, errors included. */
#include "pbfast.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "wire_read.h"

#define FAST_FIELDS 64   /* fields seen are a bit mask */

/* The wire type of field f when it is of a kind decoded here; else -1. */
static int fast_wire_type(const rvr_field *f)
{
    if (f->flags & RVR_FIELD_ARRAY)
        return -1;
    switch (f->type) {
    case RVR_F_BOOL:
    case RVR_F_INT32:
    case RVR_F_INT64:
    case RVR_F_UINT32:
    case RVR_F_UINT64:
    case RVR_F_ENUM:
        return WT_VARINT;
    case RVR_F_FLOAT:
        return WT_32BIT;
    case RVR_F_DOUBLE:
        return WT_64BIT;
    case RVR_F_STRING:
    case RVR_F_BYTES:
    case RVR_F_UUID:
        return WT_STRING;
    default:
        return -1;
    }
}

/* The index of field number num in s->fields, looked for from *at on
 * (encoders write fields in order, so that is usually the next one); -1
 * when s declares none. */
static inline int field_index(const rvr_schema *s, uint32_t num, size_t *at)
{
    for (size_t k = 0; k < s->nfields; k++) {
        size_t i = *at + k < s->nfields ? *at + k : *at + k - s->nfields;
        if (s->fields[i].number == num) {
            *at = i + 1;
            return (int)i;
        }
    }
    return -1;
}

/* A field's key: a varint of at most 32 bits, field number 1 or more. */
static bool read_key(rd *r, uint32_t *num, unsigned *wt)
{
    uint64_t k;
    if (!rd_varint(r, &k) || k >> 32 != 0 || k >> 3 == 0)
        return false;
    *num = (uint32_t)(k >> 3);
    *wt = (unsigned)(k & 7);
    return true;
}

/* Pass one: true if buf[0..len) is of the shape decoded here (see the top
 * of the file).  Reads only. */
static bool fast_input(const rvr_schema *s, const uint8_t *buf, size_t len)
{
    rd r = { buf, buf + len };
    uint64_t seen = 0;
    size_t at = 0;
    while (r.p < r.end) {
        uint32_t num;
        unsigned wt;
        int i;
        if (!read_key(&r, &num, &wt) || (i = field_index(s, num, &at)) < 0 ||
            (seen >> i & 1) != 0)
            return false;   /* unknown or repeated: the general decoder's rules */
        seen |= (uint64_t)1 << i;
        const rvr_field *f = &s->fields[i];
        if ((int)wt != fast_wire_type(f))
            return false;
        uint64_t v;
        const uint8_t *sp;
        size_t sn;
        switch (f->type) {
        case RVR_F_BOOL:   /* 0 or 1 in one byte: nanopb reads others as 32 bits */
            if (r.p >= r.end || *r.p > 1)
                return false;
            r.p++;
            break;
        case RVR_F_UINT32:   /* larger: the general decoder's "integer too large" */
            if (!rd_varint(&r, &v) || v > UINT32_MAX)
                return false;
            break;
        case RVR_F_FLOAT:
        case RVR_F_DOUBLE:
            if (!rd_skip(&r, wt))
                return false;
            break;
        case RVR_F_STRING:
            if (!rd_span(&r, &sp, &sn) || memchr(sp, 0, sn) != NULL || !rvr_utf8_ok(sp, sn))
                return false;
            break;
        case RVR_F_BYTES:
            if (!rd_span(&r, &sp, &sn))
                return false;
            break;
        case RVR_F_UUID:   /* empty: zeroed by the general decoder */
            if (!rd_span(&r, &sp, &sn) || sn != sizeof(rvr_uuid))
                return false;
            break;
        default:   /* int32, int64, uint64, enum: any 64-bit varint */
            if (!rd_varint(&r, &v))
                return false;
            break;
        }
    }
    return true;
}

/* Pass two, on input pass one took: writes the fields as the general
 * decoder's helpers do (a string or bytes value replaces, and frees, the
 * one there).  RVR_OK or RVR_ENOMEM. */
static rvr_status fast_fill(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg)
{
    rd r = { buf, buf + len };
    size_t at = 0;
    while (r.p < r.end) {
        uint32_t num = 0;
        unsigned wt = 0;
        (void)read_key(&r, &num, &wt);
        int i = field_index(s, num, &at);
        if (i < 0)
            return RVR_EPROTO;   /* never: pass one found each */
        const rvr_field *f = &s->fields[i];
        char *dst = (char *)msg + f->offset;
        uint64_t v = 0;
        const uint8_t *sp = NULL;
        size_t sn = 0;
        switch (f->type) {
        case RVR_F_BOOL:
            *(bool *)dst = *r.p++ != 0;
            break;
        case RVR_F_FLOAT: {
            uint32_t b = 0;
            (void)rd_fixed32(&r, &b);
            memcpy(dst, &b, 4);
            break;
        }
        case RVR_F_DOUBLE:
            (void)rd_fixed64(&r, &v);
            memcpy(dst, &v, 8);
            break;
        case RVR_F_STRING: {
            (void)rd_span(&r, &sp, &sn);
            char *str = malloc(sn + 1);
            if (str == NULL)
                return RVR_ENOMEM;
            memcpy(str, sp, sn);
            str[sn] = '\0';
            free(*(char **)dst);
            *(char **)dst = str;
            break;
        }
        case RVR_F_BYTES: {
            (void)rd_span(&r, &sp, &sn);
            uint8_t *b = NULL;
            if (sn > 0 && (b = malloc(sn)) == NULL)
                return RVR_ENOMEM;
            if (sn > 0)
                memcpy(b, sp, sn);
            rvr_bytes *y = (rvr_bytes *)dst;
            free(y->data);
            y->data = b;
            y->len = sn;
            break;
        }
        case RVR_F_UUID:
            (void)rd_span(&r, &sp, &sn);
            memcpy(dst, sp, sizeof(rvr_uuid));
            break;
        default:
            (void)rd_varint(&r, &v);
            if (f->type == RVR_F_INT64)
                *(int64_t *)dst = (int64_t)v;
            else if (f->type == RVR_F_UINT64)
                *(uint64_t *)dst = v;
            else if (f->type == RVR_F_UINT32)
                *(uint32_t *)dst = (uint32_t)v;
            else   /* int32, enum */
                *(int32_t *)dst = (int32_t)(uint32_t)v;
            break;
        }
    }
    return RVR_OK;
}

/* True if every field of s is of a kind decoded here. */
static bool fast_schema(const rvr_schema *s)
{
    /* The last answer, per thread: a receiver decodes one type over and
     * over.  Keyed by address: schemas are constants, never freed. */
    static RVR_TLS const rvr_schema *last;
    static RVR_TLS bool last_fast;
    if (s == last)
        return last_fast;
    bool fast = s->nfields <= FAST_FIELDS;
    for (size_t i = 0; i < s->nfields && fast; i++)
        fast = fast_wire_type(&s->fields[i]) >= 0;
    last = s;
    last_fast = fast;
    return fast;
}

bool rvr_pb_decode_fast(const rvr_schema *s, const uint8_t *buf, size_t len, void *msg,
                        rvr_status *st)
{
    if ((buf == NULL && len > 0) || !fast_schema(s))
        return false;
    if (!fast_input(s, buf, len))
        return false;
    *st = len > 0 ? fast_fill(s, buf, len, msg) : RVR_OK;
    return true;
}
