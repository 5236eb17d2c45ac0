/* sendq_schema.c — describing typed messages' schemas on a connection
 * before its first MSG of each (protocol.md section 7).
 *
 * A send queue's frames carry typed MSGs as they carry others, many in one
 * buffer, and record the schemas of those (frame.schemas).  Which of them
 * a connection has seen is known only when the frames go out on it: the
 * writer, before each writev, puts a frame of SCHEMAs before each frame
 * that holds a schema new to that connection. */
#include <stdlib.h>
#include <string.h>

#include "transport_impl.h"
#include "wire.h"

static bool described(const conn *c, uint64_t fp)
{
    for (size_t i = c->ndescribed; i-- > 0;)
        if (c->described[i] == fp)
            return true;
    return false;
}

/* Appends s's SCHEMA frame to *sf (made when NULL) and counts it as
 * described on c; false (nothing counted) past RVR_SCHEMA_MAX_PER_CONN or
 * without memory. */
static bool describe(conn *c, const rvr_schema *s, frame **sf)
{
    if (c->ndescribed >= RVR_SCHEMA_MAX_PER_CONN)
        return false;
    if (c->ndescribed == c->capdescribed) {
        size_t cap = c->capdescribed ? c->capdescribed * 2 : 8;
        uint64_t *v = realloc(c->described, cap * sizeof *v);
        if (v == NULL)
            return false;
        c->described = v;
        c->capdescribed = cap;
    }
    if (*sf == NULL && (*sf = rvr_frame_new(512)) == NULL)
        return false;
    size_t before = (*sf)->buf.len;
    if (rvr_wire_put_schema(&(*sf)->buf, s) != RVR_OK) {
        (*sf)->buf.len = before;
        return false;
    }
    c->described[c->ndescribed++] = s->fingerprint;
    return true;
}

static bool among(uint64_t fp, const uint64_t *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == fp)
            return true;
    return false;
}

/* True if the MSG at f's offset `at` (its header) has a schema in bad[]. */
static bool refused_at(const frame *f, size_t at, const uint64_t *bad, unsigned nbad,
                       size_t *size)
{
    uint32_t len;
    uint8_t type;
    rvr_wire_header(f->buf.data + at, &len, &type);
    *size = RVR_WIRE_HDR_LEN + (size_t)len;
    return type == RVR_FRAME_MSG &&
           among(rvr_wire_msg_schema(f->buf.data + at + RVR_WIRE_HDR_LEN, len), bad, nbad);
}

/* The MSGs of f whose schema is among bad[0..nbad) move to a new frame,
 * returned; f keeps the others, in their order, and loses those schemas.
 * Returns f itself when nothing would stay (or without memory to part
 * them): then f is refused whole. */
static frame *split(frame *f, const uint64_t *bad, unsigned nbad)
{
    size_t at = 0, n, stays = 0;
    for (; f->buf.len - at >= RVR_WIRE_HDR_LEN; at += n)
        stays += !refused_at(f, at, bad, nbad, &n);
    frame *r = stays > 0 ? rvr_frame_new(f->buf.len) : NULL;
    if (r == NULL)
        return f;
    r->is_msg = true;
    uint8_t *b = f->buf.data;
    size_t kept = 0;
    for (at = 0; f->buf.len - at >= RVR_WIRE_HDR_LEN; at += n) {
        if (refused_at(f, at, bad, nbad, &n)) {
            memcpy(r->buf.data + r->buf.len, b + at, n);
            r->buf.len += n;
        } else {
            memmove(b + kept, b + at, n);
            kept += n;
        }
    }
    f->buf.len = kept;
    f->ids_at = 0;   /* moved: the next MSG appended names its src and dst */
    unsigned k = 0;
    for (unsigned i = 0; i < f->nschemas; i++)
        if (!among(f->schemas[i]->fingerprint, bad, nbad))
            f->schemas[k++] = f->schemas[i];
    f->nschemas = (uint8_t)k;
    return r;
}

void rvr_peer_describe_schemas(peer *p, conn *c, frame **refused, int max)
{
    /* k: frames that stay queued.  A frame refused whole does not count,
     * so that every frame the writer's next writev can take was looked at. */
    frame *prev = NULL, *f = p->qhead;
    for (int k = 0; f != NULL && k < max;) {
        frame *next = f->next, *sf = NULL;
        uint64_t bad[RVR_FRAME_SCHEMAS];
        unsigned nbad = 0;
        /* Frames partly written were described when their first bytes went. */
        for (unsigned i = 0; f->off == 0 && i < f->nschemas; i++) {
            const rvr_schema *s = f->schemas[i];
            if (!described(c, s->fingerprint) && !among(s->fingerprint, bad, nbad) &&
                !describe(c, s, &sf))
                bad[nbad++] = s->fingerprint;
        }
        if (sf != NULL && sf->buf.len == 0) {
            rvr_frame_free(sf);
            sf = NULL;
        }
        if (sf != NULL) {   /* before f */
            sf->next = f;
            p->qbytes += sf->buf.len;
            if (prev != NULL)
                prev->next = sf;
            else
                p->qhead = sf;
        }
        frame *before = sf != NULL ? sf : prev, *out = NULL;
        bool drop = false;
        if (nbad > 0) {
            /* Only the MSGs of those schemas are refused. */
            out = split(f, bad, nbad);
            drop = out == f;
        }
        if (drop) {
            if (before != NULL)
                before->next = next;
            else
                p->qhead = next;
            if (p->qtail == f)
                p->qtail = before;
            prev = before;
        } else {
            prev = f;
            k++;
        }
        if (out != NULL) {
            p->qbytes -= out->buf.len;
            out->next = *refused;
            *refused = out;
        }
        f = next;
    }
}
