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
#include "wire_read.h"

/* The envelope's fields; attrs (span) when wanted.  `prefix`: p holds only the
 * first n bytes of the payload, which may end inside attrs (the last field
 * River writes): *attrs_len is then its declared length, and parsing stops
 * there. */
static rvr_status parse_msg(const uint8_t *p, size_t n, const rvr_wire_ids *ids, rvr_wire_msg *h,
                            const uint8_t **attrs, size_t *attrs_len, bool prefix)
{
    /* Field by field: a memset of the struct compiles to `rep stos`,
     * which costs more than the rest of a small frame's envelope. */
    h->tag = NULL;
    h->tag_len = 0;
    h->schema = 0;
    h->body = NULL;
    h->body_len = 0;
    h->attrs = NULL;
    *attrs = NULL;
    *attrs_len = 0;
    bool have_src = false, have_dst = false;
    rd r = { p, p + n };
    if (n >= 38 && p[0] == (E_SRC << 3 | WT_STRING) && p[1] == 16 &&
        p[18] == (E_DST << 3 | WT_STRING) && p[19] == 16) {
        /* The order and sizes every River sender writes: src and dst at
         * fixed places; the general loop reads whatever follows them. */
        memcpy(h->src.bytes, p + 2, 16);
        memcpy(h->dst.bytes, p + 20, 16);
        have_src = have_dst = true;
        r.p = p + RVR_WIRE_IDS_LEN;
    }
    const uint8_t *t = r.p;
    if (r.end - t >= 2 && t[0] == (E_TAG << 3 | WT_STRING) && t[1] < 0x80 &&
        (size_t)t[1] <= (size_t)(r.end - t) - 2) {
        /* Then a short tag (or first, with src and dst left out). */
        h->tag = (const char *)t + 2;
        h->tag_len = t[1];
        r.p = t + 2 + t[1];
        size_t an, aw;
        if (r.p + 2 <= r.end && r.p[0] == (E_ATTRS << 3 | WT_STRING) &&
            raw_len_chk(r.p + 1, r.end, &an, &aw) && an == (size_t)(r.end - r.p) - 1 - aw) {
            *attrs = r.p + 1 + aw;   /* and small attributes, the last field */
            *attrs_len = an;
            r.p = r.end;
        } else if (r.end - r.p >= 9 && r.p[0] == (E_SCHEMA << 3 | WT_64BIT)) {
            /* Or a typed message's schema and a body of a short length. */
            rd s = { r.p + 1, r.end };
            (void)rd_fixed64(&s, &h->schema);
            r.p += 9;
            size_t bn, bw;
            if (r.p < r.end && r.p[0] == (E_BODY << 3 | WT_STRING) &&
                raw_len_chk(r.p + 1, r.end, &bn, &bw) && bn <= (size_t)(r.end - r.p) - 1 - bw) {
                h->body = r.p + 1 + bw;
                h->body_len = bn;
                r.p += 1 + bw + bn;
            }
        }
    }
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
    if (!have_src && !have_dst && ids != NULL && ids->set) {
        h->src = ids->src;   /* left out: the previous MSG's (wire.h) */
        h->dst = ids->dst;
        have_src = have_dst = true;
    }
    if (!have_src || !have_dst || h->tag == NULL || h->tag_len == 0 ||
        has_nul((const uint8_t *)h->tag, h->tag_len))
        return RVR_EPROTO;
    if (h->tag_len > RVR_MAX_NAME)
        return RVR_ELIMIT;
    return RVR_OK;
}

/* A Value message read and checked, not yet stored: a flat value (kind,
 * with x or the span sp/sn), or a nested one already decoded (val). */
typedef struct parsed {
    uint32_t kind;        /* F_*; 0: none */
    uint64_t x;
    const uint8_t *sp;
    size_t sn;
    rvr_value val;        /* F_LIST/F_MAP: owned */
} parsed;

static void parsed_clear(parsed *pv)
{
    if (pv->kind == F_LIST || pv->kind == F_MAP)
        rvr_value_clear(&pv->val);
    pv->kind = 0;
}

/* Reads the Value message v[0..n) into *pv (empty on error). */
static rvr_status parse_value(const uint8_t *v, size_t n, parsed *pv)
{
    static const unsigned char want[] = {
        [F_BOOL] = WT_VARINT, [F_INT] = WT_VARINT, [F_UINT] = WT_VARINT, [F_DOUBLE] = WT_64BIT,
        [F_STRING] = WT_STRING, [F_BYTES] = WT_STRING, [F_UUID] = WT_STRING,
        [F_LIST] = WT_STRING, [F_MAP] = WT_STRING,
    };
    rd r = { v, v + n };
    pv->kind = 0;
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
            rvr_status st = rvr_value_decode(v, n, &pv->val);
            pv->kind = st == RVR_OK ? (pv->val.type == RVR_T_LIST ? F_LIST : F_MAP) : 0;
            return st;
        }
        bool ok;
        if (field == F_DOUBLE)
            ok = rd_fixed64(&r, &pv->x);
        else if (want[field] == WT_VARINT)
            ok = rd_varint(&r, &pv->x);
        else
            ok = rd_span(&r, &pv->sp, &pv->sn);
        if (!ok)
            return RVR_EPROTO;
        if (field == F_UUID && pv->sn != 16)
            return RVR_EPROTO;
        if ((field == F_STRING || field == F_BYTES) && pv->sn > RVR_MAX_VALUE_SIZE)
            return RVR_ELIMIT;
        if (field == F_STRING && has_nul(pv->sp, pv->sn))
            return RVR_EPROTO;   /* River strings hold no NUL */
        pv->kind = field;
    }
    return pv->kind != 0 ? RVR_OK : RVR_EPROTO;   /* a value must hold something */
}

/* Stores *pv as attribute key[0..kn) (checked) of m (taking a nested
 * value on success). */
static rvr_status put_parsed(rvr_map *m, const char *key, size_t kn, parsed *pv)
{
    rvr_value val;
    switch (pv->kind) {
    case F_STRING:
        return rvr_map_put_blob_n(m, key, kn, RVR_T_STRING, pv->sp, pv->sn);
    case F_BYTES:
        return rvr_map_put_blob_n(m, key, kn, RVR_T_BYTES, pv->sp, pv->sn);
    case F_LIST:
    case F_MAP:
        return rvr_map_put_n(m, key, kn, &pv->val, RVR_MAX_DEPTH);
    case F_BOOL:
        val = rvr_value_bool(pv->x != 0);
        break;
    case F_INT:
        val = rvr_value_i64((int64_t)(pv->x >> 1) ^ -(int64_t)(pv->x & 1));   /* zigzag */
        break;
    case F_UINT:
        val = rvr_value_u64(pv->x);
        break;
    case F_DOUBLE: {
        double d;
        memcpy(&d, &pv->x, sizeof d);
        val = rvr_value_f64(d);
        break;
    }
    default: {   /* F_UUID */
        rvr_uuid u;
        memcpy(u.bytes, pv->sp, 16);
        val = rvr_value_uuid(&u);
        break;
    }
    }
    return rvr_map_put_n(m, key, kn, &val, RVR_MAX_DEPTH);
}

/* One Entry message e[0..n) into m.  Key and value are checked in the
 * order they come, as the codec does, so both report the same error. */
static rvr_status decode_entry(const uint8_t *e, size_t n, rvr_map *m)
{
    rd r = { e, e + n };
    const uint8_t *kp = NULL;
    size_t kn = 0;
    parsed pv = { 0 };
    rvr_status st = RVR_OK;
    while (st == RVR_OK && r.p < r.end) {
        uint32_t field;
        unsigned wt;
        const uint8_t *vp;
        size_t vn;
        if (!rd_key(&r, &field, &wt)) {
            st = RVR_EPROTO;
        } else if (field == 1 && wt == WT_STRING) {
            if (!rd_span(&r, &kp, &kn))
                st = RVR_EPROTO;
            else if (kn > RVR_MAX_NAME)
                st = RVR_ELIMIT;
            else if (kn == 0 || has_nul(kp, kn))
                st = RVR_EPROTO;
        } else if (field == 2 && wt == WT_STRING) {
            parsed_clear(&pv);   /* repeated: the last one wins */
            st = rd_span(&r, &vp, &vn) ? parse_value(vp, vn, &pv) : RVR_EPROTO;
        } else if (!rd_skip(&r, wt)) {
            st = RVR_EPROTO;
        }
    }
    if (st == RVR_OK && (kp == NULL || pv.kind == 0))
        st = RVR_EPROTO;
    if (st == RVR_OK)
        st = put_parsed(m, (const char *)kp, kn, &pv);
    parsed_clear(&pv);   /* a nested value taken by the map is NONE: no-op */
    return st;
}

#define NOT_CANONICAL ((rvr_status)1)

/* decode_entry for the layout River's encoders write: the key, then one
 * value of a flat kind, nothing else.  The result decode_entry would give,
 * or NOT_CANONICAL for any other entry, valid or not (decode_entry then
 * reads it, so errors are always reported the same way). */
static rvr_status decode_entry_fast(const uint8_t *e, size_t n, rvr_map *m)
{
    rd r = { e, e + n };
    const uint8_t *kp, *vp, *sp;
    size_t kn, vn, sn;
    if (n < 4 || *r.p++ != (1 << 3 | WT_STRING) || !rd_span(&r, &kp, &kn) || kn == 0 ||
        kn > RVR_MAX_NAME || r.p == r.end || *r.p++ != (2 << 3 | WT_STRING) ||
        !rd_span(&r, &vp, &vn) || r.p != r.end || vn < 2 || has_nul(kp, kn))
        return NOT_CANONICAL;
    const char *key = (const char *)kp;
    rd v = { vp + 1, vp + vn };
    uint64_t x;
    rvr_value val;
    switch (vp[0]) {
    case F_STRING << 3 | WT_STRING:
    case F_BYTES << 3 | WT_STRING: {
        bool str = vp[0] == (F_STRING << 3 | WT_STRING);
        if (!rd_span(&v, &sp, &sn) || v.p != v.end || sn > RVR_MAX_VALUE_SIZE ||
            (str && has_nul(sp, sn)))
            return NOT_CANONICAL;
        return rvr_map_put_blob_n(m, key, kn, str ? RVR_T_STRING : RVR_T_BYTES, sp, sn);
    }
    case F_BOOL << 3 | WT_VARINT:
    case F_INT << 3 | WT_VARINT:
    case F_UINT << 3 | WT_VARINT:
        if (!rd_varint(&v, &x) || v.p != v.end)
            return NOT_CANONICAL;
        val = vp[0] == (F_BOOL << 3) ? rvr_value_bool(x != 0)
            : vp[0] == (F_UINT << 3) ? rvr_value_u64(x)
                                     : rvr_value_i64((int64_t)(x >> 1) ^ -(int64_t)(x & 1));
        break;
    case F_DOUBLE << 3 | WT_64BIT: {
        double d;
        if (!rd_fixed64(&v, &x) || v.p != v.end)
            return NOT_CANONICAL;
        memcpy(&d, &x, sizeof d);
        val = rvr_value_f64(d);
        break;
    }
    case F_UUID << 3 | WT_STRING: {
        rvr_uuid u;
        if (!rd_span(&v, &sp, &sn) || v.p != v.end || sn != 16)
            return NOT_CANONICAL;
        memcpy(u.bytes, sp, 16);
        val = rvr_value_uuid(&u);
        break;
    }
    default:
        return NOT_CANONICAL;   /* lists, maps, anything unusual */
    }
    return rvr_map_put_n(m, key, kn, &val, RVR_MAX_DEPTH);
}

rvr_status rvr_wire_decode_attrs(const uint8_t *a, size_t n, rvr_map *m)
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
        const uint8_t *ep;
        size_t en;
        if (!rd_span(&r, &ep, &en))
            return RVR_EPROTO;
        rvr_status st = decode_entry_fast(ep, en, m);
        if (st == NOT_CANONICAL)
            st = decode_entry(ep, en, m);
        if (st != RVR_OK)
            return st;
    }
    return RVR_OK;
}

/* A MSG was read: the next may leave out its src and dst. */
static void ids_keep(rvr_wire_ids *ids, const rvr_wire_msg *h)
{
    ids->src = h->src;
    ids->dst = h->dst;
    ids->set = true;
}

rvr_status rvr_wire_peek_msg(const uint8_t *p, size_t n, rvr_wire_ids *ids, rvr_wire_msg *hdr)
{
    const uint8_t *a;
    size_t an;
    rvr_status st = parse_msg(p, n, ids, hdr, &a, &an, true);
    if (st == RVR_OK && ids != NULL)
        ids_keep(ids, hdr);
    return st;   /* a zero-copy frame's contiguous part too */
}

/* A packet with the envelope's tag and src, or NULL on ENOMEM. */
static rvr_packet *packet_of(const rvr_wire_msg *h)
{
    rvr_packet *pkt = rvr_packet_new_n(h->tag, h->tag_len);   /* checked by parse_msg */
    if (pkt != NULL)
        pkt->src = h->src;
    return pkt;
}

rvr_status rvr_wire_get_msg(const uint8_t *p, size_t n, const rvr_wire_limits *lim,
                            rvr_wire_msg *hdr, rvr_packet **out)
{
    return rvr_wire_get_msg_in(p, n, lim, NULL, hdr, out);
}

rvr_status rvr_wire_get_msg_in(const uint8_t *p, size_t n, const rvr_wire_limits *lim,
                               rvr_wire_ids *ids, rvr_wire_msg *hdr, rvr_packet **out)
{
    const uint8_t *attrs;
    size_t attrs_len;
    rvr_status st = parse_msg(p, n, ids, hdr, &attrs, &attrs_len, false);
    if (st != RVR_OK)
        return st;
    rvr_packet *pkt = packet_of(hdr);
    if (pkt == NULL)
        return RVR_ENOMEM;
    uint32_t count;
    if (attrs_len > 0 && hdr->schema == 0 && hdr->body_len == 0 &&
        rvr_wire_raw_check(attrs, attrs_len, lim != NULL ? lim->max_attrs : RVR_MAX_ATTRS, &count) &&
        rvr_packet_keep_raw(pkt, attrs, attrs_len, count)) {
        *out = pkt;   /* read in place, decoded only if asked for a map (wire_raw.c) */
        if (ids != NULL)
            ids_keep(ids, hdr);
        return RVR_OK;
    }
    if (attrs_len > 0 && (st = rvr_wire_decode_attrs(attrs, attrs_len, &pkt->attrs)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    if (lim != NULL && (pkt->attrs.len > lim->max_attrs || pkt->attrs.depth > lim->max_depth)) {
        rvr_packet_free(pkt);
        return RVR_ELIMIT;
    }
    *out = pkt;
    if (ids != NULL)
        ids_keep(ids, hdr);
    return RVR_OK;
}

uint64_t rvr_wire_msg_schema(const uint8_t *p, size_t n)
{
    rvr_wire_msg h;
    const uint8_t *attrs;
    size_t attrs_len;
    return parse_msg(p, n, NULL, &h, &attrs, &attrs_len, false) == RVR_OK ? h.schema : 0;
}

rvr_packet *rvr_wire_get_small(const uint8_t *p, size_t n, uint32_t max_attrs, rvr_wire_ids *ids)
{
    /* parse_msg's fixed places, with the attributes required: src and dst
     * first (at = RVR_WIRE_IDS_LEN), or neither (at = 0) after a MSG. */
    size_t at;
    if (n >= RVR_WIRE_IDS_LEN + 5 && p[0] == (E_SRC << 3 | WT_STRING) && p[1] == 16 &&
        p[18] == (E_DST << 3 | WT_STRING) && p[19] == 16)
        at = RVR_WIRE_IDS_LEN;
    else if (n >= 5 && ids->set)
        at = 0;
    else
        return NULL;
    if (p[at] != (E_TAG << 3 | WT_STRING))
        return NULL;
    size_t tl = p[at + 1];
    const uint8_t *tag = p + at + 2, *a = tag + tl;
    /* tl < 0x80 (a one-byte length) keeps it within RVR_MAX_NAME too. */
    size_t an, aw;
    if (tl == 0 || tl >= 0x80 || at + tl + 4 > n || a[0] != (E_ATTRS << 3 | WT_STRING) ||
        !raw_len_chk(a + 1, p + n, &an, &aw) || an == 0 || an != n - at - 3 - tl - aw ||
        has_nul(tag, tl))
        return NULL;
    uint32_t count;
    if (!rvr_wire_raw_check(a + 1 + aw, an, max_attrs, &count))
        return NULL;
    rvr_packet *pkt = rvr_packet_new_raw((const char *)tag, tl, a + 1 + aw, an, count);
    if (pkt == NULL)
        return NULL;
    if (at != 0)
        rvr_wire_ids_take(ids, p);
    pkt->src = ids->src;
    return pkt;
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
                                 const rvr_wire_limits *lim, rvr_wire_ids *ids,
                                 rvr_wire_msg *hdr, rvr_packet **out)
{
    size_t total = off + tail_len, entry, key, keylen, at;
    bool str;
    if (!scan_tail(p, off, total, &entry, &key, &keylen, &at, &str) || at != off)
        return RVR_EPROTO;
    const uint8_t *attrs;
    size_t attrs_len;
    rvr_status st = parse_msg(p, off, ids, hdr, &attrs, &attrs_len, true);
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
    if (before > 0 && (st = rvr_wire_decode_attrs(attrs, before, &pkt->attrs)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    tail[tail_len] = '\0';
    bool fresh = rvr_map_find(&pkt->attrs, name, keylen) == NULL;
    if (lim != NULL &&
        (pkt->attrs.len + fresh > lim->max_attrs || pkt->attrs.depth > lim->max_depth)) {
        rvr_packet_free(pkt);
        return RVR_ELIMIT;
    }
    /* Adopted only on success: otherwise tail stays the caller's. */
    if ((st = rvr_map_put_big(&pkt->attrs, name, str ? RVR_T_STRING : RVR_T_BYTES, tail,
                              tail_len)) != RVR_OK) {
        rvr_packet_free(pkt);
        return st;
    }
    *out = pkt;
    if (ids != NULL)
        ids_keep(ids, hdr);
    return RVR_OK;
}
