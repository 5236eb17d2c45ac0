/* evo_peer.h — version 1 of evo.Rec (evo_v1.rvr), seen from a program whose
 * own evo.Rec is version 2 (evo_v2.rvr).
 *
 * Both versions generate the same C names (evo_Rec, evo_Rec_schema ...), so
 * one program cannot link both as they are.  The test build links
 * evo_v1.rvr.c with evo_peer_v1.c into one object and keeps only these
 * evo1_* functions global (ld -r, objcopy -G): the rest of version 1 is
 * private to that object, as if it were another program. */
#ifndef EVO_PEER_H
#define EVO_PEER_H

#include <river/river.h>

/* Version 1's fields, without its generated type. */
typedef struct evo1_rec {
    uint64_t id;
    char *gone;       /* malloc'ed */
    int32_t moved;
    char *label;      /* malloc'ed */
    int32_t old_slot;
} evo1_rec;

void evo1_rec_free(evo1_rec *r);
/* The version 1 typed send and receive (evo_Rec_send / evo_Rec_recv of v1). */
rvr_status evo1_send(rvr_vr *self, const rvr_uuid *dst, const evo1_rec *r);
rvr_status evo1_recv(rvr_vr *self, int timeout_ms, evo1_rec *out);
/* Version 1's protobuf encoding (buf malloc'ed) and decoding. */
rvr_status evo1_encode(const evo1_rec *r, uint8_t **buf, size_t *len);
rvr_status evo1_decode(const uint8_t *buf, size_t len, evo1_rec *out);
uint64_t evo1_fingerprint(void);

#endif
