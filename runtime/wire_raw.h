/* wire_raw.h — reading attributes kept as they came (wire_raw.c): inline,
 * as the getters run them for every attribute they read. */
#ifndef RIVER_WIRE_RAW_H
#define RIVER_WIRE_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "value_impl.h"
#include "wire.h"
#include "wire_read.h"

/* The Value message v[0..n) (n < 128; kind byte first, as River writes
 * it) when it holds one flat value and nothing else, as decode_entry_fast
 * in wire_msg.c accepts it; *out (if not NULL) gets it.  Stored field by
 * field: a value built aside and copied in is read back wider than it was
 * written, a store-forwarding stall on every get. */
static inline __attribute__((always_inline)) bool rvr_wire_raw_value(const uint8_t *v,
                                                                     size_t n, rvr_value *out)
{
    rvr_value scratch;
    if (out == NULL)
        out = &scratch;
    rd r = { v + 1, v + n };
    uint64_t x;
    /* Bytes and strings first, without the switch's jump: most values. */
    if (v[0] == (F_BYTES << 3 | WT_STRING)) {
        if (n < 2 || v[1] != n - 2)   /* n < 128: a one-byte length */
            return false;
        out->type = RVR_T_BYTES;
        out->as.bytes.ptr = (uint8_t *)v + 2;
        out->as.bytes.len = v[1];
        return true;
    }
    if (v[0] == (F_STRING << 3 | WT_STRING)) {
        if (n < 2 || v[1] != n - 2 || has_nul(v + 2, v[1]))
            return false;
        out->type = RVR_T_STRING;
        out->as.str.ptr = (char *)v + 2;
        out->as.str.len = v[1];
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

/* The value of attribute `name` (NUL-terminated) among checked entries
 * a[0..n) (rvr_wire_raw_check), if out is not NULL: a string or bytes value
 * points into a and is not NUL-terminated.  False when there is none. */
static inline __attribute__((always_inline)) bool rvr_wire_raw_find(const uint8_t *a, size_t n,
                                                                    const char *name,
                                                                    rvr_value *out)
{
    /* Checked entries: no bounds to test but the end.  The name is compared
     * byte by byte, so its length is never measured: its NUL differs from
     * any byte of a key. */
    for (const uint8_t *p = a, *end = a + n; p < end; p += 2 + p[1]) {
        const uint8_t *key = p + 4;
        size_t kn = p[3], i = 0;
        while (i < kn && (uint8_t)name[i] == key[i])
            i++;
        if (i == kn && name[kn] == '\0')
            return rvr_wire_raw_value(key + kn + 2, key[kn + 1], out);
    }
    return false;
}

#endif
