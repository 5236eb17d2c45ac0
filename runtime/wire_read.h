/* wire_read.h — reading protobuf from a received frame, for the decoders
 * of the receive hot path (wire_msg.c, wire_raw.c): varints, keys and
 * spans read straight from the bytes, each length checked against what is
 * left before it is used.  Inline: they run several times per message. */
#ifndef RIVER_WIRE_READ_H
#define RIVER_WIRE_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Value.kind field numbers; protobuf wire types. */
enum { F_BOOL = 1, F_INT, F_UINT, F_DOUBLE, F_STRING, F_BYTES, F_UUID, F_LIST, F_MAP };
enum { WT_VARINT = 0, WT_64BIT = 1, WT_STRING = 2, WT_32BIT = 5 };

/* True if p[0..n) holds a NUL: names and tags are short, so an inline loop
 * beats a call to memchr.  Eight bytes at a time (the last eight
 * overlapping): a word has a zero byte iff (w - 0x01..01) & ~w & 0x80..80. */
static inline bool has_nul(const uint8_t *p, size_t n)
{
    if (n > 64)
        return memchr(p, '\0', n) != NULL;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (p[i] == 0)
                return true;
        return false;
    }
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t w, z = 0;
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&w, p + i, 8);
        z |= (w - ones) & ~w & highs;
    }
    memcpy(&w, p + n - 8, 8);
    z |= (w - ones) & ~w & highs;
    return z != 0;
}

/* What is left of a buffer being read. */
typedef struct rd {
    const uint8_t *p, *end;
} rd;

/* A varint: at most 10 bytes, the 10th holding only the 64th bit. */
static inline bool rd_varint(rd *r, uint64_t *v)
{
    if (r->p < r->end && *r->p < 0x80) {   /* one byte: most lengths */
        *v = *r->p++;
        return true;
    }
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1)
            return false;   /* over 64 bits */
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* A field's key: a 32-bit varint (bytes past 32 bits must be zero, or the
 * sign extension of a negative int32, as protobuf encoders may write),
 * field number 1 or more. */
static inline bool rd_key(rd *r, uint32_t *field, unsigned *wt)
{
    uint64_t k;
    if (r->p < r->end && *r->p < 0x80 && *r->p >= 8) {   /* one byte: fields 1-15 */
        k = *r->p++;
    } else {
        const uint8_t *start = r->p;
        if (!rd_varint(r, &k))
            return false;
        if (k >> 32 != 0) {
            /* Past 32 bits: only a sign extension of bit 31 is allowed. */
            bool neg = (k >> 31 & 1) != 0 && k >> 32 == 0xffffffffu && r->p - start == 10;
            if (!neg)
                return false;
            k &= 0xffffffffu;
        }
        if (k >> 3 == 0)
            return false;
    }
    *field = (uint32_t)(k >> 3);
    *wt = (unsigned)(k & 7);
    return true;
}

static inline bool rd_span(rd *r, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (!rd_varint(r, &len) || len > (uint64_t)(r->end - r->p))
        return false;
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return true;
}

/* ---- lengths inside raw entries (wire_raw.c) ----
 * Every length inside a set of raw entries is the canonical varint of a
 * value below RVR_RAW_LEN_MAX: one byte, or two whose second is 1..127
 * (written with value_impl.h's rvr_enc_varint). */
#define RVR_RAW_LEN_MAX 16384u

/* The length at q (already checked), *w its width. */
static inline __attribute__((always_inline)) size_t raw_len(const uint8_t *q, size_t *w)
{
    if (q[0] < 0x80) {
        *w = 1;
        return q[0];
    }
    *w = 2;
    return (size_t)(q[0] & 0x7f) | (size_t)q[1] << 7;
}

/* The same, checked: false unless q[0..) before end holds such a length. */
static inline __attribute__((always_inline)) bool raw_len_chk(const uint8_t *q,
                                                              const uint8_t *end, size_t *len,
                                                              size_t *w)
{
    if (q >= end)
        return false;
    if (q[0] < 0x80) {
        *w = 1;
        *len = q[0];
        return true;
    }
    if (end - q < 2 || q[1] == 0 || q[1] >= 0x80)
        return false;
    *w = 2;
    *len = (size_t)(q[0] & 0x7f) | (size_t)q[1] << 7;
    return true;
}

static inline bool rd_fixed32(rd *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return false;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    return true;
}

static inline bool rd_fixed64(rd *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return false;
    uint64_t x;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&x, r->p, 8);   /* little-endian on the wire, as here */
#else
    x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | r->p[i];
#endif
    r->p += 8;
    *v = x;
    return true;
}

static inline bool rd_skip(rd *r, unsigned wt)
{
    uint64_t v;
    const uint8_t *p;
    size_t n;
    switch (wt) {
    case WT_VARINT:
        return rd_varint(r, &v);
    case WT_64BIT:
        return rd_fixed64(r, &v);
    case WT_STRING:
        return rd_span(r, &p, &n);
    case WT_32BIT: {
        uint32_t x;
        return rd_fixed32(r, &x);
    }
    default:
        return false;   /* groups are not protobuf 3 */
    }
}

#endif
