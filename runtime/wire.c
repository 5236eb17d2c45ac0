/* wire.c — see wire.h and docs/protocol.md.  Hand-written with nanopb's
 * stream primitives, like codec.c; the dynamic attributes go through
 * rvr_map_encode / rvr_map_decode.  Every encoder knows its exact size
 * first, so a frame is written into one allocation of the right length. */
#include "wire.h"

#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "packet_impl.h"
#include "value_impl.h"

enum { H_VM = 1, H_PEER, H_ADDR, H_STATUS, H_REASON, H_MAXFRAME, H_NONCE };   /* Hello */
enum { A_PROOF = 1, A_STATUS, A_REASON };                           /* Auth */
enum { W_VR = 1, W_REQ, W_VM, W_ADDR };                              /* Whois(Reply) */
enum { B_REASON = 1 };                                               /* Bye */

static const uint8_t magic[4] = { 'R', 'I', 'V', 'R' };

void rvr_wire_limits_default(rvr_wire_limits *l)
{
    l->max_frame = RVR_WIRE_DEFAULT_MAX_FRAME;
    l->max_attrs = RVR_MAX_ATTRS;
    l->max_depth = RVR_MAX_DEPTH;
}

void rvr_wire_preamble(uint8_t out[RVR_WIRE_PREAMBLE_LEN])
{
    memcpy(out, magic, 4);
    out[4] = (uint8_t)(RVR_WIRE_VERSION >> 8);
    out[5] = (uint8_t)RVR_WIRE_VERSION;
    out[6] = out[7] = 0;   /* flags: none defined */
}

rvr_status rvr_wire_check_preamble(const uint8_t in[RVR_WIRE_PREAMBLE_LEN], uint16_t *version)
{
    if (memcmp(in, magic, 4) != 0)
        return RVR_EPROTO;
    *version = (uint16_t)(in[4] << 8 | in[5]);
    return RVR_OK;
}

/* ---- sizes ---------------------------------------------------------------- */

/* The envelope's first fields, src, dst and the tag: every MSG's. */
static size_t head_size(size_t tag_len)
{
    return 2 * rvr_enc_ld(16) + rvr_enc_ld(tag_len);
}

static size_t msg_payload_size(const rvr_wire_msg *m, size_t *attrs_len)
{
    size_t n = head_size(m->tag_len);
    if (m->schema != 0)
        n += 9;
    if (m->body_len > 0)
        n += rvr_enc_ld(m->body_len);
    *attrs_len = m->attrs_raw != NULL ? m->attrs_raw_len
               : m->attrs != NULL   ? rvr_map_enc_size(m->attrs)
                                    : 0;
    if (*attrs_len > 0)
        n += rvr_enc_ld(*attrs_len);
    return n;
}

size_t rvr_wire_msg_size(const rvr_wire_msg *m)
{
    size_t a;
    return RVR_WIRE_HDR_LEN + msg_payload_size(m, &a);
}

/* ---- encoding ------------------------------------------------------------- */

static bool put_bytes(pb_ostream_t *os, uint32_t field, const void *p, size_t n)
{
    return pb_encode_tag(os, PB_WT_STRING, field) && pb_encode_string(os, p, n);
}

/* A length-delimited field (number < 16) holding p[0..n). */
static uint8_t *put_span(uint8_t *q, unsigned field, const void *p, size_t n)
{
    *q++ = (uint8_t)(field << 3 | 2);
    q = rvr_enc_varint(q, n);
    rvr_copy_short(q, p, n);
    return q + n;
}

/* A 16-byte UUID field (a fixed-size copy the compiler inlines). */
static uint8_t *put_uuid(uint8_t *q, unsigned field, const rvr_uuid *u)
{
    *q++ = (uint8_t)(field << 3 | 2);
    *q++ = 16;
    memcpy(q, u->bytes, 16);
    return q + 16;
}

/* Writes head_size(tag_len) bytes at q; returns their end. */
static uint8_t *put_head(uint8_t *q, const rvr_uuid *src, const rvr_uuid *dst, const char *tag,
                         size_t tag_len)
{
    q = put_uuid(q, E_SRC, src);
    q = put_uuid(q, E_DST, dst);
    return put_span(q, E_TAG, tag, tag_len);
}

/* An Entry's key and the head of its value field, whose Value message
 * takes vs bytes (written next by the caller); returns the end.  Inline:
 * the small-packet path runs it once per attribute of every message. */
static inline __attribute__((always_inline)) uint8_t *put_entry_head(uint8_t *q,
                                                                     const rvr_map_entry *e,
                                                                     size_t vs)
{
    *q++ = T_ENTRY;
    q = rvr_enc_varint(q, rvr_enc_ld(e->keylen) + rvr_enc_ld(vs));
    *q++ = T_KEY;
    q = rvr_enc_varint(q, e->keylen);
    rvr_copy_short(q, e->key, e->keylen);
    q += e->keylen;
    *q++ = T_VALUE;
    return rvr_enc_varint(q, vs);
}

/* The entries of an attribute map, as codec.c's rvr_map_encode writes them;
 * large string/bytes data out of line when ext != NULL. */
static rvr_status put_attrs(rvr_buf *out, const rvr_map *m, size_t min_ext, rvr_wire_ext *ext,
                            size_t max_ext, size_t *next)
{
    for (uint32_t i = 0; i < m->len; i++) {
        const rvr_map_entry *e = &m->entries[i];
        const rvr_value *v = &e->val;
        size_t vs = rvr_value_enc_size(v);
        bool str = v->type == RVR_T_STRING;
        size_t n = str ? v->as.str.len : v->type == RVR_T_BYTES ? v->as.bytes.len : 0;
        bool out_of_line = ext != NULL && (str || v->type == RVR_T_BYTES) && n >= min_ext &&
                           n > 0 && *next < max_ext;
        rvr_status st = rvr_buf_reserve(out, 4 * 11 + 2 + e->keylen + (out_of_line ? 0 : vs));
        if (st != RVR_OK)
            return st;
        uint8_t *q = put_entry_head(out->data + out->len, e, vs);
        if (out_of_line) {
            *q++ = str ? T_STR : T_BYTES;
            q = rvr_enc_varint(q, n);
            out->len = (size_t)(q - out->data);
            ext[*next].at = out->len;
            ext[*next].p = str ? (const uint8_t *)v->as.str.ptr : v->as.bytes.ptr;
            ext[*next].n = n;
            (*next)++;
            continue;
        }
        out->len = (size_t)(rvr_value_enc_put(q, v) - out->data);
    }
    return RVR_OK;
}

/* `sz`: the sizes from rvr_wire_packet_sizes (NULL: computed here). */
static rvr_status put_msg(rvr_buf *out, const rvr_wire_msg *m, size_t min_ext, rvr_wire_ext *ext,
                          size_t max_ext, size_t *next, const rvr_wire_sized *sz)
{
    if (out == NULL || m == NULL || m->tag == NULL || m->tag_len == 0)
        return RVR_EINVAL;
    size_t attrs_len, payload;
    if (sz != NULL) {
        payload = sz->frame - RVR_WIRE_HDR_LEN;
        attrs_len = sz->attrs;
    } else {
        payload = msg_payload_size(m, &attrs_len);
    }
    if (payload > UINT32_MAX)
        return RVR_ELIMIT;
    /* Zero-copy: room for the envelope only; the entries reserve as they go. */
    size_t first = ext != NULL ? payload - attrs_len + 64 : payload;
    rvr_status st = rvr_buf_reserve(out, RVR_WIRE_HDR_LEN + first);
    if (st != RVR_OK)
        return st;
    size_t start = out->len;
    uint8_t *p = out->data + start;
    rvr_wire_put_header(p, payload, RVR_FRAME_MSG);
    /* Everything but the attribute entries goes straight into the buffer
     * (sized above: msg_payload_size). */
    uint8_t *q = p + RVR_WIRE_HDR_LEN;
    q = put_head(q, &m->src, &m->dst, m->tag, m->tag_len);
    if (m->schema != 0) {
        *q++ = E_SCHEMA << 3 | 1;
        q = rvr_enc_fixed64(q, m->schema);
    }
    if (m->body_len > 0)
        q = put_span(q, E_BODY, m->body, m->body_len);
    if (attrs_len > 0) {
        *q++ = E_ATTRS << 3 | 2;
        q = rvr_enc_varint(q, attrs_len);
    }
    out->len = (size_t)(q - out->data);
    size_t n0 = ext != NULL ? *next : 0, outside = 0;
    if (m->attrs_raw != NULL) {   /* entries as they came: small, written as they are */
        if ((st = rvr_buf_reserve(out, attrs_len)) != RVR_OK) {
            out->len = start;
            return st;
        }
        memcpy(out->data + out->len, m->attrs_raw, attrs_len);
        out->len += attrs_len;
    } else if (attrs_len > 0 &&
               (st = put_attrs(out, m->attrs, min_ext, ext, max_ext, next)) != RVR_OK) {
        out->len = start;
        if (ext != NULL)
            *next = n0;
        return st;
    }
    for (size_t i = n0; ext != NULL && i < *next; i++)
        outside += ext[i].n;
    if (out->len - start + outside != RVR_WIRE_HDR_LEN + payload) {
        out->len = start;   /* our sizing disagrees with codec.c: never send that */
        if (ext != NULL)
            *next = n0;
        return RVR_EPROTO;
    }
    return RVR_OK;
}

rvr_status rvr_wire_put_msg(rvr_buf *out, const rvr_wire_msg *m)
{
    return put_msg(out, m, 0, NULL, 0, NULL, NULL);
}

static void msg_of_packet(rvr_wire_msg *m, const rvr_uuid *dst, const rvr_packet *p)
{
    memset(m, 0, sizeof *m);
    m->src = p->src;
    m->dst = *dst;
    m->tag = p->tag;
    m->tag_len = p->tag_len;
    m->attrs = p->attrs.len > 0 ? &p->attrs : NULL;
    m->attrs_raw = p->raw;
    m->attrs_raw_len = p->raw_len;
}

rvr_status rvr_wire_put_packet(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p)
{
    rvr_wire_msg m;
    msg_of_packet(&m, dst, p);
    return rvr_wire_put_msg(out, &m);
}

rvr_status rvr_wire_put_packet_ext(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p,
                                   size_t min_ext, rvr_wire_ext *ext, size_t max_ext, size_t *next)
{
    rvr_wire_msg m;
    msg_of_packet(&m, dst, p);
    *next = 0;
    return put_msg(out, &m, min_ext, ext, max_ext, next, NULL);
}

size_t rvr_wire_packet_size(const rvr_uuid *dst, const rvr_packet *p)
{
    rvr_wire_msg m;
    msg_of_packet(&m, dst, p);
    return rvr_wire_msg_size(&m);
}

void rvr_wire_packet_sizes(const rvr_uuid *dst, const rvr_packet *p, rvr_wire_sized *sz)
{
    rvr_wire_msg m;
    msg_of_packet(&m, dst, p);
    sz->frame = RVR_WIRE_HDR_LEN + msg_payload_size(&m, &sz->attrs);
}

rvr_status rvr_wire_put_packet_sized(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p,
                                     const rvr_wire_sized *sz)
{
    rvr_wire_msg m;
    msg_of_packet(&m, dst, p);
    return put_msg(out, &m, 0, NULL, 0, NULL, sz);
}

size_t rvr_wire_put_packet_small(uint8_t *buf, size_t cap, const rvr_uuid *dst,
                                 const rvr_packet *p, uint8_t **frame)
{
    /* One pass over p: the attributes first, after room for the longest
     * envelope that can precede them, then the envelope, written into
     * place before them once their length is known. */
    if (p->raw != NULL) {   /* attributes already encoded: its size is known */
        size_t n = rvr_wire_raw_frame_size(p);
        if (n > cap)
            return 0;
        rvr_wire_put_raw_frame(buf, n, dst, p);
        *frame = buf;
        return n;
    }
    size_t room = RVR_WIRE_HDR_LEN + head_size(p->tag_len) + 1 + 5;   /* 5: a 32-bit varint */
    if (p->tag_len == 0 || room >= cap)
        return 0;
    uint8_t *a = buf + room, *q = a, *end = buf + cap;
    const rvr_map *m = &p->attrs;
    for (uint32_t i = 0; i < m->len; i++) {
        const rvr_map_entry *e = &m->entries[i];
        size_t vs = rvr_value_enc_size(&e->val);
        size_t inner = rvr_enc_ld(e->keylen) + rvr_enc_ld(vs);
        if (inner + 1 + 5 > (size_t)(end - q))
            return 0;   /* not small */
        q = put_entry_head(q, e, vs);
        uint8_t *v = q;
        q = rvr_value_enc_put(q, &e->val);
        if ((size_t)(q - v) != vs)
            return 0;   /* sizing disagrees with codec.c: the general path reports it */
    }
    size_t alen = (size_t)(q - a);
    size_t pre = head_size(p->tag_len) + (alen > 0 ? 1 + rvr_enc_vlen(alen) : 0);
    uint8_t *f = a - pre - RVR_WIRE_HDR_LEN;
    rvr_wire_put_header(f, pre + alen, RVR_FRAME_MSG);
    uint8_t *w = f + RVR_WIRE_HDR_LEN;
    w = put_head(w, &p->src, dst, p->tag, p->tag_len);
    if (alen > 0) {
        *w++ = E_ATTRS << 3 | 2;
        rvr_enc_varint(w, alen);
    }
    *frame = f;
    return (size_t)(q - f);
}

size_t rvr_wire_raw_frame_size(const rvr_packet *p)
{
    size_t n = RVR_WIRE_HDR_LEN + head_size(p->tag_len);
    return p->raw_len > 0 ? n + rvr_enc_ld(p->raw_len) : n;
}

void rvr_wire_put_raw_frame(uint8_t *q, size_t size, const rvr_uuid *dst, const rvr_packet *p)
{
    rvr_wire_put_header(q, size - RVR_WIRE_HDR_LEN, RVR_FRAME_MSG);
    q = put_head(q + RVR_WIRE_HDR_LEN, &p->src, dst, p->tag, p->tag_len);
    if (p->raw_len > 0) {
        *q++ = E_ATTRS << 3 | 2;
        q = rvr_enc_varint(q, p->raw_len);
        rvr_copy_small(q, p->raw, p->raw_len);
    }
}

/* Small control messages: sized by a dry run, then written. */
typedef bool (*enc_fn)(pb_ostream_t *os, const void *arg);

static rvr_status put_small(rvr_buf *out, uint8_t type, enc_fn fn, const void *arg)
{
    pb_ostream_t sizing = PB_OSTREAM_SIZING;
    if (!fn(&sizing, arg))
        return RVR_EINVAL;
    size_t payload = sizing.bytes_written;
    rvr_status st = rvr_buf_reserve(out, RVR_WIRE_HDR_LEN + payload);
    if (st != RVR_OK)
        return st;
    uint8_t *p = out->data + out->len;
    rvr_wire_put_header(p, payload, type);
    pb_ostream_t os = pb_ostream_from_buffer(p + RVR_WIRE_HDR_LEN, payload);
    if (!fn(&os, arg))
        return RVR_EINVAL;
    out->len += RVR_WIRE_HDR_LEN + payload;
    return RVR_OK;
}

static bool put_str(pb_ostream_t *os, uint32_t field, const char *s)
{
    return s[0] == '\0' || put_bytes(os, field, s, strlen(s));
}

static bool enc_hello(pb_ostream_t *os, const void *arg)
{
    const rvr_wire_hello *h = arg;
    bool ok = put_bytes(os, H_VM, h->vm_id.bytes, 16);
    if (ok && !rvr_uuid_is_nil(&h->peer_vm_id))
        ok = put_bytes(os, H_PEER, h->peer_vm_id.bytes, 16);
    ok = ok && put_str(os, H_ADDR, h->listen_addr);
    if (ok && h->status != 0)
        ok = pb_encode_tag(os, PB_WT_VARINT, H_STATUS) && pb_encode_varint(os, h->status);
    ok = ok && put_str(os, H_REASON, h->reason);
    if (ok && h->max_frame != 0)
        ok = pb_encode_tag(os, PB_WT_VARINT, H_MAXFRAME) && pb_encode_varint(os, h->max_frame);
    if (ok && h->has_nonce)
        ok = put_bytes(os, H_NONCE, h->auth_nonce, sizeof h->auth_nonce);
    return ok;
}

static bool enc_auth(pb_ostream_t *os, const void *arg)
{
    const rvr_wire_auth *a = arg;
    bool ok = !a->has_proof || put_bytes(os, A_PROOF, a->proof, sizeof a->proof);
    if (ok && a->status != 0)
        ok = pb_encode_tag(os, PB_WT_VARINT, A_STATUS) && pb_encode_varint(os, a->status);
    return ok && put_str(os, A_REASON, a->reason);
}

rvr_status rvr_wire_put_auth(rvr_buf *out, const rvr_wire_auth *a)
{
    return put_small(out, RVR_FRAME_AUTH, enc_auth, a);
}

rvr_status rvr_wire_put_hello(rvr_buf *out, const rvr_wire_hello *h)
{
    return put_small(out, RVR_FRAME_HELLO, enc_hello, h);
}

static bool enc_whois(pb_ostream_t *os, const void *arg)
{
    const rvr_wire_whois *w = arg;
    bool ok = put_bytes(os, W_VR, w->vr.bytes, 16) && pb_encode_tag(os, PB_WT_VARINT, W_REQ) &&
              pb_encode_varint(os, w->req);
    if (ok && !rvr_uuid_is_nil(&w->vm_id))
        ok = put_bytes(os, W_VM, w->vm_id.bytes, 16) && put_str(os, W_ADDR, w->addr);
    return ok;
}

rvr_status rvr_wire_put_whois(rvr_buf *out, uint8_t type, const rvr_wire_whois *w)
{
    return put_small(out, type, enc_whois, w);
}

static bool enc_bye(pb_ostream_t *os, const void *arg)
{
    return put_str(os, B_REASON, arg);
}

rvr_status rvr_wire_put_bye(rvr_buf *out, const char *reason)
{
    return put_small(out, RVR_FRAME_BYE, enc_bye, reason != NULL ? reason : "");
}

/* ---- decoding ------------------------------------------------------------- */

/* A length-delimited field's bytes, in place. */
static bool get_span(pb_istream_t *is, const uint8_t *base, size_t total, const uint8_t **p,
                     size_t *n)
{
    uint64_t len;
    if (!pb_decode_varint(is, &len) || len > is->bytes_left)
        return false;
    *p = base + (total - is->bytes_left);
    *n = (size_t)len;
    return pb_read(is, NULL, (size_t)len);
}

static bool get_uuid(pb_istream_t *is, const uint8_t *base, size_t total, rvr_uuid *u)
{
    const uint8_t *p;
    size_t n;
    if (!get_span(is, base, total, &p, &n) || n != 16)
        return false;
    memcpy(u->bytes, p, 16);
    return true;
}

static bool get_text(pb_istream_t *is, const uint8_t *base, size_t total, char *dst, size_t cap)
{
    const uint8_t *p;
    size_t n;
    if (!get_span(is, base, total, &p, &n) || n >= cap || memchr(p, '\0', n) != NULL)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

rvr_status rvr_wire_get_hello(const uint8_t *p, size_t n, rvr_wire_hello *h)
{
    memset(h, 0, sizeof *h);
    bool have_vm = false;
    pb_istream_t is = pb_istream_from_buffer(p, n);
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        bool eof, ok;
        uint64_t v;
        if (!pb_decode_tag(&is, &wt, &field, &eof))
            return RVR_EPROTO;
        if (field == H_VM && wt == PB_WT_STRING) {
            ok = have_vm = get_uuid(&is, p, n, &h->vm_id);
        } else if (field == H_PEER && wt == PB_WT_STRING) {
            ok = get_uuid(&is, p, n, &h->peer_vm_id);
        } else if (field == H_ADDR && wt == PB_WT_STRING) {
            ok = get_text(&is, p, n, h->listen_addr, sizeof h->listen_addr);
        } else if (field == H_STATUS && wt == PB_WT_VARINT) {
            ok = pb_decode_varint(&is, &v) && v <= UINT32_MAX;
            h->status = (uint32_t)v;
        } else if (field == H_REASON && wt == PB_WT_STRING) {
            ok = get_text(&is, p, n, h->reason, sizeof h->reason);
        } else if (field == H_MAXFRAME && wt == PB_WT_VARINT) {
            ok = pb_decode_varint(&is, &h->max_frame);
        } else if (field == H_NONCE && wt == PB_WT_STRING) {
            const uint8_t *b;
            size_t bl;
            ok = get_span(&is, p, n, &b, &bl) && bl == sizeof h->auth_nonce;
            if (ok) {
                memcpy(h->auth_nonce, b, bl);
                h->has_nonce = true;
            }
        } else if (field >= H_VM && field <= H_NONCE) {
            ok = false;
        } else {
            ok = pb_skip_field(&is, wt);
        }
        if (!ok)
            return RVR_EPROTO;
    }
    return have_vm && !rvr_uuid_is_nil(&h->vm_id) ? RVR_OK : RVR_EPROTO;
}

rvr_status rvr_wire_get_whois(const uint8_t *p, size_t n, rvr_wire_whois *w)
{
    memset(w, 0, sizeof *w);
    bool have_vr = false;
    pb_istream_t is = pb_istream_from_buffer(p, n);
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        bool eof, ok;
        if (!pb_decode_tag(&is, &wt, &field, &eof))
            return RVR_EPROTO;
        if (field == W_VR && wt == PB_WT_STRING)
            ok = have_vr = get_uuid(&is, p, n, &w->vr);
        else if (field == W_REQ && wt == PB_WT_VARINT)
            ok = pb_decode_varint(&is, &w->req);
        else if (field == W_VM && wt == PB_WT_STRING)
            ok = get_uuid(&is, p, n, &w->vm_id);
        else if (field == W_ADDR && wt == PB_WT_STRING)
            ok = get_text(&is, p, n, w->addr, sizeof w->addr);
        else if (field >= W_VR && field <= W_ADDR)
            ok = false;
        else
            ok = pb_skip_field(&is, wt);
        if (!ok)
            return RVR_EPROTO;
    }
    return have_vr ? RVR_OK : RVR_EPROTO;
}

rvr_status rvr_wire_get_auth(const uint8_t *p, size_t n, rvr_wire_auth *a)
{
    memset(a, 0, sizeof *a);
    pb_istream_t is = pb_istream_from_buffer(p, n);
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        bool eof, ok;
        uint64_t v;
        if (!pb_decode_tag(&is, &wt, &field, &eof))
            return RVR_EPROTO;
        if (field == A_PROOF && wt == PB_WT_STRING) {
            const uint8_t *b;
            size_t bl;
            ok = get_span(&is, p, n, &b, &bl) && bl == sizeof a->proof;
            if (ok) {
                memcpy(a->proof, b, bl);
                a->has_proof = true;
            }
        } else if (field == A_STATUS && wt == PB_WT_VARINT) {
            ok = pb_decode_varint(&is, &v) && v <= UINT32_MAX;
            a->status = (uint32_t)v;
        } else if (field == A_REASON && wt == PB_WT_STRING) {
            ok = get_text(&is, p, n, a->reason, sizeof a->reason);
        } else if (field >= A_PROOF && field <= A_REASON) {
            ok = false;
        } else {
            ok = pb_skip_field(&is, wt);
        }
        if (!ok)
            return RVR_EPROTO;
    }
    return a->has_proof || a->status != 0 ? RVR_OK : RVR_EPROTO;
}

rvr_status rvr_wire_get_bye(const uint8_t *p, size_t n, char *reason, size_t len)
{
    reason[0] = '\0';
    pb_istream_t is = pb_istream_from_buffer(p, n);
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t field;
        bool eof, ok;
        if (!pb_decode_tag(&is, &wt, &field, &eof))
            return RVR_EPROTO;
        if (field == B_REASON && wt == PB_WT_STRING)
            ok = get_text(&is, p, n, reason, len);
        else
            ok = pb_skip_field(&is, wt);
        if (!ok)
            return RVR_EPROTO;
    }
    return RVR_OK;
}
