/* disc_wire.c — see disc_wire.h.  Every length read from a datagram is
 * checked against the bytes left before it is used. */
#include "disc_wire.h"

#include <stdlib.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { D_MAGIC = 1, D_VERSION, D_KIND, D_NONCE, D_WANT_KNOWN, D_SENDER, D_KNOWN };
enum { V_UUID = 1, V_ADDRESS, V_ATTRS, V_AGE };

/* ---- writing ---------------------------------------------------------------- */

static rvr_status put_varint(rvr_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            tmp[n] |= 0x80;
        n++;
    } while (v != 0);
    return rvr_buf_append(b, tmp, n);
}

static rvr_status put_tag(rvr_buf *b, uint32_t field, int wt)
{
    return put_varint(b, ((uint64_t)field << 3) | (uint64_t)wt);
}

static rvr_status put_fixed(rvr_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));   /* protobuf fixed fields are little-endian */
    return rvr_buf_append(b, tmp, n);
}

static rvr_status put_bytes(rvr_buf *b, uint32_t field, const void *p, size_t n)
{
    rvr_status st = put_tag(b, field, WT_LEN);
    if (st == RVR_OK)
        st = put_varint(b, n);
    if (st == RVR_OK)
        st = rvr_buf_append(b, p, n);
    return st;
}

rvr_status rvr_disc_encode_vm(const rvr_disc_vm *vm, rvr_buf *out)
{
    rvr_buf tmp = { 0 }, attrs = { 0 };
    rvr_status st = put_bytes(&tmp, V_UUID, vm->uuid.bytes, 16);
    if (st == RVR_OK)
        st = put_bytes(&tmp, V_ADDRESS, vm->address, strnlen(vm->address, RVR_DISC_MAX_ADDR - 1));
    if (st == RVR_OK && vm->attrs != NULL) {
        st = rvr_map_encode(vm->attrs, &attrs);
        if (st == RVR_OK)
            st = put_bytes(&tmp, V_ATTRS, attrs.data, attrs.len);
    }
    if (st == RVR_OK && vm->age_ms != 0 && (st = put_tag(&tmp, V_AGE, WT_VARINT)) == RVR_OK)
        st = put_varint(&tmp, vm->age_ms);
    if (st == RVR_OK && tmp.len > RVR_DISC_MAX_INFO)
        st = RVR_ELIMIT;
    if (st == RVR_OK)
        st = rvr_buf_append(out, tmp.data, tmp.len);
    rvr_buf_free(&tmp);
    rvr_buf_free(&attrs);
    return st;
}

rvr_status rvr_disc_put_header(rvr_buf *b, uint32_t kind, uint64_t nonce, bool want_known)
{
    rvr_status st = put_tag(b, D_MAGIC, WT_I32);
    if (st == RVR_OK) st = put_fixed(b, RVR_DISC_MAGIC, 4);
    if (st == RVR_OK) st = put_tag(b, D_VERSION, WT_VARINT);
    if (st == RVR_OK) st = put_varint(b, RVR_DISC_VERSION);
    if (st == RVR_OK) st = put_tag(b, D_KIND, WT_VARINT);
    if (st == RVR_OK) st = put_varint(b, kind);
    if (st == RVR_OK) st = put_tag(b, D_NONCE, WT_I64);
    if (st == RVR_OK) st = put_fixed(b, nonce, 8);
    if (st == RVR_OK && want_known && (st = put_tag(b, D_WANT_KNOWN, WT_VARINT)) == RVR_OK)
        st = put_varint(b, 1);
    return st;
}

rvr_status rvr_disc_put_vm(rvr_buf *b, uint32_t field, const rvr_buf *vm)
{
    return put_bytes(b, field, vm->data, vm->len);
}

rvr_status rvr_disc_encode_probe(uint64_t nonce, bool want_known, const rvr_disc_vm *sender,
                                 rvr_buf *out)
{
    rvr_status st = rvr_disc_put_header(out, RVR_DISC_PROBE, nonce, want_known);
    if (st == RVR_OK && sender != NULL) {
        rvr_buf vm = { 0 };
        st = rvr_disc_encode_vm(sender, &vm);
        if (st == RVR_OK)
            st = rvr_disc_put_vm(out, D_SENDER, &vm);
        rvr_buf_free(&vm);
    }
    return st;
}

/* Bytes a length-delimited field of n bytes takes (tag of one byte). */
static size_t field_size(size_t n)
{
    size_t v = 1;
    for (size_t x = n; x >= 0x80; x >>= 7)
        v++;
    return 1 + v + n;
}

rvr_status rvr_disc_pack_reply(uint64_t nonce, const rvr_buf *sender, const rvr_buf *known,
                               size_t nknown, rvr_disc_emit_fn emit, void *ctx)
{
    rvr_buf d = { 0 };
    size_t i = 0;
    rvr_status st = RVR_OK;
    do {
        d.len = 0;
        st = rvr_disc_put_header(&d, RVR_DISC_REPLY, nonce, false);
        if (st == RVR_OK)
            st = rvr_disc_put_vm(&d, D_SENDER, sender);
        if (st == RVR_OK && d.len > RVR_DISC_MAX_DATAGRAM)
            st = RVR_ELIMIT;   /* cannot happen: the sender is at most MAX_INFO */
        size_t in_this = 0;
        while (st == RVR_OK && i < nknown && in_this < RVR_DISC_MAX_LIST &&
               d.len + field_size(known[i].len) <= RVR_DISC_MAX_DATAGRAM) {
            st = rvr_disc_put_vm(&d, D_KNOWN, &known[i]);
            i++;
            in_this++;
        }
        if (st == RVR_OK && in_this == 0 && i < nknown)
            i++;   /* one that fits no datagram (larger than MAX_INFO): skip it */
        if (st == RVR_OK)
            st = emit(ctx, d.data, d.len);
    } while (st == RVR_OK && i < nknown);
    rvr_buf_free(&d);
    return st;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct cur { const uint8_t *p, *end; } cur;

static bool get_varint(cur *c, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            return false;
        uint8_t b = *c->p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = r;
            return true;
        }
    }
    return false;   /* more than 10 bytes */
}

static bool get_fixed(cur *c, size_t n, uint64_t *v)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    *v = r;
    return true;
}

static bool get_len(cur *c, cur *sub)
{
    uint64_t n;
    if (!get_varint(c, &n) || n > (uint64_t)(c->end - c->p))
        return false;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return true;
}

/* Skips a field of an unknown number: newer senders may add some. */
static bool skip(cur *c, int wt)
{
    uint64_t v;
    cur sub;
    switch (wt) {
    case WT_VARINT: return get_varint(c, &v);
    case WT_I64: return get_fixed(c, 8, &v);
    case WT_I32: return get_fixed(c, 4, &v);
    case WT_LEN: return get_len(c, &sub);
    default: return false;   /* groups (3, 4) and 6, 7 are not protobuf 3 */
    }
}

static bool get_tag(cur *c, uint32_t *field, int *wt)
{
    uint64_t t;
    if (!get_varint(c, &t) || (t >> 3) == 0 || (t >> 3) > 0x1fffffff)
        return false;
    *field = (uint32_t)(t >> 3);
    *wt = (int)(t & 7);
    return true;
}

static rvr_status decode_vm(cur c, rvr_disc_vm *out)
{
    memset(out, 0, sizeof *out);
    bool have_uuid = false;
    rvr_status st = RVR_OK;
    while (st == RVR_OK && c.p < c.end) {
        uint32_t f;
        int wt;
        cur sub;
        uint64_t v;
        if (!get_tag(&c, &f, &wt)) {
            st = RVR_EPROTO;
        } else if (f == V_UUID && wt == WT_LEN) {
            if (!get_len(&c, &sub) || sub.end - sub.p != 16)
                st = RVR_EPROTO;
            else {
                memcpy(out->uuid.bytes, sub.p, 16);
                have_uuid = true;
            }
        } else if (f == V_ADDRESS && wt == WT_LEN) {
            if (!get_len(&c, &sub))
                st = RVR_EPROTO;
            else if (sub.end - sub.p >= RVR_DISC_MAX_ADDR)
                st = RVR_ELIMIT;
            else if (memchr(sub.p, '\0', (size_t)(sub.end - sub.p)) != NULL)
                st = RVR_EPROTO;
            else {
                memcpy(out->address, sub.p, (size_t)(sub.end - sub.p));
                out->address[sub.end - sub.p] = '\0';
            }
        } else if (f == V_ATTRS && wt == WT_LEN) {
            rvr_map *m = rvr_map_new();
            if (m == NULL)
                st = RVR_ENOMEM;
            else if (!get_len(&c, &sub))
                st = RVR_EPROTO;
            else
                st = rvr_map_decode(sub.p, (size_t)(sub.end - sub.p), m);
            if (st == RVR_OK) {
                rvr_map_free(out->attrs);   /* a repeated field: the last one wins */
                out->attrs = m;
            } else {
                rvr_map_free(m);
            }
        } else if (f == V_AGE && wt == WT_VARINT) {
            if (!get_varint(&c, &v))
                st = RVR_EPROTO;
            else
                out->age_ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        } else if (f <= V_AGE || !skip(&c, wt)) {
            st = RVR_EPROTO;   /* a known field with the wrong wire type, or truncated */
        }
    }
    if (st == RVR_OK && (!have_uuid || out->address[0] == '\0'))
        st = RVR_EPROTO;
    if (st != RVR_OK)
        rvr_disc_vm_clear(out);
    return st;
}

rvr_status rvr_disc_decode(const uint8_t *p, size_t n, rvr_disc_msg *out)
{
    memset(out, 0, sizeof *out);
    if (p == NULL || n == 0)
        return RVR_EPROTO;
    if (n > RVR_DISC_MAX_DATAGRAM)
        return RVR_ELIMIT;
    cur c = { p, p + n };
    bool have_magic = false;
    rvr_status st = RVR_OK;
    while (st == RVR_OK && c.p < c.end) {
        uint32_t f;
        int wt;
        uint64_t v;
        cur sub;
        if (!get_tag(&c, &f, &wt)) {
            st = RVR_EPROTO;
        } else if (f == D_MAGIC && wt == WT_I32) {
            if (!get_fixed(&c, 4, &v) || v != RVR_DISC_MAGIC)
                st = RVR_EPROTO;
            have_magic = true;
        } else if ((f == D_VERSION || f == D_KIND || f == D_WANT_KNOWN) && wt == WT_VARINT) {
            if (!get_varint(&c, &v))
                st = RVR_EPROTO;
            else if (f == D_KIND)
                out->kind = v > 0xff ? 0 : (uint32_t)v;
            else if (f == D_WANT_KNOWN)
                out->want_known = v != 0;
            else if (v < RVR_DISC_VERSION)
                st = RVR_EPROTO;   /* later versions only add fields: accepted */
        } else if (f == D_NONCE && wt == WT_I64) {
            if (!get_fixed(&c, 8, &out->nonce))
                st = RVR_EPROTO;
        } else if (f == D_SENDER && wt == WT_LEN) {
            if (!get_len(&c, &sub)) {
                st = RVR_EPROTO;
            } else {
                rvr_disc_vm_clear(&out->sender);
                out->has_sender = (st = decode_vm(sub, &out->sender)) == RVR_OK;
            }
        } else if (f == D_KNOWN && wt == WT_LEN) {
            if (out->nknown == RVR_DISC_MAX_LIST) {
                st = RVR_ELIMIT;
            } else if (!get_len(&c, &sub)) {
                st = RVR_EPROTO;
            } else {
                if (out->known == NULL &&
                    (out->known = calloc(RVR_DISC_MAX_LIST, sizeof *out->known)) == NULL)
                    st = RVR_ENOMEM;
                if (st == RVR_OK && (st = decode_vm(sub, &out->known[out->nknown])) == RVR_OK)
                    out->nknown++;
            }
        } else if (f <= D_KNOWN || !skip(&c, wt)) {
            st = RVR_EPROTO;
        }
    }
    if (st == RVR_OK && (!have_magic || (out->kind != RVR_DISC_PROBE && out->kind != RVR_DISC_REPLY) ||
                         (out->kind == RVR_DISC_REPLY && !out->has_sender)))
        st = RVR_EPROTO;
    if (st != RVR_OK)
        rvr_disc_msg_clear(out);
    return st;
}

void rvr_disc_vm_clear(rvr_disc_vm *v)
{
    rvr_map_free(v->attrs);
    v->attrs = NULL;
}

void rvr_disc_msg_clear(rvr_disc_msg *m)
{
    rvr_disc_vm_clear(&m->sender);
    for (size_t i = 0; i < m->nknown; i++)
        rvr_disc_vm_clear(&m->known[i]);
    free(m->known);
    memset(m, 0, sizeof *m);
}
