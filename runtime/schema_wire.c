/* schema_wire.c — the SCHEMA frame (see schema_wire.h and
 * docs/protocol.md): describing an rvr_schema on the wire, parsing and
 * checking a received description, the per-connection table, and the MSG
 * frame of a typed packet.  Hand-written with nanopb's stream primitives,
 * like wire.c. */
#include "schema_wire.h"

#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "packet_impl.h"
#include "pbfast.h"
#include "platform.h"
#include "thread_exit.h"
#include "value_impl.h"

enum { S_FP = 1, S_MSGS, S_ENUMS };                                  /* Schema */
enum { M_NAME = 1, M_TAG, M_FP, M_OPEN, M_FIELDS };                  /* MessageType */
enum { F_NAME = 1, F_NUMBER, F_TYPE, F_FLAGS, F_BOUND, F_INDEX, F_DEFAULT };  /* Field */
enum { N_NAME = 1, N_VALUES };                                       /* EnumType */
enum { V_NAME = 1, V_VALUE };                                        /* EnumValue */

/* ---- encoding -------------------------------------------------------------- */

/* Every message and enum type reachable from the described message. */
typedef struct coll {
    const rvr_schema *m[RVR_SCHEMA_MAX_TYPES];
    size_t nm;
    const rvr_enum_schema *e[RVR_SCHEMA_MAX_TYPES];
    size_t ne;
} coll;

static int coll_msg(coll *c, const rvr_schema *s)
{
    for (size_t i = 0; i < c->nm; i++)
        if (c->m[i] == s || strcmp(c->m[i]->name, s->name) == 0)
            return (int)i;
    if (c->nm == RVR_SCHEMA_MAX_TYPES)
        return -1;
    c->m[c->nm] = s;
    return (int)c->nm++;
}

static int coll_enum(coll *c, const rvr_enum_schema *e)
{
    for (size_t i = 0; i < c->ne; i++)
        if (c->e[i] == e || strcmp(c->e[i]->name, e->name) == 0)
            return (int)i;
    if (c->ne == RVR_SCHEMA_MAX_TYPES)
        return -1;
    c->e[c->ne] = e;
    return (int)c->ne++;
}

static bool put_text(pb_ostream_t *os, uint32_t field, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n == 0 || (pb_encode_tag(os, PB_WT_STRING, field) && pb_encode_string(os, (const pb_byte_t *)s, n));
}

static bool put_varint(pb_ostream_t *os, uint32_t field, uint64_t v)
{
    return v == 0 || (pb_encode_tag(os, PB_WT_VARINT, field) && pb_encode_varint(os, v));
}

static bool put_fixed64(pb_ostream_t *os, uint32_t field, uint64_t v)
{
    return v == 0 || (pb_encode_tag(os, PB_WT_64BIT, field) && pb_encode_fixed64(os, &v));
}

typedef bool (*sub_fn)(pb_ostream_t *os, const void *item, coll *c);

/* A submessage: sized by a dry run, then written. */
static bool put_sub(pb_ostream_t *os, uint32_t field, sub_fn fn, const void *item, coll *c)
{
    pb_ostream_t sz = PB_OSTREAM_SIZING;
    if (!fn(&sz, item, c))
        return false;
    return pb_encode_tag(os, PB_WT_STRING, field) && pb_encode_varint(os, sz.bytes_written) &&
           fn(os, item, c);
}

static bool enc_field(pb_ostream_t *os, const void *item, coll *c)
{
    const rvr_field *f = item;
    int idx = 0;
    if (f->type == RVR_F_MESSAGE)
        idx = f->message != NULL ? coll_msg(c, f->message) : -1;
    else if (f->type == RVR_F_ENUM)
        idx = f->enumeration != NULL ? coll_enum(c, f->enumeration) : -1;
    if (idx < 0)
        return false;
    return put_text(os, F_NAME, f->name) && put_varint(os, F_NUMBER, f->number) &&
           put_varint(os, F_TYPE, (uint64_t)f->type) && put_varint(os, F_FLAGS, f->flags) &&
           put_varint(os, F_BOUND, f->bound) && put_varint(os, F_INDEX, (uint64_t)idx) &&
           put_text(os, F_DEFAULT, f->def_text);
}

static bool enc_msgtype(pb_ostream_t *os, const void *item, coll *c)
{
    const rvr_schema *s = item;
    bool ok = put_text(os, M_NAME, s->name) && put_text(os, M_TAG, s->tag) &&
              put_fixed64(os, M_FP, s->fingerprint) && put_varint(os, M_OPEN, s->open);
    for (size_t i = 0; ok && i < s->nfields; i++)
        ok = put_sub(os, M_FIELDS, enc_field, &s->fields[i], c);
    return ok;
}

static bool enc_enumval(pb_ostream_t *os, const void *item, coll *c)
{
    (void)c;
    const rvr_enum_value *v = item;
    return put_text(os, V_NAME, v->name) &&
           put_varint(os, V_VALUE, (uint64_t)(int64_t)v->value);   /* int32: sign-extended */
}

static bool enc_enum(pb_ostream_t *os, const void *item, coll *c)
{
    const rvr_enum_schema *e = item;
    bool ok = put_text(os, N_NAME, e->name);
    for (size_t i = 0; ok && i < e->nvalues; i++)
        ok = put_sub(os, N_VALUES, enc_enumval, &e->values[i], c);
    return ok;
}

static bool enc_schema(pb_ostream_t *os, const void *item, coll *c)
{
    const rvr_schema *s = item;
    bool ok = put_fixed64(os, S_FP, s->fingerprint);
    /* c->nm grows while the fields are written: the loop picks the new ones up. */
    for (size_t i = 0; ok && i < c->nm; i++)
        ok = put_sub(os, S_MSGS, enc_msgtype, c->m[i], c);
    for (size_t i = 0; ok && i < c->ne; i++)
        ok = put_sub(os, S_ENUMS, enc_enum, c->e[i], c);
    return ok;
}

rvr_status rvr_wire_put_schema(rvr_buf *out, const rvr_schema *s)
{
    if (out == NULL || s == NULL || s->name == NULL)
        return RVR_EINVAL;
    coll *c = calloc(1, sizeof *c);
    if (c == NULL)
        return RVR_ENOMEM;
    coll_msg(c, s);
    /* Collect every reachable type first, so the sizing and the writing
     * passes see the same lists. */
    for (size_t i = 0; i < c->nm; i++)
        for (size_t k = 0; k < c->m[i]->nfields; k++) {
            const rvr_field *f = &c->m[i]->fields[k];
            int r = 0;
            if (f->type == RVR_F_MESSAGE && f->message != NULL)
                r = coll_msg(c, f->message);
            else if (f->type == RVR_F_ENUM && f->enumeration != NULL)
                r = coll_enum(c, f->enumeration);
            if (r < 0) {
                free(c);
                return RVR_ELIMIT;
            }
        }
    pb_ostream_t sz = PB_OSTREAM_SIZING;
    rvr_status st = RVR_EINVAL;
    if (enc_schema(&sz, s, c)) {
        size_t payload = sz.bytes_written;
        st = payload > UINT32_MAX ? RVR_ELIMIT : rvr_buf_reserve(out, RVR_WIRE_HDR_LEN + payload);
        if (st == RVR_OK) {
            uint8_t *p = out->data + out->len;
            p[0] = (uint8_t)(payload >> 24);
            p[1] = (uint8_t)(payload >> 16);
            p[2] = (uint8_t)(payload >> 8);
            p[3] = (uint8_t)payload;
            p[4] = RVR_FRAME_SCHEMA;
            pb_ostream_t os = pb_ostream_from_buffer(p + RVR_WIRE_HDR_LEN, payload);
            if (enc_schema(&os, s, c) && os.bytes_written == payload)
                out->len += RVR_WIRE_HDR_LEN + payload;
            else
                st = RVR_EINVAL;
        }
    }
    free(c);
    return st;
}

/* Each thread's last typed body (rvr_wire_typed_msg): one buffer reused,
 * not one allocation per send. */
static RVR_TLS rvr_buf body_buf;
static RVR_TLS bool body_registered;
static void body_release(void) { rvr_buf_free(&body_buf); }

#define BODY_KEEP ((size_t)64 << 10)   /* a larger buffer is let go after use */

void rvr_wire_typed_done(void)
{
    if (body_buf.cap > BODY_KEEP)
        rvr_buf_free(&body_buf);
}

rvr_status rvr_wire_typed_msg(const rvr_uuid *dst, const rvr_packet *p, rvr_wire_msg *m)
{
    const rvr_schema *s = p->schema;
    if (s == NULL || p->body == NULL || s->fingerprint == 0)
        return RVR_EINVAL;
    rvr_thread_on_exit(&body_registered, body_release);
    /* The schema's declared fields, as its encode writes them (riverc's
     * calls rvr_pb_encode), into this thread's buffer. */
    rvr_status st = rvr_pb_encode_buf(s, p->body, &body_buf);
    if (st != RVR_OK)
        return st;
    const rvr_map *extra = s->open ? *(rvr_map *const *)((const char *)p->body + s->extra_offset) : NULL;
    *m = (rvr_wire_msg){
        .src = p->src, .dst = *dst, .tag = p->tag, .tag_len = p->tag_len,
        .schema = s->fingerprint, .body = body_buf.data, .body_len = body_buf.len,
        .attrs = extra != NULL && extra->len > 0 ? extra : NULL,
    };
    return RVR_OK;
}

rvr_status rvr_wire_put_typed(rvr_buf *out, const rvr_uuid *dst, const rvr_packet *p)
{
    rvr_wire_msg m;
    rvr_status st = rvr_wire_typed_msg(dst, p, &m);
    if (st == RVR_OK)
        st = rvr_wire_put_msg(out, &m);
    rvr_wire_typed_done();
    return st;
}

/* ---- parsing --------------------------------------------------------------- */

static bool span(pb_istream_t *is, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (!pb_decode_varint(is, &len) || len > is->bytes_left)
        return false;
    *p = (const uint8_t *)is->state;   /* a buffer stream: state is the read position */
    *n = (size_t)len;
    return pb_read(is, NULL, (size_t)len);
}

/* A name: 1..RVR_MAX_NAME bytes, no NUL; replaces *out. */
static rvr_status get_name(pb_istream_t *is, char **out)
{
    const uint8_t *p;
    size_t n;
    if (!span(is, &p, &n) || n == 0 || memchr(p, '\0', n) != NULL)
        return RVR_EPROTO;
    if (n > RVR_MAX_NAME)
        return RVR_ELIMIT;
    char *s = malloc(n + 1);
    if (s == NULL)
        return RVR_ENOMEM;
    memcpy(s, p, n);
    s[n] = '\0';
    free(*out);
    *out = s;
    return RVR_OK;
}

/* Grows *v (elements of size esz) to hold one more; RVR_ELIMIT past max. */
static rvr_status grow(void **v, size_t n, size_t *cap, size_t esz, size_t max)
{
    if (n >= max)
        return RVR_ELIMIT;
    if (n < *cap)
        return RVR_OK;
    size_t c = *cap ? *cap * 2 : 8;
    void *r = realloc(*v, c * esz);
    if (r == NULL)
        return RVR_ENOMEM;
    memset((char *)r + n * esz, 0, (c - n) * esz);
    *v = r;
    *cap = c;
    return RVR_OK;
}

#define FIELD_LOOP(is, ...)                                                   \
    while ((is)->bytes_left > 0) {                                            \
        pb_wire_type_t wt;                                                    \
        uint32_t field;                                                       \
        bool eof_;                                                            \
        if (!pb_decode_tag((is), &wt, &field, &eof_))                         \
            return RVR_EPROTO;                                                \
        __VA_ARGS__                                                           \
        if (st != RVR_OK)                                                     \
            return st;                                                        \
    }

static rvr_status get_varint(pb_istream_t *is, pb_wire_type_t wt, uint64_t *v)
{
    return wt == PB_WT_VARINT && pb_decode_varint(is, v) ? RVR_OK : RVR_EPROTO;
}

static rvr_status skip(pb_istream_t *is, pb_wire_type_t wt)
{
    return pb_skip_field(is, wt) ? RVR_OK : RVR_EPROTO;
}

static rvr_status parse_field(const uint8_t *p, size_t n, rvr_sdesc_field *f)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_status st = RVR_OK;
    uint64_t v;
    FIELD_LOOP(&is, {
        if (field == F_NAME && wt == PB_WT_STRING) {
            st = get_name(&is, &f->name);
        } else if (field >= F_NUMBER && field <= F_INDEX) {
            if ((st = get_varint(&is, wt, &v)) != RVR_OK)
                return st;
            if (field == F_NUMBER)
                st = v >= 1 && v <= 65535 ? (f->number = (uint32_t)v, RVR_OK) : RVR_EPROTO;
            else if (field == F_TYPE)
                st = v >= RVR_F_BOOL && v <= RVR_F_ANY ? (f->type = (uint32_t)v, RVR_OK) : RVR_EPROTO;
            else if (field == F_FLAGS)
                f->flags = (uint32_t)v;
            else if (field == F_BOUND)
                f->bound = v;
            else
                st = v < RVR_SCHEMA_MAX_TYPES ? (f->ref = (uint32_t)v, RVR_OK) : RVR_EPROTO;
        } else if (field == F_NAME) {
            st = RVR_EPROTO;
        } else {
            st = skip(&is, wt);   /* the default text, or a newer field */
        }
    })
    return f->name != NULL && f->number != 0 && f->type != 0 ? RVR_OK : RVR_EPROTO;
}

static rvr_status parse_msgtype(const uint8_t *p, size_t n, rvr_sdesc_msg *m)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_status st = RVR_OK;
    size_t cap = 0;
    uint64_t v;
    FIELD_LOOP(&is, {
        if (field == M_NAME && wt == PB_WT_STRING) {
            st = get_name(&is, &m->name);
        } else if (field == M_TAG && wt == PB_WT_STRING) {
            st = get_name(&is, &m->tag);
        } else if (field == M_FP && wt == PB_WT_64BIT) {
            st = pb_decode_fixed64(&is, &m->fingerprint) ? RVR_OK : RVR_EPROTO;
        } else if (field == M_OPEN) {
            if ((st = get_varint(&is, wt, &v)) == RVR_OK)
                m->open = v != 0;
        } else if (field == M_FIELDS && wt == PB_WT_STRING) {
            const uint8_t *sp;
            size_t sn;
            if (!span(&is, &sp, &sn))
                return RVR_EPROTO;
            if ((st = grow((void **)&m->fields, m->nfields, &cap, sizeof *m->fields, 65535)) != RVR_OK)
                return st;
            rvr_sdesc_field *f = &m->fields[m->nfields++];
            if ((st = parse_field(sp, sn, f)) == RVR_OK && m->nfields > 1 &&
                f->number <= f[-1].number)
                st = RVR_EPROTO;   /* numbers must increase */
        } else if (field >= M_NAME && field <= M_FIELDS) {
            st = RVR_EPROTO;
        } else {
            st = skip(&is, wt);
        }
    })
    return m->name != NULL && m->tag != NULL ? RVR_OK : RVR_EPROTO;
}

static rvr_status parse_enumval(const uint8_t *p, size_t n, char **name, int32_t *value)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_status st = RVR_OK;
    uint64_t v = 0;
    FIELD_LOOP(&is, {
        if (field == V_NAME && wt == PB_WT_STRING)
            st = get_name(&is, name);
        else if (field == V_VALUE)
            st = get_varint(&is, wt, &v);
        else if (field == V_NAME)
            st = RVR_EPROTO;
        else
            st = skip(&is, wt);
    })
    if (*name == NULL || (int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
        return RVR_EPROTO;
    *value = (int32_t)(int64_t)v;
    return RVR_OK;
}

static rvr_status parse_enum(const uint8_t *p, size_t n, rvr_sdesc_enum *e)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_status st = RVR_OK;
    size_t cap = 0, cap2 = 0;
    FIELD_LOOP(&is, {
        if (field == N_NAME && wt == PB_WT_STRING) {
            st = get_name(&is, &e->name);
        } else if (field == N_VALUES && wt == PB_WT_STRING) {
            const uint8_t *sp;
            size_t sn;
            if (!span(&is, &sp, &sn))
                return RVR_EPROTO;
            if ((st = grow((void **)&e->names, e->n, &cap, sizeof *e->names,
                           RVR_SCHEMA_MAX_ENUM_VALUES)) != RVR_OK ||
                (st = grow((void **)&e->values, e->n, &cap2, sizeof *e->values,
                           RVR_SCHEMA_MAX_ENUM_VALUES)) != RVR_OK)
                return st;
            size_t k = e->n++;
            st = parse_enumval(sp, sn, &e->names[k], &e->values[k]);
        } else if (field == N_NAME || field == N_VALUES) {
            st = RVR_EPROTO;
        } else {
            st = skip(&is, wt);
        }
    })
    return e->name != NULL ? RVR_OK : RVR_EPROTO;
}

static rvr_status parse_schema(const uint8_t *p, size_t n, rvr_sdesc *d)
{
    pb_istream_t is = pb_istream_from_buffer(p, n);
    rvr_status st = RVR_OK;
    size_t mcap = 0, ecap = 0;
    FIELD_LOOP(&is, {
        const uint8_t *sp;
        size_t sn;
        if (field == S_FP && wt == PB_WT_64BIT) {
            st = pb_decode_fixed64(&is, &d->fingerprint) ? RVR_OK : RVR_EPROTO;
        } else if (field == S_MSGS && wt == PB_WT_STRING) {
            if (!span(&is, &sp, &sn))
                return RVR_EPROTO;
            if ((st = grow((void **)&d->msgs, d->nmsgs, &mcap, sizeof *d->msgs,
                           RVR_SCHEMA_MAX_TYPES)) != RVR_OK)
                return st;
            st = parse_msgtype(sp, sn, &d->msgs[d->nmsgs++]);
        } else if (field == S_ENUMS && wt == PB_WT_STRING) {
            if (!span(&is, &sp, &sn))
                return RVR_EPROTO;
            if ((st = grow((void **)&d->enums, d->nenums, &ecap, sizeof *d->enums,
                           RVR_SCHEMA_MAX_TYPES)) != RVR_OK)
                return st;
            st = parse_enum(sp, sn, &d->enums[d->nenums++]);
        } else if (field >= S_FP && field <= S_ENUMS) {
            st = RVR_EPROTO;
        } else {
            st = skip(&is, wt);
        }
    })
    if (d->nmsgs == 0 || d->fingerprint == 0 || d->msgs[0].fingerprint != d->fingerprint)
        return RVR_EPROTO;
    /* Every reference must name a described type. */
    for (size_t i = 0; i < d->nmsgs; i++)
        for (size_t k = 0; k < d->msgs[i].nfields; k++) {
            const rvr_sdesc_field *f = &d->msgs[i].fields[k];
            if ((f->type == RVR_F_MESSAGE && f->ref >= d->nmsgs) ||
                (f->type == RVR_F_ENUM && f->ref >= d->nenums))
                return RVR_EPROTO;
        }
    return RVR_OK;
}

void rvr_sdesc_free(rvr_sdesc *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nmsgs; i++) {
        rvr_sdesc_msg *m = &d->msgs[i];
        for (size_t k = 0; k < m->nfields; k++)
            free(m->fields[k].name);
        free(m->fields);
        free(m->name);
        free(m->tag);
    }
    free(d->msgs);
    for (size_t i = 0; i < d->nenums; i++) {
        rvr_sdesc_enum *e = &d->enums[i];
        for (size_t k = 0; k < e->n; k++)
            free(e->names[k]);
        free(e->names);
        free(e->values);
        free(e->name);
    }
    free(d->enums);
    free(d);
}

rvr_status rvr_sdesc_parse(const uint8_t *p, size_t n, rvr_sdesc **out)
{
    rvr_sdesc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return RVR_ENOMEM;
    d->bytes = n;
    rvr_status st = parse_schema(p, n, d);
    if (st != RVR_OK) {
        rvr_sdesc_free(d);
        return st;
    }
    *out = d;
    return RVR_OK;
}

/* ---- the per-connection table ---------------------------------------------- */

rvr_status rvr_sdesc_table_add(rvr_sdesc_table *t, rvr_sdesc *d)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i]->fingerprint == d->fingerprint) {
            if (t->bytes - t->v[i]->bytes + d->bytes > RVR_SCHEMA_MAX_CONN_BYTES) {
                rvr_sdesc_free(d);
                return RVR_ELIMIT;
            }
            t->bytes = t->bytes - t->v[i]->bytes + d->bytes;
            rvr_sdesc_free(t->v[i]);   /* described again: the newer wins */
            t->v[i] = d;
            return RVR_OK;
        }
    rvr_status st = RVR_OK;
    if (t->bytes + d->bytes > RVR_SCHEMA_MAX_CONN_BYTES)
        st = RVR_ELIMIT;
    else
        st = grow((void **)&t->v, t->n, &t->cap, sizeof *t->v, RVR_SCHEMA_MAX_PER_CONN);
    if (st != RVR_OK) {
        rvr_sdesc_free(d);
        return st;
    }
    t->v[t->n++] = d;
    t->bytes += d->bytes;
    return RVR_OK;
}

rvr_sdesc *rvr_sdesc_table_find(const rvr_sdesc_table *t, uint64_t fingerprint)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i]->fingerprint == fingerprint)
            return t->v[i];
    return NULL;
}

void rvr_sdesc_table_fini(rvr_sdesc_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        rvr_sdesc_free(t->v[i]);
    free(t->v);
    memset(t, 0, sizeof *t);
}
