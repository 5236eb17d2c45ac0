/* wire_shape.c — reading a stream's frames by comparison with the last
 * one (see wire_shape.h). */
#include "wire_shape.h"

#include "packet_impl.h"
#include "wire_read.h"

/* What a value's free bytes must satisfy for the frame to stay valid. */
enum { FREE_ANY, FREE_STRING, FREE_VARINT };

void rvr_wire_shape_learn(rvr_wire_shape *s, const uint8_t *p, size_t n)
{
    /* A kept shape that missed is kept once more: two shapes interleaved
     * then still read every other frame of one by comparison, instead of
     * none while each frame replaces the kept one. */
    if (s->len != 0 && (++s->misses & 1) != 0)
        return;
    s->len = 0;
    s->nvals = 0;
    if (n != s->seen || n > sizeof s->bytes) {
        s->seen = (uint32_t)n;
        return;
    }
    /* The layout rvr_wire_get_small checked: src and dst (or neither),
     * tag, attributes (each T_ENTRY en T_KEY kn key T_VALUE vn, then the
     * Value), every length a canonical varint of one or two bytes
     * (wire_read.h). */
    size_t ids = p[0] == (E_SRC << 3 | WT_STRING) ? RVR_WIRE_IDS_LEN : 0;
    size_t tl = p[ids + 1], w;
    const uint8_t *a = p + ids + 2 + tl;
    size_t an = raw_len(a + 1, &w);
    const uint8_t *e = a + 1 + w, *end = p + n;
    s->raw_off = (uint16_t)(e - p);
    s->raw_len = (uint16_t)an;
    unsigned k = 0;
    for (; e < end; k++) {
        size_t en = raw_len(e + 1, &w);
        const uint8_t *key = e + 1 + w + 2;
        e += 1 + w + en;
        size_t vn = raw_len(key + key[-1] + 1, &w);
        const uint8_t *v = key + key[-1] + 1 + w;   /* the Value: kind, then its payload */
        size_t at = 1, len = vn - 1;
        uint8_t check = FREE_ANY;
        switch (v[0]) {
        case F_STRING << 3 | WT_STRING:
            check = FREE_STRING;
            /* fall through: the payload follows its length */
            __attribute__((fallthrough));
        case F_BYTES << 3 | WT_STRING:
        case F_UUID << 3 | WT_STRING:
            (void)raw_len(v + 1, &w);
            at = 1 + w;
            len = vn - 1 - w;
            break;
        case F_DOUBLE << 3 | WT_64BIT:
            break;
        default:   /* bool, int, uint */
            check = FREE_VARINT;
            break;
        }
        s->vals[k].off = (uint16_t)(v + at - p);
        s->vals[k].len = (uint16_t)len;
        s->vals[k].check = check;
    }
    memcpy(s->bytes, p, n);
    s->tag_len = (uint8_t)tl;
    s->ids_len = (uint8_t)ids;
    s->nvals = (uint8_t)k;
    s->len = (uint32_t)n;
}

/* a[0..n) == b[0..n): 16 bytes at a time, the last piece overlapping. */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    typedef uint64_t piece __attribute__((vector_size(16)));
    if (n < 16) {
        uint64_t d = 0;
        for (size_t i = 0; i < n; i++)
            d |= (uint64_t)(a[i] ^ b[i]);
        return d == 0;
    }
    piece x, y, d = { 0, 0 };
    for (size_t i = 0; i + 16 < n; i += 16) {
        memcpy(&x, a + i, 16);
        memcpy(&y, b + i, 16);
        d |= x ^ y;
    }
    memcpy(&x, a + n - 16, 16);
    memcpy(&y, b + n - 16, 16);
    d |= x ^ y;
    return (d[0] | d[1]) == 0;
}

/* True when p[0..n) has the kept shape: its structure and names are the
 * kept frame's, its values valid (see wire_shape.h).  Inline: the run's
 * every frame. */
static inline __attribute__((always_inline)) bool fits(const rvr_wire_shape *s, const uint8_t *p,
                                                       size_t n, const rvr_wire_ids *ids)
{
    if (n != s->len || n == 0 || (s->ids_len == 0 && !ids->set))
        return false;   /* another length, or none kept (an empty frame is no shape) */
    size_t at = 0;
    for (unsigned i = 0; i < s->nvals; i++) {
        size_t off = s->vals[i].off, len = s->vals[i].len;
        if (!same_bytes(p + at, s->bytes + at, off - at))
            return false;
        const uint8_t *v = p + off;
        if (s->vals[i].check == FREE_STRING && has_nul(v, len))
            return false;
        if (s->vals[i].check == FREE_VARINT) {
            /* The same length: the varint must end at its last byte. */
            rd r = { v, v + len };
            uint64_t x;
            if (!rd_varint(&r, &x) || r.p != r.end)
                return false;
        }
        at = off + len;
    }
    return same_bytes(p + at, s->bytes + at, n - at);
}

/* The packets of k frames that fit s, the i-th at p + i * stride (p: a
 * payload), each from src with wire_len `wire`, into out[]: how many
 * (fewer when out of memory).  Only the values differ between them. */
static size_t make(const rvr_wire_shape *s, const uint8_t *p, size_t stride, const rvr_uuid *src,
                   uint32_t wire, size_t k, rvr_packet **out)
{
    return rvr_packet_new_raw_run((const char *)p + s->ids_len + 2, s->tag_len, p + s->raw_off,
                                  stride, s->raw_len, s->nvals, src, wire, k, out);
}

rvr_packet *rvr_wire_shape_get(const rvr_wire_shape *s, const uint8_t *p, size_t n,
                               rvr_wire_ids *ids)
{
    if (!fits(s, p, n, ids))
        return NULL;
    rvr_wire_ids mine = *ids;
    if (s->ids_len != 0)   /* else the previous frame's, which ids hold */
        rvr_wire_ids_take(&mine, p);
    rvr_packet *pkt;
    if (make(s, p, 0, &mine.src, 0, 1, &pkt) != 1)
        return NULL;
    *ids = mine;
    return pkt;
}

size_t rvr_wire_shape_run(const rvr_wire_shape *s, const uint8_t *buf, size_t avail,
                          rvr_wire_ids *ids, rvr_packet **out, size_t max, size_t *used)
{
    size_t k = 0, pos = 0, flen = RVR_WIRE_HDR_LEN + (size_t)s->len;
    if (s->len == 0)
        return *used = 0;
    /* Every frame that fits carries the kept frame's src and dst, or
     * leaves them out: the ids after the first are those after any. */
    rvr_wire_ids after = *ids;
    if (s->ids_len != 0)
        rvr_wire_ids_take(&after, s->bytes);
    /* The frames that fit, then their packets in one go: they differ only
     * in their values (the raw entries at the same place in each). */
    while (k < max && avail - pos >= flen) {
        const uint8_t *f = buf + pos;
        uint32_t len;
        uint8_t type;
        rvr_wire_header(f, &len, &type);
        if (type != RVR_FRAME_MSG || len != s->len || !fits(s, f + RVR_WIRE_HDR_LEN, len, ids))
            break;
        k++;
        pos += flen;
    }
    if (k == 0)
        return *used = 0;
    k = make(s, buf + RVR_WIRE_HDR_LEN, flen, &after.src, s->len, k, out);
    if (k != 0)
        *ids = after;
    *used = k * flen;
    return k;
}
