/* evo_peer_v1.c — see evo_peer.h.  Compiled against version 1. */
#include <stdlib.h>
#include <string.h>

#include "evo_peer.h"
#include "evo_v1.rvr.h"

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void to_v1(const evo1_rec *r, evo_Rec *m)
{
    evo_Rec_init(m);
    m->id = r->id;
    m->gone = dup_or_null(r->gone);
    m->moved = r->moved;
    m->label = dup_or_null(r->label);
    m->old_slot = r->old_slot;
}

static void from_v1(evo_Rec *m, evo1_rec *r)
{
    r->id = m->id;
    r->gone = m->gone;           /* moved out of the message */
    r->moved = m->moved;
    r->label = m->label;
    r->old_slot = m->old_slot;
    m->gone = m->label = NULL;
    evo_Rec_clear(m);
}

void evo1_rec_free(evo1_rec *r)
{
    free(r->gone);
    free(r->label);
    memset(r, 0, sizeof *r);
}

rvr_status evo1_send(rvr_vr *self, const rvr_uuid *dst, const evo1_rec *r)
{
    evo_Rec m;
    to_v1(r, &m);
    rvr_status st = evo_Rec_send(self, dst, &m);
    evo_Rec_clear(&m);
    return st;
}

rvr_status evo1_recv(rvr_vr *self, int timeout_ms, evo1_rec *out)
{
    evo_Rec m;
    rvr_status st = evo_Rec_recv(self, &m, NULL, timeout_ms);
    if (st == RVR_OK)
        from_v1(&m, out);
    return st;
}

rvr_status evo1_encode(const evo1_rec *r, uint8_t **buf, size_t *len)
{
    evo_Rec m;
    to_v1(r, &m);
    rvr_status st = evo_Rec_encode(&m, buf, len);
    evo_Rec_clear(&m);
    return st;
}

rvr_status evo1_decode(const uint8_t *buf, size_t len, evo1_rec *out)
{
    evo_Rec m;
    rvr_status st = evo_Rec_decode(buf, len, &m);
    if (st == RVR_OK)
        from_v1(&m, out);
    return st;
}

uint64_t evo1_fingerprint(void)
{
    return evo_Rec_schema.fingerprint;
}
