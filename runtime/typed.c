/* typed.c — typed messages in the mailbox: the schema registry, typed send
 * and receive, and the dynamic view of a typed packet.
 *
 * A typed send moves the caller's struct into the packet as is (`body`), so
 * a typed receive of the same schema in the same VM is a move, with no
 * encoding.  Anything else converts: a dynamic receive (or an attribute
 * match) sees the body as attributes; a typed receive of another version of
 * the message converts by field number; a typed receive of a dynamic packet
 * converts attributes by name. */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "log.h"
#include "mailbox.h"
#include "match_impl.h"
#include "packet_impl.h"
#include "platform.h"
#include "vm.h"

/* ---- registry ------------------------------------------------------------- */

/* Schemas are added, never removed: a schema found stays the one for its
 * name (received descriptions keep theirs, schema_wire.h). */
static rvr_mutex reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const rvr_schema **registry;
static size_t nregistered, reg_cap;

const rvr_schema *rvr_schema_find(const char *name)
{
    const rvr_schema *found = NULL;
    if (name == NULL)
        return NULL;
    rvr_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nregistered && found == NULL; i++)
        if (strcmp(registry[i]->name, name) == 0)
            found = registry[i];
    rvr_mutex_unlock(&reg_lock);
    return found;
}

rvr_status rvr_schema_register(const rvr_schema *s)
{
    if (s == NULL || s->name == NULL || s->tag == NULL || s->init == NULL || s->clear == NULL ||
        s->encode == NULL || s->decode == NULL)
        return RVR_EINVAL;
    if (s->abi != RVR_SCHEMA_ABI)
        return RVR_EABI;
    rvr_status st = RVR_OK;
    rvr_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nregistered; i++) {
        if (strcmp(registry[i]->name, s->name) != 0)
            continue;
        st = registry[i] == s || registry[i]->fingerprint == s->fingerprint ? RVR_OK : RVR_EEXIST;
        rvr_mutex_unlock(&reg_lock);
        return st;
    }
    if (nregistered == reg_cap) {
        size_t cap = reg_cap ? reg_cap * 2 : 32;
        const rvr_schema **r = realloc(registry, cap * sizeof *r);
        if (r == NULL) {
            rvr_mutex_unlock(&reg_lock);
            return RVR_ENOMEM;
        }
        registry = r;
        reg_cap = cap;
    }
    registry[nregistered++] = s;
    rvr_mutex_unlock(&reg_lock);
    /* Nested message types travel inside this one: know them too. */
    for (size_t i = 0; i < s->nfields && st == RVR_OK; i++)
        if (s->fields[i].type == RVR_F_MESSAGE && s->fields[i].message != s)
            st = rvr_schema_register(s->fields[i].message);
    return st == RVR_EEXIST ? RVR_OK : st;
}

/* ---- the dynamic view of a typed packet ---------------------------------- */

rvr_status rvr_packet_materialize(const rvr_packet *cp)
{
    rvr_packet *p = (rvr_packet *)cp;   /* the attributes are a cache of the body */
    if (p->body == NULL || p->materialized)
        return RVR_OK;
    rvr_status st = rvr_typed_to_map(p->schema, p->body, &p->attrs);
    if (st != RVR_OK) {
        RVR_LOG(RVR_LOG_WARN, "a %s message cannot be shown as attributes: %s", p->schema->name,
                rvr_strerror(st));
        return st;
    }
    p->materialized = true;
    return RVR_OK;
}

void rvr_packet_free_body(rvr_packet *p)
{
    p->schema->clear(p->body);
    rvr_body_free(p->body, p->schema->size);
    p->body = NULL;
    p->materialized = false;
}

rvr_status rvr_packet_dynamize_typed(rvr_packet *p)
{
    rvr_status st = rvr_packet_materialize(p);
    if (st == RVR_OK)
        rvr_packet_drop_body(p);
    return st;
}

/* ---- send ----------------------------------------------------------------- */

rvr_status rvr_send_typed(rvr_vr *self, const rvr_uuid *dst, const rvr_schema *s, void *msg)
{
    if (self == NULL || dst == NULL || s == NULL || msg == NULL)
        return RVR_EINVAL;
    /* Another version of the same message may be registered already (two
     * .rvr versions linked into one program): the packet carries its own
     * schema, so that is no reason to refuse.  The registry only grows: a
     * stream of one type registers it once per thread, not per message. */
    static RVR_TLS const rvr_schema *last_registered;
    rvr_status st = RVR_OK;
    if (s != last_registered) {
        st = rvr_schema_register(s);
        if (st != RVR_OK && st != RVR_EEXIST)
            return st;
        last_registered = s;
    }
    size_t tag_len = strlen(s->tag);
    if (tag_len == 0 || tag_len > RVR_MAX_NAME)
        return RVR_EINVAL;
    rvr_packet *p = rvr_packet_new_n(s->tag, tag_len);   /* a map, not raw: it has a body */
    if (p == NULL)
        return RVR_ENOMEM;
    if ((p->body = rvr_body_alloc(s->size)) == NULL) {
        rvr_packet_free(p);
        return RVR_ENOMEM;
    }
    /* Move the struct's contents into the packet. */
    memcpy(p->body, msg, s->size);
    p->schema = s;
    st = rvr_send(self, dst, p);
    if (st != RVR_OK) {
        /* The caller keeps its message: hand the contents back untouched. */
        rvr_body_free(p->body, s->size);
        p->body = NULL;
        rvr_packet_free(p);
        return st;
    }
    memset(msg, 0, s->size);
    return RVR_OK;
}

/* ---- receive -------------------------------------------------------------- */

typedef struct typed_want {
    const rvr_schema *const *schemas;
    size_t n;
    const rvr_match *extra;
    void *out;            /* where a converted dynamic packet is stored */
    size_t which;         /* index of the schema that matched */
    bool converted;       /* out already holds the message */
    bool tag_matched;     /* one schema, its tag already tested by the match */
} typed_want;

static bool same_schema(const rvr_schema *a, const rvr_schema *b)
{
    return a == b || (a->fingerprint == b->fingerprint && strcmp(a->name, b->name) == 0 &&
                      a->size == b->size);
}

/* The mailbox predicate: does p convert to one of the wanted schemas (and
 * meet the extra match)?  A dynamic packet is converted right here, into
 * `out`, since trying is the only way to know. */
static bool typed_pred(const rvr_packet *p, void *ctx)
{
    typed_want *w = ctx;
    if (w->extra != NULL && !rvr_match_test(w->extra, p))
        return false;
    for (size_t i = 0; i < w->n; i++) {
        const rvr_schema *s = w->schemas[i];
        if (!w->tag_matched && strcmp(p->tag, s->tag) != 0)
            continue;
        if (p->body != NULL) {
            w->which = i;   /* typed: a move or a by-number conversion after the take */
            return true;
        }
        if (rvr_packet_unraw(p) == RVR_OK && rvr_map_to_typed(s, &p->attrs, w->out) == RVR_OK) {
            w->which = i;
            w->converted = true;
            return true;
        }
    }
    return false;
}

static rvr_status take_typed(rvr_vr *self, typed_want *w, const char *tag, int timeout_ms)
{
    rvr_match m = { 0 };
    match_cond cond = { .kind = MC_FN, .fn = typed_pred, .ctx = w, .raw = true };
    if (w->extra != NULL && w->extra->err != RVR_OK)
        return w->extra->err;
    if (tag != NULL) {
        /* The tag index narrows the scan to this message type.  A stream
         * of one type asks with the same tag each time: measured once per
         * thread. */
        static RVR_TLS const char *last_tag;
        static RVR_TLS uint32_t last_len, last_hash;
        if (tag != last_tag) {
            last_len = (uint32_t)strlen(tag);
            last_hash = rvr_hash_bytes(tag, last_len);
            last_tag = tag;
        }
        m.has_tag = true;
        m.tag = (char *)tag;
        m.tag_len = last_len;
        m.tag_hash = last_hash;
        w->tag_matched = w->n == 1;
    }
    m.conds = &cond;
    m.nconds = m.cap = 1;
    rvr_packet *p;
    rvr_status st = rvr_mailbox_take_raw(&self->mb, &m, timeout_ms, &p);
    if (st != RVR_OK)
        return st;
    const rvr_schema *want = w->schemas[w->which];
    if (!w->converted) {
        if (same_schema(p->schema, want)) {
            memcpy(w->out, p->body, want->size);
            rvr_body_free(p->body, p->schema->size);
            p->body = NULL;
        } else {
            st = rvr_typed_convert(p->schema, p->body, want, w->out);
        }
    }
    rvr_packet_free(p);
    return st;
}

rvr_status rvr_recv_typed(rvr_vr *self, const rvr_schema *s, const rvr_match *extra,
                          int timeout_ms, void *out)
{
    if (self == NULL || s == NULL || out == NULL)
        return RVR_EINVAL;
    typed_want w = { .schemas = &s, .n = 1, .extra = extra, .out = out };
    return take_typed(self, &w, s->tag, timeout_ms);
}

rvr_status rvr_recv_typed_any(rvr_vr *self, const rvr_schema *const *schemas, size_t n,
                              int timeout_ms, size_t *which, void *out)
{
    if (self == NULL || schemas == NULL || n == 0 || out == NULL)
        return RVR_EINVAL;
    typed_want w = { .schemas = schemas, .n = n, .out = out };
    rvr_status st = take_typed(self, &w, n == 1 ? schemas[0]->tag : NULL, timeout_ms);
    if (st == RVR_OK && which != NULL)
        *which = w.which;
    return st;
}
