/* undeliverable.c — "river.undeliverable" notices: a message that will
 * never reach its VR (no such VR on the receiving VM, a connection lost
 * with the message still queued, a schema that cannot be described) is
 * answered to its sender, never dropped silently (docs/protocol.md). */
#include <stdio.h>
#include <string.h>

#include "packet_impl.h"
#include "transport_impl.h"

rvr_packet *rvr_undeliverable_new(const rvr_uuid *dst, const char *tag, size_t tag_len,
                                  const rvr_uuid *vm, const char *reason)
{
    rvr_packet *n = rvr_packet_new(RVR_UNDELIVERABLE_TAG);
    if (n == NULL)
        return NULL;
    n->src = *dst;
    if (rvr_packet_set_strn(n, "tag", tag, tag_len) != RVR_OK ||
        rvr_packet_set_uuid(n, "dst", dst) != RVR_OK ||
        rvr_packet_set_uuid(n, "vm", vm) != RVR_OK ||
        rvr_packet_set_str(n, "reason", reason) != RVR_OK) {
        rvr_packet_free(n);
        return NULL;
    }
    return n;
}

rvr_status rvr_deliver_local(rvr_net *net, const rvr_uuid *dst, rvr_packet *p)
{
    rvr_vr *vr = rvr_vm_ref_vr(net->vm, dst);
    if (vr == NULL)
        return RVR_ENOTFOUND;
    rvr_status st = rvr_mailbox_push(&vr->mb, p);
    rvr_vr_unref(vr);
    return st;
}

/* ids: the src and dst of the frame's MSG before, for one that leaves
 * them out (transport_impl.h); `bounce`: else only that is kept. */
static void bounce_one(rvr_net *net, const uint8_t *payload, size_t n, rvr_wire_ids *ids,
                       bool bounce, const rvr_uuid *vm, const char *reason)
{
    rvr_wire_msg h;
    char a[RVR_UUID_STRLEN], b[RVR_UUID_STRLEN];
    if (rvr_wire_peek_msg(payload, n, ids, &h) != RVR_OK || !bounce)
        return;
    if (h.tag_len == strlen(RVR_UNDELIVERABLE_TAG) &&
        memcmp(h.tag, RVR_UNDELIVERABLE_TAG, h.tag_len) == 0) {
        RVR_LOG(RVR_LOG_INFO, "a notice for %s could not be delivered either (%s); dropped",
                rvr_uuid_str(&h.dst, a), reason);
        return;
    }
    rvr_packet *note = rvr_undeliverable_new(&h.dst, h.tag, h.tag_len, vm, reason);
    if (note == NULL)
        return;
    if (rvr_deliver_local(net, &h.src, note) != RVR_OK) {
        RVR_LOG(RVR_LOG_INFO, "message %.*s from %s to %s undeliverable (%s); its sender is gone",
                (int)h.tag_len, h.tag, rvr_uuid_str(&h.src, a), rvr_uuid_str(&h.dst, b), reason);
        rvr_packet_free(note);
    }
}

void rvr_bounce_frame(rvr_net *net, const frame *f, const rvr_uuid *vm, const char *reason)
{
    /* From the start: a MSG past bounce_from may have left out the src and
     * dst that one before it named. */
    const uint8_t *b = f->buf.data;
    size_t left = f->buf.len;
    rvr_wire_ids ids = { .set = false };
    while (left >= RVR_WIRE_HDR_LEN) {
        uint32_t len;
        uint8_t type;
        rvr_wire_header(b, &len, &type);
        bool bounce = (size_t)(b - f->buf.data) >= f->bounce_from;
        if (len > left - RVR_WIRE_HDR_LEN) {
            /* A zero-copy frame: its contiguous part names sender and receiver. */
            if (type == RVR_FRAME_MSG)
                bounce_one(net, b + RVR_WIRE_HDR_LEN, left - RVR_WIRE_HDR_LEN, &ids, bounce, vm,
                           reason);
            break;
        }
        if (type == RVR_FRAME_MSG)
            bounce_one(net, b + RVR_WIRE_HDR_LEN, len, &ids, bounce, vm, reason);
        b += RVR_WIRE_HDR_LEN + (size_t)len;
        left -= RVR_WIRE_HDR_LEN + (size_t)len;
    }
}

void rvr_peer_bounce_all(rvr_net *net, peer *p, const char *reason)
{
    rvr_spin_lock(&p->q_lock);
    if (p->writing) {
        /* Frames being written belong to the writer until its writev
         * returns: it bounces the queue then (rvr_peer_drain_locked). */
        p->bounce_later = true;
        snprintf(p->bounce_why, sizeof p->bounce_why, "%s", reason);
        rvr_spin_unlock(&p->q_lock);
        return;
    }
    frame *f = rvr_peer_take_all_locked(p);
    rvr_spin_unlock(&p->q_lock);
    rvr_bounce_frames(net, p, f, reason);
}

frame *rvr_peer_take_all_locked(peer *p)
{
    frame *f = p->qhead;
    p->qhead = p->qtail = NULL;
    p->qbytes = 0;
    rvr_peer_room_signal(p);
    return f;
}

void rvr_bounce_frames(rvr_net *net, peer *p, frame *f, const char *reason)
{
    while (f != NULL) {
        frame *nx = f->next;
        if (f->is_msg)
            rvr_bounce_frame(net, f, &p->id, reason);
        rvr_frame_free(f);
        f = nx;
    }
}

