/* packet_impl.h — internal layout of a packet.  The link fields belong to
 * the mailbox while the packet is queued (see mailbox.c). */
#ifndef RIVER_PACKET_IMPL_H
#define RIVER_PACKET_IMPL_H

#include <river/packet.h>
#include "value_impl.h"

struct rvr_packet {
    struct rvr_packet *next, *prev;    /* mailbox: arrival order */
    struct rvr_packet *tnext, *tprev;  /* mailbox: same tag */
    struct rvr_packet *snext, *sprev;  /* mailbox: same src */
    uint64_t seq;                      /* mailbox: arrival number */
    struct mb_group *tgroup, *sgroup;  /* mailbox: index groups holding it */

    rvr_uuid src;
    char *tag;
    uint32_t tag_len;
    uint32_t tag_hash;                 /* rvr_hash_bytes(tag, tag_len) */
    rvr_map attrs;
};

#endif
