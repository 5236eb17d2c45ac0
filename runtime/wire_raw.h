/* wire_raw.h — reading attributes kept as they came (wire_raw.c): inline,
 * as the getters run them for every attribute they read. */
#ifndef RIVER_WIRE_RAW_H
#define RIVER_WIRE_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "packet_impl.h"
#include "value_impl.h"
#include "wire.h"
#include "wire_read.h"

/* The Value message v[0..n) (kind byte first, as River writes it) when it
 * holds one flat value and nothing else, as decode_entry_fast in
 * wire_msg.c accepts it, with a canonical length; *out (if not NULL) gets
 * it.  Stored field by field: a value built aside and copied in is read
 * back wider than it was written, a store-forwarding stall on every get. */
static inline __attribute__((always_inline)) bool rvr_wire_raw_value(const uint8_t *v,
                                                                     size_t n, rvr_value *out)
{
    rvr_value scratch;
    if (out == NULL)
        out = &scratch;
    rd r = { v + 1, v + n };
    uint64_t x;
    size_t len, w;
    /* Bytes and strings first, without the switch's jump: most values. */
    if (v[0] == (F_BYTES << 3 | WT_STRING)) {
        if (!raw_len_chk(v + 1, v + n, &len, &w) || len != n - 1 - w)
            return false;
        out->type = RVR_T_BYTES;
        out->as.bytes.ptr = (uint8_t *)v + 1 + w;
        out->as.bytes.len = len;
        return true;
    }
    if (v[0] == (F_STRING << 3 | WT_STRING)) {
        if (!raw_len_chk(v + 1, v + n, &len, &w) || len != n - 1 - w || has_nul(v + 1 + w, len))
            return false;
        out->type = RVR_T_STRING;
        out->as.str.ptr = (char *)v + 1 + w;
        out->as.str.len = len;
        return true;
    }
    switch (v[0]) {
    case F_BOOL << 3 | WT_VARINT:
    case F_INT << 3 | WT_VARINT:
    case F_UINT << 3 | WT_VARINT:
        if (!rd_varint(&r, &x) || r.p != r.end)
            return false;
        if (v[0] == (F_BOOL << 3)) {
            out->type = RVR_T_BOOL;
            out->as.b = x != 0;
        } else if (v[0] == (F_UINT << 3)) {
            out->type = RVR_T_UINT;
            out->as.u = x;
        } else {
            out->type = RVR_T_INT;
            out->as.i = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);   /* zigzag */
        }
        return true;
    case F_DOUBLE << 3 | WT_64BIT:
        if (!rd_fixed64(&r, &x) || r.p != r.end)
            return false;
        out->type = RVR_T_DOUBLE;
        memcpy(&out->as.d, &x, sizeof x);
        return true;
    case F_UUID << 3 | WT_STRING:
        if (n != 18 || v[1] != 16)
            return false;
        out->type = RVR_T_UUID;
        memcpy(out->as.uuid.bytes, v + 2, 16);
        return true;
    default:
        return false;   /* lists, maps, anything unusual */
    }
}

/* rvr_wire_raw_value for a Value of checked entries: it holds one flat
 * value, its lengths canonical and its strings without NUL (checked when
 * the entries were received or built), so it is only read.  The getters'
 * every call. */
static inline __attribute__((always_inline)) bool raw_value_checked(const uint8_t *v, size_t n,
                                                                    rvr_value *out)
{
    size_t w;
    if (v[0] == (F_BYTES << 3 | WT_STRING) || v[0] == (F_STRING << 3 | WT_STRING)) {
        size_t len = raw_len(v + 1, &w);
        if (v[0] == (F_BYTES << 3 | WT_STRING)) {
            out->type = RVR_T_BYTES;
            out->as.bytes.ptr = (uint8_t *)v + 1 + w;
            out->as.bytes.len = len;
        } else {
            out->type = RVR_T_STRING;
            out->as.str.ptr = (char *)v + 1 + w;
            out->as.str.len = len;
        }
        return true;
    }
    return rvr_wire_raw_value(v, n, out);   /* scalars and uuids: decoded as read */
}

/* Where the Value of attribute `name` (NUL-terminated) lies among checked
 * entries a[0..n) (rvr_wire_raw_check): its kind byte first, *vn its
 * length; NULL when there is none. */
static inline __attribute__((always_inline)) const uint8_t *rvr_wire_raw_at(const uint8_t *a,
                                                                            size_t n,
                                                                            const char *name,
                                                                            size_t *vn)
{
    /* Checked entries: no bounds to test but the end.  The name is compared
     * byte by byte, so its length is never measured: its NUL differs from
     * any byte of a key. */
    for (const uint8_t *p = a, *end = a + n; p < end;) {
        size_t w, en = raw_len(p + 1, &w);
        const uint8_t *key = p + 1 + w + 2;
        size_t kn = key[-1], i = 0;
        p += 1 + w + en;
        while (i < kn && (uint8_t)name[i] == key[i])
            i++;
        if (i == kn && name[kn] == '\0') {
            size_t vw;
            *vn = raw_len(key + kn + 1, &vw);
            return key + kn + 1 + vw;
        }
    }
    return NULL;
}

/* The value of attribute `name` (NUL-terminated) among checked entries
 * a[0..n), if out is not NULL: a string or bytes value points into a and
 * is not NUL-terminated.  False when there is none. */
static inline __attribute__((always_inline)) bool rvr_wire_raw_find(const uint8_t *a, size_t n,
                                                                    const char *name,
                                                                    rvr_value *out)
{
    size_t vn;
    const uint8_t *v = rvr_wire_raw_at(a, n, name, &vn);
    return v != NULL && (out == NULL || raw_value_checked(v, vn, out));
}

/* A new entry for `name` whose value takes vs bytes, at the end of p's raw
 * entries: where the value goes, or NULL (nothing changed) when the name
 * is empty, already there, or the entry does not fit (at most
 * RVR_WIRE_RAW_BYTES in all, nor in p's block).  The name is copied into
 * place as it is measured.  Writes the bytes put_entry_head in wire.c
 * writes. */
static inline __attribute__((always_inline)) uint8_t *rvr_raw_entry_named(rvr_packet *p,
                                                                         const char *name,
                                                                         size_t vs)
{
    if (name == NULL || p->raw_n == RVR_WIRE_RAW_MAX)
        return NULL;
    size_t n = p->raw_len, cap = (size_t)(p->attrs.store_hi - p->attrs.store_next);
    if (cap > RVR_WIRE_RAW_BYTES)
        cap = RVR_WIRE_RAW_BYTES;
    /* The entry's head at most: T_ENTRY, en (2), T_KEY, kn, T_VALUE, vn. */
    size_t vw = rvr_enc_vlen(vs);
    if (cap < n + 7 + vw + vs)
        return NULL;   /* not even a one-byte name */
    size_t fit = cap - n - 6 - vw - vs, len = 0;   /* the longest name that fits */
    /* The name goes where a one-byte en puts it; moved on by one if not. */
    uint8_t *q = (uint8_t *)p->raw + n, *key = q + 4;
    while (len < fit && name[len] != '\0') {   /* past raw_len: ours until committed */
        key[len] = (uint8_t)name[len];
        len++;
    }
    if (len == 0 || len >= 0x80 || name[len] != '\0' ||
        (n > 0 && rvr_wire_raw_find(p->raw, n, name, NULL)))
        return NULL;
    size_t inner = 3 + len + vw + vs;
    q[0] = T_ENTRY;
    if (inner < 0x80) {
        q[1] = (uint8_t)inner;
    } else {
        memmove(key + 1, key, len);
        key++;
        rvr_enc_varint(q + 1, inner);
    }
    key[-2] = T_KEY;
    key[-1] = (uint8_t)len;
    q = key + len;
    q[0] = T_VALUE;
    rvr_enc_varint(q + 1, vs);
    q += 1 + vw;
    p->raw_len = (uint32_t)(q + vs - p->raw);
    p->raw_n++;
    return q;
}

/* Sets attribute `name` of p (which has raw entries) to the string (str)
 * or bytes data[0..dlen), as one more raw entry.  False, changing
 * nothing, when the name is taken, invalid or long, or the entry does not
 * fit: the map takes it then (and reports any error).  Inline: the
 * setters of every small message. */
static inline __attribute__((always_inline)) bool rvr_packet_raw_put_blob(rvr_packet *p,
                                                                         const char *name, bool str,
                                                                         const void *data,
                                                                         size_t dlen)
{
    if (dlen >= RVR_WIRE_RAW_BYTES || (data == NULL && dlen > 0) ||
        (str && dlen > 0 && memchr(data, '\0', dlen) != NULL))
        return false;   /* too long for raw, or an error the map reports */
    size_t w = rvr_enc_vlen(dlen);
    /* Short values apart: there the compiler knows every length is one byte. */
    uint8_t *q = dlen < 0x70 ? rvr_raw_entry_named(p, name, 2 + dlen)
                             : rvr_raw_entry_named(p, name, 1 + w + dlen);
    if (q == NULL)
        return false;
    q[0] = str ? T_STR : T_BYTES;
    rvr_enc_varint(q + 1, dlen);
    if (dlen > 0)
        rvr_copy_small(q + 1 + w, data, dlen);
    return true;
}

#endif
