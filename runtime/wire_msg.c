/* wire_msg.c — decoding MSG frames (see wire.h and docs/protocol.md).
 *
 * This is the receive hot path, one call per message, so it reads the
 * protobuf varints and spans straight from the frame instead of through
 * nanopb streams, and puts flat attributes (scalars, strings, bytes, uuids)
 * into the packet's inline storage (map.c): a small message is decoded
 * without calling malloc.  A value holding a list or a map goes through the
 * codec (rvr_value_decode), which applies the same rules.  Every length is
 * checked against the bytes left before it is used; the outcome for any
 * input is the one codec.c's rvr_map_decode would give. */
#include "wire.h"

#include <string.h>

#include "packet_impl.h"
#include "value_impl.h"

enum { F_BOOL = 1, F_INT, F_UINT, F_DOUBLE, F_STRING, F_BYTES, F_UUID, F_LIST, F_MAP };
enum { WT_VARINT = 0, WT_64BIT = 1, WT_STRING = 2, WT_32BIT = 5 };

/* What is left of a buffer being read. */
typedef struct rd {
    const uint8_t *p, *end;
} rd;

static inline bool rd_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* A field's key: false when malformed (field number 0 included). */
static inline bool rd_key(rd *r, uint32_t *field, unsigned *wt)
{
    uint64_t k;
    if (r->p < r->end && *r->p < 0x80 && *r->p >= 8) {   /* one byte: fields 1-15 */
        k = *r->p++;
    } else if (!rd_varint(r, &k) || k >> 3 == 0 || k >> 3 > UINT32_MAX) {
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

static inline bool rd_fixed64(rd *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return false;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | r->p[i];   /* little-endian on the wire */
    r->p += 8;
    *v = x;
    return true;
}

static bool rd_skip(rd *r, unsigned wt)
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
    case WT_32BIT:
        if (r->end - r->p < 4)
            return false;
        r->p += 4;
        return true;
    default:
        return false;   /* groups are not protobuf 3 */
    }
}

/* The envelope's fields; attrs (span) when wanted.  `prefix`: p holds only the
 * first n bytes of the payload, which may end inside attrs (the last field
 * River writes): *attrs_len is then its declared length, and parsing stops
 * there. */
static rvr_status parse_msg(const uint8_t *p, size_t n, rvr_wire_msg *h, const uint8_t **attrs,
                            size_t *attrs_len, bool prefix)
{
    memset(h, 0, sizeof *h);
    *attrs = NULL;
    *attrs_len = 0;
    bool have_src = false, have_dst = false;
    rd r = { p, p + n };
    while (r.p < r.end) {
        uint32_t field;
        unsigned wt;
        if (!rd_key(&r, &field, &wt))
            return RVR_EPROTO;
        const uint8_t *sp = NULL;
        size_t sn = 0;
        bool ok;
        if ((field == E_SRC || field == E_DST) && wt == WT_STRING) {
            ok = rd_span(&r, &sp, &sn) && sn == 16;
            if (ok && field == E_SRC) {
                memcpy(h->src.bytes, sp, 16);
                have_src = true;
            } else if (ok) {
                memcpy(h->dst.bytes, sp, 16);
                have_dst = true;
            }
        } else if (field == E_TAG && wt == WT_STRING) {
            ok = rd_span(&r, &sp, &sn);
            h->tag = (const char *)sp;
            h->tag_len = sn;
        } else if (field == E_SCHEMA && wt == WT_64BIT) {
            ok = rd_fixed64(&r, &h->schema);
        } else if (field == E_BODY && wt == WT_STRING) {
            ok = rd_span(&r, &h->body, &h->body_len);
        } else if (field == E_ATTRS && wt == WT_STRING && prefix) {
            uint64_t len;
            if ((ok = rd_varint(&r, &len))) {
                *attrs = r.p;
                *attrs_len = (size_t)len;
                if (len > (uint64_t)(r.end - r.p))
                    break;
                r.p += len;
            }
        } else if (field == E_ATTRS && wt == WT_STRING) {
            ok = rd_span(&r, attrs, attrs_len);
        } else if (field >= E_SRC && field <= E_ATTRS) {
            ok = false;   /* a known field with the wrong wire type */
        } else {
            ok = rd_skip(&r, wt);   /* a newer peer's field */
        }
        if (!ok)
            return RVR_EPROTO;
    }
    if (!have_src || !have_dst || h->tag == NULL || h->tag_len == 0 ||
        memchr(h->tag, '\0', h->tag_len) != NULL)
        return RVR_EPROTO;
    if (h->tag_len > RVR_MAX_NAME)
        return RVR_ELIMIT;
    return RVR_OK;
}

/* One Value message (v[0..n)) as attribute `key` of m. */
static rvr_status put_value(rvr_map *m, const char *key, const uint8_t *v, size_t n)
{
    static const unsigned char want[] = {
        [F_BOOL] = WT_VARINT, [F_INT] = WT_VARINT, [F_UINT] = WT_VARINT, [F_DOUBLE] = WT_64BIT,
        [F_STRING] = WT_STRING, [F_BYTES] = WT_STRING, [F_UUID] = WT_STRING,
        [F_LIST] = WT_STRING, [F_MAP] = WT_STRING,
    };
    rd r = { v, v + n };
    uint32_t kind = 0;
    uint64_t x = 0;
    const uint8_t *sp = NULL;
    size_t sn = 0;
    while (r.p < r.end) {   /* a oneof: the last kind wins, each is checked */
        uint32_t field;
        unsigned wt;
        if (!rd_key(&r, &field, &wt))
            return RVR_EPROTO;
        if (field < F_BOOL || field > F_MAP) {
            if (!rd_skip(&r, wt))   /* a newer peer's kind: ignore it */
                return RVR_EPROTO;
            continue;
        }
        if (wt != want[field])
            return RVR_EPROTO;
        if (field == F_LIST || field == F_MAP) {
            /* Nested: the codec decodes the whole value (same rules). */
            rvr_value val;
            rvr_status st = rvr_value_decode(v, n, &val);
            if (st == RVR_OK && (st = rvr_map_put(m, key, &val, RVR_MAX_DEPTH)) != RVR_OK)
                rvr_value_clear(&val);
            return st;
        }
        bool ok;
        if (field == F_DOUBLE)
            ok = rd_fixed64(&r, &x);
        else if (want[field] == WT_VARINT)
            ok = rd_varint(&r, &x);
        else
            ok = rd_span(&r, &sp, &sn);
        if (!ok)
            return RVR_EPROTO;
        if (field == F_UUID && sn != 16)
            return RVR_EPROTO;
        if ((field == F_STRING || field == F_BYTES) && sn > RVR_MAX_VALUE_SIZE)
            return RVR_ELIMIT;
        if (field == F_STRING && memchr(sp, '\0', sn) != NULL)
            return RVR_EPROTO;   /* River strings hold no NUL */
        kind = field;
    }
    rvr_value val;
    switch (kind) {
    case F_STRING:
        return rvr_map_put_blob(m, key, RVR_T_STRING, sp, sn);
    case F_BYTES:
        return rvr_map_put_blob(m, key, RVR_T_BYTES, sp, sn);
    case F_BOOL:
        val = rvr_value_bool(x != 0);
        break;
    case F_INT:
        val = rvr_value_i64((int64_t)(x >> 1) ^ -(int64_t)(x & 1));   /* zigzag */
        break;
    case F_UINT:
        val = rvr_value_u64(x);
        break;
    case F_DOUBLE: {
        double d;
        memcpy(&d, &x, sizeof d);
        val = rvr_value_f64(d);
        break;
    }
    case F_UUID: {
        rvr_uuid u;
        memcpy(u.bytes, sp, 16);
        val = rvr_value_uuid(&u);
        break;
    }
    default:
        return RVR_EPROTO;   /* a value must hold something */
    }
    return rvr_map_put(m, key, &val, RVR_MAX_DEPTH);
}

/* The entries of an attribute map (Map message a[0..n)) into m. */
static rvr_status decode_attrs(const uint8_t *a, size_t n, rvr_map *m)
{
    rd r = { a, a + n };
    while (r.p < r.end) {
        uint32_t field;
        unsigned wt;
        if (!rd_key(&r, &field, &wt))
            return RVR_EPROTO;
        if (field != 1 || wt != WT_STRING) {
            if (!rd_skip(&r, wt))
                return RVR_EPROTO;
            continue;
        }
        rd e;
        size_t en;
        if (!rd_span(&r, &e.p, &en))
            return RVR_EPROTO;
        e.end = e.p + en;
        const uint8_t *kp = NULL, *vp = NULL;
        size_t kn = 0, vn = 0;
        while (e.p < e.end) {
            if (!rd_key(&e, &field, &wt))
                return RVR_EPROTO;
            if (field == 1 && wt == WT_STRING) {
                if (!rd_span(&e, &kp, &kn))
                    return RVR_EPROTO;
                if (kn > RVR_MAX_NAME)
                    return RVR_ELIMIT;
                if (kn == 0 || memchr(kp, '\0', kn) != NULL)
                    return RVR_EPROTO;
            } else if (field == 2 && wt == WT_STRING) {
                if (vp != NULL) {
                    /* Repeated: the last wins, but the earlier must be valid. */
                    rvr_value tmp;
                    rvr_status st = rvr_value_decode(vp, vn, &tmp);
                    if (st != RVR_OK)
                        return st;
                    rvr_value_clear(&tmp);
                }
                if (!rd_span(&e, &vp, &vn))
                    return RVR_EPROTO;
            } else if (!rd_skip(&e, wt)) {
                return RVR_EPROTO;
            }
        }
        if (kp == NULL || vp == NULL)
            return RVR_EPROTO;
        char key[RVR_MAX_NAME + 1];
        memcpy(key, kp, kn);
        key[kn] = '\0';
        rvr_status st = put_value(m, key, vp, vn);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

rvr_status rvr_wire_peek_msg(const uint8_t *p, size_t n, rvr_wire_msg *hdr)
{
    const uint8_t *a;
    size_t an;
    return parse_msg(p, n, hdr, &a, &an, true);   /* a zero-copy frame's contiguous part too */
}

/* A packet with the envelope's tag and src, or NULL on ENOMEM. */
static rvr_packet *packet_of(const rvr_wire_msg *h)
{
    char tag[RVR_MAX_NAME + 1];
    memcpy(tag, h->tag, h->tag_len);
    tag[h->tag_len] = '\0';
    rvr_packet *pkt = rvr_packet_new(tag);
    if (pkt != NULL)
        pkt->src = h->src;
    return pkt;
}

rvr_status rvr_wire_get_msg(const uint8_t *p, size_t n, const rvr_wire_limits *lim,
                            rvr_wire_msg *hdr, rvr_packet **out)
{
    const uint8_t *attrs;
    size_t attrs_len;
    rvr_status st = parse_msg(p, n, hdr, &attrs, &attrs_len, false);
    if (st != RVR_OK)
        return st;
    rvr_packet *pkt = packet_of(hdr);
    if (pkt == NULL)
        return RVR_ENOMEM;
    if (attrs_len > 0 && (st = decode_attrs(attrs, attrs_len, &pkt->attrs)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    if (lim != NULL && (pkt->attrs.len > lim->max_attrs || pkt->attrs.depth > lim->max_depth)) {
        rvr_packet_free(pkt);
        return RVR_ELIMIT;
    }
    *out = pkt;
    return RVR_OK;
}

/* ---- a large last value read apart (zero-copy receive) ----------------------- */

/* A varint at p[*pos..have); false if it does not fit or is malformed. */
static bool scan_varint(const uint8_t *p, size_t have, size_t *pos, uint64_t *v)
{
    rd r = { p + *pos, p + have };
    if (*pos > have || !rd_varint(&r, v))
        return false;
    *pos = (size_t)(r.p - p);
    return true;
}

/* Walks a prefix in River's canonical field order to the last attribute's
 * data.  On success: *entry = offset of the last Entry's tag, *key and *keylen its name,
 * *off = data offset, *str = a string value. */
static bool scan_tail(const uint8_t *p, size_t have, size_t total, size_t *entry,
                      size_t *key, size_t *keylen, size_t *off, bool *str)
{
    size_t pos = 0;
    uint64_t v;
    for (;;) {   /* envelope fields before attrs: whole, in the prefix */
        if (pos >= have)
            return false;
        uint8_t tag = p[pos++];
        if (tag == (E_ATTRS << 3 | WT_STRING))
            break;
        if (tag == (E_SCHEMA << 3 | WT_64BIT)) {
            pos += 8;
            continue;
        }
        if ((tag & 7) != WT_STRING || (tag >> 3) < E_SRC || (tag >> 3) > E_BODY ||
            !scan_varint(p, have, &pos, &v) || v > have - pos)
            return false;
        pos += (size_t)v;
    }
    if (!scan_varint(p, have, &pos, &v) || v != total - pos)
        return false;   /* attrs is not the last field */
    for (;;) {   /* entries: all but the last whole, in the prefix */
        size_t at = pos;
        if (pos >= have || p[pos++] != T_ENTRY || !scan_varint(p, have, &pos, &v) ||
            v > total - pos)
            return false;
        if (pos + v < total) {
            if (v > have - pos)
                return false;
            pos += (size_t)v;
            continue;
        }
        *entry = at;
        break;
    }
    if (pos >= have || p[pos++] != T_KEY || !scan_varint(p, have, &pos, &v) || v > have - pos ||
        v == 0 || v > RVR_MAX_NAME)
        return false;
    *key = pos;
    *keylen = (size_t)v;
    pos += (size_t)v;
    if (pos >= have || p[pos++] != T_VALUE || !scan_varint(p, have, &pos, &v) || v != total - pos)
        return false;
    if (pos >= have || (p[pos] != T_STR && p[pos] != T_BYTES))
        return false;
    *str = p[pos++] == T_STR;
    if (!scan_varint(p, have, &pos, &v) || v != total - pos || v > RVR_MAX_VALUE_SIZE)
        return false;
    *off = pos;
    return true;
}

bool rvr_wire_msg_tail(const uint8_t *p, size_t have, size_t total, size_t min, size_t *off)
{
    size_t entry, key, keylen;
    bool str;
    if (!scan_tail(p, have < total ? have : total, total, &entry, &key, &keylen, off, &str))
        return false;
    return total - *off >= min;
}

rvr_status rvr_wire_get_msg_tail(const uint8_t *p, size_t off, uint8_t *tail, size_t tail_len,
                                 const rvr_wire_limits *lim, rvr_wire_msg *hdr, rvr_packet **out)
{
    size_t total = off + tail_len, entry, key, keylen, at;
    bool str;
    if (!scan_tail(p, off, total, &entry, &key, &keylen, &at, &str) || at != off)
        return RVR_EPROTO;
    const uint8_t *attrs;
    size_t attrs_len;
    rvr_status st = parse_msg(p, off, hdr, &attrs, &attrs_len, true);
    if (st != RVR_OK)
        return st;
    if (memchr(p + key, '\0', keylen) != NULL || (str && memchr(tail, '\0', tail_len) != NULL))
        return RVR_EPROTO;
    char name[RVR_MAX_NAME + 1];
    memcpy(name, p + key, keylen);
    name[keylen] = '\0';
    rvr_packet *pkt = packet_of(hdr);
    if (pkt == NULL)
        return RVR_ENOMEM;
    /* The entries before the last one are a Map encoding of their own. */
    size_t before = entry - (size_t)(attrs - p);
    if (before > 0 && (st = decode_attrs(attrs, before, &pkt->attrs)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    tail[tail_len] = '\0';
    rvr_value v;
    memset(&v, 0, sizeof v);
    v.type = str ? RVR_T_STRING : RVR_T_BYTES;
    if (str) {
        v.as.str.ptr = (char *)tail;
        v.as.str.len = tail_len;
    } else {
        v.as.bytes.ptr = tail;
        v.as.bytes.len = tail_len;
    }
    bool fresh = rvr_map_find(&pkt->attrs, name, keylen, rvr_hash_bytes(name, keylen)) == NULL;
    if (lim != NULL &&
        (pkt->attrs.len + fresh > lim->max_attrs || pkt->attrs.depth > lim->max_depth)) {
        rvr_packet_free(pkt);
        return RVR_ELIMIT;
    }
    /* rvr_map_put takes v only on success: otherwise tail stays the caller's. */
    if ((st = rvr_map_put(&pkt->attrs, name, &v, RVR_MAX_DEPTH)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    *out = pkt;
    return RVR_OK;
}
